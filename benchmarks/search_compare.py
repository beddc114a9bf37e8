"""Benchmark: hypervolume of the front after ``--budget`` trials, ``nas`` default vs baselines.

Protocol
--------
Each *method* is a named set of ``nas search`` flags. The default set:

============  ======================================  =============================================
method        flags                                   what it is
============  ======================================  =============================================
``default``   ``--profile halving --sampler tpe``     the default until 2026-12-03: TPE + successive
                                                      halving (20 -> 60 -> 180 steps)
``random``    ``--profile halving --sampler random``  random search, same schedule (the baseline)
``nsga2``     ``--profile halving --sampler nsga2``   Optuna's NSGA-II, same schedule
``tpe-fixed`` ``--profile fixed --sampler tpe``       TPE with the fixed 60-step proxy
============  ======================================  =============================================

(``--method NAME="FLAGS"``, repeated, replaces the whole set.) Every method runs once per seed
(``--seeds``, default ``0,1,2``) with the same budget (``--budget``, default 200 COMPLETE trials,
the enqueued reference networks included), scale, thread count and data (the built-in
photographs unless ``--extra-args`` says otherwise). The runs go one at a time (a 2-core machine:
parallel runs would distort each other's latency objective), seed-major (all methods with seed
0, then seed 1, ...), so a partial benchmark is still balanced. Each run is the subprocess::

    nas search --budget B --seed S --scale X --out <out-dir>/runs/<method>_s<seed> [--threads T] FLAGS EXTRA

logging to ``search.log`` in its folder; its wall time (s, summed over attempts) is kept in
``benchmark_run.json`` there. A run whose study already holds ``>= budget`` COMPLETE trials and
no pending successive-halving promotion is not started again; a killed one is resumed by running
the same ``nas search`` again (Optuna study in ``study.db``). So the benchmark resumes after a kill.
A finished run made elsewhere with the same flags can be adopted: copy its ``study.db`` into the
run folder and write ``benchmark_run.json`` with ``method``, ``args``, ``extra``, ``scale``,
``seed``, ``budget``, its ``attempts`` (wall time) and a ``note`` saying where it comes from and
what differs; the note is printed under the runs table.

Score of a run (read with :func:`nas.report.build_report_data`, the same code as ``nas report``):
the hypervolume (HV) of its front, i.e. of the COMPLETE candidates at the run's top fidelity
(180 steps for the successive-halving ``default`` profile, 60 for ``fixed``), in normalised objective space with the fixed
reference point of the scale (:data:`nas.front.hypervolume.HV_REFERENCES`; x4: PSNR 10-40 dB
linear, 1 K-2 M params, 50 M-100 G Mult-Adds and 0.1-1000 ms on log axes), computed by Optuna's
exact (WFG) hypervolume code.
Also: the HV history (HV after each top-fidelity score, with the number of COMPLETE trials at that
moment), candidates at the top fidelity, front size, wall time, and how many searched candidates
dominate each reference network.

Fairness. Methods that share a schedule (``default``, ``random``, ``nsga2``: all scored at
180 steps) are compared like with like. ``tpe-fixed``'s PSNR is after 60 steps, a different
fidelity (lower PSNR for the same network), so its HV is not on the same scale. ``--rescore
PROFILE`` (e.g. ``long``: 600 steps) retrains every run's final front members with one profile
(from scratch, the same seed for all) and recomputes each run's HV with the retrained PSNR and
the run's own measured costs: that table compares all methods on one scale. Retrained results
are cached by ``arch_id`` in ``search_compare_<tag>.rescore.jsonl`` (resumable).

Running
-------
The full benchmark (12 runs of 200 trials; hours on 2 cores)::

    .venv/bin/python benchmarks/search_compare.py

then the cross-schedule comparison (retrains the fronts, 600 steps each; ``--jobs 2`` trains
two networks at a time with one thread each, the faster use of 2 cores for small networks)::

    .venv/bin/python benchmarks/search_compare.py --rescore long --jobs 2

A quick check (a minute or two; the numbers mean nothing)::

    .venv/bin/python benchmarks/search_compare.py --budget 3 --seeds 0 --threads 1 \\
        --method a="--profile smoke-halving --sampler tpe" \\
        --method b="--profile smoke-halving --sampler random" --baseline b \\
        --extra-args "--references erfdn" --out-dir /tmp/sc_check --tag check

Secondary measures (in the JSON and the Markdown): the HV in the *linear box* this benchmark
used first (:func:`linear_box_hv`: costs linear from 0; it saturates near 0.63 for any search on
x4, which is why the package moved to log-scaled costs), the HV of the *references' box*
(:func:`reference_box_hv`: ideal point to the worst reference on each objective; what a search
found beyond the published networks) and the HV at *equal wall time* (:func:`hv_at`, after the
wall time of the fastest complete run).

``--no-run`` only re-scores the runs already on disk. Outputs in ``--out-dir`` (default
``results/benchmarks/search_compare``): ``search_compare_<tag>.json`` (settings, every run with
its HV history and front, per-method summary, rescoring), ``search_compare_<tag>.md`` (tables)
and ``search_compare_<tag>.png`` (HV against COMPLETE trials and against wall time, one line per
run, one colour per method); the runs themselves in ``<out-dir>/runs/``.

Reading the numbers
-------------------
HV is dimensionless, 0..1: the fraction of the box between the ideal point (x4: 40 dB, 1 K
params, 50 M Mult-Adds, 0.1 ms) and the reference point that the front dominates, costs on log
axes; larger is better, and a
ratio of 1.2 means the front dominates 20 % more of that box. Per method: the median over seeds,
the min-max range, and the ratio of medians against ``--baseline`` (``random``); target: the
default >= 1.2x random search. Latency is an objective measured during each run on this machine,
so background load changes it (and the HV) a little; compare runs made on one machine.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as _dt
import json
import math
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from _common import die_with_parent, finite_or_none, write_atomic

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
#: The target of the issue: median HV of ``default`` >= 1.2x that of random search.
TARGET_METHOD, TARGET_RATIO = "default", 1.2
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


# ---------------------------------------------------------------------------------- scoring
def _naive_local(t: _dt.datetime | None) -> _dt.datetime | None:
    if t is not None and t.tzinfo is not None:
        return t.astimezone().replace(tzinfo=None)
    return t


def schedule_of(profile: dict[str, Any]) -> dict[str, Any]:
    """``{"profile", "rungs", "top_iters"}`` of a study's recorded proxy profile
    (``top_iters``: training steps of the top fidelity, ``iters * eta ** (rungs - 1)``)."""
    iters, rungs, eta = profile.get("iters"), int(profile.get("rungs", 1) or 1), int(profile.get("eta", 3) or 3)
    top = iters * eta ** (rungs - 1) if isinstance(iters, int) else None
    return {"profile": profile.get("name"), "rungs": rungs, "top_iters": top}


def score_run(run_dir: Path) -> dict[str, Any]:
    """Score a finished (or partial) run from its study (no torch).

    Returns:
        ``final_hv`` (dimensionless), ``hv_history`` (one entry per top-fidelity score:
        ``n_top`` top-fidelity scores so far, ``number`` trial, ``hypervolume``, ``n_trials``
        COMPLETE trials in the study at that moment (+-1 with successive halving: rung results
        are timed to the second), ``elapsed_s`` of active time since the first trial started,
        pauses between sittings left out, see :func:`active_clock`), ``active_s``, ``n_top``
        (candidates at the top fidelity, references included), ``front_size``, ``front``
        (members: number, reference, arch_id, summary, psnr_db dB, params, mult_adds MACs,
        latency_ms ms, iters, config), ``refs_dominated`` (``{reference: searched candidates
        dominating it}``), ``n_complete``, ``states``, ``schedule``, ``sampler``, ``seed``,
        ``scale``, ``study_wall_s`` (s, first trial start to last trial end), ``data_source``.
    """
    from optuna.trial import TrialState

    from nas.report import build_report_data
    from nas.search.rungs import rung_table
    from nas.search.study import load_existing_study

    study = load_existing_study(None, storage_url(run_dir))
    data = build_report_data(study, run_dir)
    trials = study.get_trials(deepcopy=False)
    by_number = {t.number: t for t in trials}
    table = rung_table(trials, study.user_attrs)
    done_times = sorted(t.datetime_complete for t in trials
                        if t.state == TrialState.COMPLETE and t.datetime_complete is not None)
    events = [t.datetime_start for t in trials] + [t.datetime_complete for t in trials]
    events += [_naive_local(e.at) for r in table.values() for e in r.values()]
    clock, active_s = active_clock(events)
    top_iters = max((p.iters for p in data.complete if p.iters is not None), default=None)
    when: dict[int, tuple[int, _dt.datetime | None]] = {}
    for r in sorted(table):
        for number, e in table[r].items():
            if e.iters == top_iters:
                when[number] = (r, _naive_local(e.at) or by_number[number].datetime_complete)
    history = []
    for h in data.hypervolume:
        rung, at = when.get(h.number, (0, by_number[h.number].datetime_complete if h.number in by_number else None))
        if at is None:
            n_trials = elapsed = None
        else:
            # rung results carry whole seconds: count trials completed before the end of that second
            n_trials = (bisect.bisect_right(done_times, at) if rung == 0
                        else bisect.bisect_left(done_times, at + _dt.timedelta(seconds=1)))
            active = clock(at)
            elapsed = round(active, 1) if active is not None else None
        history.append({"n_top": h.n_complete, "number": h.number, "hypervolume": h.hypervolume,
                        "n_trials": n_trials, "elapsed_s": elapsed})
    refs = {name: sum(1 for p in data.dominated_by(name) if p.reference is None) for name in data.references}
    box_hv = reference_box_hv(data)
    front = [{"number": p.number, "reference": p.reference, "arch_id": p.arch_id, "summary": p.summary,
              "psnr_db": p.psnr_db, "params": p.params, "mult_adds": p.mult_adds, "latency_ms": p.latency_ms,
              "iters": p.iters, "config": p.config} for p in data.front]
    f = data.facts
    return {
        "final_hv": data.final_hypervolume if data.final_hypervolume is not None else (0.0 if data.hv_reference else None),
        "hv_history": history,
        "n_top": len(data.complete),
        "front_size": len(front),
        "front": front,
        "refs_dominated": refs,
        "ref_box_hv": box_hv,
        "linear_box_hv": (linear_box_hv([p.values for p in data.complete], f.scale)
                          if data.hv_reference else None),
        "n_complete": f.states.get("COMPLETE", 0),
        "states": dict(f.states),
        "schedule": schedule_of(f.profile),
        "top_iters": top_iters,
        "sampler": f.sampler,
        "seed": f.seed,
        "scale": f.scale,
        "study_wall_s": f.wall_s,
        "active_s": round(active_s, 1),
        "data_source": f.data_source,
    }


# ---------------------------------------------------------------------------------- summary
#: A pause longer than this between two events of a study (trial start/end, rung result) is a
#: stop between sittings (a kill, a session end), not work: it is left out of the active time.
SITTING_GAP_S = 600.0


def active_clock(events: Iterable[_dt.datetime], gap_s: float = SITTING_GAP_S):
    """``(clock, total_s)``: ``clock(t)`` = seconds of *active* time from the first event to ``t``,
    leaving out every pause longer than ``gap_s`` between consecutive events (a run killed and
    resumed later); ``total_s`` = active time to the last event. ``clock`` is ``None``-safe."""
    ev = sorted(e for e in events if e is not None)
    offsets: list[float] = []  # active seconds at each event
    acc = 0.0
    for i, e in enumerate(ev):
        if i:
            step = (e - ev[i - 1]).total_seconds()
            acc += step if step <= gap_s else 0.0
        offsets.append(acc)

    def clock(t: _dt.datetime | None) -> float | None:
        if t is None or not ev:
            return None
        i = bisect.bisect_right(ev, t) - 1
        if i < 0:
            return 0.0
        step = (t - ev[i]).total_seconds()
        return offsets[i] + (step if step <= gap_s else 0.0)

    return clock, (offsets[-1] if offsets else 0.0)


def median_or_none(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return statistics.median(vals) if vals else None


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or ``None`` when either is missing or ``b <= 0``."""
    if a is None or b is None or not b > 0:
        return None
    return a / b


