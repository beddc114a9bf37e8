"""How the objectives beyond the standard four are measured (the ``measure`` of a registered
:class:`nas.scoring.objectives.Objective`).

Each is ``fn(deployed, config, latency, device) -> float``: ``deployed`` is the candidate's deploy
form (re-parameterisable blocks merged, eval mode), ``config`` its ``ArchConfig``, ``latency``
the study's :class:`nas.scoring.evaluate.LatencySetting` and ``device`` its torch device. The
value is in the objective's ``unit``. A new objective is its ``register_objective`` entry plus a
function here (or anywhere ``"module:function"`` names).
"""

from __future__ import annotations

import importlib
from typing import Callable

import torch

from nas.arch import ArchConfig
from nas.errors import NasError

__all__ = ["ntire_flops", "peak_memory", "onnx_latency", "measure_function"]


def ntire_flops(deployed: torch.nn.Module, config: ArchConfig, latency, device) -> float:
    """NTIRE ESR "FLOPs": MACs on a 1 x C x 256 x 256 LR input (:func:`nas.metrics.cost.ntire_flops`)."""
    from nas.metrics.cost import ntire_flops as count

    return float(count(deployed, config.scale, in_channels=config.colors))


def peak_memory(deployed: torch.nn.Module, config: ArchConfig, latency, device) -> float:
    """Peak activation memory (MiB) of one forward pass producing a 1280x720 HR image
    (:func:`nas.metrics.memory.peak_activation_bytes`)."""
    from nas.metrics.memory import peak_activation_bytes

    return peak_activation_bytes(deployed, config.scale, in_channels=config.colors) / 2**20


def onnx_latency(deployed: torch.nn.Module, config: ArchConfig, latency, device) -> float:
    """Median ONNX Runtime latency (ms) of the deploy form, CPU execution provider, on the
    study's latency input size, warm-up, repeats and threads
    (:func:`nas.metrics.onnx_latency.measure_onnx_latency`; the caller holds the quiet gate).

    Raises:
        NasError: onnxruntime is not installed, or the network cannot be exported.
    """
    from nas.metrics.onnx_latency import measure_onnx_latency, onnx_available

    if not onnx_available():
        raise NasError("objective onnx_latency_ms needs onnxruntime (pip install onnxruntime)")
    res = measure_onnx_latency(deployed, lr_hw=tuple(latency.lr_hw), in_channels=config.colors,
                               warmup=latency.warmup, repeats=latency.repeats, threads=latency.threads)
    return res.median_ms


def measure_function(spec: str) -> Callable[..., float]:
    """The function ``"module:function"`` names.

    Raises:
        NasError: the module or the function does not exist.
    """
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise NasError(f"objective measure {spec!r} cannot be loaded: {err}") from None
