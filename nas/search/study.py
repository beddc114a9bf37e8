"""Optuna study plumbing: storage, sampler, creation-or-resume, reference enqueueing (no torch).

One study = one search space at one scale with one proxy profile and one data source; those
facts are stored as study user attributes at creation, and resuming with different ones is
refused (so a study never mixes incomparable scores).

Several workers (processes, possibly on several machines) may share one study through one
storage (PostgreSQL for real parallel work). What makes that safe:

* :func:`setup_lock` serialises the set-up (table creation, study creation, the study facts,
  the reference enqueueing) across workers: a PostgreSQL advisory lock, or ``flock`` on the
  SQLite file's folder. Study creation is therefore create-once-then-load, and the references
  are enqueued exactly once (``skip_if_exists``).
* :func:`make_storage` turns on Optuna's heartbeat: every running trial writes a heartbeat every
  ``heartbeat`` seconds; a trial without one for ``3 * heartbeat`` seconds (its worker was killed
  or lost) is *stale*. :func:`fail_stale` marks it FAILED with a reason and re-queues its
  configuration once (:class:`RetryStaleTrial`).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import os
import platform
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

try:  # Optuna's private group decomposition (TPE with group=True); without it TPE's own is kept
    from optuna.search_space.group_decomposed import _GroupDecomposedSearchSpace
except ImportError:  # pragma: no cover - a later Optuna moved it
    _GroupDecomposedSearchSpace = None  # type: ignore[assignment,misc]

from nas.arch import ArchConfig, reference_config
from nas.proxy.profiles import protocol_fields, same_protocol
from nas.errors import NasError, StudyError
from nas.scoring.objectives import DEFAULT_OBJECTIVE_NAMES, resolve_objectives
from nas.search.admission import BUDGET_REASON
from nas.space import SearchSpace
from nas.urls import redact_text, redact_url

__all__ = [
    "SAMPLERS",
    "DEFAULT_HEARTBEAT_S",
    "GRACE_FACTOR",
    "StudyFacts",
    "RetryStaleTrial",
    "make_storage",
    "make_sampler",
    "setup_lock",
    "open_study",
    "load_existing_study",
    "reference_params",
    "enqueue_references",
    "missing_references",
    "fail_stale",
    "drain_stale",
    "agree_heartbeat",
    "trial_config",
    "count_states",
    "redact_url",
]

SAMPLERS = ("tpe", "nsga2", "random", "gp")
#: Seconds between two heartbeats of a running trial (``nas search --heartbeat``).
DEFAULT_HEARTBEAT_S = 20
#: A running trial without a heartbeat for ``GRACE_FACTOR * heartbeat`` seconds is stale.
GRACE_FACTOR = 3
#: Optuna >= 4.9 renamed ``failed_trial_callback`` to ``heartbeat_stale_trial_callback``.
_RETRY_ARG = ("heartbeat_stale_trial_callback"
              if "heartbeat_stale_trial_callback" in inspect.signature(RDBStorage.__init__).parameters
              else "failed_trial_callback")
#: Facts that must match when a study is resumed.
_PINNED = ("space_name", "space_digest", "scale", "profile", "data_source")
#: The study user attribute written last at creation: once present, the facts are complete.
_FACTS_MARKER = "space_digest"
#: Trial user attributes that describe one attempt, not the configuration; not copied to a retry.
_ATTEMPT_ATTRS = ("admission", "fail_reason", "prune_reason", "worker", "iters", "timings")
#: PostgreSQL advisory-lock key of the study set-up (any 64-bit constant, the same for all workers).
_PG_LOCK_KEY = zlib.crc32(b"nas.search.study.setup")


@dataclass(frozen=True)
class StudyFacts:
    """What a study was created with; stored as ``study.user_attrs`` (JSON-compatible).

    ``psnr_noise_db`` is the profile's measured seed-to-seed PSNR noise ``{steps: dB}``
    (``nas.proxy.profiles.psnr_noise_db``; keys are strings in JSON), the margin a dominance
    claim must exceed at that fidelity; empty when the protocol has not been measured.
    ``bicubic_psnr_db`` is the PSNR of bicubic upsampling of the validation images, scored as
    the candidates are (``nas.proxy.train.bicubic_psnr``): the floor a trained network must beat.
    """

    space_name: str
    space_digest: str
    space_path: str
    scale: int
    profile: dict[str, Any]
    data_source: str
    latency: dict[str, Any]
    sampler: str
    seed: int
    psnr_noise_db: dict[str, float] = field(default_factory=dict)
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVE_NAMES
    preset: str | None = None
    ntire_year: int | None = None
    min_psnr: float | None = None
    bicubic_psnr_db: float | None = None

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
            "objectives": list(self.objectives),
            "versions": versions,
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpu_count": os.cpu_count(),
        }


# ---------------------------------------------------------------------- URLs and errors
def _first_line(err: BaseException, url: str) -> str:
    """The first non-empty line of an error message, without the URL's password."""
    text = str(err).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(err).__name__)
    return redact_text(line, url)


