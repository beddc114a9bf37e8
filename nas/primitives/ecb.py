"""Edge-oriented convolution block (ECB) of ECBSR, with exact re-parameterisation to one 3x3 conv.

Zhang, Zeng, Zhang, "Edge-oriented Convolution Block for Real-time Super Resolution on Mobile
Devices", ACM MM 2021, §3.1-3.2 and Fig. 2; repo xindongzhang/ECBSR ``models/ecb.py`` (``ECB``,
``SeqConv3x3``) and BasicSR ``basicsr/archs/ecbsr_arch.py``. Facts: ``shared/reference_models.md`` §4.

Merging is explicit and one-way (timm ``RepVggBlock.reparameterize``): :meth:`ECB.reparameterize`
installs ``reparam_conv`` and deletes the branches; ``forward`` never fuses on the fly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.layers import make_activation

__all__ = ["ECB", "ECBBlock", "EDGE_MASKS", "Conv1x1Conv3x3", "Conv1x1Edge", "build_block"]

#: Fixed 3x3 edge filters of the three edge branches (rows top to bottom).
EDGE_MASKS: dict[str, tuple[tuple[float, ...], ...]] = {
    "sobelx": ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0)),
    "sobely": ((1.0, 2.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -2.0, -1.0)),
    "laplacian": ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0)),
}


def _conv1x1_bias_padded(x: torch.Tensor, k0: torch.Tensor, b0: torch.Tensor) -> torch.Tensor:
    """1x1 conv whose output is padded by one pixel with its own bias (not zeros).

    This is what makes "1x1 then unpadded 3x3" equal to one padded 3x3 conv at the borders.
    (N, Ci, H, W) -> (N, Cm, H + 2, W + 2).
    """
    y = F.conv2d(x, k0)
    return F.pad(y, (1, 1, 1, 1)) + b0.view(1, -1, 1, 1)


class Conv1x1Conv3x3(nn.Module):
    """ECB branch 2: 1x1 conv C_in -> M (expand), then 3x3 conv M -> C_out, M = int(C_out * dm).

    Parameters are named as the official ``SeqConv3x3``: ``k0, b0`` (1x1), ``k1, b1`` (3x3).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H, W). Params: C_in M + M + 9 M C_out + C_out.
    """

    def __init__(self, in_channels: int, out_channels: int, depth_multiplier: float = 2.0) -> None:
        super().__init__()
        mid = int(out_channels * depth_multiplier)
        if mid < 1:
            raise ValueError(f"ECB: depth_multiplier {depth_multiplier} gives 0 channels at {out_channels}")
        conv0 = nn.Conv2d(in_channels, mid, 1)
        conv1 = nn.Conv2d(mid, out_channels, 3)
        self.k0, self.b0 = conv0.weight, conv0.bias
        self.k1, self.b1 = conv1.weight, conv1.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(_conv1x1_bias_padded(x, self.k0, self.b0), self.k1, self.b1)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Equivalent padded 3x3 conv: K = K1 . K0 (over M), B = B1 + sum_{m,u,v} K1 B0."""
        k = torch.einsum("omuv,mi->oiuv", self.k1, self.k0[:, :, 0, 0])
        b = self.b1 + torch.einsum("omuv,m->o", self.k1, self.b0)
        return k, b


