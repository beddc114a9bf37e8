"""Cost of a network: exact parameters, Mult-Adds (fvcore) and measured latency.

Mult-Adds follow the lightweight-SR papers' convention: multiply-accumulate operations (MACs)
of one forward pass producing a 1280x720 HR image (LR 640x360 / 427x240 / 320x180 at
x2 / x3 / x4). They are MACs, not FLOPs (1 MAC = 2 FLOPs in most other fields).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["count_params", "lr_size_for_hr", "mult_adds", "fvcore_mult_adds", "thop_mult_adds", "LatencyResult",
           "measure_latency"]

HR_720P = (720, 1280)
"""(H, W) of the HR output the papers' Mult-Adds are quoted for."""


def count_params(model: nn.Module) -> int:
    """Exact number of parameters, as the papers and the official code count them.

    Args:
        model: any module.

    Returns:
        ``sum(p.numel() for p in model.parameters())``: trainable and frozen parameters
        (fixed ECB masks registered as parameters count too); buffers do not count.
    """
    return sum(p.numel() for p in model.parameters())


def lr_size_for_hr(scale: int, hr_hw: tuple[int, int] = HR_720P) -> tuple[int, int]:
    """LR input size for an HR output size: ``ceil(hr / scale)`` per side.

    Args:
        scale: upscaling factor s >= 1.
        hr_hw: HR (H, W) in pixels; default 720x1280.

    Returns:
        LR (H, W): x2 (360, 640), x3 (240, 427), x4 (180, 320) for the default.

    Raises:
        ValueError: ``scale`` or a side is not positive.
    """
    if scale < 1 or min(hr_hw) < 1:
        raise ValueError(f"scale and HR size must be positive, got x{scale} and {hr_hw}")
    return math.ceil(hr_hw[0] / scale), math.ceil(hr_hw[1] / scale)


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode, then restore each one's own ``training`` flag."""
    flags = {m: m.training for m in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for m, flag in flags.items():
            m.training = flag


@contextlib.contextmanager
def _quiet_fvcore() -> Iterator[None]:
    """Silence fvcore's log records and the JIT tracer's warnings for the duration."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            yield
    finally:
        logger.setLevel(level)


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _upsample_flops(*args, out_shape=None, **kwargs) -> int:
    """fvcore's count for bilinear upsampling (4 per output element), in FlopCounterMode's FLOPs
    (2 per multiply-add)."""
    n = 1
    for d in out_shape:
        n *= int(d)
    return 2 * 4 * n


def mult_adds(model: nn.Module, scale: int, hr_hw: tuple[int, int] = HR_720P, in_channels: int = 3) -> int:
    """Mult-Adds of one forward pass producing an ``hr_hw`` output, counted without computing it.

    Mult-Adds (MACs), not FLOPs. ``torch.utils.flop_counter.FlopCounterMode`` counts a copy of
    the model on PyTorch's ``meta`` device (shapes only, no arithmetic: 0.05-0.6 s for the zoo
    where a real 720p forward pass takes 1-2.5 s on 2 CPU cores); its FLOPs (2 per multiply-add)
    are halved, and bilinear upsampling (ESA) is counted as fvcore does, 4 per output element,
    so the result equals :func:`fvcore_mult_adds` exactly on every zoo network (tests/metrics).
    Convolutions and linear layers are counted exactly (bias not counted); element-wise ops
    (activations, sigmoid, additions, multiplications, CCA statistics) are not. A model that
    cannot run on ``meta`` is counted by fvcore instead. The input is ``(1, in_channels, h, w)``
    with ``(h, w) = lr_size_for_hr(scale, hr_hw)``; the model runs in eval mode under
    ``torch.no_grad``; ``model`` itself is not touched.

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        scale: upscaling factor s >= 1.
        hr_hw: HR output (H, W) in pixels; default 720x1280 (the papers' convention).
        in_channels: C (3 for RGB models, 1 for Y-only models).

    Returns:
        Total MACs as an int.

    Raises:
        ValueError: ``scale`` or ``hr_hw`` is not positive.
        RuntimeError: the model cannot be traced or run on the input.
    """
    from torch.utils.flop_counter import FlopCounterMode

    h, w = lr_size_for_hr(scale, hr_hw)
    try:
        meta = copy.deepcopy(model).to("meta").eval()
        counter = FlopCounterMode(display=False, custom_mapping={
            torch.ops.aten.upsample_bilinear2d: _upsample_flops,
            torch.ops.aten.upsample_bilinear2d.vec: _upsample_flops})
        with counter, torch.no_grad():
            meta(torch.zeros(1, in_channels, h, w, device="meta"))
        return int(counter.get_total_flops()) // 2
    except (RuntimeError, NotImplementedError, TypeError):  # an op without a meta kernel
        return fvcore_mult_adds(model, scale, hr_hw, in_channels)


#: LR input side of the NTIRE efficient-SR challenges' FLOPs count (1x3x256x256).
NTIRE_LR_SIDE = 256


def ntire_flops(model: nn.Module, scale: int, in_channels: int = 3) -> int:
    """The "FLOPs" the NTIRE ESR challenges rank by: fvcore's count on a 1 x C x 256 x 256 LR
    input, which is multiply-accumulates (MACs), counted here by :func:`mult_adds` (equal to
    fvcore's on the zoo). RLFN_cut: 19.67 G, SPAN (deploy form): 9.83 G, as the challenge
    READMEs (Amazingren/NTIRE2024_ESR, NTIRE2026_ESR) give them.

    Raises:
        ValueError / RuntimeError: as :func:`mult_adds`.
    """
    return mult_adds(model, scale, hr_hw=(NTIRE_LR_SIDE * scale, NTIRE_LR_SIDE * scale), in_channels=in_channels)


def fvcore_mult_adds(model: nn.Module, scale: int, hr_hw: tuple[int, int] = HR_720P, in_channels: int = 3) -> int:
    """The same count with fvcore ``FlopCountAnalysis`` on a real forward pass (one multiply-add
    is one "flop"; bilinear upsampling 4 per output element): the cross-check of
    :func:`mult_adds` and its fallback. fvcore traces the model with ``torch.jit`` on a zeros
    input of the LR size, on the model's device, in eval mode; each submodule's ``training`` flag
    is restored afterwards.

    Raises:
        ValueError: ``scale`` or ``hr_hw`` is not positive.
        RuntimeError: the model cannot be traced or run on the input.
    """
    from fvcore.nn import FlopCountAnalysis

    h, w = lr_size_for_hr(scale, hr_hw)
    x = torch.zeros(1, in_channels, h, w, device=_model_device(model))
    with _eval_mode(model), torch.no_grad(), _quiet_fvcore():
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analysis.total())


def thop_mult_adds(model: nn.Module, scale: int, hr_hw: tuple[int, int] = HR_720P, in_channels: int = 3) -> int:
    """The same count with ultralytics-thop (``thop.profile``), to cross-check :func:`mult_adds`.

    thop hooks module calls only: convolutions agree with fvcore exactly, but functional calls
    (``F.interpolate`` in ESA) are missed. Runs on a deep copy (thop adds buffers to modules).

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        scale: upscaling factor s >= 1.
        hr_hw: HR output (H, W) in pixels; default 720x1280.
        in_channels: C.

    Returns:
        Total MACs as an int.

    Raises:
        ImportError: ultralytics-thop is not installed (it is a test dependency).
        ValueError: ``scale`` or ``hr_hw`` is not positive.
    """
    from thop import profile

    h, w = lr_size_for_hr(scale, hr_hw)
    m = copy.deepcopy(model).eval()
    x = torch.zeros(1, in_channels, h, w, device=_model_device(m))
    with torch.no_grad():
        macs, _ = profile(m, inputs=(x,), verbose=False)
    return int(macs)


@dataclass(frozen=True)
class LatencyResult:
    """A latency measurement.

    Attributes:
        median_ms: median wall-clock time of one forward pass (ms).
        iqr_ms: inter-quartile range of the timed passes (ms); 0 with fewer than 2 passes.
        repeats: number of timed passes.
        threads: ``torch.get_num_threads()`` during the measurement.
        device: torch device string (``cpu``, ``cuda:0``).
        input_shape: (N, C, H, W) of the LR input.
        clock: ``perf_counter`` (host clock) or ``cuda_event`` (a ``torch.cuda.Event`` pair
            recorded on the stream around each pass, as the NTIRE ESR ``test_demo.py`` times
            runtime).
    """

    median_ms: float
    iqr_ms: float
    repeats: int
    threads: int
    device: str
    input_shape: tuple[int, int, int, int]
    clock: str = "perf_counter"


def _pass_timer(dev: torch.device) -> tuple[Callable[[Callable[[], object]], float], str]:
    """``(time_pass, clock)``: ``time_pass(fn)`` runs ``fn`` once on ``dev`` and returns its time (ms).

    On CUDA: ``torch.cuda.Event(enable_timing=True)`` recorded before and after the pass on the
    current stream, then ``end.synchronize()`` and ``start.elapsed_time(end)``, the NTIRE ESR
    challenge's runtime protocol (Amazingren/NTIRE2024_ESR ``test_demo.py``); elsewhere
    ``time.perf_counter`` around the call.
    """
    if dev.type == "cuda":
        def time_cuda(fn: Callable[[], object]) -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end))

        return time_cuda, "cuda_event"

    def time_host(fn: Callable[[], object]) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000.0

    return time_host, "perf_counter"


def measure_latency(model: nn.Module, lr_hw: tuple[int, int] = (64, 64), in_channels: int = 3,
                    warmup: int = 3, repeats: int = 10, device: str = "cpu",
                    channels_last: bool = True, budget_ms: float = 0.0, min_repeats: int = 3,
                    timed_in: Callable[[Callable[[], None]], contextlib.AbstractContextManager] | None = None,
                    ) -> LatencyResult:
    """Forward-pass latency of a model in eval mode under ``torch.inference_mode``, fp32.

    Times a deep copy of ``model``, so the caller's model keeps its training flag, device and
    memory format (converting to ``channels_last`` is in place for parameters). On CUDA each
    pass is timed with a pair of CUDA events (:func:`_pass_timer`), elsewhere with
    ``time.perf_counter``. The input is uniform noise in [0, 1].

    With ``budget_ms > 0`` the timed passes stop early, once at least ``min_repeats`` have been
    timed and together took ``budget_ms`` or more: a 30 ms network is timed 4 times at a 100 ms
    budget, a 1 ms network still ``repeats`` times (``nas search``'s protocol since 2026-12-02;
    ``benchmarks/latency_passes.py`` measured that the medians of 4 and of 10 passes vary
    between rounds alike on the 2-core machine).

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        lr_hw: LR input (H, W) in pixels.
        in_channels: C.
        warmup: untimed passes first (>= 0).
        repeats: timed passes (>= 1); the most with a budget.
        device: torch device string, e.g. ``cpu`` or ``cuda``.
        channels_last: run model and input in ``torch.channels_last`` (usually faster on CPU).
        budget_ms: time budget of the timed passes (ms); 0: always ``repeats`` passes.
        min_repeats: the fewest timed passes under a budget (at most ``repeats``).
        timed_in: ``timed_in(warm)`` returns the context the timed passes run in, and calls
            ``warm()`` (the warm-up passes) itself before the timed passes; ``nas search`` passes
            the quiet gate's ``quiet(before=warm)``, so the untimed warm-up overlaps the other
            workers' steps still in flight and only the timed passes need the machine to itself.

    Returns:
        :class:`LatencyResult` (times in ms, with the clock used).

    Raises:
        ValueError: ``repeats`` < 1, ``warmup`` < 0, ``budget_ms`` < 0, ``min_repeats`` < 1 or
            a non-positive input size.
        RuntimeError: the device is unavailable or the model fails on the input.
    """
    if repeats < 1 or warmup < 0 or min(lr_hw) < 1 or in_channels < 1 or budget_ms < 0 or min_repeats < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, budget_ms >= 0, min_repeats >= 1 and a positive "
                         f"input size; got repeats={repeats}, warmup={warmup}, budget_ms={budget_ms}, "
                         f"min_repeats={min_repeats}, lr_hw={lr_hw}, in_channels={in_channels}")
    dev = torch.device(device)
    m = copy.deepcopy(model).to(dev).eval()
    x = torch.rand(1, in_channels, *lr_hw, device=dev)
    if channels_last:
        m = m.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    time_pass, clock = _pass_timer(dev)
    floor = min(min_repeats, repeats)
    times: list[float] = []
    def warm() -> None:
        with torch.inference_mode():
            for _ in range(warmup):
                m(x)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)

    if timed_in is None:
        warm()
        context: contextlib.AbstractContextManager = contextlib.nullcontext()
    else:
        context = timed_in(warm)
    with context, torch.inference_mode():
        for _ in range(repeats):
            times.append(time_pass(lambda: m(x)))
            if budget_ms > 0 and len(times) >= floor and sum(times) >= budget_ms:
                break
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
        iqr = q3 - q1
    else:
        iqr = 0.0
    return LatencyResult(median_ms=statistics.median(times), iqr_ms=iqr, repeats=len(times),
                         threads=torch.get_num_threads(), device=str(dev),
                         input_shape=(1, in_channels, int(lr_hw[0]), int(lr_hw[1])), clock=clock)
