"""Re-time the Pareto-front trials and the references of a finished search on a quiet machine.

A search measures each candidate's latency once, while it runs; on a shared 2-core machine other
jobs inflate some of those numbers. This script rebuilds the architectures of the front and the
references and times them again (median of ``--rounds`` rounds, each the median of ``--repeats``
passes after warm-up; same LR input size and thread count as the study), so the front can be
checked against quiet-machine numbers. The study itself is not modified.

Writes ``<out-dir>/latency_remeasured.csv`` and prints the rank correlation between the study's
latency and the re-measured one.

Run: ``.venv/bin/python benchmarks/remeasure_latency.py --out-dir results/<run>``
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import optuna
import pandas as pd
import torch

from nas.arch import ArchConfig
from nas.metrics import measure_latency
from nas.models import build_model
from nas.report import trials_frame
from nas.scoring.evaluate import deploy_form


def remeasure(out_dir: Path, rounds: int, repeats: int, log=print) -> tuple[list[dict], tuple[int, int]]:
    """Re-time the COMPLETE front members and references of the study in ``out_dir`` (deploy
    form, the study's LR input and latency thread count): one row per network with ``number``,
    ``reference``, ``params``, ``summary``, ``study_ms``, ``quiet_ms`` (median of ``rounds``
    medians of ``repeats`` passes, ms), ``spread_ms`` (max - min of the rounds) and ``cv`` (their
    coefficient of variation); and the LR input (H, W). Also used by ``benchmarks/search_jobs.py``."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{(out_dir / 'study.db').as_posix()}")
    lat = study.user_attrs.get("latency", {})
    lr_hw = tuple(lat.get("lr_hw", (64, 64)))
    if lat.get("threads"):
        torch.set_num_threads(int(lat["threads"]))
    df = trials_frame(study)
    df = df[(df["state"] == "COMPLETE") & (df["on_front"] | (df["reference"] != ""))]
    rows = []
    for _, r in df.iterrows():
        config = ArchConfig.from_dict(json.loads(r["config"]))
        model = deploy_form(build_model(config))  # the form the study timed (issue 18 §3)
        medians = [measure_latency(model, lr_hw=lr_hw, in_channels=config.colors, warmup=3,
                                   repeats=repeats).median_ms for _ in range(rounds)]
        rows.append({"number": int(r["number"]), "reference": r["reference"], "params": r["params"],
                     "study_ms": float(r["latency_ms"]), "quiet_ms": statistics.median(medians),
                     "spread_ms": max(medians) - min(medians),
                     "cv": statistics.pstdev(medians) / statistics.mean(medians) if len(medians) > 1 else 0.0,
                     "summary": r["summary"]})
        log(rows[-1])
    return rows, lr_hw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    timed, lr_hw = remeasure(args.out_dir, args.rounds, args.repeats)
    rows = [{"number": r["number"], "reference": r["reference"], "params": r["params"],
             "latency_ms_study": round(r["study_ms"], 2), "latency_ms_quiet": round(r["quiet_ms"], 2),
             "spread_ms": round(r["spread_ms"], 2), "summary": r["summary"]}
            for r in timed]
    out = pd.DataFrame(rows).sort_values("params")
    out.to_csv(args.out_dir / "latency_remeasured.csv", index=False)
    rho = out["latency_ms_study"].corr(out["latency_ms_quiet"], method="spearman")
    ratio = (out["latency_ms_study"] / out["latency_ms_quiet"]).median()
    print(f"{len(out)} trials; Spearman rho(study, quiet) = {rho:.3f}; median study/quiet ratio = {ratio:.2f}; "
          f"threads {torch.get_num_threads()}, LR input {lr_hw}")


if __name__ == "__main__":
    main()