def reference_box_hv(data: Any) -> float | None:
    """Fraction (0..1) of the *references' box* that the searched candidates dominate.

    The box spans from the ideal point of the scale's normalisation (x4: 40 dB, 1 K params,
    50 M Mult-Adds, 0.1 ms) to the worst reference on each objective at the run's top fidelity
    (lowest PSNR, most params, most Mult-Adds, slowest latency among IMDN, RFDN, RFDN-L,
    E-RFDN), in the scale's normalised (log-cost) space: the region of networks at least as good
    as every published one on every axis. It measures only what a search found beyond the
    published designs. The references themselves are left out; ``None`` when the run
    has no reference at the top fidelity or no scale normalisation.
    """
    import numpy as np

    from nas.front.hypervolume import compute_hypervolume

    ref = data.hv_reference
    refs = [p.values for p in data.complete if p.reference]
    if ref is None or not refs:
        return None
    worst = ref.normalise(refs).max(axis=0)  # losses: the largest on each axis
    searched = [p.values for p in data.complete if not p.reference]
    if not searched or not np.all(worst > 0):
        return 0.0
    return compute_hypervolume(ref.normalise(searched), worst) / float(np.prod(worst))


def linear_box_hv(values: Sequence[Sequence[float]], scale: int) -> float:
    """HV (0..1) of objective vectors ``(psnr_db, params, mult_adds, latency_ms)`` in the *linear
    box* this benchmark used first: the same ideal PSNR and reference point as
    :data:`nas.front.hypervolume.HV_REFERENCES`, but costs linear from 0 (``params / 2e6``,
    ``mult_adds / M_s``, ``latency_ms / 1000``). Kept as a secondary column so the runs scored
    with it before the package moved to log-scaled costs stay comparable; it saturates (the
    four x4 references alone cover about 0.36 of it, any small network at 28 dB most of the rest).
    """
    import numpy as np

    from nas.front.hypervolume import compute_hypervolume, hv_reference

    if not len(values):
        return 0.0
    ref = hv_reference(scale)
    v = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    losses = np.stack([(ref.psnr_ideal_db - v[:, 0]) / (ref.psnr_ideal_db - ref.psnr_ref_db),
                       v[:, 1] / ref.params, v[:, 2] / ref.mult_adds, v[:, 3] / ref.latency_ms], axis=1)
    return compute_hypervolume(losses)


