"""Score one candidate: build, count, train the proxy, validate, time.

This is where the pipeline meets torch: ``ArchConfig -> build_model -> params / Mult-Adds ->
train_proxy -> PSNR -> latency``. Each stage's wall time is recorded (``Scores.timings``), so the
benchmark in ``benchmarks/trial_breakdown.py`` can split a trial's cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from nas.arch import ArchConfig
from nas.metrics import count_params, measure_latency, mult_adds
from nas.models import build_model
from nas.proxy.data import ProxyData
from nas.proxy.profiles import ProxyProfile
from nas.proxy.train import train_proxy

__all__ = ["LatencySetting", "Scores", "cheap_scores", "evaluate"]


@dataclass(frozen=True)
class LatencySetting:
    """How latency is measured: LR input (H, W), warm-up and timed forward passes, device.

    The median of ``repeats`` timed passes after ``warmup`` untimed ones, in eval mode,
    ``torch.inference_mode``, synchronised on CUDA, with ``torch.get_num_threads()`` threads.
    """

    lr_hw: tuple[int, int] = (64, 64)
    warmup: int = 3
    repeats: int = 10
    channels_last: bool = True


@dataclass
class Scores:
    """The objectives of one candidate plus bookkeeping.

    Attributes:
        psnr_db: proxy validation PSNR (dB, Y channel).
        params: exact parameter count.
        mult_adds: Mult-Adds (MACs, fvcore) for a 1280x720 HR output.
        latency_ms: median forward latency (ms) on ``LatencySetting.lr_hw``.
        iters: proxy iterations trained (fidelity).
        timings: wall seconds per stage (build, mult_adds, train, validate, latency).
    """

    psnr_db: float
    params: int
    mult_adds: int
    latency_ms: float
    iters: int
    timings: dict[str, float] = field(default_factory=dict)

    def values(self) -> tuple[float, float, float, float]:
        """In ``OBJECTIVES`` order, for ``study.tell`` / the objective's return value."""
        return (self.psnr_db, float(self.params), float(self.mult_adds), self.latency_ms)


def cheap_scores(config: ArchConfig, seed: int = 0) -> tuple[int, int, torch.nn.Module, dict[str, float]]:
    """Build the model (weights seeded with ``seed``) and count parameters and Mult-Adds.

    Returns:
        ``(params, mult_adds, model, timings)``.

    Raises:
        ArchConfigError: the config cannot be built.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    torch.manual_seed(seed)
    model = build_model(config)
    timings["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    params = count_params(model)
    macs = mult_adds(model, config.scale, in_channels=config.colors)
    timings["mult_adds_s"] = time.perf_counter() - t
    return params, macs, model, timings


def evaluate(config: ArchConfig, data: ProxyData, profile: ProxyProfile,
             device: torch.device | str = "cpu", latency: LatencySetting = LatencySetting(),
             on_step=None) -> Scores:
    """Score ``config``: exact params, Mult-Adds, proxy PSNR and latency.

    Raises:
        ArchConfigError: the config cannot be built.
        DivergedError: the proxy loss became NaN/Inf.
        RuntimeError: e.g. out of memory (the search marks the trial FAILED with the message).
    """
    params, macs, model, timings = cheap_scores(config, seed=profile.seed)
    result = train_proxy(model, data, profile, device, on_step=on_step)
    timings["train_s"], timings["validate_s"] = result.train_s, result.val_s
    t = time.perf_counter()
    lat = measure_latency(model, lr_hw=latency.lr_hw, in_channels=config.colors,
                          warmup=latency.warmup, repeats=latency.repeats, device=str(device),
                          channels_last=latency.channels_last)
    timings["latency_s"] = time.perf_counter() - t
    return Scores(psnr_db=result.psnr_db, params=params, mult_adds=macs,
                  latency_ms=lat.median_ms, iters=result.iters, timings=timings)
