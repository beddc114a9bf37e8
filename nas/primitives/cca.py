"""Contrast-aware channel attention (CCA) of IMDN.

Hui, Gao, Yang, Wang, "Lightweight Image Super-Resolution with Information Multi-distillation
Network", ACM MM 2019, §3.2 and Fig. 3; repo Zheng222/IMDN ``model/block.py`` ``CCALayer``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CCALayer", "contrast"]


def contrast(x: torch.Tensor) -> torch.Tensor:
    """Per-channel contrast: population standard deviation over H x W (IMDN ``stdv_channels``).

    Args:
        x: (N, C, H, W).

    Returns:
        (N, C, 1, 1).
    """
    mean = x.mean(dim=(2, 3), keepdim=True)
    return (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()


class CCALayer(nn.Module):
    """Contrast-aware channel attention: ``x * sigmoid(W2 relu(W1 (std(x) + mean(x))))``.

    The per-channel statistic is the population std over H x W plus the spatial mean; a 1x1 conv
    squeezes C -> C // reduction, ReLU, a 1x1 conv expands back to C, Sigmoid; the input is
    multiplied channel-wise by the result.

    Args:
        channels: C.
        reduction: squeeze ratio r (IMDN uses 16; RFDN's paper counts need 4).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Params: 2 * C * (C // r) + C // r + C (C = 64, r = 16: 580).

    Raises:
        ValueError: ``channels // reduction`` is 0.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        squeezed = channels // reduction
        if squeezed < 1:
            raise ValueError(f"CCA: {channels} channels // reduction {reduction} = 0 channels")
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, squeezed, 1),
            nn.ReLU(),
            nn.Conv2d(squeezed, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = contrast(x) + x.mean(dim=(2, 3), keepdim=True)
        return x * self.conv_du(y)
