"""Benchmark: latency on ONNX Runtime against torch eager over the reference zoo, and their rank agreement.

Deployers time the runtime they ship, not PyTorch eager (issue 20). For every entry of
``nas.arch.REFERENCES`` at ``--scale`` (default x4), in its deploy form (``nas.models.deploy.deploy_model``:
ECB / Conv3XC merged by ``reparameterize_model``, AWSRN's weight norm folded; the graph a user ships):

* torch eager latency: ``nas.metrics.measure_latency`` (channels_last, ``torch.inference_mode``);
* ONNX Runtime latency: ``nas.metrics.onnx_latency.measure_onnx_latency`` (the same model exported
  with the legacy TorchScript exporter, opset 17, CPUExecutionProvider, ORT_ENABLE_ALL,
  ``intra_op_num_threads`` = the torch thread count, ``inter_op_num_threads`` = 1);

each the median of ``--repeats`` passes after ``--warmup`` passes on an ``--lr`` x ``--lr`` LR input,
and that ``--runs`` times, torch and ORT alternating so that a change of machine load hits both;
the table gives the median of the run medians. The first ``--threads`` count is measured over the
whole zoo before the next. Then the ratio ORT / torch per network and Spearman's
rho and Kendall's tau (``scipy.stats``) between the two rankings, for each ``--threads`` setting.
Before timing, the ORT output on the benchmark input is compared with torch's (max abs difference).

The CPUs may be shared: run it under the machine's CPU lock, ``flock /tmp/nas-cpu.lock <command>``;
the script records whether the lock was held by one of its ancestors (``/proc/locks``), the load
average and the busiest processes before and after. Work that ignores the lock can still run, so
before each measurement it waits (at most ``--max-wait`` s) for the other processes to use at most
10 % of the cores, and it times a measurement again when they used more than 25 % during it
(``nas.metrics.quiet.cpu_load``, the search's retry rule); each measurement's share is recorded.

Writes ``<out-dir>/onnx_latency.{md,json}`` (the JSON after every network, so a killed run keeps
what it measured). Run:
``flock /tmp/nas-cpu.lock .venv/bin/python benchmarks/onnx_latency.py --threads 2,1``;
``--render results/benchmarks/onnx_latency.json`` rewrites the .md only (and with ``--replicate
OTHER.json``, a second run's results, adds the run-to-run agreement).

Code: the CPU lock, the wait for a quiet machine and the retry of loaded measurements are
``_quiet.py``; Spearman / Kendall with p-values ``_stats.rank_agreement``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import write_atomic  # noqa: E402
from _quiet import (LOADED_RETRIES, LOADED_SHARE, LOCK, QUIET_SHARE, busiest_processes,  # noqa: E402
                    least_loaded, lock_holder)
from _stats import rank_agreement  # noqa: E402


def machine() -> dict[str, Any]:
    import onnxruntime as ort
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from nas.metrics.quiet import usable_cores

    return {"cpu": cpu, "cpu_count": os.cpu_count(), "usable_cores": usable_cores(), "python": platform.python_version(),
            "torch": torch.__version__, "onnxruntime": ort.__version__, "platform": platform.platform()}


def output_check(model, colors: int, lr: int) -> dict[str, Any]:
    """Export once (the exporter used) and compare ORT's output with torch's on one input."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from nas.metrics.onnx_latency import export_onnx

    x = torch.rand(1, colors, lr, lr)
    t = time.perf_counter()
    data, exporter = export_onnx(model, x)
    export_s = time.perf_counter() - t
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        ref = model(x).numpy()
    return {"exporter": exporter, "export_s": round(export_s, 2), "onnx_mb": round(len(data) / 2 ** 20, 2),
            "max_abs_diff": float(np.abs(y - ref).max())}


def deploy_network(name: str, scale: int):
    """``(deploy form, colors)`` of a zoo network (weights seeded with 0)."""
    import torch

    from nas.arch import reference_config
    from nas.models import build_model
    from nas.models.deploy import deploy_model

    torch.manual_seed(0)
    config = reference_config(name, scale)
    return deploy_model(build_model(config)), config.colors


