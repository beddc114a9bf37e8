"""The proxy trainer: a short, identical training run per candidate, then Y-PSNR validation.

Protocol (the papers' loss and optimiser, shortened; reference_models.md §8): L1 loss, Adam
(0.9, 0.999), cosine-annealed learning rate, random flips and 90-degree rotations, fixed seeds
and the same batch sequence for every candidate. Validation: whole (centre-cropped) held-out
images, SR quantised to 8 bit, PSNR on the Y channel (BT.601) with ``scale`` pixels shaved.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from nas.data import rgb_to_y, rgb_to_y_torch
from nas.errors import DivergedError
from nas.metrics import psnr_plane, psnr_y, to_uint8
from nas.metrics.quiet import gate
from nas.models.device import resolve_device
from nas.proxy.data import ProxyData
from nas.proxy.profiles import SKIPS, ProxyProfile

__all__ = ["DivergedError", "ProxyResult", "train_proxy", "train_segment", "train_rungs", "validate_psnr", "bicubic_psnr",
           "resolve_device", "save_train_state", "load_train_state", "torch_threads", "with_skip", "BicubicSkip"]


@dataclass
class ProxyResult:
    """Outcome of one proxy run.

    Attributes:
        psnr_db: mean validation PSNR (dB, Y channel, border ``scale`` px shaved).
        iters: optimiser steps trained in all (the fidelity), counting steps of earlier rungs.
        final_loss: mean L1 loss of the last 10 % of steps.
        train_s: wall time of the training loop (s).
        val_s: wall time of validation (s).
        start: global step this run started from (0 unless continued from a rung below).
        it_per_s: training steps per second.
    """

    psnr_db: float
    iters: int
    final_loss: float
    train_s: float
    val_s: float
    start: int = 0

    @property
    def it_per_s(self) -> float:
        return (self.iters - self.start) / self.train_s if self.train_s > 0 else float("nan")


def _prepare(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def model_colors(model: nn.Module) -> int:
    """Input channels of a network built by :func:`nas.models.build_model`: 3 (RGB) or 1 (Y)."""
    return int(getattr(model, "colors", 3))


@contextlib.contextmanager
def torch_threads(n: int | None):
    """``torch.set_num_threads(n)`` for the body, the previous count restored after (None: no
    change). The proxy trains with its profile's thread count whatever the process has."""
    if not n:
        yield
        return
    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


#: Input skips of an ``ArchConfig`` that are a fixed interpolation of the LR image (no parameters).
_INTERPOLATING_SKIPS = ("nearest", "bilinear", "bicubic")


