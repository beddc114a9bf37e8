"""Shared helpers: a "same"-padded conv, and activations / attentions by name.

The activation table follows timm ``timm/layers/create_act.py`` (``_ACT_LAYER_DEFAULT``): a dict
from the names allowed in :class:`nas.arch.ArchConfig` to factories taking the channel count (only
PReLU uses it, one slope per channel as in ECBSR ``models/ecb.py``). LeakyReLU uses slope 0.05, as
IMDN and RFDN do (``model/block.py`` / ``block.py`` ``activation(..., neg_slope=0.05)``).
"""

from __future__ import annotations

from typing import Callable

from torch import nn
from torch.nn.utils.parametrizations import weight_norm as _weight_norm

from nas.primitives.cca import CCALayer
from nas.primitives.esa import ESA

__all__ = [
    "ACTIVATIONS", "ATTENTIONS", "LRELU_SLOPE", "conv", "distilled_channels", "make_activation",
    "make_attention",
]

#: Negative slope of LeakyReLU in IMDN / RFDN.
LRELU_SLOPE = 0.05

#: Activation name -> factory ``channels -> nn.Module``.
ACTIVATIONS: dict[str, Callable[[int], nn.Module]] = {
    "lrelu": lambda channels: nn.LeakyReLU(LRELU_SLOPE),
    "relu": lambda channels: nn.ReLU(),
    "prelu": lambda channels: nn.PReLU(num_parameters=channels),
    "silu": lambda channels: nn.SiLU(),
    "gelu": lambda channels: nn.GELU(),  # exact (erf) form, as BSRN's nn.GELU()
    "tanh": lambda channels: nn.Tanh(),  # ESPCN (Shi et al., CVPR 2016, §2.1)
}

#: Attention name -> factory ``(channels, cca_reduction) -> nn.Module``.
ATTENTIONS: dict[str, Callable[[int, int], nn.Module]] = {
    "esa": lambda channels, reduction: ESA(channels),
    "cca": lambda channels, reduction: CCALayer(channels, reduction),
    "none": lambda channels, reduction: nn.Identity(),
    # ESA without its 1x1 ``conv_f`` on the skip (NTIRE 2022 teams 08 SFDN and 34 ESAN).
    "esa_no_conv_f": lambda channels, reduction: ESA(channels, conv_f=False),
}


def make_activation(name: str, channels: int) -> nn.Module:
    """Build the activation ``name`` for a tensor with ``channels`` channels.

    Args:
        name: one of :data:`ACTIVATIONS` (``lrelu`` = LeakyReLU(0.05), ``relu``, ``prelu`` with
            ``channels`` learnable slopes, ``silu``, ``gelu``, ``tanh``).
        channels: channel count C of the (N, C, H, W) input (PReLU only).

    Returns:
        A shape-preserving module (N, C, H, W) -> (N, C, H, W).

    Raises:
        ValueError: unknown name; the message lists the known names.
    """
    try:
        factory = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r} (known: {', '.join(ACTIVATIONS)})") from None
    return factory(channels)


def conv(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    bias: bool = True,
    weight_norm: bool = False,
    dilation: int = 1,
) -> nn.Conv2d:
    """A 2-D convolution with "same" padding ``dilation * (kernel_size // 2)`` (IMDN ``conv_layer``).

    Args:
        in_channels: input channels C_in.
        out_channels: output channels C_out.
        kernel_size: odd square kernel k.
        stride: stride; with stride 1 the spatial size is kept.
        bias: add a per-channel bias.
        dilation: spacing of the kernel taps (NTIRE 2022 team 13's dilated RFDB: 1, 2, 5).
        weight_norm: weight-normalise (Salimans & Kingma 2016) with
            ``torch.nn.utils.parametrizations.weight_norm`` (dim 0), as AWSRN does
            (ChaofWang/AWSRN ``awsrn.py`` ``wn``). The parameters are then
            ``parametrizations.weight.original0`` (g, C_out values) and ``original1`` (v).

    Returns:
        ``nn.Conv2d`` mapping (N, C_in, H, W) -> (N, C_out, ceil(H/stride), ceil(W/stride)).
        Params: k*k*C_in*C_out (+ C_out bias) (+ C_out for g with weight norm).
    """
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                      padding=dilation * (kernel_size // 2), dilation=dilation, bias=bias)
    if weight_norm:
        layer = _weight_norm(layer, name="weight", dim=0)
    return layer



def make_attention(name: str, channels: int, cca_reduction: int = 16) -> nn.Module:
    """Build a block's attention by name from :data:`ATTENTIONS`.

    Args:
        name: ``esa`` (RFDN) | ``esa_no_conv_f`` (ESA without ``conv_f``) | ``cca`` (IMDN) | ``none``.
        channels: C of the (N, C, H, W) tensor the attention reweights.
        cca_reduction: CCA squeeze ratio (ignored by the others).

    Returns:
        A shape-preserving module (N, C, H, W) -> (N, C, H, W); ``nn.Identity`` for ``none``.

    Raises:
        ValueError: unknown name (lists the known ones) or too few channels.
    """
    try:
        factory = ATTENTIONS[name]
    except KeyError:
        raise ValueError(f"unknown attention {name!r} (known: {', '.join(ATTENTIONS)})") from None
    return factory(channels, cca_reduction)


def distilled_channels(channels: int, distill_ratio: float) -> int:
    """Width of each distilled feature in IMDB / RFDB: ``round(channels * distill_ratio)``.

    May be 0 (or ``channels``) for extreme ratios: callers must check.
    """
    return int(round(channels * distill_ratio))


def check_attention(attention: str, reduction: int, channels: int, path: str, nf: int) -> None:
    """Refuse an attention that cannot exist at ``channels`` (a block builder's width check).

    Raises:
        ArchConfigError: CCA with ``channels // reduction == 0`` (names ``path.cca_reduction``),
            or ESA on fewer than 4 channels (names ``path.attention``).
    """
    from nas.errors import ArchConfigError

    if attention == "cca" and channels // reduction < 1:
        raise ArchConfigError(
            f"{path}.cca_reduction: {reduction} leaves 0 CCA channels ({channels} // {reduction}) at nf {nf}"
        )
    if attention in ("esa", "esa_no_conv_f") and channels < 4:
        raise ArchConfigError(f"{path}.attention: {attention} needs at least 4 channels, gets {channels} at nf {nf}")

