"""RLFB (RLFN) and Conv3XC / SPAB (SPAN): exact merging, shapes, counts, the NTIRE cost figures."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchConfig, RLFBConfig, SPABConfig, reference_config
from nas.models import build_model, reparameterize_model
from nas.primitives import ESA, RLFB, SPAB, Conv3XC


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomise(module: nn.Module) -> None:
    """Weights and biases of unit-ish scale, so that every branch matters in the merge."""
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.2)


# ---------------------------------------------------------------------- Conv3XC
@pytest.mark.parametrize("cin, cout, gain", [(5, 7, 2), (8, 8, 1), (3, 6, 3)])
def test_conv3xc_reparameterized_equals_branches(cin, cout, gain):
    m = Conv3XC(cin, cout, gain)
    _randomise(m)
    x = torch.randn(2, cin, 9, 11)
    with torch.no_grad():
        y = m(x)
        fused = m.reparameterize()
        assert m.deployed and not hasattr(m, "sk") and not hasattr(m, "conv")
        assert (fused.kernel_size, fused.padding) == ((3, 3), (1, 1))
        assert (m(x) - y).abs().max().item() < 1e-5
    assert m.reparameterize() is fused  # one-way, idempotent


def test_conv3xc_counts_and_shape():
    cin, cout, g = 6, 10, 2
    m = Conv3XC(cin, cout, g)
    assert m(torch.rand(1, cin, 5, 4)).shape == (1, cout, 5, 4)
    train = cin * cout + cout + g * cin * cin + g * cin + 9 * g * g * cin * cout + g * cout + g * cout * cout + cout
    assert n_params(m) == train
    m.reparameterize()
    assert n_params(m) == 9 * cin * cout + cout
    with pytest.raises(ValueError, match="gain"):
        Conv3XC(4, 4, gain=0)


# ---------------------------------------------------------------------- SPAB
def test_spab_is_the_parameter_free_attention_of_its_convs():
    block = SPAB(6)
    _randomise(block)
    x = torch.randn(1, 6, 8, 7)
    with torch.no_grad():
        out, mid = block(x, return_mid=True)
        h1 = nn.functional.silu(block.c1_r(x))
        h = block.c3_r(nn.functional.silu(block.c2_r(h1)))
        assert torch.allclose(mid, h1)
        assert torch.allclose(out, (h + x) * (torch.sigmoid(h) - 0.5))
        assert torch.equal(block(x), out)
    assert out.shape == mid.shape == x.shape


def test_spab_reparameterized_equals_multi_branch_form():
    block = SPAB(8, gain=2)
    _randomise(block)
    block.eval()
    deployed = reparameterize_model(block)
    assert all(m.deployed for m in deployed.modules() if isinstance(m, Conv3XC))
    assert not any(m.deployed for m in block.modules() if isinstance(m, Conv3XC))  # original untouched
    x = torch.randn(2, 8, 10, 9)
    with torch.no_grad():
        assert (block(x) - deployed(x)).abs().max().item() < 1e-5
    c = 8
    assert n_params(block) == 3 * (41 * c * c + 6 * c)
    assert n_params(deployed) == 3 * (9 * c * c + c)


@pytest.mark.parametrize("name", ["span_ntire", "span"])
def test_span_network_reparameterized_equals_train_form(name):
    model = build_model(reference_config(name, 4)).eval()
    x = torch.rand(1, 3, 12, 13)
    deployed = reparameterize_model(model)
    with torch.no_grad():
        y, yd = model(x), deployed(x)
    assert y.shape == (1, 3, 48, 52)
    # (x - mean) * 255 inside: compare relative to the output's scale
    assert (y - yd).abs().max().item() <= 1e-5 * max(1.0, y.abs().max().item())


# ---------------------------------------------------------------------- RLFB and the slim ESA
def test_slim_esa_drops_conv_max_and_conv3_():
    full, slim = ESA(46, esa_channels=16), ESA(46, esa_channels=16, slim=True)
    c, f = 46, 16
    assert n_params(full) == 2 * c * f + c + 37 * f * f + 6 * f
    assert n_params(slim) == 2 * c * f + c + 19 * f * f + 4 * f == 6_446
    assert not hasattr(slim, "conv_max") and not hasattr(slim, "conv3_")
    assert n_params(ESA(50)) == 6_650  # RFDN's default (f = C // 4) unchanged
    x = torch.rand(1, 46, 15, 17)
    assert slim(x).shape == x.shape
    with pytest.raises(ValueError, match="at least 15x15"):
        slim(torch.rand(1, 46, 14, 20))


def test_esa_without_conv_f_adds_c1_directly():
    """SlimRLFN's ESA (NTIRE 2024 team 21): ``sigmoid(conv4(up(conv3(pool(conv2(c1_)))) + c1_))``,
    f^2 + f parameters fewer than RLFN's slim ESA."""
    c, f = 30, 16
    esa = ESA(c, esa_channels=f, slim=True, conv_f=False)
    _randomise(esa)
    assert not hasattr(esa, "conv_f")
    assert n_params(esa) == n_params(ESA(c, esa_channels=f, slim=True)) - f * f - f == 2 * c * f + c + 18 * f * f + 3 * f
    x = torch.randn(1, c, 17, 19)
    with torch.no_grad():
        c1_ = esa.conv1(x)
        v = esa.conv3(F.max_pool2d(esa.conv2(c1_), kernel_size=7, stride=3))
        v = F.interpolate(v, size=(17, 19), mode="bilinear", align_corners=False)
        assert torch.allclose(esa(x), x * torch.sigmoid(esa.conv4(v + c1_)))
    block = RLFB(c, attention="esa_no_conv_f")
    assert not hasattr(block.esa, "conv_f")
    assert RLFBConfig(attention="esa_no_conv_f").label() == "rlfb(mnf,esa16-nof)"