def _backend(url: str) -> str:
    """``postgresql`` / ``sqlite`` / ``mysql`` ... for a storage URL.

    Raises:
        StudyError: not a URL SQLAlchemy understands.
    """
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).get_backend_name()
    except Exception:
        raise StudyError(f"{redact_url(url)}: not a storage URL (expected e.g. "
                         "sqlite:///results/study.db or postgresql://user:password@host:5432/db)") from None


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    db = make_url(url).database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


# ---------------------------------------------------------------------- storage
def make_storage(url: str, heartbeat: int = DEFAULT_HEARTBEAT_S) -> RDBStorage:
    """An Optuna ``RDBStorage`` with heartbeats.

    A running trial records a heartbeat every ``heartbeat`` seconds; one without a heartbeat for
    ``GRACE_FACTOR * heartbeat`` seconds (its worker was killed) is stale: :func:`fail_stale`
    (and Optuna itself, before each trial) marks it FAILED, and :class:`RetryStaleTrial`
    re-queues its configuration once.

    Args:
        url: SQLAlchemy URL (``sqlite:///path/study.db``, ``postgresql://user:pw@host:port/db``).
        heartbeat: heartbeat interval in seconds (>= 1); the grace period is 3x.

    Raises:
        NasError: ``heartbeat`` < 1.
        StudyError: the database cannot be opened: unknown URL, missing driver, folder missing,
            server unreachable, authentication failed, not a database (one line naming the URL
            with the password replaced by ``***``).
    """
    if heartbeat < 1:
        raise NasError(f"--heartbeat must be at least 1 second, got {heartbeat}")
    safe = redact_url(url)
    backend = _backend(url)
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        kwargs = {"connect_args": {"timeout": 60}}
        path = _sqlite_path(url)
        if path is not None and not path.parent.is_dir():
            raise StudyError(f"{safe}: folder {path.parent} does not exist")
    else:
        kwargs = {"pool_pre_ping": True}
    attempts = 1 if backend in ("sqlite", "postgresql") else 3  # others: no set-up lock, retry races
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna's terms
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(
                    url,
                    engine_kwargs=kwargs,
                    heartbeat_interval=heartbeat,
                    grace_period=GRACE_FACTOR * heartbeat,
                    **{_RETRY_ARG: RetryStaleTrial(max_retry=1)},
                )
        except ImportError as err:
            raise StudyError(f"{safe}: database driver missing ({err})") from None
        except Exception as err:  # sqlalchemy errors: unreachable server, bad password, read-only file
            if attempt + 1 < attempts:
                time.sleep(1.0)
                continue
            raise StudyError(f"{safe}: cannot open storage ({_first_line(err, url)})") from None
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def setup_lock(url: str, timeout_s: float = 300.0) -> Iterator[None]:
    """Serialise a study's set-up across workers sharing the storage at ``url``.

    PostgreSQL: a session-level advisory lock (released by the server if the worker dies).
    SQLite: ``flock`` on the database file's folder (workers on one machine). Other backends:
    no lock (``open_study`` then tolerates the creation race by waiting for the facts).

    Args:
        url: storage URL.
        timeout_s: give up after this many seconds of waiting (s).

    Raises:
        StudyError: the server is unreachable or refuses the login (names the URL without
            password), or the lock was not obtained within ``timeout_s``.
    """
    safe = redact_url(url)
    backend = _backend(url)
    if backend == "postgresql":
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        try:
            engine = sqlalchemy.create_engine(url, poolclass=NullPool)
            conn = engine.connect()
        except ImportError as err:
            raise StudyError(f"{safe}: database driver missing ({err}); pip install 'psycopg[binary]'") from None
        except Exception as err:
            raise StudyError(f"{safe}: cannot connect ({_first_line(err, url)})") from None
        try:
            deadline = time.monotonic() + timeout_s
            while not conn.execute(sqlalchemy.text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_LOCK_KEY}).scalar():
                if time.monotonic() > deadline:
                    raise StudyError(f"{safe}: another worker held the study set-up lock for over {timeout_s:.0f} s")
                time.sleep(0.1)
            conn.commit()
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            engine.dispose()
        return
    path = _sqlite_path(url) if backend == "sqlite" else None
    if path is None or not path.parent.is_dir():
        yield
        return
    import fcntl

    fd = os.open(path.parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StudyError(f"{safe}: another process held the study set-up lock for over "
                                     f"{timeout_s:.0f} s") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the flock


class SnapshotTPESampler(optuna.samplers.TPESampler):
    """Optuna's ``TPESampler`` reading the study's trials once per ``sample_relative`` call.

    With ``group=True`` the conditional space of ``nas`` decomposes into about 30 groups (one per
    block position and option set); TPE fits each group in turn and re-reads the study's trials
    for each (``Study._get_trials``), and with an RDB storage every read syncs the unfinished
    trials from the database: 0.19 s of a trial's 0.28 s of sampling in a 60-trial cProfile of
    ``nas search`` (issue 21). Here the first read of a ``sample_relative`` call is kept for the
    others of that call, so every group is fitted on one snapshot of the study (what a single
    read would give); between calls nothing is cached. The samples equal ``TPESampler``'s when
    no other worker writes during the call (``tests/search/test_samplers.py``).

    The same holds for the below / above split: TPE splits the snapshot anew for every group
    (non-dominated sorting of every trial on the study's objectives, plus the constraint scores),
    though within one call every group gets the same trials and the same ``n_below``. The first
    split of a call is kept for the others (0.30 of 0.49 s of sampling a trial at 245 trials,
    cProfile of a resumed 200-trial x4 study).

    The group decomposition of the space is kept between calls and each finished trial is added
    to it once (:class:`_IncrementalGroupDecomposedSearchSpace`; Optuna re-adds every trial at
    every call).

    It wraps ``Study._get_trials`` and ``optuna.samplers._tpe.sampler._split_trials`` (Optuna's
    private read and split used by TPE) for the duration of the call only; if a release renames
    either, the wrapper steps aside and TPE works as before. Both wrappers are process state held
    for one call: not for Optuna's thread-based ``optimize(n_jobs > 1)`` (``nas`` runs its workers
    as processes).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = getattr(self, "_group_decomposed_search_space", None)
        if _GroupDecomposedSearchSpace is not None and type(groups) is _GroupDecomposedSearchSpace:
            self._group_decomposed_search_space = _IncrementalGroupDecomposedSearchSpace(groups._include_pruned)

    def sample_relative(self, study, trial, search_space):
        original = getattr(study, "_get_trials", None)
        if original is None:
            return super().sample_relative(study, trial, search_space)
        memo: dict = {}

        def snapshot(deepcopy: bool = True, states=None, use_cache: bool = False):
            key = (bool(deepcopy), tuple(states) if states is not None else None, bool(use_cache))
            if deepcopy:  # a copy may be modified by the caller: never shared
                return original(deepcopy=deepcopy, states=states, use_cache=use_cache)
            if key not in memo:
                memo[key] = original(deepcopy=deepcopy, states=states, use_cache=use_cache)
            return memo[key]

        own = study.__dict__.get("_get_trials")
        study._get_trials = snapshot
        try:
            with _split_once_per_call():
                return super().sample_relative(study, trial, search_space)
        finally:
            if own is None:
                del study._get_trials  # back to the class's method
            else:
                study._get_trials = own


class _IncrementalGroupDecomposedSearchSpace(_GroupDecomposedSearchSpace or object):  # type: ignore[misc]
    """Optuna's group decomposition of the search space, adding each finished trial once.

    ``_GroupDecomposedSearchSpace.calculate`` re-adds the parameter set of every COMPLETE /
    PRUNED trial at every call onto a partition it keeps between calls: 0.095 of 0.36 s of
    sampling a trial at 235 trials (cProfile of the committed x4 study, issue 21). Re-adding a
    set the partition already refines is the identity (each group lies inside it or outside
    it, so the group list and its order stay the same), and a finished trial's parameters never
    change, so adding only the trials not seen before yields the same groups in the same order
    (``tests/search/test_samplers.py`` checks the samples against plain TPE).
    """

    def __init__(self, include_pruned: bool = False) -> None:
        super().__init__(include_pruned)
        self._added: set[int] = set()  # trial ids already added to the partition

    def calculate(self, study, use_cache: bool = False):
        if self._study_id is None:
            self._study_id = study._study_id
        elif self._study_id != study._study_id:
            raise ValueError("`_GroupDecomposedSearchSpace` cannot handle multiple studies.")
        states = (TrialState.COMPLETE, TrialState.PRUNED) if self._include_pruned else (TrialState.COMPLETE,)
        for t in study._get_trials(deepcopy=False, states=states, use_cache=use_cache):
            if t._trial_id not in self._added:
                self._added.add(t._trial_id)
                self._search_space.add_distributions(t.distributions)
        return copy.deepcopy(self._search_space)


@contextlib.contextmanager
def _split_once_per_call():
    """Within the block, TPE's ``_split_trials(study, trials, n_below)`` is computed once per
    (trial numbers and states, ``n_below``) and returned as fresh lists of the same trials."""
    from optuna.samplers._tpe import sampler as tpe_module

    original = getattr(tpe_module, "_split_trials", None)
    if original is None:
        yield
        return
    memo: dict = {}

    def split(study, trials, n_below):
        key = (tuple((t.number, t.state) for t in trials), n_below)
        if key not in memo:
            memo[key] = original(study, trials, n_below)
        below, above = memo[key]
        return list(below), list(above)

    tpe_module._split_trials = split
    try:
        yield
    finally:
        tpe_module._split_trials = original


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna sampler by name: ``tpe`` (multi-objective TPE, constant liar for parallel
    workers; :class:`SnapshotTPESampler`), ``nsga2``, ``random``, ``gp`` (multi-objective
    ``GPSampler``).

    Raises:
        NasError: unknown name.
    """
    if name == "tpe":
        return SnapshotTPESampler(seed=seed, multivariate=True, group=True,
                                  constant_liar=True, n_startup_trials=10)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise NasError(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


# ---------------------------------------------------------------------- study
def open_study(study_name: str, storage: RDBStorage, facts: StudyFacts,
               sampler: optuna.samplers.BaseSampler, wait_s: float = 0.0) -> tuple[optuna.Study, bool]:
    """Create the study, or load it and check it was created with the same facts.

    Create-once-then-load: ``DuplicatedStudyError`` (another worker created it first) means load.
    The facts are written right after creation, ``space_digest`` last; a worker that loads a
    study whose facts are not complete yet waits up to ``wait_s`` seconds for them (only needed
    without :func:`setup_lock`), then adopts the study if it holds no trial.

    Returns:
        ``(study, created)``; ``created`` is True when this call wrote the facts.

    Raises:
        StudyError: the existing study has other objectives, holds trials but no ``nas search``
            facts, or was created with another space, scale, profile or data (names the field).
    """
    created = False
    objs = resolve_objectives(list(facts.objectives))
    directions = [o.direction for o in objs]
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler,
                                    directions=directions)
        created = True
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
    stored = study.user_attrs.get("objectives")
    if not created and isinstance(stored, list) and stored and list(stored) != [o.name for o in objs]:
        raise StudyError(f"study {study_name!r} was created with objectives {','.join(map(str, stored))}, this run "
                         f"has {','.join(o.name for o in objs)}; refusing to mix them (resume without --objectives, "
                         "or use another --study or --out)")
    if list(study.directions) != [optuna.study.StudyDirection[d.upper()] for d in directions]:
        raise StudyError(f"study {study_name!r} has other objectives; it was not made by nas search")
    if not created:
        deadline = time.monotonic() + wait_s
        while _FACTS_MARKER not in study.user_attrs and time.monotonic() < deadline:
            time.sleep(0.2)
    if created or _FACTS_MARKER not in study.user_attrs:
        if not created and study.get_trials(deepcopy=False):
            raise StudyError(f"study {study_name!r} holds trials but no nas search facts (space, scale, "
                             "profile); refusing to add to it (use another --study)")
        study.set_metric_names([o.name for o in objs])
        attrs = facts.to_attrs()
        for k, v in attrs.items():
            if k != _FACTS_MARKER:
                study.set_user_attr(k, v)
        study.set_user_attr(_FACTS_MARKER, attrs[_FACTS_MARKER])  # last: marks the facts complete
        return study, True
    mine = facts.__dict__
    theirs_all = study.user_attrs
    for key in _PINNED:
        theirs = theirs_all.get(key)
        if key == "profile":  # the protocol must match, not its name; fields added later take defaults
            theirs, ours = protocol_fields(theirs), protocol_fields(mine[key])
            if isinstance(theirs, dict) and same_protocol(theirs, ours):
                continue  # (a study from before the thread count was recorded resumes with any)
        elif key == "data_source":  # the same folders, however they are spelled (relative, absolute)
            theirs, ours = _same_source(theirs, mine[key])
        else:
            ours = mine[key]
        if json.dumps(theirs, sort_keys=True) != json.dumps(ours, sort_keys=True):
            hint = _profile_hint(theirs) if key == "profile" else ""
            raise StudyError(
                f"study {study_name!r} was created with {key}={_short(theirs)}, this run has "
                f"{key}={_short(ours)}; refusing to mix them ({hint}use another --study or --out)"
            )
    return study, False


def _same_source(theirs: Any, ours: str) -> tuple[Any, str]:
    """``(theirs, ours)`` with ``ours`` replaced by ``theirs`` when both name the same folders
    (``DIR | val VAL`` with paths spelled differently: relative, absolute, trailing slash)."""
    if not isinstance(theirs, str) or theirs == ours:
        return theirs, ours

    def parts(source: str) -> list[str]:
        return [p.strip() for p in source.split(" | ")]

    a, b = parts(theirs), parts(ours)
    if len(a) != len(b):
        return theirs, ours
    for x, y in zip(a, b):
        if x == y:
            continue
        px, py = (x[4:], y[4:]) if x.startswith("val ") and y.startswith("val ") else (x, y)
        try:
            if not (Path(px).is_dir() and Path(py).is_dir() and Path(px).samefile(py)):
                return theirs, ours
        except OSError:
            return theirs, ours
    return theirs, theirs


def _profile_hint(stored: Any) -> str:
    """``"resume it with --profile fixed, or "`` when a named profile (maybe with ``--iters``) has
    the stored protocol; empty otherwise."""
    from nas.proxy.profiles import PROFILES

    if not isinstance(stored, dict):
        return ""
    stored = protocol_fields(stored)
    for name, prof in PROFILES.items():  # an exact match first, then one with --iters, then --threads
        if same_protocol(prof, stored):
            return f"resume it with --profile {name}, or "
    for name, prof in PROFILES.items():
        if same_protocol(prof, stored, ignore=("iters",)):
            return f"resume it with --profile {name} --iters {stored.get('iters')}, or "
    for name, prof in PROFILES.items():
        if same_protocol(prof, stored, ignore=("threads",)) and stored.get("threads") is not None:
            return f"resume it with --profile {name} --threads {stored.get('threads')}, or "
    return ""


def _short(v: Any) -> str:
    s = json.dumps(v, sort_keys=True) if not isinstance(v, str) else v
    return s if len(s) < 120 else s[:117] + "..."


def load_existing_study(study_name: str | None, storage_url: str) -> optuna.Study:
    """Load a study made by ``nas search`` (the only one in the storage if no name is given).

    Raises:
        StudyError: storage unreachable, no such study, or several and none named; a SQLite
            file that does not exist (it is not created: reading never writes).
    """
    if storage_url.startswith("sqlite:///"):
        db = Path(storage_url.split(":///", 1)[1])
        if str(db) != ":memory:" and not db.is_file():
            raise StudyError(f"{db}: no such database file (storage {redact_url(storage_url)})")
    storage = make_storage(storage_url)
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    except Exception as err:
        raise StudyError(f"{redact_url(storage_url)}: cannot read studies ({_first_line(err, storage_url)})") from None
    if study_name is None:
        if len(names) != 1:
            raise StudyError(f"{redact_url(storage_url)}: {len(names)} studies found"
                             + (f" ({', '.join(names)}); pass --study" if names else ""))
        study_name = names[0]
    if study_name not in names:
        raise StudyError(f"{redact_url(storage_url)}: no study named {study_name!r}"
                         + (f" (found: {', '.join(names)})" if names else ""))
    return optuna.load_study(study_name=study_name, storage=storage)


# ---------------------------------------------------------------------- references
def reference_params(space: SearchSpace, scale: int, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Trial params of each published configuration in ``names`` (checked before any storage
    is touched).

    Raises:
        ArchConfigError: unknown reference name, or one that does not exist at ``scale``.
        SearchSpaceError: a reference is not a point of ``space`` (names it and the field).
    """
    return {name: space.to_params(reference_config(name, scale)) for name in names}


def enqueue_references(study: optuna.Study, space_or_params: SearchSpace | dict[str, dict[str, Any]],
                       scale: int | None = None, names: tuple[str, ...] = ()) -> list[str]:
    """Queue the published configurations the study lacks (first in a new study; again on
    resume for a reference that was interrupted or killed, see :func:`missing_references`).

    Call it under :func:`setup_lock` so that concurrent workers cannot both enqueue one.

    Args:
        study: the study.
        space_or_params: ``{name: params}`` from :func:`reference_params`, or a search space
            (then ``scale`` and ``names`` are required).

    Raises:
        SearchSpaceError: a reference is not a point of the space (names it and the field).
    """
    if isinstance(space_or_params, SearchSpace):
        assert scale is not None
        params_by_name = reference_params(space_or_params, scale, names)
    else:
        params_by_name = space_or_params
    missing = missing_references(study, tuple(params_by_name))
    for name in missing:
        study.enqueue_trial(params_by_name[name], user_attrs={"reference": name})
    return missing


REFERENCE_MAX_FAILS = 3
"""A reference whose trials FAILED this many times is not queued again (a deterministic error,
not an interruption); the search goes on without it and ``nas show`` says it is missing."""


def missing_references(study: optuna.Study, names: tuple[str, ...],
                       requeue_reasons: tuple[str, ...] = (BUDGET_REASON,)) -> list[str]:
    """References among ``names`` that the study must (re-)queue: no trial of theirs is
    COMPLETE, RUNNING or WAITING. A reference interrupted (Ctrl-C, SIGTERM), killed (stale) or
    pruned because other workers held the budget counts as missing, so a resumed search always
    evaluates every reference; after ``REFERENCE_MAX_FAILS`` FAILED attempts it is given up.

    Args:
        study: the study.
        names: reference names, e.g. ``("imdn", "rfdn")``.
        requeue_reasons: prefixes of ``prune_reason`` that do not count as the reference's
            evaluation (the budget-yield of a multi-worker study).
    """
    present: set[str] = set()
    fails: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        ref = t.user_attrs.get("reference")
        if ref is None:
            continue
        if t.state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING):
            present.add(ref)
        elif t.state == TrialState.FAIL:
            fails[ref] = fails.get(ref, 0) + 1
        elif t.state == TrialState.PRUNED and not str(t.user_attrs.get("prune_reason", "")).startswith(requeue_reasons):
            present.add(ref)
    return [n for n in names if n not in present and fails.get(n, 0) < REFERENCE_MAX_FAILS]


# ---------------------------------------------------------------------- stale trials
def agree_heartbeat(study: optuna.Study, heartbeat: int, created: bool) -> int:
    """Record this worker's heartbeat interval on the study and return the grace period (s)
    that every worker must use before declaring a trial stale.

    Workers may be started with different ``--heartbeat`` values; a worker must not call a
    trial stale that another worker is still running, only with a longer interval. So the study
    keeps the longest interval any worker has used (``heartbeat_s``; studies made before this
    attribute existed used 20 s), and the grace period is ``GRACE_FACTOR`` times it. Call under
    :func:`setup_lock` (read-modify-write). Also sets the storage's grace period.

    Returns:
        The grace period in seconds.
    """
    recorded = study.user_attrs.get("heartbeat_s", None if created else DEFAULT_HEARTBEAT_S)
    longest = max(heartbeat, recorded or 0)
    if recorded != longest:
        study.set_user_attr("heartbeat_s", longest)
    backend = getattr(study._storage, "_backend", study._storage)
    if isinstance(backend, RDBStorage):
        backend.grace_period = GRACE_FACTOR * longest
    return GRACE_FACTOR * longest


class RetryStaleTrial:
    """Re-queue a stale trial's configuration (same params, same ``reference``) as a WAITING
    trial, at most ``max_retry`` times per original trial.

    Like Optuna's ``RetryHeartbeatStaleTrialCallback`` (same ``failed_trial`` /
    ``retry_history`` system attributes), but the attributes of the failed attempt
    (``admission``, ``fail_reason``, ``worker``, ...) are not copied, and the retry records
    ``retry_of`` (the stale trial's number) as a user attribute.
    """

    def __init__(self, max_retry: int | None = 1):
        self.max_retry = max_retry
        #: numbers of the stale trials handled, whoever failed them (:func:`fail_stale`, or
        #: Optuna's own check at the start of each trial); drained by :func:`drain_stale`.
        self.seen: list[int] = []

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.seen.append(trial.number)
        if "fail_reason" not in trial.user_attrs:  # failed by Optuna's own check, which records none
            _record_stale_reason(study, trial._trial_id)
        history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
        if self.max_retry is not None and len(history) > self.max_retry:
            return
        system_attrs = {**trial.system_attrs, "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                        "retry_history": history}
        user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in _ATTEMPT_ATTRS}
        user_attrs["retry_of"] = trial.number
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.WAITING, params=trial.params, distributions=trial.distributions,
            user_attrs=user_attrs, system_attrs=system_attrs,
        ))


def _stale_reason(grace: int | None) -> str:
    return f"stale: no heartbeat for over {grace} s (worker killed or lost)"


def _record_stale_reason(study: optuna.Study, trial_id: int) -> None:
    """Write ``fail_reason`` on a stale trial that Optuna's own check (``fail_stale_trials``, run
    before each trial) failed before :func:`fail_stale` saw it: a search resumed just as the
    grace period of a kill ran out (CI hit this race). The trial is already FAIL, which Optuna's
    API no longer lets anyone write to, so the row goes into Optuna's RDB table directly
    (``optuna.storages._rdb.models``); where that fails, the trial keeps no reason and the log
    line and the re-queued trial's ``retry_of`` still say what happened."""
    import sqlalchemy as sa
    from optuna.storages._rdb import models

    backend = getattr(study._storage, "_backend", study._storage)
    if not isinstance(backend, RDBStorage):
        return
    attrs = models.TrialUserAttributeModel.__table__
    try:
        with backend.engine.begin() as conn:
            exists = conn.execute(sa.select(attrs.c.trial_user_attribute_id).where(
                attrs.c.trial_id == trial_id, attrs.c.key == "fail_reason")).first()
            if exists is None:
                conn.execute(attrs.insert().values(trial_id=trial_id, key="fail_reason",
                                                   value_json=json.dumps(_stale_reason(backend.grace_period))))
    except Exception:  # noqa: BLE001 - a schema this version does not know, or a lost race: no reason
        return


def fail_stale(study: optuna.Study) -> list[int]:
    """Mark FAILED every RUNNING trial whose heartbeat is older than the grace period, with the
    reason in its ``fail_reason`` attribute, and re-queue each (storage's stale-trial callback).

    Safe with concurrent workers: a trial is failed (and re-queued) by exactly one of them.

    Returns:
        The numbers of the trials this call failed.
    """
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    if not isinstance(backend, RDBStorage) or backend.heartbeat_interval is None:
        return []
    grace = backend.grace_period
    failed: list[int] = []
    stale = list(storage._get_stale_trial_ids(study._study_id))
    stale += [i for i in _silent_trial_ids(backend, study._study_id, 2 * grace) if i not in stale]
    for trial_id in stale:
        try:
            storage.set_trial_user_attr(trial_id, "fail_reason", _stale_reason(grace))
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker failed it first, or it finished meanwhile
    callback = getattr(backend, "get_heartbeat_stale_trial_callback", None) or backend.get_failed_trial_callback
    cb = callback()
    numbers = []
    for trial_id in failed:
        trial = copy.deepcopy(storage.get_trial(trial_id))
        numbers.append(trial.number)
        if cb is not None:
            cb(study, trial)
    return numbers


def _silent_trial_ids(backend: RDBStorage, study_id: int, older_than_s: float) -> list[int]:
    """RUNNING trials that never recorded a heartbeat and started over ``older_than_s`` seconds
    ago (by this machine's clock): their worker died between Optuna's ``ask`` and the first
    heartbeat, a window of milliseconds that a SIGKILL can hit (CI did). Optuna's own stale
    check skips a trial without a heartbeat, so without this it would stay RUNNING for ever and
    the search wait for it. Reads Optuna's RDB tables (``optuna.storages._rdb.models``)."""
    import datetime as _dt

    import sqlalchemy as sa
    from optuna.storages._rdb import models

    trials, beats = models.TrialModel.__table__.c, models.TrialHeartbeatModel.__table__.c
    query = (sa.select(trials.trial_id, trials.datetime_start)  # naive UTC in Optuna's tables
             .where(trials.study_id == study_id, trials.state == TrialState.RUNNING.name)
             .where(~sa.exists().where(beats.trial_id == trials.trial_id)))
    try:
        with backend.engine.connect() as conn:
            rows = conn.execute(query).all()
    except Exception:  # noqa: BLE001 - a schema this version does not know: Optuna's check only
        return []
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    return [i for i, start in rows if start is not None and (now - start).total_seconds() > older_than_s]


def drain_stale(study: optuna.Study) -> list[int]:
    """The numbers of the stale trials failed and re-queued since the last call, by this
    process: by :func:`fail_stale` or by Optuna's own stale check at the start of each trial
    (which runs first when a search resumes within the grace period of a kill), so each one is
    reported once whichever found it."""
    storage = study._storage
    backend = getattr(storage, "_backend", storage)
    getter = getattr(backend, "get_heartbeat_stale_trial_callback", None) or getattr(
        backend, "get_failed_trial_callback", None)
    cb = getter() if getter is not None else None
    if not isinstance(cb, RetryStaleTrial):
        return []
    out, cb.seen[:] = list(cb.seen), []
    return out


# ---------------------------------------------------------------------- trials
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
    """Number of trials in each state."""
    out: dict[TrialState, int] = {}
    for t in study.get_trials(deepcopy=False):
        out[t.state] = out.get(t.state, 0) + 1
    return out
