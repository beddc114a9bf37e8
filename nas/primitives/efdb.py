"""Edge-enhanced feature distillation block (EFDB, the ``Cell`` of EFDN) in its released form.

Wang, "Edge-Enhanced Feature Distillation Network for Efficient Super-Resolution", CVPR-W 2022
(NTIRE 2022 ESR); the NTIRE 2025 ESR baseline: Amazingren/NTIRE2025_ESR ``models/team00_EFDN.py``
(``Cell``, ``EDBB_deploy``, ``ESA``). The released network holds the re-parameterised (deploy)
form of its edge-enhanced diverse branch blocks (EDBB): each is one 3x3 conv + PReLU here.

Per block, nf channels (48 in EFDN)::

    o1 = PReLU(conv1x1(x)); o2 = PReLU(conv3x3(o1)); o3 = PReLU(conv3x3(o2))
    y  = ESA(fuse1x1(cat[b0(x), b1(o1), b2(o2), b3(o3)]))  (b_i: 1x1 nf -> nf/2)
    out = y + x

Params: nf^2 + 2 nf (conv1 + PReLU) + 2 (9 nf^2 + 2 nf) + 4 (nf^2 / 2 + nf / 2) + 2 nf^2 + nf
+ ESA(nf, nf // 4) (60,024 at nf 48).
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.esa import ESA

__all__ = ["EFDB", "build_block"]


class EFDB(nn.Module):
    """One EFDN cell (module names as the authors': ``conv1``, ``conv2``, ``conv3``, ``fuse``,
    ``att``, ``branch``; ``conv2`` / ``conv3`` are ``EDBB_deploy``: ``rep_conv`` + ``act``).

    Args:
        channels: nf (even: the branches have nf / 2 channels).

    Shape:
        (N, nf, H, W) -> (N, nf, H, W); H, W >= 15 (ESA).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels % 2 or channels < 4:
            raise ValueError(f"EFDB needs an even nf >= 4 (branches of nf / 2), got {channels}")
        self.conv1 = nn.Sequential()
        self.conv1.add_module("conv1x1", nn.Conv2d(channels, channels, 1))
        self.conv1.add_module("act", nn.PReLU(channels))
        self.conv2 = _RepConvAct(channels)
        self.conv3 = _RepConvAct(channels)
        self.fuse = nn.Conv2d(channels * 2, channels, 1)
        self.att = ESA(channels)
        self.branch = nn.ModuleList(nn.Conv2d(channels, channels // 2, 1) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o1 = self.conv1(x)
        o2 = self.conv2(o1)
        o3 = self.conv3(o2)
        y = self.fuse(torch.cat([self.branch[0](x), self.branch[1](o1), self.branch[2](o2), self.branch[3](o3)], 1))
        return self.att(y) + x


class _RepConvAct(nn.Module):
    """EFDN's ``EDBB_deploy``: a 3x3 conv (``rep_conv``) and a PReLU (``act``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.rep_conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.PReLU(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.rep_conv(x))


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> EFDB:
    """The ``efdb`` block of an ``ArchConfig`` (``nas.arch.EFDBConfig``) at width ``nf``.

    Raises:
        ArchConfigError: an odd ``nf`` or one below 4 (names ``path``).
    """
    from nas.errors import ArchConfigError

    if nf % 2 or nf < 4:
        raise ArchConfigError(f"{path}: efdb needs an even nf >= 4 (its branches have nf / 2 channels), got nf {nf}")
    return EFDB(nf)