def test_rlfb_counts_shapes_and_structure():
    block = RLFB(46, mid_channels=48)
    assert n_params(block) == 69_230  # RLFN_cut's block (ofsoundof/NTIRE2022_ESR team04_rlfn.py)
    assert [n for n, _ in block.named_children()] == ["c1_r", "c2_r", "c3_r", "c5", "esa", "act"]
    assert (block.c1_r.out_channels, block.c3_r.in_channels) == (48, 48)
    x = torch.rand(2, 46, 16, 15)
    assert block(x).shape == x.shape
    plain = RLFB(8, attention="none", act="prelu")
    assert plain(torch.rand(1, 8, 3, 4)).shape == (1, 8, 3, 4)  # no ESA, no size limit
    with pytest.raises(ValueError, match="attention"):
        RLFB(8, attention="cca")


def test_rlfb_depthwise_middle_conv():
    """``mid_conv: dw_act_pw`` (NTIRE 2024 team 42's DepthRLFN): c2_r = 1x1(act(depthwise 3x3)),
    M^2 + 11 M parameters in place of 9 M^2 + M; keys ``c2_r.0`` / ``c2_r.2`` as the authors'."""
    m = 12
    plain, dw = RLFB(10, mid_channels=m, attention="none"), RLFB(10, mid_channels=m, attention="none",
                                                                    mid_conv="dw_act_pw")
    assert n_params(plain) - n_params(dw) == (9 * m * m + m) - (m * m + 11 * m)
    assert dw.c2_r[0].groups == m and dw.c2_r[2].kernel_size == (1, 1)
    _randomise(dw)
    x = torch.randn(1, m, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(dw.c2_r(x), dw.c2_r[2](nn.LeakyReLU(0.05)(dw.c2_r[0](x))))
    assert RLFBConfig(mid_conv="dw_act_pw").label() == "rlfb(mnf,esa16,dw)"
    with pytest.raises(ValueError, match="mid_conv"):
        RLFB(8, mid_conv="grouped")


def test_rlfb_is_local_residual_then_1x1_then_attention():
    block = RLFB(6, mid_channels=5, attention="none")
    _randomise(block)
    x = torch.randn(1, 6, 7, 7)
    act = nn.LeakyReLU(0.05)
    with torch.no_grad():
        r = act(block.c3_r(act(block.c2_r(act(block.c1_r(x))))))
        assert torch.allclose(block(x), block.c5(r + x))


# ---------------------------------------------------------------------- configs
def test_new_block_configs_roundtrip_and_summarise():
    cfg = reference_config("rlfn_ntire", 4)
    assert cfg.blocks[0] == RLFBConfig(mid_channels=48, esa_channels=16)
    assert cfg.summary() == "x4 nf46 | 4x rlfb(m48,esa16) | conv3x3 | pixelshuffle"
    span = reference_config("span", 2)
    assert span.blocks == [SPABConfig()] * 6
    assert span.summary() == "x2 nf48 | 6x spab(g2) | span | pixelshuffle"
    for c in (cfg, span):
        assert ArchConfig.from_dict(c.to_dict()) == c
        assert ArchConfig.from_dict(c.to_dict()).arch_id == c.arch_id


# ---------------------------------------------------------------------- NTIRE cost figures
def test_rlfn_ntire_fvcore_macs_at_256x256_lr():
    """bytedance/RLFN README: 19.70 G FLOPs (fvcore, MACs) for a 256x256 LR input."""
    from nas.metrics import fvcore_mult_adds

    macs = fvcore_mult_adds(build_model(reference_config("rlfn_ntire", 4)), 4, hr_hw=(1024, 1024))
    assert macs == pytest.approx(19.70e9, rel=0.005)


def test_span_ntire_deploy_fvcore_macs_at_256x256_lr():
    """NTIRE 2024 ESR report / shared/reference_models.md §10: 9.83 G for the submitted (deploy) SPAN."""
    from nas.metrics import fvcore_mult_adds

    model = reparameterize_model(build_model(reference_config("span_ntire", 4)))
    assert fvcore_mult_adds(model, 4, hr_hw=(1024, 1024)) == pytest.approx(9.83e9, rel=0.005)
