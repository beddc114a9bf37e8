"""``benchmarks/search_compare.py``, part 3: ``--rescore PROFILE``.

Retrains every run's final front members with one proxy profile (one training per distinct
``arch_id``, on spawned worker processes) and recomputes each run's HV with the retrained PSNR,
so methods scored at different schedules compare on one scale. Results are cached by
:class:`RescoreCache` (one JSON line per training), so a killed rescore resumes.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from pathlib import Path
from typing import Any

from _common import die_with_parent


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
