"""A quiet machine for latency benchmarks on shared CPUs.

* :func:`lock_holder`: whether this run holds the machine's CPU lock (``flock /tmp/nas-cpu.lock``),
  read from ``/proc/locks``; :func:`busiest_processes`: the other processes using the most CPU;
* :func:`wait_quiet`: wait until other processes use at most :data:`QUIET_SHARE` of the cores;
* :func:`least_loaded`: one measurement after that wait, taken again while other processes used
  more than :data:`LOADED_SHARE` of the cores during it (the rule ``nas search`` applies to a
  candidate's latency), the least loaded kept.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

LOCK = "/tmp/nas-cpu.lock"
LOADED_SHARE = 0.25  # nas.metrics.quiet.LOADED_SHARE (checked in main)
LOADED_RETRIES = 2  # nas.scoring.evaluate.LOADED_RETRIES (checked in main)


def lock_holder(path: str = LOCK) -> dict[str, Any]:
    """Who holds the ``flock`` on ``path``, from ``/proc/locks`` (Linux): ``held`` (any holder),
    ``by_ancestor`` (a holder is this process or one of its ancestors, i.e. this run was started
    under ``flock path ...``), the holders' pids and commands."""
    info: dict[str, Any] = {"path": path, "held": False, "by_ancestor": False, "holders": []}
    try:
        st = os.stat(path)
        with open("/proc/locks", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError as e:
        info["error"] = str(e)
        return info
    ancestors, pid = set(), os.getpid()
    while pid > 1:
        ancestors.add(pid)
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:
        parts = line.split()
        if "->" in parts or len(parts) < 6 or parts[1] != "FLOCK":  # "->": a waiter, not a holder
            continue
        dev_ino = parts[5]
        maj, mi, ino = dev_ino.split(":")
        if int(ino) != st.st_ino or int(maj, 16) != os.major(st.st_dev) or int(mi, 16) != os.minor(st.st_dev):
            continue
        holder = int(parts[4])
        try:
            cmd = Path(f"/proc/{holder}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        info["holders"].append({"pid": holder, "cmd": cmd[:200]})
        info["held"] = True
        info["by_ancestor"] = info["by_ancestor"] or holder in ancestors
    info["inode"] = inode
    return info


def busiest_processes(n: int = 6) -> list[str]:
    """The ``n`` other processes using the most CPU (``ps``: pid, lifetime average %CPU, elapsed,
    command; this process and its parent left out), for the record."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ["unknown"]
    mine = {os.getpid(), os.getppid()}
    lines = [" ".join(line.split())[:160] for line in out.splitlines()[1:]]
    return [line for line in lines if line and int(line.split()[0]) not in mine][:n]


#: Before each measurement, wait (at most ``--max-wait`` s) until other processes used at most this
#: share of the cores in two consecutive 0.3 s windows.
QUIET_SHARE = 0.10


def wait_quiet(max_wait_s: float, window_s: float = 0.3) -> tuple[float, bool]:
    """Sleep until the machine is quiet (:data:`QUIET_SHARE`) or ``max_wait_s`` has passed;
    returns ``(seconds waited, quiet reached)``. This process sleeps meanwhile, so the share read
    is that of the other processes."""
    from nas.metrics.quiet import cpu_load

    t0, calm = time.perf_counter(), 0
    while True:
        with cpu_load() as probe:
            time.sleep(window_s)
        calm = calm + 1 if (probe.result.others_share or 0.0) <= QUIET_SHARE else 0
        waited = time.perf_counter() - t0
        if calm >= 2:
            return waited, True
        if waited >= max_wait_s:
            return waited, False


def least_loaded(measure, max_wait_s: float) -> dict[str, Any]:
    """One latency measurement after :func:`wait_quiet`, timed again (up to ``LOADED_RETRIES``
    times, each after waiting again) while other processes used more than ``LOADED_SHARE`` of the
    cores during it; the least-loaded one is kept (the rule ``nas.scoring.evaluate`` applies to a
    search candidate, plus the wait). Returns ``ms`` (the run's median), ``iqr_ms``,
    ``others_share``, ``attempts`` and ``wait_s`` (all attempts)."""
    from nas.metrics.quiet import cpu_load

    best, wait_total = None, 0.0
    for attempt in range(1 + LOADED_RETRIES):
        waited, _ = wait_quiet(max_wait_s)
        wait_total += waited
        with cpu_load() as probe:
            lat = measure()
        share = probe.result.others_share or 0.0
        if best is None or share < best["others_share"]:
            best = {"ms": round(lat.median_ms, 3), "iqr_ms": round(lat.iqr_ms, 3), "others_share": round(share, 3)}
        if share <= LOADED_SHARE:
            break
    best["attempts"] = attempt + 1
    best["wait_s"] = round(wait_total, 2)
    return best
