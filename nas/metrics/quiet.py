"""Latency without contention: a machine-wide gate between training workers and timing (no torch).

``nas search --jobs N`` runs N training processes on one machine. A latency measured while the
others train on the same cores is the latency of a busy machine, not the one a user will see
(issue 21). The gate makes the timing exclusive:

* a training worker wraps every step (and every validation) in :meth:`QuietGate.work`: it
  passes the *gate* (a shared ``flock``, blocked while a timer holds it) and holds the *work*
  lock shared for the duration of the step;
* a timer (:meth:`QuietGate.quiet`) takes the gate exclusively, so no new step starts, then the
  work lock exclusively, so it waits for the steps in flight (one step, tens of ms) to end;
  it times, then releases both, and the workers carry on.

The two lock files live in a per-user folder of the machine's temporary directory, so every
``nas`` process of the user on the machine takes part (several searches, ``nas confirm``).
Linux / macOS ``flock``; where ``fcntl`` is missing the gate is a no-op.

Beside it, :func:`cpu_load` samples how busy the machine was during a measurement: the share
of all cores used by *other* processes (from ``/proc/stat`` and this process's CPU time) and the
1-minute load average, so a latency taken on a loaded machine is flagged, not silently kept.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["QuietGate", "gate", "activate_gate", "deactivate_gate", "CpuLoad", "cpu_load", "LOADED_SHARE",
           "usable_cores"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Other processes using more than this share of all cores during a latency measurement make it
#: a latency "under load" (warned once, flagged in the report).
LOADED_SHARE = 0.25


def _default_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"nas-quiet-{uid}"


class QuietGate:
    """A cross-process gate: many workers, one exclusive timer at a time.

    Args:
        folder: where the two lock files live (created; default ``$TMPDIR/nas-quiet-<uid>``).

    Raises:
        OSError: the folder or its lock files cannot be created.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else _default_dir()
        self._gate_fd: int | None = None
        self._work_fd: int | None = None
        self._quiet_depth = 0
        #: seconds this process's work units waited while another process timed (a pause that
        #: falls inside a training step's wall time but is not training: issue 21's overhead)
        self.paused_s = 0.0
        if fcntl is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._gate_fd = os.open(self.folder / "gate.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._work_fd = os.open(self.folder / "work.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def close(self) -> None:
        for fd in (self._gate_fd, self._work_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._gate_fd = self._work_fd = None

    @contextlib.contextmanager
    def work(self) -> Iterator[None]:
        """One unit of training work (a step, a validation): waits while a timer holds the gate."""
        if self._gate_fd is None or self._quiet_depth:
            yield
            return
        t = time.perf_counter()
        try:
            fcntl.flock(self._gate_fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # the usual case: no timer
        except BlockingIOError:
            fcntl.flock(self._gate_fd, fcntl.LOCK_SH)
            self.paused_s += time.perf_counter() - t
        try:
            fcntl.flock(self._work_fd, fcntl.LOCK_SH)
        finally:
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._work_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def quiet(self, before: Callable[[], None] | None = None) -> Iterator[float]:
        """Exclusive use of the machine's nas workers: yields the seconds waited for it.

        ``before``: work that needs no quiet (a latency's warm-up passes), run once the gate is
        taken (no new step starts) and before waiting for the steps in flight to end, so it
        overlaps them instead of following them. Its own time is not counted as waiting.
        """
        if self._gate_fd is None or self._quiet_depth:
            self._quiet_depth += 1
            try:
                if before is not None:
                    before()
                yield 0.0
            finally:
                self._quiet_depth -= 1
            return
        t = time.perf_counter()
        fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
        try:
            self._quiet_depth += 1  # this process's own work units never wait for itself
            try:
                busy = 0.0
                if before is not None:
                    t_before = time.perf_counter()
                    before()
                    busy = time.perf_counter() - t_before
                fcntl.flock(self._work_fd, fcntl.LOCK_EX)
                try:
                    yield time.perf_counter() - t - busy
                finally:
                    fcntl.flock(self._work_fd, fcntl.LOCK_UN)
            finally:
                self._quiet_depth -= 1
        finally:
            fcntl.flock(self._gate_fd, fcntl.LOCK_UN)


class _NoGate:
    """The gate of a process that takes no part (tests, library use): never waits."""

    paused_s = 0.0

    @contextlib.contextmanager
    def work(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def quiet(self, before: Callable[[], None] | None = None) -> Iterator[float]:
        if before is not None:
            before()
        yield 0.0


_ACTIVE: QuietGate | _NoGate = _NoGate()


def gate() -> QuietGate | _NoGate:
    """This process's gate: the one :func:`activate_gate` installed, else a no-op."""
    return _ACTIVE


def activate_gate(folder: str | Path | None = None) -> QuietGate | _NoGate:
    """Take part in the machine-wide gate (``nas search`` and ``nas confirm`` do); idempotent.

    A folder that cannot be used (read-only temporary directory) leaves the no-op gate.
    """
    global _ACTIVE
    if isinstance(_ACTIVE, QuietGate) and (folder is None or Path(folder) == _ACTIVE.folder):
        return _ACTIVE
    try:
        new = QuietGate(folder)
    except OSError:
        return _ACTIVE
    deactivate_gate()
    _ACTIVE = new
    return _ACTIVE


def deactivate_gate() -> None:
    """Leave the gate (closes its files)."""
    global _ACTIVE
    if isinstance(_ACTIVE, QuietGate):
        _ACTIVE.close()
    _ACTIVE = _NoGate()


# ---------------------------------------------------------------------- machine load
@dataclass(frozen=True)
class CpuLoad:
    """How busy the machine was during a measurement.

    Attributes:
        others_share: CPU time used by other processes / (wall time x usable cores), 0..1
            (None where ``/proc/stat`` is unavailable).
        loadavg1: the 1-minute load average at the end (None where unavailable).
        cores: usable cores of this process.
    """

    others_share: float | None
    loadavg1: float | None
    cores: int

    @property
    def loaded(self) -> bool:
        """Other processes used more than :data:`LOADED_SHARE` of the cores."""
        return self.others_share is not None and self.others_share > LOADED_SHARE

    def to_dict(self) -> dict[str, float | int | None]:
        return {"others_share": None if self.others_share is None else round(self.others_share, 3),
                "loadavg1": None if self.loadavg1 is None else round(self.loadavg1, 2), "cores": self.cores}


def _busy_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from the first line of ``/proc/stat``."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def usable_cores() -> int:
    """Cores this process may run on (``sched_getaffinity``, else ``os.cpu_count()``)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class cpu_load:  # noqa: N801 - used as a context manager, like a function
    """Context manager measuring :class:`CpuLoad` over its body; ``.result`` after exit.

    Example:
        >>> with cpu_load() as probe:
        ...     time_the_network()
        >>> probe.result.others_share
    """

    def __enter__(self) -> "cpu_load":
        self._t = time.perf_counter()
        self._own = _own_cpu_s()
        self._jiffies = _busy_jiffies()
        self.result: CpuLoad | None = None
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self._t
        own = _own_cpu_s() - self._own
        end = _busy_jiffies()
        share = None
        if self._jiffies is not None and end is not None and end[1] > self._jiffies[1]:
            busy = (end[0] - self._jiffies[0]) / (end[1] - self._jiffies[1])  # share of all CPUs
            n_all = os.cpu_count() or 1
            others_s = max(0.0, busy * n_all * wall - own)
            share = min(1.0, others_s / (wall * usable_cores())) if wall > 0 else None
        try:
            load1 = os.getloadavg()[0]
        except (OSError, AttributeError):
            load1 = None
        self.result = CpuLoad(others_share=share, loadavg1=load1, cores=usable_cores())


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system
