"""Benchmark: where one trial's time goes, the proxy trainer against a plain loop, and the
projected wall time of `nas search --budget 200`.

Measures, on the built-in data with a given proxy profile (default: ``fixed``, the 60-step proxy):
  * per stage (build, Mult-Adds, train, validate, latency, storage) for the four references and
    ``--sample`` random candidates of the default space (seeded);
  * the proxy trainer's it/s against a plain channels_last torch loop (same model, same batch
    shape, tensors prepared beforehand) in the same run, median of ``--repeats`` runs;
  * the projected `--budget 200` wall time = 200 x mean trial time over the sampled candidates
    (the references weighted as the 4 trials they are).

Writes ``results/benchmarks/trial_breakdown.{md,json}``. Run: ``.venv/bin/python benchmarks/trial_breakdown.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch
from torch import nn

from nas.arch import SEARCH_REFERENCES, reference_config
from nas.models import build_model
from nas.proxy import get_profile
from nas.proxy.data import load_proxy_data
from nas.proxy.train import train_proxy
from nas.scoring import DIRECTIONS
from nas.scoring.evaluate import evaluate
from nas.space import load_space

ROOT = Path(__file__).resolve().parents[1]


def plain_loop_its(config, data, profile, iters: int) -> float:
    """A plain channels_last training loop (no data pipeline): the ceiling for the trainer."""
    torch.manual_seed(0)
    model = build_model(config).to(memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(model.parameters(), lr=profile.lr)
    batches = [data.batch(i, profile.batch, profile.lr_patch, profile.seed) for i in range(iters)]
    batches = [(lr.contiguous(memory_format=torch.channels_last), hr.contiguous(memory_format=torch.channels_last))
               for lr, hr in batches]
    loss_fn = nn.L1Loss()
    t = time.perf_counter()
    for lr, hr in batches:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(lr), hr)
        loss.backward()
        opt.step()
    return iters / (time.perf_counter() - t)


def proxy_its(config, data, profile, iters: int) -> float:
    torch.manual_seed(0)
    model = build_model(config)
    res = train_proxy(model, data, profile.with_iters(iters))
    return iters / res.train_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="fixed")
    ap.add_argument("--sample", type=int, default=8, help="random candidates of the default space")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ratio-iters", type=int, default=30)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    profile = get_profile(args.profile)
    data = load_proxy_data(4, profile)
    space = load_space()
    study = optuna.create_study(directions=list(DIRECTIONS), sampler=optuna.samplers.RandomSampler(seed=0))
    configs = [reference_config(n, 4) for n in SEARCH_REFERENCES]
    for _ in range(args.sample):
        t = study.ask()
        configs.append(space.suggest(t, 4).replace(name=f"random{t.number}"))
        study.tell(t, state=optuna.trial.TrialState.FAIL)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}/bench.db")
        st = optuna.create_study(directions=list(DIRECTIONS), storage=storage)
        from nas.report.tables import write_outputs

        for cfg in configs:
            t0 = time.perf_counter()
            scores = evaluate(cfg, data, profile, "cpu")
            total_eval = time.perf_counter() - t0
            t1 = time.perf_counter()
            trial = st.ask()
            trial.set_user_attr("config", cfg.to_dict())
            trial.set_user_attr("summary", cfg.summary())
            st.tell(trial, scores.values())
            write_outputs(st, tmp)
            storage_s = time.perf_counter() - t1
            row = {"name": cfg.name, "params": scores.params, "mult_adds_g": round(scores.mult_adds / 1e9, 3),
                   "psnr_db": round(scores.psnr_db, 3), "latency_ms": round(scores.latency_ms, 2),
                   **{k: round(v, 3) for k, v in scores.timings.items()}, "storage_s": round(storage_s, 3),
                   "total_s": round(total_eval + storage_s, 3),
                   "it_per_s": round(profile.iters / scores.timings["train_s"], 2)}
            rows.append(row)
            print(json.dumps(row))

    ratio_rows = []
    for name in ("erfdn", "imdn"):
        cfg = reference_config(name, 4)
        plain, proxy = [], []
        for _ in range(args.repeats):
            plain.append(plain_loop_its(cfg, data, profile, args.ratio_iters))
            proxy.append(proxy_its(cfg, data, profile, args.ratio_iters))
        ratio_rows.append({"model": name, "plain_it_s": round(statistics.median(plain), 2),
                           "proxy_it_s": round(statistics.median(proxy), 2),
                           "ratio": round(statistics.median(proxy) / statistics.median(plain), 3)})
        print(json.dumps(ratio_rows[-1]))

    mean_trial = statistics.mean(r["total_s"] for r in rows)
    projected_min = 200 * mean_trial / 60
    meta = {"profile": profile.to_dict(), "threads": torch.get_num_threads(), "torch": torch.__version__,
            "machine": platform.machine(), "cpu_count": __import__("os").cpu_count(),
            "mean_trial_s": round(mean_trial, 2), "projected_budget200_min": round(projected_min, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "trial_breakdown.json").write_text(json.dumps({"meta": meta, "trials": rows, "ratio": ratio_rows}, indent=2))
    stages = ["build_s", "mult_adds_s", "train_s", "validate_s", "latency_s", "storage_s", "total_s"]
    lines = [f"# One trial, stage by stage (profile `{profile.name}`: {profile.iters} iters, batch {profile.batch}, "
             f"LR patch {profile.lr_patch}, x4, built-in data, {meta['threads']} threads, torch {meta['torch']})", "",
             "| candidate | params | Mult-Adds G | " + " | ".join(stages) + " | train it/s |",
             "|---|---:|---:|" + "---:|" * len(stages) + "---:|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['params']:,} | {r['mult_adds_g']} | "
                     + " | ".join(str(r[s]) for s in stages) + f" | {r['it_per_s']} |")
    lines += ["", f"Mean trial: **{mean_trial:.1f} s**; projected `nas search --budget 200`: "
              f"**{projected_min:.0f} min** (200 x mean over the references and {args.sample} random candidates).", "",
              f"## Proxy trainer vs a plain channels_last loop ({args.ratio_iters} iters, median of {args.repeats})", "",
              "| model | plain it/s | proxy it/s | ratio |", "|---|---:|---:|---:|"]
    for r in ratio_rows:
        lines.append(f"| {r['model']} | {r['plain_it_s']} | {r['proxy_it_s']} | {r['ratio']} |")
    lines += ["", "The plain loop gets its batches prepared in advance; the proxy trainer crops, augments and "
              "converts each batch inside the timed loop (target ratio >= 0.95)."]
    (args.out / "trial_breakdown.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
