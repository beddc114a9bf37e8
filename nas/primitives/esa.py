"""Enhanced spatial attention (ESA) as used in RFDN / E-RFDN, and RLFN's slim variant.

Liu, Tang, Wu, "Residual Feature Distillation Network for Lightweight Image Super-Resolution",
ECCV-W (AIM) 2020, §3.2 (ESA from Liu et al., "Residual Feature Aggregation Network", CVPR 2020);
repo njulj/RFDN ``block.py`` ``ESA``. Layer facts: ``shared/reference_models.md`` §2.
Slim form (``slim=True``): Kong et al., "Residual Local Feature Network for Efficient
Super-Resolution", CVPR-W 2022, §3.1; bytedance/RLFN ``model/block.py`` ``ESA`` (no ``conv_max``,
no ``conv3_``, no ReLU; 16 ESA channels whatever the width). Facts: ``shared/reference_models.md`` §10.
BSRN's form (``bsconv``, ``act="gelu"``): Li et al., "Blueprint Separable Residual Network for
Efficient Image Super-Resolution", CVPR-W 2022, §3.2; xiaom233/BSRN ``basicsr/archs/BSRN_arch.py``
``ESA(conv=BSConvU)`` (every 3x3 conv a BSConv-U, GELU) and ``rfdnfinalB5_arch.py`` ``ESA`` (BSRN-S:
the strided ``conv2`` stays a plain conv, the pointwise convs have a bias).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives.bsconv import BSConvU

__all__ = ["ESA", "ESA_MIN_SIZE", "ESA_ACTIVATIONS", "ESA_BSCONV"]

#: Smallest H and W (px) an ESA input may have: the 3x3 stride-2 unpadded conv gives
#: floor((H - 3) / 2) + 1 rows, and the 7x7 max-pool needs at least 7 of them, so H >= 15.
ESA_MIN_SIZE = 15

#: ESA activation name -> function: ReLU (RFDN), GELU (BSRN, ``nn.GELU()``: the exact erf form).
ESA_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}

#: Which 3x3 convs of the ESA are BSConv-U: ``none`` (RFDN, RLFN), ``all`` (BSRN: ``conv_max``,
#: ``conv2``, ``conv3``, ``conv3_``), ``unstrided`` (BSRN-S: all but the strided ``conv2``).
ESA_BSCONV = ("none", "all", "unstrided")


class ESA(nn.Module):
    """Enhanced spatial attention: a strided, pooled, upsampled mask multiplied into the input.

    With f = ``esa_channels`` (default ``channels // 4``): ``c1_ = conv1(x)`` (1x1, C -> f);
    ``c1 = conv2(c1_)`` (3x3, stride 2, no padding); ``v = max_pool2d(c1, 7, stride 3)``;
    ``v = relu(conv_max(v))``; ``c3 = relu(conv3(v))``; ``c3 = conv3_(c3)`` (3x3 convs,
    padding 1); ``c3`` is bilinearly resized to H x W (align_corners=False);
    ``m = sigmoid(conv4(c3 + conv_f(c1_)))`` (1x1 convs, f -> f and f -> C); output ``x * m``.
    Without ``conv_f`` (``conv_f=False``) the skip is ``c1_`` itself: ``m = sigmoid(conv4(c3 + c1_))``
    (NTIRE 2024 team 21's SlimRLFN, Amazingren/NTIRE2024_ESR ``models/team21_SlimRLFN.py`` ``ESA``).
    The slim form of RLFN has no ``conv_max`` / ``conv3_`` and no ReLU: ``c3 = conv3(v)``.
    BSRN's form replaces 3x3 convs by BSConv-U (:class:`~nas.primitives.bsconv.BSConvU`, same
    stride and padding) and ReLU by GELU.

    Args:
        channels: C (the official ``n_feats``).
        esa_channels: f; ``None`` for ``channels // 4`` (RFDN), 16 in RLFN.
        slim: RLFN's form without ``conv_max`` and ``conv3_``.
        act: ``relu`` (RFDN) or ``gelu`` (BSRN); see :data:`ESA_ACTIVATIONS`.
        bsconv: which 3x3 convs are BSConv-U, one of :data:`ESA_BSCONV` (``none``: RFDN / RLFN,
            ``all``: BSRN, ``unstrided``: BSRN-S).
        pw_bias: bias on the BSConv-U pointwise convs (BSRN-S).
        conv_f: the 1x1 ``conv_f`` on the skip (every published ESA but SlimRLFN's); ``False``
            drops it (f^2 + f fewer parameters).

    Shape:
        (N, C, H, W) -> (N, C, H, W) with H, W >= :data:`ESA_MIN_SIZE` (15).

    Params: 2 C f + C + 37 f^2 + 6 f (C = 50, f = 12: 6,650); slim 2 C f + C + 19 f^2 + 4 f
    (C = 46, f = 16: 6,446). Each BSConv-U 3x3 has f^2 + 10 f (+ f with ``pw_bias``) instead of
    9 f^2 + f: BSRN's ESA (C = 64, f = 16, ``all``) 4,064; BSRN-S's (C = 48, f = 12, ``unstrided``,
    ``pw_bias``) 3,504.

    Raises:
        ValueError: at construction if f < 1 (C < 4 by default), or an unknown ``act`` / ``bsconv``
            (lists the known ones); in ``forward`` if H or W < 15
            (clear message instead of max_pool2d's "output size is too small").
    """

    def __init__(self, channels: int, esa_channels: int | None = None, slim: bool = False,
                 act: str = "relu", bsconv: str = "none", pw_bias: bool = False, conv_f: bool = True) -> None:
        super().__init__()
        f = channels // 4 if esa_channels is None else esa_channels
        if f < 1:
            if esa_channels is None:
                raise ValueError(f"ESA needs at least 4 channels, got {channels}")
            raise ValueError(f"ESA needs at least 1 ESA channel, got {esa_channels}")
        if act not in ESA_ACTIVATIONS:
            raise ValueError(f"ESA: unknown activation {act!r} (known: {', '.join(ESA_ACTIVATIONS)})")
        if bsconv not in ESA_BSCONV:
            raise ValueError(f"ESA: unknown bsconv {bsconv!r} (known: {', '.join(ESA_BSCONV)})")
        self.slim = slim
        self.act = act

        def conv3x3(stride: int, padding: int, bs: bool) -> nn.Module:
            if bs:
                return BSConvU(f, f, 3, stride=stride, padding=padding, pw_bias=pw_bias)
            return nn.Conv2d(f, f, 3, stride=stride, padding=padding)

        self.conv1 = nn.Conv2d(channels, f, 1)
        self.has_conv_f = conv_f
        if conv_f:
            self.conv_f = nn.Conv2d(f, f, 1)
        if not slim:
            self.conv_max = conv3x3(1, 1, bsconv != "none")
        self.conv2 = conv3x3(2, 0, bsconv == "all")
        self.conv3 = conv3x3(1, 1, bsconv != "none")
        if not slim:
            self.conv3_ = conv3x3(1, 1, bsconv != "none")
        self.conv4 = nn.Conv2d(f, channels, 1)

    #: Check the input size in ``forward`` (off while tracing with ``torch.fx``: ``nas.export.ntire``).
    check_inputs: bool = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if self.check_inputs and (h < ESA_MIN_SIZE or w < ESA_MIN_SIZE):
            raise ValueError(
                f"ESA needs inputs of at least {ESA_MIN_SIZE}x{ESA_MIN_SIZE} px, got {h}x{w} "
                "(3x3 stride-2 conv, then 7x7 max-pool with stride 3)"
            )
        c1_ = self.conv1(x)
        c1 = self.conv2(c1_)
        v = F.max_pool2d(c1, kernel_size=7, stride=3)
        if self.slim:
            c3 = self.conv3(v)
        else:
            act = ESA_ACTIVATIONS[self.act]
            v = act(self.conv_max(v))
            c3 = act(self.conv3(v))
            c3 = self.conv3_(c3)
        c3 = F.interpolate(c3, size=(h, w), mode="bilinear", align_corners=False)
        skip = self.conv_f(c1_) if self.has_conv_f else c1_
        m = torch.sigmoid(self.conv4(c3 + skip))
        return x * m
