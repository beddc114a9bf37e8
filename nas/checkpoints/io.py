"""Reading and writing weights: strict state-dict loading, our checkpoints, safetensors.

Formats:

* **official** ``.pth``: a flat ``{name: tensor}`` state dict as the authors' code saved it
  (see :mod:`nas.checkpoints.official`).
* **nas checkpoint** (``nas train`` output, ``.pt``): a ``torch.save`` dict with
  ``format = "nas-checkpoint/1"``, ``config`` (``ArchConfig.to_dict()``), ``model`` (state dict),
  ``pixel_range`` and, for training, ``optimizer``, ``scheduler``, ``iteration`` and more.
* **safetensors** (``nas export --weights``): the model's tensors, with the ``ArchConfig`` JSON and
  the pixel range in the header metadata (``format = "nas-weights/1"``).

Everything is read with ``torch.load(weights_only=True)`` (no arbitrary pickles executed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nas.arch import ArchConfig
from nas.errors import CheckpointError
from nas.models.deploy import PixelRange, unwrap

__all__ = [
    "CHECKPOINT_FORMAT", "WEIGHTS_FORMAT", "PixelRange", "read_state_dict", "read_checkpoint",
    "load_state_dict_strict", "save_checkpoint", "save_safetensors", "read_safetensors", "unwrap",
]

CHECKPOINT_FORMAT = "nas-checkpoint/1"
WEIGHTS_FORMAT = "nas-weights/1"
_LIST_MAX = 6


def _fmt_keys(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:_LIST_MAX])
    return shown + (f" and {len(keys) - _LIST_MAX} more" if len(keys) > _LIST_MAX else "")


def _torch_load(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own warnings about legacy / odd files: the error says it
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and weights-only errors all mean "not a usable torch file"
        text = str(err).strip()
        if "Weights only load failed" in text or "weights_only" in text:
            why = "it holds Python objects, not only tensors; nas never unpickles arbitrary objects"
        else:
            why = (text.splitlines() or [type(err).__name__])[0]
            why = why if len(why) <= 200 else why[:197] + "..."
        raise CheckpointError(f"{path}: not a PyTorch checkpoint torch.load can read safely ({why})") from None


def _check_flat(obj: Any, path: Path | str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path}: not a state dict (the file holds a {type(obj).__name__})")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        nested = [k for k in ("state_dict", "model", "params", "params_ema", "net") if k in obj]
        hint = f"; it looks like a training checkpoint holding {nested[0]!r}" if nested else ""
        raise CheckpointError(
            f"{path}: not a flat state dict of tensors (entries {_fmt_keys([str(k) for k in bad])} are not "
            f"tensors{hint})"
        )
    return dict(obj)


def read_state_dict(path: str | Path, entry: str | None = None) -> dict[str, torch.Tensor]:
    """Read a flat ``{name: tensor}`` state dict (an official ``.pth``).

    Args:
        path: the ``.pth`` file.
        entry: take this entry of a training checkpoint instead of the whole file (BasicSR's
            ``params`` / ``params_ema``: the one the authors' test code loads).

    Raises:
        CheckpointError: missing file, not a torch file, ``entry`` absent, or not a flat mapping of
            tensors (names the file; a nested training checkpoint is named as such, not unwrapped
            silently).
    """
    path = Path(path)
    obj = _torch_load(path)
    if entry is None:
        return _check_flat(obj, path)
    if not isinstance(obj, Mapping) or entry not in obj:
        have = _fmt_keys([str(k) for k in obj]) if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(f"{path}: no entry {entry!r} (it holds {have})")
    return _check_flat(obj[entry], f"{path} [{entry}]")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a ``nas`` checkpoint (``nas train`` output).

    Returns:
        The checkpoint dict (``format``, ``config``, ``model``, ``pixel_range``, training state).

    Raises:
        CheckpointError: not a torch file or not a nas checkpoint (names the file).
    """
    path = Path(path)
    obj = _torch_load(path)
    if not (isinstance(obj, Mapping) and obj.get("format") == CHECKPOINT_FORMAT):
        raise CheckpointError(f"{path}: not a nas checkpoint (no format={CHECKPOINT_FORMAT!r} entry)")
    _check_flat(obj.get("model"), f"{path} [model]")
    return dict(obj)


def load_state_dict_strict(model: nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Copy ``state`` into ``model``: every key must exist on both sides, every shape must agree.

    Args:
        model: the target module.
        state: ``{our key: tensor}``.
        source: the file (and how its keys were mapped), for messages.

    Raises:
        CheckpointError: ``"<source>: missing keys 'a', 'b'"``, ``"unexpected keys ..."`` or
            ``"key 'upsampler.0.weight': checkpoint has shape (48, 64, 3, 3), the model expects
            (12, 64, 3, 3)"`` (a checkpoint of another architecture or scale).
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    problems = []
    if missing:
        problems.append(f"missing keys {_fmt_keys(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_fmt_keys(unexpected)}")
    if problems:
        raise CheckpointError(f"{source}: " + "; ".join(problems) + " (a checkpoint of another architecture?)")
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointError(
                f"{source}: key {k!r}: checkpoint has shape {tuple(v.shape)}, the model expects "
                f"{tuple(own[k].shape)} (a checkpoint of another architecture or scale?)"
            )
    model.load_state_dict(dict(state), strict=True)


def _atomic_torch_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_checkpoint(path: str | Path, model: nn.Module, config: ArchConfig, **extra: Any) -> Path:
    """Write a ``nas`` checkpoint atomically (temp file + rename).

    Args:
        path: ``.pt`` file.
        model: an ``SRNet`` or a :class:`PixelRange` around one (its pixel range is recorded).
        config: the model's ``ArchConfig``.
        **extra: training state (``iteration``, ``optimizer``, ``scheduler``, ...); plain Python
            values and tensors only (read back with ``weights_only=True``).

    Returns:
        The path.
    """
    inner, pixel_range = unwrap(model)
    state = {k: v.detach().cpu() for k, v in inner.state_dict().items()}
    obj = {"format": CHECKPOINT_FORMAT, "config": config.to_dict(), "model": state,
           "pixel_range": pixel_range, **extra}
    path = Path(path)
    _atomic_torch_save(obj, path)
    return path


def save_safetensors(path: str | Path, model: nn.Module, config: ArchConfig, form: str = "train",
                     extra_meta: dict[str, str] | None = None) -> Path:
    """Write the model's tensors as safetensors with the config and pixel range in the metadata.

    Args:
        path: ``.safetensors`` file.
        model: an ``SRNet`` (or a ``PixelRange`` around one).
        config: its ``ArchConfig`` (train form).
        form: ``train`` (``build_model(config)``'s tensors) or ``deploy`` (after
            :func:`nas.export.deploy_model`: ECBs merged, weight norm folded); recorded so that
            :func:`load_model` rebuilds the same form.
        extra_meta: more string metadata.
    """
    from safetensors.torch import save_file

    inner, pixel_range = unwrap(model)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in inner.state_dict().items()}
    meta = {"format": WEIGHTS_FORMAT, "config": config.to_json(), "pixel_range": repr(float(pixel_range)),
            "form": form, **(extra_meta or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=meta)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)  # safetensors creates the file 0600; give it the mode of the .yaml beside it
    return path


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of a safetensors file.

    Raises:
        CheckpointError: missing or not a safetensors file (names it).
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise CheckpointError(f"{path}: not a safetensors file ({first})") from None
    return tensors, meta
