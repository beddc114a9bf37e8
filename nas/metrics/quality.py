"""Image quality on the Y channel, with the SR papers' conventions (reference_models.md §6).

PSNR and SSIM are computed on Y of BT.601 (MATLAB ``rgb2ycbcr``, float, not rounded; see
:func:`nas.data.rgb_to_y`) with ``crop_border`` pixels shaved at each side, as the RCAN/AWSRN
``Evaluate_PSNR_SSIM.m`` script and BasicSR ``calculate_psnr/ssim(..., test_y_channel=True)``.
Both take uint8 images: SR outputs are quantised first (:func:`to_uint8`), as when they are saved
and scored from disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nas.data.color import rgb_to_y

if TYPE_CHECKING:
    import torch

__all__ = ["to_uint8", "psnr_y", "ssim_y", "psnr_plane", "ssim_plane"]

_SSIM_WINDOW = 11
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2, _SSIM_L = 0.01, 0.03, 255.0


def to_uint8(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """Quantise an image in [0, 1] to 8 bit, as saving it would: ``round(clip(x, 0, 1) * 255)``.

    Args:
        img: numpy array or torch tensor (any device; detached and copied to the CPU), any
            shape, values nominally in [0, 1]. NaN becomes 0.

    Returns:
        uint8 numpy array of the same shape, in [0, 255] (halves rounded up).
    """
    arr = img.detach().float().cpu().numpy() if hasattr(img, "detach") else np.asarray(img)
    x = np.nan_to_num(arr.astype(np.float64), nan=0.0)
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _y_pair(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape != hr.shape:
        raise ValueError(f"SR and HR shapes differ: SR {sr.shape} vs HR {hr.shape}")
    if sr.ndim != 3 or sr.shape[2] != 3 or sr.dtype != np.uint8 or hr.dtype != np.uint8:
        raise ValueError(f"expected uint8 (H, W, 3) RGB images, got SR {sr.dtype} {sr.shape} and "
                         f"HR {hr.dtype} {hr.shape} (quantise SR outputs with to_uint8)")
    if crop_border < 0:
        raise ValueError(f"crop_border must be >= 0, got {crop_border}")
    ys, yh = rgb_to_y(sr), rgb_to_y(hr)
    if crop_border:
        inner = (slice(crop_border, -crop_border),) * 2
        ys, yh = ys[inner], yh[inner]
    if ys.size == 0:
        raise ValueError(f"image {sr.shape[1]}x{sr.shape[0]} is empty after shaving {crop_border} px per side")
    return ys, yh


def psnr_y(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> float:
    """PSNR on the Y channel (MATLAB ``rgb2ycbcr`` luma, float).

    Args:
        sr: uint8 (H, W, 3) RGB super-resolved image.
        hr: uint8 (H, W, 3) RGB ground truth.
        crop_border: pixels shaved at each side before scoring (the scale, by convention).

    Returns:
        ``10 log10(255^2 / MSE)`` in dB, MSE over the shaved Y plane in float64;
        ``float("inf")`` for identical images.

    Raises:
        ValueError: the shapes differ (names both), the images are not uint8 (H, W, 3),
            ``crop_border`` is negative, or nothing is left after shaving.
    """
    return psnr_plane(*_y_pair(sr, hr, crop_border))


def psnr_plane(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two arrays of the same shape on the [0, 255] scale: ``10 log10(255^2 / MSE)``
    with the MSE in float64; ``inf`` if they are equal (Y planes, or RGB stacks for RGB PSNR)."""
    mse = float(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2))
    return float("inf") if mse == 0.0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def _gaussian_1d(size: int = _SSIM_WINDOW, sigma: float = _SSIM_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian; its outer product is MATLAB ``fspecial('gaussian', 11, 1.5)``."""
    ax = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(ax ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 2-D filtering with ``outer(g, g)``, 'valid' part only (MATLAB ``filter2(w, x, 'valid')``)."""
    from scipy.ndimage import correlate1d

    r = len(g) // 2
    out = correlate1d(correlate1d(img, g, axis=0, mode="nearest"), g, axis=1, mode="nearest")
    return out[r:-r, r:-r]  # the border values depend on the padding: drop them


def ssim_y(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> float:
    """SSIM (Wang et al. 2004) on the Y channel, as the authors' MATLAB ``ssim_index``.

    11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering
    (no padding: the map is 10 px smaller than the image in each direction), mean of the map.

    Args:
        sr: uint8 (H, W, 3) RGB super-resolved image.
        hr: uint8 (H, W, 3) RGB ground truth.
        crop_border: pixels shaved at each side before scoring (the scale, by convention).

    Returns:
        Mean SSIM, at most 1.0 (1.0 for identical images).

    Raises:
        ValueError: the shapes differ (names both), the images are not uint8 (H, W, 3),
            ``crop_border`` is negative, or the shaved image is smaller than the 11x11 window.
    """
    return ssim_plane(*_y_pair(sr, hr, crop_border))


def ssim_plane(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two 2-D planes on the [0, 255] scale, as MATLAB ``ssim_index`` (Wang et al.
    2004): 11x11 Gaussian window sigma 1.5, K1 0.01, K2 0.03, L 255, 'valid' filtering, mean of
    the map.

    Raises:
        ValueError: a plane is smaller than the 11x11 window (names its size).
    """
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if min(x.shape) < _SSIM_WINDOW:
        raise ValueError(f"image {x.shape[1]}x{x.shape[0]} after shaving is smaller than the "
                         f"{_SSIM_WINDOW}x{_SSIM_WINDOW} SSIM window")
    g = _gaussian_1d()
    c1, c2 = (_SSIM_K1 * _SSIM_L) ** 2, (_SSIM_K2 * _SSIM_L) ** 2
    mx, my = _filter_valid(x, g), _filter_valid(y, g)
    sxx = _filter_valid(x * x, g) - mx * mx
    syy = _filter_valid(y * y, g) - my * my
    sxy = _filter_valid(x * y, g) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())
