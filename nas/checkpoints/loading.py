"""Loading a network from any supported weights file (``nas eval``, ``nas upscale``, ``nas export``).

:func:`load_model` resolves the file kind (official ``.pth`` with a reference name, ``nas train``
checkpoint, safetensors export, plain state dict), builds the network, loads the weights strictly
and returns a model for [0, 1] images. It sits above :mod:`nas.checkpoints.io` (the formats) and
:mod:`nas.checkpoints.official` (the authors' key maps), so neither imports the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nas.arch import ArchConfig, reference_config
from nas.checkpoints.io import (
    CHECKPOINT_FORMAT,
    _check_flat,
    _torch_load,
    load_state_dict_strict,
    read_safetensors,
)
from nas.checkpoints.official import load_official_weights
from nas.errors import CheckpointError
from nas.models import build_model
from nas.models.deploy import PixelRange, deploy_model, unwrap

__all__ = ["LoadedModel", "load_model", "describe"]


@dataclass
class LoadedModel:
    """A model ready for [0, 1] images, with where it came from.

    Attributes:
        model: eval-mode module (N, C, H, W) in [0, 1] -> (N, C, sH, sW); an ``SRNet`` or a
            :class:`PixelRange` around one.
        config: its ``ArchConfig``.
        kind: ``official`` | ``nas-checkpoint`` | ``safetensors`` | ``state-dict``.
        pixel_range: range of the weights (1.0 or 255.0).
        source: the weights file.
        info: extra fields of a nas checkpoint (``iteration``, ``best_psnr_db``...), else empty.
    """

    model: nn.Module
    config: ArchConfig
    kind: str
    pixel_range: float
    source: str
    info: dict


def _config_from(meta_config: Any, path: Path, given: ArchConfig | None) -> ArchConfig:
    if given is not None:
        return given
    if meta_config is None:
        raise CheckpointError(f"{path}: holds no ArchConfig; pass a CONFIG file or --reference NAME")
    data = json.loads(meta_config) if isinstance(meta_config, str) else meta_config
    return ArchConfig.from_dict(data, source=f"{path} [config]")


def load_model(weights: str | Path, config: ArchConfig | None = None, reference: str | None = None,
               scale: int | None = None, device: str | torch.device = "cpu") -> LoadedModel:
    """Build a network and load weights of any supported kind into it, strictly.

    Resolution: a ``.safetensors`` file or a ``nas`` checkpoint carries its own config (``config``
    or ``reference`` then only has to agree in shapes); a flat state dict with ``reference`` is an
    official checkpoint (:func:`~nas.checkpoints.load_official_weights`: key prefix, renaming,
    pixel range as declared); a flat state dict with ``config`` must use our key names.

    Args:
        weights: the weights file.
        config: architecture (overrides the one stored in the file).
        reference: a reference name (with ``scale``) instead of ``config``.
        scale: scale of ``reference`` (default: 4).
        device: where to put the model.

    Returns:
        :class:`LoadedModel` (eval mode).

    Raises:
        CheckpointError: see :func:`load_state_dict_strict` and :func:`read_state_dict`.
        ArchConfigError: unknown reference, or a stored config that does not validate.
    """
    path = Path(weights)
    if reference is not None and config is None:
        config = reference_config(reference, scale or 4)
    if path.suffix == ".safetensors":
        tensors, meta = read_safetensors(path)
        cfg = _config_from(meta.get("config"), path, config)
        pixel_range = float(meta.get("pixel_range", "1.0"))
        model = build_model(cfg)
        if meta.get("form") == "deploy":
            model = deploy_model(model)
        load_state_dict_strict(model, tensors, source=str(path))
        kind, info = "safetensors", {"form": meta.get("form", "train")}
    else:
        obj = _torch_load(path)
        if isinstance(obj, Mapping) and obj.get("format") == CHECKPOINT_FORMAT:
            cfg = _config_from(obj.get("config"), path, config)
            model = build_model(cfg)
            load_state_dict_strict(model, _check_flat(obj.get("model"), f"{path} [model]"), source=str(path))
            pixel_range = float(obj.get("pixel_range", 1.0))
            kind = "nas-checkpoint"
            info = {k: v for k, v in obj.items() if k in ("iteration", "best_psnr_db", "val_psnr_db", "scale")}
        elif reference is not None:
            cfg = config
            model = build_model(cfg)
            wrapped = load_official_weights(model, path, reference)
            _, pixel_range = unwrap(wrapped)
            return LoadedModel(wrapped.to(device).eval(), cfg, "official", pixel_range, str(path), {})
        else:
            if config is None:
                raise CheckpointError(
                    f"{path}: a plain state dict holds no ArchConfig; pass a CONFIG file, or --reference NAME "
                    "for an authors' checkpoint"
                )
            cfg = config
            model = build_model(cfg)
            load_state_dict_strict(model, _check_flat(obj, path), source=str(path))
            pixel_range, kind, info = 1.0, "state-dict", {}
    model.eval()
    out: nn.Module = PixelRange(model, pixel_range) if pixel_range != 1.0 else model
    return LoadedModel(out.to(device).eval(), cfg, kind, pixel_range, str(path), info)


def describe(loaded: LoadedModel) -> str:
    """One line: ``IMDN_x4.pth: official imdn weights, x4 nf64 | ..., [0, 1]``."""
    rng = "[0, 1]" if loaded.pixel_range == 1.0 else f"[0, {loaded.pixel_range:g}] (wrapped for [0, 1] input)"
    return f"{Path(loaded.source).name}: {loaded.kind} weights, {loaded.config.summary()}, range {rng}"

