"""``ArchConfig`` -> ``SRNet``: one generic network built from the config (timm ``ByobNet`` style).

Template (``nas/arch/config.py``; IMDN Fig. 2, RFDN Fig. 4, AWSRN Fig. 1, ECBSR Fig. 3, RLFN
Fig. 2, SPAN Fig. 2)::

    x (N, C, H, W) in [0, 1] -> [meanshift | meansub255 | meanshift255] -> [pre_upsample: bicubic to
      (sH, sW), upsampler pre_bicubic] -> fea_conv [-> head_act] -> blocks[0..B-1]
      -> fusion: concat (c = 1x1 conv + act, LR_conv = 3x3 conv) | conv1x1 (LR_conv = 1x1)
                 | conv3x3 (LR_conv = 3x3) | span (LR_conv = Conv3XC, c = 1x1 over 4 features) | last
                 | bsrn (c = 1x1 conv + act, LR_conv = BSConv-U)
      -> (+ fea_conv output if global_residual) -> upsampler (pre_bicubic: a k x k conv at HR, 3 unless
      tail_kernel)
      -> (+ skip(x); pre_bicubic with a bicubic skip: + the interpolated input) -> [sigmoid]
      -> [de-norm]
      -> (N, C, sH, sW)

Blocks are built by the function their config class names (``BlockConfigBase.builder``, found
through ``nas.arch.BLOCK_REGISTRY``; timm's ``register_model`` / BasicSR's ``ARCH_REGISTRY`` are the
models): a new block type is a config class and a builder, no table here to edit. Submodule names follow the official code where the structure
coincides (IMDN / E-RFDN / RLFN NTIRE 2022: ``fea_conv``, ``c``, ``LR_conv``, ``upsampler``; AWSRN:
``skip``), so a checkpoint mapping is a renaming of the block prefixes only (RLFN / SPAN as in
bytedance/RLFN and hongyuanyu/SPAN also rename ``conv_1`` / ``conv_2`` / ``conv_cat``).
"""

from __future__ import annotations

import copy
import importlib
from typing import Callable

import torch
from torch import nn

from nas.arch.config import BLOCK_REGISTRY, ArchConfig, ECBBlockConfig, ESDBConfig, SPABConfig
from nas.errors import ArchConfigError
from nas.primitives import (
    AWMS,
    ECB,
    BicubicUpsample,
    BilinearUpsample,
    DeconvUpsampler,
    ECBUpsampler,
    EDSRUpsampler,
    ESA,
    ESA_MIN_SIZE,
    Conv3XC,
    NearestUpsample,
    PixelShuffleUpsampler,
    conv,
    make_activation,
)
from nas.primitives.bsconv import BSConvU, RepeatedInputBSConvU

__all__ = ["DIV2K_RGB_MEAN", "SRNet", "build_model", "check_buildable", "reparameterize_model"]

#: DIV2K RGB mean in [0, 1] (AWSRN / EDSR ``rgb_mean``), used by ``input_norm="meanshift"``.
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)

#: Depth multiplier of the ECB head and ECB upsampler (ECBSR ``models/ecbsr.py``: 2.0).
_ECB_DEPTH_MULTIPLIER = 2.0

#: Gain of the Conv3XC head and of the ``span`` fusion's Conv3XC (SPAN ``conv_1`` / ``conv_2``: 2).
_CONV3XC_GAIN = 2

#: Times the LR image is repeated along channels before a ``bsconv`` head (BSRN ``forward``: 4).
_BSRN_INPUT_REPEATS = 4

#: DIV2K-mean subtraction scale of ``input_norm="meansub255"`` (SPAN ``img_range``) and of
#: ``"meanshift255"`` (EDSR's ``rgb_range``).
_MEANSUB_RANGE = 255.0


