"""`nas search`: the study loop that ties space, proxy, scoring, storage and outputs together.

``run_search`` creates or resumes the study, enqueues the references once, then runs trials one
at a time until the study holds ``budget`` COMPLETE trials (counted across all workers of the
study, references included). Every trial stores its architecture, its scores with units, its
fidelity and, if it failed, the reason. Outputs are rewritten after every trial.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import optuna
from optuna.trial import Trial, TrialState

from nas.arch import SEARCH_REFERENCES
from nas.errors import NasError, StudyError
from nas.proxy import get_profile
from nas.search.study import (
    StudyFacts,
    count_states,
    enqueue_references,
    make_sampler,
    make_storage,
    open_study,
)
from nas.space import load_space

__all__ = ["SearchSettings", "SearchOutcome", "run_search", "default_study_name"]

_MAX_CONSECUTIVE_FAILURES = 20


@dataclass
class SearchSettings:
    """Everything ``nas search`` takes (CLI flags map one to one).

    Attributes:
        space: search-space file (``None`` = ``search_spaces/lightweight_sr.yaml``).
        budget: COMPLETE trials the study should hold when done (references included).
        scale: upscaling factor.
        data / val_data: dataset folders (``None`` = built-in photographs).
        profile / iters: proxy profile name and optional iteration override.
        sampler / seed: Optuna sampler and its seed.
        device: ``auto`` | ``cpu`` | ``cuda``.
        study: study name (default ``<space>_x<scale>``).
        storage: Optuna storage URL (default SQLite file ``<out>/study.db``).
        out: output folder (default ``results/<study>``).
        references: published configs enqueued first.
        threads: torch intra-op threads (``None`` = torch's default).
        worker_id: index of this worker among several on one study; seeds the sampler differently.
    """

    space: str | None = None
    budget: int = 200
    scale: int = 4
    data: str | None = None
    val_data: str | None = None
    profile: str = "default"
    iters: int | None = None
    sampler: str = "tpe"
    seed: int = 0
    device: str = "auto"
    study: str | None = None
    storage: str | None = None
    out: str | None = None
    references: tuple[str, ...] = SEARCH_REFERENCES
    threads: int | None = None
    worker_id: int = 0


@dataclass
class SearchOutcome:
    study_name: str
    out_dir: Path
    storage: str
    complete: int
    failed: int
    wall_s: float
    files: dict[str, Path] = field(default_factory=dict)


def default_study_name(space_name: str, scale: int) -> str:
    return f"{space_name}_x{scale}"


def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("fvcore").setLevel(logging.ERROR)


def run_search(s: SearchSettings, log: Callable[[str], None] = print, progress=None) -> SearchOutcome:
    """Run (or resume) a search until the study holds ``s.budget`` COMPLETE trials.

    Args:
        s: settings.
        log: receives one line per trial and per event.
        progress: optional object with ``start(total, done)``, ``trial(number, label)``,
            ``step(i, n)``, ``advance(done)`` and ``stop()`` (the CLI's rich progress bar).

    Raises:
        NasError: bad settings, space, data or storage (one line, names the culprit);
            StudyError when resuming with another space / scale / profile / data.
        KeyboardInterrupt: after marking the running trial FAILED and writing the outputs.
    """
    import torch

    from nas.proxy.data import load_proxy_data
    from nas.proxy.train import resolve_device
    from nas.report.tables import write_outputs
    from nas.scoring.evaluate import LatencySetting, evaluate
    from nas.search.study import trial_config  # noqa: F401  (documented entry point)

    _quiet_optuna()
    if s.budget < 1:
        raise NasError(f"--budget must be at least 1, got {s.budget}")
    if s.threads is not None:
        torch.set_num_threads(s.threads)
    space = load_space(s.space)
    profile = get_profile(s.profile, s.iters)
    device = resolve_device(s.device)
    data = load_proxy_data(s.scale, profile, s.data, s.val_data)  # fail on bad data before touching any file
    study_name = s.study or default_study_name(space.name, s.scale)
    out_dir = Path(s.out) if s.out else Path("results") / study_name
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NasError(f"{out_dir}: cannot create output folder ({err.strerror or err})") from None
    if not os.access(out_dir, os.W_OK):
        raise NasError(f"{out_dir}: output folder is not writable")
    storage_url = s.storage or f"sqlite:///{(out_dir / 'study.db').as_posix()}"
    latency = LatencySetting()
    facts = StudyFacts(
        space_name=space.name, space_digest=space.digest, space_path=str(space.path), scale=s.scale,
        profile=profile.to_dict(), data_source=data.source,
        latency={"lr_hw": list(latency.lr_hw), "warmup": latency.warmup, "repeats": latency.repeats,
                 "device": str(device), "threads": torch.get_num_threads(),
                 "channels_last": latency.channels_last},
        sampler=s.sampler, seed=s.seed,
    )
    storage = make_storage(storage_url)
    # Workers and resumed runs get different sampler seeds; a fresh study uses --seed itself.
    sampler = make_sampler(s.sampler, s.seed + 100_003 * s.worker_id + _n_trials(storage, study_name))
    study, created = open_study(study_name, storage, facts, sampler)
    enqueue_references(study, space, s.scale, s.references)
    log(f"study {study_name!r} ({'created' if created else 'resumed'}) in {storage_url}; "
        f"space {space.name} [{space.digest}], x{s.scale}, profile {profile.name} "
        f"({profile.iters} iters, batch {profile.batch}, LR patch {profile.lr_patch}), "
        f"sampler {s.sampler}, device {device}, {torch.get_num_threads()} threads")
    log(f"data: {data.source}")

    t_start = time.perf_counter()
    consecutive_failures = 0
    files: dict[str, Path] = {}

    def objective(trial: Trial) -> tuple[float, float, float, float]:
        states = count_states_excluding(study, trial.number)
        if states["complete"] + states["running_before"] >= s.budget:
            trial.set_user_attr("prune_reason", "budget reached by other workers")
            raise optuna.TrialPruned("budget reached by other workers")
        try:
            config = space.suggest(trial, s.scale)
            ref = trial.user_attrs.get("reference")
            config = config.replace(name=ref) if ref else config.replace(name=f"trial{trial.number}")
            trial.set_user_attr("arch_id", config.arch_id)
            trial.set_user_attr("summary", config.summary())
            trial.set_user_attr("config", config.to_dict())
            dup = _duplicate_of(study, trial.number, config.arch_id)
            if dup is not None:
                trial.set_user_attr("prune_reason", f"duplicate of trial {dup}")
                raise optuna.TrialPruned(f"duplicate of trial {dup}")
            if progress is not None:
                progress.trial(trial.number, ref or config.summary())
            on_step = (lambda i, _l: progress.step(i, profile.iters)) if progress is not None else None
            scores = evaluate(config, data, profile, device, latency, on_step=on_step)
        except optuna.TrialPruned:
            raise
        except Exception as err:  # the trial FAILS with the reason; the search goes on
            reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            trial.set_user_attr("fail_reason", reason[:500])
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted (SIGINT)")
            raise
        trial.set_user_attr("iters", scores.iters)
        trial.set_user_attr("timings", {k: round(v, 3) for k, v in scores.timings.items()})
        return scores.values()

    def finished(n_complete: int) -> bool:
        return n_complete >= s.budget

    n_complete = count_states(study).get(TrialState.COMPLETE, 0)
    if progress is not None:
        progress.start(s.budget, min(n_complete, s.budget))
    interrupted = False
    try:
        while not finished(n_complete):
            states = count_states(study)
            running = states.get(TrialState.RUNNING, 0)
            if n_complete + running >= s.budget:
                # Other workers (or a killed run whose heartbeat has not expired yet) hold the
                # remaining budget: wait until they complete or are marked FAILED as stale.
                log(f"waiting for {running} running trial(s) to finish or go stale "
                    f"(grace period {storage.grace_period} s)")
                time.sleep(min(10, storage.heartbeat_interval))
                optuna.storages.fail_stale_trials(study)
                n_complete = count_states(study).get(TrialState.COMPLETE, 0)
                continue
            before = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
            study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=True)
            new = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and t.number not in before]
            n_complete = count_states(study).get(TrialState.COMPLETE, 0)
            for t in new:
                _log_trial(t, log, n_complete_after=n_complete, budget=s.budget)
                consecutive_failures = 0 if t.state == TrialState.COMPLETE else consecutive_failures + 1
            files = write_outputs(study, out_dir)
            if progress is not None:
                progress.advance(min(n_complete, s.budget))
            if consecutive_failures >= _MAX_CONSECUTIVE_FAILURES:
                last = new[-1].user_attrs if new else {}
                raise StudyError(
                    f"{consecutive_failures} trials in a row did not complete (last: "
                    f"{last.get('fail_reason') or last.get('prune_reason') or 'unknown'}); stopping"
                )
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if progress is not None:
            progress.stop()
        try:
            files = write_outputs(study, out_dir)
        except Exception:  # never mask the original error
            if not interrupted:
                raise
    states = count_states(study)
    return SearchOutcome(study_name=study_name, out_dir=out_dir, storage=storage_url,
                         complete=states.get(TrialState.COMPLETE, 0), failed=states.get(TrialState.FAIL, 0),
                         wall_s=time.perf_counter() - t_start, files=files)


def _n_trials(storage, study_name: str) -> int:
    try:
        sid = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    return storage.get_n_trials(sid)


def count_states_excluding(study: optuna.Study, number: int) -> dict[str, int]:
    """COMPLETE trials, and RUNNING trials started before ``number`` (they may still complete)."""
    complete = running_before = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        if t.state == TrialState.COMPLETE:
            complete += 1
        elif t.number < number:
            running_before += 1
    return {"complete": complete, "running_before": running_before}


def _duplicate_of(study: optuna.Study, number: int, arch_id: str) -> int | None:
    """The first COMPLETE or RUNNING trial (other than ``number``) with the same architecture."""
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        if t.number != number and t.user_attrs.get("arch_id") == arch_id:
            return t.number
    return None


def _log_trial(t, log: Callable[[str], None], n_complete_after: int, budget: int) -> None:
    ua = t.user_attrs
    label = ua.get("reference") or ua.get("summary", "")
    dur = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else 0.0
    if t.state == TrialState.COMPLETE:
        psnr, params, macs, lat = t.values
        log(f"[{n_complete_after}/{budget}] trial {t.number} {label}: {psnr:.3f} dB, {int(params):,} params, "
            f"{macs / 1e9:.2f} G Mult-Adds, {lat:.1f} ms ({dur:.1f} s)")
    elif t.state == TrialState.PRUNED:
        log(f"trial {t.number} skipped: {ua.get('prune_reason', 'pruned')}")
    else:
        log(f"trial {t.number} FAILED: {ua.get('fail_reason', 'unknown error')} ({label})")
