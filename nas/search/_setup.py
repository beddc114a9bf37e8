"""Setting a search up: everything loaded and checked, the study created or resumed, in one
:class:`SearchContext` that the trial objective (:mod:`nas.search._trial`), the promotions
(:mod:`nas.search._promote`) and the loop (:mod:`nas.search.runner`) share.

Order (a failure leaves nothing behind): space, profile, references (points of the space),
storage URL syntax, device, data, output folder ownership (and, for ``--profile default``, the
protocol an existing study was created with, which it keeps); then the folder, the storage and
the study under the set-up lock (facts checked: same space, scale, profile, data).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import optuna

from nas.arch import SEARCH_REFERENCES
from nas.errors import NasError, StudyError
from nas.metrics.quiet import activate_gate, usable_cores
from nas.proxy.predict import NoCalibrationError, resolve_profile
from nas.proxy.profiles import psnr_noise_db
from nas.proxy.train import bicubic_psnr
from nas.scoring.objectives import OBJECTIVES
from nas.search.settings import (
    DEFAULT_RUNS_DIR,
    SearchSettings,
    _fmt_limit,
    calibrate_command,
    calibration_file,
    default_references,
    default_study_name,
)
from nas.search.study import (
    StudyFacts,
    _backend,
    agree_heartbeat,
    enqueue_references,
    make_sampler,
    make_storage,
    open_study,
    redact_url,
    reference_params,
    setup_lock,
)
from nas.space import load_space

__all__ = ["SearchContext", "open_search"]


@dataclass
class SearchContext:
    """One worker's search, set up: what every trial and promotion needs.

    Attributes:
        s: the settings. log: one line per event. progress: the CLI's progress bar or None.
        space / profile / data / device / latency: what candidates are sampled from, trained
            with, validated on, run on and timed with (``LatencySetting``).
        study / study_name / storage_url / safe_url / out_dir / created: the Optuna study, where
            it lives (``safe_url`` without password) and whether this worker created it.
        ref_params: trial params of the references, by name. grace_s: seconds after which a
            silent trial is stale. sampler_seed: this worker's sampler seed.
        calibration: the full-training PSNR predictor of the profile, or None.
        objectives: the study's objectives (:class:`nas.scoring.objectives.Objective`, PSNR
            first), the order of ``trial.values``.
        limits: ``--max-*`` cost limits by objective name. ckpt_dir: between-rung checkpoints.
        worker: ``{host, pid, worker_id, sampler_seed}`` written on every trial.
        signals: the SIGINT / SIGTERM holder (:class:`nas.search.runner._Signals`).
        current: ``{"trial_id": id}`` of the trial this worker runs (storage id).
        warned: warnings given once per worker.
    """

    s: SearchSettings
    log: Callable[[str], None]
    space: Any
    profile: Any
    data: Any
    device: Any
    latency: Any
    study: optuna.Study
    study_name: str
    storage_url: str
    safe_url: str
    out_dir: Path
    created: bool
    ref_params: dict
    grace_s: float
    sampler_seed: int
    calibration: Any
    limits: dict[str, float]
    ckpt_dir: Path
    worker: dict[str, Any]
    objectives: tuple = OBJECTIVES
    progress: Any = None
    signals: Any = None
    current: dict[str, int] = field(default_factory=dict)
    warned: dict[str, bool] = field(default_factory=dict)


def open_search(s: SearchSettings, log: Callable[[str], None] = print) -> SearchContext:
    """Load and check everything ``s`` names, then create or resume the study (see the module
    docstring for the order). Logs the study, the data, the predictor and the limits.

    Raises:
        NasError / StudyError: as :func:`nas.search.run_search`.
    """
    space = load_space(s.space)
    study_name = s.study or default_study_name(space.name, s.scale)
    out_dir = Path(s.out) if s.out else Path(DEFAULT_RUNS_DIR) / study_name
    storage_url = s.storage or f"sqlite:///{(out_dir / 'study.db').as_posix()}"
    cal_files = [f for f in [calibration_file(s, out_dir)] if f is not None]
    auto_calibrate = False
    stored = _stored_profile(storage_url, study_name)  # None: a new study (read once, never created here)
    try:
        profile, profile_note = resolve_profile(s.profile, s.scale, s.iters, s.threads, s.metric, files=cal_files)
    except NoCalibrationError as err:
        if stored is not None:
            profile, profile_note = resolve_profile(s.profile, s.scale, s.iters, s.threads, s.metric, stored=stored)
        elif s.calibrate == "auto" and not s.calibration:
            profile, profile_note, auto_calibrate = err.profile, None, True
        else:
            raise NasError(no_calibration_message(s, out_dir, str(err))) from None
    ref_names = tuple(s.references) if s.references is not None else default_references(s.scale)
    ref_params = reference_params(space, s.scale, ref_names)
    if s.storage:
        _backend(s.storage)

    # torch, device, data
    from nas.proxy.data import load_proxy_data
    from nas.models.device import resolve_device
    from nas.scoring.evaluate import LatencySetting

    device = resolve_device(s.device)
    data = load_proxy_data(s.scale, profile, s.data, s.val_data)  # fail on bad data before touching any file
    _check_out_dir_owner(out_dir, study_name, storage_url if not s.storage else None)
    if s.profile == "default" and stored is not None:  # a resumed study keeps the default it was created with
        kept, note = resolve_profile(s.profile, s.scale, s.iters, s.threads, s.metric, stored=stored,
                                     files=cal_files)
        if kept != profile:
            profile, profile_note = kept, note
            data = load_proxy_data(s.scale, profile, s.data, s.val_data)
    why = "no calibration fits this protocol"
    if s.calibrate == "auto" and stored is None and not s.calibration and profile.predictor != "none" \
            and not auto_calibrate:  # a calibration fitted on other data than the study's: refit on this data
        from nas.proxy.predict import find_calibration

        found = find_calibration(profile.predictor, s.scale, profile, cal_files)
        if found is None:
            auto_calibrate = True
        elif found.data != data.source:
            auto_calibrate, why = True, f"{found.name!r} was fitted on other data ({found.data})"
    elif stored is None and not auto_calibrate and profile.predictor != "none" and s.profile != "default":
        from nas.proxy.predict import find_calibration

        if find_calibration(profile.predictor, s.scale, profile, cal_files) is None:  # a predicting profile named
            raise NasError(no_calibration_message(  # where it has no calibration: never raw PSNR silently
                s, out_dir, f"profile {profile.name} ranks by its predictor {profile.predictor!r}, which has no "
                f"calibration for x{s.scale} with this protocol (metric {profile.metric}, {profile.iters} steps)"))
    if auto_calibrate:
        cal_files = [_auto_calibrate(s, out_dir, profile, str(device), log, why)]
    if s.checkpoint_dir and Path(s.checkpoint_dir).exists() and not Path(s.checkpoint_dir).is_dir():
        raise NasError(f"{s.checkpoint_dir}: --checkpoint-dir exists and is not a folder")

    # output folder, storage, study
    created_dir = _prepare_out_dir(out_dir)
    safe_url = redact_url(storage_url)
    latency = LatencySetting(threads=usable_cores())
    facts = StudyFacts(
        space_name=space.name, space_digest=space.digest, space_path=_portable_path(space.path), scale=s.scale,
        profile=profile.to_dict(), data_source=data.source,
        latency={"lr_hw": list(latency.lr_hw), "warmup": latency.warmup, "repeats": latency.repeats,
                 "device": str(device), "threads": latency.threads,
                 "channels_last": latency.channels_last, "budget_ms": latency.budget_ms,
                 "clock": "cuda_event" if str(device).startswith("cuda") else "perf_counter"},
        sampler=s.sampler, seed=s.seed,
        psnr_noise_db={str(k): v for k, v in psnr_noise_db(profile).items()},
        preset=s.preset, ntire_year=s.ntire_year, min_psnr=s.min_psnr,
        bicubic_psnr_db=round(bicubic_psnr(data, getattr(profile, "metric", "y")), 3),
    )
    try:
        with setup_lock(storage_url) as _:
            storage = make_storage(storage_url, s.heartbeat)
            # Workers and resumed runs get different sampler seeds; a fresh study uses --seed itself.
            sampler_seed = s.seed + 100_003 * s.worker_id + _n_trials(storage, study_name)
            sampler = make_sampler(s.sampler, sampler_seed)
            objectives = _study_objectives(s, storage, study_name)
            facts = dataclasses.replace(facts, objectives=tuple(o.name for o in objectives))
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
    latency = _stored_latency(study.user_attrs.get("latency"), latency)  # the study's, on every worker
    activate_gate()  # latency timed while the machine's other nas workers pause
    log(f"study {study_name!r} ({'created' if created else 'resumed'}) in {safe_url}; "
        f"space {space.name} [{space.digest}], x{s.scale}, profile {profile.name} "
        f"({_fidelity_text(profile)}, batch {profile.batch}, LR patch {profile.lr_patch}), "
        f"sampler {s.sampler} (seed {sampler_seed}, worker {s.worker_id}), device {device}, "
        f"{profile.threads} training thread(s), latency on {latency.threads}, heartbeat {s.heartbeat} s "
        f"(stale after {grace_s} s)")
    log(f"data: {data.source}")
    if profile_note:
        log(profile_note)
    if tuple(o.name for o in objectives) != ("psnr_db", "params", "mult_adds", "latency_ms"):
        log("objectives: " + ", ".join(f"{o.name} ({o.direction[:3]}, {o.unit})" for o in objectives))
    calibration = None
    if profile.predictor != "none" or s.calibration:
        from nas.proxy.predict import find_calibration

        calibration = find_calibration(profile.predictor if profile.predictor != "none" else "", s.scale, profile,
                                       cal_files)
        if calibration is None and s.calibration:
            raise NasError(f"{s.calibration}: --calibration holds no calibration for x{s.scale} and profile "
                           f"{profile.name}'s protocol (metric {profile.metric}, {profile.iters} steps); make one with "
                           f"`{calibrate_command(s, s.calibration)}`")
        calibration = _calibration_of_study(study, calibration, cal_files, log)
        _pin_calibration(study, calibration, created, log)
        if calibration is None:
            log(f"note: predictor {profile.predictor!r} has no calibration for x{s.scale} and this protocol: "
                "candidates are ranked by their validation PSNR at each rung")
        else:
            log(f"PSNR objective: {calibration.horizon}, predicted by {calibration.name!r} from "
                f"{', '.join(calibration.features)} (psnr: each rung's validation PSNR, kept as psnr_raw_db)")
            log("calibration: " + describe_calibration(calibration, profile.top_iters))
            if calibration.domain is not None:
                dom = calibration.domain
                rule = (f"outside {dom.describe()}" if hasattr(dom, "describe") else
                        f"leverage in log10 params, depth, log2 nf above {dom.h_max:.2f}")
                log(f"domain: candidates unlike the {len(dom.networks)} published networks it was "
                    f"fitted on ({rule}) are pruned before training (constraint domain; the references are exempt)")
            if calibration.data != data.source:
                log(f"note: {calibration.name!r} was fitted on {calibration.data}; on other data its ranking "
                    "holds, absolute predicted PSNR may be offset")
    if s.references is None and not ref_names:
        log(f"note: none of the default references ({', '.join(SEARCH_REFERENCES)}) exists at x{s.scale}: "
            "this front has no reference points")
    if s.min_psnr is not None:
        basis = (f"predicted {calibration.horizon}" if calibration is not None else
                 f"proxy {profile.metric.upper()}-PSNR at each candidate's first rung (an early-training number, far "
                 "below a full-training one)")
        log(f"threshold: candidates with a {basis} below {s.min_psnr:g} dB are rejected "
            "(constraint min_psnr; the references are exempt)")
    elif s.preset == "ntire-esr":
        log("note: the challenge's threshold (26.90 dB RGB-PSNR on DIV2K_LSDIR_valid after full training) is not "
            "applied: " + (f"the predictor predicts {calibration.horizon}, not that metric" if calibration is not None
                           else "the proxy's PSNR is an early-training number")
            + " (set --min-psnr to apply one to the PSNR objective)")
    limits = s.limits()
    if limits:
        log("limits: " + ", ".join(f"{k} <= {_fmt_limit(k, v)}" for k, v in limits.items())
            + " (candidates over a limit are rejected before training)")
    ckpt_dir = Path(s.checkpoint_dir) if s.checkpoint_dir else out_dir / "checkpoints"

    worker = {"host": socket.gethostname(), "pid": os.getpid(), "worker_id": s.worker_id,
              "sampler_seed": sampler_seed}
    return SearchContext(s=s, log=log, space=space, profile=profile, data=data, device=device, latency=latency,
                         study=study, study_name=study_name, storage_url=storage_url, safe_url=safe_url,
                         out_dir=out_dir, created=created, ref_params=ref_params, grace_s=grace_s,
                         sampler_seed=sampler_seed, calibration=calibration, limits=limits, ckpt_dir=ckpt_dir,
                         worker=worker, objectives=objectives)


def no_calibration_message(s: SearchSettings, out_dir: Path, what: str) -> str:
    """The one line ``nas search`` refuses with where ``--profile default`` has no calibration:
    what is missing, the ``nas calibrate`` command that makes it, and the alternatives."""
    from nas.scoring.calibrate import MIN_NETWORKS, ground_truth_networks

    try:
        n = len(ground_truth_networks(s.scale))
    except NasError:
        return (f"{what}, and x{s.scale} has fewer than {MIN_NETWORKS} published networks with a fully-trained "
                "PSNR to calibrate one on: rank by raw proxy PSNR with --profile halving")
    out = Path(out_dir) / "calibration.json"
    return (f"{what}: make one with `{calibrate_command(s, out)}` (it trains the {n} published networks of the "
            f"ground truth by this protocol), or add --calibrate auto to do that first, or rank by raw proxy PSNR "
            "with --profile halving")


def _auto_calibrate(s: SearchSettings, out_dir: Path, profile, device: str, log: Callable[[str], None],
                    why: str = "no calibration fits this protocol") -> Path:
    """``--calibrate auto``: run ``nas calibrate`` for ``profile``'s protocol and the study's data
    into ``<out_dir>/calibration.json`` (resumable: its cache lies beside it), when it trains at
    most :data:`nas.search.settings.AUTO_CALIBRATE_SHARE` of ``--budget`` networks. ``why``: the
    reason, for the log (no calibration at all, or one fitted on other data).

    Raises:
        NasError: too few published networks at the scale, or too many for the budget (with the
            command to run separately).
    """
    from nas.scoring.calibrate import CalibrationSettings, calibrate, ground_truth_networks
    from nas.search.settings import AUTO_CALIBRATE_SHARE

    path = Path(out_dir) / "calibration.json"
    n = len(ground_truth_networks(s.scale))
    if n > AUTO_CALIBRATE_SHARE * s.budget:
        raise NasError(f"--calibrate auto: calibrating trains {n} published networks, more than "
                       f"{AUTO_CALIBRATE_SHARE * 100:g} % of --budget {s.budget}; run `{calibrate_command(s, path)}` first "
                       f"(or raise --budget)")
    log(f"calibrate auto: {why}; training the {n} published networks of the ground "
        f"truth by it first (about {n} trials' worth, {100 * n / s.budget:.0f} % of the budget) into {path}")
    cs = CalibrationSettings(scale=s.scale, profile=profile.name, iters=s.iters, threads=s.threads,
                             metric=profile.metric, data=s.data, val_data=s.val_data, out=str(path),
                             jobs=max(1, s.jobs), device=device)
    _, name, summary = calibrate(cs, log)
    log(f"calibration {name!r} written to {path}: Spearman {summary['spearman']:.2f} out of family, "
        f"sigma {summary['sigma_db']:.2f} dB")
    return path


def describe_calibration(cal, steps: int) -> str:
    """A calibration's out-of-family statistics at ``steps`` in words, for logs and reports."""
    m = cal.models.get(int(steps), {})
    ci = m.get("lofo_spearman_ci") or [float("nan")] * 2
    if m.get("lofo_spearman") is None:
        return f"{cal.name!r}: no out-of-family statistics recorded; error {m.get('sigma_db', float('nan')):.2f} dB"
    return (f"{cal.name!r} ranks its {m.get('n', '?')} published networks at Spearman {m['lofo_spearman']:.2f} "
            f"[{ci[0]:.2f}, {ci[1]:.2f}] out of family, mean absolute error {m.get('lofo_mae_db', float('nan')):.2f} dB, "
            f"sigma {m['sigma_db']:.2f} dB (fingerprint {cal.version})")