def hv_at(run: dict[str, Any], seconds: float) -> float | None:
    """The run's HV after ``seconds`` of its wall time (history by ``elapsed_s``); 0 before the
    first top-fidelity score, ``None`` without a history."""
    hist = run.get("hv_history")
    if not hist:
        return None
    vals = [h["hypervolume"] for h in hist if h.get("elapsed_s") is not None and h["elapsed_s"] <= seconds]
    return vals[-1] if vals else 0.0


def summarise(runs: Sequence[dict[str, Any]], methods: Sequence[str], baseline: str | None,
              key: str = "final_hv") -> dict[str, dict[str, Any]]:
    """Per method over its scored runs: ``n``, ``median`` / ``min`` / ``max`` of ``run[key]``
    (HV, dimensionless), ``ratio_vs_baseline`` (ratio of medians; ``None`` without a baseline or
    when its median is 0), and medians of ``wall_s`` (s), ``front_size``, ``n_top`` and of each
    reference's ``refs_dominated`` count (runs without a value are left out of that median).
    """
    out: dict[str, dict[str, Any]] = {}
    for m in methods:
        rows = [r for r in runs if r.get("method") == m and r.get(key) is not None]
        vals = [float(r[key]) for r in rows]
        refs = sorted({name for r in rows for name in (r.get("refs_dominated") or {})})
        out[m] = {
            "n": len(vals),
            "median": median_or_none(vals),
            "min": min(vals) if vals else None,
            "max": max(vals) if vals else None,
            "values": vals,
            "median_wall_s": median_or_none(r.get("wall_s") for r in rows),
            "median_front_size": median_or_none(r.get("front_size") for r in rows),
            "median_n_top": median_or_none(r.get("n_top") for r in rows),
            "median_refs_dominated": {n: median_or_none((r.get("refs_dominated") or {}).get(n) for r in rows)
                                      for n in refs},
        }
    base = out.get(baseline, {}).get("median") if baseline else None
    for m in out:
        out[m]["ratio_vs_baseline"] = ratio(out[m]["median"], base) if baseline in out else None
    return out


def schedule_groups(runs: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, list[str]]:
    """Methods by the schedule their runs were scored with:
    ``{"successive halving, 3 rungs, top fidelity 180 steps": [...]}``.
    A method whose runs disagree (should not happen) appears under each."""
    groups: dict[str, list[str]] = {}
    for m in methods:
        for r in runs:
            if r.get("method") != m or not r.get("schedule"):
                continue
            s = r["schedule"]
            # by what the schedule is, not the profile's name (a name can change between versions)
            top = r.get('top_iters') or s.get('top_iters')
            label = (f"successive halving, {s.get('rungs')} rungs, top fidelity {top} steps"
                     if (s.get("rungs") or 1) > 1 else f"one fidelity, {top} steps")
            if m not in groups.setdefault(label, []):
                groups[label].append(m)
    return groups


