"""Deployable exports: ArchConfig YAML + safetensors weights, and an ONNX graph checked with onnxruntime.

Before export the network is put in its deploy form (:func:`deploy_model`): every ECB is merged
into one 3x3 conv (``nas.models.reparameterize_model``; ECBSR §3.2, xindongzhang/ECBSR
``convert.py``) and weight-norm parametrisations (AWSRN) are folded into plain weights. Both are
exact up to float rounding; :func:`export_model` measures the difference and refuses to write a
deploy form that differs from the trained model by more than ``1e-5`` (max |diff| on a random
[0, 1] input), or an ONNX graph whose onnxruntime output differs from torch's by more than
``1e-4``.

The safetensors file holds the deploy-form tensors; its metadata records the config, the pixel
range and ``reparameterized`` so that :func:`nas.checkpoints.load_model` rebuilds the same form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from nas.arch import ArchConfig
from nas.errors import NasError
from nas.models.deploy import deploy_model, has_ecb, unwrap

__all__ = ["ExportResult", "deploy_model", "export_model", "export_onnx", "has_ecb", "REPARAM_TOL", "ONNX_TOL"]

#: Max |deploy - trained| accepted (float32 rounding of the merged kernels).
REPARAM_TOL = 1e-5
#: Max |onnxruntime - torch| accepted.
ONNX_TOL = 1e-4


def _probe(colors: int, min_size: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    side = max(min_size, 24)
    return torch.rand(1, colors, side, side + 7, generator=g)


def export_onnx(model: nn.Module, path: str | Path, colors: int, opset: int = 17,
                probe: torch.Tensor | None = None) -> float:
    """Write ``model`` as ONNX (batch, height and width dynamic) and check it with onnxruntime.

    Uses the TorchScript-based exporter (``dynamo=False``), which needs no onnxscript.

    Args:
        model: eval-mode network (N, C, H, W) -> (N, C, sH, sW), already in deploy form.
        path: ``.onnx`` file to write.
        colors: C.
        opset: ONNX opset.
        probe: input used for the check (default: a seeded random (1, C, 24, 31) image).

    Returns:
        Max |onnxruntime - torch| on ``probe`` and on a second, differently sized input.

    Raises:
        NasError: the graph cannot be exported, or onnxruntime's output differs by more than
            :data:`ONNX_TOL` (names the file and the difference).
    """
    import warnings

    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    min_size = int(getattr(model, "min_input_size", 1))
    x = _probe(colors, min_size) if probe is None else probe
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about the python shape checks
            torch.onnx.export(
                model, (x,), str(path), dynamo=False, opset_version=opset,
                input_names=["lr"], output_names=["sr"],
                dynamic_axes={"lr": {0: "batch", 2: "height", 3: "width"},
                              "sr": {0: "batch", 2: "out_height", 3: "out_width"}},
            )
    except Exception as err:  # the exporter raises many types
        raise NasError(f"{path}: ONNX export failed ({str(err).splitlines()[0][:200]})") from None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    g = torch.Generator().manual_seed(1)
    for inp in (x, torch.rand(2, colors, x.shape[2] + 5, x.shape[3] + 3, generator=g)):
        with torch.no_grad():
            ref = model(inp).numpy()
        got = session.run(["sr"], {"lr": inp.numpy()})[0]
        if got.shape != ref.shape:
            raise NasError(f"{path}: onnxruntime output {got.shape} != torch {ref.shape}")
        worst = max(worst, float(abs(got - ref).max()))
    if worst > ONNX_TOL:
        raise NasError(f"{path}: onnxruntime output differs from torch by {worst:.2e} (> {ONNX_TOL:g})")
    return worst


@dataclass
class ExportResult:
    """What :func:`export_model` wrote and measured.

    Attributes:
        config_path: the ``ArchConfig`` YAML/JSON.
        weights_path: the safetensors file.
        onnx_path: the ONNX file, or ``None``.
        reparameterized: ECBs were merged.
        reparam_max_diff: max |deploy - trained| on a random input (0.0 when nothing changed).
        onnx_max_diff: max |onnxruntime - torch|, or ``None``.
        params_trained, params_deployed: parameter counts before and after.
    """

    config_path: Path
    weights_path: Path
    onnx_path: Path | None
    reparameterized: bool
    reparam_max_diff: float
    onnx_max_diff: float | None
    params_trained: int
    params_deployed: int
    notes: list[str] = field(default_factory=list)


def export_model(model: nn.Module, config: ArchConfig, out: str | Path, onnx: bool = False,
                 opset: int = 17) -> ExportResult:
    """Export a trained model: ``out`` (config), ``out`` with ``.safetensors``, and ``.onnx``.

    Args:
        model: the trained network for [0, 1] input (``LoadedModel.model``: an ``SRNet`` or a
            ``PixelRange`` around one).
        config: its ``ArchConfig`` (the train form; the deploy form is derived from it).
        out: config file path (``.yaml``/``.yml``/``.json``); the weights go next to it with the
            suffix ``.safetensors`` (and ``.onnx``).
        onnx: also write and verify the ONNX graph.
        opset: ONNX opset.

    Returns:
        :class:`ExportResult`.

    Raises:
        NasError: the deploy form differs by more than :data:`REPARAM_TOL`, the ONNX check
            fails, or a file cannot be written (names it).
    """
    from nas.checkpoints.io import save_safetensors

    out = Path(out)
    model = model.eval()
    deployed = deploy_model(model)
    colors = config.colors
    x = _probe(colors, int(getattr(model, "min_input_size", 1)))
    with torch.no_grad():
        diff = float((deployed(x) - model(x)).abs().max())
    if diff > REPARAM_TOL:
        raise NasError(f"{out}: deploy form differs from the trained model by {diff:.2e} (> {REPARAM_TOL:g})")
    reparam = has_ecb(config)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        config.save(out)
        weights = save_safetensors(out.with_suffix(".safetensors"), deployed, config, form="deploy",
                                   extra_meta={"reparameterized": "true" if reparam else "false"})
    except OSError as e:
        raise NasError(f"{out}: cannot write ({e.strerror or e})") from None
    onnx_path, onnx_diff = None, None
    if onnx:
        onnx_path = out.with_suffix(".onnx")
        onnx_diff = export_onnx(deployed, onnx_path, colors, opset, probe=x)
    count = lambda m: sum(p.numel() for p in unwrap(m)[0].parameters())  # noqa: E731
    return ExportResult(out, weights, onnx_path, reparam, diff, onnx_diff, count(model), count(deployed))
