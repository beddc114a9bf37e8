"""The plain conv layer: one 3x3 convolution and an activation (the pre-2017 SR body).

SRCNN (Dong et al., ECCV 2014 / TPAMI 2016) and VDSR (Kim, Lee, Lee, "Accurate Image
Super-Resolution Using Very Deep Convolutional Networks", CVPR 2016, §3.1, Fig. 2: "d layers ...
each of 64 filters of size 3x3x64 ... ReLU") stack this layer without any skip inside the body.
It is the control a design-aware predictor must rank below a block of the same size that does
more with its parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.layers import conv, make_activation

__all__ = ["ConvAct", "build_block"]


class ConvAct(nn.Module):
    """``act(conv3x3(x))`` (``conv``, ``act``), plus ``x`` when ``residual``.

    Args:
        channels: C (in and out).
        act: activation name (``relu`` in SRCNN / VDSR).
        residual: add the input to the output.
        weight_norm: weight-normalise the conv.

    Shape:
        (N, C, H, W) -> (N, C, H, W). Params: 9 C^2 + C (+ C with PReLU); ``ConvAct(64)`` = 36,928,
        one of VDSR's 18 middle layers.
    """

    def __init__(self, channels: int, act: str = "relu", residual: bool = False, weight_norm: bool = False) -> None:
        super().__init__()
        self.conv = conv(channels, channels, 3, weight_norm=weight_norm)
        self.act = make_activation(act, channels)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.conv(x))
        return x + y if self.residual else y


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ConvAct:
    """The ``conv`` block of an ``ArchConfig`` (``nas.arch.ConvBlockConfig``) at width ``nf``."""
    return ConvAct(nf, act=cfg.act, residual=cfg.residual, weight_norm=weight_norm)
