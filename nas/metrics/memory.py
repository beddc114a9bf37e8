"""Peak activation memory of one inference forward pass, counted without running it.

The network runs on PyTorch's ``meta`` device (shapes only) under a ``TorchDispatchMode`` that
adds every tensor an operator creates to a live total and removes it when Python frees it
(``weakref.finalize``); the peak of that total is the memory a runtime without memory planning
needs for activations at batch 1. Weights are not counted (they are the parameter count's
business); the input is. Views and in-place results share their base's storage and are counted
once. It is what ``torch.cuda.max_memory_allocated`` reports for the same forward pass minus the
weights and the caching allocator's rounding (a deployer's GPU number is that plus the weights),
but it is the same on every machine and takes milliseconds.
"""

from __future__ import annotations

import copy
import weakref

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from nas.metrics.cost import HR_720P, lr_size_for_hr

__all__ = ["peak_activation_bytes"]


class _LiveTensors(TorchDispatchMode):
    """Tracks the bytes of the tensors alive (created by an operator, not yet freed) and their peak."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._seen: dict[int, int] = {}  # storage key -> bytes

    def add(self, t: torch.Tensor) -> None:
        if t._base is not None:  # a view: its base is counted
            return
        key = id(t)
        if key in self._seen:  # an in-place op returns its input
            return
        nbytes = t.numel() * t.element_size()
        self._seen[key] = nbytes
        self.live += nbytes
        self.peak = max(self.peak, self.live)
        weakref.finalize(t, self._free, key)

    def _free(self, key: int) -> None:
        self.live -= self._seen.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self.add(t)
        return out


def peak_activation_bytes(model: nn.Module, scale: int, hr_hw: tuple[int, int] = HR_720P,
                          in_channels: int = 3) -> int:
    """Peak bytes of live activations during one forward pass producing an ``hr_hw`` output.

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW); not modified (a ``meta`` copy runs).
        scale: upscaling factor s >= 1; the input is ``(1, in_channels, *lr_size_for_hr(s, hr_hw))``
            float32.
        hr_hw: HR output (H, W) in pixels; default 720x1280 (the papers' Mult-Adds size).
        in_channels: C.

    Returns:
        Peak bytes (float32 activations plus the input), an int.

    Raises:
        ValueError: ``scale`` or ``hr_hw`` is not positive.
        RuntimeError: an operator has no ``meta`` kernel or the model fails on the input.
    """
    h, w = lr_size_for_hr(scale, hr_hw)
    meta = copy.deepcopy(model).to("meta").eval()
    tracker = _LiveTensors()
    x = torch.zeros(1, in_channels, h, w, device="meta")
    tracker.add(x)
    try:
        with torch.inference_mode(), tracker:
            y = meta(x)
        del y
    except NotImplementedError as err:  # an op without a meta kernel
        raise RuntimeError(f"peak memory: {err}") from err
    return int(tracker.peak)