def measure_network(model, colors: int, lr: int, threads: int, runs: int, warmup: int, repeats: int,
                    max_wait_s: float) -> dict[str, Any]:
    """``runs`` torch and ``runs`` ORT measurements of ``model`` at ``threads`` threads, alternating
    (so that a change of load hits both runtimes), each after waiting for a quiet machine; the
    medians of the run medians and their ratio."""
    import torch

    from nas.metrics import measure_latency
    from nas.metrics.onnx_latency import measure_onnx_latency
    from nas.metrics.quiet import cpu_load

    torch.set_num_threads(threads)
    torch_runs, ort_runs = [], []
    with cpu_load() as probe:
        for _ in range(runs):
            torch_runs.append(least_loaded(lambda: measure_latency(
                model, lr_hw=(lr, lr), in_channels=colors, warmup=warmup, repeats=repeats, channels_last=True),
                max_wait_s))
            ort_runs.append(least_loaded(lambda: measure_onnx_latency(
                model, lr_hw=(lr, lr), in_channels=colors, warmup=warmup, repeats=repeats, threads=threads),
                max_wait_s))
    tm = statistics.median(r["ms"] for r in torch_runs)
    om = statistics.median(r["ms"] for r in ort_runs)
    return {"torch_ms": tm, "ort_ms": om, "ratio": om / tm, "torch_runs": torch_runs, "ort_runs": ort_runs,
            "load": probe.result.to_dict()}


def summarise(result: dict[str, Any]) -> None:
    """Per thread count: the ratio range and the rank agreement (in place)."""
    rows = result["rows"]
    result["summary"] = {}
    for t in result["args"]["threads"]:
        rs = [r for r in rows if str(t) in r["by_threads"]]
        if len(rs) < 3:
            continue
        torch_ms = [r["by_threads"][str(t)]["torch_ms"] for r in rs]
        ort_ms = [r["by_threads"][str(t)]["ort_ms"] for r in rs]
        ratios = [r["by_threads"][str(t)]["ratio"] for r in rs]
        discordant = []
        for i in range(len(rs)):
            for j in range(i + 1, len(rs)):
                if (torch_ms[i] - torch_ms[j]) * (ort_ms[i] - ort_ms[j]) < 0:
                    gap = max(torch_ms[i], torch_ms[j]) / min(torch_ms[i], torch_ms[j]) - 1
                    discordant.append({"pair": [rs[i]["name"], rs[j]["name"]], "torch_ms": [torch_ms[i], torch_ms[j]],
                                       "ort_ms": [ort_ms[i], ort_ms[j]], "torch_gap": gap})
        discordant.sort(key=lambda d: -d["torch_gap"])
        kept = [m for r in rs for key in ("torch_runs", "ort_runs") for m in r["by_threads"][str(t)][key]]
        result["summary"][str(t)] = {**rank_agreement(torch_ms, ort_ms), "ratio_min": min(ratios),
                                     "ratio_median": statistics.median(ratios), "ratio_max": max(ratios),
                                     "measurements": len(kept),
                                     "retried": sum(m["attempts"] > 1 for m in kept),
                                     "kept_loaded": sum(m["others_share"] > LOADED_SHARE for m in kept),
                                     "others_share_median": statistics.median(m["others_share"] for m in kept),
                                     "others_share_max": max(m["others_share"] for m in kept),
                                     "wait_s": sum(m.get("wait_s", 0.0) for m in kept),
                                     "pairs": len(rs) * (len(rs) - 1) // 2, "discordant": discordant,
                                     "ort_faster": sum(o < t_ for o, t_ in zip(ort_ms, torch_ms)),
                                     "ratio_range_under_5ms": _range([q for q, tm in zip(ratios, torch_ms) if tm < 5]),
                                     "ratio_range_5ms_up": _range([q for q, tm in zip(ratios, torch_ms) if tm >= 5])}


def _range(xs: list[float]) -> list[float] | None:
    return [min(xs), max(xs), len(xs)] if xs else None


