"""Training *units* for the fidelity benchmarks (``fidelity.py``, ``zoo_fidelity.py``): one
architecture trained with one proxy protocol, from a fresh model, in a worker process.

* :class:`Cache`: the JSON-lines file of finished units (and architecture costs), keyed by
  :func:`_unit_key` (arch_id, protocol, the profile's training fields, data source), so a killed
  benchmark resumes and a unit is never trained twice;
* :func:`run_units`: the pool of spawned worker processes (:func:`_init_worker`, :func:`run_unit`)
  that trains the pending units, most expensive first, appending each result as it arrives;
* :func:`_psnr`: the PSNR a unit record gives an architecture (a rung's, for a halving chain).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as _dt
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from _common import die_with_parent, finite_or_none


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _unit_key(arch_id: str, protocol: str, profile: dict, data_key: str) -> str:
    # the training protocol, not the profile's name, identifies a unit (``fixed`` was ``default``);
    # fields added to ProxyProfile later are filled with the value older records implied
    from nas.proxy.profiles import protocol_fields

    return json.dumps({"arch_id": arch_id, "protocol": protocol, "profile": protocol_fields(profile), "data": data_key},
                      sort_keys=True, separators=(",", ":"))


def _rec_key(rec: dict) -> str:
    """The cache key of a stored unit record. A record written before the thread count was part of
    the profile (its profile has no ``threads``) trained with the record's own ``threads``; one
    written with the cache protocol ``halving_bicubic_skip`` (before ``ProxyProfile.skip``
    existed, zoo_fidelity's wrapper said so) is the ``halving`` protocol with ``skip: bicubic``."""
    prof, protocol = rec["profile"], rec["protocol"]
    if isinstance(prof, dict) and prof.get("threads") is None and rec.get("threads") is not None:
        prof = {**prof, "threads": rec["threads"]}
    if protocol == "halving_bicubic_skip" and isinstance(prof, dict):
        prof, protocol = {**prof, "skip": "bicubic"}, "halving"
    return _unit_key(rec["arch_id"], protocol, prof, rec["data"])


# ---------------------------------------------------------------------------------- the cache
class Cache:
    """The JSON-lines file of finished units (``kind: unit``) and architecture costs (``kind: arch``).

    Only the main process writes it, one line per record, flushed and fsynced; a truncated last
    line (a run killed mid-write) is ignored on reading and terminated before the next append.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.units: dict[str, dict] = {}
        self.archs: dict[str, dict] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if rec.get("kind") == "unit":
                    self.units[_rec_key(rec)] = rec
                elif rec.get("kind") == "arch":
                    self.archs[rec["arch_id"]] = rec

    def append(self, rec: dict) -> None:
        """Append one record (and index it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_nl = False
        if self.path.is_file() and self.path.stat().st_size > 0:
            with self.path.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                needs_nl = f.read(1) != b"\n"
        with self.path.open("a") as f:
            if needs_nl:
                f.write("\n")
            f.write(json.dumps(finite_or_none(rec), separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if rec["kind"] == "unit":
            self.units[_rec_key(rec)] = rec
        else:
            self.archs[rec["arch_id"]] = rec


# ---------------------------------------------------------------------------------- worker side
_WORKER: dict[str, Any] = {}


def _init_worker(threads: int, scale: int, data_dir: str | None, val_dir: str | None, device: str) -> None:
    """Worker-process start: set the torch thread count once; data is loaded on first use.

    On Linux the worker also asks the kernel for SIGTERM when its parent dies, so killing the
    benchmark never leaves orphaned workers training on (they would hold the cores for hours).
    """
    import torch

    die_with_parent()
    torch.set_num_threads(threads)
    _WORKER.update(threads=threads, scale=scale, data_dir=data_dir, val_dir=val_dir, device=device, data={})


def _worker_data(profile):
    """The proxy data for ``profile``, loaded once per worker process (per distinct LR patch size
    and validation crop, which is once when the profiles share them, as the defaults do)."""
    from nas.proxy.data import load_proxy_data

    key = (profile.lr_patch, profile.val_max_side)
    if key not in _WORKER["data"]:
        _WORKER["data"][key] = load_proxy_data(_WORKER["scale"], profile, _WORKER["data_dir"], _WORKER["val_dir"])
    return _WORKER["data"][key]


def run_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Train one (architecture, protocol) unit in this worker process.

    Args:
        unit: ``arch_id``, ``name``, ``protocol`` (``proxy``, ``halving``, ``long_s0``,
            ``long_s1``), ``profile`` (``ProxyProfile.to_dict()``), ``config``
            (``ArchConfig.to_dict()``) and ``data`` (the data-source key).

    Returns:
        The cache record: ``psnr_db`` (dB; the top rung's for ``halving``), ``iters``,
        ``train_s`` / ``val_s`` (s, summed over rungs), ``rungs`` (``halving``: per rung
        ``iters``, ``psnr_db``, ``train_s``, ``val_s``), ``unit_s`` (s, build to validation),
        ``error`` (the message when the loss diverged; the PSNR is then None).
    """
    import torch

    from nas.arch import ArchConfig
    from nas.models import build_model
    from nas.proxy.profiles import ProxyProfile
    from nas.proxy.train import DivergedError, resolve_device, train_proxy, train_rungs

    t0 = time.perf_counter()
    profile = ProxyProfile(**unit["profile"])
    data = _worker_data(profile)
    device = resolve_device(_WORKER["device"])
    cfg = ArchConfig.from_dict(unit["config"])
    torch.manual_seed(profile.seed)
    model = build_model(cfg)  # the profile's proxy-only skip (zoo_fidelity's bicubic_skip) wraps it in training
    rec: dict[str, Any] = {"kind": "unit", "arch_id": unit["arch_id"], "name": unit["name"],
                           "protocol": unit["protocol"], "profile": unit["profile"], "data": unit["data"],
                           "data_source": data.source, "threads": torch.get_num_threads(), "device": str(device),
                           "psnr_db": None, "iters": None, "train_s": None, "val_s": None, "error": None}
    try:
        if unit["protocol"] == "halving":
            results = train_rungs(model, data, profile, profile.rung_stops, device)
            rec["rungs"] = [{"iters": r.iters, "psnr_db": r.psnr_db, "train_s": round(r.train_s, 3),
                             "val_s": round(r.val_s, 3)} for r in results]
            top = results[-1]
            rec.update(psnr_db=top.psnr_db, iters=top.iters, train_s=round(sum(r.train_s for r in results), 3),
                       val_s=round(sum(r.val_s for r in results), 3))
        else:
            r = train_proxy(model, data, profile, device)
            rec.update(psnr_db=r.psnr_db, iters=r.iters, train_s=round(r.train_s, 3), val_s=round(r.val_s, 3))
    except DivergedError as err:  # deterministic for a given protocol: cached, not retried
        rec["error"] = str(err)
    rec["unit_s"] = round(time.perf_counter() - t0, 3)
    rec["finished"] = _dt.datetime.now().isoformat(timespec="seconds")
    return rec


# ---------------------------------------------------------------------------------- main side
def run_units(pending: list[dict], cache: Cache, args: argparse.Namespace, total: int, t_start: float) -> int:
    """Train ``pending`` units on ``args.jobs`` spawned worker processes, appending each result to
    the cache as it finishes. Returns the number of units that failed (not cached)."""
    done = total - len(pending)
    failed = 0
    ctx = multiprocessing.get_context("spawn")
    initargs = (args.threads_per_job, args.scale, args.data, args.val_data, args.device)
    with cf.ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx, initializer=_init_worker,
                                initargs=initargs) as pool:
        futures = {pool.submit(run_unit, u): u for u in pending}
        try:
            for fut in cf.as_completed(futures):
                u = futures[fut]
                elapsed = _hms(time.perf_counter() - t_start)
                try:
                    rec = fut.result()
                except Exception as err:  # noqa: BLE001 - report, keep the others going
                    failed += 1
                    print(f"[{done}/{total}] {u['protocol']:8} {u['name']:>8} {u['arch_id']} FAILED "
                          f"({type(err).__name__}: {err}); not cached, retried next run | elapsed {elapsed}",
                          flush=True)
                    continue
                cache.append(rec)
                done += 1
                if rec["error"]:
                    what = f"DIVERGED ({rec['error']})"
                else:
                    what = f"{rec['psnr_db']:.3f} dB @ {rec['iters']} it, train {rec['train_s']:.1f} s"
                    if rec.get("rungs"):
                        what += " (rungs " + ", ".join(f"{r['iters']}:{r['psnr_db']:.2f}" for r in rec["rungs"]) + ")"
                print(f"[{done}/{total}] {rec['protocol']:8} {rec['name']:>8} {rec['arch_id']} {what} "
                      f"| elapsed {elapsed}", flush=True)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return failed


# ---------------------------------------------------------------------------------- reading a unit
def _psnr(a: dict, protocol: str, rung: int | None = None) -> float | None:
    rec = a.get(protocol)
    if rec is None or rec.get("error"):
        return None
    if rung is not None:
        rungs = rec.get("rungs") or []
        return rungs[rung]["psnr_db"] if rung < len(rungs) else None
    return rec["psnr_db"]
