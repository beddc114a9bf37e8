"""Standard SR evaluation: PSNR / SSIM on the Y channel over benchmark folders.

Conventions (``shared/reference_models.md`` §6; the RCAN / AWSRN ``Evaluate_PSNR_SSIM.m`` script,
which IMDN's README says produced its table, and BasicSR ``calculate_psnr(..., test_y_channel=True)``):

* HR mod-cropped to a multiple of the scale; LR from ``LR_bicubic/X{s}`` when the folder ships it,
  else (or with ``bicubic_lr=True``) our MATLAB-compatible bicubic of the HR image;
* SR output clipped to [0, 1] and quantised to 8 bit (as saved to disk);
* Y of BT.601 (MATLAB ``rgb2ycbcr``), kept as float, ``scale`` px shaved at each border;
* PSNR = 10 log10(255^2 / MSE) (dB); SSIM = Wang et al. 2004 (11x11 Gaussian, sigma 1.5);
  averaged per image over the set.

``y_convention="rounded"`` instead rounds both Y planes to integers first, as Zheng222/IMDN
``test_IMDN.py`` does (``utils.quantize(sc.rgb2ycbcr(img)[:, :, 0])``); it changes PSNR by a few
hundredths of a dB and is offered only to compare with that script.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nas.data import bicubic_downscale, dataset_name, load_folder, rgb_to_y
from nas.errors import DataError
from nas.evaluation.inference import super_resolve
from nas.metrics.quality import psnr_plane, ssim_plane

__all__ = ["evaluate_dataset", "evaluate_datasets", "psnr_plane", "ssim_plane"]


def _shave(p: np.ndarray, border: int) -> np.ndarray:
    return p[border:-border, border:-border] if border else p


def evaluate_dataset(model: nn.Module, folder: str | Path, scale: int, *, bicubic_lr: bool = False,
                     device: str | torch.device = "cpu", tile: int | None = None, tile_overlap: int = 16,
                     y_convention: str = "float", metric: str = "y",
                     on_image: Callable[[str, float, float], None] | None = None) -> dict:
    """PSNR / SSIM of ``model`` on one benchmark folder (Y channel, see the module docstring).

    Args:
        model: eval-mode network for [0, 1] input, (N, C, H, W) -> (N, C, sH, sW); C = 3, or 1
            for Y-only networks (then the network's Y is scored directly). Wrap [0, 255] weights
            in :class:`nas.checkpoints.PixelRange` first (``load_model`` does).
        folder: ``DIR/HR`` (+ ``DIR/LR_bicubic/X{s}``) or images directly in ``DIR``.
        scale: s; also the border shaved (px).
        bicubic_lr: ignore a shipped ``LR_bicubic`` and make the LR with our MATLAB bicubic.
        device: where the model is.
        tile: LR tile size (px) for tiled inference (:func:`nas.evaluation.upscale_tensor`);
            default (None) the whole image.
        tile_overlap: LR context (px) on each side of a tile.
        y_convention: ``float`` (MATLAB script, the papers) or ``rounded`` (IMDN's Python script).
        metric: ``y`` (the papers: BT.601 Y) or ``rgb`` (the NTIRE efficient-SR challenges'
            ``test_demo.py``: PSNR over the three 8-bit RGB channels, ``scale`` px shaved, 4 at
            x4; SSIM the mean of the per-channel SSIMs, as BasicSR ``calculate_ssim``). RGB
            networks only.
        on_image: called as ``on_image(name, psnr_db, ssim)`` after each image.

    Returns:
        ``{"psnr_db": mean dB, "ssim": mean, "per_image": {name: {"psnr_db": dB, "ssim": x}}}``.

    Raises:
        DataError: missing / empty folder, LR of the wrong size (names the path), or an image too
            small to score.
        ImageReadError: an unreadable image (names it).
    """
    if y_convention not in ("float", "rounded"):
        raise ValueError(f"y_convention must be 'float' or 'rounded', got {y_convention!r}")
    if metric not in ("y", "rgb"):
        raise ValueError(f"metric must be 'y' or 'rgb', got {metric!r}")
    colors = int(getattr(model, "colors", 3))
    if metric == "rgb" and colors != 3:
        raise DataError(f"{folder}: --metric rgb scores RGB outputs; this network outputs Y only (use --metric y)")
    pairs = load_folder(folder, scale, with_lr=not bicubic_lr)
    was_training = model.training
    model.eval()
    per_image: dict[str, dict[str, float]] = {}
    try:
        for pair in pairs:
            lr = bicubic_downscale(pair.hr, scale) if bicubic_lr else pair.lr
            if metric == "rgb":  # the three 8-bit channels; SSIM the mean of the per-channel ones
                sr, hr = super_resolve(model, lr, scale, 3, tile, tile_overlap, device), pair.hr
                planes = lambda a, b: [(a[..., c], b[..., c]) for c in range(3)]  # noqa: E731
            else:
                sr = (rgb_to_y(super_resolve(model, lr, scale, 3, tile, tile_overlap, device)) if colors == 3 else
                      super_resolve(model, lr, scale, 1, tile, tile_overlap, device, return_y=True))
                hr = rgb_to_y(pair.hr)
                if y_convention == "rounded":
                    sr, hr = np.round(sr), np.round(hr)
                planes = lambda a, b: [(a, b)]  # noqa: E731
            if sr.shape != hr.shape:
                raise DataError(f"{folder}: {pair.name}: SR is {sr.shape[:2][::-1]} px, HR {hr.shape[:2][::-1]}")
            a, b = _shave(sr, scale), _shave(hr, scale)
            try:
                p = psnr_plane(a, b)
                s = float(np.mean([ssim_plane(x, y) for x, y in planes(a, b)]))
            except ValueError as err:
                raise DataError(f"{folder}: {pair.name}: {err}") from None
            per_image[pair.name] = {"psnr_db": p, "ssim": s}
            if on_image is not None:
                on_image(pair.name, p, s)
    finally:
        model.train(was_training)
    return {
        "psnr_db": float(np.mean([v["psnr_db"] for v in per_image.values()])),
        "ssim": float(np.mean([v["ssim"] for v in per_image.values()])),
        "per_image": per_image,
    }


def evaluate_datasets(model: nn.Module, folders: list[str | Path], scale: int, **kwargs) -> dict[str, dict]:
    """:func:`evaluate_dataset` over several folders: ``{folder name: result}`` (``Set5``, ...).

    Raises:
        DataError: two folders with the same name (the JSON keys would collide).
    """
    out: dict[str, dict] = {}
    for folder in folders:
        name = dataset_name(folder)
        if name in out:
            raise DataError(f"{folder}: two --data folders are both named {name!r}")
        out[name] = evaluate_dataset(model, folder, scale, **kwargs)
    return out
