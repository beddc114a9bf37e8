"""EDSR's plain residual block, its upsampler and EDSR-baseline as an ArchConfig: exact counts of
sanghyun-son/EDSR-PyTorch ``src/model/common.py`` / ``edsr.py`` (n_resblocks 16, n_feats 64), and
the forward written out by hand; the bilinear input skip (NTIRE 2024 LightRLFN)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchConfig, ResBlockConfig
from nas.arch.ground_truth import GROUND_TRUTH
from nas.models import build_model
from nas.models.build import DIV2K_RGB_MEAN
from nas.primitives import EDSRUpsampler, ResBlock


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_resblock_count_and_forward():
    block = ResBlock(64)
    assert n_params(block) == 73_856  # EDSR ResBlock(default_conv, 64, 3): 2 x (64*64*9 + 64)
    x = torch.randn(1, 64, 9, 7)
    c1, c2 = block.body[0], block.body[2]
    expected = x + c2(F.relu(c1(x)))
    assert torch.allclose(block(x), expected, atol=1e-6)
    scaled = ResBlock(8, res_scale=0.1)
    y = torch.randn(1, 8, 5, 5)
    assert torch.allclose(scaled(y), y + 0.1 * scaled.body(y), atol=1e-6)


def test_resblock_with_esa_reweights_the_residual_branch():
    """``attention: esa_no_conv_f`` (NTIRE 2022 team 34's ESAN): x + ESA(conv(relu(conv(x)))), the
    ESA of RFDN (f = C // 4) without its ``conv_f``."""
    torch.manual_seed(0)
    block = ResBlock(16, attention="esa_no_conv_f").eval()
    assert not hasattr(block.esa, "conv_f")
    assert n_params(block) == n_params(ResBlock(16)) + n_params(block.esa)
    x = torch.randn(1, 16, 15, 16)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.esa(block.body(x)))
    assert ResBlockConfig(attention="esa_no_conv_f").label() == "res(relu,esa_no_conv_f)"
    with pytest.raises(ValueError, match="attention"):
        ResBlock(16, attention="cca")


@pytest.mark.parametrize("scale, convs, count", [
    (2, 1, 147_712 + 1_731), (3, 1, 332_352 + 1_731), (4, 2, 2 * 147_712 + 1_731), (8, 3, 3 * 147_712 + 1_731),
])
def test_edsr_upsampler_stages_and_counts(scale, convs, count):
    up = EDSRUpsampler(64, 3, scale)
    assert n_params(up) == count
    assert sum(isinstance(m, nn.PixelShuffle) for m in up) == convs
    assert up(torch.rand(1, 64, 5, 6)).shape == (1, 3, 5 * scale, 6 * scale)
    with pytest.raises(ValueError, match="x5"):
        EDSRUpsampler(8, 3, 5)


# EDSR-baseline, counted from the EDSR code (head conv 3->64, 16 ResBlocks, body conv, Upsampler,
# tail conv); its parameters() also holds the two frozen 1x1 MeanShift convs (24 more).
EDSR_BASELINE = {2: 1_369_859, 3: 1_554_499, 4: 1_517_571}


@pytest.mark.parametrize("scale", sorted(EDSR_BASELINE))
def test_edsr_baseline_config_count(scale):
    cfg = GROUND_TRUTH["edsr_baseline"].config(scale)
    assert n_params(build_model(cfg)) == EDSR_BASELINE[scale]


def test_edsr_baseline_forward_is_edsrs():
    cfg = ArchConfig(scale=2, nf=8, blocks=[ResBlockConfig()] * 2, fusion="conv3x3", upsampler="edsr",
                     input_norm="meanshift255")
    model = build_model(cfg).eval()
    x = torch.rand(1, 3, 6, 5)
    mean = torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1)
    with torch.no_grad():
        h = model.fea_conv(x * 255 - mean * 255)  # EDSR sub_mean at rgb_range 255
        res = model.LR_conv(model.blocks[1](model.blocks[0](h))) + h
        y = model.upsampler(res) + mean * 255  # add_mean
        assert torch.allclose(model(x), y / 255, atol=1e-5)


def test_bilinear_input_skip_is_parameter_free_and_bilinear():
    from nas.primitives import BilinearUpsample

    cfg = ArchConfig(scale=3, nf=8, blocks=[ResBlockConfig()], fusion="conv3x3", input_skip="bilinear")
    plain = cfg.replace(input_skip="none")
    model = build_model(cfg).eval()
    assert n_params(model) == n_params(build_model(plain))
    x = torch.rand(1, 3, 5, 4)
    up = F.interpolate(x, scale_factor=3, mode="bilinear", align_corners=False)
    assert torch.equal(BilinearUpsample(3)(x), up)
    with torch.no_grad():
        body = model.upsampler(model.LR_conv(model.blocks[0](model.fea_conv(x))) + model.fea_conv(x))
        assert torch.allclose(model(x), body + up, atol=1e-6)
