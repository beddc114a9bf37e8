"""Re-score the costs of a finished study on the deploy form (issue 18 §3), without retraining.

Studies made before the fix scored candidates with re-parameterisable ECB blocks on their
*training* form (the committed x4 trial 36, ``nf64, 1x ecb(residual)``: 204,272 params and
11.70 G Mult-Adds, where ``nas export`` ships 107,568 and 6.17 G). For every trial whose config
has an ECB (head, block or upsampler) this script:

* sets params and Mult-Adds (MACs, 1280x720 output, fvcore) to those of
  ``nas.models.reparameterize_model`` (exact, deterministic);
* scales the stored latency by the deploy / training latency ratio measured now, back to back on
  this machine (medians of ``--repeats`` passes each), so the study's latencies stay comparable
  with each other (all were timed in the search's own run);
* stores the training form's count as the ``train_params`` user attribute;
* records what it did in the study's ``deploy_costs`` user attribute, so a second run is a no-op.

Optuna has no API to change a finished trial's values, so the SQLite database is updated
directly (one transaction; Optuna's RDB schema: ``trial_values``, ``trial_user_attributes``,
``study_user_attributes``). SQLite files only; back the file up first if it matters.

    .venv/bin/python scripts/rescore_deploy_costs.py results/lightweight_sr_x4/study.db
    .venv/bin/nas report --out-dir results/lightweight_sr_x4      # rewrite the tables and plots
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

MARK = "deploy_costs"

from nas.errors import NasError  # noqa: E402  (no torch)


def has_ecb(config: dict) -> bool:
    """Whether an ``ArchConfig`` dict has a re-parameterisable part (ECB head, block or upsampler)."""
    return (config.get("head") == "ecb" or config.get("upsampler") == "ecb"
            or any(isinstance(b, dict) and b.get("type") == "ecb" for b in config.get("blocks") or []))


def deploy_costs(config: dict, repeats: int = 7) -> dict:
    """Deploy-form params and MACs, training-form params, and the deploy / training latency ratio."""
    import torch

    from nas.arch import ArchConfig
    from nas.metrics import count_params, measure_latency, mult_adds
    from nas.models import build_model, reparameterize_model

    cfg = ArchConfig.from_dict(config)
    torch.manual_seed(0)
    model = build_model(cfg)
    deployed = reparameterize_model(model)
    with torch.no_grad():
        macs = mult_adds(deployed, cfg.scale, in_channels=cfg.colors)
    lat = {}
    for name, m in (("train", model), ("deploy", deployed)):
        lat[name] = measure_latency(m, lr_hw=(64, 64), in_channels=cfg.colors, warmup=2, repeats=repeats).median_ms
    return {"params": count_params(deployed), "mult_adds": int(macs), "train_params": count_params(model),
            "latency_ratio": lat["deploy"] / lat["train"] if lat["train"] > 0 else 1.0}


def rescore(db: Path, repeats: int = 7, log=print) -> int:
    """Re-score every ECB trial of every study in the SQLite file ``db``; returns how many changed.

    Raises:
        SystemExit: ``db`` is not an Optuna SQLite database.
    """
    con = sqlite3.connect(db)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        if not {"trials", "trial_values", "trial_user_attributes", "study_user_attributes"} <= tables:
            raise SystemExit(f"{db}: not an Optuna SQLite study database")
        changed = 0
        with con:  # one transaction
            for (study_id,) in con.execute("select study_id from studies").fetchall():
                done = con.execute("select 1 from study_user_attributes where study_id=? and key=?",
                                   (study_id, MARK)).fetchone()
                if done:
                    log(f"{db}: study {study_id} already re-scored, left alone")
                    continue
                rows = con.execute(
                    "select t.trial_id, t.number, a.value_json from trials t join trial_user_attributes a "
                    "on a.trial_id = t.trial_id where t.study_id=? and a.key='config'", (study_id,)).fetchall()
                n = 0
                for trial_id, number, cfg_json in rows:
                    cfg = json.loads(cfg_json)
                    if not has_ecb(cfg):
                        continue
                    try:
                        c = deploy_costs(cfg, repeats)
                    except NasError as err:  # a sampled point that cannot be built (never scored)
                        log(f"  trial {number}: not buildable, left alone ({err})")
                        continue
                    vals = dict(con.execute("select objective, value from trial_values where trial_id=?",
                                            (trial_id,)).fetchall())
                    if vals:
                        con.execute("update trial_values set value=? where trial_id=? and objective=1",
                                    (float(c["params"]), trial_id))
                        con.execute("update trial_values set value=? where trial_id=? and objective=2",
                                    (float(c["mult_adds"]), trial_id))
                        if vals.get(3) is not None:
                            con.execute("update trial_values set value=? where trial_id=? and objective=3",
                                        (float(vals[3]) * c["latency_ratio"], trial_id))
                    costs = con.execute("select value_json from trial_user_attributes where trial_id=? and key='costs'",
                                        (trial_id,)).fetchone()
                    if costs:  # a candidate rejected over a limit keeps its measured costs
                        d = json.loads(costs[0])
                        d.update(params=c["params"], mult_adds=c["mult_adds"])
                        if d.get("latency_ms") is not None:
                            d["latency_ms"] = round(float(d["latency_ms"]) * c["latency_ratio"], 3)
                        con.execute("update trial_user_attributes set value_json=? where trial_id=? and key='costs'",
                                    (json.dumps(d), trial_id))
                    con.execute("insert or replace into trial_user_attributes (trial_id, key, value_json) "
                                "values (?, 'train_params', ?)", (trial_id, json.dumps(c["train_params"])))
                    n += 1
                    log(f"  trial {number}: {c['train_params']:,} -> {c['params']:,} params, "
                        f"{c['mult_adds'] / 1e9:.2f} G, latency x{c['latency_ratio']:.2f}")
                con.execute("insert into study_user_attributes (study_id, key, value_json) values (?, ?, ?)",
                            (study_id, MARK, json.dumps({"trials": n, "by": "scripts/rescore_deploy_costs.py"})))
                log(f"{db}: study {study_id}: {n} ECB trial(s) re-scored on the deploy form")
                changed += n
        return changed
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path, nargs="+", help="study.db files (SQLite)")
    ap.add_argument("--repeats", type=int, default=7, help="timed passes per form for the latency ratio")
    args = ap.parse_args(argv)
    for db in args.db:
        if not db.is_file():
            print(f"error: {db}: no such file", file=sys.stderr)
            return 2
        rescore(db, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
