"""Cost of a network: exact parameters, Mult-Adds (fvcore) and measured latency.

Mult-Adds follow the SR papers' convention: multiply-accumulate operations (MACs) for an HR
output of 1280x720 (LR 640x360 / 427x240 / 320x180 at x2 / x3 / x4). They are MACs, not FLOPs.
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["count_params", "lr_size_for_hr", "mult_adds", "thop_mult_adds", "LatencyResult", "measure_latency"]


def count_params(model: nn.Module) -> int:
    """Exact parameter count: ``sum(p.numel() for p in model.parameters())`` (as the papers and
    the official code count; fixed ECB masks are parameters and count too)."""
    return sum(p.numel() for p in model.parameters())


def lr_size_for_hr(scale: int, hr_hw: tuple[int, int] = (720, 1280)) -> tuple[int, int]:
    """LR (H, W) for an HR size: ``ceil(hr / scale)`` (x3 of 1280x720 gives 427x240)."""
    return math.ceil(hr_hw[0] / scale), math.ceil(hr_hw[1] / scale)


def mult_adds(model: nn.Module, scale: int, hr_hw: tuple[int, int] = (720, 1280), in_channels: int = 3) -> int:
    """Mult-Adds (MACs) of one forward pass producing an ``hr_hw`` output, counted by fvcore.

    fvcore counts one multiply-add as one "flop": convolutions exactly (bias not counted),
    bilinear upsampling included, element-wise ops (activations, additions, sigmoid) ignored.

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        scale: upscaling factor s.
        hr_hw: HR output (H, W) in pixels; default 720x1280.
        in_channels: C.

    Returns:
        MACs as an int.
    """
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    h, w = lr_size_for_hr(scale, hr_hw)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.zeros(1, in_channels, h, w)
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            total = int(analysis.total())
    finally:
        model.train(was_training)
    return total


def thop_mult_adds(model: nn.Module, scale: int, hr_hw: tuple[int, int] = (720, 1280), in_channels: int = 3) -> int:
    """The same count with ultralytics-thop (``thop.profile``), for cross-checking fvcore.
    thop counts module calls only (functional calls such as ``F.interpolate`` are missed)."""
    from thop import profile

    h, w = lr_size_for_hr(scale, hr_hw)
    m = copy.deepcopy(model).eval()
    with torch.no_grad():
        macs, _ = profile(m, inputs=(torch.zeros(1, in_channels, h, w),), verbose=False)
    return int(macs)


@dataclass(frozen=True)
class LatencyResult:
    """A latency measurement.

    Attributes:
        median_ms: median of the timed forward passes (ms).
        iqr_ms: inter-quartile range of the timed passes (ms).
        repeats: timed passes.
        threads: ``torch.get_num_threads()`` during the measurement.
        device: torch device string.
        input_shape: (N, C, H, W) of the LR input.
    """

    median_ms: float
    iqr_ms: float
    repeats: int
    threads: int
    device: str
    input_shape: tuple[int, int, int, int]


def measure_latency(model: nn.Module, lr_hw: tuple[int, int] = (64, 64), in_channels: int = 3,
                    warmup: int = 3, repeats: int = 10, device: str = "cpu",
                    channels_last: bool = True) -> LatencyResult:
    """Median forward latency in eval mode under ``torch.inference_mode``.

    Works on a deep copy, so the caller's model keeps its mode, device and memory format.
    On CUDA every pass is synchronised before the clock is read.

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        lr_hw: LR input (H, W).
        warmup: untimed passes first.
        repeats: timed passes (>= 1).
        device: ``cpu`` or ``cuda``.
        channels_last: time the model in ``torch.channels_last`` (faster on CPU).

    Returns:
        :class:`LatencyResult` in ms.
    """
    dev = torch.device(device)
    m = copy.deepcopy(model).to(dev).eval()
    x = torch.rand(1, in_channels, *lr_hw, device=dev)
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            m(x)
        sync()
        for _ in range(max(1, repeats)):
            t = time.perf_counter()
            m(x)
            sync()
            times.append((time.perf_counter() - t) * 1000.0)
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return LatencyResult(median_ms=statistics.median(times), iqr_ms=q[2] - q[0], repeats=len(times),
                         threads=torch.get_num_threads(), device=str(dev),
                         input_shape=(1, in_channels, *lr_hw))
