"""Weights in and out: the authors' checkpoints (strict key mapping), ours, safetensors.

* :func:`load_official_weights` maps an authors' state dict onto our modules (prefix and pixel
  range declared per reference in ``nas/arch/references.py``, renaming in
  :data:`OFFICIAL_KEY_MAPS`); a missing / unexpected key or a shape mismatch is a
  :class:`~nas.errors.CheckpointError` naming it.
* :func:`load_model` builds a network and loads any supported file (official ``.pth``, ``nas
  train`` checkpoint, safetensors export, plain state dict), returning a model for [0, 1] images.
* :func:`save_checkpoint` / :func:`save_safetensors` write ours.
"""

from nas.checkpoints.io import (
    CHECKPOINT_FORMAT,
    WEIGHTS_FORMAT,
    PixelRange,
    load_state_dict_strict,
    read_checkpoint,
    read_safetensors,
    read_state_dict,
    save_checkpoint,
    save_safetensors,
    unwrap,
)
from nas.checkpoints.loading import LoadedModel, describe, load_model
from nas.checkpoints.official import OFFICIAL_KEY_MAPS, RANGE_ABSORBED, load_official_weights, map_official_keys

__all__ = [
    "CHECKPOINT_FORMAT", "WEIGHTS_FORMAT", "LoadedModel", "PixelRange", "describe", "load_model",
    "load_state_dict_strict", "read_checkpoint", "read_safetensors", "read_state_dict",
    "save_checkpoint", "save_safetensors", "unwrap", "OFFICIAL_KEY_MAPS", "RANGE_ABSORBED",
    "load_official_weights", "map_official_keys",
]