# ---------------------------------------------------------------------- blocks
def _build_block(cfg, nf: int, path: str, weight_norm: bool) -> nn.Module:
    """The block of ``cfg`` built by the builder its config class names (``BlockConfigBase.builder``,
    ``"module:function"``; the registry is ``nas.arch.BLOCK_REGISTRY``)."""
    kind = getattr(cfg, "type", None)
    if kind not in BLOCK_REGISTRY or not isinstance(cfg, BLOCK_REGISTRY[kind]):
        raise ArchConfigError(f"{path}.type: unknown block type {kind!r} (known: {', '.join(BLOCK_REGISTRY)})")
    return block_builder(kind)(cfg, nf, path, weight_norm)


def block_builder(kind: str) -> Callable[..., nn.Module]:
    """The builder function of a registered block type, ``(cfg, nf, path, weight_norm) -> nn.Module``.

    Raises:
        ArchConfigError: unknown type, or its ``builder`` cannot be imported (names both).
    """
    if kind not in _BUILDERS:
        if kind not in BLOCK_REGISTRY:
            raise ArchConfigError(f"unknown block type {kind!r} (known: {', '.join(BLOCK_REGISTRY)})")
        target = BLOCK_REGISTRY[kind].builder
        module, _, name = target.partition(":")
        try:
            _BUILDERS[kind] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise ArchConfigError(f"block type {kind!r}: its builder {target!r} cannot be loaded ({err})") from None
    return _BUILDERS[kind]


_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def _head_ecb_act(config: ArchConfig) -> str:
    """Activation of an ECB head: that of the first ECB block, else PReLU (ECBSR's default)."""
    for block in config.blocks:
        if isinstance(block, ECBBlockConfig):
            return block.act
    return "prelu"


def _bsconv_pw_bias(config: ArchConfig) -> bool:
    """Pointwise bias of a ``bsconv`` head and of the ``bsrn`` fusion's BSConv-U: that of the first
    ESDB block (BSRN-S has it everywhere, BSRN nowhere), else none (BSRN)."""
    for block in config.blocks:
        if isinstance(block, ESDBConfig):
            return block.pw_bias
    return False