def replicate_agreement(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """How far a second run ``b`` reproduces run ``a``: per thread count, the rank agreement of the
    two runs' torch latencies, of their ORT latencies, and ``b``'s own torch-vs-ORT agreement (the
    run-to-run agreement is the noise floor the torch-vs-ORT agreement is read against), and the
    median |b / a - 1| of the latencies."""
    out: dict[str, Any] = {"date": b["date"], "lock_by_ancestor": b["lock"].get("by_ancestor"), "by_threads": {}}
    rows_b = {r["name"]: r for r in b["rows"]}
    for t in a["args"]["threads"]:
        names = [r["name"] for r in a["rows"] if str(t) in r["by_threads"]
                 and str(t) in rows_b.get(r["name"], {}).get("by_threads", {})]
        if len(names) < 3:
            continue
        rows_a = {r["name"]: r for r in a["rows"]}
        get = lambda rows, key: [rows[n]["by_threads"][str(t)][key] for n in names]  # noqa: E731
        ta, tb, oa, ob = get(rows_a, "torch_ms"), get(rows_b, "torch_ms"), get(rows_a, "ort_ms"), get(rows_b, "ort_ms")
        out["by_threads"][str(t)] = {
            "n": len(names), "torch_vs_torch": rank_agreement(ta, tb), "ort_vs_ort": rank_agreement(oa, ob),
            "torch_vs_ort_b": rank_agreement(tb, ob),
            "torch_rel_diff_median": statistics.median(abs(y / x - 1) for x, y in zip(ta, tb)),
            "ort_rel_diff_median": statistics.median(abs(y / x - 1) for x, y in zip(oa, ob))}
    return out


def render(result: dict[str, Any], out_dir: Path) -> None:
    """Write ``onnx_latency.md`` from the measurements."""
    summarise(result)  # also for a JSON a killed run left behind
    a, m, lock = result["args"], result["machine"], result["lock"]
    rows = sorted(result["rows"], key=lambda r: r["params"])
    failed = result.get("failed", {})
    exporters = sorted({r["exporter"] for r in rows})
    lock_line = (f"The run held the CPU lock `{lock['path']}` (taken by its `flock` wrapper, pid "
                 f"{', '.join(str(h['pid']) for h in lock['holders'])}): test runs that take the lock waited; work "
                 f"that does not take it could still run (see the load below)." if lock.get("by_ancestor") else
                 f"**The CPU lock `{lock['path']}` was not held by this run** (holders: {lock.get('holders')}); "
                 f"other work may have overlapped it.")
    lines = [
        f"# Latency on ONNX Runtime against torch eager (zoo, x{a['scale']})", "",
        f"`benchmarks/onnx_latency.py`, {result['date']}. Every `REFERENCES` network at x{a['scale']} in its deploy "
        f"form (`deploy_model`: ECB / Conv3XC merged, weight norm folded), LR input {a['lr']}x{a['lr']} "
        f"(1 x C x {a['lr']} x {a['lr']}, C = 1 for the Y-only ECBSR), random weights (latency does not depend on them). "
        f"**torch**: `measure_latency` (eager, channels_last, `inference_mode`, torch {m['torch']}). **ORT**: "
        f"`measure_onnx_latency` (exported by the {' / '.join(exporters)} exporter"
        f"{', opset 17' if exporters == ['torchscript'] else ''}, onnxruntime {m['onnxruntime']} "
        f"CPUExecutionProvider, ORT_ENABLE_ALL, `intra_op_num_threads` = the torch thread count, "
        f"`inter_op_num_threads` = 1). Each number is the median of {a['runs']} runs, each the median of "
        f"{a['repeats']} passes after {a['warmup']} warm-up passes; torch and ORT runs alternate. "
        f"Ratio = ORT ms / torch ms (< 1: ORT faster); max other load: the largest share of the cores other "
        f"processes used during a kept measurement of that network.", "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores, Python {m['python']}, {m['platform']}. {lock_line} "
        f"Load average (1 min) before / after: {result['loadavg_before'][0]:.2f} / {result['loadavg_after'][0]:.2f}. "
        f"Before each measurement the script waits (at most {a.get('max_wait_s', 0):.0f} s) until other processes use "
        f"at most {a.get('quiet_share', QUIET_SHARE):.0%} of the cores in two consecutive 0.3 s windows; a measurement "
        f"during which they used over {LOADED_SHARE:.0%} (`nas.metrics.quiet.cpu_load`) is taken again, after "
        f"another wait, up to {LOADED_RETRIES} times, the least loaded kept (the search's rule). "
        + "; ".join(f"{t} thread(s): waited {s.get('wait_s', 0):.0f} s in all, {s['retried']} of {s['measurements']} "
                    f"measurements retried, {s['kept_loaded']} kept over {LOADED_SHARE:.0%}, other processes' share "
                    f"median {s['others_share_median']:.0%}, max {s['others_share_max']:.0%}"
                    for t, s in result["summary"].items())
        + f" (per measurement in the JSON; the share is read from 10 ms jiffies, coarse for the smallest networks). "
        f"Busiest other processes before the run (`ps`, lifetime %CPU): "
        f"{'; '.join('`' + p + '`' for p in result['busiest_before'][:3])}; after: "
        f"{'; '.join('`' + p + '`' for p in result.get('busiest_after', [])[:3])}.", "",
    ]
    for t in a["threads"]:
        s = result["summary"].get(str(t))
        if s is None:
            continue
        lines += [f"## {t} thread{'s' if t > 1 else ''}", "",
                  f"ORT / torch ratio {s['ratio_min']:.2f}-{s['ratio_max']:.2f} (median {s['ratio_median']:.2f}) over "
                  f"{s['n']} networks. Rank agreement of the two latencies: **Spearman rho {s['spearman']:.3f}** "
                  f"(p {s['spearman_p']:.1g}), **Kendall tau {s['kendall']:.3f}** (p {s['kendall_p']:.1g}). "
                  f"ORT is faster on {s['ort_faster']} of {s['n']}. {len(s['discordant'])} of {s['pairs']} pairs of "
                  f"networks swap order between the runtimes"
                  + (f"; the widest swap is {s['discordant'][0]['pair'][0]} / {s['discordant'][0]['pair'][1]}, "
                     f"{s['discordant'][0]['torch_gap']:.0%} apart in torch "
                     f"({s['discordant'][0]['torch_ms'][0]:.2f} / {s['discordant'][0]['torch_ms'][1]:.2f} ms; ORT "
                     f"{s['discordant'][0]['ort_ms'][0]:.2f} / {s['discordant'][0]['ort_ms'][1]:.2f} ms)"
                     if s["discordant"] else "") + "."
                  + (f" Networks under 5 ms in torch ({s['ratio_range_under_5ms'][2]}): ratio "
                     f"{s['ratio_range_under_5ms'][0]:.2f}-{s['ratio_range_under_5ms'][1]:.2f}; 5 ms and over "
                     f"({s['ratio_range_5ms_up'][2]}): {s['ratio_range_5ms_up'][0]:.2f}-{s['ratio_range_5ms_up'][1]:.2f}."
                     if s.get("ratio_range_under_5ms") and s.get("ratio_range_5ms_up") else ""), "",
                  "| network | params | torch ms | ORT ms | ratio | torch rank | ORT rank | max other load |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        ts = [r for r in rows if str(t) in r["by_threads"]]
        t_rank = {r["name"]: i + 1 for i, r in enumerate(sorted(ts, key=lambda r: r["by_threads"][str(t)]["torch_ms"]))}
        o_rank = {r["name"]: i + 1 for i, r in enumerate(sorted(ts, key=lambda r: r["by_threads"][str(t)]["ort_ms"]))}
        for r in ts:
            b = r["by_threads"][str(t)]
            lines.append(f"| {r['name']} | {r['params']:,} | {b['torch_ms']:.2f} | {b['ort_ms']:.2f} | "
                         f"{b['ratio']:.2f} | {t_rank[r['name']]} | {o_rank[r['name']]} | "
                         f"{max(m['others_share'] for m in b['torch_runs'] + b['ort_runs']):.0%} |")
        lines.append("")
    rep = result.get("replicate")
    if rep and rep["by_threads"]:
        lines += ["## Run-to-run agreement", "",
                  f"A second run of the same command ({rep['date']}, "
                  f"{'lock held' if rep['lock_by_ancestor'] else 'lock NOT held'}), against this one: how well each "
                  f"runtime ranks the zoo the same way twice, the noise floor for the torch-vs-ORT agreement above. Within "
                  f"a run torch and ORT are timed in alternation, so a slow spell of the machine hits both; across "
                  f"runs it does not, so the run-to-run agreement can be the lower one.", "",
                  "| threads | torch run 1 vs 2: rho / tau | ORT run 1 vs 2: rho / tau | run 2 torch vs ORT: rho / tau "
                  "| median change torch / ORT |", "|---:|---|---|---|---|"]
        for t, g in rep["by_threads"].items():
            lines.append(f"| {t} | {g['torch_vs_torch']['spearman']:.3f} / {g['torch_vs_torch']['kendall']:.3f} | "
                         f"{g['ort_vs_ort']['spearman']:.3f} / {g['ort_vs_ort']['kendall']:.3f} | "
                         f"{g['torch_vs_ort_b']['spearman']:.3f} / {g['torch_vs_ort_b']['kendall']:.3f} | "
                         f"{g['torch_rel_diff_median']:.1%} / {g['ort_rel_diff_median']:.1%} |")
        lines.append("")
    worst = max(rows, key=lambda r: r["max_abs_diff"]) if rows else None
    used = ", ".join(f"{e}: {sum(r['exporter'] == e for r in rows)}" for e in exporters)
    lines += ["## Export", "",
              f"{len(rows)} networks exported ({used}); "
              f"export took {min(r['export_s'] for r in rows):.2f}-{max(r['export_s'] for r in rows):.2f} s. "
              f"ORT output against torch on the benchmark input: max abs difference "
              f"{worst['max_abs_diff']:.1e} ({worst['name']})." if rows else "No network measured.",
              ""]
    if failed:
        lines += ["Failed:", "", *[f"* {k}: {v}" for k, v in failed.items()], ""]
    write_atomic(out_dir / "onnx_latency.md", "\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="2", help="comma-separated thread counts, e.g. 2,1")
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--lr", type=int, default=64, help="LR input side (px)")
    ap.add_argument("--runs", type=int, default=5, help="measurements per network and runtime (median taken)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--max-wait", type=float, default=20.0,
                    help="seconds to wait for a quiet machine before each measurement (then measure anyway)")
    ap.add_argument("--names", default=None, help="comma-separated subset of the references")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    ap.add_argument("--render", metavar="JSON", type=Path, help="only rewrite the .md from an earlier .json")
    ap.add_argument("--replicate", metavar="JSON", type=Path,
                    help="with --render: a second run's .json, to report run-to-run agreement")
    args = ap.parse_args()
    if args.render:
        result = json.loads(args.render.read_text())
        if args.replicate:
            result["replicate"] = replicate_agreement(result, json.loads(args.replicate.read_text()))
        render(result, args.render.parent)  # re-summarises
        write_atomic(args.render, json.dumps(result, indent=1) + "\n")
        return
    from nas.arch import REFERENCES
    from nas.metrics import quiet
    from nas.scoring import evaluate

    if (quiet.LOADED_SHARE, evaluate.LOADED_RETRIES) != (LOADED_SHARE, LOADED_RETRIES):
        sys.exit("update LOADED_SHARE / LOADED_RETRIES here to the library's")
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    names = [n.strip() for n in args.names.split(",")] if args.names else \
        [n for n, r in REFERENCES.items() if args.scale in r.scales]
    lock = lock_holder()
    if not lock["by_ancestor"]:
        print(f"warning: not run under `flock {LOCK}`; the table will say so", file=sys.stderr)
    result: dict[str, Any] = {
        "args": {"threads": threads, "scale": args.scale, "lr": args.lr, "runs": args.runs, "warmup": args.warmup,
                 "repeats": args.repeats, "names": names,
                 "max_wait_s": args.max_wait, "quiet_share": QUIET_SHARE},
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), "lock": lock,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()], "busiest_before": busiest_processes(),
        "rows": [], "failed": {}}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    for t in threads:  # the first thread count over the whole zoo first: a cut-short run still has one table
        for name in names:
            if name in result["failed"]:
                continue
            try:
                model, colors = deploy_network(name, args.scale)
                if name not in rows:
                    from nas.metrics import count_params

                    rows[name] = {"name": name, "colors": colors, "params": count_params(model),
                                  **output_check(model, colors, args.lr), "by_threads": {}}
                    result["rows"].append(rows[name])
                b = measure_network(model, colors, args.lr, t, args.runs, args.warmup, args.repeats, args.max_wait)
            except Exception as e:  # noqa: BLE001 - an export failure is a result: record it, carry on
                result["failed"][name] = f"{type(e).__name__}: {e}"
                print(f"{name}: FAILED {result['failed'][name]}", flush=True)
                continue
            rows[name]["by_threads"][str(t)] = b
            print(f"{t} thread(s) {name} {rows[name]['params']} {rows[name]['exporter']} "
                  f"diff {rows[name]['max_abs_diff']:.1e}: torch {b['torch_ms']:.2f} ms, ORT {b['ort_ms']:.2f} ms, "
                  f"ratio {b['ratio']:.2f}, waited {sum(m['wait_s'] for m in b['torch_runs'] + b['ort_runs']):.0f} s",
                  flush=True)
            result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            write_atomic(args.out_dir / "onnx_latency.json", json.dumps(result, indent=1) + "\n")
    result["wall_s"] = round(time.perf_counter() - start, 1)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    result["busiest_after"] = busiest_processes()
    result["lock_at_end"] = lock_holder()
    summarise(result)
    write_atomic(args.out_dir / "onnx_latency.json", json.dumps(result, indent=1) + "\n")
    render(result, args.out_dir)
    print((args.out_dir / "onnx_latency.md").read_text())


if __name__ == "__main__":
    main()
