"""``benchmarks/search_compare.py``, part 4: the report.

:func:`render_markdown` writes ``search_compare_<tag>.md`` (per-method summary, the target's
verdict, secondary measures, per-run table, rescored tables, reference point and fairness notes);
:func:`render_png` the HV curves against COMPLETE trials and against wall time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _common import save_figure_atomic

#: The target of the issue: median HV of ``default`` >= 1.2x that of random search.
TARGET_METHOD, TARGET_RATIO = "default", 1.2


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
    save_figure_atomic(fig, path, dpi=110)
