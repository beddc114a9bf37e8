"""Sub-pixel upsamplers and the parameter-free nearest input skip.

* :class:`PixelShuffleUpsampler`: 3x3 conv C -> colors * s^2 + PixelShuffle(s) (Shi et al., CVPR
  2016; IMDN / RFDN ``pixelshuffle_block``; AWSRN's input skip with weight norm).
* :class:`ECBUpsampler`: linear ECB C -> colors * s^2 + PixelShuffle(s) (ECBSR ``models/ecbsr.py``,
  the last backbone ECB).
* :class:`EDSRUpsampler`: EDSR's tail, log2(s) x (3x3 conv C -> 4C + PixelShuffle(2)) (or one
  3x3 conv C -> 9C + PixelShuffle(3) at x3), then a 3x3 conv C -> colors (sanghyun-son/EDSR-PyTorch
  ``src/model/common.py`` ``Upsampler`` with ``act=False``, ``bn=False``; ``edsr.py`` ``m_tail``).
* :class:`DeconvUpsampler`: one k x k transposed conv C -> colors of stride s (FSRCNN's
  deconvolution layer, Dong, Loy, Tang, ECCV 2016, §3.1: 9x9; ECNUSR/ETDS
  ``core/archs/ir/FSRCNN/arch.py`` ``last_part``).
* :class:`BilinearUpsample`: the LR image upsampled bilinearly (a parameter-free input skip).
* :class:`BicubicUpsample`: MATLAB's bicubic interpolation by an integer factor, in torch (the
  interpolated input of pre-upsampling networks, VDSR; and a parameter-free input skip).
* :class:`NearestUpsample`: the LR image repeated to colors * s^2 channels and pixel-shuffled, i.e.
  nearest-neighbour upsampling (ECBSR's broadcast residual, written as BasicSR
  ``basicsr/archs/ecbsr_arch.py`` does with ``repeat_interleave`` so that it is right for RGB).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.ecb import ECB
from nas.primitives.layers import conv

__all__ = [
    "BicubicUpsample", "BilinearUpsample", "DeconvUpsampler", "ECBUpsampler", "EDSRUpsampler", "NearestUpsample",
    "PixelShuffleUpsampler",
]


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


class DeconvUpsampler(nn.ConvTranspose2d):
    """FSRCNN's deconvolution tail: one k x k transposed conv C -> colors of stride s, padding k // 2
    and output padding s - 1, so that an (H, W) input gives exactly (sH, sW) (Dong, Loy, Tang,
    "Accelerating the Super-Resolution Convolutional Neural Network", ECCV 2016, §3.1, a 9x9
    deconvolution; ECNUSR/ETDS ``core/archs/ir/FSRCNN/arch.py`` ``last_part``, the same layer).

    Args:
        channels: C.
        colors: output channels.
        scale: s (>= 2).
        kernel: odd k (FSRCNN: 9).

    Shape:
        (N, C, H, W) -> (N, colors, sH, sW). Params: k^2 C colors + colors. Mult-Adds: k^2 C colors
        per LR pixel (each input pixel scatters a k x k footprint).

    Raises:
        ValueError: an even kernel (the output would not be s times the input).
    """

    def __init__(self, channels: int, colors: int, scale: int, kernel: int = 9) -> None:
        if kernel % 2 != 1:
            raise ValueError(f"a deconvolution upsampler needs an odd kernel, got {kernel}")
        super().__init__(channels, colors, kernel, stride=scale, padding=kernel // 2, output_padding=scale - 1)


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


def _phase_taps(scale: int) -> torch.Tensor:
    """(s, 5) weights: output pixel ``s m + p`` (0-based) is ``sum_o w[p, o] x[m + o - 2]``.

    Output pixel i sits at ``u = (i + 0.5) / s - 0.5`` in input coordinates; its four taps
    ``floor(u) - 1 .. floor(u) + 2`` are weighted by the cubic of their distance to u and normalised
    to sum 1 (MATLAB ``imresize`` ``contributions`` without antialiasing, as for any upscaling).
    """
    from nas.data.bicubic import matlab_cubic  # the kernel's one definition (numpy; imported when built)

    taps = torch.zeros(scale, 5, dtype=torch.float64)
    for p in range(scale):
        d = (p + 0.5) / scale - 0.5  # u - m, in (-0.5, 0.5)
        for k in range(4):
            off = math.floor(d) - 1 + k  # tap offset from m, in -2..2
            taps[p, off + 2] += float(matlab_cubic(d - off))
        taps[p] /= taps[p].sum()
    return taps


def _symmetric_pad(x: torch.Tensor, dim: int, pad: int) -> torch.Tensor:
    """Mirror ``pad`` pixels on both sides of ``dim`` including the edge pixel (MATLAB's
    ``symmetric``: ... x1 x0 | x0 x1 ... x(n-1) | x(n-1) x(n-2) ...); needs ``pad`` <= size."""
    n = x.shape[dim]
    left = x.narrow(dim, 0, pad).flip(dim)
    right = x.narrow(dim, n - pad, pad).flip(dim)
    return torch.cat([left, x, right], dim=dim)


class BicubicUpsample(nn.Module):
    """MATLAB ``imresize(x, s, 'bicubic')`` for an integer s > 1, on float tensors (no rounding).

    Upscaling needs no antialiasing, so each output pixel is a fixed 4-tap cubic (a = -0.5) of
    its input row and column, with symmetric border padding: the image is padded by 2 and
    filtered by a 5-tap conv per output phase (every channel alike), along the height, then the width, as
    MATLAB does (``nas.data.bicubic.imresize`` is the numpy reference; the two agree to float
    rounding, ``tests/primitives/test_plain.py``). This is the interpolation pre-upsampling networks
    are trained on (SRCNN, VDSR: Kim et al., CVPR 2016, §3.1, "interpolated low-resolution image";
    MATLAB bicubic in their code). Torch's own ``mode="bicubic"`` uses a = -0.75 and differs.

    Args:
        scale: s, an integer >= 2.

    Shape:
        (N, C, H, W) -> (N, C, sH, sW), H, W >= 2. Params: 0 (the taps are a non-persistent buffer).

    Raises:
        ValueError: ``scale`` < 2; at forward, an input smaller than 2x2.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        if int(scale) != scale or scale < 2:
            raise ValueError(f"BicubicUpsample needs an integer scale >= 2, got {scale}")
        self.upscale = int(scale)
        taps = _phase_taps(self.upscale).float()
        # (s, 1, 5, 1) along the height, (s, 1, 1, 5) along the width: fixed shapes (ONNX-exportable)
        self.register_buffer("taps_h", taps.view(self.upscale, 1, 5, 1), persistent=False)
        self.register_buffer("taps_w", taps.view(self.upscale, 1, 1, 5), persistent=False)

    #: Check the input's size in ``forward`` (off to trace the network with ``torch.fx``, whose
    #: symbolic shapes cannot decide a Python ``if``: ``nas.export.ntire``).
    check_inputs: bool = True

    def _along(self, x: torch.Tensor, dim: int) -> torch.Tensor:
        n, c, h, w = x.shape[0], x.shape[1], x.shape[2], x.shape[3]  # indexed, not unpacked: fx-traceable
        s = self.upscale
        planes = x.reshape(n * c, 1, h, w)  # every channel filtered alike
        y = F.conv2d(_symmetric_pad(planes, dim, 2), self.taps_h if dim == 2 else self.taps_w)  # (N C, s, H, W)
        if dim == 2:
            return y.view(n, c, s, h, w).permute(0, 1, 3, 2, 4).reshape(n, c, h * s, w)
        return y.view(n, c, s, h, w).permute(0, 1, 3, 4, 2).reshape(n, c, h, w * s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.check_inputs and (x.shape[-1] < 2 or x.shape[-2] < 2):
            raise ValueError(f"bicubic upsampling needs an input of at least 2x2 px, got {tuple(x.shape[-2:])}")
        return self._along(self._along(x, 2), 3)
