"""Optuna study plumbing: storage, sampler, creation-or-resume, reference enqueueing (no torch).

One study = one search space at one scale with one proxy profile and one data source; those
facts are stored as study user attributes at creation, and resuming with different ones is
refused (so a study never mixes incomparable scores).
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage

try:  # Optuna >= 4.9
    from optuna.storages import RetryHeartbeatStaleTrialCallback as _Retry
except ImportError:  # pragma: no cover
    from optuna.storages import RetryFailedTrialCallback as _Retry
from optuna.trial import FrozenTrial, TrialState

from nas.arch import ArchConfig, reference_config
from nas.errors import NasError, StudyError
from nas.scoring import DIRECTIONS, OBJECTIVE_NAMES
from nas.space import SearchSpace

__all__ = [
    "SAMPLERS",
    "StudyFacts",
    "make_storage",
    "make_sampler",
    "open_study",
    "load_existing_study",
    "enqueue_references",
    "trial_config",
]

SAMPLERS = ("tpe", "nsga2", "random", "gp")
_RETRY_ARG = "heartbeat_stale_trial_callback" if _Retry.__name__.startswith("RetryHeartbeat") else "failed_trial_callback"
#: Facts that must match when a study is resumed.
_PINNED = ("space_name", "space_digest", "scale", "profile", "data_source")


@dataclass(frozen=True)
class StudyFacts:
    """What a study was created with; stored as ``study.user_attrs`` (JSON-compatible)."""

    space_name: str
    space_digest: str
    space_path: str
    scale: int
    profile: dict[str, Any]
    data_source: str
    latency: dict[str, Any]
    sampler: str
    seed: int

    def to_attrs(self) -> dict[str, Any]:
        import importlib.metadata as md

        versions = {}
        for pkg in ("nas", "torch", "optuna", "fvcore", "numpy"):
            try:
                versions[pkg] = md.version(pkg)
            except md.PackageNotFoundError:
                versions[pkg] = None
        return {
            **self.__dict__,
            "objectives": list(OBJECTIVE_NAMES),
            "versions": versions,
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpu_count": os.cpu_count(),
        }


def make_storage(url: str) -> RDBStorage:
    """An Optuna ``RDBStorage`` with heartbeats, so a killed worker's trial is marked FAILED and
    its configuration retried (``RetryFailedTrialCallback``).

    Raises:
        StudyError: the database cannot be opened (one line naming the URL without password).
    """
    safe = _redact(url)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
        db_path = url.split(":///", 1)[-1]
        if db_path and db_path != ":memory:":
            parent = Path(db_path).parent
            if not parent.is_dir():
                raise StudyError(f"{safe}: folder {parent} does not exist")
    try:
        return RDBStorage(
            url,
            engine_kwargs=kwargs,
            heartbeat_interval=20,
            grace_period=60,
            **{_RETRY_ARG: _Retry(max_retry=1)},
        )
    except ImportError as err:
        raise StudyError(f"{safe}: database driver missing ({err})") from None
    except Exception as err:  # sqlalchemy errors: unreachable server, bad password, read-only file
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise StudyError(f"{safe}: cannot open storage ({msg})") from None


def _redact(url: str) -> str:
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna sampler by name: ``tpe`` (multi-objective TPE, constant liar for parallel
    workers), ``nsga2``, ``random``, ``gp`` (multi-objective ``GPSampler``).

    Raises:
        NasError: unknown name.
    """
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True,
                                          constant_liar=True, n_startup_trials=10)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise NasError(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


def open_study(study_name: str, storage: RDBStorage, facts: StudyFacts,
               sampler: optuna.samplers.BaseSampler) -> tuple[optuna.Study, bool]:
    """Create the study, or load it and check it was created with the same facts.

    Returns:
        ``(study, created)``.

    Raises:
        StudyError: the existing study was created with another space, scale, profile or data.
    """
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler,
                                    directions=list(DIRECTIONS))
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
        created = False
    if created or "space_digest" not in study.user_attrs:
        study.set_metric_names(list(OBJECTIVE_NAMES))
        for k, v in facts.to_attrs().items():
            study.set_user_attr(k, v)
        return study, True
    if list(study.directions) != [optuna.study.StudyDirection[d.upper()] for d in DIRECTIONS]:
        raise StudyError(f"study {study_name!r} has other objectives; it was not made by nas search")
    mine = facts.__dict__
    for key in _PINNED:
        theirs = study.user_attrs.get(key)
        if json.dumps(theirs, sort_keys=True) != json.dumps(mine[key], sort_keys=True):
            raise StudyError(
                f"study {study_name!r} was created with {key}={_short(theirs)}, this run has "
                f"{key}={_short(mine[key])}; refusing to mix them (use another --study or --out)"
            )
    return study, False


def _short(v: Any) -> str:
    s = json.dumps(v, sort_keys=True) if not isinstance(v, str) else v
    return s if len(s) < 120 else s[:117] + "..."


def load_existing_study(study_name: str | None, storage_url: str) -> optuna.Study:
    """Load a study made by ``nas search`` (the only one in the storage if no name is given).

    Raises:
        StudyError: no such study, or several and none named.
    """
    storage = make_storage(storage_url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if study_name is None:
        if len(names) != 1:
            raise StudyError(f"{_redact(storage_url)}: {len(names)} studies found"
                             + (f" ({', '.join(names)}); pass --study" if names else ""))
        study_name = names[0]
    if study_name not in names:
        raise StudyError(f"{_redact(storage_url)}: no study named {study_name!r}"
                         + (f" (found: {', '.join(names)})" if names else ""))
    return optuna.load_study(study_name=study_name, storage=storage)


def enqueue_references(study: optuna.Study, space: SearchSpace, scale: int,
                       names: tuple[str, ...]) -> list[str]:
    """Enqueue the published configurations once (``skip_if_exists``), first in the study.

    Raises:
        SearchSpaceError: a reference is not a point of ``space`` (names it and the field).
    """
    done = []
    for name in names:
        config = reference_config(name, scale)
        params = space.to_params(config)
        study.enqueue_trial(params, user_attrs={"reference": name}, skip_if_exists=True)
        done.append(name)
    return done


def trial_config(trial: FrozenTrial) -> ArchConfig:
    """The ``ArchConfig`` a trial evaluated (stored as the ``config`` user attribute).

    Raises:
        StudyError: the trial has no stored config (it failed before sampling).
    """
    raw = trial.user_attrs.get("config")
    if raw is None:
        raise StudyError(f"trial {trial.number} has no architecture (state {trial.state.name})")
    return ArchConfig.from_dict(raw, source=f"trial {trial.number}")


def count_states(study: optuna.Study) -> dict[TrialState, int]:
    out: dict[TrialState, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state] = out.get(t.state, 0) + 1
    return out
