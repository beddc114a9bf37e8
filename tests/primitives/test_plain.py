"""Pre-upsampling networks (VDSR, SRCNN): MATLAB's bicubic in torch, the plain conv layer, and the
config fields that express them (``upsampler: pre_bicubic``, ``input_skip: bicubic``, ``head_act``,
``head_kernel``, ``tail_kernel``, a conv block's ``kernel`` and ``out_channels``)."""

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


def test_conv_act_changes_kernel_and_width():
    """SRCNN 9-5-5's middle layer: a 5x5 conv 64 -> 32 + ReLU, 51,232 parameters, size kept."""
    layer = ConvAct(64, kernel=5, out_channels=32)
    assert sum(p.numel() for p in layer.parameters()) == 5 * 5 * 64 * 32 + 32 == 51_232
    x = torch.randn(1, 64, 7, 9)
    assert torch.equal(layer(x), torch.relu(layer.conv(x))) and layer(x).shape == (1, 32, 7, 9)
    with pytest.raises(ValueError, match="a residual conv keeps its width: 64 in, 32 out"):
        ConvAct(64, residual=True, out_channels=32)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_srcnn_is_the_published_9_5_5_network(scale):
    """SRCNN 9-5-5 (Dong et al., TPAMI 2016): 57,184 weights (the paper's counting, whose 9-1-5
    has 8,032) + 97 biases; three layers at HR; 57,184 MACs per HR pixel, 52.7 G for 1280x720."""
    cfg = GROUND_TRUTH["srcnn"].config(scale)
    net = build_model(cfg).eval()
    weights = sum(m.weight.numel() for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.weight.requires_grad)
    assert weights == 9 * 9 * 64 + 5 * 5 * 64 * 32 + 5 * 5 * 32 == 57_184
    assert sum(p.numel() for p in net.parameters()) == 57_281 == GROUND_TRUTH["srcnn"].params[scale]
    assert conv_depth(net, 1) == 3
    assert [tuple(c.weight.shape) for c in (net.fea_conv, net.blocks[0].conv, net.upsampler)] == [
        (64, 1, 9, 9), (32, 64, 5, 5), (1, 32, 5, 5)]
    macs = mult_adds(net, scale, in_channels=1)
    h, w = lr_size_for_hr(scale)
    assert 57_184 * scale * scale * h * w < macs <= (57_184 + 8) * scale * scale * h * w
    assert net(torch.rand(1, 1, 9, 11)).shape == (1, 1, 9 * scale, 11 * scale)


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
    with pytest.raises(ArchConfigError, match=r"vdsr\.yaml: head_kernel: the kernel must be odd .* got 4"):
        _vdsr_like(head_kernel=4)
    with pytest.raises(ArchConfigError, match=r"vdsr\.yaml: tail_kernel: only a one-layer tail"):
        _vdsr_like(upsampler="pixelshuffle", input_skip="none", tail_kernel=5)
    with pytest.raises(ArchConfigError, match=r"vdsr\.yaml: blocks\.1\.kernel: the kernel must be odd"):
        _vdsr_like(blocks=[{"type": "conv"}, {"type": "conv", "kernel": 2}])
    narrow = [{"type": "conv", "out_channels": 8}]
    with pytest.raises(ArchConfigError, match=r"needs fusion: last and global_residual: false .*'concat'"):
        _vdsr_like(blocks=narrow, fusion="concat")
    with pytest.raises(ArchConfigError, match=r"blocks\.1: a resblock block runs at nf \(16\)"):
        _vdsr_like(blocks=narrow + [{"type": "resblock"}])
    with pytest.raises(ArchConfigError, match=r"blocks\.1: a residual conv block keeps its width \(8\), not 16"):
        _vdsr_like(blocks=narrow + [{"type": "conv", "residual": True, "out_channels": 16}])


