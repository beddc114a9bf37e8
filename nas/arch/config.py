"""`ArchConfig`: the typed, validated description of one SR network.

An ``ArchConfig`` is plain data (no torch): scale, colour channels, nf, the head, the block
sequence with per-block options, the fusion, the upsampler and the input skip. It round-trips
through YAML / JSON and has a stable :attr:`ArchConfig.arch_id` (SHA-1 of the canonical JSON of
the fields that change the network), used to recognise duplicate candidates (archai's
``get_archid``). ``nas.models.build_model`` turns it into a ``torch.nn.Module``.

Network template (IMDN / RFDN, Hui et al. 2019 Fig. 2, Liu et al. 2020 Fig. 4)::

    x (N, C, H, W) -> [input_norm] -> head -> blocks[0..B-1] -> fusion -> (+ head if global_residual)
      -> upsampler (N, C, sH, sW) -> (+ input_skip(x)) -> [de-norm]

* fusion ``concat``: concatenation of all block outputs -> 1x1 conv + act -> 3x3 conv (IMDN/RFDN);
  ``last``: the last block's output (ECBSR, AWSRN); ``conv1x1``: the last block's output -> 1x1
  conv nf -> nf, no activation (IMDN_RTC, Zheng222/IMDN ``model/architecture.py``); ``conv3x3``:
  the last block's output -> 3x3 conv nf -> nf, no activation (RLFN, bytedance/RLFN ``conv_2``);
  ``span``: concatenation of the head output, a Conv3XC nf -> nf of the last block's output, the
  first block's output and the last block's activated first conv -> 1x1 conv 4 nf -> nf (SPAN,
  hongyuanyu/SPAN ``span_arch.py``; the last block must be an SPAB); ``efdn``: EFDN's local fusion
  of four blocks o1..o4: block 3 gets 1x1(cat[o1, o2]), block 4 gets 1x1(cat[o2, o3]), the
  output is 1x1(cat[o2, o4]) (Amazingren/NTIRE2025_ESR ``team00_EFDN.py`` ``local_fuse``);
  ``bsrn``: concatenation of all block outputs -> 1x1 conv + act -> BSConv-U 3x3 (BSRN, xiaom233/BSRN
  ``basicsr/archs/BSRN_arch.py`` ``c1``, ``GELU``, ``c2``).
* head ``conv3x3`` (C -> nf), ``ecb`` (ECBSR), ``conv3xc`` (SPAN's re-parameterisable Conv3XC) or
  ``bsconv`` (BSRN: the LR image repeated 4 times along channels, then a BSConv-U 4C -> nf).
* input_norm ``meanshift``: (x - DIV2K mean) * 2, inverted on the output (AWSRN); ``meansub255``:
  (x - DIV2K mean) * 255, output not de-normalised (SPAN's ``img_range`` 255 on [0, 1] input);
  ``meanshift255``: (x - DIV2K mean) * 255 in and out / 255 + mean out (EDSR's ``sub_mean`` /
  ``add_mean`` at ``rgb_range`` 255, seen from [0, 1] images).
* upsampler ``pixelshuffle``: 3x3 conv nf -> C*s^2 + PixelShuffle(s); ``ecb``: ECB nf -> C*s^2
  (linear) + PixelShuffle (ECBSR); ``awms``: AWSRN's adaptive weighted multi-scale tail; ``edsr``:
  EDSR's tail, log2(s) stages of 3x3 conv nf -> 4 nf + PixelShuffle(2) (one stage of nf -> 9 nf +
  PixelShuffle(3) at x3), no activation, then a 3x3 conv nf -> C (sanghyun-son/EDSR-PyTorch
  ``src/model/common.py`` ``Upsampler`` and ``edsr.py`` ``m_tail``).
* input_skip ``nearest``: LR repeated to C*s^2 channels then pixel-shuffled (ECBSR, BasicSR
  ``ecbsr_arch.py``); ``conv``: 3x3 conv C -> C*s^2 + PixelShuffle (AWSRN); ``bilinear``: the LR
  image upsampled bilinearly (``align_corners=False``), parameter-free (NTIRE 2024 LightRLFN,
  Amazingren/NTIRE2024_ESR ``models/team16_LightRLFN.py``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from nas.errors import ArchConfigError
from nas.textfiles import parse_yaml_or_json, read_text

__all__ = [
    "SCALES",
    "ACTIVATIONS",
    "ATTENTIONS",
    "BLOCK_TYPES",
    "RFDBConfig",
    "IMDBConfig",
    "LFBConfig",
    "ECBBlockConfig",
    "RLFBConfig",
    "SPABConfig",
    "EFDBConfig",
    "ESDBConfig",
    "ResBlockConfig",
    "BlockConfig",
    "BlockConfigBase",
    "BLOCK_MODELS",
    "BLOCK_REGISTRY",
    "register_block",
    "ArchConfig",
    "load_arch_config",
    "format_validation_error",
]

SCALES = (2, 3, 4, 8)
ACTIVATIONS = ("lrelu", "relu", "prelu", "silu", "gelu")
ATTENTIONS = ("esa", "cca", "none")

Activation = Literal["lrelu", "relu", "prelu", "silu", "gelu", "tanh"]
Attention = Literal["esa", "cca", "none"]
#: The RFDB also takes ``pfa`` (SPAN's parameter-free attention, which needs the block input).
RFDBAttention = Literal["esa", "cca", "none", "pfa", "esa_no_conv_f"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Fields added after ids were first stored: left out of :meth:`compact_dump` (and so of
    #: ``ArchConfig.to_dict`` and ``arch_id``) while they hold their default, so that every network
    #: stored before the field existed keeps its id and its exported YAML.
    omit_at_default: ClassVar[tuple[str, ...]] = ()

    def compact_dump(self) -> dict[str, Any]:
        """The fields as JSON values, without the :attr:`omit_at_default` ones at their default."""
        d = self.model_dump(mode="json")
        for key in self.omit_at_default:
            default = type(self).model_fields[key].default
            if d.get(key) == (list(default) if isinstance(default, tuple) else default):
                d.pop(key, None)
        return d


def _odd_kernel(value: int) -> int:
    """A conv kernel size k with "same" padding k // 2: odd, or a ``ValueError``."""
    if value % 2 == 0:
        raise ValueError(f"the kernel must be odd (same padding), got {value}")
    return value


