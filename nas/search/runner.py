"""`nas search`: the study loop that ties space, proxy, scoring, storage and outputs together.

``run_search`` creates or resumes the study, enqueues the references (again if interrupted), then runs trials one
at a time until the study holds ``budget`` COMPLETE trials (counted across all workers of the
study, references included). Every trial stores its architecture, its scores with units, its
fidelity and, if it failed, the reason. Outputs are rewritten at most every 30 s and at the end.

The parts (as Optuna splits ``study.py`` into ``_optimize.py`` / ``_tell.py``): the settings and
their checks (:mod:`nas.search.settings`), the set-up (:mod:`nas.search._setup`), one trial
(:mod:`nas.search._trial`), the promotions (:mod:`nas.search._promote`) and the loop here.

Several workers may run ``run_search`` on one study (one storage URL, one study name): the set-up
is serialised (:func:`nas.search.study.setup_lock`), each worker's sampler is seeded differently
(``--worker-id``), and each sampled trial goes through :mod:`nas.search.admission` (budget never
exceeded, no architecture evaluated twice). A worker killed mid-trial leaves a RUNNING trial
whose heartbeat stops; after the grace period (3x ``--heartbeat`` seconds) any worker, or the
same command run again, marks it FAILED and re-queues its configuration.

SIGINT / SIGTERM: the running trial is marked FAILED (``fail_reason`` "interrupted (SIGINT)"),
the outputs are written and ``KeyboardInterrupt`` propagates (the CLI exits 130). A signal that
is raised at once only inside training, latency timing and waiting (``_Signals.interruptible``);
anywhere else, and around the storage writes made from inside those (a rung heartbeat, the
domain check), it is held until the write is done. A signal landing inside a storage write had
left a connection holding SQLite's write lock, and the other jobs' heartbeats then failed with
"database is locked" (CI, stop 35).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import optuna
from optuna.trial import TrialState

from nas.errors import NasError, StudyError
from nas.search._promote import others_busy, promote_one
from nas.search._setup import SearchContext, open_search
from nas.search._trial import UNBUILDABLE, run_trial
from nas.search.admission import BUDGET_REASON
from nas.search.signals import Signals as _Signals
from nas.search.settings import (
    DEFAULT_RUNS_DIR,
    SearchOutcome,
    SearchSettings,
    apply_preset,
    check_settings,
    default_references,
    default_study_name,
)
from nas.search.study import (
    RetryStaleTrial,
    count_states,
    drain_stale,
    enqueue_references,
    fail_stale,
    missing_references,
    setup_lock,
)

__all__ = ["SearchSettings", "SearchOutcome", "run_search", "default_study_name", "default_references",
           "DEFAULT_RUNS_DIR", "UNBUILDABLE"]

_MAX_CONSECUTIVE_FAILURES = 20


def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("fvcore").setLevel(logging.ERROR)


def run_search(s: SearchSettings, log: Callable[[str], None] = print, progress: Any = None,
               on_ready: Callable[[str, str, Path], None] | None = None,
               write_outputs: Callable[[optuna.Study, Path], dict[str, Path]] | None = None) -> SearchOutcome:
    """Run (or resume) a search until the study holds ``s.budget`` COMPLETE trials.

    Everything the user passes is checked before any file or database is written: budget,
    heartbeat, space file, profile, sampler, references (points of the space), storage URL
    syntax, data folders, output folder; then the study is created or resumed under a set-up
    lock (facts checked: same space, scale, profile, data).

    Args:
        s: settings.
        log: receives one line per trial and per event.
        progress: optional object with ``start(total, done)``, ``trial(number, label)``,
            ``step(i, n)``, ``advance(done)`` and ``stop()`` (the CLI's rich progress bar), and
            optionally ``describe(scale, objectives, limits, predicted)`` (once, before
            ``start``) and ``scored(trials, attrs)`` (at the start, after each of this worker's
            trials and promotions: the study's trials as the loop holds them, not copied, and
            with successive halving its user attributes, else None), from which the bar shows
            the front (``nas.report.live``).
        on_ready: called as ``on_ready(study_name, storage_url, out_dir)`` once the study exists
            and before the first trial (``nas search --jobs`` starts its other workers there).
        write_outputs: ``write_outputs(study, out_dir) -> {name: path}`` rewrites the output
            files (``nas.report.write_outputs``: ``trials.csv``, ``pareto.*``), at most every
            ``s.outputs_every_s`` seconds and at the end; ``None``: the study only. Passed in
            rather than imported, so that the search does not depend on the report above it.

    Raises:
        NasError: bad settings, space, data, output folder or storage (one line, names the
            culprit; storage URLs with the password replaced by ``***``); StudyError when
            resuming with another space / scale / profile / data, or when the storage fails
            during the search.
        KeyboardInterrupt: SIGINT or SIGTERM, after marking the running trial FAILED and
            writing the outputs.
    """
    _quiet_optuna()
    check_settings(s)
    s = apply_preset(s)
    ctx = open_search(s, log)
    return _run_loop(ctx, progress, on_ready, write_outputs)


def _run_loop(ctx: SearchContext, progress, on_ready, write_outputs) -> SearchOutcome:
    """The loop of :func:`run_search`: stale trials, lost references, promotions, then one new
    trial at a time until the budget is complete and no promotion is pending."""
    t_start = time.perf_counter()
    consecutive_failures = 0
    files: dict[str, Path] = {}
    sig = ctx.signals = _Signals()
    ctx.progress = progress
    s, study, log, grace_s, ref_params = ctx.s, ctx.study, ctx.log, ctx.grace_s, ctx.ref_params
    profile, current, worker = ctx.profile, ctx.current, ctx.worker
    writer = _OutputWriter(write_outputs if s.outputs else None, ctx.out_dir, log, s.outputs_every_s)
    lock = lambda: setup_lock(ctx.storage_url, timeout_s=120.0)  # noqa: E731
    if on_ready is not None:
        on_ready(ctx.study_name, ctx.storage_url, ctx.out_dir)

    n_complete = count_states(study).get(TrialState.COMPLETE, 0)
    if progress is not None:
        describe = getattr(progress, "describe", None)
        if describe is not None:
            describe(scale=s.scale, objectives=ctx.objectives, limits=dict(ctx.limits),
                     predicted=ctx.calibration is not None)
        progress.start(s.budget, min(n_complete, s.budget))
        _show_front(ctx)
    failed_with: BaseException | None = None
    sig.install()  # from here signals interrupt only training, timing and waiting
    try:
        waiting_logged = False
        while True:
            fail_stale(study)
            for number in drain_stale(study):  # failed here or by Optuna's own check in a trial
                log(f"trial {number}: no heartbeat for over {grace_s} s (worker killed?): "
                    "marked FAILED, its configuration re-queued")
            if ref_params and missing_references(study, tuple(ref_params)):
                with lock():  # re-checked under the lock: one worker queues it
                    for name in enqueue_references(study, ref_params):
                        log(f"reference {name} has no COMPLETE, running or queued trial "
                            "(interrupted or killed): queued again")
            sig.check()
            promoted = promote_one(ctx)
            sig.check()
            if promoted:
                files = writer(study) or files
                _show_front(ctx)
                continue
            states = count_states(study)
            n_complete = states.get(TrialState.COMPLETE, 0)
            if n_complete >= s.budget:
                if profile.multi_fidelity and others_busy(ctx):
                    # another worker's trial or promotion may still make a candidate promotable
                    if not waiting_logged:
                        log("budget reached; waiting for other workers' trials and promotions")
                        waiting_logged = True
                    sig.sleep(min(2.0, float(s.heartbeat)))
                    continue
                if profile.multi_fidelity:
                    _remove_checkpoints(ctx.ckpt_dir, log)
                break
            running = states.get(TrialState.RUNNING, 0)
            if n_complete + running >= s.budget:
                # Other workers (or a killed run whose heartbeat has not expired yet) hold the
                # remaining budget: wait until they complete or are marked FAILED as stale.
                if not waiting_logged:
                    log(f"waiting for {running} running trial(s) to finish or go stale "
                        f"(grace period {grace_s} s)")
                    waiting_logged = True
                sig.sleep(min(2.0, float(s.heartbeat)))
                continue
            waiting_logged = False
            before = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
            current.clear()
            try:
                # no gc_after_trial: a full gc.collect() took 0.27 s a trial (cProfile of a 60-trial
                # search), 8 % of a rung-0 trial; reference counting frees the models and Python's
                # own collector still runs by its thresholds
                study.optimize(lambda trial: run_trial(ctx, trial), n_trials=1, catch=(Exception,), gc_after_trial=False)
            except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as err:
                # This worker's trial was declared stale (its heartbeat was late: a long pause, a
                # lost connection) and FAILED + re-queued by another worker: Optuna can no longer
                # write to it ("Cannot tell a FAIL trial"). Its result is dropped; go on.
                mine = current.get("trial_id")
                if mine is None or not study._storage.get_trial(mine).state.is_finished():
                    raise
                log(f"warning: trial {study._storage.get_trial(mine).number} of this worker was marked "
                    f"stale while it ran ({err}); its result is dropped, its configuration re-queued")
            sig.check()
            trials = study.get_trials(deepcopy=False)
            new = [t for t in trials if t.state.is_finished() and t.number not in before]
            n_complete = count_states(study).get(TrialState.COMPLETE, 0)
            for t in new:
                if (t.user_attrs.get("worker") or {}).get("pid") != worker["pid"]:
                    continue  # another worker's trial: its own log reports it
                _log_trial(t, log, n_complete_after=n_complete, budget=s.budget, objectives=ctx.objectives)
                if t.state == TrialState.COMPLETE:
                    consecutive_failures = 0
                elif t.user_attrs.get("prune_reason") != BUDGET_REASON:
                    consecutive_failures += 1
            files = writer(study) or files
            if progress is not None:
                progress.advance(min(n_complete, s.budget))
                _show_front(ctx, trials)
            if consecutive_failures >= _MAX_CONSECUTIVE_FAILURES:
                last = new[-1].user_attrs if new else {}
                raise StudyError(
                    f"{consecutive_failures} trials in a row did not complete (last: "
                    f"{last.get('fail_reason') or last.get('prune_reason') or 'unknown'}); stopping"
                )
    except KeyboardInterrupt as err:
        failed_with = err
        _requeue_interrupted(study, current.get("trial_id"), log)
        raise
    except NasError as err:
        failed_with = err
        raise
    except Exception as err:  # the storage failed mid-search (server gone, disk full, ...)
        failed_with = err
        import sqlalchemy.exc

        if isinstance(err, sqlalchemy.exc.SQLAlchemyError) or not _storage_alive(ctx.storage_url, ctx.study_name):
            line = next((ln for ln in str(err).splitlines() if ln.strip()), "")
            line = f"{type(err).__name__}: {line.strip()}" if not isinstance(err, sqlalchemy.exc.SQLAlchemyError) \
                else line.strip()
            raise StudyError(f"{ctx.safe_url}: storage error during the search ({line[:300]}); the trials it "
                             "finished are kept in the storage if it comes back") from None
        raise
    finally:
        sig.uninstall()
        if progress is not None:
            progress.stop()
        try:
            files = writer(study, force=True) or files
        except Exception:  # never mask the original error
            if failed_with is None:
                raise
    states = count_states(study)
    return SearchOutcome(study_name=ctx.study_name, out_dir=ctx.out_dir, storage=ctx.storage_url,
                         complete=states.get(TrialState.COMPLETE, 0), failed=states.get(TrialState.FAIL, 0),
                         wall_s=time.perf_counter() - t_start, files=files)


def _show_front(ctx: SearchContext, trials: list | None = None) -> None:
    """Hand the progress display the study's trials (``trials``: as the loop just read them)
    and, with successive halving, the rung results, if it shows the front (``scored``)."""
    scored = getattr(ctx.progress, "scored", None)
    if scored is None:
        return
    if trials is None:
        trials = ctx.study.get_trials(deepcopy=False)
    scored(trials, ctx.study.user_attrs if ctx.profile.multi_fidelity else None)


def _storage_alive(url: str, study_name: str) -> bool:
    """Whether the study can still be read at ``url`` (after an unexpected error: is the storage
    the cause?). A SQLite file that was deleted is not re-created by the check."""
    if url.startswith("sqlite:///"):
        path = Path(url.split(":///", 1)[1])
        if not path.is_file():
            return False
    try:
        return study_name in optuna.get_all_study_names(url)
    except Exception:  # noqa: BLE001 - any failure to read means it is gone or broken
        return False



def _requeue_interrupted(study: optuna.Study, trial_id: int | None, log: Callable[[str], None]) -> None:
    """Queue again the configuration of the candidate this worker was running when SIGINT /
    SIGTERM arrived, as a killed worker's is (``RetryStaleTrial``): the resumed search trains
    it first, so an interruption loses no candidate. References are re-queued on resume by
    :func:`missing_references` instead. Storage errors are ignored (the interrupt goes on)."""
    if trial_id is None:
        return
    try:
        trial = study._storage.get_trial(trial_id)
        if trial.state != TrialState.FAIL or not trial.params or trial.user_attrs.get("reference"):
            return
        if not str(trial.user_attrs.get("fail_reason", "")).startswith("interrupted"):
            return
        RetryStaleTrial(max_retry=1)(study, trial)
        log(f"trial {trial.number} interrupted: its configuration is queued again for the resumed search")
    except Exception:  # noqa: BLE001 - best effort while exiting
        pass



def _remove_checkpoints(ckpt_dir: Path, log: Callable[[str], None]) -> None:
    """Delete the between-rung checkpoints once every promotion is done (a later, larger budget
    re-trains the lower rungs of a promoted candidate instead: same protocol)."""
    if not ckpt_dir.is_dir():
        return
    n = 0
    for f in ckpt_dir.glob("trial_*.pt"):
        with contextlib.suppress(OSError):
            f.unlink()
            n += 1
    with contextlib.suppress(OSError):
        ckpt_dir.rmdir()
    if n:
        log(f"removed {n} between-rung checkpoint(s) from {ckpt_dir}")



class _OutputWriter:
    """Rewrites ``trials.csv`` / ``pareto.*`` / the report at most every ``every_s`` seconds,
    and always when forced (the end of the search, an interruption). At 200 trials a rewrite
    takes about 0.3 s against 3-5 s a trial (issue 21), so rewriting after every trial would
    alone cost 5-10 % of a search. ``write_outputs`` None: this worker writes nothing (the other
    processes of ``nas search --jobs``; the first one writes)."""

    def __init__(self, write_outputs, out_dir: Path, log: Callable[[str], None], every_s: float) -> None:
        self.write_outputs, self.out_dir, self.log, self.every_s = write_outputs, out_dir, log, every_s
        self.last = -math.inf

    def __call__(self, study: optuna.Study, force: bool = False) -> dict[str, Path] | None:
        if self.write_outputs is None:
            return None
        now = time.monotonic()
        if not force and now - self.last < self.every_s:
            return None
        self.last = now
        return _write_outputs(self.write_outputs, study, self.out_dir, self.log)



def _write_outputs(write_outputs, study: optuna.Study, out_dir: Path, log: Callable[[str], None],
                   attempts: int = 3) -> dict[str, Path] | None:
    """Rewrite the output files; a failure that is not the user's (e.g. the study changing under
    the report while other workers finish trials) is retried, then logged: it never stops the
    search, whose results are safe in the study.

    Returns:
        The files written, or None if writing failed ``attempts`` times.

    Raises:
        NasError: the output folder is not writable (names it).
    """
    for attempt in range(attempts):
        try:
            return write_outputs(study, out_dir)
        except NasError:
            raise
        except Exception as err:  # noqa: BLE001
            if attempt + 1 == attempts:
                log(f"warning: could not write the outputs in {out_dir} ({type(err).__name__}: {err}); "
                    "the study is intact, the next trial retries")
                return None
            time.sleep(0.5)
    return None



def _log_trial(t, log: Callable[[str], None], n_complete_after: int, budget: int, objectives) -> None:
    ua = t.user_attrs
    label = ua.get("reference") or ua.get("summary", "")
    dur = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else 0.0
    if t.state == TrialState.COMPLETE:
        shown = ", ".join(o.says(v) for o, v in zip(objectives, t.values))
        log(f"[{n_complete_after}/{budget}] trial {t.number} {label}: {shown} ({dur:.1f} s)")
    elif t.state == TrialState.PRUNED:
        log(f"trial {t.number} skipped: {ua.get('prune_reason', 'pruned')}")
    else:
        log(f"trial {t.number} FAILED: {ua.get('fail_reason', 'unknown error')} ({label})")
