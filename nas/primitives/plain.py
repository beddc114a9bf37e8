"""The plain conv layer: one k x k convolution and an activation (the pre-2017 SR body).

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
    """``act(conv_k(x))`` (``conv``, ``act``), plus ``x`` when ``residual``.

    Args:
        channels: C_in.
        act: activation name (``relu`` in SRCNN / VDSR).
        residual: add the input to the output (needs C_out == C_in).
        weight_norm: weight-normalise the conv.
        kernel: odd kernel size k ("same" padding k // 2); 3 in VDSR, 5 in SRCNN's middle layer.
        out_channels: C_out, ``None`` for C_in.

    Raises:
        ValueError: ``residual`` with C_out != C_in.

    Shape:
        (N, C_in, H, W) -> (N, C_out, H, W). Params: k^2 C_in C_out + C_out (+ C_out with PReLU);
        ``ConvAct(64)`` = 36,928, one of VDSR's 18 middle layers; ``ConvAct(64, kernel=5,
        out_channels=32)`` = 51,232, SRCNN 9-5-5's middle layer.
    """

    def __init__(self, channels: int, act: str = "relu", residual: bool = False, weight_norm: bool = False,
                 kernel: int = 3, out_channels: int | None = None) -> None:
        super().__init__()
        out = out_channels or channels
        if residual and out != channels:
            raise ValueError(f"a residual conv keeps its width: {channels} in, {out} out")
        self.conv = conv(channels, out, kernel, weight_norm=weight_norm)
        self.act = make_activation(act, out)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.conv(x))
        return x + y if self.residual else y


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ConvAct:
    """The ``conv`` block of an ``ArchConfig`` (``nas.arch.ConvBlockConfig``); ``nf`` is the width it
    receives (the previous block's output)."""
    return ConvAct(nf, act=cfg.act, residual=cfg.residual, weight_norm=weight_norm, kernel=cfg.kernel,
                   out_channels=cfg.out_channels)
