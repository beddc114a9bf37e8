"""MATLAB-compatible bicubic resizing (``imresize(img, scale, 'bicubic')``).

The SR benchmarks' LR images are made with MATLAB's ``imresize``: cubic kernel with a = -0.5,
kernel width 4, widened to ``4 / scale`` with weights multiplied by ``scale`` when shrinking
(antialiasing), symmetric padding at the borders, output size ``ceil(in * scale)``, and uint8
results rounded half away from zero. This is the same convention as BasicSR
``basicsr/utils/matlab_functions.py`` ``imresize``; implemented here as one weight matrix per axis
(out x in), applied with two matrix products.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["imresize", "bicubic_downscale"]


def _cubic(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    a2, a3 = a * a, a * a * a
    return (1.5 * a3 - 2.5 * a2 + 1) * (a <= 1) + (-0.5 * a3 + 2.5 * a2 - 4 * a + 2) * ((a > 1) & (a <= 2))


@lru_cache(maxsize=64)
def _weight_matrix(in_len: int, out_len: int, scale: float, antialiasing: bool) -> np.ndarray:
    """(out_len, in_len) float64 matrix W so that ``out = W @ in`` along one axis."""
    kernel_width = 4.0
    shrink = scale < 1 and antialiasing
    if shrink:
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # output pixel centre in input coordinates (1-based)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based input indices
    dist = u[:, None] - idx
    w = scale * _cubic(dist * scale) if shrink else _cubic(dist)
    w /= w.sum(axis=1, keepdims=True)
    i0 = idx.astype(np.int64) - 1  # 0-based, then mirror symmetrically (MATLAB 'symmetric')
    period = 2 * in_len
    i0 = np.mod(i0, period)
    i0 = np.where(i0 >= in_len, period - 1 - i0, i0)
    mat = np.zeros((out_len, in_len), dtype=np.float64)
    np.add.at(mat, (np.repeat(np.arange(out_len), taps), i0.ravel()), w.ravel())
    return mat


def imresize(img: np.ndarray, scale: float, antialiasing: bool = True) -> np.ndarray:
    """Resize like MATLAB ``imresize(img, scale, 'bicubic')``.

    Args:
        img: (H, W) or (H, W, C), uint8 or float.
        scale: factor; output size is ``ceil(H * scale) x ceil(W * scale)``.
        antialiasing: widen the kernel when shrinking (MATLAB's default).

    Returns:
        Same layout; uint8 input gives uint8 (clipped, rounded half away from zero like MATLAB),
        float input gives float64 (not clipped).

    Raises:
        ValueError: non-positive scale or an empty image.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    arr = np.asarray(img)
    if arr.size == 0:
        raise ValueError("cannot resize an empty image")
    h, w = arr.shape[:2]
    oh, ow = int(math.ceil(h * scale - 1e-9)), int(math.ceil(w * scale - 1e-9))
    wh = _weight_matrix(h, oh, float(scale), antialiasing)
    ww = _weight_matrix(w, ow, float(scale), antialiasing)
    x = arr.astype(np.float64)
    if x.ndim == 2:
        out = wh @ x @ ww.T
    else:
        c = x.shape[2]
        out = (wh @ x.reshape(h, w * c)).reshape(oh, w, c)          # rows: BLAS matmul
        out = np.matmul(ww, out)                                       # (oh, ow, c): batched over rows
    if arr.dtype == np.uint8:
        return np.floor(np.clip(out, 0, 255) + 0.5).astype(np.uint8)
    return out


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """LR = MATLAB bicubic of HR by ``1/scale`` (HR should be mod-cropped to a multiple of scale).

    Args:
        hr: uint8 (sH, sW, 3).
        scale: integer factor s.

    Returns:
        uint8 (H, W, 3).
    """
    return imresize(hr, 1.0 / scale)
