"""MATLAB-compatible bicubic resizing (``imresize(img, scale, 'bicubic')``).

The SR benchmarks' LR images are made with MATLAB's ``imresize``. Its conventions, reproduced
here (same facts as BasicSR ``basicsr/utils/matlab_functions.py``, reference_models.md §6):

* cubic kernel with a = -0.5, support 4 input pixels;
* when shrinking with antialiasing, the kernel is stretched to ``4 / scale`` pixels and its
  weights multiplied by ``scale``; the weights of each output pixel are normalised to sum to 1;
* output pixel ``x`` (1-based) is centred at ``x / scale + 0.5 (1 - 1 / scale)`` in the input;
* borders are padded symmetrically (mirror including the edge pixel);
* output size ``ceil(in * scale)``;
* the image is resized along the height first, then the width. For uint8 images MATLAB's
  ``imresizemex`` returns uint8 after *each* pass, so the intermediate image is rounded (half
  away from zero) and saturated to [0, 255] before the second pass. Keeping that intermediate
  rounding reproduces the official Set5 / Set14 LR images bit for bit; resizing in float and
  rounding once (as BasicSR does) differs from them in 10-15 % of the pixels.

Each axis is one sparse (out x in) weight matrix, applied as a matrix product.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import sparse

__all__ = ["imresize", "bicubic_downscale", "matlab_cubic"]


def matlab_cubic(x: np.ndarray | float) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB ``cubic``), element-wise; the one
    definition both this module and ``nas.primitives.BicubicUpsample`` use."""
    a = np.abs(x)
    a2, a3 = a * a, a * a * a
    return ((1.5 * a3 - 2.5 * a2 + 1) * (a <= 1)
            + (-0.5 * a3 + 2.5 * a2 - 4 * a + 2) * ((a > 1) & (a <= 2)))


@lru_cache(maxsize=64)
def _weight_matrix(in_len: int, out_len: int, scale: float, antialiasing: bool) -> sparse.csr_matrix:
    """Sparse (out_len, in_len) float64 matrix W with ``out = W @ in`` along one axis."""
    shrink = scale < 1 and antialiasing
    kernel_width = 4.0 / scale if shrink else 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # centre of output pixel x in input coordinates (1-based)
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based input indices, (out_len, taps)
    dist = u[:, None] - idx
    w = scale * matlab_cubic(dist * scale) if shrink else matlab_cubic(dist)
    w /= w.sum(axis=1, keepdims=True)
    period = 2 * in_len  # symmetric padding: ... 2 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...
    cols = np.mod(idx.astype(np.int64) - 1, period)
    cols = np.where(cols >= in_len, period - 1 - cols, cols)
    rows = np.repeat(np.arange(out_len), taps)
    # duplicate (row, col) entries from the mirrored border are summed by the conversion
    return sparse.coo_matrix((w.ravel(), (rows, cols.ravel())), shape=(out_len, in_len)).tocsr()


def _resize_rows(x: np.ndarray, mat: sparse.csr_matrix) -> np.ndarray:
    """Apply ``mat`` along axis 0 of a float64 (H, ...) array."""
    return np.asarray(mat @ x.reshape(x.shape[0], -1)).reshape((mat.shape[0],) + x.shape[1:])


def _round_uint8(x: np.ndarray) -> np.ndarray:
    """Saturate to [0, 255] and round half away from zero, like MATLAB's uint8 conversion."""
    return np.floor(np.clip(x, 0.0, 255.0) + 0.5)


def imresize(img: np.ndarray, scale: float, antialiasing: bool = True) -> np.ndarray:
    """Resize like MATLAB ``imresize(img, scale, 'bicubic')``.

    Args:
        img: (H, W) or (H, W, C) image; uint8 in [0, 255], or any float/integer dtype (treated
            as float, any range).
        scale: resize factor (> 0); < 1 shrinks. The output is ``ceil(H * scale) x
            ceil(W * scale)``.
        antialiasing: stretch the kernel when shrinking (MATLAB's default, used for the
            benchmark LR images).

    Returns:
        Same layout as ``img``. uint8 input gives uint8 (rounded half away from zero and
        saturated after each of the two passes, as MATLAB); other input gives float64 (not
        clipped, no intermediate rounding).

    Raises:
        ValueError: ``scale`` is not positive, or the image is empty or not 2-D / 3-D.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    arr = np.asarray(img)
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"expected a non-empty (H, W) or (H, W, C) image, got shape {arr.shape}")
    h, w = arr.shape[:2]
    oh, ow = math.ceil(h * scale - 1e-9), math.ceil(w * scale - 1e-9)
    rows = _weight_matrix(h, oh, float(scale), antialiasing)
    cols = _weight_matrix(w, ow, float(scale), antialiasing)
    is_uint8 = arr.dtype == np.uint8
    out = _resize_rows(arr.astype(np.float64), rows)           # (oh, w, ...): height first
    if is_uint8:
        out = _round_uint8(out)                                 # MATLAB's uint8 intermediate
    out = _resize_rows(np.ascontiguousarray(np.swapaxes(out, 0, 1)), cols)  # (ow, oh, ...)
    out = np.ascontiguousarray(np.swapaxes(out, 0, 1))
    return _round_uint8(out).astype(np.uint8) if is_uint8 else out


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """Make the LR image of a benchmark pair: MATLAB ``imresize(hr, 1/scale, 'bicubic')``.

    Args:
        hr: uint8 (sH, sW, 3) in [0, 255]; mod-crop it to a multiple of ``scale`` first (see
            :func:`nas.data.modcrop`), otherwise the LR is ``ceil(sH / scale)`` high and no
            longer aligned with the HR.
        scale: integer factor s >= 1.

    Returns:
        uint8 (H, W, 3), H = ceil(sH / s), W = ceil(sW / s).

    Raises:
        ValueError: ``scale`` is not a positive integer, or ``hr`` is empty.
    """
    if isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return imresize(hr, 1.0 / int(scale))
