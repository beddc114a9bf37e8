"""``benchmarks/search_compare.py``, part 2: scoring a run and summarising the methods.

:func:`score_run` reads a run's study with :func:`nas.report.build_report_data` (the code of
``nas report``, no torch): its hypervolume (HV) and HV history, front, and the secondary measures
(:func:`reference_box_hv`, :func:`linear_box_hv`; :func:`hv_at` for the HV at equal wall time).
:func:`summarise` takes per method the median over seeds and the ratio against the baseline;
:func:`schedule_groups` says which methods were scored at the same fidelity.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
import statistics
from pathlib import Path
from typing import Any, Iterable, Sequence

from _search_runs import storage_url


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
