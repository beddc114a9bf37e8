"""Full training of any ``ArchConfig`` with the papers' protocol (``nas train``).

Defaults (``shared/reference_models.md`` §8; RFDN paper, Liu et al. 2020 §4.1, and IMDN
``train_IMDN.py``): L1 loss; Adam, betas (0.9, 0.999), eps 1e-8; learning rate 5e-4 halved every
200,000 iterations; batch 64; HR patches of 64 * scale px (LR 64 px); random horizontal flips and
90-degree rotations; 1,000,000 iterations. ×3 / ×4 networks can start from a ×2 one (``init``),
as RFDN does: every tensor whose name and shape match is copied, the upsampler never is.

Batches are a pure function of ``(seed, iteration)`` (:meth:`nas.proxy.data.ProxyData.batch`), so
a resumed run sees exactly the batches the uninterrupted run would have seen. Checkpoints
(:func:`nas.checkpoints.save_checkpoint`, ``format nas-checkpoint/1``) hold the model, the
optimizer, the scheduler, the AMP scaler, the iteration, the best validation PSNR and the history;
``last.pt`` is rewritten every ``ckpt_every`` iterations and at every validation, ``best.pt`` when
the validation PSNR improves. On CUDA the forward pass runs under ``torch.autocast`` (float16)
with a ``GradScaler`` (mixed precision); on CPU in float32.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from nas.arch import ArchConfig
from nas.checkpoints import read_checkpoint, read_safetensors, read_state_dict, save_checkpoint
from nas.data import ImagePair, load_folder, rgb_to_y, rgb_to_y_torch
from nas.errors import CheckpointError, DivergedError, NasError
from nas.evaluation import psnr_plane, super_resolve
from nas.proxy.data import ProxyData, _centre_crop, check_val_sizes
from nas.models.device import resolve_device

__all__ = ["TrainSettings", "TrainResult", "TrainCallbacks", "train", "init_from", "validate"]


@dataclass
class TrainSettings:
    """Hyper-parameters of ``nas train`` (defaults: the papers' protocol, see the module docstring).

    Attributes:
        iters: optimiser steps in total (a resumed run continues up to this number).
        batch: patch pairs per step.
        patch: HR patch side in px (default ``64 * scale``); must be a multiple of the scale.
        lr: initial learning rate of Adam.
        lr_step: iterations between halvings of the learning rate.
        lr_gamma: factor applied every ``lr_step`` (0.5).
        val_every: iterations between validations (and ``best.pt`` updates).
        ckpt_every: iterations between ``last.pt`` writes.
        seed: seeds the weights and the batch sequence.
        device: ``auto`` | ``cpu`` | ``cuda``.
        amp: mixed precision (float16 autocast + GradScaler); only on CUDA.
        augment: random flips and 90-degree rotations.
        val_max_side: validation images are centre-cropped to at most this HR side (px; 0 = whole).
    """

    iters: int = 1_000_000
    batch: int = 64
    patch: int | None = None
    lr: float = 5e-4
    lr_step: int = 200_000
    lr_gamma: float = 0.5
    val_every: int = 5_000
    ckpt_every: int = 1_000
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    augment: bool = True
    val_max_side: int = 0


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        out_dir: the run folder (``last.pt``, ``best.pt``, ``history.json``, ``config.yaml``).
        iteration: last iteration trained.
        best_psnr_db: best validation PSNR (dB, Y) seen, or ``nan``.
        last_psnr_db: the last validation PSNR, or ``nan``.
        started_at: iteration the run started from (0, or the resumed checkpoint's).
        train_s: wall time of this invocation's training loop (s).
        skipped_init: keys not taken from ``init`` (with the reason).
    """

    out_dir: Path
    iteration: int
    best_psnr_db: float
    last_psnr_db: float
    started_at: int
    train_s: float
    skipped_init: dict[str, str] = field(default_factory=dict)


@dataclass
class TrainCallbacks:
    """Progress hooks (the CLI draws a rich progress bar with them); all optional."""

    start: Callable[[int, int], None] | None = None          # (start iteration, total)
    step: Callable[[int, float, float], None] | None = None  # (iteration, loss, lr)
    validated: Callable[[int, float], None] | None = None    # (iteration, PSNR dB)
    log: Callable[[str], None] | None = None


@torch.no_grad()
def validate(model: nn.Module, pairs: list[ImagePair], scale: int, colors: int, device: torch.device) -> float:
    """Mean Y-PSNR (dB; BT.601, ``scale`` px shaved, SR quantised to 8 bit) over ``pairs``."""
    was = model.training
    model.eval()
    scores = []
    for p in pairs:
        if colors == 3:
            sr_y = rgb_to_y(super_resolve(model, p.lr, scale, 3, device=device))
        else:
            sr_y = super_resolve(model, p.lr, scale, 1, device=device, return_y=True)
        hr_y = rgb_to_y(p.hr)
        s = scale
        scores.append(psnr_plane(sr_y[s:-s, s:-s], hr_y[s:-s, s:-s]))
    model.train(was)
    return float(np.mean(scores))


def _read_any_state(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors export, a nas checkpoint or a flat state dict (our key names)."""
    if path.suffix == ".safetensors":
        return read_safetensors(path)[0]
    try:
        return read_checkpoint(path)["model"]
    except CheckpointError as err:
        if "not a nas checkpoint" not in str(err):
            raise
    return read_state_dict(path)


def init_from(model: nn.Module, path: str | Path) -> tuple[list[str], dict[str, str]]:
    """Initialise ``model`` from another model's weights (RFDN: ×3/×4 from ×2).

    Every tensor whose name and shape match is copied; the upsampler is always skipped (it is
    scale-specific). Non-strict by design, but nothing is silent: what was skipped is returned.

    Args:
        model: freshly built network.
        path: ``nas`` checkpoint, safetensors export, or a state dict with our key names.

    Returns:
        ``(loaded keys, {skipped key: reason})``; reasons are ``upsampler``, ``shape A vs B``,
        ``not in the model`` and ``not in the file`` (kept freshly initialised).

    Raises:
        CheckpointError: unreadable file, or no tensor at all could be used (another architecture).
    """
    path = Path(path)
    src = _read_any_state(path)
    own = model.state_dict()
    take, skipped = {}, {}
    for k, v in src.items():
        if k.startswith("upsampler."):
            skipped[k] = "upsampler (scale-specific)"
        elif k not in own:
            skipped[k] = "not in the model"
        elif tuple(v.shape) != tuple(own[k].shape):
            skipped[k] = f"shape {tuple(v.shape)} vs {tuple(own[k].shape)}"
        else:
            take[k] = v
    for k in own:
        if k not in src and not k.startswith("upsampler."):
            skipped[k] = "not in the file (kept freshly initialised)"
    if not take:
        raise CheckpointError(f"{path}: no tensor matches this network by name and shape (another architecture?)")
    model.load_state_dict(take, strict=False)
    return sorted(take), skipped


def _load_data(config: ArchConfig, data: str | Path, val_data: str | Path | None, patch: int,
               val_max_side: int) -> tuple[ProxyData, str]:
    s = config.scale
    train_pairs = load_folder(data, s, min_size=patch)
    if val_data is not None:
        pairs = load_folder(val_data, s)
        check_val_sizes(pairs, where=str(val_data))
        val = [_centre_crop(p, val_max_side, s) for p in pairs]
        label = f"{Path(val_data).name}"
    else:
        val = [_centre_crop(p, val_max_side or 256, s) for p in train_pairs[:4]]
        label = "train crops (no --val-data: not held out)"
    return ProxyData(scale=s, train=train_pairs, val=val, source=str(data)), label


def _check_settings(st: TrainSettings) -> None:
    """Refuse settings no run can use, before any file is written.

    Raises:
        NasError: one line naming the flag and its value.
    """
    for flag, value in (("--iters", st.iters), ("--batch", st.batch), ("--lr-step", st.lr_step),
                        ("--val-every", st.val_every), ("--ckpt-every", st.ckpt_every)):
        if not isinstance(value, int) or value < 1:
            raise NasError(f"{flag} must be a whole number >= 1, got {value}")
    if st.patch is not None and st.patch < 1:
        raise NasError(f"--patch must be >= 1 HR px, got {st.patch}")
    if not (math.isfinite(st.lr) and st.lr > 0):
        raise NasError(f"--lr must be a positive number, got {st.lr}")
    if not (math.isfinite(st.lr_gamma) and 0 < st.lr_gamma <= 1):
        raise NasError(f"lr_gamma must be in (0, 1], got {st.lr_gamma}")


_RESUME_FIXED = {"batch": "--batch", "patch": "--patch", "lr": "--lr", "lr_step": "--lr-step", "lr_gamma": None,
                 "seed": "--seed", "augment": None, "val_max_side": None, "data": "--data", "val_data": "--val-data"}
"""Settings a resumed run must share with the run it continues (else it would not reproduce the
uninterrupted run, and ``best.pt`` would compare PSNRs measured on different images); ``--iters``,
``--val-every``, ``--ckpt-every``, ``--device``, ``--amp`` and ``--threads`` may change."""


def _same_folder(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).samefile(b)
    except OSError:
        return False


def _check_resume_settings(ckpt_path: Path, stored: dict, now: dict) -> None:
    """Refuse to resume with settings other than the stored run's (see ``_RESUME_FIXED``).

    Raises:
        NasError: one line naming the checkpoint, the flag, the run's value and this call's.
    """
    for key, flag in _RESUME_FIXED.items():
        if key not in stored:  # a checkpoint written before this setting was recorded
            continue
        old, new = stored[key], now.get(key)
        same = _same_folder(old, new) if key in ("data", "val_data") else old == new
        if not same:
            name = flag or key
            raise NasError(f"{ckpt_path}: the run was trained with {name} {old if old is not None else '(none)'}, "
                           f"this call has {new if new is not None else '(none)'}; resume with the run's "
                           f"settings (only --iters, --val-every, --ckpt-every, --device, --amp may change)")


def train(config: ArchConfig, data: str | Path, out_dir: str | Path, settings: TrainSettings | None = None,
          val_data: str | Path | None = None, resume: bool = False, init: str | Path | None = None,
          callbacks: TrainCallbacks | None = None) -> TrainResult:
    """Train ``config`` on a DIV2K-style folder; see the module docstring for the protocol.

    Args:
        config: the architecture (its ``scale`` is the training scale).
        data: training folder (``HR/`` + optional ``LR_bicubic/X{s}``, or images directly).
        out_dir: run folder (created).
        settings: hyper-parameters (default :class:`TrainSettings`).
        val_data: validation folder (Set5 style); without it, centre crops of the first four
            training images are scored (labelled as such: not held out).
        resume: continue from ``out_dir/last.pt`` (same architecture required) at its iteration.
        init: weights to start from (another scale of the same network); see :func:`init_from`.
        callbacks: progress hooks.

    Returns:
        :class:`TrainResult`.

    Raises:
        NasError: ``out_dir`` is a file, or holds a run and ``resume`` is False; resume without
            ``last.pt``, with another architecture or other settings (data, batch, patch, lr,
            seed, validation folder); ``resume`` and ``init`` together, a patch that is not a multiple of the scale, CUDA requested but absent.
        DataError: unusable training / validation folder (names it).
        DivergedError: the loss became NaN or infinite (names the iteration).
        CheckpointError: ``init`` unreadable or of an unrelated architecture.
    """
    from nas.models import build_model

    st = settings or TrainSettings()
    _check_settings(st)
    cb = callbacks or TrainCallbacks()
    log = cb.log or (lambda m: None)
    s = config.scale
    patch = st.patch if st.patch is not None else 64 * s
    if patch % s:
        raise NasError(f"--patch {patch} is not a multiple of the scale {s}")
    if resume and init is not None:
        raise NasError("--resume and --init exclude each other (a resumed run already has its weights)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NasError(f"{out}: exists and is not a folder (--out is the run folder)")
    if not resume and ((out / "last.pt").is_file() or (out / "best.pt").is_file()):
        raise NasError(f"{out}: holds a training run (last.pt / best.pt); pass --resume to continue it, "
                       "or another --out (nothing was overwritten)")
    log(f"training {config.summary()} -> {out}/")
    device = resolve_device(st.device)
    use_amp = st.amp and device.type == "cuda"

    # channels_last on CPU: about 1.4x faster convolutions (the proxy trainer does the same,
    # results/benchmarks/train_throughput.md); on CUDA the speed comes from AMP
    channels_last = device.type == "cpu"
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(st.seed)
    model = build_model(config).to(device, memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=st.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=st.lr_step, gamma=st.lr_gamma)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    start, best, last_psnr, history = 0, float("-inf"), float("nan"), []
    skipped: dict[str, str] = {}

    if resume:
        ckpt_path = out / "last.pt"
        if not ckpt_path.is_file():
            raise NasError(f"{ckpt_path}: nothing to resume (no last.pt in the run folder)")
        ck = read_checkpoint(ckpt_path)
        stored = ArchConfig.from_dict(ck["config"], source=f"{ckpt_path} [config]")
        if stored.arch_id != config.arch_id or stored.scale != s:
            raise NasError(f"{ckpt_path}: was trained for another architecture ({stored.summary()}); "
                           f"this run is {config.summary()}")
        _check_resume_settings(ckpt_path, ck.get("settings") or {},
                               asdict(st) | {"patch": patch, "data": str(data),
                                             "val_data": str(val_data) if val_data else None})
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        if use_amp and ck.get("scaler"):
            scaler.load_state_dict(ck["scaler"])
        start = int(ck["iteration"])
        best = float(ck.get("best_psnr_db", float("-inf")))
        history = list(ck.get("history", []))
        log(f"resumed {ckpt_path} at iteration {start:,} (best {best:.3f} dB)")
    elif init is not None:
        loaded, skipped = init_from(model, init)
        log(f"initialised {len(loaded)} tensors from {init}; skipped {len(skipped)}: "
            + ", ".join(f"{k} ({r})" for k, r in list(skipped.items())[:8])
            + (" ..." if len(skipped) > 8 else ""))

    pdata, val_label = _load_data(config, data, val_data, patch, st.val_max_side)
    log(f"data: {len(pdata.train)} training images from {data}; validation: {val_label} "
        f"({len(pdata.val)} images); device {device}{' + AMP (float16)' if use_amp else ''}")
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.yaml")

    def snapshot(path: Path, it: int) -> None:
        save_checkpoint(path, model, config, iteration=it, optimizer=opt.state_dict(),
                        scheduler=sched.state_dict(), scaler=scaler.state_dict() if use_amp else {},
                        best_psnr_db=best, val_psnr_db=last_psnr, history=history,
                        settings=asdict(st) | {"patch": patch, "data": str(data),
                                               "val_data": str(val_data) if val_data else None})

    loss_fn = nn.L1Loss()
    lr_patch = patch // s
    model.train()
    if cb.start:
        cb.start(start, st.iters)
    t0 = time.perf_counter()
    done = start  # last completed iteration
    window: list[float] = []
    try:
        for it in range(start + 1, st.iters + 1):
            lr_b, hr_b = pdata.batch(it - 1, st.batch, lr_patch, st.seed, st.augment)
            lr_b = lr_b.to(device, non_blocking=True).contiguous(memory_format=fmt)
            hr_b = hr_b.to(device, non_blocking=True).contiguous(memory_format=fmt)
            if config.colors == 1:  # Y-only networks train on Y (BT.601), as ECBSR does
                lr_b, hr_b = rgb_to_y_torch(lr_b) / 255.0, rgb_to_y_torch(hr_b) / 255.0
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                loss = loss_fn(model(lr_b), hr_b)
            value = float(loss.item())
            if not math.isfinite(value):
                raise DivergedError(f"loss became {value} at iteration {it:,}")
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            done = it
            window.append(value)
            if cb.step:
                cb.step(it, value, opt.param_groups[0]["lr"])
            if it % st.val_every == 0 or it == st.iters:
                last_psnr = validate(model, pdata.val, s, config.colors, device)
                history.append({"iteration": it, "loss": float(np.mean(window)), "psnr_db": last_psnr,
                                "lr": opt.param_groups[0]["lr"], "elapsed_s": time.perf_counter() - t0})
                window = []
                if cb.validated:
                    cb.validated(it, last_psnr)
                if last_psnr > best:
                    best = last_psnr
                    snapshot(out / "best.pt", it)
                snapshot(out / "last.pt", it)
                (out / "history.json").write_text(json.dumps(history, indent=1))
            elif it % st.ckpt_every == 0:
                snapshot(out / "last.pt", it)
    except KeyboardInterrupt:
        snapshot(out / "last.pt", done)
        log(f"interrupted: saved {out / 'last.pt'} at iteration {done:,}; resume with --resume")
        raise
    train_s = time.perf_counter() - t0
    return TrainResult(out, done, best if math.isfinite(best) else float("nan"), last_psnr, start, train_s, skipped)
