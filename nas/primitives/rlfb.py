"""Residual local feature block (RLFB) of RLFN.

Kong, Li, Yan, Lin, Yang, Li, Li, Mei, "Residual Local Feature Network for Efficient
Super-Resolution", CVPR-W (NTIRE) 2022, arXiv 2205.07514, §3.1 and Fig. 2; repo bytedance/RLFN
``model/block.py`` ``RLFB``, and the NTIRE 2022 entry ofsoundof/NTIRE2022_ESR
``models/team04_rlfn.py`` (same block). Facts and counts: ``shared/reference_models.md`` §10.
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.esa import ESA
from nas.primitives.layers import conv, make_activation

__all__ = ["RLFB", "RLFB_ATTENTIONS", "build_block"]

#: What follows ``c5``: RLFN's slim ESA, the same without ``conv_f`` (SlimRLFN), or nothing.
RLFB_ATTENTIONS = ("esa", "esa_no_conv_f", "none")


class RLFB(nn.Module):
    """Residual local feature block: three 3x3 convs with a local residual, a 1x1 conv, slim ESA.

    ``r = act(c3_r(act(c2_r(act(c1_r(x))))))`` (3x3 convs C -> M -> M -> C, every one followed
    by the activation), ``r = r + x``, then ``esa(c5(r))`` with ``c5`` a 1x1 conv C -> C and
    ``esa`` RLFN's slim ESA (no ``conv_max`` / ``conv3_``, ``esa_channels`` wide). Names are those
    of the official code: ``c1_r, c2_r, c3_r, c5, esa``.

    Args:
        channels: C (the official ``in_channels`` = ``out_channels``).
        mid_channels: M; ``None`` for C (RLFN, RLFN-S); 48 at C = 46 in the NTIRE 2022 entry.
        esa_channels: f of the slim ESA (16 in every RLFN).
        attention: ``esa`` (RLFN), ``esa_no_conv_f`` (the slim ESA without its 1x1 ``conv_f``:
            NTIRE 2024 team 21's SlimRLFN, Amazingren/NTIRE2024_ESR ``models/team21_SlimRLFN.py``)
            or ``none`` (no attention after ``c5``).
        act: activation name (``lrelu`` = LeakyReLU(0.05) in RLFN).
        mid_conv: ``conv3x3`` (RLFN) or ``dw_act_pw``: the middle conv ``c2_r`` as a depthwise 3x3
            conv, the activation, then a 1x1 conv M -> M (``c2_r.0`` / ``c2_r.2``; NTIRE 2024 team 42's
            DepthRLFN, Amazingren/NTIRE2024_ESR ``models/team42_DepthRLFN.py`` ``conv_layer(...,
            depth_wise=True)``); M^2 + 11 M parameters instead of 9 M^2 + M.

    Shape:
        (N, C, H, W) -> (N, C, H, W); with ESA, H and W >= 15.

    Params (without PReLU): 9 C M + M + 9 M^2 + M + 9 M C + C + C^2 + C
    + slim ESA (2 C f + C + 19 f^2 + 4 f; without ``conv_f`` 18 f^2 + 3 f); ``RLFB(46, 48)`` = 69,230.

    Raises:
        ValueError: M or f < 1, or an unknown attention.
    """

    def __init__(
        self,
        channels: int,
        mid_channels: int | None = None,
        esa_channels: int = 16,
        attention: str = "esa",
        act: str = "lrelu",
        mid_conv: str = "conv3x3",
    ) -> None:
        super().__init__()
        mid = channels if mid_channels is None else mid_channels
        if mid_conv not in ("conv3x3", "dw_act_pw"):
            raise ValueError(f"RLFB mid_conv must be 'conv3x3' or 'dw_act_pw', got {mid_conv!r}")
        if mid < 1:
            raise ValueError(f"RLFB needs at least 1 middle channel, got {mid}")
        if attention not in RLFB_ATTENTIONS:
            raise ValueError(f"RLFB attention must be one of {', '.join(RLFB_ATTENTIONS)}, got {attention!r}")
        self.attention = attention
        self.c1_r = conv(channels, mid, 3)
        if mid_conv == "conv3x3":
            self.c2_r = conv(mid, mid, 3)
        else:
            self.c2_r = nn.Sequential(nn.Conv2d(mid, mid, 3, padding=1, groups=mid), make_activation(act, mid),
                                      conv(mid, mid, 1))
        self.c3_r = conv(mid, channels, 3)
        self.c5 = conv(channels, channels, 1)
        if attention != "none":
            self.esa = ESA(channels, esa_channels=esa_channels, slim=True, conv_f=attention == "esa")
        self.act = nn.ModuleDict({
            "c1_r": make_activation(act, mid),
            "c2_r": make_activation(act, mid),
            "c3_r": make_activation(act, channels),
        })

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act["c1_r"](self.c1_r(x))
        out = self.act["c2_r"](self.c2_r(out))
        out = self.act["c3_r"](self.c3_r(out))
        out = self.c5(out + x)
        return out if self.attention == "none" else self.esa(out)


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> RLFB:
    """The ``rlfb`` block of an ``ArchConfig`` (``nas.arch.RLFBConfig``) at width ``nf``."""
    return RLFB(nf, mid_channels=cfg.mid_channels, esa_channels=cfg.esa_channels, attention=cfg.attention,
                act=cfg.act, mid_conv=cfg.mid_conv)
