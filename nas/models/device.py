"""Where networks run: ``--device auto | cpu | cuda`` to a ``torch.device`` (proxy, training,
evaluation and the CLI share it)."""

from __future__ import annotations

import torch

from nas.errors import NasError

__all__ = ["resolve_device"]


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU.

    Raises:
        NasError: ``cuda`` requested but not available, or an unknown device string.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise NasError("--device cuda requested but torch sees no CUDA device")
    try:
        return torch.device(device)
    except RuntimeError:
        raise NasError(f"unknown device {device!r} (use auto, cpu or cuda)") from None
