"""SIGINT / SIGTERM in the long-running commands (`nas search`, `nas confirm`): where they may land.

A signal is raised as ``KeyboardInterrupt`` at once only inside training, latency timing and
sleeping (:meth:`Signals.interruptible`); anywhere else, and around a storage write made from
inside those (a rung heartbeat, the domain check: :meth:`Signals.held`), it is held until the
write is done and raised at the next :meth:`Signals.check`. A signal raised inside a storage
write had left a SQLite connection holding the write lock, and the other jobs' heartbeats then
failed with "database is locked" (the CI of stop 35).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time


class Signals:
    """SIGINT / SIGTERM -> ``KeyboardInterrupt("SIGINT")``, held back while ``defer`` is set.

    Only installed in the main thread (elsewhere signals stay Python's business). A second
    signal while one is held raises at once.
    """

    def __init__(self) -> None:
        self.defer = False
        self.pending: str | None = None
        self._old: dict[int, object] = {}

    def install(self) -> None:
        """Take over SIGINT / SIGTERM and hold them from now on (raised inside
        :meth:`interruptible` blocks and at :meth:`check`)."""
        self.defer = True
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

    @contextlib.contextmanager
    def interruptible(self):
        """A block that a signal may interrupt at once (training, latency timing, sleeping): the
        held signal, if any, is raised on entry; on exit signals are held as before.

        Raises:
            KeyboardInterrupt: SIGINT / SIGTERM, held or arriving inside the block.
        """
        was = self.defer
        self.defer = False
        try:
            self.check()
            yield
        finally:
            self.defer = was

    @contextlib.contextmanager
    def held(self):
        """A storage write inside an interruptible block: a signal arriving meanwhile is raised
        when the block ends, never inside the write.

        Raises:
            KeyboardInterrupt: a signal held during the block, on exit, if signals were not
                already held around it.
        """
        was = self.defer
        self.defer = True
        try:
            yield
        finally:
            self.defer = was
        if not was:
            self.check()

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that a signal interrupts."""
        with self.interruptible():
            time.sleep(seconds)
