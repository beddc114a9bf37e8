"""ONNX Runtime latency: the exported deploy form computes what torch computes, and the result
states what was measured (threads, passes, input shape); arguments are checked as
``measure_latency`` checks them."""

import numpy as np
import pytest
import torch
from torch import nn

from nas.metrics.onnx_latency import (
    ORT_DEVICE,
    OnnxExportError,
    export_onnx,
    measure_onnx_latency,
    onnx_available,
)

pytestmark = pytest.mark.skipif(not onnx_available(), reason="onnxruntime is not installed")


def _deploy(name: str) -> tuple[nn.Module, int]:
    from nas.arch import reference_config
    from nas.models import build_model
    from nas.models.deploy import deploy_model

    torch.manual_seed(0)
    cfg = reference_config(name, 4)
    return deploy_model(build_model(cfg)), cfg.colors


@pytest.mark.parametrize("name", ["ecbsr_m4c8", "imdn_rtc"])
def test_onnx_runtime_output_equals_torch(name):
    """The deploy form (ECBs merged for ECBSR; IMDN_RTC as built) run by ONNX Runtime gives
    torch's output within 1e-4 on a 32x32 input."""
    import onnxruntime as ort

    model, colors = _deploy(name)
    x = torch.rand(1, colors, 32, 32)
    data, exporter = export_onnx(model, x)
    assert exporter == "torchscript"  # the documented choice works on the zoo
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"lr": x.numpy()})
    with torch.no_grad():
        expected = model(x).numpy()
    assert y.shape == expected.shape == (1, colors, 128, 128)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-4)


def test_result_states_threads_repeats_and_shape_and_leaves_the_model_alone():
    model, colors = _deploy("ecbsr_m4c8")
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lat = measure_onnx_latency(model, lr_hw=(32, 40), in_channels=colors, warmup=1, repeats=4, threads=1)
    assert lat.median_ms > 0 and lat.iqr_ms >= 0
    assert lat.repeats == 4 and lat.threads == 1 and lat.device == ORT_DEVICE == "onnxruntime-cpu"
    assert lat.input_shape == (1, 1, 32, 40)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    # threads=0: the process's torch thread count, stated in the result; one pass: IQR 0
    lat = measure_onnx_latency(model, lr_hw=(16, 16), in_channels=colors, warmup=0, repeats=1)
    assert lat.threads == torch.get_num_threads() and lat.repeats == 1 and lat.iqr_ms == 0.0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="repeats"):
        measure_onnx_latency(nn.Identity(), repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        measure_onnx_latency(nn.Identity(), warmup=-1)
    with pytest.raises(ValueError, match="threads"):
        measure_onnx_latency(nn.Identity(), threads=-1)
    with pytest.raises(ValueError, match="input size"):
        measure_onnx_latency(nn.Identity(), lr_hw=(0, 8))


class _Unexportable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        raise RuntimeError("no forward here")


def test_export_failure_names_the_network():
    with pytest.raises(OnnxExportError, match="_Unexportable.*torchscript exporter.*dynamo exporter") as info:
        measure_onnx_latency(_Unexportable(), lr_hw=(8, 8), warmup=0, repeats=1)
    assert isinstance(info.value, RuntimeError)