def _study_objectives(s: SearchSettings, storage, study_name: str) -> tuple:
    """The objectives this run scores: ``--objectives`` when given (``open_study`` refuses it if
    the existing study has others), else the existing study's stored ones, else the default four.

    Raises:
        NasError: an unknown objective (named).
    """
    from nas.scoring.objectives import objectives_of, resolve_objectives

    if s.objectives is not None:
        return resolve_objectives(s.objectives)
    try:
        attrs = storage.get_study_user_attrs(storage.get_study_id_from_name(study_name))
    except KeyError:  # a new study
        attrs = {}
    return objectives_of(attrs)


def _stored_profile(storage_url: str, study_name: str) -> dict | None:
    """The proxy protocol stored by an existing study ``study_name``, else ``None`` (no such
    study, no database file yet, or a storage that cannot be read now: the set-up proper reports
    that). Reads only; a SQLite file is never created here."""
    from nas.search.study import load_existing_study

    try:
        stored = load_existing_study(study_name, storage_url).user_attrs.get("profile")
    except Exception:  # noqa: BLE001 - a peek: open_study below raises the real error
        return None
    return stored if isinstance(stored, dict) else None


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


def _calibration_of_study(study, calibration, files, log):
    """The calibration a resumed study was ranked by, where this nas still has it: after a refit the
    shipped file keeps the replaced entry as ``<name>@<version>``, so a study pinned to it resumes
    with it (the log says so) instead of being refused. Otherwise ``calibration`` unchanged."""
    from nas.proxy.predict import archived_calibration

    stored = study.user_attrs.get("calibration")
    if not stored or calibration is None or stored.get("name") != calibration.name \
            or stored.get("version") in (None, calibration.version):
        return calibration
    old = archived_calibration(stored["name"], stored["version"], files)
    if old is None:
        return calibration
    log(f"resuming with calibration {old.name} version {old.version}, the one this study was ranked by "
        f"(new studies get version {calibration.version})")
    return old


