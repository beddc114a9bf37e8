"""Colour conversion with the SR papers' convention: MATLAB ``rgb2ycbcr`` (BT.601) luma.

Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1], so Y is in [16, 235]
(reference_models.md §6; BasicSR ``bgr2ycbcr(..., y_only=True)`` uses the same weights).
Y is kept as float, not rounded, as in the RCAN/AWSRN ``Evaluate_PSNR_SSIM.m`` script.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["Y_WEIGHTS", "Y_OFFSET", "rgb_to_y", "rgb_to_y_torch", "modcrop"]

Y_WEIGHTS = (65.481, 128.553, 24.966)
"""Weights of R, G, B (in [0, 1]) in BT.601 Y as MATLAB ``rgb2ycbcr``."""
Y_OFFSET = 16.0


def rgb_to_y(img: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """BT.601 Y as MATLAB ``rgb2ycbcr``, channels last (numpy).

    Args:
        img: (..., 3) RGB numpy array, typically (H, W, 3): uint8 in [0, 255], or float in
            [0, 1]. A torch tensor is passed on to :func:`rgb_to_y_torch` (channels first).

    Returns:
        float64 (...), typically (H, W), in [16, 235] for in-range input; not rounded.

    Raises:
        ValueError: the last axis is not 3 (names the shape).
    """
    if hasattr(img, "detach"):  # a torch tensor: channels first
        return rgb_to_y_torch(img)
    x = np.asarray(img)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"rgb_to_y expects (..., 3) RGB channels last, got shape {x.shape}")
    x = x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    r, g, b = Y_WEIGHTS
    return Y_OFFSET + r * x[..., 0] + g * x[..., 1] + b * x[..., 2]


def rgb_to_y_torch(img: torch.Tensor) -> torch.Tensor:
    """BT.601 Y as MATLAB ``rgb2ycbcr``, channels first (torch, differentiable).

    Args:
        img: (N, 3, H, W) or (3, H, W) RGB tensor: float in [0, 1], or uint8 in [0, 255].

    Returns:
        (N, 1, H, W) or (1, H, W) tensor in [16, 235] for in-range input, on the input's device;
        float input keeps its dtype, uint8 becomes float32.

    Raises:
        ValueError: the channel axis (dim -3) is not 3 (names the shape).
    """
    import torch

    if img.dim() < 3 or img.shape[-3] != 3:
        raise ValueError(f"rgb_to_y_torch expects (N, 3, H, W) or (3, H, W), got shape {tuple(img.shape)}")
    x = img.float() / 255.0 if img.dtype == torch.uint8 else img
    w = torch.tensor(Y_WEIGHTS, dtype=x.dtype, device=x.device).view(3, 1, 1)
    return Y_OFFSET + (x * w).sum(dim=-3, keepdim=True)


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop an image to multiples of ``scale`` (bottom rows and right columns dropped).

    Args:
        img: (H, W) or (H, W, C) array.
        scale: factor s >= 1.

    Returns:
        A view (H - H % s, W - W % s, ...).

    Raises:
        ValueError: ``scale`` < 1.
    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]
