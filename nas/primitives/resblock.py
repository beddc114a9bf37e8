"""The plain residual block of EDSR (the field's standard control block).

Lim, Son, Kim, Nah, Lee, "Enhanced Deep Residual Networks for Single Image Super-Resolution",
CVPR-W (NTIRE) 2017, arXiv 1707.02921, §3.1 and Fig. 2 (no batch norm, optional residual
scaling); repo sanghyun-son/EDSR-PyTorch ``src/model/common.py`` ``ResBlock`` (``bn=False``,
``act=nn.ReLU(True)``, ``res_scale``; 1 in EDSR-baseline, 0.1 in EDSR).
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.layers import check_attention, conv, make_activation, make_attention

__all__ = ["ResBlock", "build_block"]


class ResBlock(nn.Module):
    """``x + res_scale * conv(act(conv(x)))`` with two 3x3 convs C -> C (``body.0``, ``body.2``: the
    names of EDSR's ``ResBlock.body``, an ``nn.Sequential`` of conv, act, conv). With an
    ``attention`` the residual branch is ``esa(conv(act(conv(x))))`` (RFDN's ESA on C channels, f =
    C // 4; ``esa_no_conv_f`` without its ``conv_f``, as NTIRE 2022 team 34's ESAN,
    ofsoundof/NTIRE2022_ESR ``models/team34_esan.py`` ``ResidualBlock_ESA``).

    Args:
        channels: C.
        act: activation name (``relu`` in EDSR).
        res_scale: factor on the residual branch (EDSR-baseline 1.0, EDSR 0.1).
        weight_norm: weight-normalise both convs.
        attention: ``none`` (EDSR), ``esa`` or ``esa_no_conv_f`` after the second conv.

    Shape:
        (N, C, H, W) -> (N, C, H, W); with an ESA, H and W >= 15. Params: 2 (9 C^2 + C) (+ C with
        PReLU, + the ESA's with an attention); ``ResBlock(64)`` = 73,856, EDSR's
        ``ResBlock(default_conv, 64, 3)``.

    Raises:
        ValueError: an unknown ``attention``.
    """

    def __init__(self, channels: int, act: str = "relu", res_scale: float = 1.0, weight_norm: bool = False,
                 attention: str = "none") -> None:
        super().__init__()
        if attention not in ("none", "esa", "esa_no_conv_f"):
            raise ValueError(f"ResBlock attention must be none, esa or esa_no_conv_f, got {attention!r}")
        self.body = nn.Sequential(
            conv(channels, channels, 3, weight_norm=weight_norm),
            make_activation(act, channels),
            conv(channels, channels, 3, weight_norm=weight_norm),
        )
        self.res_scale = res_scale
        self.esa = None if attention == "none" else make_attention(attention, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = self.body(x)
        if self.esa is not None:
            res = self.esa(res)
        return x + (res if self.res_scale == 1.0 else res * self.res_scale)


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ResBlock:
    """The ``resblock`` block of an ``ArchConfig`` (``nas.arch.ResBlockConfig``) at width ``nf``.

    Raises:
        ArchConfigError: ESA at fewer than 4 channels (names ``path.attention``).
    """
    check_attention(cfg.attention, 16, nf, path, nf)
    return ResBlock(nf, act=cfg.act, res_scale=cfg.res_scale, weight_norm=weight_norm, attention=cfg.attention)
