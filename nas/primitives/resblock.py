"""The plain residual block of EDSR (the field's standard control block).

Lim, Son, Kim, Nah, Lee, "Enhanced Deep Residual Networks for Single Image Super-Resolution",
CVPR-W (NTIRE) 2017, arXiv 1707.02921, §3.1 and Fig. 2 (no batch norm, optional residual
scaling); repo sanghyun-son/EDSR-PyTorch ``src/model/common.py`` ``ResBlock`` (``bn=False``,
``act=nn.ReLU(True)``, ``res_scale``; 1 in EDSR-baseline, 0.1 in EDSR).
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.layers import conv, make_activation

__all__ = ["ResBlock", "build_block"]


class ResBlock(nn.Module):
    """``x + res_scale * conv(act(conv(x)))`` with two 3x3 convs C -> C (``body.0``, ``body.2``: the
    names of EDSR's ``ResBlock.body``, an ``nn.Sequential`` of conv, act, conv).

    Args:
        channels: C.
        act: activation name (``relu`` in EDSR).
        res_scale: factor on the residual branch (EDSR-baseline 1.0, EDSR 0.1).
        weight_norm: weight-normalise both convs.

    Shape:
        (N, C, H, W) -> (N, C, H, W). Params: 2 (9 C^2 + C) (+ C with PReLU); ``ResBlock(64)`` =
        73,856, EDSR's ``ResBlock(default_conv, 64, 3)``.
    """

    def __init__(self, channels: int, act: str = "relu", res_scale: float = 1.0, weight_norm: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv(channels, channels, 3, weight_norm=weight_norm),
            make_activation(act, channels),
            conv(channels, channels, 3, weight_norm=weight_norm),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.body(x)
        return x + (res if self.res_scale == 1.0 else res * self.res_scale)


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ResBlock:
    """The ``resblock`` block of an ``ArchConfig`` (``nas.arch.ResBlockConfig``) at width ``nf``."""
    return ResBlock(nf, act=cfg.act, res_scale=cfg.res_scale, weight_norm=weight_norm)
