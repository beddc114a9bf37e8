"""Benchmark: `nas train` throughput on CPU against plain torch loops and the machine's matmul peak.

For one network (default: a one-ECB-block network like the old x4 trial 36, ``nf64 | 1x ecb(d2,res)``;
or ``--reference``)
at `nas train`'s defaults (batch 64, HR patch 256 at x4) on the built-in photographs:

* `nas train` itself (``nas.training.train``, ``--iters`` iterations, no validation in the timed
  part): seconds per iteration, median over the iterations after the first;
* a plain loop (model + Adam + L1 on prepared tensors, no data pipeline) in contiguous (NCHW)
  and in channels_last memory format, median of ``--repeats`` runs;
* their throughput in GFLOP/s: 3 x 2 x the forward Mult-Adds of one batch per iteration (forward
  plus a backward of about twice its cost), against a float32 matmul of 2048 x 2048 on the same
  threads (the practical peak).

Writes ``<out-dir>/train_throughput.{md,json}``. Run: ``.venv/bin/python benchmarks/train_throughput.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import write_atomic  # noqa: E402

TRIAL36 = {"scale": 4, "nf": 64, "blocks": [{"type": "ecb", "depth": 2, "residual": True}]}


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    import torch

    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def plain_loop(config, batch: int, lr_patch: int, iters: int, channels_last: bool) -> float:
    """Median seconds per iteration of model + Adam + L1 on fixed random tensors."""
    import torch

    from nas.models import build_model

    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build_model(config).to(memory_format=fmt).train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    s = config.scale
    lr = torch.rand(batch, 3, lr_patch, lr_patch).contiguous(memory_format=fmt)
    hr = torch.rand(batch, 3, lr_patch * s, lr_patch * s).contiguous(memory_format=fmt)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.l1_loss(model(lr), hr)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:])


def nas_train(config, iters: int) -> float:
    """Median seconds per iteration of `nas train` (defaults) over ``iters`` iterations."""
    from nas.training import TrainCallbacks, TrainSettings, train

    stamps: list[float] = []
    cb = TrainCallbacks(step=lambda it, loss, lr: stamps.append(time.perf_counter()), log=lambda m: None)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        from nas.data import load_builtin_photos, write_image

        for name, img in load_builtin_photos().items():
            write_image(data / f"{name}.png", img)
        train(config, data, Path(tmp) / "run", TrainSettings(iters=iters, val_every=10 ** 9, ckpt_every=10 ** 9,
                                                              device="cpu", val_max_side=96), callbacks=cb)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return statistics.median(gaps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", default=None, help="a zoo network instead of trial 36")
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: every usable core)")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "results" / "benchmarks")
    args = ap.parse_args()
    import os

    import torch

    from nas.arch import ArchConfig, reference_config
    from nas.metrics import mult_adds
    from nas.models import build_model

    threads = args.threads or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    torch.set_num_threads(threads)
    config = reference_config(args.reference, 4) if args.reference else ArchConfig.from_dict(TRIAL36)
    batch, lr_patch = 64, 64
    macs = mult_adds(build_model(config), config.scale, hr_hw=(lr_patch * config.scale,) * 2) * batch
    flops_per_iter = 3 * 2 * macs
    peak = matmul_gflops()
    rows = []
    for label, fn in (("plain loop, contiguous (NCHW)", lambda: plain_loop(config, batch, lr_patch, args.iters, False)),
                      ("plain loop, channels_last", lambda: plain_loop(config, batch, lr_patch, args.iters, True)),
                      ("nas train (defaults, CPU)", lambda: nas_train(config, args.iters))):
        runs = [fn() for _ in range(args.repeats)]
        s = statistics.median(runs)
        rows.append({"what": label, "s_per_iter": round(s, 3), "runs": [round(r, 3) for r in runs],
                     "gflops": round(flops_per_iter / s / 1e9, 1)})
        print(rows[-1], flush=True)
    result = {"config": config.summary(), "batch": batch, "hr_patch": lr_patch * config.scale, "threads": threads,
              "macs_per_batch_forward": macs, "matmul_peak_gflops": round(peak, 1), "rows": rows,
              "torch": torch.__version__, "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    lines = [f"# `nas train` throughput on CPU ({config.summary()})", "",
             f"Batch {batch}, HR patch {lr_patch * config.scale} (`nas train` defaults at x{config.scale}), built-in "
             f"photographs, {threads} torch threads, torch {torch.__version__}; forward Mult-Adds of one batch "
             f"{macs / 1e9:.1f} G, so one iteration is about {flops_per_iter / 1e9:.0f} GFLOP (forward + backward "
             f"~ 3x forward). Float32 matmul 2048x2048 on the same threads: **{peak:.0f} GFLOP/s**. Medians of "
             f"{args.repeats} runs of {args.iters} iterations (the first of each run not timed); nothing else ran.", "",
             "| loop | s / iteration | GFLOP/s | share of the matmul peak |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['what']} | {r['s_per_iter']:.2f} | {r['gflops']:.0f} | {r['gflops'] / peak:.0%} |")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out_dir / "train_throughput.json", json.dumps(result, indent=1) + "\n")
    write_atomic(args.out_dir / "train_throughput.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
