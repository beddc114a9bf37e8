"""The machine-wide quiet gate (latency timed while the other workers pause) and the load probe."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import time

from nas.metrics.quiet import LOADED_SHARE, QuietGate, cpu_load


def _hold_work(folder: str, started, seconds: float) -> None:
    g = QuietGate(folder)
    with g.work():
        started.set()
        time.sleep(seconds)


def _hold_quiet(folder: str, started, seconds: float) -> None:
    g = QuietGate(folder)
    with g.quiet():
        started.set()
        time.sleep(seconds)


def _step_in_flight(folder, seconds: float = 1.0):
    """Another process holding one training step (``work``) for ``seconds``: (context, process)."""
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    worker = ctx.Process(target=_hold_work, args=(str(folder), started, seconds))
    worker.start()
    assert started.wait(60)
    return ctx, worker


def test_timing_waits_for_a_step_in_flight_and_steps_wait_for_the_timing(tmp_path):
    ctx, worker = _step_in_flight(tmp_path)
    gate = QuietGate(tmp_path)
    t = time.perf_counter()
    with gate.quiet() as waited:
        assert worker.exitcode is None or worker.exitcode == 0
    assert time.perf_counter() - t >= 0.5 and waited >= 0.5  # it waited for the step to end
    worker.join(30)

    started = ctx.Event()
    timer = ctx.Process(target=_hold_quiet, args=(str(tmp_path), started, 1.0))
    timer.start()
    assert started.wait(60)
    t = time.perf_counter()
    assert gate.paused_s == 0.0  # the steps so far never waited
    with gate.work():  # a training step does not start while another process times
        pass
    assert time.perf_counter() - t >= 0.5
    assert 0.5 <= gate.paused_s <= time.perf_counter() - t  # the pause is counted (issue 21's overhead)
    timer.join(30)
    # nested use in one process never deadlocks (timing inside a process that also trains)
    with gate.quiet():
        with gate.work():
            pass
    gate.close()


def test_load_probe_sees_another_busy_process():
    with cpu_load() as quiet:
        time.sleep(0.5)
    assert quiet.result is not None and quiet.result.cores >= 1
    spin = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<3: pass"])
    try:
        time.sleep(0.5)
        with cpu_load() as busy:
            time.sleep(1.0)
    finally:
        spin.wait(10)
    if busy.result.others_share is None:
        return  # no /proc/stat (not Linux): only the load average is recorded
    # one spinning process: a whole core of this machine's cores was used by someone else
    # (no comparison with the first, idle-looking probe: other work on the machine can load it too)
    assert busy.result.others_share >= min(0.9 / busy.result.cores, LOADED_SHARE) - 0.05, busy.result


def test_a_timer_warms_up_while_the_step_in_flight_ends(tmp_path):
    """``quiet(before=warm)``: the warm-up runs once the gate is taken, overlapping the other
    worker's step in flight (issue 21: the wait for the gate was a third of a trial's latency
    cost); only the rest of the wait counts as waiting."""
    _, worker = _step_in_flight(tmp_path)
    gate = QuietGate(tmp_path)
    order: list[str] = []
    t = time.perf_counter()
    with gate.quiet(before=lambda: (order.append("warm"), time.sleep(0.6))) as waited:
        order.append("timed")
        elapsed = time.perf_counter() - t
    worker.join(30)
    assert order == ["warm", "timed"]
    assert 0.9 <= elapsed < 1.5  # the step's 1 s, not 1 s + the warm-up's 0.6 s
    assert 0.2 <= waited <= elapsed - 0.55  # the warm-up is not counted as waiting
    with gate.quiet(before=lambda: order.append("nested")):  # inside a quiet: runs, never blocks
        with gate.quiet(before=lambda: order.append("inner")):
            pass
    assert order[-2:] == ["nested", "inner"]
    gate.close()
