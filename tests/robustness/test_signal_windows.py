"""Where SIGINT / SIGTERM may land in `nas search` (``nas.search.runner._Signals``).

A signal raised inside a storage write could leave a SQLite connection holding the write lock,
and the other jobs' heartbeats then failed with "database is locked" (CI of stop 35:
``test_sigint_stops_every_job_and_the_study_resumes`` exited 1 instead of 130). So a signal
interrupts only training, latency timing and sleeping; everywhere else it is held until the
storage write ends.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import optuna
import pytest

from nas.search.runner import _Signals, run_search
from nas.search.settings import SearchSettings
from tests.robustness.conftest import TINY_SPACE


def _deliver(sig: signal.Signals = signal.SIGINT) -> None:
    """Send ``sig`` to this process and give the handler the chance to run."""
    os.kill(os.getpid(), sig)
    for _ in range(50):
        time.sleep(0.001)


@pytest.fixture
def signals():
    s = _Signals()
    s.install()
    try:
        yield s
    finally:
        s.uninstall()


def test_a_held_signal_is_raised_at_the_next_check_and_names_itself(signals):
    signals.defer = True
    _deliver(signal.SIGTERM)
    assert signals.pending == "SIGTERM"
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        signals.check()
    signals.check()  # raised once


def test_training_is_interrupted_at_once_and_the_held_signal_on_entry(signals):
    signals.defer = True
    with pytest.raises(KeyboardInterrupt):
        with signals.interruptible():
            _deliver()
            pytest.fail("the signal did not interrupt the block")
    assert signals.defer  # held again after the block
    _deliver()  # held outside
    with pytest.raises(KeyboardInterrupt):
        with signals.interruptible():
            pytest.fail("the held signal was not raised on entry")


def test_a_storage_write_inside_training_is_finished_before_the_signal(signals):
    signals.defer = True
    written = []
    with pytest.raises(KeyboardInterrupt):
        with signals.interruptible():
            with signals.held():
                _deliver()
                written.append("heartbeat")  # not cut
            pytest.fail("the held signal was not raised when the write ended")
    assert written == ["heartbeat"]


def test_a_second_signal_while_one_is_held_is_raised_at_once(signals):
    signals.defer = True
    _deliver()
    with pytest.raises(KeyboardInterrupt):
        _deliver()  # the user insists


def test_every_storage_write_of_a_search_happens_with_signals_held(tmp_path, monkeypatch):
    """The whole loop of a small successive-halving search (trials, admission, domain check,
    promotions): each write to the storage from the main thread, while the handler is installed,
    is made with signals held."""
    active: list[_Signals] = []
    install, uninstall = _Signals.install, _Signals.uninstall
    monkeypatch.setattr(_Signals, "install", lambda self: (active.append(self), install(self))[1])
    monkeypatch.setattr(_Signals, "uninstall", lambda self: (active.clear(), uninstall(self))[1])
    writes: list[tuple[str, bool]] = []
    backend = optuna.storages.RDBStorage
    for name in ("create_new_trial", "set_trial_param", "set_trial_state_values", "set_trial_intermediate_value",
                 "set_trial_user_attr", "set_trial_system_attr", "set_study_user_attr", "record_heartbeat"):
        original = getattr(backend, name)

        def spy(self, *a, _name=name, _original=original, **kw):
            if active and threading.current_thread() is threading.main_thread():
                writes.append((_name, active[0].defer))
            return _original(self, *a, **kw)

        monkeypatch.setattr(backend, name, spy)
    s = SearchSettings(space=str(TINY_SPACE), budget=3, profile="smoke-halving", references=("imdn_rtc",),
                       out=str(tmp_path / "run"), sampler="random", seed=0, max_params=30_000)
    outcome = run_search(s, log=lambda m: None)
    assert outcome.complete == 3
    names = {n for n, _ in writes}
    assert {"set_trial_user_attr", "set_trial_state_values", "set_study_user_attr"} <= names, names
    assert [w for w in writes if not w[1]] == [], "storage writes a signal could cut"