def _pin_calibration(study, calibration, created: bool, log) -> None:
    """Store the calibration a study is ranked by (``{"name", "version"}``, user attribute
    ``calibration``) and refuse to resume it under another (issue 31 §5): predictions made by two
    calibrations are not comparable on one front. A study created before calibrations had
    versions gets the current one recorded, and the log says so.

    Raises:
        StudyError: the study was ranked by another calibration or version.
    """
    mine = {"name": calibration.name, "version": calibration.version} if calibration is not None else None
    stored = study.user_attrs.get("calibration")
    if stored is not None and mine is not None and {k: stored.get(k) for k in mine} == mine:
        return
    if stored is None:
        if mine is not None:  # with its out-of-family statistics, for nas show and the report (issue 32)
            mine.update(calibration_stats(calibration))
        if mine is not None:
            study.set_user_attr("calibration", mine)
            if not created:
                log(f"note: this study did not record its calibration; from now on it is {mine['name']} "
                    f"version {mine['version']}")
        return
    if stored != mine:
        now = f"{mine['name']} version {mine['version']}" if mine else "no calibration for this protocol"
        raise StudyError(f"study {study.study_name!r} was ranked by calibration {stored.get('name')} version "
                         f"{stored.get('version')}, and this nas has {now}: its predicted PSNRs would not be "
                         "comparable; resume it with the nas that made it, or start a new study (--out / --study)")