def test_a_plain_body_may_narrow_and_widen_again():
    """An FSRCNN-like hourglass (shrink 1x1, map 3x3, expand 1x1) builds, and the tail takes the
    last block's width."""
    cfg = _vdsr_like(input_skip="none", head_kernel=5, tail_kernel=3, blocks=[
        {"type": "conv", "kernel": 1, "out_channels": 6, "act": "prelu"},
        {"type": "conv", "act": "prelu"},
        {"type": "conv", "kernel": 1, "out_channels": 12, "act": "prelu"}])
    assert cfg.body_width == 12
    net = build_model(cfg)
    assert tuple(net.upsampler.weight.shape) == (1, 12, 3, 3) and tuple(net.fea_conv.weight.shape) == (16, 1, 5, 5)
    assert net(torch.rand(1, 1, 6, 6)).shape == (1, 1, 24, 24)
    assert "conv(prelu,k1,->6) + 1x conv(prelu) + 1x conv(prelu,k1,->12)" in cfg.summary()


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
    # kernel / out_channels / head_kernel / tail_kernel are left out of the id at their defaults
    assert cfg.arch_id == _vdsr_like(head_kernel=None, tail_kernel=None,
                                     blocks=[{"type": "conv", "kernel": 3, "out_channels": None}] * 2).arch_id
    assert cfg.arch_id != _vdsr_like(tail_kernel=5).arch_id
    assert "kernel" not in cfg.to_dict()["blocks"][0] and "tail_kernel" not in cfg.to_dict()


