"""The reference zoo table: params, Mult-Adds, CPU latency, and PSNR / SSIM of released weights.

For every entry of ``nas.arch.REFERENCES`` at every scale it exists at:
  * parameters (exact; re-parameterisable networks, ECBSR and SPAN, also in their deploy form),
    Mult-Adds (fvcore MACs for a 1280x720 HR output; deploy form, as the ECBSR paper counts), CPU latency (ms, median of 10 forward
    passes after 3 warm-up passes, LR input 64x64, deploy form, ``--threads`` torch threads);
  * where weights exist (``../shared/checkpoints/official``: IMDN x2/x3/x4, IMDN_RTC x2; more with
    ``--weights NAME:SCALE:PATH``), PSNR / SSIM on the Y channel measured by running
    ``nas eval --json`` (a subprocess) on Set5 / Set14 / B100 next to the paper's numbers; B100 also
    with ``--bicubic-lr`` (LR made by our MATLAB-compatible bicubic instead of the shipped LR), and
    Set5 / Set14 also with ``--y-rounded`` (the Y rounding of Zheng222/IMDN ``test_IMDN.py``);
  * the mean absolute difference (grey levels) between our bicubic LR and the shipped LR.

Writes ``results/zoo.md`` and ``results/zoo.json``. Run:
``.venv/bin/python benchmarks/zoo_table.py [--threads 1] [--no-eval] [--weights erfdn:4:RFDN_AIM.pth]``;
``--carry-quality`` keeps the PSNR rows of the previous ``zoo.json`` whose weights are not on this
machine now (E-RFDN's ``RFDN_AIM.pth`` is not in ``../shared``), each marked with its date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nas.arch import REFERENCES, reference_config  # noqa: E402
from nas.data import bicubic_downscale, load_folder  # noqa: E402
from nas.metrics import count_params, measure_latency, mult_adds  # noqa: E402
from nas.models import build_model  # noqa: E402
from nas.scoring.evaluate import deploy_form  # noqa: E402

SHARED = Path(os.environ.get("NAS_SHARED_DIR", REPO.parent / "shared"))

#: Paper Y-channel PSNR / SSIM (shared/reference_models.md §1: IMDN authors' poster table).
PAPER = {
    ("imdn", 2): {"Set5": (38.00, 0.9605), "Set14": (33.63, 0.9177), "B100": (32.19, 0.8996)},
    ("imdn", 3): {"Set5": (34.36, 0.9270), "Set14": (30.32, 0.8417), "B100": (29.09, 0.8046)},
    ("imdn", 4): {"Set5": (32.21, 0.8948), "Set14": (28.58, 0.7811), "B100": (27.56, 0.7353)},
}

OFFICIAL_WEIGHTS = [("imdn", 2, "IMDN_x2.pth"), ("imdn", 3, "IMDN_x3.pth"), ("imdn", 4, "IMDN_x4.pth"),
                    ("imdn_rtc", 2, "model_RTC.pth")]


def background_load() -> str:
    """Other python processes using the CPU right now (e.g. a `nas search`), for the record."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,args", "--sort=-pcpu"], capture_output=True, text=True).stdout
    except OSError:
        return "unknown"
    me = os.getpid()
    busy = []
    for line in out.splitlines()[1:]:
        pid, pcpu, args = (line.split(None, 2) + ["", "", ""])[:3]
        if "python" in args and pid != str(me) and float(pcpu or 0) > 20:
            busy.append(f"`{args.replace('/work/main/', '')[:110]}` ({float(pcpu):.0f} % CPU)")
    return "; ".join(busy) or "none"


def costs(threads: int) -> list[dict]:
    torch.set_num_threads(threads)
    rows = []
    for name, ref in REFERENCES.items():
        for s in ref.scales:
            cfg = reference_config(name, s)
            model = build_model(cfg).eval()
            deployed = deploy_form(model)  # ECB and SPAN's Conv3XC merged, as the search scores them
            reparam = deployed is not model
            lat = measure_latency(deployed, lr_hw=(64, 64), in_channels=cfg.colors, warmup=3, repeats=10)
            rows.append({
                "name": name, "title": ref.title, "scale": s, "colors": cfg.colors,
                "params": count_params(model),
                "params_deploy": count_params(deployed) if reparam else None,
                "mult_adds": mult_adds(deployed, s, in_channels=cfg.colors),
                "latency_ms": round(lat.median_ms, 2), "latency_iqr_ms": round(lat.iqr_ms, 2),
                "threads": lat.threads, "summary": cfg.summary(),
            })
            print(f"{name} x{s}: {rows[-1]['params']:,} params, {rows[-1]['mult_adds'] / 1e9:.2f} G, "
                  f"{rows[-1]['latency_ms']} ms", flush=True)
    return rows