class BicubicSkip(nn.Module):
    """Proxy-only wrapper: ``net(x)`` plus a bicubic upsampling of ``x`` (the ``bicubic`` skip of
    :class:`nas.proxy.profiles.ProxyProfile`).

    With the wrapper, a network whose output starts near zero (most of the zoo: IMDN, RFDN and
    AWSRN have no global skip) starts at interpolation quality, so a short proxy run measures
    what it adds over interpolation instead of how fast it learns to interpolate (issue 18). A
    network whose own input skip is a parameter-free interpolation (``config.input_skip``
    ``nearest``: ECBSR; ``bilinear``: NTIRE 2024 LightRLFN / DepthRLFN; ``bicubic``: VDSR) has that
    skip replaced by the proxy's, not added to it (added, the output would start at twice the
    image); a learned skip (``conv``, AWSRN) is kept. Networks with an ``input_norm`` keep theirs
    too (their skip sees the normalised image). The upsampling is torch's bicubic (Keys a = -0.75,
    ``align_corners=False``, no antialiasing), not MATLAB's (a = -0.5): any smooth interpolation
    serves, and this one is differentiable and cheap. The wrapper has no parameters of its own
    and shares ``net``'s, so training it trains ``net`` in place and ``net.state_dict()`` is the
    network's own (checkpoints, export and costs never see the wrapper).

    Args:
        net: maps (N, C, H, W) in [0, 1] to (N, C, sH, sW), C = ``net.colors`` (3 or 1).
        scale: upscaling factor ``s``.

    Shapes: (N, C, H, W) -> (N, C, sH, sW).
    """

    def __init__(self, net: nn.Module, scale: int) -> None:
        super().__init__()
        self.net, self.scale = net, int(scale)
        self.colors = model_colors(net)
        cfg = getattr(net, "config", None)
        own = getattr(cfg, "input_skip", None)
        #: the network's own interpolating skip, subtracted again in ``forward`` (None: kept)
        self.replaced_skip = (own if own in _INTERPOLATING_SKIPS and getattr(cfg, "input_norm", "none") == "none"
                              else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.net(x) + torch.nn.functional.interpolate(x, scale_factor=self.scale, mode="bicubic",
                                                          align_corners=False)
        if self.replaced_skip is not None:
            y = y - self._own_skip(x)
        return y

    def _own_skip(self, x: torch.Tensor) -> torch.Tensor:
        """The network's own skip term for input ``x`` (what ``SRNet.forward`` adds)."""
        skip = getattr(self.net, "skip", None)
        if skip is not None:
            return skip(x)
        return self.net.pre_upsample(x)  # pre_bicubic + bicubic skip: the interpolated input itself


def with_skip(model: nn.Module, skip: str, scale: int) -> nn.Module:
    """``model`` as the proxy trains and validates it under ``ProxyProfile.skip``: itself for
    ``none``, :class:`BicubicSkip` around it for ``bicubic`` (sharing its parameters).

    Raises:
        ValueError: an unknown ``skip``.
    """
    if skip == "none":
        return model
    if skip == "bicubic":
        return model if isinstance(model, BicubicSkip) else BicubicSkip(model, scale)
    raise ValueError(f"unknown proxy skip {skip!r} (known: {', '.join(SKIPS)})")


def _to_y(x: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] -> (N, 1, H, W) BT.601 Y in [16/255, 235/255] (as ECBSR trains)."""
    return rgb_to_y_torch(x) / 255.0


@torch.no_grad()
def validate_psnr(model: nn.Module, data: ProxyData, device: torch.device,
                  channels_last: bool = False, metric: str = "y") -> float:
    """Mean PSNR (dB) of ``model`` over ``data.val`` (SR quantised to 8 bit first), ``scale`` px
    shaved at each side. ``metric="y"``: an RGB network's output is converted to Y; a Y-only
    network (``colors == 1``) gets the LR Y plane and its output Y plane is scored directly (the
    ECBSR protocol). ``metric="rgb"``: the MSE over the three 8-bit channels (the NTIRE ESR
    challenges' ``util.calculate_psnr``); RGB networks only.

    Raises:
        ValueError: ``metric="rgb"`` for a Y-only network, or an unknown metric.
    """
    if metric not in ("y", "rgb"):
        raise ValueError(f"metric must be 'y' or 'rgb', got {metric!r}")
    was_training = model.training
    model.eval()
    scores = []
    y_only = model_colors(model) == 1
    if y_only and metric == "rgb":
        model.train(was_training)
        raise ValueError("RGB PSNR needs an RGB network; this one outputs Y only")
    s = data.scale
    for pair in data.val:
        lr = torch.from_numpy(np.ascontiguousarray(pair.lr)).permute(2, 0, 1)[None].float().div(255.0)
        if y_only:
            with gate().work():  # one image = one unit of the machine-wide gate (a timing waits less)
                sr = model(_prepare(_to_y(lr), device, channels_last))
            sr_y = np.floor(np.clip(sr[0, 0].double().cpu().numpy(), 0.0, 1.0) * 255.0 + 0.5)
            hr_y = rgb_to_y(pair.hr)
            scores.append(psnr_plane(sr_y[s:-s, s:-s], hr_y[s:-s, s:-s]))
            continue
        with gate().work():
            sr = model(_prepare(lr, device, channels_last))
        scores.append(_score_rgb(to_uint8(sr[0].permute(1, 2, 0).float().cpu().numpy()), pair.hr, s, metric))
    model.train(was_training)
    return float(np.mean(scores))


def _score_rgb(sr: np.ndarray, hr: np.ndarray, s: int, metric: str) -> float:
    """PSNR (dB) of a uint8 (sH, sW, 3) SR image against its HR image, ``s`` px shaved: Y (BT.601)
    or the three 8-bit channels (``metric="rgb"``)."""
    if metric == "rgb":
        return psnr_plane(sr[s:-s, s:-s], hr[s:-s, s:-s])
    return psnr_y(sr, hr, crop_border=s)


def bicubic_psnr(data: ProxyData, metric: str = "y") -> float:
    """Mean PSNR (dB) of plain bicubic upsampling of the validation images: the floor a trained
    network has to beat on this data, scored exactly as :func:`validate_psnr` scores a network.

    Each validation LR image (uint8 (H, W, 3)) is upscaled by ``data.scale`` with the
    MATLAB-compatible bicubic (``nas.data.bicubic.imresize``, uint8 output), then compared with
    its HR image with ``scale`` px shaved: on the Y channel (``metric="y"``, BT.601) or over the
    three 8-bit channels (``metric="rgb"``). A proxy PSNR near this number means the network has
    not yet learned more than interpolation (e.g. IMDN x4 on the built-in photographs: 29.38 dB
    at 180 steps against 29.36 dB for bicubic; fully trained on Set5 it is 3.8 dB above bicubic).

    Raises:
        ValueError: an unknown metric.
    """
    from nas.data.bicubic import imresize

    if metric not in ("y", "rgb"):
        raise ValueError(f"metric must be 'y' or 'rgb', got {metric!r}")
    return float(np.mean([_score_rgb(imresize(pair.lr, data.scale), pair.hr, data.scale, metric)
                          for pair in data.val]))


def train_proxy(model: nn.Module, data: ProxyData, profile: ProxyProfile,
                device: torch.device | str = "cpu",
                on_step: Callable[[int, float], None] | None = None) -> ProxyResult:
    """Train ``model`` in place with ``profile`` on ``data`` (steps ``0 .. profile.iters``), then
    validate. The fixed-proxy protocol; :func:`train_segment` with ``start=0``.

    Args:
        model: maps (N, 3, H, W) in [0, 1] to (N, 3, sH, sW); freshly initialised.
        data: proxy data (the batch sequence depends only on ``profile.seed``).
        profile: iterations, batch, patch, learning rate.
        device: torch device.
        on_step: called as ``on_step(step, loss)`` after every step (progress display).

    Returns:
        The validation PSNR (dB) and the timings.

    Raises:
        DivergedError: the loss became NaN or infinite (names the step).
    """
    result, _ = train_segment(model, data, profile, device, start=0, stop=profile.iters, on_step=on_step)
    return result


def train_segment(model: nn.Module, data: ProxyData, profile: ProxyProfile,
                  device: torch.device | str = "cpu", *, start: int, stop: int,
                  optimizer_state: dict | None = None,
                  on_step: Callable[[int, float], None] | None = None) -> tuple[ProxyResult, dict]:
    """Train ``model`` in place for the global steps ``start .. stop``, then validate.

    One *segment* is one cosine cycle: the learning rate goes from ``profile.lr`` to
    ``profile.lr * 0.01`` over ``stop - start`` steps (a warm restart when ``start > 0``, as in
    SGDR, Loshchilov & Hutter 2017). Successive halving trains rung ``r`` as the segment
    ``[rung_iters(r-1), rung_iters(r))``, continuing from the rung below's weights and Adam
    state, so every candidate at a rung has had the same protocol. The batch of global step
    ``i`` is ``data.batch(i, ...)``: a continued run sees exactly the patches a run from scratch
    would. ``start=0, stop=profile.iters`` is the fixed proxy (:func:`train_proxy`).

    Args:
        model: maps (N, C, H, W) in [0, 1] to (N, C, sH, sW), C = 3 (RGB) or 1 (Y, trained
            on the Y planes of the same patches); trained in place.
        data: proxy data.
        profile: batch, patch, learning rate, seed, augmentation, torch threads (set for the
            segment, then restored) and the proxy-only ``skip`` (:func:`with_skip`: the
            validation PSNR is the wrapped network's; ``model`` itself stays unwrapped), the
            mixed precision ``amp`` (``bf16``: forward and loss under ``torch.autocast``;
            validation in fp32); ``profile.iters`` unused.
        device: torch device.
        start / stop: global step range, ``0 <= start < stop``.
        optimizer_state: Adam ``state_dict`` at ``start`` (``None``: fresh Adam).
        on_step: called as ``on_step(global_step, loss)`` after every step.

    Returns:
        ``(result, optimizer_state)``: PSNR (dB) after the segment with ``result.iters == stop``
        (the fidelity), and Adam's state to continue from.

    Raises:
        ValueError: an empty or negative step range.
        DivergedError: the loss became NaN or infinite (names the step).
    """
    with torch_threads(getattr(profile, "threads", None)):
        return _train_segment(model, data, profile, device, start, stop, optimizer_state, on_step)


def _train_segment(model, data, profile, device, start, stop, optimizer_state, on_step):
    if not 0 <= start < stop:
        raise ValueError(f"need 0 <= start < stop, got start={start}, stop={stop}")
    device = torch.device(device)
    # the profile's proxy-only skip: trains `model`'s own parameters in place, validated with it
    model = with_skip(model, getattr(profile, "skip", "none"), data.scale)
    model.to(device)
    if profile.channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=profile.lr, betas=(0.9, 0.999))
    if optimizer_state is not None:
        opt.load_state_dict(optimizer_state)
        for group in opt.param_groups:
            group["lr"] = profile.lr
            group["initial_lr"] = profile.lr
    n = stop - start
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n, eta_min=profile.lr * 0.01)
    loss_fn = nn.L1Loss()
    tail = max(1, n // 10)
    tail_losses: list[float] = []
    y_only = model_colors(model) == 1
    amp = getattr(profile, "amp", "none") == "bf16"  # the forward and loss in bfloat16; weights stay fp32
    t0 = time.perf_counter()
    for step in range(start, stop):
        lr, hr = data.batch(step, profile.batch, profile.lr_patch, profile.seed, profile.augment)
        if y_only:  # a Y-only network (colors 1) trains on the Y planes
            lr, hr = _to_y(lr), _to_y(hr)
        lr, hr = _prepare(lr, device, profile.channels_last), _prepare(hr, device, profile.channels_last)
        # one step = one unit of the machine-wide gate: a latency timing elsewhere waits for it
        with gate().work():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = loss_fn(model(lr), hr)
            value = loss.item()
            if not math.isfinite(value):
                raise DivergedError(f"loss became {value} at step {step + 1}/{stop}")
            loss.backward()
            opt.step()
            sched.step()
            if device.type == "cuda":  # the step's kernels end inside the gate, before a timing can start
                torch.cuda.synchronize(device)
        if step >= stop - tail:
            tail_losses.append(value)
        if on_step is not None:
            on_step(step + 1, value)
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    psnr = validate_psnr(model, data, device, profile.channels_last, getattr(profile, "metric", "y"))
    val_s = time.perf_counter() - t1
    if not math.isfinite(psnr):
        raise DivergedError(f"validation PSNR is {psnr}")
    result = ProxyResult(psnr_db=psnr, iters=stop, final_loss=float(np.mean(tail_losses)),
                         train_s=train_s, val_s=val_s, start=start)
    return result, opt.state_dict()


def train_rungs(model: nn.Module, data: ProxyData, profile: ProxyProfile, rung_stops: list[int],
                device: torch.device | str = "cpu",
                on_step: Callable[[int, float], None] | None = None) -> list[ProxyResult]:
    """Train through successive-halving rungs without stopping: one :func:`train_segment` per
    rung, ``[0, rung_stops[0])``, ``[rung_stops[0], rung_stops[1])``, ..., validating after each.
    What a candidate that is promoted to the top rung goes through (used to calibrate the
    proxy, ``benchmarks/fidelity.py``).

    Returns:
        One result per rung (PSNR in dB at ``rung_stops[i]`` iterations).

    Raises:
        ValueError: ``rung_stops`` not strictly increasing and positive.
        DivergedError: the loss became NaN or infinite.
    """
    if not rung_stops or any(b <= a for a, b in zip([0, *rung_stops], rung_stops)):
        raise ValueError(f"rung_stops must be positive and strictly increasing, got {rung_stops}")
    results, state, start = [], None, 0
    for stop in rung_stops:
        result, state = train_segment(model, data, profile, device, start=start, stop=stop,
                                      optimizer_state=state, on_step=on_step)
        results.append(result)
        start = stop
    return results


def save_train_state(path: str | Path, model: nn.Module, optimizer_state: dict, step: int,
                     arch_id: str) -> None:
    """Write a continuation checkpoint (weights, Adam state, global step, ``arch_id``) atomically
    (temporary file + rename), so a killed worker never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"step": step, "arch_id": arch_id, "model": model.state_dict(),
                "optimizer": optimizer_state}, tmp)
    os.replace(tmp, path)


def load_train_state(path: str | Path, model: nn.Module, step: int, arch_id: str) -> dict | None:
    """Load a continuation checkpoint into ``model`` if it is the one expected.

    Returns:
        Adam's state dict, or ``None`` (model untouched) when the file is missing, unreadable,
        or holds another architecture or another step: the caller then replays the rungs below
        from scratch, which gives the same protocol.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("step") != step or state.get("arch_id") != arch_id:
            return None
        model.load_state_dict(state["model"])
        return state["optimizer"]
    except Exception:  # noqa: BLE001 - a bad checkpoint only costs a replay
        return None
