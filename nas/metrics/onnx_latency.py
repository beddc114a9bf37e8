"""Latency on ONNX Runtime: the deploy form exported to ONNX, timed on the CPU execution provider.

Deployers measure the runtime they ship, not PyTorch eager (issue 20). :func:`measure_onnx_latency`
exports the model the caller passes (give it the deploy form: ``nas.models.deploy.deploy_model`` or
``nas.scoring.evaluate.deploy_form``, so ECBs and Conv3XC are merged) to ONNX in memory, opens an
``onnxruntime.InferenceSession`` on it and times ``session.run``; the contract mirrors
:func:`nas.metrics.cost.measure_latency` (deep copy, eval mode, warm-up, median and IQR of the timed
passes, the same :class:`~nas.metrics.cost.LatencyResult`).

The exporter is the legacy TorchScript one (``torch.onnx.export(..., dynamo=False)``, opset 17):
in torch 2.13 it exports every zoo network at x4 (ORT output within 2e-5 of torch's) in 0.03-1 s,
where the ``torch.export``-based (dynamo) exporter also worked on the five tried (imdn, rfdn,
awsrn_s, ecbsr_m4c8, span) but took 1-5 s a network and logs progress lines. The legacy exporter
warns that it is deprecated (torch >= 2.9; silenced here); the dynamo exporter is the fallback
when it raises, so its removal would cost time, not correctness. onnxruntime (and, for the fallback,
onnx + onnxscript) are optional: they are imported inside the functions, so this module imports
without them; :func:`onnx_available` says whether the measurement can run.

Sources: onnxruntime Python API (``SessionOptions.intra_op_num_threads``, ``inter_op_num_threads``,
``graph_optimization_level``; onnxruntime.ai/docs/api/python/api_summary.html) and "Thread
management" (onnxruntime.ai/docs/performance/tune-performance/threading.html); torch.onnx.export
(docs.pytorch.org/docs/stable/onnx.html).
"""

from __future__ import annotations

import copy
import importlib.util
import io
import logging
import re
import statistics
import time
import warnings

import torch
from torch import nn

from nas.errors import NasError
from nas.metrics.cost import LatencyResult

__all__ = ["OnnxExportError", "onnx_available", "export_onnx", "measure_onnx_latency", "ONNX_OPSET", "ORT_DEVICE"]

#: ONNX opset of the legacy exporter (the dynamo fallback uses its own minimum, 18).
ONNX_OPSET = 17

#: ``LatencyResult.device`` of an ONNX Runtime measurement.
ORT_DEVICE = "onnxruntime-cpu"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class OnnxExportError(NasError, RuntimeError):
    """A network cannot be exported to ONNX or loaded by ONNX Runtime (names the network and both
    exporters' errors). A ``RuntimeError`` too, as :func:`~nas.metrics.cost.measure_latency` raises
    for a model that fails on its input."""


def onnx_available() -> bool:
    """Whether :func:`measure_onnx_latency` can run: ``onnxruntime`` is importable (checked
    without importing it)."""
    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except (ImportError, ValueError):
        return False


def _network_name(model: nn.Module) -> str:
    config = getattr(model, "config", None)
    if config is None and hasattr(model, "model"):  # PixelRange around an SRNet
        config = getattr(model.model, "config", None)
    name = getattr(config, "name", None)
    if name:
        return str(name)
    summary = getattr(config, "summary", None)
    return summary() if callable(summary) else type(model).__name__


def _describe(e: BaseException) -> str:
    """``Type: message`` of the root cause (the dynamo exporter wraps the real error in a long
    generic one), on one line, without terminal colours, at most 300 characters."""
    root = e
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    text = f"{type(root).__name__}: {root}" if root is e else f"{type(e).__name__} ({type(root).__name__}: {root})"
    return " ".join(_ANSI.sub("", text).split())[:300]


def export_onnx(model: nn.Module, example: torch.Tensor) -> tuple[bytes, str]:
    """Export ``model`` (as it is: call it on a deep copy in eval mode) to an ONNX model in memory.

    The graph is traced on ``example`` with fixed input and output shapes (no dynamic axes: the
    latency is that of this input size), input ``lr``, output ``sr``, under ``torch.no_grad``.
    Tries the legacy TorchScript exporter (``dynamo=False``, opset :data:`ONNX_OPSET`) first and
    the ``torch.export``-based one (``dynamo=True``) only if it raises.

    Args:
        model: maps (N, C, H, W) to (N, C, sH, sW), on the CPU.
        example: an (N, C, H, W) float32 CPU tensor.

    Returns:
        ``(serialised ModelProto, exporter)`` with exporter ``"torchscript"`` or ``"dynamo"``.

    Raises:
        OnnxExportError: both exporters fail; the message names the network and both errors.
    """
    name = _network_name(model)
    errors = []
    buf = io.BytesIO()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the legacy exporter's deprecation notice and TracerWarnings from input-size checks
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), buf, dynamo=False, opset_version=ONNX_OPSET,
                              input_names=["lr"], output_names=["sr"], do_constant_folding=True)
        return buf.getvalue(), "torchscript"
    except Exception as e:  # noqa: BLE001 - any exporter failure: try the other one, then report both
        errors.append(f"torchscript exporter: {_describe(e)}")
    try:
        logging.disable(logging.WARNING)  # the dynamo exporter's progress lines
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                program = torch.onnx.export(model, (example,), dynamo=True, input_names=["lr"],
                                            output_names=["sr"], verbose=False)
        finally:
            logging.disable(logging.NOTSET)
        if program is None:
            raise RuntimeError("torch.onnx.export returned no program")
        return program.model_proto.SerializeToString(), "dynamo"
    except Exception as e:  # noqa: BLE001
        errors.append(f"dynamo exporter: {_describe(e)}")
    raise OnnxExportError(f"cannot export {name} to ONNX: " + "; ".join(errors))