# ---------------------------------------------------------------------- the network
class SRNet(nn.Module):
    """A single-image SR network assembled from an :class:`~nas.arch.ArchConfig`.

    Submodules: ``fea_conv`` (head: k x k conv C -> nf, k = ``head_kernel`` or 3; an ECB whose activation is that of the
    first ECB block, else PReLU, a Conv3XC of gain 2, or BSRN's BSConv-U 4C -> nf on the input
    repeated 4 times), ``blocks`` (``nn.ModuleList``), ``c`` (1x1 conv B*nf -> nf + ``fusion_act``
    for ``concat`` and ``bsrn``; plain 1x1 conv 4 nf -> nf for ``span``, or -> ``fusion_channels``, the upsampler's input width), ``LR_conv`` (3x3 after
    ``c`` for ``concat``; BSConv-U 3x3 for ``bsrn``; 1x1 for ``conv1x1``; 3x3 for ``conv3x3``;
    Conv3XC of gain 2 for ``span``), ``upsampler`` (``PixelShuffleUpsampler`` / ``ECBUpsampler`` /
    ``AWMS`` / ``EDSRUpsampler``; a k x k conv (k = ``tail_kernel`` or 3) from the body's width to C at HR
    for ``pre_bicubic``; ``DeconvUpsampler`` for ``deconv``), ``skip``
    (``NearestUpsample``, ``BilinearUpsample``, ``BicubicUpsample`` or weight-normed
    ``PixelShuffleUpsampler`` C -> C; absent for ``none`` and for a pre-upsampling network, whose
    bicubic skip is its interpolated input), ``head_act`` (``ArchConfig.head_act`` after the head,
    or ``None``), ``pre_upsample`` (``BicubicUpsample`` for ``pre_bicubic``, else ``None``). ``span`` fusion: ``c(cat[fea_conv(x), LR_conv(last), first, mid])`` with
    ``mid`` the last SPAB's activated first conv output (SPAN's ``conv_cat``).
    With ``weight_norm`` the head conv, LFB convs, upsampler convs and skip conv are weight-normed.
    ``meanshift`` maps x to (x - DIV2K mean) * 2 on the way in (AWSRN's (255 x - 255 mean) / 127.5)
    and back on the way out; the skip sees the normalised image, as in AWSRN. ``meansub255`` maps x
    to (x - DIV2K mean) * 255 and leaves the output alone (SPAN); ``meanshift255`` does the same
    and maps the output back with out / 255 + mean (EDSR's ``sub_mean`` / ``add_mean`` at
    ``rgb_range`` 255).

    Args:
        config: the architecture; see :func:`build_model` for the errors it raises.

    Shape:
        (N, C, H, W) in [0, 1] -> (N, C, sH, sW); H, W >= :attr:`min_input_size` (15 when a
        block has ESA, else 1).

    Attributes:
        config: the ``ArchConfig``.
        scale, colors: s and C.
        min_input_size: smallest LR height / width the forward accepts.
    """

    def __init__(self, config: ArchConfig) -> None:
        super().__init__()
        self.config = config
        self.scale, self.colors, nf = config.scale, config.colors, config.nf
        wn = config.weight_norm
        if config.input_norm != "none" and config.colors != 3:
            raise ArchConfigError(
                f"{config.name or 'config'}: input_norm: {config.input_norm} subtracts the RGB mean, needs "
                f"colors 3 (got {config.colors})"
            )
        if config.fusion == "efdn" and len(config.blocks) != 4:
            raise ArchConfigError(
                f"{config.name or 'config'}: fusion: efdn fuses exactly four blocks (EFDN's local_fuse), "
                f"got {len(config.blocks)}"
            )
        if config.fusion == "span" and not isinstance(config.blocks[-1], SPABConfig):
            raise ArchConfigError(
                f"{config.name or 'config'}: fusion: span takes the last block's first conv output, needs "
                f"the last block to be spab (got {config.blocks[-1].type})"
            )

        if config.head == "ecb":
            self.fea_conv = ECB(config.colors, nf, _ECB_DEPTH_MULTIPLIER, act=_head_ecb_act(config))
        elif config.head == "conv3xc":
            self.fea_conv = Conv3XC(config.colors, nf, _CONV3XC_GAIN)
        elif config.head == "bsconv":
            self.fea_conv = RepeatedInputBSConvU(config.colors, nf, _BSRN_INPUT_REPEATS,
                                                 pw_bias=_bsconv_pw_bias(config))
        else:
            self.fea_conv = conv(config.colors, nf, config.head_kernel or 3, weight_norm=wn)
        self.head_act = make_activation(config.head_act, nf) if config.head_act else None

        widths = config.block_widths  # each block's input width: nf, unless a plain conv block changes it
        try:
            self.blocks = nn.ModuleList(
                _build_block(b, w, f"blocks.{i}", wn) for i, (b, w) in enumerate(zip(config.blocks, widths))
            )
        except ArchConfigError as err:
            raise ArchConfigError(f"{config.name or 'config'}: {err}") from None

        self.fusion = config.fusion
        if config.fusion in ("concat", "bsrn"):
            self.c = nn.Sequential(conv(nf * len(config.blocks), nf, 1),
                                   make_activation(config.fusion_act, nf))
            if config.fusion == "concat":
                self.LR_conv = conv(nf, nf, 3)
            else:
                self.LR_conv = BSConvU(nf, nf, 3, pw_bias=_bsconv_pw_bias(config))
        elif config.fusion == "conv1x1":
            self.LR_conv = conv(nf, nf, 1)
        elif config.fusion == "conv3x3":
            self.LR_conv = conv(nf, nf, 3)
        elif config.fusion == "span":
            self.LR_conv = Conv3XC(nf, nf, _CONV3XC_GAIN)
            self.c = conv(4 * nf, config.fusion_channels or nf, 1)
        elif config.fusion == "efdn":
            self.local_fuse = nn.ModuleList(conv(2 * nf, nf, 1) for _ in range(3))
        self.global_residual = config.global_residual

        # the tail's input width (``span`` may fuse to fewer; a plain conv body may change it)
        up = config.fusion_channels or config.body_width
        if config.upsampler == "pixelshuffle":
            self.upsampler = PixelShuffleUpsampler(up, config.colors, config.scale, weight_norm=wn)
        elif config.upsampler == "ecb":
            self.upsampler = ECBUpsampler(up, config.colors, config.scale, _ECB_DEPTH_MULTIPLIER)
        elif config.upsampler == "edsr":
            self.upsampler = EDSRUpsampler(up, config.colors, config.scale, weight_norm=wn)
        elif config.upsampler == "pre_bicubic":
            self.upsampler = conv(up, config.colors, config.tail_kernel or 3, weight_norm=wn)
        elif config.upsampler == "deconv":
            self.upsampler = DeconvUpsampler(up, config.colors, config.scale, config.tail_kernel or 9)
        else:
            self.upsampler = AWMS(up, config.colors, config.scale, weight_norm=wn)

        if config.input_skip == "nearest":
            self.skip = NearestUpsample(config.scale)
        elif config.input_skip == "conv":
            self.skip = PixelShuffleUpsampler(config.colors, config.colors, config.scale, weight_norm=wn)
        elif config.input_skip == "bilinear":
            self.skip = BilinearUpsample(config.scale)
        elif config.input_skip == "bicubic" and config.upsampler != "pre_bicubic":
            self.skip = BicubicUpsample(config.scale)
        else:
            self.skip = None

        # pre-upsampling (SRCNN / VDSR): the network runs on the interpolated input
        self.pre_upsample = BicubicUpsample(config.scale) if config.upsampler == "pre_bicubic" else None
        self.output_sigmoid = config.output_act == "sigmoid"
        self.meanshift = config.input_norm == "meanshift"
        self.meansub = config.input_norm == "meansub255"
        self.meanshift255 = config.input_norm == "meanshift255"
        if self.meanshift or self.meansub or self.meanshift255:
            mean = torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1)
            self.register_buffer("rgb_mean", mean, persistent=False)

        has_esa = any(isinstance(m, ESA) for m in self.blocks.modules())
        self.min_input_size = ESA_MIN_SIZE if has_esa else 1

    #: Check the input's shape in ``forward`` (turned off to trace the network with ``torch.fx``,
    #: whose symbolic inputs cannot decide a Python ``if``: ``nas.export.ntire``).
    check_inputs: bool = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.check_inputs:
            if x.dim() != 4 or x.shape[1] != self.colors:
                raise ValueError(f"expected input (N, {self.colors}, H, W), got {tuple(x.shape)}")
            h, w = x.shape[-2:]
            if h < self.min_input_size or w < self.min_input_size:
                raise ValueError(
                    f"this network needs LR inputs of at least {self.min_input_size}x{self.min_input_size} px "
                    f"(ESA: 3x3 stride-2 conv + 7x7/3 max-pool), got {h}x{w}"
                )
        if self.meanshift:
            x = (x - self.rgb_mean) * 2.0
        elif self.meansub or self.meanshift255:
            x = (x - self.rgb_mean) * _MEANSUB_RANGE
        if self.pre_upsample is not None:
            x = self.pre_upsample(x)
        feat = self.fea_conv(x)
        if self.head_act is not None:
            feat = self.head_act(feat)
        out = feat
        outs = []
        last = len(self.blocks) - 1
        if self.fusion == "efdn":  # EFDN: o1, o2 = B1, B2; B3(LF0[o1, o2]); B4(LF1[o2, o3]); LF2[o2, o4]
            o1 = self.blocks[0](out)
            o2 = self.blocks[1](o1)
            o3 = self.blocks[2](self.local_fuse[0](torch.cat([o1, o2], 1)))
            o4 = self.blocks[3](self.local_fuse[1](torch.cat([o2, o3], 1)))
            out = self.local_fuse[2](torch.cat([o2, o4], 1))
        for i, block in enumerate(self.blocks if self.fusion != "efdn" else ()):
            if self.fusion == "span" and i == last:
                out, mid = block(out, return_mid=True)
            else:
                out = block(out)
            outs.append(out)
        if self.fusion in ("concat", "bsrn"):
            out = self.LR_conv(self.c(torch.cat(outs, dim=1)))
        elif self.fusion in ("conv1x1", "conv3x3"):
            out = self.LR_conv(out)
        elif self.fusion == "span":
            out = self.c(torch.cat([feat, self.LR_conv(out), outs[0], mid], dim=1))
        if self.global_residual:
            out = out + feat
        out = self.upsampler(out)
        if self.skip is not None:
            out = out + self.skip(x)
        elif self.pre_upsample is not None and self.config.input_skip == "bicubic":
            out = out + x  # pre-upsampling: x is already the interpolated input (VDSR's residual)
        if self.output_sigmoid:
            out = torch.sigmoid(out)  # ESPCN (ETDS code): the output squashed into (0, 1)
        if self.meanshift:
            out = out * 0.5 + self.rgb_mean
        elif self.meanshift255:
            out = out / _MEANSUB_RANGE + self.rgb_mean
        return out


