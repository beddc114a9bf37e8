"""Colour conversion with the SR papers' convention: MATLAB ``rgb2ycbcr`` (BT.601) luma."""

from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_y", "modcrop"]


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """Y of BT.601 as MATLAB ``rgb2ycbcr``: ``16 + 65.481 R + 128.553 G + 24.966 B`` with R, G, B
    in [0, 1].

    Args:
        img: (H, W, 3) RGB, uint8 ([0, 255]) or float ([0, 1]).

    Returns:
        float64 (H, W) in [16, 235] (not rounded).
    """
    x = np.asarray(img)
    x = x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    return 16.0 + x[..., 0] * 65.481 + x[..., 1] * 128.553 + x[..., 2] * 24.966


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop (H, W, ...) to multiples of ``scale`` (bottom and right edges dropped)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]