# ---------------------------------------------------------------------------------- rescoring
class RescoreCache:
    """Retrained PSNRs, one JSON object a line, keyed by (arch_id, profile, scale, data source)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut by a kill
                self.records[rec["key"]] = rec

    @staticmethod
    def key(arch_id: str, profile: dict[str, Any], scale: int, data_source: str) -> str:
        return json.dumps([arch_id, profile, scale, data_source], sort_keys=True)

    def append(self, rec: dict[str, Any]) -> None:
        self.records[rec["key"]] = rec
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())


_RESCORE_WORKER: dict[str, Any] = {}


def _rescore_init(threads: int, scale: int, profile_name: str, device: str) -> None:
    """Rescore worker start: torch threads once; the data is loaded on first use."""
    import torch

    die_with_parent()
    if threads:
        torch.set_num_threads(threads)
    _RESCORE_WORKER.update(scale=scale, profile=profile_name, device=device, data=None)


def _rescore_unit(config: dict[str, Any], number: int) -> dict[str, Any]:
    """Train one front member from scratch with the rescore profile (in a worker process).

    Returns ``psnr_db`` (dB), ``iters``, ``train_s`` (s), ``latency_ms_here`` (ms), ``threads``,
    ``device``, ``data_source``, or ``error`` (``"diverged: ..."``, deterministic) with
    ``psnr_db`` None. Other exceptions propagate (not cached: retried on the next run).
    """
    import torch

    from nas.arch import ArchConfig
    from nas.proxy import get_profile
    from nas.proxy.data import load_proxy_data
    from nas.proxy.train import DivergedError, resolve_device
    from nas.scoring.evaluate import evaluate

    w = _RESCORE_WORKER
    profile = get_profile(w["profile"])
    if w["data"] is None:
        w["data"] = load_proxy_data(w["scale"], profile, None, None)
    dev = resolve_device(w["device"])
    cfg = ArchConfig.from_dict(config, source=f"trial {number}")
    rec: dict[str, Any] = {"threads": torch.get_num_threads(), "device": str(dev),
                           "data_source": w["data"].source, "psnr_db": None, "iters": None, "error": None}
    t0 = time.perf_counter()
    try:
        sc = evaluate(cfg, w["data"], profile, dev)
        rec.update(psnr_db=sc.psnr_db, iters=sc.iters, train_s=round(sc.timings.get("train_s", 0.0), 2),
                   latency_ms_here=round(sc.latency_ms, 3))
    except DivergedError as err:  # deterministic: cached as diverged
        rec["error"] = f"diverged: {err}"
    rec["unit_s"] = round(time.perf_counter() - t0, 2)
    rec["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    return rec


def rescore_runs(runs: list[dict[str, Any]], profile_name: str, scale: int, threads: int, device: str,
                 cache: RescoreCache, jobs: int = 1) -> dict[str, Any]:
    """Retrain every scored run's front members with ``profile_name`` (one training per distinct
    ``arch_id``, from scratch, the profile's seed) and recompute each run's HV.

    The trainings run on ``jobs`` spawned worker processes of ``max(1, threads // jobs)`` torch
    threads each (2 x 1 on 2 cores trains small networks nearly twice as fast as 1 x 2), the
    largest networks (Mult-Adds) first; each result is appended to ``cache`` as it arrives, so a
    killed rescore resumes where it stopped.

    The HV uses the retrained PSNR (dB) with the run's own params, Mult-Adds and latency (the
    costs do not depend on training; the latency stays the one measured in that run). Sets
    ``run["rescored"]`` = ``{"hypervolume", "n_front", "n_rescored", "n_diverged", "members":
    [{"number", "arch_id", "reference", "psnr_db_search", "psnr_db_rescored"}]}``.

    Returns:
        ``{"profile", "data_source", "device", "threads", "jobs", "trained", "cached", "failed",
        "runs_on_other_data"}`` (the last: data sources of runs searched on other images than
        the built-in ones the retraining uses).

    Raises:
        ValueError: ``jobs`` < 1.
    """
    import concurrent.futures as cf
    import multiprocessing

    from nas.front.hypervolume import hypervolume
    from nas.proxy import get_profile
    from nas.proxy.data import load_proxy_data

    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    profile = get_profile(profile_name)
    per_job = max(1, threads // jobs) if threads else 0
    data_source = load_proxy_data(scale, profile, None, None).source
    prof = profile.to_dict()
    members = {}
    for r in runs:
        for p in r.get("front") or []:
            if p.get("config") is not None:
                members.setdefault(p["arch_id"], p)
    todo = [a for a in members if RescoreCache.key(a, prof, scale, data_source) not in cache.records]
    todo.sort(key=lambda a: -float(members[a].get("mult_adds") or 0.0))
    other = sorted({r["data_source"] for r in runs if r.get("data_source") and r["data_source"] != data_source})
    if other:
        print(f"warning: --rescore trains on {data_source}, but runs were searched on {'; '.join(other)}", flush=True)
    print(f"rescore with `{profile.name}` ({profile.iters} steps): {len(members)} distinct front members, "
          f"{len(members) - len(todo)} cached, {len(todo)} to train on {jobs} process(es) x "
          f"{per_job or 'default'} thread(s)", flush=True)
    trained = failed = 0
    if todo:
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_rescore_init,
                                    initargs=(per_job, scale, profile_name, device)) as pool:
            futures = {pool.submit(_rescore_unit, members[a]["config"], members[a]["number"]): a for a in todo}
            try:
                for i, fut in enumerate(cf.as_completed(futures), 1):
                    arch_id = futures[fut]
                    p = members[arch_id]
                    try:
                        res = fut.result()
                    except Exception as err:  # noqa: BLE001 - not cached, retried next time
                        failed += 1
                        print(f"  [{i}/{len(todo)}] {arch_id} FAILED ({type(err).__name__}: {err})", flush=True)
                        continue
                    rec = {"key": RescoreCache.key(arch_id, prof, scale, data_source), "arch_id": arch_id,
                           "profile": prof, "scale": scale, "summary": p["summary"], **res,
                           "data_source": data_source}
                    cache.append(rec)
                    trained += 1
                    what = rec["error"] or f"{rec['psnr_db']:.3f} dB ({p.get('psnr_db') or float('nan'):.3f} in search)"
                    print(f"  [{i}/{len(todo)}] {arch_id} {what}, {rec['unit_s']:.0f} s", flush=True)
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    for r in runs:
        if not r.get("front"):
            r["rescored"] = None
            continue
        rows, values = [], []
        for p in r["front"]:
            rec = cache.records.get(RescoreCache.key(p["arch_id"], prof, scale, data_source))
            psnr = rec.get("psnr_db") if rec else None
            rows.append({"number": p["number"], "arch_id": p["arch_id"], "reference": p["reference"],
                         "psnr_db_search": p["psnr_db"], "psnr_db_rescored": psnr,
                         "diverged": bool(rec and rec.get("error"))})
            if psnr is not None:
                values.append((psnr, float(p["params"]), float(p["mult_adds"]), float(p["latency_ms"])))
        complete = all(x["psnr_db_rescored"] is not None or x["diverged"] for x in rows)
        r["rescored"] = {"hypervolume": hypervolume(values, scale) if complete else None,
                         "n_front": len(rows), "n_rescored": len(values),
                         "n_diverged": sum(x["diverged"] for x in rows), "members": rows}
    return {"profile": prof, "data_source": data_source, "device": device, "threads": per_job or None, "jobs": jobs,
            "trained": trained, "cached": len(members) - len(todo), "failed": failed,
            "runs_on_other_data": other}


# ---------------------------------------------------------------------------------- outputs
def _f(v: float | None, nd: int = 4) -> str:
    return "-" if v is None else f"{v:.{nd}f}"


def _mins(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def fairness_text(result: dict[str, Any]) -> str:
    """The paragraph on which comparisons are like with like."""
    groups = result["schedule_groups"]
    parts = []
    if len(groups) <= 1:
        parts.append("All methods were scored at one schedule"
                     + (f" ({next(iter(groups))})" if groups else "")
                     + ", so their hypervolumes compare like with like (same fidelity, data and reference point).")
    else:
        listing = "; ".join(f"{label}: {', '.join(f'`{m}`' for m in ms)}" for label, ms in groups.items())
        parts.append(f"The methods were scored at different schedules ({listing}). Hypervolumes compare like "
                     "with like only within one schedule: across schedules the PSNR axis is a different "
                     "training length (a network scores lower after fewer steps), so those ratios are not "
                     "a fair comparison.")
        if result.get("rescore"):
            parts.append(f"The rescored table (every final front retrained with `{result['rescore']['profile']['name']}`) "
                         "puts all methods on one scale: use it across schedules.")
        else:
            parts.append("Run again with `--rescore long` to retrain every final front with one profile and "
                         "compare all methods on one scale.")
    parts.append("Latency is measured during each run on this machine, so other load changes it (and the "
                 "hypervolume) a little; compare runs made on one machine under similar load.")
    return " ".join(parts)


def target_text(result: dict[str, Any]) -> str:
    """The verdict on the issue's target (``default`` >= 1.2x the baseline), with its caveats."""
    base = result["settings"]["baseline"]
    s = result["summary"]
    if TARGET_METHOD not in s or not base or base not in s:
        return f"Target (`{TARGET_METHOD}` >= {TARGET_RATIO}x `{base}`): not evaluated (a method is missing)."
    same = any(TARGET_METHOD in ms and base in ms for ms in result["schedule_groups"].values())
    lines = []
    r = s[TARGET_METHOD]["ratio_vs_baseline"]
    verdict = "-" if r is None else ("met" if r >= TARGET_RATIO else "not met")
    lines.append(f"Target: median HV of `{TARGET_METHOD}` >= {TARGET_RATIO}x `{base}`: ratio {_f(r, 2)}, **{verdict}**"
                 + ("" if same else " (different schedules: see the rescored ratio)") + ".")
    rs = result.get("rescore_summary")
    if rs and TARGET_METHOD in rs:
        rr = rs[TARGET_METHOD]["ratio_vs_baseline"]
        lines.append(f"Rescored: ratio {_f(rr, 2)}, **{'-' if rr is None else 'met' if rr >= TARGET_RATIO else 'not met'}**.")
    return " ".join(lines)


