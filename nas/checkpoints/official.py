"""The authors' released state dicts mapped onto our module names, strictly.

Each reference's checkpoint layout is declared, never guessed:

* the key prefix to strip (``module.`` for checkpoints saved from ``nn.DataParallel``) and the
  pixel range of the authors' code are fields of :class:`nas.arch.Reference` in
  ``nas/arch/references.py`` (``key_prefix``, ``pixel_range``);
* the renaming from the official module names to ours is the table :data:`OFFICIAL_KEY_MAPS`
  below (official code file named for each; our submodule names follow the official ones, so the
  mapping is a renaming of the block prefixes only).

Verified on released checkpoints: IMDN x2/x3/x4 (Zheng222/IMDN ``checkpoints/IMDN_x{s}.pth``,
keys ``module.IMDB{i}.*``), IMDN_RTC x2 (``checkpoints/model_RTC.pth``, keys ``model.{0,1,2}.*``)
and E-RFDN x4 (njulj/RFDN ``trained_model/RFDN_AIM.pth``, keys ``B{i}.*``, no prefix, [0, 255]).
RFDN / RFDN-L (paper form, no released weights), AWSRN (EDSR-style ``head/body/tail/skip``, old
``weight_g``/``weight_v`` weight norm) and ECBSR (``backbone.{i}``) are mapped from the official
model code; no released checkpoint was available to check them. RLFN / RLFN-S / the NTIRE 2022
RLFN entry and SPAN / the NTIRE 2024 SPAN entry are mapped from the authors' model code (the
SPAN deploy checkpoint's keys were checked against our deploy form's). BSRN x2/x3/x4 and BSRN-S
(xiaom233/BSRN ``experiments/pretrained_models/net_g_BSRN_x{s}.pth``, ``net_g_BSRN-S.pth``, BasicSR
``{"params": ...}``) load strictly and reproduce the authors' modules (float64: within 1e-12; the BasicSR file's
``params`` entry is the flat state dict to load).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from nas.arch import REFERENCES, ArchConfig
from nas.checkpoints.io import load_state_dict_strict, read_state_dict
from nas.errors import CheckpointError
from nas.models.deploy import PixelRange

__all__ = ["LINEAR_AS_CONV1X1", "OFFICIAL_KEY_MAPS", "RANGE_ABSORBED", "map_official_keys", "load_official_weights"]

Rename = Callable[[str, ArchConfig], str]


def _rules(*pairs: tuple[str, str | Callable[[re.Match], str]]) -> Rename:
    """A renaming function applying the first matching ``(regex, replacement)`` pair."""
    compiled = [(re.compile(p), r) for p, r in pairs]

    def rename(key: str, config: ArchConfig) -> str:
        for pattern, repl in compiled:
            new, n = pattern.subn(repl, key, count=1)
            if n:
                return new
        return key

    return rename


def _numbered(group: str, base: int) -> Callable[[re.Match], str]:
    return lambda m: f"{group}.{int(m.group(1)) - base}."


# IMDN (model/architecture.py IMDN): fea_conv, IMDB1..IMDB6, c, LR_conv, upsampler.
_imdn = _rules((r"^IMDB(\d+)\.", _numbered("blocks", 1)))
# IMDN_RTC (architecture.py IMDN_RTC): model = Sequential(fea_conv, ShortcutBlock(Sequential(
# 5 x IMDModule_speed, conv 1x1)), upsampler conv + PixelShuffle).
_imdn_rtc = _rules(
    (r"^model\.0\.", "fea_conv."),
    (r"^model\.1\.sub\.5\.", "LR_conv."),
    (r"^model\.1\.sub\.(\d+)\.", lambda m: f"blocks.{int(m.group(1))}."),
    (r"^model\.2\.", "upsampler.0."),
)
# E-RFDN (njulj/RFDN RFDN.py): fea_conv, B1..B4, c, LR_conv, upsampler (RFDN paper form: same names).
_rfdn = _rules((r"^B(\d+)\.", _numbered("blocks", 1)))


def _awsrn(key: str, config: ArchConfig) -> str:
    # ChaofWang/AWSRN code/src/model/awsrn.py: head.0, body.{i}, tail (AWMS), skip.0; weight norm
    # of torch < 2.1 stores weight_g / weight_v, our parametrisation original0 / original1.
    key = re.sub(r"^head\.0\.", "fea_conv.", key)
    key = re.sub(r"^body\.(\d+)\.", r"blocks.\1.", key)
    key = re.sub(r"^tail\.", "upsampler.", key)
    key = re.sub(r"\.weight_g$", ".parametrizations.weight.original0", key)
    return re.sub(r"\.weight_v$", ".parametrizations.weight.original1", key)


def _ecbsr(key: str, config: ArchConfig) -> str:
    # xindongzhang/ECBSR models/ecbsr.py: backbone = [ECB head, M x ECB, linear ECB tail].
    m = re.match(r"^backbone\.(\d+)\.(.*)$", key)
    if not m:
        return key
    i, rest = int(m.group(1)), m.group(2)
    if i == 0:
        return f"fea_conv.{rest}"
    if i <= len(config.blocks):
        return f"blocks.{i - 1}.body.0.{rest}"
    return f"upsampler.0.{rest}"


# RLFN (bytedance/RLFN model/rlfn.py; NTIRE2022_ESR models/team04_rlfn.py RLFN_cut): conv_1,
# block_1..block_n (B1.. in some copies), conv_2, upsampler. SPAN (hongyuanyu/SPAN span_arch.py):
# conv_1 (Conv3XC), block_1..block_6, conv_cat, conv_2 (Conv3XC), upsampler. Block internals keep
# the official names, so only the prefixes change.
_rlfn_span = _rules(
    (r"^conv_1\.", "fea_conv."),
    (r"^(?:block_|B)(\d+)\.", _numbered("blocks", 1)),
    (r"^conv_cat\.", "c."),
    (r"^conv_2\.", "LR_conv."),
)

# EFDN (Amazingren/NTIRE2025_ESR models/team00_EFDN.py): head, cells.0..3, local_fuse.0..2, tail.0;
# the cells keep the official names (conv1.conv1x1 / act, conv2.rep_conv / act, fuse, att, branch).
_efdn = _rules(
    (r"^head\.", "fea_conv."),
    (r"^cells\.", "blocks."),
    (r"^tail\.0\.", "upsampler.0."),
)


# BSRN (xiaom233/BSRN basicsr/archs/BSRN_arch.py BSRN; BSRN-S rfdnfinalB5_arch.py RFDNFINALB5):
# fea_conv, B1..B8 (B1..B5), c1 (1x1 + GELU), c2 (BSConv-U), upsampler.upsampleOneStep.0; the blocks
# keep the official names (c1_d, c1_r.pw / dw, ..., esa.*, cca.conv_du.* / cw, conv_out).
_bsrn = _rules(
    (r"^B(\d+)\.", _numbered("blocks", 1)),
    (r"^c1\.", "c.0."),
    (r"^c2\.", "LR_conv."),
    (r"^upsampler\.upsampleOneStep\.0\.", "upsampler.0."),
)

#: References whose authors write 1x1 convs as ``nn.Linear`` on NHWC tensors: a 2-D ``*.weight``
#: (out, in) is loaded as our 1x1 conv's (out, in, 1, 1) (BSRN-S's ``cw``, (1, C) in both, is not a
#: ``weight``).
LINEAR_AS_CONV1X1: frozenset[str] = frozenset({"bsrn_s"})


#: Reference name -> renaming ``(official key without prefix, config) -> our key``.
OFFICIAL_KEY_MAPS: dict[str, Rename] = {
    "imdn": _imdn,
    "imdn_rtc": _imdn_rtc,
    "rfdn": _rfdn,
    "rfdn_l": _rfdn,
    "erfdn": _rfdn,
    "awsrn_s": _awsrn,
    "awsrn_sd": _awsrn,
    "awsrn_m": _awsrn,
    "awsrn": _awsrn,
    "ecbsr_m4c8": _ecbsr,
    "ecbsr_m4c16": _ecbsr,
    "ecbsr_m10c32": _ecbsr,
    "ecbsr_m16c64": _ecbsr,
    "ecbsr_m4c16_rgb": _ecbsr,
    "ecbsr_m4c32_rgb": _ecbsr,
    "ecbsr_m6c40_rgb": _ecbsr,
    "rlfn_ntire": _rlfn_span,
    "rlfn": _rlfn_span,
    "rlfn_s": _rlfn_span,
    "span_ntire": _rlfn_span,
    "span": _rlfn_span,
    "efdn": _efdn,
    "bsrn": _bsrn,
    "bsrn_s": _bsrn,
}

#: References whose [0, 255] range is absorbed by our module: AWSRN's ``(x - 255 mean) / 127.5``
#: on [0, 255] input equals our meanshift ``(x - mean) * 2`` on [0, 1] input, and its output
#: de-normalisation ``* 127.5 + 255 mean`` is ours times 255, so the weights load unchanged and no
#: range wrapper is applied.
RANGE_ABSORBED: frozenset[str] = frozenset({"awsrn_s", "awsrn_sd", "awsrn_m", "awsrn"})


def map_official_keys(state: Mapping[str, torch.Tensor], reference: str, config: ArchConfig,
                      key_prefix: str | None = None, source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Rename an official state dict to our names (no loading, no shape check); for the references
    of :data:`LINEAR_AS_CONV1X1` a 2-D ``nn.Linear`` weight becomes the (out, in, 1, 1) 1x1 conv weight.

    Args:
        state: the authors' state dict.
        reference: a key of :data:`nas.arch.REFERENCES`.
        config: the reference's ``ArchConfig`` at the checkpoint's scale (ECBSR needs M).
        key_prefix: override of the reference's declared ``key_prefix`` (``""`` for none).
        source: the file, for messages.

    Returns:
        A new dict with our keys.

    Raises:
        CheckpointError: unknown reference, a key without the declared prefix, or two official
            keys mapping to one of ours (each names the key).
    """
    ref = _reference(reference)
    prefix = ref.key_prefix if key_prefix is None else key_prefix
    rename = OFFICIAL_KEY_MAPS[ref.name]
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if prefix:
            if not key.startswith(prefix):
                raise CheckpointError(
                    f"{source}: key {key!r} lacks the prefix {prefix!r} that reference {ref.name!r} declares "
                    f"for its official checkpoints (nas/arch/references.py key_prefix)"
                )
            key_in = key[len(prefix):]
        else:
            key_in = key
        new = rename(key_in, config)
        if ref.name in LINEAR_AS_CONV1X1 and value.dim() == 2 and new.endswith(".weight"):
            value = value[:, :, None, None]
        if new in out:
            raise CheckpointError(f"{source}: keys map to the same parameter {new!r} (second: {key!r})")
        out[new] = value
    return out


