"""`nas search`: the study loop that ties space, proxy, scoring, storage and outputs together.

``run_search`` creates or resumes the study, enqueues the references (again if interrupted), then runs trials one
at a time until the study holds ``budget`` COMPLETE trials (counted across all workers of the
study, references included). Every trial stores its architecture, its scores with units, its
fidelity and, if it failed, the reason. Outputs are rewritten after every trial.

Several workers may run ``run_search`` on one study (one storage URL, one study name): the set-up
is serialised (:func:`nas.search.study.setup_lock`), each worker's sampler is seeded differently
(``--worker-id``), and each sampled trial goes through :mod:`nas.search.admission` (budget never
exceeded, no architecture evaluated twice). A worker killed mid-trial leaves a RUNNING trial
whose heartbeat stops; after the grace period (3x ``--heartbeat`` seconds) any worker, or the
same command run again, marks it FAILED and re-queues its configuration.

SIGINT / SIGTERM: the running trial is marked FAILED (``fail_reason`` "interrupted (SIGINT)"),
the outputs are written and ``KeyboardInterrupt`` propagates (the CLI exits 130). A signal that
arrives while Optuna is creating or closing a trial is held until that storage write is done, so
no trial is left RUNNING without a heartbeat.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import signal
import socket
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import optuna
from optuna.trial import Trial, TrialState

from nas.arch import SEARCH_REFERENCES
from nas.errors import ArchConfigError, NasError, StudyError
from nas.metrics.quiet import LOADED_SHARE, activate_gate
from nas.models import check_buildable
from nas.proxy import get_profile
from nas.proxy.profiles import psnr_noise_db
from nas.search.admission import ADMITTED, BUDGET_REASON, PENDING, admit, claims, decide
from nas.search import rungs
from nas.search.study import (
    DEFAULT_HEARTBEAT_S,
    SAMPLERS,
    RetryStaleTrial,
    StudyFacts,
    _backend,
    agree_heartbeat,
    count_states,
    enqueue_references,
    missing_references,
    fail_stale,
    make_sampler,
    make_storage,
    open_study,
    redact_url,
    reference_params,
    setup_lock,
    trial_config,
)
from nas.space import load_space

__all__ = ["SearchSettings", "SearchOutcome", "run_search", "default_study_name"]

_MAX_CONSECUTIVE_FAILURES = 20
#: Constraint set (1.0 = violated) on a sampled point that cannot be built at its width.
UNBUILDABLE = "unbuildable"


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
        out: output folder (default ``runs/<study>``).
        references: published configs enqueued first (``()`` = none; ``None`` = those of
            :func:`default_references` at this scale).
        threads: torch threads of the proxy training, part of the protocol (``None`` = the
            profile's, 1); latency is timed on every usable core (stored with the study).
        worker_id: index of this worker among several on one study; seeds the sampler differently.
        heartbeat: seconds between two heartbeats of the running trial; a trial without one for
            3x as long is stale (its worker died): FAILED and its configuration re-queued.
        max_params / max_mult_adds / max_latency_ms: cost limits (count, MACs, ms). A candidate
            over a limit is rejected after its costs are measured and before any training: the
            trial is PRUNED with Optuna constraints set (``(value - limit) / limit`` per limit),
            so constraint-aware samplers (TPE, the default) learn to avoid the region. The
            published references are evaluated regardless (they are the reference points).
            A sampled point that cannot be built at its width (e.g. CCA reduction 16 on fewer
            than 16 channels) is rejected the same way (constraint ``unbuildable`` = 1, PRUNED
            with reason ``"unbuildable: <field>: <problem>"``), not FAILED.
        checkpoint_dir: where successive halving keeps each candidate's weights between rungs
            (default ``<out>/checkpoints``; workers on several machines need a shared folder,
            else a promotion re-trains the lower rungs from scratch: same result, more time).
        outputs: write ``trials.csv``, ``pareto.*`` and the report (False for the extra
            processes of ``nas search --jobs``: the first one writes them).
        outputs_every_s: rewrite the outputs at most this often during the search (s); always
            at the end and on an interruption.
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
    references: tuple[str, ...] | None = None
    threads: int | None = None
    worker_id: int = 0
    heartbeat: int = DEFAULT_HEARTBEAT_S
    max_params: int | None = None
    max_mult_adds: float | None = None
    max_latency_ms: float | None = None
    checkpoint_dir: str | None = None
    outputs: bool = True
    outputs_every_s: float = 30.0

    def limits(self) -> dict[str, float]:
        """The cost limits given, by objective name (``params``, ``mult_adds``, ``latency_ms``)."""
        out = {"params": self.max_params, "mult_adds": self.max_mult_adds, "latency_ms": self.max_latency_ms}
        return {k: float(v) for k, v in out.items() if v is not None}


@dataclass
class SearchOutcome:
    """What a finished ``run_search`` reports (counts are study-wide, all workers)."""

    study_name: str
    out_dir: Path
    storage: str
    complete: int
    failed: int
    wall_s: float
    files: dict[str, Path] = field(default_factory=dict)


def default_study_name(space_name: str, scale: int) -> str:
    """Study name used when ``--study`` is not given: ``<space name>_x<scale>``, e.g. ``lightweight_sr_x4``."""
    return f"{space_name}_x{scale}"


def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("fvcore").setLevel(logging.ERROR)


class _Signals:
    """SIGINT / SIGTERM -> ``KeyboardInterrupt("SIGINT")``, held back while ``defer`` is set.

    Only installed in the main thread (elsewhere signals stay Python's business). A second
    signal while one is held raises at once.
    """

    def __init__(self) -> None:
        self.defer = False
        self.pending: str | None = None
        self._old: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        self._old.clear()

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        name = signal.Signals(signum).name
        if self.defer and self.pending is None:
            self.pending = name
            return
        raise KeyboardInterrupt(name)

    def check(self) -> None:
        """Raise the held signal, if any."""
        if self.pending is not None:
            name, self.pending = self.pending, None
            raise KeyboardInterrupt(name)


DEFAULT_RUNS_DIR = "runs"
"""Where ``nas search`` writes without ``--out``: ``runs/<study>`` (``results/`` holds the
committed reference runs, which a search must not change unless asked to)."""


def default_references(scale: int) -> tuple[str, ...]:
    """The published networks a search enqueues when ``--references`` is not given: IMDN, RFDN,
    RFDN-L and E-RFDN, those that exist at ``scale`` (all four at x2, x3 and x4; none at x8)."""
    from nas.arch import REFERENCES

    return tuple(n for n in SEARCH_REFERENCES if scale in REFERENCES[n].scales)


def _portable_path(path: Path) -> str:
    """``path`` relative to the working directory when inside it (a study database stays
    meaningful in another checkout), else absolute."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _check_out_dir_owner(out_dir: Path, study_name: str, default_db_url: str | None) -> None:
    """Refuse an output folder that already holds another study's outputs (its ``trials.csv``,
    ``pareto.*`` and report would be overwritten by this study's, and its ``study.db`` would
    hold two studies that ``nas show`` / ``nas report`` can no longer tell apart).

    Args:
        out_dir: the output folder (may not exist yet).
        study_name: the study this search creates or resumes.
        default_db_url: the folder's own ``study.db`` URL when no ``--storage`` was given.

    Raises:
        NasError: one line naming the folder, the study it holds and what to pass instead.
    """
    others: list[str] = []
    db = out_dir / "study.db"
    if default_db_url is not None and not db.exists() and (out_dir / "trials.csv").is_file():
        raise NasError(f"{out_dir}: holds trials.csv but no study.db (the study was moved or deleted); "
                       "a new study here would overwrite that record: pass another --out, or put study.db back")
    if default_db_url is not None and db.is_file() and db.stat().st_size > 0:
        try:
            names = optuna.get_all_study_names(default_db_url)
            others = [] if study_name in names else names  # this study is there: resuming it is fine
        except Exception:  # noqa: BLE001 - not a database: open_study reports it with its reason
            others = []
    report = out_dir / "report.json"
    if not others and report.is_file():
        try:
            import json

            held = json.loads(report.read_text()).get("facts", {}).get("study_name")
        except (OSError, ValueError, AttributeError):
            held = None
        if held and held != study_name:
            others = [held]
    if others:
        raise NasError(
            f"{out_dir}: holds the outputs of study {others[0]!r}, not {study_name!r} (another --scale, "
            f"--space or --study); pass another --out, or --study {others[0]} to resume that one"
        )


def _prepare_out_dir(out_dir: Path) -> bool:
    """Create ``out_dir`` if needed and check that files can be created in it.

    Returns:
        True if this call created the folder.

    Raises:
        NasError: the folder cannot be created or is not writable (names it).
    """
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise NasError(f"{out_dir}: cannot create output folder ({err.strerror or err})") from None
    if not out_dir.is_dir():
        raise NasError(f"{out_dir}: output folder is not a folder")
    try:  # os.access is not enough: root ignores mode bits, not read-only mounts or chattr +i
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".nas-write-probe.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise NasError(f"{out_dir}: output folder is not writable ({err.strerror or err})") from None
    return created


def run_search(s: SearchSettings, log: Callable[[str], None] = print, progress=None,
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
            ``step(i, n)``, ``advance(done)`` and ``stop()`` (the CLI's rich progress bar).
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
    # 1. checks that need neither torch nor any file write
    if s.budget < 1:
        raise NasError(f"--budget must be at least 1, got {s.budget}")
    if s.heartbeat < 1:
        raise NasError(f"--heartbeat must be at least 1 second, got {s.heartbeat}")
    if s.worker_id < 0:
        raise NasError(f"--worker-id must be >= 0, got {s.worker_id}")
    for flag, value in (("--max-params", s.max_params), ("--max-mult-adds", s.max_mult_adds),
                        ("--max-latency-ms", s.max_latency_ms)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise NasError(f"{flag} must be a positive finite number, got {value}")
    if s.sampler not in SAMPLERS:
        raise NasError(f"--sampler: unknown sampler {s.sampler!r} (known: {', '.join(SAMPLERS)})")
    space = load_space(s.space)
    profile = get_profile(s.profile, s.iters, s.threads)
    ref_names = tuple(s.references) if s.references is not None else default_references(s.scale)
    ref_params = reference_params(space, s.scale, ref_names)
    if s.storage:
        _backend(s.storage)

    # 2. torch, device, data
    from nas.proxy.data import load_proxy_data
    from nas.models.device import resolve_device
    from nas.scoring.evaluate import LatencySetting, continue_rung, evaluate, measure_costs

    device = resolve_device(s.device)
    data = load_proxy_data(s.scale, profile, s.data, s.val_data)  # fail on bad data before touching any file
    study_name = s.study or default_study_name(space.name, s.scale)
    out_dir = Path(s.out) if s.out else Path(DEFAULT_RUNS_DIR) / study_name
    storage_url = s.storage or f"sqlite:///{(out_dir / 'study.db').as_posix()}"
    _check_out_dir_owner(out_dir, study_name, storage_url if not s.storage else None)
    if s.checkpoint_dir and Path(s.checkpoint_dir).exists() and not Path(s.checkpoint_dir).is_dir():
        raise NasError(f"{s.checkpoint_dir}: --checkpoint-dir exists and is not a folder")

    # 3. output folder, storage, study
    created_dir = _prepare_out_dir(out_dir)
    safe_url = redact_url(storage_url)
    latency = LatencySetting(threads=_usable_cores())
    facts = StudyFacts(
        space_name=space.name, space_digest=space.digest, space_path=_portable_path(space.path), scale=s.scale,
        profile=profile.to_dict(), data_source=data.source,
        latency={"lr_hw": list(latency.lr_hw), "warmup": latency.warmup, "repeats": latency.repeats,
                 "device": str(device), "threads": latency.threads,
                 "channels_last": latency.channels_last},
        sampler=s.sampler, seed=s.seed,
        psnr_noise_db={str(k): v for k, v in psnr_noise_db(profile).items()},
    )
    try:
        with setup_lock(storage_url) as _:
            storage = make_storage(storage_url, s.heartbeat)
            # Workers and resumed runs get different sampler seeds; a fresh study uses --seed itself.
            sampler_seed = s.seed + 100_003 * s.worker_id + _n_trials(storage, study_name)
            sampler = make_sampler(s.sampler, sampler_seed)
            locked = _backend(storage_url) in ("postgresql", "sqlite")
            study, created = open_study(study_name, storage, facts, sampler, wait_s=0.0 if locked else 30.0)
            enqueue_references(study, ref_params)
            _record_budget(study, s.budget)
            grace_s = agree_heartbeat(study, s.heartbeat, created)
    except BaseException as err:
        if created_dir:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only if still empty
        import sqlalchemy.exc

        if isinstance(err, (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError)):
            line = next((ln for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
            hint = "; is the database file writable?" if storage_url.startswith("sqlite") else ""
            raise StudyError(f"{safe_url}: cannot open the study for writing ({line.strip()[:300]}){hint}") from None
        raise
    stored_threads = (study.user_attrs.get("latency") or {}).get("threads")
    if isinstance(stored_threads, int) and stored_threads >= 1 and stored_threads != latency.threads:
        latency = dataclasses.replace(latency, threads=stored_threads)  # the study's, on every worker
    activate_gate()  # latency timed while the machine's other nas workers pause
    log(f"study {study_name!r} ({'created' if created else 'resumed'}) in {safe_url}; "
        f"space {space.name} [{space.digest}], x{s.scale}, profile {profile.name} "
        f"({_fidelity_text(profile)}, batch {profile.batch}, LR patch {profile.lr_patch}), "
        f"sampler {s.sampler} (seed {sampler_seed}, worker {s.worker_id}), device {device}, "
        f"{profile.threads} training thread(s), latency on {latency.threads}, heartbeat {s.heartbeat} s "
        f"(stale after {grace_s} s)")
    log(f"data: {data.source}")
    calibration = None
    if profile.predictor != "none":
        from nas.proxy.predict import find_calibration

        calibration = find_calibration(profile.predictor, s.scale, profile)
        if calibration is None:
            log(f"note: predictor {profile.predictor!r} has no calibration for x{s.scale} and this protocol: "
                "candidates are ranked by their validation PSNR at each rung")
        else:
            log(f"PSNR objective: {calibration.horizon}, predicted by {calibration.name!r} from each rung's "
                "validation PSNR, params, Mult-Adds and depth (the raw PSNR is kept as psnr_raw_db)")
            if calibration.data != data.source:
                log(f"note: {calibration.name!r} was fitted on {calibration.data}; on other data its ranking "
                    "holds, absolute predicted PSNR may be offset")
    if s.references is None and not ref_names:
        log(f"note: none of the default references ({', '.join(SEARCH_REFERENCES)}) exists at x{s.scale}: "
            "this front has no reference points")
    limits = s.limits()
    if limits:
        log("limits: " + ", ".join(f"{k} <= {_fmt_limit(k, v)}" for k, v in limits.items())
            + " (candidates over a limit are rejected before training)")
    ckpt_dir = Path(s.checkpoint_dir) if s.checkpoint_dir else out_dir / "checkpoints"

    t_start = time.perf_counter()
    consecutive_failures = 0
    files: dict[str, Path] = {}
    worker = {"host": socket.gethostname(), "pid": os.getpid(), "worker_id": s.worker_id,
              "sampler_seed": sampler_seed}
    sig = _Signals()
    warned: dict[str, bool] = {}
    writer = _OutputWriter(write_outputs if s.outputs else None, out_dir, log, s.outputs_every_s)
    if on_ready is not None:
        on_ready(study_name, storage_url, out_dir)

    def prune(trial: Trial, reason: str) -> None:
        trial.set_user_attr("prune_reason", reason)
        raise optuna.TrialPruned(reason)

    current: dict[str, int] = {}  # the trial this worker is running (storage id)

    def objective(trial: Trial) -> tuple[float, float, float, float]:
        current["trial_id"] = trial._trial_id
        try:
            sig.defer = False
            sig.check()
            trial.set_user_attr("worker", worker)
            if decide(trial.number, None, s.budget, claims(study)).verdict == "yield":
                prune(trial, BUDGET_REASON)  # cheap early exit; the real check is admit() below
            config = space.suggest(trial, s.scale)
            ref = trial.user_attrs.get("reference")
            config = config.replace(name=ref) if ref else config.replace(name=f"trial{trial.number}")
            trial.set_user_attr("arch_id", config.arch_id)
            trial.set_user_attr("summary", config.summary())
            trial.set_user_attr("config", config.to_dict())
            try:
                check_buildable(config)
            except ArchConfigError as err:  # a point of the space that cannot exist at its width
                if ref:
                    raise
                trial.set_constraint(UNBUILDABLE, 1.0)  # infeasible: the sampler learns to avoid it
                prune(trial, f"unbuildable: {err}")
            trial.set_user_attr("admission", PENDING)  # after arch_id: see nas.search.admission
            verdict = admit(study, trial.number, config.arch_id, s.budget)
            if verdict.verdict != "admit":
                prune(trial, verdict.reason)
            trial.set_user_attr("admission", ADMITTED)
            if progress is not None:
                progress.trial(trial.number, ref or config.summary())
            costs = measure_costs(config, profile.seed, latency, device)
            _record_load(trial, costs[0].latency_load, warned, log)
            over = _over_limits(costs[0], limits)
            if limits and not ref:
                for name, limit in limits.items():  # normalised: comparable across objectives
                    trial.set_constraint(name, (getattr(costs[0], name) - limit) / limit)
            if over and not ref:
                trial.set_user_attr("costs", {"params": costs[0].params, "mult_adds": costs[0].mult_adds,
                                              "latency_ms": round(costs[0].latency_ms, 3)})
                prune(trial, "over the limit: " + "; ".join(over))
            if over:
                trial.set_user_attr("over_limits", over)
            on_step = (lambda i, _l: progress.step(i, profile.iters)) if progress is not None else None
            ckpt = ckpt_dir / f"trial_{trial.number:05d}.pt" if profile.multi_fidelity else None
            scores = evaluate(config, data, profile, device, latency, on_step=on_step, costs=costs,
                              checkpoint=ckpt)
        except optuna.TrialPruned:
            raise
        except Exception as err:  # the trial FAILS with the reason; the search goes on
            reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            trial.set_user_attr("fail_reason", reason[:500])
            raise
        except KeyboardInterrupt as err:
            sig.defer = True  # let the reason and Optuna's FAIL reach the storage
            trial.set_user_attr("fail_reason", f"interrupted ({err.args[0] if err.args else 'SIGINT'})")
            raise
        finally:
            sig.defer = True  # until Optuna has written the trial's final state
        trial.set_user_attr("iters", scores.iters)
        if scores.train_params is not None and scores.train_params != scores.params:
            trial.set_user_attr("train_params", scores.train_params)  # deploy form scored, training form kept
        if costs[0].depth is not None:
            trial.set_user_attr("depth", costs[0].depth)
        trial.set_user_attr("timings", {k: round(v, 3) for k, v in scores.timings.items()})
        values = scores.values()
        pred = _predict(calibration, scores.iters, scores.psnr_db, scores.params, scores.mult_adds, costs[0].depth)
        if pred is not None:  # rank by the predicted fully-trained PSNR; the proxy's own kept beside it
            trial.set_user_attr("psnr_raw_db", scores.psnr_db)
            trial.set_user_attr("prediction", pred.to_dict())
            values = (pred.psnr_db, *values[1:])
        return values

    lock = lambda: setup_lock(storage_url, timeout_s=120.0)  # noqa: E731

    def promote_one() -> bool:
        """Run one pending successive-halving promotion, if any; True if one was run."""
        if not profile.multi_fidelity:
            return False
        trials = study.get_trials(deepcopy=False)
        for number, rung in rungs.promotions(trials, study.user_attrs, profile.rungs, profile.eta, grace_s):
            if not rungs.claim(study, number, rung, worker, grace_s, lock):
                continue
            run_promotion(next(t for t in trials if t.number == number), rung)
            return True
        return False

    def run_promotion(t, rung: int) -> None:
        ua = t.user_attrs
        label = ua.get("reference") or ua.get("summary", "")
        config = trial_config(t)
        target = profile.rung_iters(rung)
        beat = {"t": time.monotonic()}

        def on_step(i: int, _loss: float) -> None:
            if progress is not None:
                progress.step(i, target)
            if time.monotonic() - beat["t"] >= s.heartbeat:
                beat["t"] = time.monotonic()
                rungs.heartbeat(study, t.number, rung, worker)

        t0 = time.perf_counter()
        sig.defer = False
        try:
            sig.check()
            if progress is not None:
                progress.trial(t.number, f"{label} -> rung {rung} ({target} iters)")
            res = continue_rung(config, data, profile, rung, device,
                                checkpoint=ckpt_dir / f"trial_{t.number:05d}.pt", on_step=on_step)
        except KeyboardInterrupt:
            sig.defer = True
            rungs.release(study, t.number, rung)
            raise
        except Exception as err:  # the continuation fails; the candidate stays at the rung below
            sig.defer = True
            reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            rungs.record_failure(study, t.number, rung, reason, worker)
            log(f"trial {t.number} rung {rung} FAILED: {reason} ({label})")
            return
        sig.defer = True
        pred = _predict(calibration, res.iters, res.psnr_db, t.values[1], t.values[2], ua.get("depth"))
        rungs.record_result(study, t.number, rung, res.psnr_db, res.iters, res.train_s, res.val_s,
                            res.replayed, worker, prediction=pred.to_dict() if pred is not None else None)
        before = ua.get("psnr_raw_db", t.values[0] if t.values else float("nan"))  # the proxy's own PSNR
        log(f"trial {t.number} {label} rung {rung}: {res.psnr_db:.3f} dB at {res.iters} iters "
            + (f"(predicted {pred.psnr_db:.2f} +- {pred.sigma_db:.2f} dB {pred.horizon}) " if pred is not None else "")
            + f"(rung 0: {before:.3f} dB at {profile.iters}){' [lower rungs replayed: no checkpoint]' if res.replayed else ''} "
            f"({time.perf_counter() - t0:.1f} s)")

    def others_busy() -> bool:
        """Another worker (or a killed run not yet stale) may still produce a trial or a rung
        result, and with it a new promotion."""
        states = count_states(study)
        return states.get(TrialState.RUNNING, 0) > 0 or bool(rungs.live_claims(study.user_attrs, grace_s))

    n_complete = count_states(study).get(TrialState.COMPLETE, 0)
    if progress is not None:
        progress.start(s.budget, min(n_complete, s.budget))
    failed_with: BaseException | None = None
    sig.install()
    try:
        waiting_logged = False
        while True:
            for number in fail_stale(study):
                log(f"trial {number}: no heartbeat for over {grace_s} s (worker killed?): "
                    "marked FAILED, its configuration re-queued")
            if ref_params and missing_references(study, tuple(ref_params)):
                with lock():  # re-checked under the lock: one worker queues it
                    for name in enqueue_references(study, ref_params):
                        log(f"reference {name} has no COMPLETE, running or queued trial "
                            "(interrupted or killed): queued again")
            sig.defer = True
            try:
                promoted = promote_one()
            finally:
                sig.defer = False
            sig.check()
            if promoted:
                files = writer(study) or files
                continue
            states = count_states(study)
            n_complete = states.get(TrialState.COMPLETE, 0)
            if n_complete >= s.budget:
                if profile.multi_fidelity and others_busy():
                    # another worker's trial or promotion may still make a candidate promotable
                    if not waiting_logged:
                        log("budget reached; waiting for other workers' trials and promotions")
                        waiting_logged = True
                    time.sleep(min(2.0, float(s.heartbeat)))
                    continue
                if profile.multi_fidelity:
                    _remove_checkpoints(ckpt_dir, log)
                break
            running = states.get(TrialState.RUNNING, 0)
            if n_complete + running >= s.budget:
                # Other workers (or a killed run whose heartbeat has not expired yet) hold the
                # remaining budget: wait until they complete or are marked FAILED as stale.
                if not waiting_logged:
                    log(f"waiting for {running} running trial(s) to finish or go stale "
                        f"(grace period {grace_s} s)")
                    waiting_logged = True
                time.sleep(min(2.0, float(s.heartbeat)))
                continue
            waiting_logged = False
            before = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
            current.clear()
            sig.defer = True
            try:
                study.optimize(objective, n_trials=1, catch=(Exception,), gc_after_trial=True)
            except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as err:
                # This worker's trial was declared stale (its heartbeat was late: a long pause, a
                # lost connection) and FAILED + re-queued by another worker: Optuna can no longer
                # write to it ("Cannot tell a FAIL trial"). Its result is dropped; go on.
                mine = current.get("trial_id")
                if mine is None or not study._storage.get_trial(mine).state.is_finished():
                    raise
                log(f"warning: trial {study._storage.get_trial(mine).number} of this worker was marked "
                    f"stale while it ran ({err}); its result is dropped, its configuration re-queued")
            finally:
                sig.defer = False
            sig.check()
            new = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and t.number not in before]
            n_complete = count_states(study).get(TrialState.COMPLETE, 0)
            for t in new:
                if (t.user_attrs.get("worker") or {}).get("pid") != worker["pid"]:
                    continue  # another worker's trial: its own log reports it
                _log_trial(t, log, n_complete_after=n_complete, budget=s.budget)
                if t.state == TrialState.COMPLETE:
                    consecutive_failures = 0
                elif t.user_attrs.get("prune_reason") != BUDGET_REASON:
                    consecutive_failures += 1
            files = writer(study) or files
            if progress is not None:
                progress.advance(min(n_complete, s.budget))
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

        if isinstance(err, sqlalchemy.exc.SQLAlchemyError) or not _storage_alive(storage_url, study_name):
            line = next((ln for ln in str(err).splitlines() if ln.strip()), "")
            line = f"{type(err).__name__}: {line.strip()}" if not isinstance(err, sqlalchemy.exc.SQLAlchemyError) \
                else line.strip()
            raise StudyError(f"{safe_url}: storage error during the search ({line[:300]}); the trials it "
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
    return SearchOutcome(study_name=study_name, out_dir=out_dir, storage=storage_url,
                         complete=states.get(TrialState.COMPLETE, 0), failed=states.get(TrialState.FAIL, 0),
                         wall_s=time.perf_counter() - t_start, files=files)


def _usable_cores() -> int:
    """Cores this process may run on (``sched_getaffinity``, else ``os.cpu_count()``)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _record_load(trial: Trial, load: dict | None, warned: dict[str, bool], log: Callable[[str], None]) -> None:
    """Store how busy the machine was while the latency was timed (``latency_load``) and warn
    once per worker when other processes used more than ``LOADED_SHARE`` of the cores."""
    if not load:
        return
    trial.set_user_attr("latency_load", load)
    share = load.get("others_share")
    if share is not None and share > LOADED_SHARE and not warned.get("load"):
        warned["load"] = True
        log(f"warning: other processes used {share:.0%} of the {load.get('cores')} cores while trial "
            f"{trial.number}'s latency was timed (load average {load.get('loadavg1')}): latencies measured on "
            "a busy machine are slower and noisier; the report flags them (latency_loaded)")


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


def _fidelity_text(profile) -> str:
    if profile.multi_fidelity:
        return (f"successive halving: {' -> '.join(map(str, profile.rung_stops))} iters, eta {profile.eta}")
    return f"{profile.iters} iters"


def _fmt_limit(name: str, value: float) -> str:
    if name == "params":
        return f"{int(value):,} params"
    if name == "mult_adds":
        return f"{value / 1e9:.3g} G MACs"
    return f"{value:g} ms"


def _predict(calibration, iters: int, psnr_db: float, params: float, mult_adds: float, depth):
    """The calibration's prediction of the fully-trained PSNR at ``iters`` steps, or ``None``
    (no calibration, no model for that fidelity, or an unknown feature)."""
    if calibration is None:
        return None
    from nas.proxy.predict import feature_vector

    return calibration.predict(iters, feature_vector(psnr_db, params, mult_adds, depth))


def _over_limits(costs, limits: dict[str, float]) -> list[str]:
    """``["params 901,395 > 500,000 params", ...]`` for each limit ``costs`` exceeds."""
    out = []
    for name, limit in limits.items():
        value = float(getattr(costs, name))
        if value > limit:
            shown = f"{int(value):,}" if name == "params" else (f"{value / 1e9:.3g} G" if name == "mult_adds"
                                                                  else f"{value:.1f} ms")
            out.append(f"{name} {shown} > {_fmt_limit(name, limit)}")
    return out


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


def _n_trials(storage, study_name: str) -> int:
    try:
        sid = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    return storage.get_n_trials(sid)


def _record_budget(study: optuna.Study, budget: int) -> None:
    """Append ``budget`` to the study's ``budget`` list (one entry per run that changed it; the
    report shows the latest)."""
    old = study.user_attrs.get("budget")
    history = old if isinstance(old, list) else ([old] if isinstance(old, int) else [])
    if not history or history[-1] != budget:
        study.set_user_attr("budget", [*history, budget])


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