def test_a_pre_upsampling_network_exports_to_onnx_and_to_an_ntire_file(tmp_path):
    """The deploy exports users ship (ONNX; the NTIRE single-file model traced by torch.fx) work
    for a pre-upsampling network: the interpolation's taps are fixed-shape buffers and its size
    check is switched off for tracing, so both reproduce the network; and for FSRCNN's
    deconvolution tail."""
    pytest.importorskip("onnxruntime")
    from nas.export.deploy import export_model
    from nas.export.ntire import export_ntire

    cfg = _vdsr_like(colors=3, scale=3)
    net = build_model(cfg).eval()
    res = export_model(net, cfg, tmp_path / "vdsr_like.yaml", onnx=True)
    assert res.onnx_path.exists() and res.onnx_max_diff < 1e-5 and res.params_deployed == res.params_trained
    ntire = export_ntire(net, cfg, tmp_path / "ntire", team=7, name="VDSRLike")
    assert ntire.weights_path.exists() and ntire.max_diff < 1e-5
    # and a deconvolution tail (FSRCNN)
    cfg = GROUND_TRUTH["fsrcnn"].config(3)
    net = build_model(cfg).eval()
    res = export_model(net, cfg, tmp_path / "fsrcnn.yaml", onnx=True)
    assert res.onnx_max_diff < 1e-5 and res.params_deployed == 24_683
    assert export_ntire(net, cfg, tmp_path / "ntire_fsrcnn", team=7, name="FSRCNN").max_diff < 1e-5


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fsrcnn_is_the_etds_network_with_a_deconvolution_tail(scale):
    """FSRCNN d56 s12 m4 on RGB (ECNUSR/ETDS core/archs/ir/FSRCNN/arch.py): 24,683 parameters at
    every scale (ETDS Table 2: 24.68 K); the network equals its layers written out by hand with
    F.conv2d / F.prelu / F.conv_transpose2d (stride s, padding 4, output padding s - 1)."""
    import torch.nn.functional as F

    gt = GROUND_TRUTH["fsrcnn"]
    net = build_model(gt.config(scale)).eval()
    assert sum(p.numel() for p in net.parameters()) == 24_683 == gt.params[scale]
    assert tuple(net.upsampler.weight.shape) == (56, 3, 9, 9)  # ConvTranspose2d: (in, out, k, k)
    assert conv_depth(net) == 6  # 5x5 head, four 3x3 maps, the 9x9 deconvolution; 1x1s do not count
    layers = [net.blocks[i] for i in range(6)]
    x = torch.rand(2, 3, 7, 10)
    with torch.no_grad():
        y = F.prelu(F.conv2d(x, net.fea_conv.weight, net.fea_conv.bias, padding=2), net.head_act.weight)
        for layer in layers:
            k = layer.conv.kernel_size[0]
            y = F.prelu(F.conv2d(y, layer.conv.weight, layer.conv.bias, padding=k // 2), layer.act.weight)
        want = F.conv_transpose2d(y, net.upsampler.weight, net.upsampler.bias, stride=scale, padding=4,
                                  output_padding=scale - 1)
        got = net(x)
    assert got.shape == (2, 3, 7 * scale, 10 * scale)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)
    # Mult-Adds: the deconvolution scatters 9 x 9 x 56 x 3 per LR pixel
    h, w = lr_size_for_hr(scale)
    per_lr_px = 3 * 56 * 25 + 56 * 12 + 4 * 12 * 12 * 9 + 12 * 56 + 56 * 3 * 81
    assert mult_adds(net, scale) == per_lr_px * h * w


@pytest.mark.parametrize(("name", "m", "c"), [("abpn_m4c28", 4, 28), ("abpn_m6c40", 6, 40)])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_abpn_is_the_etds_network(name, m, c, scale):
    """ABPN-MxCy (ECNUSR/ETDS core/archs/ir/ABPN/arch.py ABPN): the parameter counts of ETDS Table
    2, and the forward of its layers written out by hand: ReLU convs, a last 3x3 conv at 3 s^2
    channels, plus the LR repeated s^2 times along channels (repeat_interleave), pixel-shuffled."""
    import torch.nn.functional as F

    gt = GROUND_TRUTH[name]
    net = build_model(gt.config(scale)).eval()
    out = 3 * scale * scale
    want_params = (27 * c + c) + m * (9 * c * c + c) + (9 * c * out + out) + (9 * out * out + out)
    assert sum(p.numel() for p in net.parameters()) == want_params == gt.params[scale]
    assert conv_depth(net) == m + 3
    x = torch.rand(1, 3, 6, 5)
    with torch.no_grad():
        y = F.relu(F.conv2d(x, net.fea_conv.weight, net.fea_conv.bias, padding=1))
        for block in net.blocks:
            y = F.relu(F.conv2d(y, block.conv.weight, block.conv.bias, padding=1))
        tail = net.upsampler[0]
        y = F.conv2d(y, tail.weight, tail.bias, padding=1) + torch.repeat_interleave(x, scale * scale, dim=1)
        want = F.pixel_shuffle(y, scale)
        got = net(x)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_deconv_upsampler_fields_are_checked():
    """tail_kernel sizes the deconvolution (odd only); other upsamplers refuse it, naming the field."""
    base = dict(scale=3, colors=3, nf=8, blocks=[{"type": "conv"}], fusion="last", global_residual=False,
                upsampler="deconv")
    net = build_model(ArchConfig.from_dict({**base, "tail_kernel": 5}))
    assert tuple(net.upsampler.weight.shape) == (8, 3, 5, 5)
    assert net(torch.rand(1, 3, 4, 5)).shape == (1, 3, 12, 15)
    with pytest.raises(ArchConfigError, match=r"fsrcnn\.yaml: tail_kernel: the kernel must be odd"):
        ArchConfig.from_dict({**base, "tail_kernel": 8}, source="fsrcnn.yaml")
    assert "tail_kernel" not in ArchConfig.from_dict(base).to_dict()


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_espcn_is_the_etds_network(scale):
    """ESPCN on RGB (ECNUSR/ETDS core/archs/ir/ESPCN/arch.py): the parameter counts of ETDS Table 2
    (26.80 K / 31.13 K / 37.20 K) and its forward written out by hand: tanh(conv5x5), tanh(conv3x3
    64 -> 32), conv3x3 32 -> 3 s^2, pixel shuffle, sigmoid."""
    import torch.nn.functional as F

    gt = GROUND_TRUTH["espcn"]
    net = build_model(gt.config(scale)).eval()
    out = 3 * scale * scale
    assert sum(p.numel() for p in net.parameters()) == 4_864 + 18_464 + 9 * 32 * out + out == gt.params[scale]
    assert conv_depth(net) == 3
    x = torch.rand(1, 3, 5, 6)
    with torch.no_grad():
        y = torch.tanh(F.conv2d(x, net.fea_conv.weight, net.fea_conv.bias, padding=2))
        y = torch.tanh(F.conv2d(y, net.blocks[0].conv.weight, net.blocks[0].conv.bias, padding=1))
        tail = net.upsampler[0]
        want = torch.sigmoid(F.pixel_shuffle(F.conv2d(y, tail.weight, tail.bias, padding=1), scale))
        got = net(x)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_output_sigmoid_is_checked_and_left_out_of_the_id_at_its_default():
    base = dict(scale=2, colors=3, nf=8, blocks=[{"type": "conv", "act": "tanh"}], fusion="last",
                global_residual=False)
    assert "output_act" not in ArchConfig.from_dict(base).to_dict()
    assert ArchConfig.from_dict(base).arch_id != ArchConfig.from_dict({**base, "output_act": "sigmoid"}).arch_id
    with pytest.raises(ArchConfigError, match=r"espcn\.yaml: .*output_act: sigmoid squashes the output"):
        ArchConfig.from_dict({**base, "output_act": "sigmoid", "input_norm": "meanshift"}, source="espcn.yaml")
    with pytest.raises(ArchConfigError, match=r"espcn\.yaml: output_act: "):
        ArchConfig.from_dict({**base, "output_act": "tanh"}, source="espcn.yaml")