# ---------------------------------------------------------------------- the block registry
class BlockConfigBase(_Strict):
    """A block type: its fields (the config), its one-line :meth:`label` and its torch builder.

    To add a block type (issue 19: one place), subclass this with ``type: Literal["name"] =
    "name"``, the block's fields with their paper defaults, :meth:`label`, and ``builder``, the
    ``"module:function"`` that builds it, and decorate it with :func:`register_block`; write the
    builder next to the module (``nas/primitives/<name>.py``: ``build_block(cfg, nf, path,
    weight_norm) -> nn.Module``, raising ``ArchConfigError`` naming ``path.<field>`` for a width it
    cannot build). The union ``BlockConfig``, ``BLOCK_TYPES``, the search-space parser, summaries
    and ``build_model`` read the registry; ``tests/primitives/test_block_registry.py`` builds,
    round-trips and (where it re-parameterises) checks every registered type.
    """

    type: str
    #: ``"module:function"`` of the builder (resolved by ``nas.models`` when a network is built,
    #: so this module stays free of torch).
    builder: ClassVar[str] = ""

    def label(self) -> str:
        """Short description in summaries, e.g. ``rfdb(esa,d0.5,s3)``."""
        raise NotImplementedError(f"{type(self).__name__} does not define label()")


#: Block type -> its config model, in registration order (the one table everything reads).
BLOCK_REGISTRY: dict[str, type[BlockConfigBase]] = {}


def register_block(cls: type[BlockConfigBase]) -> type[BlockConfigBase]:
    """Class decorator: add a block config model to :data:`BLOCK_REGISTRY` under its ``type``.

    Raises:
        TypeError: no ``type`` Literal default, no ``builder``, or the type is registered twice.
    """
    name = cls.model_fields["type"].default
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__}: a block config needs type: Literal['name'] = 'name'")
    if not cls.builder or ":" not in cls.builder:
        raise TypeError(f"{cls.__name__}: builder must name the torch builder as 'module:function'")
    if name in BLOCK_REGISTRY:
        raise TypeError(f"block type {name!r} is registered twice ({BLOCK_REGISTRY[name].__name__}, {cls.__name__})")
    BLOCK_REGISTRY[name] = cls
    return cls


class _DistillationBlock(BlockConfigBase):
    """Fields shared by the two distillation blocks (IMDB, RFDB): ``stages`` distillation steps,
    ``round(nf * distill_ratio)`` channels kept at each, attention with its CCA reduction, an
    optional block residual, the activation. Each block sets its paper's defaults (and its
    ``type``, declared here first so that a block's YAML starts with it)."""

    type: str
    stages: int = Field(3, ge=1, le=6)
    distill_ratio: float
    attention: Attention
    cca_reduction: int = Field(16, ge=1, le=64)
    residual: bool
    act: Activation = "lrelu"

    def label(self) -> str:
        att = f"{self.attention}{self.cca_reduction if self.attention == 'cca' else ''}"
        return f"{self.type}({att},d{self.distill_ratio:g},s{self.stages}{',res' if self.residual else ''})"