class Conv1x1Edge(nn.Module):
    """ECB branches 3-5: 1x1 conv C_in -> C_out, then a fixed depthwise edge filter per channel.

    The depthwise kernel is ``scale[o] * mask`` with a learnable per-channel ``scale`` and
    ``bias`` (both init randn * 1e-3) and a fixed ``mask`` (Sobel-x, Sobel-y or Laplacian), kept
    as ``nn.Parameter(requires_grad=False)`` so that it is counted by ``parameters()`` as in the
    official code.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kind: ``sobelx`` | ``sobely`` | ``laplacian``.

    Shape:
        (N, C_in, H, W) -> (N, C_out, H, W). Params: C_in C_out + 3 C_out + 9 C_out (mask).
    """

    def __init__(self, in_channels: int, out_channels: int, kind: str) -> None:
        super().__init__()
        if kind not in EDGE_MASKS:
            raise ValueError(f"unknown edge filter {kind!r} (known: {', '.join(EDGE_MASKS)})")
        self.kind = kind
        conv0 = nn.Conv2d(in_channels, out_channels, 1)
        self.k0, self.b0 = conv0.weight, conv0.bias
        self.scale = nn.Parameter(torch.randn(out_channels, 1, 1, 1) * 1e-3)
        self.bias = nn.Parameter(torch.randn(out_channels) * 1e-3)
        mask = torch.tensor(EDGE_MASKS[kind]).expand(out_channels, 1, 3, 3).clone()
        self.mask = nn.Parameter(mask, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = _conv1x1_bias_padded(x, self.k0, self.b0)
        return F.conv2d(y, self.scale * self.mask, self.bias, groups=self.mask.shape[0])

    def merged(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Equivalent padded 3x3 conv: K[o,i] = w[o] K0[o,i], B = bias + B0 sum(w[o]), w = scale mask."""
        w = self.scale * self.mask  # (C_out, 1, 3, 3)
        k = w * self.k0[:, :, 0, 0][:, :, None, None]
        b = self.bias + w.sum(dim=(1, 2, 3)) * self.b0
        return k, b


class ECB(nn.Module):
    """Edge-oriented convolution block: five parallel branches summed, then an activation.

    Branches: ``conv3x3`` (3x3 C_in -> C_out); ``conv1x1_3x3`` (1x1 expand to int(C_out * dm), 3x3);
    ``conv1x1_sbx`` / ``conv1x1_sby`` / ``conv1x1_lpl`` (1x1, then scaled Sobel-x / Sobel-y /
    Laplacian); plus the identity if ``with_idt`` and C_in == C_out. All five are linear and
    pad exactly, so :meth:`reparameterize` merges them into one 3x3 conv (``reparam_conv``).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        depth_multiplier: dm of the 1x1-3x3 branch (ECBSR: 2.0).
        act: activation name (ECBSR: ``prelu`` with C_out slopes) or ``None`` / ``"linear"``
            for none (the last ECB of ECBSR).
        with_idt: add the input (only when C_in == C_out; the ECBSR configs use no identity).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H, W).

    Params (train form, masks included): 9 Ci Co + Co + (Ci M + M + 9 M Co + Co)
    + 3 (Ci Co + 13 Co) (+ Co for PReLU), M = int(Co * dm); deploy form: 9 Ci Co + Co (+ Co).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth_multiplier: float = 2.0,
        act: str | None = "prelu",
        with_idt: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.with_idt = with_idt and in_channels == out_channels
        self.conv3x3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv1x1_3x3 = Conv1x1Conv3x3(in_channels, out_channels, depth_multiplier)
        self.conv1x1_sbx = Conv1x1Edge(in_channels, out_channels, "sobelx")
        self.conv1x1_sby = Conv1x1Edge(in_channels, out_channels, "sobely")
        self.conv1x1_lpl = Conv1x1Edge(in_channels, out_channels, "laplacian")
        self.reparam_conv: nn.Conv2d | None = None
        self.act = None if act in (None, "linear") else make_activation(act, out_channels)

    @property
    def deployed(self) -> bool:
        """True once :meth:`reparameterize` has replaced the branches by ``reparam_conv``."""
        return self.reparam_conv is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reparam_conv is not None:
            y = self.reparam_conv(x)
        else:
            y = (self.conv3x3(x) + self.conv1x1_3x3(x) + self.conv1x1_sbx(x)
                 + self.conv1x1_sby(x) + self.conv1x1_lpl(x))
            if self.with_idt:
                y = y + x
        return y if self.act is None else self.act(y)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Kernel (C_out, C_in, 3, 3) and bias (C_out,) of the equivalent single 3x3 conv."""
        if self.reparam_conv is not None:
            return self.reparam_conv.weight, self.reparam_conv.bias
        k, b = self.conv3x3.weight, self.conv3x3.bias
        for branch in (self.conv1x1_3x3, self.conv1x1_sbx, self.conv1x1_sby, self.conv1x1_lpl):
            kb, bb = branch.merged()
            k, b = k + kb, b + bb
        if self.with_idt:
            idt = torch.zeros_like(k)
            idt[torch.arange(self.out_channels), torch.arange(self.out_channels), 1, 1] = 1.0
            k = k + idt
        return k, b

    @torch.no_grad()
    def reparameterize(self) -> nn.Conv2d:
        """Merge the branches into one padded 3x3 conv, install it and delete the branches.

        One-way (timm ``RepVggBlock.reparameterize``): afterwards ``forward`` runs the single conv
        (then the activation); calling it again returns the same conv.

        Returns:
            The installed ``reparam_conv`` (C_in -> C_out, 3x3, padding 1, bias).
        """
        if self.reparam_conv is not None:
            return self.reparam_conv
        k, b = self.merged()
        fused = nn.Conv2d(self.in_channels, self.out_channels, 3, padding=1,
                          device=k.device, dtype=k.dtype)
        fused.weight.copy_(k)
        fused.bias.copy_(b)
        for name in ("conv3x3", "conv1x1_3x3", "conv1x1_sbx", "conv1x1_sby", "conv1x1_lpl"):
            delattr(self, name)
        self.reparam_conv = fused
        return fused


class ECBBlock(nn.Module):
    """``depth`` ECBs C -> C in series (``body``), optionally with the block input added.

    The body of ECBSR is M such blocks of depth 1 (``models/ecbsr.py``: ``backbone[1..M]``).

    Args:
        channels: C.
        depth: number of ECBs.
        depth_multiplier: dm of each ECB.
        act: activation of each ECB.
        residual: add the block input to the output.

    Shape:
        (N, C, H, W) -> (N, C, H, W). Params: depth * ECB(C, C).
    """

    def __init__(
        self,
        channels: int,
        depth: int = 1,
        depth_multiplier: float = 2.0,
        act: str | None = "prelu",
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(*(ECB(channels, channels, depth_multiplier, act) for _ in range(depth)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.residual else out


def build_block(cfg, nf: int, path: str, weight_norm: bool) -> ECBBlock:
    """The ``ecb`` block of an ``ArchConfig`` (``nas.arch.ECBBlockConfig``) at width ``nf``.

    Raises:
        ArchConfigError: ``depth_multiplier`` gives no expanded channel at ``nf`` (names it).
    """
    from nas.errors import ArchConfigError

    if int(nf * cfg.depth_multiplier) < 1:
        raise ArchConfigError(
            f"{path}.depth_multiplier: {cfg.depth_multiplier} gives 0 expanded channels at nf {nf}"
        )
    return ECBBlock(nf, depth=cfg.depth, depth_multiplier=cfg.depth_multiplier, act=cfg.act,
                    residual=cfg.residual)
