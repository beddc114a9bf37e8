"""Residual feature distillation block (RFDB) of RFDN / E-RFDN.

Liu, Tang, Wu, "Residual Feature Distillation Network for Lightweight Image Super-Resolution",
ECCV-W (AIM) 2020, arXiv 2009.11551, §3.1-3.2 and Fig. 3(c); repo njulj/RFDN ``block.py`` ``RFDB``.
Layer facts and counts: ``shared/reference_models.md`` §2.
"""

from __future__ import annotations

import torch
from torch import nn

from nas.primitives.layers import check_attention, conv, distilled_channels, make_activation, make_attention
from nas.primitives.span import parameter_free_attention

__all__ = ["RFDB", "build_block"]


class RFDB(nn.Module):
    """Residual feature distillation block: FDC steps with shallow residual refines, fuse, attend.

    For each of ``stages`` steps i (feature ``r``, starting at the block input x):
    ``d_i = act(c{i}_d(r))`` (1x1 conv C -> D, the distilled part) and
    ``r = act(c{i}_r(r) + r)`` (the SRB: 3x3 conv C -> C plus identity; with ``refine="conv"``
    ``r = act(c{i}_r(r))``, the plain conv the RFDN paper's SRB is compared with, as in NTIRE 2022
    team 08's SFDN, ofsoundof/NTIRE2022_ESR ``models/team08_sfdn.py``). Then
    ``d_last = act(c{stages+1}(r))`` (3x3 conv C -> D), concatenation of all (stages + 1) * D
    channels, ``c{stages+2}`` 1x1 conv -> C giving h, attention (ESA in E-RFDN, CCA in the paper),
    and the block input added back if ``residual`` (the paper form; the released code drops it).
    With ``pfa`` (SPAN's parameter-free attention, Wan et al. 2024 Eq. 4-5, as the RFDB_PFA of
    NTIRE 2026 ESR team 09, Amazingren/NTIRE2026_ESR ``models/team09_RFDN_SPAN.py``) the output is
    ``(h + x) * (sigmoid(h) - 0.5)``: no parameters, and the block input is already in it.
    With the defaults the names are those of the official code: ``c1_d, c1_r, ..., c3_r, c4, c5,
    esa``.

    Args:
        channels: C (the official ``in_channels``).
        stages: number of distillation steps (3 in RFDN).
        distill_ratio: D = round(C * distill_ratio); the released code fixes D = C // 2 (0.5).
        attention: ``esa`` | ``cca`` | ``none`` | ``pfa``, applied after the 1x1 fusion, on C
            channels.
        cca_reduction: CCA squeeze ratio (the paper counts need 4).
        residual: add the block input to the output.
        act: activation name (``lrelu`` = LeakyReLU(0.05) in RFDN).
        refine: ``srb`` (3x3 conv plus identity, RFDN) or ``conv`` (the 3x3 conv alone).
        dilations: dilation of each refine conv ``c{i}_r`` (``stages`` values; ``None`` for 1s).
            NTIRE 2022 team 13's RFDN_dilated uses 1, 2, 5 (ofsoundof/NTIRE2022_ESR
            ``models/team13_rfdn_dilated/block.py``).

    Shape:
        (N, C, H, W) -> (N, C, H, W); with ESA, H and W >= 15.

    Params (without attention and PReLU): stages * (C D + D + 9 C^2 + C) + 9 C D + D
    + (stages + 1) D C + C; ``RFDB(50)`` with ESA = 94,450.

    Raises:
        ValueError: D rounds to 0, the attention gets too few channels, ``pfa`` with
            ``residual`` (PFA adds the block input itself), an unknown ``refine``, or ``dilations``
            not of length ``stages``.
    """

    def __init__(
        self,
        channels: int,
        stages: int = 3,
        distill_ratio: float = 0.5,
        attention: str = "esa",
        cca_reduction: int = 16,
        residual: bool = False,
        act: str = "lrelu",
        refine: str = "srb",
        dilations: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        if refine not in ("srb", "conv"):
            raise ValueError(f"RFDB: refine must be 'srb' or 'conv', got {refine!r}")
        dil = tuple(dilations) if dilations is not None else (1,) * stages
        if len(dil) != stages:
            raise ValueError(f"RFDB: {len(dil)} dilations for {stages} refine convs")
        dc = distilled_channels(channels, distill_ratio)
        if dc < 1:
            raise ValueError(f"RFDB: distill_ratio {distill_ratio} gives 0 distilled channels at {channels}")
        if attention == "pfa" and residual:
            raise ValueError("RFDB: attention 'pfa' already adds the block input; residual must be False")
        self.stages = stages
        self.residual = residual
        self.attention = attention
        self._attention_name = "esa" if attention == "esa_no_conv_f" else attention
        self.distilled_channels = dc
        self.srb = refine == "srb"
        acts: dict[str, nn.Module] = {}
        for i in range(1, stages + 1):
            self.add_module(f"c{i}_d", conv(channels, dc, 1))
            self.add_module(f"c{i}_r", conv(channels, channels, 3, dilation=dil[i - 1]))
            acts[f"c{i}_d"] = make_activation(act, dc)
            acts[f"c{i}_r"] = make_activation(act, channels)
        self.add_module(f"c{stages + 1}", conv(channels, dc, 3))
        acts[f"c{stages + 1}"] = make_activation(act, dc)
        self.add_module(f"c{stages + 2}", conv(dc * (stages + 1), channels, 1))
        self.act = nn.ModuleDict(acts)
        if attention not in ("none", "pfa"):
            # ``esa_no_conv_f`` keeps the module name ``esa`` (the official key names)
            self.add_module(self._attention_name, make_attention(attention, channels, cca_reduction))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        distilled = []
        r = x
        for i in range(1, self.stages + 1):
            distilled.append(self.act[f"c{i}_d"](m[f"c{i}_d"](r)))
            refined = m[f"c{i}_r"](r)
            r = self.act[f"c{i}_r"](refined + r if self.srb else refined)
        last = f"c{self.stages + 1}"
        distilled.append(self.act[last](m[last](r)))
        out = m[f"c{self.stages + 2}"](torch.cat(distilled, dim=1))
        if self.attention == "pfa":
            return parameter_free_attention(out, x)
        if self.attention != "none":
            out = m[self._attention_name](out)
        return out + x if self.residual else out


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> RFDB:
    """The ``rfdb`` block of an ``ArchConfig`` (``nas.arch.RFDBConfig``) at width ``nf``.

    Raises:
        ArchConfigError: the distilled width or the attention is empty at ``nf`` (names ``path.<field>``).
    """
    from nas.errors import ArchConfigError

    if distilled_channels(nf, cfg.distill_ratio) < 1:
        raise ArchConfigError(f"{path}.distill_ratio: {cfg.distill_ratio} gives 0 distilled channels at nf {nf}")
    check_attention(cfg.attention, cfg.cca_reduction, nf, path, nf)
    return RFDB(nf, stages=cfg.stages, distill_ratio=cfg.distill_ratio, attention=cfg.attention,
                cca_reduction=cfg.cca_reduction, residual=cfg.residual, act=cfg.act, refine=cfg.refine,
                dilations=cfg.dilations)