def build_model(config: ArchConfig | dict) -> SRNet:
    """Build the network described by ``config`` (weights freshly initialised, train mode).

    Args:
        config: an ``ArchConfig`` (or a plain mapping, validated with ``ArchConfig.from_dict``).

    Returns:
        ``SRNet`` mapping (N, C, H, W) in [0, 1] to (N, C, sH, sW).

    Raises:
        ArchConfigError: the config is invalid or cannot be built; the message names the field,
            e.g. ``"trial-3: blocks.2.distill_ratio: 0.05 gives 0 distilled channels at nf 8"``.

    Example:
        >>> from nas.arch import reference_config
        >>> model = build_model(reference_config("erfdn", 4))
        >>> sum(p.numel() for p in model.parameters())
        433448
    """
    if isinstance(config, dict):
        config = ArchConfig.from_dict(config)
    return SRNet(config)


def check_buildable(config: ArchConfig | dict) -> None:
    """Raise if ``config`` cannot be built, without allocating any weight.

    A config can be valid field by field and still not build at its width, e.g. CCA reduction
    16 on the 12 fused channels of an IMDB at nf 12 (0 squeezed channels), or ESA on fewer
    than 4 channels. The network is built on PyTorch's ``meta`` device (shapes only), so the
    check allocates nothing whatever the network's size (tens of ms: meta tensors go through
    a Python dispatch); ``nas train`` / ``export`` use it to reject a config file before any
    work. (``nas search`` builds the seeded network itself as its check, about 4x cheaper on
    CPU for the sizes it samples, and trains that network.)

    Args:
        config: an ``ArchConfig`` or a plain mapping.

    Raises:
        ArchConfigError: the same one-line message :func:`build_model` would raise (names the field).
    """
    with torch.device("meta"):
        build_model(config)


def reparameterize_model(model: nn.Module) -> nn.Module:
    """A deploy copy of ``model``: every ECB / Conv3XC merged into its single 3x3 conv (timm style walker).

    Deep-copies ``model``, puts the copy in eval mode and calls ``reparameterize()`` on every
    submodule that has it (the ECBs, SPAN's Conv3XCs); other modules are left alone. The original
    is unchanged.

    Args:
        model: any ``nn.Module`` (typically an ``SRNet``).

    Returns:
        The re-parameterised copy, in eval mode; same outputs up to float rounding.
    """
    deployed = copy.deepcopy(model).eval()
    for module in list(deployed.modules()):
        reparam = getattr(module, "reparameterize", None)
        if callable(reparam):
            reparam()
    return deployed
