"""`nas calibrate`: fit a predictor of the fully-trained PSNR for one proxy protocol (issue 32).

A search ranks candidates by a *calibration* (``nas.proxy.predict.Calibration``): a map from
what it measures of a candidate after the proxy run (the validation PSNR at a rung, deploy-form
parameters, 3x3-conv depth) to the PSNR the papers' full training reaches. A calibration holds
for one protocol only (scale, metric, steps, batch, patch, learning rate, skip, seed, data): the
20-step Y-PSNR of the default says nothing about a 60-step RGB one. This module makes one for
any protocol, the same way ``benchmarks/predictor_fidelity.py`` made the shipped ones:

1. **Ground truth**: the published networks of :mod:`nas.arch.ground_truth` with a fully-trained
   PSNR on ``gt_set`` (Set5) at the scale (protocol ``main``; the papers' ablation variants are
   not fitted on).
2. **Measurement** (:func:`measure_network`): each is built with the protocol's seed, its
   deploy-form costs counted, trained by the protocol (every rung of a successive-halving one)
   and validated; results are appended to a JSON-lines cache beside the output, so a killed run
   resumes with nothing lost, and ``jobs`` processes share the work.
3. **Fit** (:func:`fit_entry`): the issue-31 form, ridge (alpha 1) on proxy PSNR, log10 params
   and depth (:data:`FEATURES`, pre-registered: no selection on the numbers it reports), one model
   per rung; its error and ranking statistics by leave-one-family-out (every network predicted by
   a model that never saw its family, with the shipped clipping), bootstrap 95 % intervals; the
   applicability domain a box in (log10 params, depth) (``nas.proxy.predict.fit_box_domain``).

The result is a ``calibrations.json``-format file that ``nas search --calibration FILE`` (or
``--calibrate auto``) ranks by; the study pins its version.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import hashlib
import json
import math
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from nas.errors import NasError

__all__ = ["FEATURES", "ALPHA", "BOX_MARGIN", "MIN_NETWORKS", "GroundTruthNetwork", "CalibrationSettings",
           "ground_truth_networks", "measure_network", "protocol_fingerprint", "fit_entry", "calibrate",
           "write_entry", "default_name"]

#: The predictor's features (``nas.proxy.predict.feature_vector`` names), in coefficient order:
#: the form shipped since issue 18 (``zoo-skip``), kept fixed by a rule set before its numbers were
#: seen (results/benchmarks/predictor_fidelity_x4.md: the nested selection did not beat it).
FEATURES = ("psnr", "log10_params", "depth")
#: Ridge penalty on the standardised features (scikit-learn ``Ridge(alpha)``).
ALPHA = 1.0
#: Widening of the box domain beyond the ground truth's range (share of each range per side).
BOX_MARGIN = 0.1
#: Fewest published networks (and families: 3) a calibration is fitted on.
MIN_NETWORKS = 6


@dataclass(frozen=True)
class GroundTruthNetwork:
    """A published network with a fully-trained PSNR: ``name``, ``family``, ``truth`` (dB, Y,
    ``gt_set``), ``source`` (paper table or measured-from-weights record), ``config`` (dict)."""

    name: str
    family: str
    truth: float
    source: str
    config: dict[str, Any]


@dataclass(frozen=True)
class CalibrationSettings:
    """What ``nas calibrate`` takes (CLI flags map one to one).

    Attributes:
        scale: upscaling factor (2, 3 or 4: where the ground truth has at least
            :data:`MIN_NETWORKS` networks).
        profile: the proxy profile whose protocol is calibrated (default ``zoo-predicted``, what
            ``nas search`` ranks by); iters / threads / metric override its fields as in ``nas search``.
        data / val_data: the proxy's training and validation folders (``None``: built-in photographs).
        gt_set: the benchmark set of the fully-trained PSNR predicted (``Set5``).
        out: the calibration file to write (created, or the entry ``name`` replaced in it).
        name: the calibration's key (default :func:`default_name`).
        jobs: processes training at once (each with the profile's torch threads).
        device: torch device of the training (``cpu``, ``cuda``).
        networks: restrict the ground truth to these names (``None``: all at the scale).
        n_boot: bootstrap resamples of the intervals.
    """

    scale: int = 4
    profile: str = "zoo-predicted"
    iters: int | None = None
    threads: int | None = None
    metric: str | None = None
    data: str | None = None
    val_data: str | None = None
    gt_set: str = "Set5"
    out: str = "calibration.json"
    name: str | None = None
    jobs: int = 1
    device: str = "cpu"
    networks: tuple[str, ...] | None = None
    n_boot: int = 2000


def ground_truth_networks(scale: int, gt_set: str = "Set5", names: Sequence[str] | None = None
                          ) -> list[GroundTruthNetwork]:
    """The published networks (protocol ``main``) of :mod:`nas.arch.ground_truth` with a
    fully-trained ``gt_set`` PSNR at ``scale``.

    Raises:
        NasError: a name in ``names`` is not such a network (lists the known ones), or fewer than
            :data:`MIN_NETWORKS` networks / 3 families remain (no calibration can be fitted).
    """
    from nas.arch.ground_truth import GROUND_TRUTH

    pool = {e.name: e for e in GROUND_TRUTH.values() if e.protocol == "main" and e.value(scale, gt_set) is not None}
    if names is not None:
        unknown = [n for n in names if n not in pool]
        if unknown:
            raise NasError(f"--networks: {', '.join(unknown)} not a published network with a {gt_set} x{scale} PSNR "
                           f"(known: {', '.join(sorted(pool))})")
        pool = {n: pool[n] for n in names}
    nets = [GroundTruthNetwork(e.name, e.family, float(e.value(scale, gt_set)), e.source, e.build(scale).to_dict())
            for e in pool.values()]
    if len(nets) < MIN_NETWORKS or len({n.family for n in nets}) < 3:
        raise NasError(f"x{scale}: only {len(nets)} published network(s) of {len({n.family for n in nets})} "
                       f"family(ies) have a fully-trained {gt_set} PSNR here; a calibration needs at least "
                       f"{MIN_NETWORKS} of 3 families (rank by raw proxy PSNR with --profile halving)")
    return nets


def protocol_fingerprint(profile: Any, scale: int, data_source: str) -> str:
    """12 hex digits identifying a calibration's protocol: the profile's training fields
    (``nas.proxy.profiles.protocol_fields`` less ``predictor``, ``rungs`` and ``threads``, which
    do not change what a rung measures), the scale and the proxy data."""
    from nas.proxy.profiles import protocol_fields

    fields = {k: v for k, v in protocol_fields(profile).items() if k not in ("predictor", "rungs", "threads")}
    blob = json.dumps({"protocol": fields, "scale": scale, "data": data_source}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def default_name(profile: Any, scale: int) -> str:
    """``calibrated-x<scale>-<metric>-<iters>`` (e.g. ``calibrated-x3-rgb-20``)."""
    return f"calibrated-x{scale}-{profile.metric}-{profile.iters}"


def measure_network(config: dict[str, Any], profile: Any, data: Any, device: str = "cpu",
                    zero_cost: bool = False) -> dict[str, Any]:
    """One network trained by ``profile``'s protocol (every rung), as a search trains a candidate.

    Args:
        config: an ``ArchConfig`` dict; profile: a ``ProxyProfile`` (its ``seed`` seeds the weights
            and the patch order); data: ``nas.proxy.data.ProxyData`` of the study's scale.
        zero_cost: also take the zero-cost proxies (``nas.proxy.features``) on 16 LR patches
            before and after training (keys ``zc_*`` and ``zc_*_t``).

    Returns:
        ``{"params", "mult_adds" (MACs, 1280x720 output), "depth", "psnr" (dB at the top rung, None
        when it diverged), "rung_psnr" ({steps: dB}), "losses" (per step), trajectory features,
        "train_s", "val_s", "unit_s", "error"}``.
    """
    from nas.arch import ArchConfig
    from nas.errors import DivergedError
    from nas.models.depth import conv_depth
    from nas.proxy.features import proxy_batch, trajectory_features, zero_cost_proxies
    from nas.proxy.train import _to_y, train_segment, with_skip
    from nas.scoring.evaluate import cheap_scores

    cfg = ArchConfig.from_dict(config)
    t0 = time.perf_counter()
    params, _train, macs, model, deploy, _ = cheap_scores(cfg, profile.seed)
    rec: dict[str, Any] = {"params": params, "mult_adds": macs, "depth": conv_depth(deploy, cfg.colors),
                           "data_source": data.source, "rung_psnr": {}, "train_s": 0.0, "val_s": 0.0}
    if zero_cost:
        lr, hr = proxy_batch(data, profile)
        if cfg.colors == 1:
            lr, hr = _to_y(lr), _to_y(hr)
        t = time.perf_counter()
        rec.update(zero_cost_proxies(model, lr, hr, with_skip(model, profile.skip, cfg.scale)))
        rec["zc_s"] = time.perf_counter() - t
    losses: list[float] = []
    start, opt_state, rec["error"] = 0, None, None
    try:
        for stop in profile.rung_stops:
            result, opt_state = train_segment(model, data, profile, device, start=start, stop=stop,
                                              optimizer_state=opt_state, on_step=lambda _i, loss: losses.append(loss))
            rec["rung_psnr"][str(stop)] = result.psnr_db
            rec["train_s"] += result.train_s
            rec["val_s"] += result.val_s
            start = stop
    except DivergedError as err:
        rec["error"] = str(err)
    rec["psnr"] = rec["rung_psnr"].get(str(profile.top_iters))
    rec["losses"] = losses
    rec.update(trajectory_features(losses))
    if zero_cost:
        model.cpu()
        t = time.perf_counter()
        rec.update({f"{k}_t": v for k, v in zero_cost_proxies(model, lr, hr,
                                                                 with_skip(model, profile.skip, cfg.scale)).items()})
        rec["zc_t_s"] = time.perf_counter() - t
    rec["unit_s"] = time.perf_counter() - t0
    return rec


# ------------------------------------------------------------------------- the worker processes
_W: dict[str, Any] = {}


def _init_worker(profile_dict: dict, scale: int, data: str | None, val_data: str | None, device: str,
                 own_process: bool = True) -> None:
    from nas.proxy.data import load_proxy_data
    from nas.proxy.profiles import ProxyProfile

    if own_process:  # a pool worker: the profile's thread count everywhere (in-process, train_segment sets it)
        import torch

        torch.set_num_threads(max(1, profile_dict.get("threads") or 1))
    profile = ProxyProfile(**profile_dict)
    _W.update(profile=profile, device=device, data=load_proxy_data(scale, profile, data, val_data))


def _measure_unit(unit: dict[str, Any]) -> dict[str, Any]:
    rec = measure_network(unit["config"], _W["profile"], _W["data"], _W["device"])
    return {"key": unit["key"], "name": unit["name"], **rec}


def _read_cache(path: Path) -> dict[str, dict]:
    """The cache's records by key (:func:`_read_lines`: a torn line, from a run killed mid-write, is skipped)."""
    return {rec["key"]: rec for rec in _read_lines(path)}


def _finite(v: Any) -> Any:
    return v if not isinstance(v, float) or math.isfinite(v) else None


#: A claim by a process on another machine (not checkable) counts as abandoned after this long (s).
CLAIM_STALE_S = 2 * 3600.0


class _Claims:
    """Which process trains which network, for every ``nas calibrate`` writing the same cache (on
    one machine, or several sharing the folder): claims are JSON lines in ``<cache>.claims``,
    and claims and cache records are written under an exclusive ``flock`` of ``<cache>.lock``, so
    two processes never train the same network at once nor interleave a line. A claim is live
    while its process runs (same host: its pid exists) or, from another host, for
    :data:`CLAIM_STALE_S`; a dead process's networks are claimed again."""

    def __init__(self, cache_path: Path) -> None:
        import socket

        self.cache = cache_path
        self.path = cache_path.with_name(cache_path.name + ".claims")
        self.lock_path = cache_path.with_name(cache_path.name + ".lock")
        self.host, self.pid = socket.gethostname(), os.getpid()

    @contextlib.contextmanager
    def locked(self):
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _live(self) -> dict[str, dict]:
        live: dict[str, dict] = {}
        for c in _read_lines(self.path):
            alive = (c.get("pid") == self.pid or _pid_alive(c.get("pid"))) if c.get("host") == self.host else \
                time.time() - float(c.get("time", 0)) < CLAIM_STALE_S
            if alive:
                live[c["key"]] = c
            else:
                live.pop(c["key"], None)
        return live

    def claim(self, order: Sequence[str], mine: set[str]) -> tuple[str | None, dict[str, dict]]:
        """The first key of ``order`` neither in the cache nor claimed by a live process (now
        claimed by this one), else ``None``; and the cache as read under the lock."""
        with self.locked():
            cache = _read_cache(self.cache)
            live = self._live()
            for k in order:
                if k in cache or k in mine or (k in live and live[k].get("pid") != self.pid):
                    continue
                with self.path.open("a") as fh:
                    fh.write(json.dumps({"key": k, "host": self.host, "pid": self.pid, "time": time.time()}) + "\n")
                return k, cache
            return None, cache

    def append(self, rec: dict) -> None:
        """Append a finished network's record to the cache (a torn last line is closed first)."""
        with self.locked():
            torn = self.cache.is_file() and self.cache.stat().st_size and not self.cache.read_bytes().endswith(b"\n")
            with self.cache.open("a") as fh:
                if torn:  # a run killed mid-line: this record starts a line of its own
                    fh.write("\n")
                fh.write(json.dumps({k: _finite(v) for k, v in rec.items()}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def _read_lines(path: Path) -> list[dict]:
    """The JSON objects with a ``key`` in the JSON-lines file ``path``, in order; unreadable lines skipped."""
    out = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and "key" in rec:
                out.append(rec)
    return out


def measure_all(nets: Sequence[GroundTruthNetwork], profile: Any, s: CalibrationSettings, data_source: str,
                cache_path: Path, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Measure every network not yet in ``cache_path`` and return one record per network name.

    ``s.jobs`` processes train at once; other ``nas calibrate`` runs on the same cache share the
    work (:class:`_Claims`: each network is claimed before it is trained, and a run waits for the
    networks another live run is training). Records are appended as they finish, keyed by the
    network's config, the protocol fingerprint and the data, so an interrupted run resumes where
    it stopped and a changed protocol never reuses a stale number."""
    import queue

    fp = protocol_fingerprint(profile, s.scale, data_source)
    keys = {n.name: hashlib.sha256(f"{json.dumps(n.config, sort_keys=True)}|{fp}".encode()).hexdigest()[:16]
            for n in nets}
    units = {keys[n.name]: {"key": keys[n.name], "name": n.name, "config": n.config} for n in nets}
    order = [keys[n.name] for n in nets]
    claims = _Claims(cache_path)
    cache = _read_cache(cache_path)
    todo = [k for k in order if k not in cache]
    if todo:
        log(f"training {len(todo)} of {len(nets)} published networks by the protocol "
            f"({len(nets) - len(todo)} already in {cache_path}), {max(1, s.jobs)} process(es)")
    args = (profile.to_dict(), s.scale, s.data, s.val_data, s.device)
    t0 = time.perf_counter()
    jobs = max(1, s.jobs)
    pool = mp.get_context("spawn").Pool(jobs, _init_worker, args) if jobs > 1 and todo else None
    if pool is None and todo:
        _init_worker(*args, own_process=False)
    finished: queue.Queue = queue.Queue()
    in_flight: set[str] = set()
    waited = False
    try:
        while True:
            while len(in_flight) < jobs:
                k, cache = claims.claim(order, in_flight)
                if k is None:
                    break
                in_flight.add(k)
                if pool is None:
                    finished.put(_measure_unit(units[k]))
                else:
                    pool.apply_async(_measure_unit, (units[k],), callback=finished.put, error_callback=finished.put)
            if not in_flight:
                cache = _read_cache(cache_path)
                if all(k in cache for k in order):
                    break
                if not waited:
                    log(f"waiting for {sum(k not in cache for k in order)} network(s) another nas calibrate is "
                        f"training ({claims.path})")
                    waited = True
                time.sleep(2.0)
                continue
            rec = finished.get()
            if isinstance(rec, BaseException):
                raise rec
            claims.append(rec)
            in_flight.discard(rec["key"])
            cache[rec["key"]] = rec
            n_done = sum(k in cache for k in order)
            psnr = "diverged" if rec.get("psnr") is None else f"{rec['psnr']:.2f} dB"
            log(f"[{n_done}/{len(order)}] {rec['name']}: {psnr} at {profile.top_iters} steps, "
                f"{rec['params']:,} params ({rec['unit_s']:.1f} s; {time.perf_counter() - t0:.0f} s in all)")
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return {n.name: cache[keys[n.name]] for n in nets}


# ---------------------------------------------------------------------------------------- fitting
def fit_entry(nets: Sequence[GroundTruthNetwork], recs: dict[str, dict], profile: Any, scale: int,
              data_source: str, gt_set: str = "Set5", n_boot: int = 2000) -> tuple[dict[str, Any], dict[str, Any]]:
    """The calibration entry (``calibrations.json`` format) and a summary of its statistics.

    One ridge model (:data:`FEATURES`, :data:`ALPHA`) per rung, fitted on every network that did
    not diverge; its statistics out of family: each family's networks predicted by the model
    fitted on the others (features clipped to their range, as ``Calibration.predict`` does), then
    Spearman, Kendall, clear pairs (>= 0.1 dB apart) in order, MAE (dB) with bootstrap 95 %
    intervals, and ``sigma_db``, the out-of-family RMS error a search shows with each prediction;
    beside them the same statistics of log10 params + depth alone on the same folds, and a paired
    bootstrap of the Spearman difference (``nas.proxy.fit.paired_bootstrap``, margin 0.10).

    Raises:
        NasError: fewer than :data:`MIN_NETWORKS` networks of 3 families trained without diverging.
    """
    import numpy as np

    from nas.proxy import fit
    from nas.proxy.predict import fit_box_domain

    ok = [n for n in nets if recs[n.name].get("psnr") is not None]
    if len(ok) < MIN_NETWORKS or len({n.family for n in ok}) < 3:
        raise NasError(f"only {len(ok)} of {len(nets)} published networks trained without diverging under this "
                       f"protocol; a calibration needs at least {MIN_NETWORKS} of 3 families")
    y = np.array([n.truth for n in ok])
    groups = [n.family for n in ok]
    spec = fit.Spec(FEATURES, ALPHA)
    base = {"log10_params": np.log10([float(recs[n.name]["params"]) for n in ok]),
            "depth": np.array([float(recs[n.name]["depth"]) for n in ok])}
    # what size and depth alone give on the same folds: the proxy run must add to it to be worth its time
    size = fit.lofo_predict(fit.Spec(("log10_params", "depth"), ALPHA), base, y, groups)
    size_spearman = fit.rank_scores(size, y)["spearman"]
    models, stats = {}, {}
    for stop in profile.rung_stops:
        X = {**base, "psnr": np.array([float(recs[n.name]["rung_psnr"][str(stop)]) for n in ok])}
        pred = fit.lofo_predict(spec, X, y, groups)
        scores = fit.rank_scores(pred, y)
        rms = float(np.sqrt(np.mean((pred - y) ** 2)))
        model = fit.to_linear(spec, X, y, np.arange(len(ok)))
        models[str(stop)] = {**model, "sigma_db": rms, "lofo_spearman": scores["spearman"],
                             "lofo_spearman_ci": list(fit.bootstrap_ci(pred, y, fit.spearman, n_boot)),
                             "lofo_kendall": scores["kendall"], "lofo_clear_pairs": scores["clear_share"],
                             "lofo_mae_db": scores["mae_db"],
                             "lofo_mae_ci": list(fit.bootstrap_ci(pred, y, fit.mae, n_boot)), "n": len(ok),
                             "lofo_spearman_params_depth": size_spearman,
                             "paired_vs_params_depth": fit.paired_bootstrap(pred, size, y, fit.spearman, 0.10, n_boot)}
        stats[stop] = {"predictions": {n.name: float(p) for n, p in zip(ok, pred)}}
    box = fit_box_domain([{k: float(v[i]) for k, v in base.items()} for i in range(len(ok))], groups,
                         [n.name for n in ok], margin=BOX_MARGIN)
    protocol = {k: v for k, v in dataclasses.asdict(profile).items() if k not in ("name", "rungs", "predictor")}
    top = models[str(profile.top_iters)]
    entry = {"scale": scale, "protocol": protocol, "data": data_source,
             "horizon": f"{gt_set} x{scale} Y-PSNR after the papers' full training",
             "features": list(FEATURES), "models": models, "domain": box.to_dict(),
             "fingerprint": protocol_fingerprint(profile, scale, data_source),
             "source": f"nas calibrate {_dt.date.today().isoformat()}: {spec.name} fitted on {len(ok)} published "
                       f"networks of {len(set(groups))} families (nas.arch.ground_truth); sigma_db and the "
                       f"statistics are out of family (leave-one-family-out)"}
    summary = {"n": len(ok), "families": len(set(groups)), "diverged": [n.name for n in nets if n not in ok],
               "spearman": top["lofo_spearman"], "spearman_ci": top["lofo_spearman_ci"], "mae_db": top["lofo_mae_db"],
               "mae_ci": top["lofo_mae_ci"], "sigma_db": top["sigma_db"], "kendall": top["lofo_kendall"],
               "clear_pairs": top["lofo_clear_pairs"], "spearman_params_depth": size_spearman,
               "paired_vs_params_depth": top["paired_vs_params_depth"],
               "rows": [{"name": n.name, "family": n.family, "truth": n.truth, "params": recs[n.name]["params"],
                         "depth": recs[n.name]["depth"], "proxy_psnr": recs[n.name].get("psnr"),
                         "predicted": stats[profile.top_iters]["predictions"].get(n.name)} for n in nets]}
    return entry, summary


def write_entry(path: Path, name: str, entry: dict[str, Any]) -> None:
    """Put ``entry`` under ``name`` in the calibration file ``path`` (created if missing; other
    entries kept, and the entry it replaces kept as ``<name>@<version>`` so that the studies ranked
    by it still resume: :func:`nas.proxy.predict.archive_calibration`), atomically: a reader never
    sees a half-written file.

    Raises:
        NasError: ``path`` exists and is not a calibration file (a JSON object).
    """
    from nas.proxy.predict import archive_calibration

    cals: dict[str, Any] = {}
    if path.exists():
        try:
            cals = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise NasError(f"{path}: not a calibration file ({err}); choose another --out") from None
        if not isinstance(cals, dict):
            raise NasError(f"{path}: not a calibration file (not a JSON object); choose another --out")
    cals = archive_calibration(cals, name, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(cals, indent=1) + "\n")
    os.replace(tmp, path)


def calibrate(s: CalibrationSettings, log: Callable[[str], None] = print) -> tuple[Path, str, dict[str, Any]]:
    """Train the ground truth under ``s``'s protocol, fit, and write the calibration.

    Returns:
        ``(path, name, summary)`` (:func:`fit_entry`'s summary).

    Raises:
        NasError: a bad setting (names the flag), unusable data (names the folder), a scale
            without enough ground truth, or too many networks diverging.
    """
    from nas.proxy.data import load_proxy_data
    from nas.proxy.profiles import get_profile

    if s.profile == "default":
        raise NasError("--profile: name the protocol to calibrate (e.g. zoo-predicted, the default's)")
    if s.jobs < 1:
        raise NasError(f"--jobs must be at least 1, got {s.jobs}")
    profile = get_profile(s.profile, s.iters, s.threads, s.metric)
    nets = ground_truth_networks(s.scale, s.gt_set, s.networks)
    out = Path(s.out)
    if out.exists() and out.is_dir():
        raise NasError(f"{out}: --out is a folder; give the calibration file's path (e.g. {out / 'calibration.json'})")
    data = load_proxy_data(s.scale, profile, s.data, s.val_data)  # bad data fails before any file is written
    name = s.name or default_name(profile, s.scale)
    if profile.metric == "rgb":  # an RGB PSNR needs an RGB output: a Y-only network cannot be measured by it
        y_only = [n.name for n in nets if n.config.get("colors", 3) == 1]
        nets = [n for n in nets if n.config.get("colors", 3) != 1]
        if y_only:
            log(f"metric rgb: {', '.join(y_only)} left out (Y-only networks)")
        if len(nets) < MIN_NETWORKS or len({n.family for n in nets}) < 3:
            raise NasError(f"metric rgb: only {len(nets)} RGB networks with a fully-trained {s.gt_set} PSNR at "
                           f"x{s.scale}; a calibration needs at least {MIN_NETWORKS} of 3 families")
    log(f"calibrating {name!r}: x{s.scale}, profile {profile.name} ({' / '.join(map(str, profile.rung_stops))} "
        f"steps, batch {profile.batch}, LR patch {profile.lr_patch}, metric {profile.metric}, skip {profile.skip}), "
        f"{len(nets)} published networks of {len({n.family for n in nets})} families; data: {data.source}")
    cache = out.with_name(out.name + ".cache.jsonl")
    recs = measure_all(nets, profile, s, data.source, cache, log)
    entry, summary = fit_entry(nets, recs, profile, s.scale, data.source, s.gt_set, s.n_boot)
    write_entry(out, name, entry)
    return out, name, summary
