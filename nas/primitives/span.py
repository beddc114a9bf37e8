"""SPAN's re-parameterisable Conv3XC and swift parameter-free attention block (SPAB).

Wan, Yu, Li, Chen, Zou, Liu, Yin, Zuo, "Swift Parameter-free Attention Network for Efficient
Super-Resolution", CVPR-W (NTIRE) 2024, arXiv 2311.12770, §3 and Fig. 2; repo hongyuanyu/SPAN
``basicsr/archs/span_arch.py`` (``Conv3XC``, ``SPAB``); NTIRE 2024 ESR winner as submitted:
Amazingren/NTIRE2024_ESR ``models/team38_SPAN.py``. Facts: ``shared/reference_models.md`` §10.

Merging is explicit and one-way, as for :class:`~nas.primitives.ecb.ECB`:
:meth:`Conv3XC.reparameterize` installs ``eval_conv`` (the authors' name for the merged conv, so
their deploy checkpoints map by block prefix only) and deletes the branches; ``forward`` never
fuses on the fly (the authors' code re-merges at every eval-mode call).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.layers import make_activation

__all__ = ["Conv3XC", "SPAB", "build_block", "parameter_free_attention"]


class Conv3XC(nn.Module):
    """3x3 conv trained as a 1x1 -> 3x3 -> 1x1 chain plus a 1x1 skip, merged into one 3x3 conv.

    Training form: ``conv(pad(x, 1)) + sk(x)`` where ``conv`` is ``conv.0`` (1x1, C_in -> g C_in),
    ``conv.1`` (3x3, g C_in -> g C_out, no padding: the input was zero-padded by one pixel before
    ``conv.0``, whose output is therefore its bias on the border) and ``conv.2`` (1x1,
    g C_out -> C_out), and ``sk`` is a 1x1 conv C_in -> C_out. All four are linear, so the sum is
    exactly one zero-padded 3x3 conv (:meth:`merged`).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        gain: g, the expansion of the middle 3x3 (the authors' ``gain1``; 2 everywhere in SPAN).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H, W).

    Params (training form): C_in C_out + C_out + g C_in^2 + g C_in + 9 g^2 C_in C_out + g C_out
    + g C_out^2 + C_out; deploy form 9 C_in C_out + C_out. The authors' module holds both at once
    (its ``eval_conv`` is a frozen parameter even in training), so their ``parameters()`` count is
    the sum of the two.
    """

    def __init__(self, in_channels: int, out_channels: int, gain: int = 2) -> None:
        super().__init__()
        if gain < 1:
            raise ValueError(f"Conv3XC gain must be at least 1, got {gain}")
        self.in_channels, self.out_channels, self.gain = in_channels, out_channels, gain
        self.sk = nn.Conv2d(in_channels, out_channels, 1)
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, in_channels * gain, 1),
            nn.Conv2d(in_channels * gain, out_channels * gain, 3),
            nn.Conv2d(out_channels * gain, out_channels, 1),
        )
        self.eval_conv: nn.Conv2d | None = None

    @property
    def deployed(self) -> bool:
        """True once :meth:`reparameterize` has replaced the branches by ``eval_conv``."""
        return self.eval_conv is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.eval_conv is not None:
            return self.eval_conv(x)
        return self.conv(F.pad(x, (1, 1, 1, 1))) + self.sk(x)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Kernel (C_out, C_in, 3, 3) and bias (C_out,) of the equivalent zero-padded 3x3 conv.

        K = K2 . K1 . K0 (over the two expanded widths) + K_sk at the centre tap;
        B = B2 + K2 (B1 + sum_{u,v} K1 B0) + B_sk.
        """
        if self.eval_conv is not None:
            return self.eval_conv.weight, self.eval_conv.bias
        c0, c1, c2 = self.conv
        k0, k2 = c0.weight[:, :, 0, 0], c2.weight[:, :, 0, 0]
        k = torch.einsum("op,pmuv,mi->oiuv", k2, c1.weight, k0)
        b_mid = c1.bias + torch.einsum("pmuv,m->p", c1.weight, c0.bias)
        b = c2.bias + k2 @ b_mid + self.sk.bias
        k = k + F.pad(self.sk.weight, (1, 1, 1, 1))
        return k, b

    @torch.no_grad()
    def reparameterize(self) -> nn.Conv2d:
        """Merge the branches into one padded 3x3 conv ``eval_conv`` and delete them (one-way).

        Returns:
            The installed ``eval_conv`` (C_in -> C_out, 3x3, padding 1, bias); calling again
            returns the same conv.
        """
        if self.eval_conv is not None:
            return self.eval_conv
        k, b = self.merged()
        fused = nn.Conv2d(self.in_channels, self.out_channels, 3, padding=1, device=k.device, dtype=k.dtype)
        fused.weight.copy_(k)
        fused.bias.copy_(b)
        del self.sk, self.conv
        self.eval_conv = fused
        return fused


def parameter_free_attention(h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """SPAN's parameter-free attention (Wan et al. 2024, Eq. 4-5): ``(h + x) * (sigmoid(h) - 0.5)``.

    Args:
        h: the block's last features, (N, C, H, W).
        x: the block input, (N, C, H, W).

    Returns:
        (N, C, H, W): the residual sum weighted by the symmetric activation of ``h``.
    """
    return (h + x) * (torch.sigmoid(h) - 0.5)


class SPAB(nn.Module):
    """Swift parameter-free attention block: three Conv3XC and a parameter-free attention.

    ``h1 = act(c1_r(x))``, ``h2 = act(c2_r(h1))``, ``H = c3_r(h2)`` (Conv3XC C -> C, gain g), then
    ``out = (H + x) * (sigmoid(H) - 0.5)``: the attention map is the symmetric activation of the
    block's own features, with no parameter. Names are those of the official code
    (``c1_r, c2_r, c3_r``). ``forward(x, return_mid=True)`` also returns ``h1``, the activated
    first conv output, which SPAN's last block hands to the fusion (the authors' ``out_b5_2``:
    their SiLU is in place, so it is the activated tensor).

    Args:
        channels: C.
        gain: g of the three Conv3XC (2 in SPAN).
        act: activation after the first two convs (``silu`` in SPAN).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    Params: 3 Conv3XC(C, C, g) (+ 2 C with PReLU); training form at g = 2
    3 (C^2 + C + 2 C^2 + 2 C + 36 C^2 + 2 C + 2 C^2 + C) = 3 (41 C^2 + 6 C); deploy form 3 (9 C^2 + C).
    """

    def __init__(self, channels: int, gain: int = 2, act: str = "silu") -> None:
        super().__init__()
        self.c1_r = Conv3XC(channels, channels, gain)
        self.c2_r = Conv3XC(channels, channels, gain)
        self.c3_r = Conv3XC(channels, channels, gain)
        self.act = nn.ModuleDict({"c1_r": make_activation(act, channels), "c2_r": make_activation(act, channels)})

    def forward(self, x: torch.Tensor, return_mid: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h1 = self.act["c1_r"](self.c1_r(x))
        h = self.c3_r(self.act["c2_r"](self.c2_r(h1)))
        out = parameter_free_attention(h, x)
        return (out, h1) if return_mid else out


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> SPAB:
    """The ``spab`` block of an ``ArchConfig`` (``nas.arch.SPABConfig``) at width ``nf``."""
    return SPAB(nf, gain=cfg.gain, act=cfg.act)
