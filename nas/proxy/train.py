"""The proxy trainer: a short, identical training run per candidate, then Y-PSNR validation.

Protocol (the papers' loss and optimiser, shortened; reference_models.md §8): L1 loss, Adam
(0.9, 0.999), cosine-annealed learning rate, random flips and 90-degree rotations, fixed seeds
and the same batch sequence for every candidate. Validation: whole (centre-cropped) held-out
images, SR quantised to 8 bit, PSNR on the Y channel (BT.601) with ``scale`` pixels shaved.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from nas.errors import NasError
from nas.metrics import psnr_y, to_uint8
from nas.proxy.data import ProxyData
from nas.proxy.profiles import ProxyProfile

__all__ = ["DivergedError", "ProxyResult", "train_proxy", "validate_psnr", "resolve_device"]


class DivergedError(NasError):
    """The training loss became NaN or infinite (the candidate is marked FAILED)."""


@dataclass
class ProxyResult:
    """Outcome of one proxy run.

    Attributes:
        psnr_db: mean validation PSNR (dB, Y channel, border ``scale`` px shaved).
        iters: optimiser steps trained (the fidelity).
        final_loss: mean L1 loss of the last 10 % of steps.
        train_s: wall time of the training loop (s).
        val_s: wall time of validation (s).
        it_per_s: training steps per second.
    """

    psnr_db: float
    iters: int
    final_loss: float
    train_s: float
    val_s: float

    @property
    def it_per_s(self) -> float:
        return self.iters / self.train_s if self.train_s > 0 else float("nan")


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU.

    Raises:
        NasError: ``cuda`` requested but not available, or an unknown device string.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NasError("--device cuda requested but torch sees no CUDA device")
    try:
        return torch.device(device)
    except RuntimeError:
        raise NasError(f"unknown device {device!r} (use auto, cpu or cuda)") from None


def _prepare(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def validate_psnr(model: nn.Module, data: ProxyData, device: torch.device,
                  channels_last: bool = False) -> float:
    """Mean Y-PSNR (dB) of ``model`` over ``data.val`` (SR quantised to uint8 first)."""
    was_training = model.training
    model.eval()
    scores = []
    for pair in data.val:
        lr = torch.from_numpy(np.ascontiguousarray(pair.lr)).permute(2, 0, 1)[None].float().div(255.0)
        sr = model(_prepare(lr, device, channels_last))
        sr_img = to_uint8(sr[0].permute(1, 2, 0).float().cpu().numpy())
        scores.append(psnr_y(sr_img, pair.hr, crop_border=data.scale))
    model.train(was_training)
    return float(np.mean(scores))


def train_proxy(model: nn.Module, data: ProxyData, profile: ProxyProfile,
                device: torch.device | str = "cpu",
                on_step: Callable[[int, float], None] | None = None) -> ProxyResult:
    """Train ``model`` in place with ``profile`` on ``data``, then validate.

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
    device = torch.device(device)
    model.to(device)
    if profile.channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=profile.lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=profile.iters, eta_min=profile.lr * 0.01)
    loss_fn = nn.L1Loss()
    tail = max(1, profile.iters // 10)
    tail_losses: list[float] = []
    t0 = time.perf_counter()
    for step in range(profile.iters):
        lr, hr = data.batch(step, profile.batch, profile.lr_patch, profile.seed, profile.augment)
        lr, hr = _prepare(lr, device, profile.channels_last), _prepare(hr, device, profile.channels_last)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(lr), hr)
        value = loss.item()
        if not math.isfinite(value):
            raise DivergedError(f"loss became {value} at step {step + 1}/{profile.iters}")
        loss.backward()
        opt.step()
        sched.step()
        if step >= profile.iters - tail:
            tail_losses.append(value)
        if on_step is not None:
            on_step(step + 1, value)
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    psnr = validate_psnr(model, data, device, profile.channels_last)
    val_s = time.perf_counter() - t1
    if not math.isfinite(psnr):
        raise DivergedError(f"validation PSNR is {psnr}")
    return ProxyResult(psnr_db=psnr, iters=profile.iters, final_loss=float(np.mean(tail_losses)),
                       train_s=train_s, val_s=val_s)
