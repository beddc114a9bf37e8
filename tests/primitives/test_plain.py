"""Pre-upsampling networks (VDSR): MATLAB's bicubic in torch, the plain conv layer, and the
config fields that express them (``upsampler: pre_bicubic``, ``input_skip: bicubic``, ``head_act``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nas.arch import ArchConfig, ConvBlockConfig
from nas.arch.ground_truth import GROUND_TRUTH
from nas.data.bicubic import imresize
from nas.errors import ArchConfigError
from nas.metrics.cost import lr_size_for_hr, mult_adds
from nas.models import build_model
from nas.models.depth import conv_depth
from nas.primitives import BicubicUpsample, ConvAct


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_bicubic_upsample_is_matlab_imresize(scale):
    """Same values as the numpy MATLAB ``imresize`` (cubic a = -0.5, symmetric border) in float64,
    on a small image whose border taps reach past the edge."""
    img = np.random.default_rng(scale).random((5, 7, 3))
    want = imresize(img, scale)
    got = BicubicUpsample(scale).double()(torch.from_numpy(img).permute(2, 0, 1)[None])
    assert got.shape == (1, 3, 5 * scale, 7 * scale)
    np.testing.assert_allclose(got[0].permute(1, 2, 0).numpy(), want, atol=1e-6)


def test_bicubic_upsample_has_no_parameters_and_refuses_bad_input():
    up = BicubicUpsample(4)
    assert list(up.parameters()) == [] and up.state_dict() == {}
    with pytest.raises(ValueError, match="integer scale >= 2"):
        BicubicUpsample(1)
    with pytest.raises(ValueError, match="at least 2x2"):
        up(torch.rand(1, 1, 1, 5))


def test_conv_act_is_conv_then_activation():
    layer = ConvAct(8)
    assert sum(p.numel() for p in layer.parameters()) == 9 * 8 * 8 + 8
    x = torch.randn(2, 8, 6, 6)
    assert torch.equal(layer(x), torch.relu(layer.conv(x)))
    res = ConvAct(8, residual=True)
    assert torch.allclose(res(x), x + torch.relu(res.conv(x)))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_vdsr_is_twenty_layers_at_hr_with_the_published_size(scale):
    """VDSR (Kim et al. 2016): 665,921 parameters at every scale (tables: 665 K / 666 K), 20 3x3
    layers, and 612.6 G Mult-Adds for a 1280x720 output, the Mult-Adds the CFSR and MoreMNAS
    tables print for it (664,704 MACs per HR pixel plus the interpolation's few)."""
    cfg = GROUND_TRUTH["vdsr"].config(scale)
    net = build_model(cfg).eval()
    assert sum(p.numel() for p in net.parameters()) == 665_921
    assert conv_depth(net, 1) == 20
    h, w = lr_size_for_hr(scale)
    hr_px = scale * scale * h * w  # 1280x720, or 1281x720 at x3 (LR 427 px wide)
    macs = mult_adds(net, scale, in_channels=1)
    assert 664_704 * hr_px < macs <= (664_704 + 8) * hr_px
    if scale != 3:
        assert round(macs / 1e9, 1) == 612.6
    x = torch.rand(1, 1, 9, 11)
    with torch.no_grad():
        y = net(x)
        # residual learning: with the last layer zeroed the output is the interpolated input
        net.upsampler.weight.zero_()
        net.upsampler.bias.zero_()
        assert torch.allclose(net(x), BicubicUpsample(scale)(x), atol=1e-6)
    assert y.shape == (1, 1, 9 * scale, 11 * scale)


def _vdsr_like(**changes):
    data = dict(scale=4, colors=1, nf=16, head_act="relu", blocks=[{"type": "conv"}] * 2, fusion="last",
                global_residual=False, upsampler="pre_bicubic", input_skip="bicubic")
    data.update(changes)
    return ArchConfig.from_dict(data, source="vdsr.yaml")


def test_config_errors_name_the_field():
    with pytest.raises(ArchConfigError, match=r"vdsr\.yaml: input_skip: a pre_bicubic network .* not 'nearest'"):
        _vdsr_like(input_skip="nearest")
    with pytest.raises(ArchConfigError, match=r"vdsr\.yaml: head_act: only a conv3x3 head"):
        _vdsr_like(head="ecb")


def test_new_fields_keep_every_other_id():
    """``head_act`` is left out of the id at its default; a bicubic skip on a post-upsampling
    network is a different network from one without."""
    cfg = _vdsr_like()
    assert "head_act" in cfg.to_dict()
    plain = cfg.replace(head_act=None)
    assert "head_act" not in plain.to_dict() and plain.arch_id != cfg.arch_id
    post = _vdsr_like(upsampler="pixelshuffle", input_skip="bicubic")
    y = build_model(post)(torch.rand(1, 1, 8, 8))
    assert y.shape == (1, 1, 32, 32)
    assert ConvBlockConfig().label() == "conv(relu)"


def test_a_pre_upsampling_network_exports_to_onnx_and_to_an_ntire_file(tmp_path):
    """The deploy exports users ship (ONNX; the NTIRE single-file model traced by torch.fx) work
    for a pre-upsampling network: the interpolation's taps are fixed-shape buffers and its size
    check is switched off for tracing, so both reproduce the network."""
    pytest.importorskip("onnxruntime")
    from nas.export.deploy import export_model
    from nas.export.ntire import export_ntire

    cfg = _vdsr_like(colors=3, scale=3)
    net = build_model(cfg).eval()
    res = export_model(net, cfg, tmp_path / "vdsr_like.yaml", onnx=True)
    assert res.onnx_path.exists() and res.onnx_max_diff < 1e-5 and res.params_deployed == res.params_trained
    ntire = export_ntire(net, cfg, tmp_path / "ntire", team=7, name="VDSRLike")
    assert ntire.weights_path.exists() and ntire.max_diff < 1e-5