def nas_eval(name: str, scale: int, weights: Path, datasets: list[Path], threads: int, *flags: str) -> dict:
    cmd = [sys.executable, "-m", "nas.cli", "eval", "--reference", name, "--scale", str(scale), "--weights",
           str(weights), "--json", *flags]
    for d in datasets:
        cmd += ["--data", str(d)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    print(f"  nas eval {name} x{scale} {' '.join(flags)} {[d.name for d in datasets]}: "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    return json.loads(proc.stdout)


def quality(weights: list[tuple[str, int, Path]], threads: int) -> list[dict]:
    bench = SHARED / "benchmark_data"
    sets = [bench / n for n in ("Set5", "Set14", "B100") if (bench / n / "HR").is_dir()]
    small = [p for p in sets if p.name in ("Set5", "Set14")]
    b100 = [p for p in sets if p.name == "B100"]
    rows = []
    for name, s, path in weights:
        if not path.is_file():
            print(f"skip {name} x{s}: {path} not found", flush=True)
            continue
        shipped = nas_eval(name, s, path, sets, threads)
        rounded = nas_eval(name, s, path, small, threads, "--y-rounded") if small else {}
        ours_lr = nas_eval(name, s, path, b100, threads, "--bicubic-lr") if b100 else {}
        for d in sets:
            paper = PAPER.get((name, s), {}).get(d.name)
            rows.append({
                "name": name, "scale": s, "dataset": d.name, "weights": path.name,
                "psnr_db": shipped[d.name]["psnr_db"], "ssim": shipped[d.name]["ssim"],
                "psnr_db_bicubic_lr": ours_lr.get(d.name, {}).get("psnr_db"),
                "ssim_bicubic_lr": ours_lr.get(d.name, {}).get("ssim"),
                "psnr_db_y_rounded": rounded.get(d.name, {}).get("psnr_db"),
                "paper_psnr_db": paper[0] if paper else None, "paper_ssim": paper[1] if paper else None,
                "n_images": len(shipped[d.name]["per_image"]),
            })
    return rows


def lr_check() -> list[dict]:
    """Mean |our bicubic LR - shipped LR| (grey levels) per set and scale."""
    rows = []
    for d in sorted((SHARED / "benchmark_data").glob("*")):
        if d.name not in ("Set5", "Set14", "B100"):
            continue
        for s in (2, 3, 4):
            if not (d / "LR_bicubic" / f"X{s}").is_dir():
                continue
            diffs, n = [], 0
            for p in load_folder(d, s):
                ours = bicubic_downscale(p.hr, s)
                diffs.append(np.abs(ours.astype(np.int16) - p.lr.astype(np.int16)).ravel())
                n += 1
            allv = np.concatenate(diffs)
            rows.append({"dataset": d.name, "scale": s, "images": n, "mad": float(allv.mean()),
                         "max": int(allv.max()), "exact_frac": float((allv == 0).mean())})
    return rows


def _f(v, nd=2):
    return "–" if v is None else f"{v:.{nd}f}"


def write_markdown(path: Path, meta: dict, cost_rows: list[dict], q_rows: list[dict], lr_rows: list[dict]) -> None:
    lines = [
        "# Reference zoo: cost and quality",
        "",
        f"Written by `benchmarks/zoo_table.py` on {meta['date']} ({meta['machine']}; torch {meta['torch']}).",
        "",
        "## Cost of every zoo entry",
        "",
        "Params: exact `sum(p.numel())` of the network as built from its `ArchConfig` (ECBSR: train form, "
        "frozen edge masks included, then the deploy form after re-parameterisation). Mult-Adds: fvcore "
        "MACs for a 1280x720 HR output (ECBSR in deploy form). Latency: CPU, median of 10 forward passes "
        f"after 3 warm-up passes on a 64x64 LR input (1 x C x 64 x 64), deploy form, channels_last, "
        f"**{meta['threads']} torch thread(s)**.",
        "",
        ((f"> Measured while other processes were using the CPU: {meta['background']}. "
          "Latencies are therefore pessimistic and noisier than on an idle machine; compare them with each ")
         if meta.get("background") not in (None, "none") else
         "> Measured with no other process using the CPU. Compare the latencies with each ")
        + "other, not with other machines.",
        "",
        "| model | scale | params | deploy params | Mult-Adds (G) | latency ms (IQR) | architecture |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in cost_rows:
        lines.append(f"| {r['name']} | x{r['scale']} | {r['params']:,} | "
                     f"{'' if r['params_deploy'] is None else format(r['params_deploy'], ',')} | "
                     f"{r['mult_adds'] / 1e9:.2f} | {r['latency_ms']:.1f} ({r['latency_iqr_ms']:.1f}) | "
                     f"`{r['summary']}` |")
    if q_rows:
        lines += [
            "",
            "## PSNR / SSIM of released weights, measured by `nas eval`",
            "",
            "Y channel (BT.601), `scale` px shaved, SR quantised to 8 bit, mean over the images; LR = the "
            "shipped `LR_bicubic/X{s}` images (`../shared/benchmark_data`). Paper: the IMDN authors' table "
            "(`shared/reference_models.md` §1). Δ = ours - paper. *Our bicubic LR*: the same weights with LR "
            "made by our MATLAB-compatible bicubic (`nas eval --bicubic-lr`). *Y rounded*: Y rounded to "
            "integers before PSNR as Zheng222/IMDN `test_IMDN.py` does (`nas eval --y-rounded`); the paper's "
            "numbers match the float-Y convention (the MATLAB script the IMDN README cites), not this one.",
            "",
            "Weights: the IMDN authors' `IMDN_x{2,3,4}.pth` and `model_RTC.pth` (`../shared/checkpoints/official`, "
            "Zheng222/IMDN `checkpoints/`); any extra file passed with `--weights NAME:SCALE:PATH` is named in the "
            "`weights` column (E-RFDN: `trained_model/RFDN_AIM.pth` of njulj/RFDN, [0, 255] weights run through "
            "`PixelRange`; it has no Y-channel Set5 paper number, being the AIM 2020 challenge model).",
            "",
            "| model | scale | set | weights | PSNR dB | SSIM | paper PSNR / SSIM | Δ PSNR | our bicubic LR: PSNR / SSIM | "
            "Y rounded: PSNR |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in q_rows:
            paper = (f"{r['paper_psnr_db']:.2f} / {r['paper_ssim']:.4f}" if r["paper_psnr_db"] is not None else "–")
            delta = (f"{r['psnr_db'] - r['paper_psnr_db']:+.3f}" if r["paper_psnr_db"] is not None else "–")
            bic = (f"{r['psnr_db_bicubic_lr']:.3f} / {r['ssim_bicubic_lr']:.4f}"
                   if r["psnr_db_bicubic_lr"] is not None else "–")
            lines.append(f"| {r['name']} | x{r['scale']} | {r['dataset']} | `{r['weights']}` | {r['psnr_db']:.3f} | "
                         f"{r['ssim']:.4f} | "
                         f"{paper} | {delta} | {bic} | {_f(r['psnr_db_y_rounded'], 3)} |")
    if lr_rows:
        lines += [
            "",
            "## Our bicubic against the shipped LR images",
            "",
            "`nas.data.bicubic_downscale` (MATLAB `imresize` convention) of the mod-cropped HR image against "
            "the shipped `LR_bicubic/X{s}` image: mean and max absolute difference in grey levels over all "
            "pixels and channels, and the fraction of identical values.",
            "",
            "| set | scale | images | mean abs diff | max | identical |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in lr_rows:
            lines.append(f"| {r['dataset']} | x{r['scale']} | {r['images']} | {r['mad']:.4f} | {r['max']} | "
                         f"{100 * r['exact_frac']:.2f} % |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads for latency and nas eval")
    ap.add_argument("--no-eval", action="store_true", help="skip the PSNR evaluations")
    ap.add_argument("--no-latency-table", action="store_true", help="reuse the cost rows of an existing zoo.json")
    ap.add_argument("--weights", action="append", default=[], metavar="NAME:SCALE:PATH",
                    help="more released weights to evaluate (e.g. erfdn:4:RFDN_AIM.pth)")
    ap.add_argument("--carry-quality", action="store_true",
                    help="keep the PSNR rows of the existing zoo.json for weights not on this machine now "
                         "(each marked with the date it was measured)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "zoo.md")
    args = ap.parse_args()

    meta = {"date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "torch": torch.__version__, "threads": args.threads, "background": background_load()}
    json_path = args.out.with_suffix(".json")
    previous = json.loads(json_path.read_text()) if json_path.is_file() else {}
    if args.no_latency_table and json_path.is_file():
        cost_rows = json.loads(json_path.read_text())["costs"]
        meta = json.loads(json_path.read_text()).get("meta", meta)
    else:
        cost_rows = costs(args.threads)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"meta": meta, "costs": cost_rows}, indent=1) + "\n")  # keep if eval fails
    weights = [(n, s, SHARED / "checkpoints" / "official" / f) for n, s, f in OFFICIAL_WEIGHTS]
    for spec in args.weights:
        n, s, p = spec.split(":", 2)
        weights.append((n, int(s), Path(p)))
    q_rows = [] if args.no_eval else quality(weights, args.threads)
    if args.carry_quality:  # weights measured before and absent now (E-RFDN's RFDN_AIM.pth, not in ../shared)
        done = {(r["name"], r["scale"]) for r in q_rows}
        then = (previous.get("meta") or {}).get("date", "an earlier run")
        for r in previous.get("quality", []):
            if (r["name"], r["scale"]) not in done:
                carried = "measured " in r["weights"]
                q_rows.append({**r, "weights": r["weights"] if carried else f"{r['weights']}, measured {then}"})
    lr_rows = lr_check() if (SHARED / "benchmark_data").is_dir() else []
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"meta": meta, "costs": cost_rows, "quality": q_rows, "lr_check": lr_rows},
                                    indent=1) + "\n")
    write_markdown(args.out, meta, cost_rows, q_rows, lr_rows)
    print(f"wrote {args.out} and {json_path}")


if __name__ == "__main__":
    main()
