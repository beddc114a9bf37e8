"""Sub-pixel upsamplers and the parameter-free nearest input skip.

* :class:`PixelShuffleUpsampler`: 3x3 conv C -> colors * s^2 + PixelShuffle(s) (Shi et al., CVPR
  2016; IMDN / RFDN ``pixelshuffle_block``; AWSRN's input skip with weight norm).
* :class:`ECBUpsampler`: linear ECB C -> colors * s^2 + PixelShuffle(s) (ECBSR ``models/ecbsr.py``,
  the last backbone ECB).
* :class:`EDSRUpsampler`: EDSR's tail, log2(s) x (3x3 conv C -> 4C + PixelShuffle(2)) (or one
  3x3 conv C -> 9C + PixelShuffle(3) at x3), then a 3x3 conv C -> colors (sanghyun-son/EDSR-PyTorch
  ``src/model/common.py`` ``Upsampler`` with ``act=False``, ``bn=False``; ``edsr.py`` ``m_tail``).
* :class:`BilinearUpsample`: the LR image upsampled bilinearly (a parameter-free input skip).
* :class:`NearestUpsample`: the LR image repeated to colors * s^2 channels and pixel-shuffled, i.e.
  nearest-neighbour upsampling (ECBSR's broadcast residual, written as BasicSR
  ``basicsr/archs/ecbsr_arch.py`` does with ``repeat_interleave`` so that it is right for RGB).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.ecb import ECB
from nas.primitives.layers import conv

__all__ = ["BilinearUpsample", "ECBUpsampler", "EDSRUpsampler", "NearestUpsample", "PixelShuffleUpsampler"]


class PixelShuffleUpsampler(nn.Sequential):
    """3x3 conv C -> colors * s^2, then PixelShuffle(s) (``upsampler.0`` is the conv).

    Args:
        channels: C.
        colors: output channels.
        scale: s.
        weight_norm: weight-normalise the conv (AWSRN's skip).

    Shape:
        (N, C, H, W) -> (N, colors, sH, sW). Params: 9 C O + O (+ O with weight norm),
        O = colors * s^2.
    """

    def __init__(self, channels: int, colors: int, scale: int, weight_norm: bool = False) -> None:
        super().__init__(
            conv(channels, colors * scale * scale, 3, weight_norm=weight_norm),
            nn.PixelShuffle(scale),
        )


class ECBUpsampler(nn.Sequential):
    """Linear ECB C -> colors * s^2, then PixelShuffle(s) (ECBSR's last ECB; ``upsampler.0``).

    Args:
        channels: C.
        colors: output channels.
        scale: s.
        depth_multiplier: dm of the ECB (ECBSR: 2.0).

    Shape:
        (N, C, H, W) -> (N, colors, sH, sW). Params: see :class:`~nas.primitives.ecb.ECB`.
    """

    def __init__(self, channels: int, colors: int, scale: int, depth_multiplier: float = 2.0) -> None:
        super().__init__(
            ECB(channels, colors * scale * scale, depth_multiplier, act=None),
            nn.PixelShuffle(scale),
        )


class EDSRUpsampler(nn.Sequential):
    """EDSR's tail: sub-pixel stages at width C, then a 3x3 conv C -> colors.

    Stages: for s = 2^n, n x (3x3 conv C -> 4C, PixelShuffle(2)); for s = 3, one 3x3 conv C -> 9C,
    PixelShuffle(3); no activation between them (EDSR's ``Upsampler(conv, scale, n_feats,
    act=False)``). The modules are ``upsampler.0, 1, ...`` in that order, the last conv at the end.

    Args:
        channels: C.
        colors: output channels.
        scale: s in 2, 3, 4, 8.
        weight_norm: weight-normalise the convs.

    Shape:
        (N, C, H, W) -> (N, colors, sH, sW). Params: log2(s) (36 C^2 + 4C) (x3: 81 C^2 + 9C)
        + 9 C colors + colors; C = 64: 295,424 + 1,731 at x4.

    Raises:
        ValueError: a scale that is neither a power of 2 nor 3.
    """

    def __init__(self, channels: int, colors: int, scale: int, weight_norm: bool = False) -> None:
        layers: list[nn.Module] = []
        if scale & (scale - 1) == 0 and scale > 1:
            for _ in range(scale.bit_length() - 1):
                layers += [conv(channels, 4 * channels, 3, weight_norm=weight_norm), nn.PixelShuffle(2)]
        elif scale == 3:
            layers += [conv(channels, 9 * channels, 3, weight_norm=weight_norm), nn.PixelShuffle(3)]
        else:
            raise ValueError(f"EDSR's upsampler exists at x2, x3, x4, x8, not x{scale}")
        layers.append(conv(channels, colors, 3, weight_norm=weight_norm))
        super().__init__(*layers)


class BilinearUpsample(nn.Module):
    """Bilinear upsampling by s (``F.interpolate``, ``align_corners=False``): a parameter-free input
    skip (Amazingren/NTIRE2024_ESR ``models/team16_LightRLFN.py`` ``forward``).

    Args:
        scale: s.

    Shape:
        (N, C, H, W) -> (N, C, sH, sW). Params: 0.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.upscale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=self.upscale, mode="bilinear", align_corners=False)


class NearestUpsample(nn.Module):
    """Nearest-neighbour upsampling as ``pixel_shuffle(repeat_interleave(x, s^2, dim=1), s)``.

    Args:
        scale: s.

    Shape:
        (N, C, H, W) -> (N, C, sH, sW). Params: 0.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.upscale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(torch.repeat_interleave(x, self.upscale * self.upscale, dim=1), self.upscale)
