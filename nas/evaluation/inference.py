"""Running a trained SR network on whole images of any size, with bounded memory (tiling).

Tiling (:func:`upscale_tensor`): the LR image is cut into a grid of near-equal tiles of at most
``tile`` px; each tile is run with ``overlap`` px of context on every side that has image there,
and only the tile's own core is written to the output. Core regions are disjoint and cover the
image, so there is no blending and no seam *as long as the network is local*: with an overlap at
least the network's receptive-field radius (in LR px), every core output pixel sees exactly the
input it sees in a whole-image pass, and the result equals the whole-image output up to float
rounding (zero padding happens only at true image borders, which tiles share with the whole image).

Not strictly local: CCA (IMDN, RFDN paper form; contrast-aware channel attention pools mean and
standard deviation over the whole feature map) and ESA (E-RFDN; stride-2 conv, 7x7/3 max-pool and a
bilinear resize back to the input size, whose sampling grid depends on the tile size). Tiled
outputs of such models differ slightly from whole-image outputs; ``tests/evaluation`` measures
and bounds the difference.

Y-only networks (``colors == 1``, ECBSR's published form): :func:`super_resolve` runs the network on
the Y channel (MATLAB ``rgb2ycbcr``, BT.601) and upsamples Cb and Cr with our MATLAB-compatible
bicubic, then converts back to RGB, the usual practice for Y-only SR models.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from nas.data import imresize
from nas.data.color import Y_OFFSET, Y_WEIGHTS

__all__ = ["rgb_to_ycbcr", "ycbcr_to_rgb", "to_tensor", "upscale_tensor", "super_resolve", "tile_grid"]

# MATLAB rgb2ycbcr (BT.601, studio swing): [Y, Cb, Cr] = OFFSET + M @ [R, G, B] with RGB in [0, 1];
# the Y row is nas.data.color's (the one definition of the luma the metrics score).
_M = np.array([Y_WEIGHTS, [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])
_OFFSET = np.array([Y_OFFSET, 128.0, 128.0])


def rgb_to_ycbcr(img: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2ycbcr`` of a uint8 (H, W, 3) RGB image: float64 (H, W, 3), Y in [16, 235]."""
    return img.astype(np.float64) / 255.0 @ _M.T + _OFFSET


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`: float (H, W, 3) YCbCr -> float64 RGB in [0, 1] (not clipped)."""
    return (ycc - _OFFSET) @ np.linalg.inv(_M).T


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) or (H, W) -> float32 (1, C, H, W) in [0, 1]."""
    arr = img[..., None] if img.ndim == 2 else img
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)[None].float().div_(255.0)


def tile_grid(length: int, tile: int) -> list[tuple[int, int]]:
    """Split ``[0, length)`` into ``ceil(length / tile)`` near-equal ``(start, stop)`` spans."""
    n = max(1, math.ceil(length / tile))
    edges = [round(i * length / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n)]


@torch.no_grad()
def upscale_tensor(model: nn.Module, x: torch.Tensor, scale: int, tile: int | None = None,
                   overlap: int = 16) -> torch.Tensor:
    """Super-resolve ``x``, whole or tile by tile.

    Args:
        model: eval-mode network (N, C, H, W) -> (N, C, sH, sW), on ``x``'s device.
        x: (N, C, H, W) in [0, 1].
        scale: s.
        tile: largest tile side in LR px; ``None`` or ``0`` (or an image that fits) = one pass.
        overlap: LR px of context added on each side of a tile (where the image has them). Exact
            for local networks when >= the receptive-field radius; see the module docstring.

    Returns:
        (N, C, sH, sW) float tensor (not clipped).

    Raises:
        ValueError: ``tile`` smaller than the network's ``min_input_size`` or negative overlap.
    """
    n, c, h, w = x.shape
    if not tile or (h <= tile and w <= tile):
        return model(x)
    min_size = int(getattr(model, "min_input_size", 1))
    if tile < min_size:
        raise ValueError(f"--tile {tile} is smaller than this network's minimum input ({min_size} px)")
    if overlap < 0:
        raise ValueError(f"tile overlap must be >= 0, got {overlap}")
    s = scale
    out = None
    for y0, y1 in tile_grid(h, tile):
        for x0, x1 in tile_grid(w, tile):
            py0, py1 = max(0, y0 - overlap), min(h, y1 + overlap)
            px0, px1 = max(0, x0 - overlap), min(w, x1 + overlap)
            # widen a sliver of a tile to the network's minimum input (ESA needs 15 px)
            while py1 - py0 < min_size and (py0 > 0 or py1 < h):
                py0, py1 = max(0, py0 - 1), min(h, py1 + 1)
            while px1 - px0 < min_size and (px0 > 0 or px1 < w):
                px0, px1 = max(0, px0 - 1), min(w, px1 + 1)
            y = model(x[..., py0:py1, px0:px1])
            if out is None:
                out = y.new_zeros(n, y.shape[1], h * s, w * s)
            out[..., y0 * s:y1 * s, x0 * s:x1 * s] = y[..., (y0 - py0) * s:(y1 - py0) * s,
                                                       (x0 - px0) * s:(x1 - px0) * s]
    return out


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) in [0, 1] -> uint8 (H, W, C): ``floor(clip(x, 0, 1) * 255 + 0.5)``."""
    arr = t[0].float().cpu().clamp_(0.0, 1.0).mul_(255.0).add_(0.5).floor_().to(torch.uint8)
    return arr.permute(1, 2, 0).numpy()


def super_resolve(model: nn.Module, lr: np.ndarray, scale: int, colors: int = 3, tile: int | None = None,
                  overlap: int = 16, device: str | torch.device = "cpu", return_y: bool = False) -> np.ndarray:
    """Super-resolve one uint8 RGB image; the result is quantised to uint8.

    Args:
        model: eval-mode network for [0, 1] input (on ``device``).
        lr: uint8 (H, W, 3) RGB.
        scale: s.
        colors: the network's channels: 3 (RGB) or 1 (Y only; Cb/Cr upsampled with bicubic).
        tile: LR tile size (px), see :func:`upscale_tensor`; None for the whole image.
        overlap: LR context (px) on each side of a tile, see :func:`upscale_tensor`.
        device: torch device of ``model``.
        return_y: for ``colors == 1``, return the network's Y plane, float64 (sH, sW) on the
            [0, 255] scale rounded to integers, instead of the merged RGB image.

    Returns:
        uint8 (sH, sW, 3) RGB (or the Y plane with ``return_y``).
    """
    dev = torch.device(device)
    if colors == 3:
        sr = upscale_tensor(model, to_tensor(lr).to(dev), scale, tile, overlap)
        return _to_uint8(sr)
    ycc = rgb_to_ycbcr(lr)
    y = torch.from_numpy(ycc[..., 0] / 255.0).float()[None, None].to(dev)
    sr_y = upscale_tensor(model, y, scale, tile, overlap)[0, 0].double().cpu().numpy()
    y255 = np.floor(np.clip(sr_y, 0.0, 1.0) * 255.0 + 0.5)
    if return_y:
        return y255
    cbcr = imresize(ycc[..., 1:], float(scale))
    rgb = ycbcr_to_rgb(np.concatenate([y255[..., None], cbcr], axis=2))
    return np.floor(np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
