"""Information multi-distillation block (IMDB) of IMDN.

Hui, Gao, Yang, Wang, "Lightweight Image Super-Resolution with Information Multi-distillation
Network", ACM MM 2019, §3.1-3.2 and Fig. 3; repo Zheng222/IMDN ``model/block.py`` ``IMDModule``
(with CCA) and ``IMDModule_speed`` (without, IMDN_RTC). Facts: ``shared/reference_models.md`` §1.
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.layers import check_attention, conv, distilled_channels, make_activation, make_attention

__all__ = ["IMDB", "build_block"]


class IMDB(nn.Module):
    """Information multi-distillation block: progressive 3x3 convs, each splitting channels off.

    With D = round(C * distill_ratio) distilled and R = C - D remaining channels:
    ``c1`` 3x3 C -> C, act, split D | R; ``c2 .. c{stages}`` 3x3 R -> C, act, split D | R;
    ``c{stages+1}`` 3x3 R -> D (no activation); concatenation of the (stages + 1) * D distilled
    channels -> attention (CCA in IMDN, none in IMDN_RTC) -> ``c{stages+2}`` 1x1 conv -> C
    (+ block input if ``residual``). With the defaults the names are the official ones:
    ``c1, c2, c3, c4, c5, cca``.

    Args:
        channels: C.
        stages: progressive 3x3 convs before the last one (3 in IMDN).
        distill_ratio: D = round(C * distill_ratio) (IMDN: 0.25 -> 16 of 64).
        attention: ``cca`` | ``esa`` | ``none``, on the (stages + 1) * D concatenated channels.
        cca_reduction: CCA squeeze ratio (16 in IMDN).
        residual: add the block input to the output (IMDN: yes).
        act: activation name (IMDN: ``lrelu`` = LeakyReLU(0.05)).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Params (without attention): 9 C^2 + C + (stages - 1)(9 R C + C) + 9 R D + D
    + (stages + 1) D C + C; C = 64 with CCA (r = 16): 104,020.

    Raises:
        ValueError: D rounds to 0 or to C (no remaining channels), or the attention gets too
            few channels.
    """

    def __init__(
        self,
        channels: int,
        stages: int = 3,
        distill_ratio: float = 0.25,
        attention: str = "cca",
        cca_reduction: int = 16,
        residual: bool = True,
        act: str = "lrelu",
    ) -> None:
        super().__init__()
        dc = distilled_channels(channels, distill_ratio)
        rc = channels - dc
        if dc < 1 or rc < 1:
            raise ValueError(
                f"IMDB: distill_ratio {distill_ratio} at {channels} channels gives {dc} distilled / "
                f"{rc} remaining channels (both must be >= 1)"
            )
        self.stages = stages
        self.residual = residual
        self.attention = attention
        self.distilled_channels, self.remaining_channels = dc, rc
        self.add_module("c1", conv(channels, channels, 3))
        for i in range(2, stages + 1):
            self.add_module(f"c{i}", conv(rc, channels, 3))
        self.add_module(f"c{stages + 1}", conv(rc, dc, 3))
        self.add_module(f"c{stages + 2}", conv(dc * (stages + 1), channels, 1))
        self.act = nn.ModuleList(make_activation(act, channels) for _ in range(stages))
        if attention != "none":
            self.add_module(attention, make_attention(attention, dc * (stages + 1), cca_reduction))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        distilled = []
        remaining = x
        for i in range(1, self.stages + 1):
            out = self.act[i - 1](m[f"c{i}"](remaining))
            d, remaining = torch.split(out, (self.distilled_channels, self.remaining_channels), dim=1)
            distilled.append(d)
        distilled.append(m[f"c{self.stages + 1}"](remaining))
        out = torch.cat(distilled, dim=1)
        if self.attention != "none":
            out = m[self.attention](out)
        out = m[f"c{self.stages + 2}"](out)
        return out + x if self.residual else out


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> IMDB:
    """The ``imdb`` block of an ``ArchConfig`` (``nas.arch.IMDBConfig``) at width ``nf``.

    Raises:
        ArchConfigError: no distilled or no remaining channels, or an empty attention at ``nf``
            (names ``path.<field>``).
    """
    from nas.errors import ArchConfigError

    dc = distilled_channels(nf, cfg.distill_ratio)
    if dc < 1:
        raise ArchConfigError(f"{path}.distill_ratio: {cfg.distill_ratio} gives 0 distilled channels at nf {nf}")
    if dc >= nf:
        raise ArchConfigError(f"{path}.distill_ratio: {cfg.distill_ratio} leaves 0 remaining channels at nf {nf}")
    check_attention(cfg.attention, cfg.cca_reduction, dc * (cfg.stages + 1), path, nf)
    return IMDB(nf, stages=cfg.stages, distill_ratio=cfg.distill_ratio, attention=cfg.attention,
                cca_reduction=cfg.cca_reduction, residual=cfg.residual, act=cfg.act)