def render_markdown(result: dict[str, Any]) -> str:
    """The readable report: per-method summary, per-run table, rescored tables, reference point
    and fairness notes."""
    st = result["settings"]
    base = st["baseline"]
    lines = [f"# Search comparison: hypervolume after {st['budget']} trials, x{st['scale']} (`{st['tag']}`)", "",
             f"{len(st['methods'])} methods x {len(st['seeds'])} seeds ({', '.join(map(str, st['seeds']))}), "
             f"budget {st['budget']} COMPLETE trials (references included), {st['threads'] or 'default'} torch "
             f"thread(s), extra flags `{st['extra_args'] or '-'}`; data: {st['data_source'] or '-'}. "
             f"{st['machine']}, {st['cpu_count']} CPUs, {st['date']}.", "",
             "## Per method", "",
             f"| method | flags | schedule | runs | median HV | min-max | ratio vs `{base}` | median wall time "
             "| median front size | median top-fidelity candidates | median candidates dominating each reference |",
             "|---|---|---|---:|---:|---|---:|---:|---:|---:|---|"]
    sched = {m: label for label, ms in result["schedule_groups"].items() for m in ms}
    for m in st["methods"]:
        s = result["summary"][m["name"]]
        refs = ", ".join(f"{k} {_f(v, 1)}" for k, v in s["median_refs_dominated"].items()) or "-"
        lines.append(f"| `{m['name']}` | `{_md(m['args'])}` | {sched.get(m['name'], '-')} | {s['n']} | "
                     f"{_f(s['median'])} | {_f(s['min'])}-{_f(s['max'])} | {_f(s['ratio_vs_baseline'], 2)} | "
                     f"{_mins(s['median_wall_s'])} | {_f(s['median_front_size'], 1)} | {_f(s['median_n_top'], 1)} | "
                     f"{refs} |")
    lines += ["", target_text(result), ""]
    if result.get("ref_box_summary"):
        t_eq = result.get("equal_time_s")
        has_lin = bool(result.get("linear_box_summary"))
        lines += ["## Secondary measures", "",
                  "*Linear box*: the HV this benchmark used first, same ideal and reference point but costs on "
                  "linear axes from 0; it saturates (the four x4 references alone cover about 0.36 of it, any "
                  "network of a few thousand parameters at 28 dB most of the rest, so every search ended near "
                  "0.63), which is why the package moved to log-scaled costs (`nas.front.hypervolume`). "
                  "*References' box*: the fraction of the box from the ideal point to the worst reference on "
                  "each objective that the searched candidates dominate (what a search found beyond the "
                  "published designs; `reference_box_hv`). *Equal time*: the HV after "
                  f"{_mins(t_eq)} of each run, the wall time of the fastest complete run.", "",
                  (f"| method | runs | median HV, linear box | ratio vs `{base}` " if has_lin else "| method | runs ")
                  + f"| median HV, references' box | ratio vs `{base}` | median HV at {_mins(t_eq)} | ratio vs `{base}` |",
                  ("|---|---:|---:|---:" if has_lin else "|---|---:") + "|---:|---:|---:|---:|"]
        for m in st["methods"]:
            b = result["ref_box_summary"][m["name"]]
            e = result["equal_time_summary"][m["name"]]
            lin = result["linear_box_summary"][m["name"]] if has_lin else None
            lines.append(f"| `{m['name']}` | {b['n']} | "
                         + (f"{_f(lin['median'])} | {_f(lin['ratio_vs_baseline'], 2)} | " if lin else "")
                         + f"{_f(b['median'])} | {_f(b['ratio_vs_baseline'], 2)} | "
                         f"{_f(e['median'])} | {_f(e['ratio_vs_baseline'], 2)} |")
        lines.append("")
    lines += ["## Reference point and fairness", "",
              f"Hypervolume (HV): the fraction (0..1) of the box between the ideal point and the fixed reference "
              f"point of the scale that the run's front dominates, objectives normalised to losses that are 0 at "
              f"the ideal and 1 at the reference point (`nas.front.hypervolume`), computed with Optuna's exact "
              f"(WFG) hypervolume code. Reference point {result['hv_reference'] or '-'}. The front is the "
              "COMPLETE candidates at the run's top fidelity (successive halving: the top rung only). Ratios "
              f"are ratios of medians over seeds, against `{base}`. {fairness_text(result)}", "",
              "## Runs", "",
              "| method | seed | status | HV | HV, linear box | HV, references' box | COMPLETE trials "
              "| top-fidelity candidates | front size | candidates dominating each reference | wall time |",
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in result["runs"]:
        refs = ", ".join(f"{k} {v}" for k, v in (r.get("refs_dominated") or {}).items()) or "-"
        hv = _f(r.get("final_hv")) if r.get("partial_hv") is None else f"({_f(r['partial_hv'])}, partial)"
        lines.append(f"| `{r['method']}` | {r['seed']} | {r['status']} | {hv} | {_f(r.get('linear_box_hv'))} | "
                     f"{_f(r.get('ref_box_hv'))} | "
                     f"{r.get('n_complete', '-')} | {r.get('n_top', '-')} | {r.get('front_size', '-')} | {refs} | "
                     f"{_mins(r.get('wall_s'))} |")
    noted = [r for r in result["runs"] if r.get("note")]
    if noted:
        lines += [""] + [f"- `{r['method']}` seed {r['seed']}: {r['note']}" for r in noted]
    if result.get("rescore"):
        rp = result["rescore"]["profile"]
        lines += ["", f"## Rescored: final fronts retrained with `{rp['name']}` ({rp['iters']} steps)", "",
                  "Every run's final front members retrained from scratch with one profile (seed "
                  f"{rp.get('seed', '-')}), HV recomputed with the retrained PSNR and the run's own costs: "
                  "all methods on one PSNR scale. "
                  f"{result['rescore']['trained']} trained now, {result['rescore']['cached']} from the cache"
                  + (f", {result['rescore']['failed']} failed (run again)" if result['rescore']['failed'] else "")
                  + f". Retrained on: {result['rescore']['data_source']}"
                  + (f" (warning: some runs searched on {'; '.join(result['rescore']['runs_on_other_data'])})"
                     if result['rescore'].get('runs_on_other_data') else "")
                  + ".", "",
                  f"| method | runs | median HV | min-max | ratio vs `{base}` |", "|---|---:|---:|---|---:|"]
        for m in st["methods"]:
            s = result["rescore_summary"][m["name"]]
            lines.append(f"| `{m['name']}` | {s['n']} | {_f(s['median'])} | {_f(s['min'])}-{_f(s['max'])} | "
                         f"{_f(s['ratio_vs_baseline'], 2)} |")
        lines += ["", "| method | seed | HV at search fidelity | HV rescored | front members | retrained | diverged |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in result["runs"]:
            rs = r.get("rescored")
            if rs:
                lines.append(f"| `{r['method']}` | {r['seed']} | {_f(r.get('final_hv'))} | {_f(rs['hypervolume'])} | "
                             f"{rs['n_front']} | {rs['n_rescored']} | {rs['n_diverged']} |")
    else:
        lines += ["", "No rescoring in this report (`--rescore PROFILE` retrains the final fronts with one "
                  "profile: needed to compare methods with different schedules)."]
    runs_dir = Path(st["runs_dir"])
    try:
        runs_dir = runs_dir.relative_to(Path.cwd())
    except ValueError:
        pass
    lines += ["", f"Plot: `search_compare_{st['tag']}.png`. Runs (study, trials.csv, pareto.html, search.log): "
              f"`{runs_dir}` (kept where the benchmark ran, not committed; this file's JSON twin holds every "
              f"run's front and scores). Regenerate: `{st['command']}`."]
    return "\n".join(lines) + "\n"


def render_png(result: dict[str, Any], path: Path) -> None:
    """HV against COMPLETE trials (left) and against wall time in minutes (right), one step line
    per run, one colour per method; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    methods = [m["name"] for m in result["settings"]["methods"]]
    seeds = result["settings"]["seeds"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    labelled: set[str] = set()
    for r in result["runs"]:
        hist = [h for h in r.get("hv_history") or [] if h.get("n_trials") is not None]
        if r.get("final_hv") is None:
            continue
        c = colours[methods.index(r["method"]) % len(colours)] if r["method"] in methods else "grey"
        ls = styles[seeds.index(r["seed"]) % len(styles)] if r["seed"] in seeds else "-"
        label = None if r["method"] in labelled else r["method"]
        labelled.add(r["method"])
        xs = [0] + [h["n_trials"] for h in hist] + [r.get("n_complete") or 0]
        ys = [0.0] + [h["hypervolume"] for h in hist] + [r["final_hv"]]
        axes[0].plot(xs, ys, drawstyle="steps-post", color=c, ls=ls, lw=1.4, label=label)
        ts = [0.0] + [(h["elapsed_s"] or 0.0) / 60 for h in hist] + [(r.get("active_s") or r.get("study_wall_s") or 0.0) / 60]
        axes[1].plot(ts, ys, drawstyle="steps-post", color=c, ls=ls, lw=1.4, label=label)
    st = result["settings"]
    axes[0].set_xlabel("COMPLETE trials (candidates sampled, references included)")
    axes[1].set_xlabel("wall time since the first trial (min)")
    for ax in axes:
        ax.set_ylabel("hypervolume (normalised, fixed reference point)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right", title="method (line style = seed)", title_fontsize=8)
    fig.suptitle(f"Hypervolume of the front, x{st['scale']}, budget {st['budget']} ({st['tag']}); "
                 "each curve steps when a candidate is scored at the run's top fidelity", fontsize=10)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


_jsonable = finite_or_none


# ---------------------------------------------------------------------------------- entry point
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", action="append", metavar='NAME="FLAGS"',
                    help="a method: name and its `nas search` flags; repeat; replaces the default set "
                         f"({', '.join(f'{k}={v!r}' for k, v in DEFAULT_METHODS.items())})")
    ap.add_argument("--budget", type=int, default=200, help="COMPLETE trials per run, references included (default 200)")
    ap.add_argument("--seeds", default="0,1,2", help="sampler seeds, comma-separated (default 0,1,2)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of each run (0: not passed; default 2)")
    ap.add_argument("--scale", type=int, default=4, help="upscaling factor (default 4)")
    ap.add_argument("--extra-args", default="", help='flags appended to every run, e.g. "--references none"')
    ap.add_argument("--baseline", default="random", help="method the ratios are taken against (default random)")
    ap.add_argument("--rescore", default=None, metavar="PROFILE",
                    help="retrain every final front with this proxy profile (e.g. long) and recompute the HV")
    ap.add_argument("--device", default="auto", help="device of the --rescore trainings (default auto)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="worker processes of the --rescore trainings, each with --threads // jobs torch threads "
                         "(default 1; 2 on a 2-core machine trains small networks nearly twice as fast)")
    ap.add_argument("--no-run", action="store_true", help="start no search; score the runs already on disk")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks" / "search_compare")
    ap.add_argument("--tag", default=None, help="name in the output files (default: builtin, or 'custom' "
                                                "when the methods or --extra-args are not the defaults)")
    args = ap.parse_args(None if argv is None else list(argv))
    try:
        args.methods = parse_methods(args.method)
        args.seed_list = parse_seeds(args.seeds)
        args.extra = shlex.split(args.extra_args)
        check_flags(args.extra, "--extra-args")
    except ValueError as err:
        ap.error(str(err))
    if args.budget < 1:
        ap.error("--budget must be at least 1")
    if args.threads < 0:
        ap.error("--threads must be >= 0")
    if args.jobs < 1:
        ap.error("--jobs must be >= 1")
    if args.tag is None:
        args.tag = "builtin" if not args.method and not args.extra else "custom"
    if not _NAME.match(args.tag):
        ap.error("--tag: letters, digits, '_', '.' or '-'")
    args.out_dir = args.out_dir.resolve()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def _term(signum, frame):  # noqa: ARG001 - SIGTERM like Ctrl-C: stop the run cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    t_start = time.perf_counter()
    runs_dir = args.out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    nas = nas_executable()
    names = [m.name for m in args.methods]
    if args.baseline not in names:
        print(f"note: baseline {args.baseline!r} is not among the methods: no ratios", flush=True)
    plan = [(m, s) for s in args.seed_list for m in args.methods]
    records: list[dict[str, Any]] = []
    for i, (m, seed) in enumerate(plan, 1):
        rd = runs_dir / run_name(m.name, seed)
        cmd = search_command(m, seed, args.budget, args.scale, args.threads, args.extra, rd, nas)
        shown = shlex.join(search_command(m, seed, args.budget, args.scale, args.threads, args.extra,
                                          _display_path(rd)))
        meta = _read_json(rd / RUN_META) or {}
        want = {"method": m.name, "args": list(m.args), "extra": list(args.extra), "scale": args.scale}
        if meta and any(meta.get(k) != v for k, v in want.items()):
            print(f"error: {rd} holds a run made with other flags ({ {k: meta.get(k) for k in want} }); "
                  "use another --out-dir or remove that folder", file=sys.stderr)
            return 2
        meta = {**meta, **want, "seed": seed}
        state = run_state(rd, args.budget)
        status = "skipped"
        if not state["done"] and not args.no_run:
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']}; running `{shown}`", flush=True)
            meta["budget"] = args.budget
            attempt = execute_run(cmd, rd, meta)
            state = run_state(rd, args.budget)
            status = "ran" if state["done"] else "failed"
            print(f"    rc {attempt['rc']}, {attempt['wall_s']:.0f} s; {state['reason']}", flush=True)
            if not state["done"]:
                print(_log_tail(rd), flush=True)
        elif not state["done"]:
            status = "incomplete"
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']} (--no-run)", flush=True)
        else:
            print(f"[{i}/{len(plan)}] {m.name} seed {seed}: {state['reason']}, not rerun", flush=True)
        rec: dict[str, Any] = {"method": m.name, "seed": seed, "run_dir": _display_path(rd).as_posix(),
                               "command": shown, "status": status, "state": state}
        attempts = meta.get("attempts") or []
        rec["wall_s"] = round(sum(a.get("wall_s") or 0.0 for a in attempts), 1) if attempts else None
        rec["attempts"] = len(attempts)
        if meta.get("note"):  # e.g. a run adopted from elsewhere: where from, what differs
            rec["note"] = str(meta["note"])
        if state["n_complete"] > 0:
            scored_run = score_run(rd)
            scored_run["study_seed"] = scored_run.pop("seed", None)  # the sampler seed the study recorded
            rec.update(scored_run)
            # The attempts' sum misses a sitting whose bookkeeping was lost (a hard kill); the study's
            # active time (pauses > SITTING_GAP_S left out) misses only process start-up: take the larger.
            rec["wall_s"] = max(rec["wall_s"] or 0.0, rec.get("active_s") or 0.0) or rec.get("study_wall_s")
            if rec["n_complete"] > args.budget:
                print(f"    note: {rec['n_complete']} COMPLETE trials, more than --budget {args.budget}", flush=True)
        if status in ("failed", "incomplete"):  # scored for the record, not counted in the medians
            rec["partial_hv"] = rec.pop("final_hv", None)
            rec["final_hv"] = None
        records.append(rec)

    from nas.front.hypervolume import hv_reference

    ref = hv_reference(args.scale)
    sources = sorted({r["data_source"] for r in records if r.get("data_source")})
    settings = {
        "tag": args.tag, "budget": args.budget, "seeds": args.seed_list, "scale": args.scale,
        "threads": args.threads, "extra_args": shlex.join(args.extra), "baseline": args.baseline,
        "methods": [{"name": m.name, "args": m.args_text} for m in args.methods],
        "rescore_profile": args.rescore, "data_source": "; ".join(sources),
        "runs_dir": _display_path(runs_dir).as_posix(), "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "command": ".venv/bin/python benchmarks/search_compare.py "
                   + shlex.join(sys.argv[1:] if argv is None else list(argv)),
    }
    result: dict[str, Any] = {
        "settings": settings,
        "hv_reference": ref.describe(),
        "hv_reference_point": {"psnr_ideal_db": ref.psnr_ideal_db, "psnr_ref_db": ref.psnr_ref_db,
                               "params": ref.params, "mult_adds": ref.mult_adds, "latency_ms": ref.latency_ms,
                               "params_ideal": ref.params_ideal, "mult_adds_ideal": ref.mult_adds_ideal,
                               "latency_ideal_ms": ref.latency_ideal_ms, "cost_axes": "log"},
        "runs": records,
        "summary": summarise(records, names, args.baseline),
        "schedule_groups": schedule_groups(records, names),
        "target": {"method": TARGET_METHOD, "baseline": args.baseline, "ratio": TARGET_RATIO},
    }
    if args.rescore:
        scored = [r for r in records if r.get("final_hv") is not None]
        cache = RescoreCache(args.out_dir / f"search_compare_{args.tag}.rescore.jsonl")
        result["rescore"] = rescore_runs(scored, args.rescore, args.scale, args.threads, args.device, cache,
                                          jobs=args.jobs)
        for r in records:
            r["rescored_hv"] = (r.get("rescored") or {}).get("hypervolume")
        result["rescore_summary"] = summarise(records, names, args.baseline, key="rescored_hv")
    # Secondary measures (the fixed box saturates, see render_markdown): the references' box, and
    # HV at equal wall time (the shortest complete run's), both over the scored runs.
    scored_runs = [r for r in records if r.get("final_hv") is not None]
    t_equal = min((r["wall_s"] for r in scored_runs if r.get("wall_s")), default=None)
    for r in records:
        r["hv_at_equal_time"] = hv_at(r, t_equal) if t_equal and r.get("final_hv") is not None else None
    result["equal_time_s"] = t_equal
    result["ref_box_summary"] = summarise(scored_runs, names, args.baseline, key="ref_box_hv")
    result["equal_time_summary"] = summarise(scored_runs, names, args.baseline, key="hv_at_equal_time")
    result["linear_box_summary"] = summarise(scored_runs, names, args.baseline, key="linear_box_hv")
    result["notes"] = {"fairness": fairness_text(result), "target": target_text(result)}
    settings["wall_s"] = round(time.perf_counter() - t_start, 1)

    for r in records:  # configs stay in the studies; the JSON names arch_ids
        for p in r.get("front") or []:
            p.pop("config", None)
    tag = args.tag
    write_atomic(args.out_dir / f"search_compare_{tag}.json", json.dumps(_jsonable(result), indent=1) + "\n")
    write_atomic(args.out_dir / f"search_compare_{tag}.md", render_markdown(result))
    render_png(result, args.out_dir / f"search_compare_{tag}.png")
    print(render_markdown(result).split("## Reference point")[0].rstrip())
    print(f"\nwrote {args.out_dir}/search_compare_{tag}.{{json,md,png}}", flush=True)
    return 0


def _display_path(p: Path) -> Path:
    """``p`` relative to the repository when inside it (commands and reports stay portable)."""
    try:
        return Path(p).resolve().relative_to(ROOT)
    except ValueError:
        return Path(p)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        sys.exit(130)
