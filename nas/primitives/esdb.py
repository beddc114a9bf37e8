"""Efficient separable distillation block (ESDB) of BSRN, and BSRN-S's variant of it.

Li, Liu, Chen, Cai, Gu, Qiao, Dong, "Blueprint Separable Residual Network for Efficient Image
Super-Resolution", CVPR-W 2022, arXiv 2205.05996, §3.2 and Fig. 2(b); repo xiaom233/BSRN
``basicsr/archs/BSRN_arch.py`` ``ESDB`` (BSRN) and ``basicsr/archs/rfdnfinalB5_arch.py`` ``RFDB``
(BSRN-S, the NTIRE 2022 ESR entry: no CCA, a per-channel weight ``cw`` and a 1x1 ``conv_out``
after the ESA, every 1x1 an ``nn.Linear``, i.e. a 1x1 conv with bias, and pointwise biases in its
BSConv-U). The layout is RFDN's RFDB (``nas/primitives/rfdb.py``) with BSConv-U for the 3x3 convs
and GELU::

    d1 = gelu(c1_d(x));  r1 = gelu(c1_r(x) + x)          c{i}_d: 1x1 C -> C/2
    d2 = gelu(c2_d(r1)); r2 = gelu(c2_r(r1) + r1)        c{i}_r: BSConv-U C -> C
    d3 = gelu(c3_d(r2)); r3 = gelu(c3_r(r2) + r2)
    d4 = gelu(c4(r3))                                    c4: BSConv-U C -> C/2
    y  = c5(cat[d1, d2, d3, d4])                         c5: 1x1 2C -> C
    y  = cca(esa(y))                     (BSRN)          ESA with BSConv-U and GELU; CCA r = 16
    y  = conv_out(esa(y) * cw)           (BSRN-S)        cw: (1, C), conv_out: 1x1 C -> C
    out = y + x
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.bsconv import BSConvU
from nas.primitives.cca import CCALayer
from nas.primitives.esa import ESA

__all__ = ["ESDB", "build_block"]


class ESDB(nn.Module):
    """BSRN's efficient separable distillation block (module names as the authors': ``c1_d``,
    ``c1_r``, ..., ``c4``, ``c5``, ``esa``, ``cca``; BSRN-S: ``cw``, ``conv_out`` instead of ``cca``).

    Args:
        channels: C (nf; even, the distilled width is C / 2 as in the authors' ``in_channels // 2``).
        pw_bias: bias on every BSConv-U pointwise conv (BSRN-S: ``True``).
        cca: contrast-aware channel attention (reduction 16) after the ESA (BSRN: ``True``).
        out_conv: BSRN-S's tail after the ESA: multiply by a learnable (1, C) channel weight ``cw``
            (initialised N(1, 0.2) as the authors do) and apply a 1x1 conv ``conv_out`` C -> C.
        esa_bsconv: which ESA 3x3 convs are BSConv-U: ``all`` (BSRN) or ``unstrided`` (BSRN-S).

    Shape:
        (N, C, H, W) -> (N, C, H, W); H, W >= 15 (ESA).

    Params: 7 C^2 + 37.5 C (convs) + ESA + CCA; BSRN-S adds 3.5 C pointwise biases, ``cw`` and
    ``conv_out`` (C^2 + 2 C). BSRN (C = 64): 31,072 + 4,064 + 580 = 35,716; BSRN-S (C = 48):
    24,000 (xiaom233/BSRN, counted on the authors' modules).

    Raises:
        ValueError: C odd or below 16 (ESA's C // 4 and CCA's C // 16 must be >= 1).
    """

    def __init__(self, channels: int, pw_bias: bool = False, cca: bool = True, out_conv: bool = False,
                 esa_bsconv: str = "all") -> None:
        super().__init__()
        if channels % 2 or channels < (16 if cca else 4):
            raise ValueError(f"ESDB needs an even C >= {16 if cca else 4} (C / 2 distilled channels, "
                             f"ESA C // 4{', CCA C // 16' if cca else ''}), got {channels}")
        dc = channels // 2
        for i in (1, 2, 3):
            self.add_module(f"c{i}_d", nn.Conv2d(channels, dc, 1))
            self.add_module(f"c{i}_r", BSConvU(channels, channels, 3, pw_bias=pw_bias))
        self.c4 = BSConvU(channels, dc, 3, pw_bias=pw_bias)
        self.c5 = nn.Conv2d(dc * 4, channels, 1)
        self.esa = ESA(channels, act="gelu", bsconv=esa_bsconv, pw_bias=pw_bias)
        self.use_cca = cca
        self.out_conv = out_conv
        if cca:
            self.cca = CCALayer(channels, 16)
        if out_conv:
            self.cw = nn.Parameter(torch.normal(mean=1.0, std=0.2, size=(1, channels)))
            self.conv_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = F.gelu(self.c1_d(x))
        r1 = F.gelu(self.c1_r(x) + x)
        d2 = F.gelu(self.c2_d(r1))
        r2 = F.gelu(self.c2_r(r1) + r1)
        d3 = F.gelu(self.c3_d(r2))
        r3 = F.gelu(self.c3_r(r2) + r2)
        d4 = F.gelu(self.c4(r3))
        y = self.esa(self.c5(torch.cat([d1, d2, d3, d4], dim=1)))
        if self.use_cca:
            y = self.cca(y)
        if self.out_conv:
            y = self.conv_out(y * self.cw.view(1, -1, 1, 1))
        return y + x


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ESDB:
    """The ``esdb`` block of an ``ArchConfig`` (``nas.arch.ESDBConfig``) at width ``nf``.

    Raises:
        ArchConfigError: an odd ``nf``, or one too narrow for the ESA / CCA (names ``path``).
    """
    from nas.errors import ArchConfigError

    least = 16 if cfg.cca else 4
    if nf % 2 or nf < least:
        raise ArchConfigError(f"{path}: esdb needs an even nf >= {least} (nf / 2 distilled channels, ESA nf // 4"
                              f"{', CCA nf // 16' if cfg.cca else ''}), got nf {nf}")
    return ESDB(nf, pw_bias=cfg.pw_bias, cca=cfg.cca, out_conv=cfg.out_conv, esa_bsconv=cfg.esa_bsconv)
