"""``nas confirm``: retrain a finished search's best front members and its references from
scratch with a longer protocol, and store those scores as a higher fidelity (issue 18 §5).

A search ranks candidates with a short proxy; a claim such as "trial 36 dominates IMDN" is a
statement about full training. ``nas confirm`` tests the claims that matter before a user spends
GPU-days on them: the ``top_k`` front members (those that claim to dominate a reference first,
then the highest PSNR) and every reference of the study are trained again, from a fresh
initialisation, with the ``confirm`` profile (or another), and validated on the study's data.

Bookkeeping lives in the study, like the successive-halving rungs (:mod:`nas.search.rungs`):
``confirm:<trial number>:0`` -> ``{"psnr_db", "iters", "profile", "train_s", "val_s", "at",
"worker"}`` (or ``{"failed": reason}``), claimed under ``claim-confirm:<number>:0`` with a
heartbeat. Several ``nas confirm`` processes on one study (SQLite on one machine, PostgreSQL on
many) share the work and never train a unit twice; a killed process's claim goes stale after the
study's grace period and the unit is trained again by the next run; SIGINT gives the claim back.
The protocol is pinned on the study (``confirm_profile``): another ``--profile`` is refused.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from nas.errors import NasError, StudyError
from nas.proxy.profiles import get_profile, same_protocol
from nas.search import rungs
from nas.search.signals import Signals
from nas.search.study import DEFAULT_HEARTBEAT_S, GRACE_FACTOR, _same_source, setup_lock, trial_config

__all__ = ["CONFIRM_STAGE", "ConfirmSettings", "confirm_targets", "confirm_results", "run_confirm"]

#: Result and claim key prefixes of the confirmation stage (study user attributes).
CONFIRM_STAGE = ("confirm:", "claim-confirm:")


@dataclass
class ConfirmSettings:
    """What ``nas confirm`` was asked to do.

    Attributes:
        study_name / storage_url: the study (``storage_url``: SQLAlchemy URL).
        out_dir: the search's output folder (tables are rewritten there), or ``None``.
        top_k: searched front members to retrain (the references come on top).
        profile: proxy profile of the confirmation (default ``confirm``).
        data / val_data: the study's training / validation folders (``None``: built-in photos).
        device: ``cpu``, ``cuda`` or ``auto``. threads: training threads, part of the protocol (0: the profile's, 1).
    """

    study_name: str
    storage_url: str
    out_dir: Path | None = None
    top_k: int = 4
    profile: str = "confirm"
    data: str | None = None
    val_data: str | None = None
    device: str = "auto"
    threads: int = 0


def confirm_results(attrs: dict) -> dict[int, dict]:
    """``{trial number: stored confirmation result}`` of a study's user attributes."""
    return {n: v for (n, _r), v in rungs.rung_results(attrs, CONFIRM_STAGE[0]).items()}


def confirm_targets(data, top_k: int) -> list[int]:
    """Trial numbers to confirm, in order: every reference scored at the top fidelity, then up to
    ``top_k`` front members (those claiming to dominate a reference first, more claims first,
    then by PSNR, higher first).

    Args:
        data: ``nas.report.ReportData`` of the study.
        top_k: searched candidates to take (>= 0).
    """
    refs = [p.number for p in data.references.values()]
    front = [p for p in data.front if not p.reference]
    front.sort(key=lambda p: (-len(p.dominates), -(p.psnr_db or float("-inf")), p.number))
    return refs + [p.number for p in front[:max(0, top_k)]]


def _free_if_dead_here(study, number: int) -> None:
    """Give back a claim held by a process of this machine that no longer exists (a killed
    ``nas confirm``), so a rerun continues at once instead of waiting out the grace period."""
    held = study.user_attrs.get(f"{CONFIRM_STAGE[1]}{number}:0")
    if not isinstance(held, dict) or held.get("released"):
        return
    w = held.get("worker") or {}
    if w.get("host") != socket.gethostname() or not isinstance(w.get("pid"), int) or w["pid"] == os.getpid():
        return
    try:
        os.kill(w["pid"], 0)
    except ProcessLookupError:
        rungs.release(study, number, 0, claim_prefix=CONFIRM_STAGE[1])
    except PermissionError:  # alive, another user's
        pass


def _train_one(study, number: int, t, point, profile, data, device, worker: dict, beat_every: float,
               log: Callable[[str], None], sig: Signals, progress=None) -> None:
    """Train trial ``number``'s architecture from scratch with ``profile`` and store the result
    (or the failure) under ``confirm:<number>:0``. SIGINT (``sig``: it interrupts the training,
    never a storage write) gives the claim back and re-raises."""
    import torch

    from nas.models import build_model
    from nas.proxy.train import train_rungs

    beat = {"t": time.monotonic()}

    def on_step(i: int, _loss: float) -> None:
        if progress is not None:
            progress.step(i)
        if time.monotonic() - beat["t"] >= beat_every:
            beat["t"] = time.monotonic()
            with sig.held():
                rungs.heartbeat(study, number, 0, worker, claim_prefix=CONFIRM_STAGE[1])

    t0 = time.perf_counter()
    try:
        torch.manual_seed(profile.seed)
        model = build_model(trial_config(t))
        with sig.interruptible():
            curve = train_rungs(model, data, profile, profile.rung_stops, device, on_step=on_step)
        res = curve[-1]
    except KeyboardInterrupt:
        rungs.release(study, number, 0, claim_prefix=CONFIRM_STAGE[1])
        raise
    except Exception as err:  # noqa: BLE001 - recorded, the other targets go on
        reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        rungs.record_failure(study, number, 0, reason, worker, result_prefix=CONFIRM_STAGE[0])
        log(f"{point.name}: confirmation FAILED: {reason}")
        return
    study.set_user_attr(f"{CONFIRM_STAGE[0]}{number}:0", {
        "psnr_db": float(res.psnr_db), "iters": int(res.iters), "profile": profile.name,
        "psnr_by_iters": {str(r.iters): round(r.psnr_db, 4) for r in curve},
        "train_s": round(sum(r.train_s for r in curve), 3), "val_s": round(sum(r.val_s for r in curve), 3),
        "at": rungs._now_iso(),
        "worker": rungs._worker_tag(worker)})
    log(f"{point.name}: {res.psnr_db:.3f} dB after {res.iters} steps (search: {point.psnr_db:.3f} dB at "
        f"{point.iters}) ({time.perf_counter() - t0:.1f} s)")


def run_confirm(s: ConfirmSettings, log: Callable[[str], None] = print, *,
                read_points: Callable[[Any], Any], progress=None) -> dict[int, dict]:
    """Train every unclaimed, unconfirmed target of the study and store its score.

    Args:
        s: settings.
        log: receives one line per network and per event.
        read_points: ``read_points(study) -> ReportData`` (the CLI passes
            ``nas.report.build_report_data(study, out_dir, with_hypervolume=False)``): the
            points, front and references the targets are chosen from (:func:`confirm_targets`)
            and named by. Passed in rather than imported, as ``run_search`` takes
            ``write_outputs``, so that the study layer does not depend on the report above it.
        progress: optional object with ``start(networks, steps_each, done)``,
            ``network(name)``, ``step(i)``, ``done(n_done)`` and ``stop()`` (the CLI's rich
            progress bar over networks x steps; ``done`` counts every process's finished
            targets).

    Returns:
        The study's confirmation results after this run (``confirm_results``).

    Raises:
        NasError: bad ``top_k``, unknown profile, or data that is not the study's.
        StudyError: no such study, or confirmation results made with another protocol.
        KeyboardInterrupt: SIGINT / SIGTERM during a training or a wait (held over storage
            writes; the claim is given back first).
    """
    from nas.proxy.data import load_proxy_data
    from nas.models.device import resolve_device
    from nas.search.study import load_existing_study

    if s.top_k < 0:
        raise NasError(f"--top must be at least 0, got {s.top_k}")
    profile = get_profile(s.profile, threads=s.threads or None)
    study = load_existing_study(s.study_name, s.storage_url)
    attrs = study.user_attrs
    pinned = attrs.get("confirm_profile")
    if pinned is not None and not same_protocol(pinned, profile):
        raise StudyError(f"study {study.study_name!r} was confirmed with profile {pinned.get('name')!r}; "
                         f"refusing to mix it with --profile {s.profile} (use --profile {pinned.get('name')})")
    scale = attrs.get("scale")
    if not isinstance(scale, int):
        raise StudyError(f"study {study.study_name!r} records no scale: not made by nas search")
    device = resolve_device(s.device)
    data = load_proxy_data(scale, profile, s.data, s.val_data)
    from nas.metrics.quiet import activate_gate

    activate_gate()  # a search's latency timing on this machine waits for our steps
    theirs, ours = _same_source(attrs.get("data_source"), data.source)
    if theirs is not None and theirs != ours:
        raise NasError(f"the study was searched on {theirs}; this confirmation would use {data.source} "
                       "(pass the study's --data / --val-data)")
    lock = lambda: setup_lock(s.storage_url, timeout_s=120.0)  # noqa: E731
    if pinned is None:
        with lock():
            if study.user_attrs.get("confirm_profile") is None:
                study.set_user_attr("confirm_profile", profile.to_dict())
    grace_s = GRACE_FACTOR * int(attrs.get("heartbeat_s") or DEFAULT_HEARTBEAT_S)
    beat_every = grace_s / GRACE_FACTOR
    worker = {"host": socket.gethostname(), "pid": os.getpid(), "worker_id": 0}
    report = read_points(study)
    targets = confirm_targets(report, s.top_k)
    by_number = {p.number: p for p in report.points}
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    log(f"confirming {len(targets)} network(s) of study {study.study_name!r} with profile {profile.name!r} "
        f"({profile.top_iters} steps, validated at {'/'.join(map(str, profile.rung_stops))}; batch {profile.batch}, "
        f"LR patch {profile.lr_patch}): "
        + ", ".join(by_number[n].name for n in targets))
    if (attrs.get("profile") or {}).get("predictor", "none") != "none" and profile.predictor == "none":
        log("note: this study ranks by a predicted fully-trained PSNR; the confirmation scores the raw PSNR "
            f"after {profile.top_iters} steps, which ranks the published x4 networks far worse (the `confirm` "
            "protocol: Spearman 0.09 at 1620 steps, results/benchmarks/zoo_fidelity_builtin.md): a withdrawn "
            "claim here is weak evidence against it")
    done = confirm_results(study.user_attrs)
    pending = [n for n in targets if n not in done]
    if progress is not None:
        progress.start(len(targets), profile.top_iters, len(targets) - len(pending))
    sig = Signals()
    sig.install()  # a signal interrupts training and waiting only, never a storage write
    try:
        while pending:
            sig.check()
            trained_one = False
            for number in pending:
                if number in confirm_results(study.user_attrs):
                    continue
                _free_if_dead_here(study, number)
                if not rungs.claim(study, number, 0, worker, grace_s, lock, stage=CONFIRM_STAGE):
                    continue  # another worker trains it
                trained_one = True
                if progress is not None:
                    progress.network(by_number[number].name)
                _train_one(study, number, trials[number], by_number[number], profile, data, device, worker,
                           beat_every, log, sig, progress)
                sig.check()
                if progress is not None:
                    progress.done(sum(1 for n in targets if n in confirm_results(study.user_attrs)))
            done = confirm_results(study.user_attrs)
            pending = [n for n in pending if n not in done]
            if progress is not None:
                progress.done(len(targets) - len(pending))
            if pending and not trained_one:  # the rest are claimed by live workers: wait for them
                sig.sleep(min(5.0, beat_every / 2))
    finally:
        sig.uninstall()
        if progress is not None:
            progress.stop()
    return confirm_results(study.user_attrs)