def _reference(name: str):
    key = name.lower().replace("-", "_")
    if key not in REFERENCES:
        raise CheckpointError(f"unknown reference {name!r} (known: {', '.join(REFERENCES)})")
    if key not in OFFICIAL_KEY_MAPS:
        raise CheckpointError(f"reference {key!r} has no official key mapping")
    return REFERENCES[key]


def load_official_weights(model: nn.Module, path: str | Path, reference_name: str, *,
                          key_prefix: str | None = None, adapt_range: bool = True) -> nn.Module:
    """Load an authors' checkpoint into ``model`` strictly; return a model for [0, 1] images.

    The official keys lose the reference's declared ``key_prefix``, are renamed with
    :data:`OFFICIAL_KEY_MAPS` and loaded with :func:`nas.checkpoints.load_state_dict_strict`
    (every key must match, every shape must agree). When the reference's ``pixel_range`` is not 1
    (the RFDN and ECBSR code work in [0, 255]) the model is wrapped in
    :class:`nas.checkpoints.PixelRange`, which scales the (N, C, H, W) [0, 1] input up and the
    output back down, so that the result plugs into our [0, 1] pipeline; AWSRN's range is absorbed
    by its mean shift (:data:`RANGE_ABSORBED`).

    Args:
        model: ``build_model(reference_config(reference_name, scale))`` (an ``SRNet``).
        path: the authors' ``.pth`` file (a flat state dict).
        reference_name: a key of :data:`nas.arch.REFERENCES` (``imdn``, ``erfdn``, ...).
        key_prefix: override the declared prefix (e.g. ``""`` for a re-saved IMDN checkpoint).
        adapt_range: wrap [0, 255] models in :class:`~nas.checkpoints.PixelRange` (default).

    Returns:
        ``model`` itself (weights loaded, eval mode), or a ``PixelRange`` wrapping it.

    Raises:
        CheckpointError: the file is missing, not a torch file or not a flat state dict (names
            the file); a key lacks the declared prefix, is missing or unexpected (names the
            keys); a tensor's shape differs, e.g. a checkpoint of another architecture or scale
            (names the key and both shapes).

    Example:
        >>> model = build_model(reference_config("imdn", 4))
        >>> model = load_official_weights(model, "IMDN_x4.pth", "imdn")  # doctest: +SKIP
    """
    ref = _reference(reference_name)
    config = getattr(model, "config", None)
    if not isinstance(config, ArchConfig):
        raise CheckpointError(f"{path}: model has no ArchConfig (build it with nas.models.build_model)")
    state = read_state_dict(path)
    mapped = map_official_keys(state, ref.name, config, key_prefix=key_prefix, source=str(path))
    load_state_dict_strict(model, mapped, source=f"{path} (official {ref.name} checkpoint, keys renamed)")
    model.eval()
    if adapt_range and ref.pixel_range != 1.0 and ref.name not in RANGE_ABSORBED:
        return PixelRange(model, ref.pixel_range).eval()
    return model
