"""Image quality on the Y channel, with the SR papers' conventions (reference_models.md §6).

PSNR and SSIM are computed on Y of BT.601 (MATLAB ``rgb2ycbcr``, float, not rounded), with
``crop_border`` pixels shaved at each side, like the RCAN/AWSRN ``Evaluate_PSNR_SSIM.m`` script
and BasicSR ``calculate_psnr(..., test_y_channel=True)``. SR outputs are quantised to 8 bit
first (:func:`to_uint8`), as when they are saved and scored from disk.
"""

from __future__ import annotations

import numpy as np

from nas.data.color import rgb_to_y

__all__ = ["to_uint8", "psnr_y", "ssim_y"]


def to_uint8(img) -> np.ndarray:
    """Quantise an image in [0, 1] (numpy, or a CPU torch tensor) to uint8: ``round(clip(x) * 255)``."""
    arr = img.detach().cpu().numpy() if hasattr(img, "detach") else np.asarray(img)
    return np.floor(np.clip(arr.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _y_pair(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"SR and HR shapes differ: {sr.shape} vs {hr.shape}")
    ys, yh = rgb_to_y(sr), rgb_to_y(hr)
    if crop_border:
        ys, yh = ys[crop_border:-crop_border, crop_border:-crop_border], yh[crop_border:-crop_border, crop_border:-crop_border]
    if ys.size == 0:
        raise ValueError(f"image {sr.shape[:2]} is empty after shaving {crop_border} px")
    return ys, yh


def psnr_y(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> float:
    """PSNR (dB) on the Y channel.

    Args:
        sr, hr: uint8 (H, W, 3) RGB images of equal shape.
        crop_border: pixels shaved at each border (the scale, by convention).

    Returns:
        ``10 log10(255^2 / MSE)`` in dB; ``inf`` for identical images.

    Raises:
        ValueError: the shapes differ (names both).
    """
    ys, yh = _y_pair(sr, hr, crop_border)
    mse = np.mean((ys - yh) ** 2)
    return float("inf") if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    ax = np.arange(size) - (size - 1) / 2
    g = np.exp(-(ax ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g)
    return w / w.sum()


def ssim_y(sr: np.ndarray, hr: np.ndarray, crop_border: int) -> float:
    """SSIM (Wang et al. 2004) on the Y channel as the MATLAB reference: 11x11 Gaussian window,
    sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering, mean of the SSIM map.

    Args:
        sr, hr: uint8 (H, W, 3) RGB images of equal shape.
        crop_border: pixels shaved at each border.

    Returns:
        SSIM in [-1, 1] (1 for identical images).

    Raises:
        ValueError: the shapes differ, or the shaved image is smaller than the window.
    """
    from scipy.signal import fftconvolve

    x, y = _y_pair(sr, hr, crop_border)
    if min(x.shape) < 11:
        raise ValueError(f"image {x.shape} is smaller than the 11x11 SSIM window")
    w = _gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    f = lambda a: fftconvolve(a, w, mode="valid")  # noqa: E731
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())