def measure_onnx_latency(model: nn.Module, lr_hw: tuple[int, int] = (64, 64), in_channels: int = 3,
                         warmup: int = 3, repeats: int = 10, threads: int = 0) -> LatencyResult:
    """Forward-pass latency of ``model`` exported to ONNX and run by ONNX Runtime on the CPU.

    A deep copy of ``model`` is put on the CPU in eval mode (the caller's model keeps its training
    flag and device) and exported in memory by :func:`export_onnx` for a fixed
    ``(1, in_channels, H, W)`` input. An ``onnxruntime.InferenceSession`` is created from the bytes
    (nothing is written to disk) with the ``CPUExecutionProvider``, ``intra_op_num_threads =
    threads``, ``inter_op_num_threads = 1`` (``ORT_SEQUENTIAL`` execution, ORT's default, in which
    the inter-op count is unused), graph optimisation level ``ORT_ENABLE_ALL``, other options at
    ORT's defaults (``session.intra_op.allow_spinning`` = 1: idle pool threads spin; "Thread
    management" in the onnxruntime docs). Each ``session.run`` on one fixed float32 input, uniform
    noise in [0, 1] (the same kind of input as ``measure_latency``), is timed with ``time.perf_counter``, including ORT's allocation of the
    output array, as a deployer's call would be. Pass the deploy form (ECBs merged): the latency is
    that of the graph you give.

    Args:
        model: maps (1, C, H, W) to (1, C, sH, sW).
        lr_hw: LR input (H, W) in pixels.
        in_channels: C (3 for RGB, 1 for Y-only networks).
        warmup: untimed runs first (>= 0); the first run also pays ORT's lazy initialisation.
        repeats: timed runs (>= 1).
        threads: ORT intra-op threads (>= 0); 0 means ``torch.get_num_threads()`` of this process,
            so the result is comparable with ``measure_latency`` at the same setting.

    Returns:
        :class:`~nas.metrics.cost.LatencyResult` (times in ms) with ``threads`` the intra-op thread
        count used, ``device`` :data:`ORT_DEVICE` (``"onnxruntime-cpu"``) and ``input_shape``
        ``(1, in_channels, H, W)``.

    Raises:
        ValueError: ``repeats`` < 1, ``warmup`` < 0, ``threads`` < 0 or a non-positive input size.
        ImportError: onnxruntime is not installed (see :func:`onnx_available`).
        OnnxExportError: the network cannot be exported or loaded (a ``RuntimeError``; names it).
        RuntimeError: ONNX Runtime fails while running the graph.
    """
    if repeats < 1 or warmup < 0 or threads < 0 or min(lr_hw) < 1 or in_channels < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, threads >= 0 and a positive input size; got "
                         f"repeats={repeats}, warmup={warmup}, threads={threads}, lr_hw={lr_hw}, "
                         f"in_channels={in_channels}")
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise ImportError("measure_onnx_latency needs onnxruntime (pip install onnxruntime)") from e
    n_threads = int(threads) or torch.get_num_threads()
    shape = (1, int(in_channels), int(lr_hw[0]), int(lr_hw[1]))
    m = copy.deepcopy(model).to("cpu").eval()
    x = torch.rand(*shape)
    data, _ = export_onnx(m, x)
    del m
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    try:
        session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
        raise OnnxExportError(f"ONNX Runtime cannot load the exported {_network_name(model)}: "
                              f"{type(e).__name__}: {e}") from e
    feed = {session.get_inputs()[0].name: x.numpy()}
    outputs = [session.get_outputs()[0].name]
    times = []
    try:
        for _ in range(warmup):
            session.run(outputs, feed)
        for _ in range(repeats):
            t = time.perf_counter()
            session.run(outputs, feed)
            times.append((time.perf_counter() - t) * 1000.0)
    except Exception as e:  # noqa: BLE001
        raise RuntimeError(f"ONNX Runtime failed running {_network_name(model)}: {type(e).__name__}: {e}") from e
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
        iqr = q3 - q1
    else:
        iqr = 0.0
    return LatencyResult(median_ms=statistics.median(times), iqr_ms=iqr, repeats=len(times), threads=n_threads,
                         device=ORT_DEVICE, input_shape=shape)