@register_block
class RFDBConfig(_DistillationBlock):
    """Residual feature distillation block (RFDN, Liu et al. ECCV-W 2020, Fig. 3c; njulj/RFDN
    ``block.py``).

    ``stages`` FDC + SRB steps (1x1 distillation to ``round(nf * distill_ratio)`` channels and a
    shallow residual 3x3 refine), a last 3x3 conv to the distilled width, concatenation, 1x1
    fusion to nf, attention. The released E-RFDN uses ESA and no block residual; the paper form
    uses CCA (reduction 4) and a block residual.
    """

    type: Literal["rfdb"] = "rfdb"
    builder: ClassVar[str] = "nas.primitives.rfdb:build_block"
    distill_ratio: float = Field(0.5, gt=0.0, le=1.0)
    #: ``pfa``: SPAN's parameter-free attention in place of ESA, ``(h + x) * (sigmoid(h) - 0.5)``
    #: on the 1x1 fusion output h and the block input x (Wan et al. 2024, Eq. 4-5; the RFDB_PFA of
    #: NTIRE 2026 ESR team 09, Amazingren/NTIRE2026_ESR ``models/team09_RFDN_SPAN.py``). It adds
    #: the block input itself, so it excludes ``residual``.
    attention: RFDBAttention = "esa"
    residual: bool = False
    #: ``srb``: each refine step is a 3x3 conv plus identity (RFDN's shallow residual block);
    #: ``conv``: the 3x3 conv alone (NTIRE 2022 team 08's SFDN, ofsoundof/NTIRE2022_ESR
    #: ``models/team08_sfdn.py``).
    refine: Literal["srb", "conv"] = "srb"
    #: Dilation of each refine conv, one per stage (``None``: all 1). NTIRE 2022 team 13's
    #: RFDN_dilated: 1, 2, 5 (ofsoundof/NTIRE2022_ESR ``models/team13_rfdn_dilated/block.py``).
    dilations: tuple[int, ...] | None = None
    omit_at_default: ClassVar[tuple[str, ...]] = ("refine", "dilations")

    @field_validator("dilations")
    @classmethod
    def _one_dilation_per_stage(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        stages = info.data.get("stages", 3)
        if len(value) != stages:
            raise ValueError(f"{len(value)} dilations for {stages} stages (one per refine conv)")
        if any(d < 1 or d > 8 for d in value):
            raise ValueError(f"each dilation must be 1 to 8, got {list(value)}")
        return tuple(value)

    def label(self) -> str:
        base = super().label()
        extra = ("" if self.refine == "srb" else ",conv") + (
            "" if self.dilations is None else ",dil" + "-".join(map(str, self.dilations)))
        return base[:-1] + extra + ")" if extra else base

    @field_validator("residual")
    @classmethod
    def _pfa_has_its_own_residual(cls, residual: bool, info: ValidationInfo) -> bool:
        if residual and info.data.get("attention") == "pfa":
            raise ValueError("attention 'pfa' already adds the block input; set residual: false")
        return residual


@register_block
class IMDBConfig(_DistillationBlock):
    """Information multi-distillation block (IMDN, Hui et al. ACM MM 2019, Fig. 3; Zheng222/IMDN
    ``model/block.py`` ``IMDModule``).

    ``stages`` progressive 3x3 convs, each splitting off ``round(nf * distill_ratio)`` distilled
    channels, a last 3x3 conv to the distilled width, concatenation, attention (CCA in the
    paper), 1x1 fusion, block residual.
    """

    type: Literal["imdb"] = "imdb"
    builder: ClassVar[str] = "nas.primitives.imdb:build_block"
    distill_ratio: float = Field(0.25, gt=0.0, lt=1.0)
    attention: Attention = "cca"
    residual: bool = True


@register_block
class LFBConfig(BlockConfigBase):
    """Local fusion block of AWSRN (Wang et al. 2019, Fig. 3; ChaofWang/AWSRN ``awsrn.py``):
    ``n_awru`` adaptive weighted residual units (3x3 nf -> nf*expansion, act, 3x3 -> nf, learnable
    residual and identity scales) and an LRFU (concat of all AWRU outputs -> 3x3 conv -> nf,
    weighted with the block input).
    """

    type: Literal["lfb"] = "lfb"
    builder: ClassVar[str] = "nas.primitives.awsrn:build_block"
    n_awru: int = Field(4, ge=1, le=16)
    expansion: int = Field(4, ge=1, le=8)
    act: Activation = "relu"

    def label(self) -> str:
        return f"lfb(k{self.n_awru},e{self.expansion})"


@register_block
class ECBBlockConfig(BlockConfigBase):
    """``depth`` edge-oriented conv blocks (ECBSR, Zhang et al. ACM MM 2021, Fig. 2;
    xindongzhang/ECBSR ``models/ecb.py``), each nf -> nf with five branches (3x3, 1x1->3x3,
    1x1->Sobel-x, 1x1->Sobel-y, 1x1->Laplacian) and an activation; re-parameterisable into a
    single 3x3 conv. ``residual`` adds the block input to its output.
    """

    type: Literal["ecb"] = "ecb"
    builder: ClassVar[str] = "nas.primitives.ecb:build_block"
    depth: int = Field(1, ge=1, le=8)
    depth_multiplier: float = Field(2.0, gt=0.0, le=8.0)
    act: Activation = "prelu"
    residual: bool = False

    def label(self) -> str:
        return f"ecb(d{self.depth}{',res' if self.residual else ''})"


@register_block
class RLFBConfig(BlockConfigBase):
    """Residual local feature block (RLFN, Kong et al. CVPR-W 2022, Fig. 2; bytedance/RLFN
    ``model/block.py`` ``RLFB``).

    Three 3x3 convs nf -> M -> M -> nf, each followed by the activation, the block input added,
    a 1x1 conv nf -> nf and RLFN's slim ESA (no ``conv_max`` / ``conv3_``) of ``esa_channels``
    (``attention``: ``esa``; ``esa_no_conv_f`` drops the ESA's 1x1 ``conv_f``, as NTIRE 2024 team 21's
    SlimRLFN does; ``none``).
    ``mid_channels`` M is nf when ``None`` (RLFN, RLFN-S); the NTIRE 2022 entry uses 48 at nf 46.
    """

    type: Literal["rlfb"] = "rlfb"
    builder: ClassVar[str] = "nas.primitives.rlfb:build_block"
    mid_channels: int | None = Field(None, ge=1, le=512)
    esa_channels: int = Field(16, ge=1, le=128)
    attention: Literal["esa", "esa_no_conv_f", "none"] = "esa"
    act: Activation = "lrelu"
    #: ``conv3x3`` (RLFN) or ``dw_act_pw``: the middle conv as depthwise 3x3, activation, 1x1 (NTIRE
    #: 2024 team 42's DepthRLFN, Amazingren/NTIRE2024_ESR ``models/team42_DepthRLFN.py``).
    mid_conv: Literal["conv3x3", "dw_act_pw"] = "conv3x3"
    omit_at_default: ClassVar[tuple[str, ...]] = ("mid_conv",)

    def label(self) -> str:
        att = {"esa": f"esa{self.esa_channels}", "esa_no_conv_f": f"esa{self.esa_channels}-nof"}.get(
            self.attention, "none")
        dw = ",dw" if self.mid_conv == "dw_act_pw" else ""
        return f"rlfb(m{self.mid_channels or 'nf'},{att}{dw})"


@register_block
class SPABConfig(BlockConfigBase):
    """Swift parameter-free attention block (SPAN, Wan et al. CVPR-W 2024, Fig. 2;
    hongyuanyu/SPAN ``basicsr/archs/span_arch.py`` ``SPAB``).

    Three re-parameterisable Conv3XC nf -> nf (1x1 -> 3x3 -> 1x1 with expansion ``gain``, plus a
    1x1 skip; one 3x3 conv after :func:`~nas.models.reparameterize_model`), the activation after
    the first two, and the parameter-free attention ``(H + x) * (sigmoid(H) - 0.5)``.
    """

    type: Literal["spab"] = "spab"
    builder: ClassVar[str] = "nas.primitives.span:build_block"
    gain: int = Field(2, ge=1, le=4)
    act: Activation = "silu"

    def label(self) -> str:
        return f"spab(g{self.gain})"


@register_block
class EFDBConfig(BlockConfigBase):
    """Edge-enhanced feature distillation block (EFDN, Wang CVPR-W 2022; the NTIRE 2025 ESR
    baseline, Amazingren/NTIRE2025_ESR ``models/team00_EFDN.py`` ``Cell``) as released: 1x1 conv,
    two 3x3 convs (the deploy form of its EDBB), PReLU after each, four 1x1 branches of nf / 2
    fused by a 1x1 conv, ESA, block residual. nf must be even."""

    type: Literal["efdb"] = "efdb"
    builder: ClassVar[str] = "nas.primitives.efdb:build_block"

    def label(self) -> str:
        return "efdb"


@register_block
class ESDBConfig(BlockConfigBase):
    """Efficient separable distillation block (BSRN, Li et al. CVPR-W 2022, §3.2 and Fig. 2;
    xiaom233/BSRN ``basicsr/archs/BSRN_arch.py`` ``ESDB``): RFDN's distillation layout (three
    1x1 distillations to nf / 2 and three shallow residual refines, a last refine to nf / 2, 1x1
    fusion) with BSConv-U (pointwise 1x1, then depthwise 3x3) for every 3x3 conv, GELU, ESA (its
    3x3 convs BSConv-U, GELU) then CCA (reduction 16), block residual. The defaults are BSRN's;
    BSRN-S (the NTIRE 2022 ESR entry, ``rfdnfinalB5_arch.py`` ``RFDB``) has ``pw_bias``, no
    ``cca``, ``out_conv`` and ``esa_bsconv: unstrided``. nf must be even.

    Attributes:
        pw_bias: bias on the BSConv-U pointwise convs (BSRN-S's ``nn.Linear``). A ``bsconv`` head
            and the ``bsrn`` fusion's BSConv-U take it from the first esdb block.
        cca: contrast-aware channel attention after the ESA.
        out_conv: BSRN-S's per-channel weight and 1x1 conv after the ESA.
        esa_bsconv: which ESA 3x3 convs are BSConv-U: ``all`` or ``unstrided`` (the stride-2
            ``conv2`` stays a plain conv, BSRN-S).
    """

    type: Literal["esdb"] = "esdb"
    builder: ClassVar[str] = "nas.primitives.esdb:build_block"
    pw_bias: bool = False
    cca: bool = True
    out_conv: bool = False
    esa_bsconv: Literal["all", "unstrided"] = "all"

    def label(self) -> str:
        parts = ["esa" if self.esa_bsconv == "all" else "esa-s"]
        parts += ["cca"] if self.cca else []
        parts += ["out"] if self.out_conv else []
        parts += ["pwb"] if self.pw_bias else []
        return f"esdb({','.join(parts)})"


@register_block
class ResBlockConfig(BlockConfigBase):
    """Plain residual block of EDSR (Lim et al., CVPR-W 2017, Fig. 2; sanghyun-son/EDSR-PyTorch
    ``src/model/common.py`` ``ResBlock``): ``x + res_scale * conv3x3(act(conv3x3(x)))``, no batch
    norm, no attention. The field's standard control block (EDSR-baseline: 16 of them at nf 64,
    ``res_scale`` 1; EDSR: 0.1). ``attention`` ``esa`` / ``esa_no_conv_f`` puts RFDN's ESA (f =
    nf // 4; without its ``conv_f``) on the residual branch after the second conv, as NTIRE 2022
    team 34's ESAN (ofsoundof/NTIRE2022_ESR ``models/team34_esan.py`` ``ResidualBlock_ESA``).
    """

    type: Literal["resblock"] = "resblock"
    builder: ClassVar[str] = "nas.primitives.resblock:build_block"
    act: Activation = "relu"
    res_scale: float = Field(1.0, gt=0.0, le=1.0)
    attention: Literal["none", "esa", "esa_no_conv_f"] = "none"
    omit_at_default: ClassVar[tuple[str, ...]] = ("attention",)

    def label(self) -> str:
        scale = f",x{self.res_scale:g}" if self.res_scale != 1.0 else ""
        att = "" if self.attention == "none" else f",{self.attention}"
        return f"res({self.act}{scale}{att})"


@register_block
class ConvBlockConfig(BlockConfigBase):
    """One plain k x k conv and an activation, ``act(conv_k(x))`` (+ x with ``residual``): the body
    layer of VDSR (Kim et al., CVPR 2016, §3.1: 3x3 convs of 64 filters, each followed by ReLU) and
    of SRCNN (Dong et al., TPAMI 2016, §3.1-3.3: a 5x5 layer 64 -> 32 in its 9-5-5 form);
    ``nas.primitives.plain.ConvAct``. The plain control a design is measured against.

    Attributes:
        act: activation after the conv.
        residual: add the block's input (needs equal input and output widths).
        kernel: odd kernel size k (1 to 11); 3 by default and then left out of ``arch_id``.
        out_channels: output width, ``None`` for the width it receives (nf). A block that changes
            the width can only be followed by ``conv`` blocks, and the network's ``fusion`` must be
            ``last`` without ``global_residual`` (``ArchConfig`` checks both). Left out of
            ``arch_id`` when ``None``.
    """

    type: Literal["conv"] = "conv"
    builder: ClassVar[str] = "nas.primitives.plain:build_block"
    act: Activation = "relu"
    residual: bool = False
    kernel: int = Field(3, ge=1, le=11)
    out_channels: int | None = Field(None, ge=1, le=512)
    omit_at_default: ClassVar[tuple[str, ...]] = ("kernel", "out_channels")

    @field_validator("kernel")
    @classmethod
    def _odd_block_kernel(cls, value: int) -> int:
        return _odd_kernel(value)

    def label(self) -> str:
        k = f",k{self.kernel}" if self.kernel != 3 else ""
        out = f",->{self.out_channels}" if self.out_channels is not None else ""
        return f"conv({self.act}{k}{out}{',res' if self.residual else ''})"


#: Any registered block config, told apart by ``type`` (built from :data:`BLOCK_REGISTRY`).
BlockConfig = Annotated[Union[tuple(BLOCK_REGISTRY.values())], Field(discriminator="type")]
#: Block type -> its config model (:data:`BLOCK_REGISTRY`; the name the space parser reads).
BLOCK_MODELS: dict[str, type[BlockConfigBase]] = BLOCK_REGISTRY
BLOCK_TYPES = tuple(BLOCK_REGISTRY)


def _block_canonical(block: BlockConfigBase) -> dict[str, Any]:
    """Fields of a block that change the network (CCA reduction only matters with CCA; fields
    added later are absent at their default, :attr:`_Strict.omit_at_default`)."""
    d = block.compact_dump()
    if d.get("attention", "cca") != "cca":
        d.pop("cca_reduction", None)
    return d


class ArchConfig(_Strict):
    """One SR network, fully described (see the module docstring for the template).

    Attributes:
        name: optional label (``"imdn"``, ``"trial-17"``); not part of :attr:`arch_id`.
        scale: upscaling factor s, one of 2, 3, 4, 8.
        colors: image channels C: 3 (RGB) or 1 (Y only, ECBSR's published form).
        nf: feature channels of the body.
        head: ``conv3x3`` (C -> nf), ``ecb`` (an ECB C -> nf, ECBSR), ``conv3xc`` (a Conv3XC
            C -> nf, SPAN) or ``bsconv`` (BSRN: LR repeated 4x along channels, BSConv-U 4C -> nf).
        head_act: activation after a ``conv3x3`` head (VDSR's first layer is conv + ReLU); ``None``
            (every other network) for none. Left out of :meth:`to_dict` and :attr:`arch_id` when
            ``None``.
        head_kernel: kernel size of the ``conv3x3`` head's conv, odd, 1 to 11 (SRCNN's 9x9 first
            layer); ``None`` for 3. Left out of :meth:`to_dict` and :attr:`arch_id` when ``None``.
        tail_kernel: kernel size of the ``pre_bicubic`` tail conv (SRCNN's 5x5 reconstruction
            layer; ``None`` for 3) or of the ``deconv`` tail (``None`` for FSRCNN's 9), odd, 1 to 11.
            Left out when ``None``.
        blocks: the block sequence, 1 to 32 blocks of types rfdb / imdb / lfb / ecb / rlfb / spab / efdb / esdb /
            resblock / conv.
        fusion: ``concat`` (IMDN/RFDN feature aggregation), ``last``, ``conv1x1`` (IMDN_RTC),
            ``conv3x3`` (RLFN), ``span`` (SPAN; the last block must be an spab), ``efdn`` (EFDN's
            local fusion; exactly four blocks) or ``bsrn`` (BSRN: ``concat`` with a BSConv-U in
            place of the 3x3 conv).
        fusion_act: activation after the 1x1 fusion conv (``concat`` and ``bsrn``; GELU in BSRN).
        fusion_channels: output width of the ``span`` fusion's 1x1 conv, which the upsampler then
            takes; ``None`` for nf (SPAN). NTIRE 2025 team 46's SPAN fuses to 20 of 28 channels
            (Amazingren/NTIRE2025_ESR ``models/team46_SPAN.py`` ``conv_cat``). Left out of
            :meth:`to_dict` and :attr:`arch_id` when ``None``, so the ids of every other network stay
            as they were before the field existed.
        global_residual: add the head output before the upsampler (IMDN/RFDN long skip).
        upsampler: ``pixelshuffle`` | ``ecb`` | ``awms`` | ``edsr`` | ``pre_bicubic`` | ``deconv``.
            ``pre_bicubic`` is the
            pre-upsampling design of SRCNN and VDSR: the input is interpolated to the HR size
            (MATLAB bicubic, ``nas.primitives.BicubicUpsample``) before the head, the whole network
            runs at HR resolution (s^2 times the Mult-Adds of the same body at LR), and a 3x3 conv
            nf -> C is the tail.
            ``deconv`` is FSRCNN's tail (Dong, Loy, Tang, ECCV 2016, §3.1): one k x k transposed
            conv of stride s from the body's width to C (k = ``tail_kernel``, 9 when ``None``).
        input_skip: ``none`` | ``nearest`` | ``conv`` | ``bilinear`` | ``bicubic`` (the LR input,
            upsampled so, added to the output; with ``pre_bicubic``, VDSR's residual learning).
        weight_norm: weight-normalise the plain convs of head, LFB blocks, tail and skip (AWSRN).
        input_norm: ``none``, ``meanshift`` (AWSRN: (x - DIV2K RGB mean) * 2, inverted on output),
            ``meansub255`` (SPAN: (x - DIV2K RGB mean) * 255, output left as it is) or
            ``meanshift255`` (EDSR at rgb_range 255: (x - mean) * 255 in, out / 255 + mean out).
        output_act: ``sigmoid`` squashes the output (after upsampler and skip) into (0, 1), as
            ESPCN's final layer does in the ETDS authors' code (ECNUSR/ETDS
            ``core/archs/ir/ESPCN/arch.py``); ``None`` (every other network) for none, and then left
            out of :meth:`to_dict` and :attr:`arch_id`.

    Raises:
        ArchConfigError: through :meth:`from_dict` / :func:`load_arch_config`, naming the field.
    """

    name: str | None = None
    scale: Literal[2, 3, 4, 8]
    colors: Literal[1, 3] = 3
    nf: int = Field(ge=4, le=512)
    head: Literal["conv3x3", "ecb", "conv3xc", "bsconv"] = "conv3x3"
    head_act: Activation | None = None
    head_kernel: int | None = Field(None, ge=1, le=11)
    blocks: list[BlockConfig] = Field(min_length=1, max_length=32)
    fusion: Literal["concat", "last", "conv1x1", "conv3x3", "span", "efdn", "bsrn"] = "concat"
    fusion_act: Activation = "lrelu"
    fusion_channels: int | None = Field(None, ge=1, le=512)
    global_residual: bool = True
    upsampler: Literal["pixelshuffle", "ecb", "awms", "edsr", "pre_bicubic", "deconv"] = "pixelshuffle"
    tail_kernel: int | None = Field(None, ge=1, le=11)
    input_skip: Literal["none", "nearest", "conv", "bilinear", "bicubic"] = "none"
    weight_norm: bool = False
    input_norm: Literal["none", "meanshift", "meansub255", "meanshift255"] = "none"
    output_act: Literal["sigmoid"] | None = None
    omit_at_default: ClassVar[tuple[str, ...]] = ("fusion_channels", "head_act", "head_kernel", "tail_kernel",
                                                  "output_act")

    @field_validator("head_act")
    @classmethod
    def _head_act_only_with_conv_head(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("head") != "conv3x3":
            raise ValueError(f"only a conv3x3 head takes an activation; head is {info.data.get('head')!r}")
        return value

    @field_validator("head_kernel")
    @classmethod
    def _odd_head_kernel_of_a_conv_head(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        if info.data.get("head") != "conv3x3":
            raise ValueError(f"only a conv3x3 head takes another kernel size; head is {info.data.get('head')!r}")
        return _odd_kernel(value)

    @field_validator("tail_kernel")
    @classmethod
    def _odd_tail_kernel_of_a_one_layer_tail(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return None
        if info.data.get("upsampler") not in ("pre_bicubic", "deconv"):
            raise ValueError(f"only a one-layer tail (pre_bicubic's conv at HR, deconv) takes a kernel size; "
                             f"upsampler is {info.data.get('upsampler')!r}")
        return _odd_kernel(value)

    @model_validator(mode="after")
    def _width_changes(self) -> "ArchConfig":
        widths = self.block_widths
        first = next((i for i, w in enumerate(widths[1:]) if w != self.nf), None)  # first block leaving nf
        for i, b in enumerate(self.blocks):
            if first is not None and i > first and not isinstance(b, ConvBlockConfig):
                raise ValueError(f"blocks.{i}: a {b.type} block runs at nf ({self.nf}); after a conv block that "
                                 f"changes the width ({widths[i]}) only conv blocks may follow")
            if getattr(b, "residual", False) and widths[i + 1] != widths[i]:
                raise ValueError(f"blocks.{i}: a residual conv block keeps its width ({widths[i]}), not "
                                 f"{widths[i + 1]}")
        if first is not None and (self.fusion != "last" or self.global_residual):
            raise ValueError(f"a body whose width changes (nf {self.nf} -> {widths[-1]}) needs fusion: last and "
                             f"global_residual: false (got fusion {self.fusion!r}, global_residual "
                             f"{str(self.global_residual).lower()})")
        return self

    @model_validator(mode="after")
    def _sigmoid_output_without_denormalisation(self) -> "ArchConfig":
        if self.output_act is not None and self.input_norm != "none":
            raise ValueError(f"output_act: {self.output_act} squashes the output into (0, 1); input_norm "
                             f"{self.input_norm!r} would de-normalise it afterwards (use input_norm: none)")
        return self

    @property
    def block_widths(self) -> tuple[int, ...]:
        """Channel widths along the body, B + 1 of them: ``[i]`` is block i's input, ``[-1]`` the
        last block's output (all nf unless a ``conv`` block sets ``out_channels``)."""
        widths = [self.nf]
        for b in self.blocks:
            widths.append(getattr(b, "out_channels", None) or widths[-1])
        return tuple(widths)

    @property
    def body_width(self) -> int:
        """Channels of the last block's output (nf unless a ``conv`` block changes the width)."""
        return self.block_widths[-1]

    @field_validator("input_skip")
    @classmethod
    def _skip_of_a_pre_upsampling_network(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("upsampler") == "pre_bicubic" and value not in ("none", "bicubic"):
            raise ValueError(f"a pre_bicubic network runs on the interpolated input: its skip is none or bicubic, "
                             f"not {value!r}")
        return value

    @field_validator("fusion_channels")
    @classmethod
    def _fusion_channels_only_with_span(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("fusion") != "span":
            raise ValueError(f"only the span fusion has a width of its own; fusion is {info.data.get('fusion')!r}")
        if value is not None and info.data.get("global_residual"):
            raise ValueError("fusion_channels needs global_residual: false (the head output has nf channels)")
        return value

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: Any, source: str = "config") -> "ArchConfig":
        """Validate a plain mapping (parsed YAML/JSON).

        Raises:
            ArchConfigError: one line, ``"<source>: <field.path>: <problem>"``.
        """
        if not isinstance(data, dict):
            raise ArchConfigError(f"{source}: expected a mapping of fields, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ArchConfigError(format_validation_error(err, source)) from None

    def replace(self, **changes: Any) -> "ArchConfig":
        """A validated copy with some fields changed (e.g. ``scale=2``)."""
        data = self.model_dump(mode="json")
        data.update(changes)
        return ArchConfig.from_dict(data, source=self.name or "config")

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-compatible Python values (defaults filled in; the fields added later,
        ``omit_at_default`` of the config and of its blocks, only when set)."""
        d = self.compact_dump()
        d["blocks"] = [b.compact_dump() for b in self.blocks]
        return d

    def to_yaml(self) -> str:
        """The config as YAML text, fields in declaration order (the export format)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def to_json(self, indent: int | None = None) -> str:
        """The config as JSON text (``indent`` as in ``json.dumps``)."""
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> Path:
        """Write YAML (``.yaml``/``.yml``) or JSON (``.json``), creating missing folders; returns
        the path.

        Raises:
            ArchConfigError: another suffix (names the file).
            OSError: the file cannot be written.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".yaml", ".yml", ".json"):
            raise ArchConfigError(f"{path}: a config file ends in .yaml, .yml or .json")
        text = self.to_json(indent=2) if suffix == ".json" else self.to_yaml()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def canonical(self) -> dict[str, Any]:
        """The fields that change the network, in a canonical form (no ``name``)."""
        d = self.compact_dump()
        d.pop("name", None)
        d["blocks"] = [_block_canonical(b) for b in self.blocks]
        if self.fusion not in ("concat", "bsrn"):
            d.pop("fusion_act")
        return d

    @property
    def arch_id(self) -> str:
        """Stable 12-hex-digit id: SHA-1 of the canonical JSON (equal networks, equal ids)."""
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(blob.encode()).hexdigest()[:12]

    def summary(self) -> str:
        """One-line description, e.g. ``x4 nf50 | 4x rfdb(esa) | concat | pixelshuffle``."""
        parts: list[str] = []
        run_key, run_len = None, 0
        for b in self.blocks:
            key = b.label()
            if key == run_key:
                run_len += 1
            else:
                if run_key is not None:
                    parts.append(f"{run_len}x {run_key}")
                run_key, run_len = key, 1
        parts.append(f"{run_len}x {run_key}")
        return f"x{self.scale} nf{self.nf} | " + " + ".join(parts) + f" | {self.fusion} | {self.upsampler}"


def format_validation_error(err: ValidationError, source: str) -> str:
    """Turn a pydantic error into one line naming the field: ``source: blocks.2.attention: …``."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not (isinstance(p, str) and p in BLOCK_TYPES))
    msg = first["msg"]
    if first["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    elif first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "union_tag_invalid":
        msg = f"unknown block type {first.get('input', {}).get('type')!r} (known: {', '.join(BLOCK_TYPES)})"
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    return f"{source}: {loc or '<root>'}: {msg}{more}"


def load_arch_config(path: str | Path) -> ArchConfig:
    """Read an ``ArchConfig`` from a YAML or JSON file.

    Raises:
        ArchConfigError: the file is missing, not YAML/JSON, or a field is invalid (names both).
    """
    path = Path(path)
    data = parse_yaml_or_json(read_text(path, "config", ArchConfigError), path, ArchConfigError)
    return ArchConfig.from_dict(data, source=str(path))
