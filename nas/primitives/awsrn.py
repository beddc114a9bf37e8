"""Adaptive weighted units of AWSRN: Scale, AWRU, LFB (k AWRUs + LRFU) and the AWMS tail.

Wang, Li, Shi, "Lightweight Image Super-Resolution with Adaptive Weighted Learning Network",
arXiv 1904.02358, §3.2-3.4 and Figs. 2-4; repo ChaofWang/AWSRN ``code/src/model/awsrn.py``
(LFB of 4 AWRUs) and ``awsrnd.py`` (8 AWRUs). All convs are weight-normalised in the paper
(``weight_norm=True``). Facts and counts: ``shared/reference_models.md`` §3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.layers import conv, make_activation

__all__ = ["AWMS", "AWMS_KERNELS", "AWRU", "LFB", "Scale", "build_block"]

#: Kernel sizes of the four parallel AWMS branches.
AWMS_KERNELS = (3, 5, 7, 9)


class Scale(nn.Module):
    """One learnable scalar multiplying its input (AWSRN ``Scale``).

    Args:
        init: initial value.

    Shape:
        any -> same. Params: 1.
    """

    def __init__(self, init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([float(init)]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class AWRU(nn.Module):
    """Adaptive weighted residual unit: ``res_scale * body(x) + x_scale * x`` (§3.2, Fig. 2).

    ``body`` = 3x3 conv C -> B, activation, 3x3 conv B -> C; both scalars start at 1.

    Args:
        channels: C (``n_feats``).
        block_channels: B (``block_feats``; 128 in every AWSRN variant).
        act: activation name (AWSRN: ``relu``).
        weight_norm: weight-normalise the convs (AWSRN: yes).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Params: 18 C B + B + C (+ B + C with weight norm) + 2.
    """

    def __init__(
        self, channels: int, block_channels: int, act: str = "relu", weight_norm: bool = True
    ) -> None:
        super().__init__()
        self.res_scale = Scale(1.0)
        self.x_scale = Scale(1.0)
        self.body = nn.Sequential(
            conv(channels, block_channels, 3, weight_norm=weight_norm),
            make_activation(act, block_channels),
            conv(block_channels, channels, 3, weight_norm=weight_norm),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_scale(self.body(x)) + self.x_scale(x)


class LFB(nn.Module):
    """Local fusion block: k AWRUs in series and the LRFU (§3.3, Fig. 3).

    ``x_i = b{i}(x_{i-1})`` for i = 0 .. k-1 (x_{-1} = input); LRFU: ``reduction`` 3x3 conv
    over the concatenation of all k outputs (k C -> C); output ``res_scale * that + x_scale *
    input`` (scalars start at 1). Names follow the official code (``b0 .. b{k-1}``,
    ``reduction``, ``res_scale``, ``x_scale``).

    Args:
        channels: C.
        n_awru: k (4 in ``awsrn.py``, 8 in ``awsrnd.py``).
        expansion: AWRU inner width B = C * expansion (AWSRN: 128 / 32 = 4, AWSRN-SD: 128 / 16 = 8).
        act: activation name (``relu``).
        weight_norm: weight-normalise all convs.

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Params: k * AWRU + 9 k C^2 + C (+ C with weight norm) + 2.
    """

    def __init__(
        self,
        channels: int,
        n_awru: int = 4,
        expansion: int = 4,
        act: str = "relu",
        weight_norm: bool = True,
    ) -> None:
        super().__init__()
        self.n_awru = n_awru
        for i in range(n_awru):
            self.add_module(f"b{i}", AWRU(channels, channels * expansion, act, weight_norm))
        self.reduction = conv(channels * n_awru, channels, 3, weight_norm=weight_norm)
        self.res_scale = Scale(1.0)
        self.x_scale = Scale(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        out = x
        for i in range(self.n_awru):
            out = self._modules[f"b{i}"](out)
            outs.append(out)
        res = self.reduction(torch.cat(outs, dim=1))
        return self.res_scale(res) + self.x_scale(x)


class AWMS(nn.Module):
    """Adaptive weighted multi-scale reconstruction tail (§3.4, Fig. 4).

    Four parallel convs C -> colors * s^2 with kernels 3, 5, 7, 9 (``tail_k3`` ..
    ``tail_k9``), each times a learnable scalar (``scale_k3`` .. ``scale_k9``, init 0.25),
    pixel-shuffled by s, summed.

    Args:
        channels: C.
        colors: output image channels.
        scale: upscaling factor s.
        weight_norm: weight-normalise the four convs (AWSRN: yes).

    Shape:
        (N, C, H, W) -> (N, colors, sH, sW).

    Params: (9 + 25 + 49 + 81) C O + 4 O (+ 4 O with weight norm) + 4, O = colors * s^2.
    """

    def __init__(self, channels: int, colors: int, scale: int, weight_norm: bool = True) -> None:
        super().__init__()
        self.upscale = scale
        out = colors * scale * scale
        for k in AWMS_KERNELS:
            self.add_module(f"tail_k{k}", conv(channels, out, k, weight_norm=weight_norm))
        for k in AWMS_KERNELS:
            self.add_module(f"scale_k{k}", Scale(0.25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self._modules
        return sum(
            F.pixel_shuffle(m[f"scale_k{k}"](m[f"tail_k{k}"](x)), self.upscale) for k in AWMS_KERNELS
        )


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> LFB:
    """The ``lfb`` block of an ``ArchConfig`` (``nas.arch.LFBConfig``) at width ``nf``."""
    return LFB(nf, n_awru=cfg.n_awru, expansion=cfg.expansion, act=cfg.act, weight_norm=weight_norm)