def calibration_stats(cal) -> dict[str, Any]:
    """The out-of-family statistics a calibration recorded for its top model (``n``, ``spearman``,
    ``spearman_ci``, ``mae_db``, ``sigma_db``; those recorded only), and its ``source``."""
    model = cal.models.get(max(cal.models), {}) if cal.models else {}
    keys = {"n": "n", "lofo_spearman": "spearman", "lofo_spearman_ci": "spearman_ci", "lofo_mae_db": "mae_db",
            "sigma_db": "sigma_db"}
    return {v: model[k] for k, v in keys.items() if model.get(k) is not None} | {"source": cal.source}


def _fidelity_text(profile) -> str:
    if profile.multi_fidelity:
        return (f"successive halving: {' -> '.join(map(str, profile.rung_stops))} iters, eta {profile.eta}")
    return f"{profile.iters} iters"



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


def _stored_latency(stored, default):
    """The latency protocol a study was created with (input size, warm-up, repeats, memory
    format, threads, pass budget), so that every worker and every resumed run times candidates the
    same way; fields the study does not record keep ``default``'s (a ``LatencySetting``), except
    the pass budget: a study that does not record one was timed with every pass (0)."""
    if not isinstance(stored, dict):
        return default
    changes: dict = {"budget_ms": 0.0}
    budget = stored.get("budget_ms")
    if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget >= 0:
        changes["budget_ms"] = float(budget)
    hw = stored.get("lr_hw")
    if isinstance(hw, (list, tuple)) and len(hw) == 2 and all(isinstance(v, int) and v > 0 for v in hw):
        changes["lr_hw"] = (int(hw[0]), int(hw[1]))
    for key, ok in (("warmup", lambda v: isinstance(v, int) and v >= 0), ("repeats", lambda v: isinstance(v, int) and v >= 1),
                    ("threads", lambda v: isinstance(v, int) and v >= 1), ("channels_last", lambda v: isinstance(v, bool))):
        if key in stored and ok(stored[key]):
            changes[key] = stored[key]
    return dataclasses.replace(default, **changes)

