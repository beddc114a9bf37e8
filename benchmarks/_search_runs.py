"""``benchmarks/search_compare.py``, part 1: the methods and the runs.

A *method* is a named set of ``nas search`` flags (:class:`MethodSpec`, parsed from
``--method NAME="FLAGS"``); a *run* is one method with one seed, the subprocess
``nas search ... --out <run_dir>`` (:func:`search_command`, :func:`execute_run`), whose state
(:func:`run_state`: done, or how far) is read from its Optuna study without torch. The run folder
also holds ``benchmark_run.json`` (:data:`RUN_META`: flags and attempts) and ``search.log``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from _common import write_atomic

ROOT = Path(__file__).resolve().parents[1]

#: The default methods: name -> ``nas search`` flags.
DEFAULT_METHODS: dict[str, str] = {
    "default": "--profile halving --sampler tpe",
    "random": "--profile halving --sampler random",
    "nsga2": "--profile halving --sampler nsga2",
    "tpe-fixed": "--profile fixed --sampler tpe",
}
#: Flags the benchmark sets itself (same for every method); a method may not pass them.
RESERVED_FLAGS = ("--budget", "--seed", "--scale", "--threads", "--out", "--out-dir", "--storage", "--study")
RUN_META = "benchmark_run.json"
RUN_LOG = "search.log"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# ---------------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class MethodSpec:
    """A named ``nas search`` variant.

    Attributes:
        name: label, also the run-folder prefix (letters, digits, ``_ . -``).
        args: its ``nas search`` flags, already split (``("--profile", "halving", ...)``).
    """

    name: str
    args: tuple[str, ...]

    @property
    def args_text(self) -> str:
        return shlex.join(self.args)


def check_flags(args: Sequence[str], where: str) -> None:
    """Raise ``ValueError`` if ``args`` sets a flag the benchmark sets itself (:data:`RESERVED_FLAGS`)."""
    for a in args:
        flag = a.split("=", 1)[0]
        if flag in RESERVED_FLAGS:
            raise ValueError(f"{where}: {flag} is set by the benchmark (use its own option), not per method")


def parse_method(spec: str) -> MethodSpec:
    """``'NAME=FLAGS'`` -> :class:`MethodSpec` (FLAGS split like a shell would; may be empty).

    Raises:
        ValueError: no ``=``, a bad name, unbalanced quotes, or a reserved flag.
    """
    if "=" not in spec:
        raise ValueError(f"--method {spec!r}: expected NAME=\"FLAGS\", e.g. default=\"--profile halving --sampler tpe\"")
    name, text = spec.split("=", 1)
    name = name.strip()
    if not _NAME.match(name):
        raise ValueError(f"--method {spec!r}: the name must be letters, digits, '_', '.' or '-' (a folder name)")
    try:
        args = tuple(shlex.split(text))
    except ValueError as err:
        raise ValueError(f"--method {spec!r}: {err}") from None
    check_flags(args, f"--method {name}")
    return MethodSpec(name, args)


def parse_methods(specs: Sequence[str] | None) -> list[MethodSpec]:
    """The methods to run: :data:`DEFAULT_METHODS` when ``specs`` is empty, else exactly ``specs``.

    Raises:
        ValueError: a bad spec (:func:`parse_method`) or a name given twice.
    """
    if not specs:
        return [MethodSpec(n, tuple(shlex.split(a))) for n, a in DEFAULT_METHODS.items()]
    out: list[MethodSpec] = []
    for s in specs:
        m = parse_method(s)
        if any(o.name == m.name for o in out):
            raise ValueError(f"--method: {m.name!r} given twice")
        out.append(m)
    return out


def parse_seeds(text: str) -> list[int]:
    """``'0,1,2'`` -> ``[0, 1, 2]`` (distinct, order kept). Raises ``ValueError`` when empty or bad."""
    seeds: list[int] = []
    for part in text.split(","):
        if part.strip():
            s = int(part)
            if s not in seeds:
                seeds.append(s)
    if not seeds:
        raise ValueError("--seeds: give at least one seed, e.g. 0,1,2")
    return seeds


def run_name(method: str, seed: int) -> str:
    return f"{method}_s{seed}"


def nas_executable() -> list[str]:
    """How to call the ``nas`` CLI: the console script next to this Python, else the module."""
    script = Path(sys.executable).with_name("nas")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from nas.cli import main; main()"]


def search_command(method: MethodSpec, seed: int, budget: int, scale: int, threads: int,
                   extra: Sequence[str], run_dir: Path, nas: Sequence[str] = ("nas",)) -> list[str]:
    """The ``nas search`` argv of one run (``threads`` 0: not passed, torch's default)."""
    cmd = [*nas, "search", "--budget", str(budget), "--seed", str(seed), "--scale", str(scale),
           "--out", str(run_dir)]
    if threads:
        cmd += ["--threads", str(threads)]
    return cmd + list(method.args) + list(extra)


# ---------------------------------------------------------------------------------- run state
def storage_url(run_dir: Path) -> str:
    return f"sqlite:///{(Path(run_dir) / 'study.db').as_posix()}"


def run_state(run_dir: Path, budget: int) -> dict[str, Any]:
    """Whether a run folder holds a finished search (no torch, no training).

    A run is ``done`` when its study holds ``>= budget`` COMPLETE trials and, with successive
    halving, no promotion is pending (claims of killed workers count as pending: ``nas search``
    finishes them when run again).

    Returns:
        ``{"done", "n_complete", "n_running", "pending_promotions", "reason"}``.
    """
    from optuna.trial import TrialState

    from nas.search.rungs import promotions
    from nas.search.study import load_existing_study

    out: dict[str, Any] = {"done": False, "n_complete": 0, "n_running": 0, "pending_promotions": 0, "reason": ""}
    if not (Path(run_dir) / "study.db").is_file():
        out["reason"] = "no study yet"
        return out
    try:
        study = load_existing_study(None, storage_url(run_dir))
    except Exception as err:  # noqa: BLE001 - an empty or half-created database: run it
        out["reason"] = f"study not readable ({err})"
        return out
    trials = study.get_trials(deepcopy=False)
    out["n_complete"] = sum(t.state == TrialState.COMPLETE for t in trials)
    out["n_running"] = sum(t.state == TrialState.RUNNING for t in trials)
    prof = study.user_attrs.get("profile") or {}
    n_rungs, eta = int(prof.get("rungs", 1) or 1), int(prof.get("eta", 3) or 3)
    pending = promotions(trials, study.user_attrs, n_rungs, eta, grace_s=-1.0) if n_rungs > 1 else []
    out["pending_promotions"] = len(pending)
    if out["n_complete"] < budget:
        out["reason"] = f"{out['n_complete']} of {budget} COMPLETE trials"
    elif pending:
        out["reason"] = f"budget reached, {len(pending)} promotion(s) pending"
    else:
        out["done"] = True
        out["reason"] = f"complete ({out['n_complete']} COMPLETE trials)"
    return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def execute_run(cmd: list[str], run_dir: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Run one ``nas search`` subprocess to the end, output appended to ``<run_dir>/search.log``.

    The attempt (start, end, wall seconds, exit code) is appended to ``meta["attempts"]`` and
    ``meta`` written to ``<run_dir>/benchmark_run.json`` (also when interrupted). On Ctrl-C /
    SIGTERM the child is given SIGTERM (``nas search`` then marks its trial FAILED and writes its
    outputs), waited for, and the ``KeyboardInterrupt`` re-raised.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now()
    attempt: dict[str, Any] = {"started": started.isoformat(timespec="seconds"), "command": shlex.join(cmd)}
    meta.setdefault("attempts", []).append(attempt)
    t0 = time.perf_counter()
    with open(run_dir / RUN_LOG, "a") as log:
        log.write(f"\n=== {attempt['started']} {shlex.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            try:
                proc.wait(timeout=2.0)  # a terminal Ctrl-C reached the child too
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            attempt.update(wall_s=round(time.perf_counter() - t0, 1), rc=proc.returncode, interrupted=True,
                           finished=_dt.datetime.now().isoformat(timespec="seconds"))
            write_atomic(run_dir / RUN_META, json.dumps(meta, indent=1) + "\n")
            raise
    attempt.update(wall_s=round(time.perf_counter() - t0, 1), rc=rc,
                   finished=_dt.datetime.now().isoformat(timespec="seconds"))
    write_atomic(run_dir / RUN_META, json.dumps(meta, indent=1) + "\n")
    return attempt


def _log_tail(run_dir: Path, n: int = 4) -> str:
    try:
        lines = [ln for ln in (run_dir / RUN_LOG).read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return "\n".join("    " + ln for ln in lines[-n:])


def _display_path(p: Path) -> Path:
    """``p`` relative to the repository when inside it (commands and reports stay portable)."""
    try:
        return Path(p).resolve().relative_to(ROOT)
    except ValueError:
        return Path(p)
