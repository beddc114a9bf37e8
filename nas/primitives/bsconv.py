"""Blueprint separable convolution, unconstrained (BSConv-U), as BSRN uses it.

Haase & Amthor, "Rethinking Depthwise Separable Convolutions: How Intra-Kernel Correlations Lead to
Improved MobileNets", CVPR 2020, §3 (BSConv-U: a pointwise 1x1 conv, *then* a depthwise k x k conv,
the reverse of a depthwise separable conv). As used in BSRN: Li et al., "Blueprint Separable
Residual Network for Efficient Image Super-Resolution", CVPR-W 2022, arXiv 2205.05996, §3.1 and
Fig. 2; repo xiaom233/BSRN ``basicsr/archs/BSRN_arch.py`` ``BSConvU`` (pointwise without bias,
depthwise with bias; BSRN) and ``basicsr/archs/Blocks.py`` ``BSConvU`` (pointwise an
``nn.Linear``, i.e. a 1x1 conv *with* bias; BSRN-S, ``rfdnfinalB5_arch.py``).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BSConvU", "RepeatedInputBSConvU"]


class BSConvU(nn.Module):
    """BSConv-U: ``dw(pw(x))``, a 1x1 conv C_in -> C_out, then a k x k depthwise conv on C_out.

    Submodule names as the authors': ``pw`` (``nn.Conv2d`` 1x1, no bias in BSRN) and ``dw``
    (``nn.Conv2d`` k x k, ``groups = C_out``, with bias).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: odd k of the depthwise conv (3 everywhere in BSRN).
        stride: stride of the depthwise conv (2 in the strided conv of BSRN's ESA).
        padding: padding of the depthwise conv; ``None`` for ``kernel_size // 2`` ("same" at
            stride 1; the authors' default 1). BSRN's ESA uses 0 at stride 2.
        pw_bias: bias on the pointwise conv: ``False`` in BSRN (``BSRN_arch.py``), ``True`` in
            BSRN-S (``Blocks.py``: ``nn.Linear``).

    Shape:
        (N, C_in, H, W) -> (N, C_out, H', W') with H' = floor((H + 2 p - k) / stride) + 1.

    Params: C_in C_out (+ C_out with ``pw_bias``) + k^2 C_out + C_out
    (64 -> 64, k 3: 4,736; with ``pw_bias`` 4,800).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 padding: int | None = None, pw_bias: bool = False) -> None:
        super().__init__()
        self.pw = nn.Conv2d(in_channels, out_channels, 1, bias=pw_bias)
        self.dw = nn.Conv2d(out_channels, out_channels, kernel_size, stride=stride,
                            padding=kernel_size // 2 if padding is None else padding,
                            groups=out_channels, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dw(self.pw(x))


class RepeatedInputBSConvU(BSConvU):
    """BSRN's head: the LR image repeated ``repeats`` times along channels, then a BSConv-U
    ``repeats * C -> nf`` (xiaom233/BSRN ``BSRN_arch.py`` ``BSRN.forward``:
    ``torch.cat([input, input, input, input], dim=1)`` then ``fea_conv``). The repetition changes
    no function a plain BSConv-U could not have, but it is the authors' parameter layout (their
    ``fea_conv.pw`` weight is (nf, 4 C, 1, 1)).

    Args:
        colors: C of the LR image.
        out_channels: nf.
        repeats: 4 in BSRN and BSRN-S.
        pw_bias: as :class:`BSConvU`.

    Shape:
        (N, C, H, W) -> (N, nf, H, W).

    Params: 4 C nf (+ nf) + 10 nf (C = 3, nf 64: 1,408; BSRN-S nf 48 with bias: 1,104).
    """

    def __init__(self, colors: int, out_channels: int, repeats: int = 4, pw_bias: bool = False) -> None:
        super().__init__(colors * repeats, out_channels, 3, pw_bias=pw_bias)
        self.repeats = repeats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat([x] * self.repeats, dim=1))
