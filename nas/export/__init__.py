"""Deployable exports of trained models: ArchConfig + safetensors, ONNX (checked with onnxruntime).

See :mod:`nas.export.deploy`; ``nas export --weights W --out model.yaml [--onnx]`` on the CLI.
"""

from nas.export.deploy import ONNX_TOL, REPARAM_TOL, ExportResult, deploy_model, export_model, export_onnx, has_ecb

__all__ = ["ONNX_TOL", "REPARAM_TOL", "ExportResult", "deploy_model", "export_model", "export_onnx", "has_ecb"]
