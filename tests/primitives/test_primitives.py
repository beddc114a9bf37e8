"""Primitives: exact parameter counts of the published blocks, shapes, gradients, ECB merging."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas.primitives import (
    ACTIVATIONS,
    AWMS,
    AWRU,
    ECB,
    ECBBlock,
    ECBUpsampler,
    ESA,
    ESA_MIN_SIZE,
    IMDB,
    LFB,
    RFDB,
    CCALayer,
    NearestUpsample,
    PixelShuffleUpsampler,
    Scale,
    conv,
    make_activation,
    make_attention,
)
from nas.primitives.cca import contrast
from nas.primitives.ecb import Conv1x1Conv3x3, Conv1x1Edge


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------------- layers
def test_activation_table_and_unknown_name():
    assert set(ACTIVATIONS) == {"lrelu", "relu", "prelu", "silu", "gelu", "tanh"}
    lrelu = make_activation("lrelu", 8)
    assert isinstance(lrelu, nn.LeakyReLU) and lrelu.negative_slope == 0.05
    assert n_params(make_activation("prelu", 8)) == 8
    gelu = make_activation("gelu", 8)  # BSRN's nn.GELU(): the exact erf form
    assert isinstance(gelu, nn.GELU) and gelu.approximate == "none"
    assert isinstance(make_activation("tanh", 8), nn.Tanh)  # ESPCN (Shi et al., CVPR 2016, §2.1)
    with pytest.raises(ValueError, match="unknown activation 'mish'.*lrelu, relu, prelu, silu, gelu, tanh"):
        make_activation("mish", 8)
    with pytest.raises(ValueError, match="unknown attention 'se'.*esa, cca, none"):
        make_attention("se", 8)


@pytest.mark.parametrize("k", [1, 3, 5, 9])
def test_conv_same_padding_and_weight_norm_counts(k):
    x = torch.rand(1, 3, 11, 6)
    assert conv(3, 7, k)(x).shape == (1, 7, 11, 6)
    assert conv(3, 7, k, stride=2)(x).shape == (1, 7, 6, 3)
    assert n_params(conv(3, 7, k, bias=False)) == 3 * 7 * k * k
    wn = conv(3, 7, k, weight_norm=True)
    names = dict(wn.named_parameters())
    # g (one per output channel) + v + bias: the paper's AWSRN counts include g
    assert names["parametrizations.weight.original0"].shape == (7, 1, 1, 1)
    assert names["parametrizations.weight.original1"].shape == (7, 3, k, k)
    assert n_params(wn) == 3 * 7 * k * k + 7 + 7
    assert wn(x).shape == (1, 7, 11, 6)


# ---------------------------------------------------------------------- attention
def test_cca_counts_and_contrast_is_population_std():
    assert n_params(CCALayer(64, 16)) == 580
    assert n_params(CCALayer(48, 4)) == 1212
    x = torch.rand(2, 5, 7, 9)
    assert torch.allclose(contrast(x)[..., 0, 0], x.flatten(2).std(dim=2, unbiased=False), atol=1e-6)
    assert CCALayer(5, 2)(x).shape == x.shape
    with pytest.raises(ValueError, match="0 channels"):
        CCALayer(8, 16)


def test_esa_count_names_and_minimum_size():
    esa = ESA(50)
    assert n_params(esa) == 6650
    names = {n for n, _ in esa.named_children()}
    assert names == {"conv1", "conv_f", "conv_max", "conv2", "conv3", "conv3_", "conv4"}
    assert esa.conv2.stride == (2, 2) and esa.conv2.padding == (0, 0)
    x = torch.rand(1, 50, ESA_MIN_SIZE, 23)
    assert esa(x).shape == x.shape
    with pytest.raises(ValueError, match="at least 15x15 px, got 14x23"):
        esa(torch.rand(1, 50, 14, 23))


# ---------------------------------------------------------------------- distillation blocks
def test_rfdb_defaults_are_the_released_block():
    block = RFDB(50)
    assert n_params(block) == 94450
    assert n_params(block.esa) == 6650
    names = [n for n, _ in block.named_children() if n != "act"]
    assert names == ["c1_d", "c1_r", "c2_d", "c2_r", "c3_d", "c3_r", "c4", "c5", "esa"]
    assert block.c1_d.out_channels == 25 and block.c5.in_channels == 100


def test_rfdb_paper_form_and_stages():
    assert n_params(RFDB(48, attention="cca", cca_reduction=4, residual=True)) == 82140
    block = RFDB(16, stages=2, distill_ratio=0.25, attention="none")
    assert block.c3.out_channels == 4 and block.c4.in_channels == 12
    with pytest.raises(ValueError, match="0 distilled"):
        RFDB(8, distill_ratio=0.01)


def test_rfdb_pfa_is_spans_parameter_free_attention_on_the_fusion():
    """``pfa`` (NTIRE 2026 team 09's RFDB_PFA): out = (h + x) * (sigmoid(h) - 0.5), h the 1x1
    fusion output; no parameters beyond the attention-free block, and no extra residual."""
    torch.manual_seed(0)
    block = RFDB(16, attention="pfa").eval()
    assert n_params(block) == n_params(RFDB(16, attention="none"))
    x = torch.randn(2, 16, 9, 11)
    fused = {}
    block.c5.register_forward_hook(lambda mod, inp, out: fused.setdefault("h", out))
    with torch.no_grad():
        y = block(x)
    h = fused["h"]
    torch.testing.assert_close(y, (h + x) * (torch.sigmoid(h) - 0.5))
    with pytest.raises(ValueError, match="already adds the block input"):
        RFDB(16, attention="pfa", residual=True)


def test_rfdb_refine_conv_and_dilations():
    """``refine: conv`` drops the SRB identity (r = act(c_r(r))); ``dilations`` dilate each refine
    conv with padding = dilation (NTIRE 2022 team 13's RFDN_dilated: 1, 2, 5); neither adds a
    parameter."""
    torch.manual_seed(0)
    srb, plain = RFDB(8, attention="none").eval(), RFDB(8, attention="none", refine="conv").eval()
    plain.load_state_dict(srb.state_dict())
    x = torch.randn(1, 8, 6, 7)
    act = nn.LeakyReLU(0.05)
    with torch.no_grad():
        r1_srb, r1_plain = act(srb.c1_r(x) + x), act(srb.c1_r(x))
        assert torch.allclose(act(srb.c1_d(x)), act(plain.c1_d(x)))
        hooks = {}
        srb.act["c1_r"].register_forward_hook(lambda m, i, o: hooks.setdefault("srb", o))
        plain.act["c1_r"].register_forward_hook(lambda m, i, o: hooks.setdefault("plain", o))
        srb(x), plain(x)
    torch.testing.assert_close(hooks["srb"], r1_srb)
    torch.testing.assert_close(hooks["plain"], r1_plain)
    dil = RFDB(8, attention="none", dilations=(1, 2, 5))
    assert [(c.dilation, c.padding) for c in (dil.c1_r, dil.c2_r, dil.c3_r)] == [((1, 1), (1, 1)), ((2, 2), (2, 2)),
                                                                              ((5, 5), (5, 5))]
    assert n_params(dil) == n_params(srb) == n_params(plain)
    assert dil(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)
    with pytest.raises(ValueError, match="2 dilations for 3"):
        RFDB(8, dilations=(1, 2))
    with pytest.raises(ValueError, match="refine"):
        RFDB(8, refine="dense")


def test_imdb_defaults_are_the_imdn_block():
    block = IMDB(64)
    assert n_params(block) == 104020
    names = [n for n, _ in block.named_children() if n != "act"]
    assert names == ["c1", "c2", "c3", "c4", "c5", "cca"]
    # IMDN_RTC's IMDModule_speed: nf 12, no CCA: 3,678 params
    assert n_params(IMDB(12, attention="none")) == 3678
    with pytest.raises(ValueError, match="remaining"):
        IMDB(8, distill_ratio=0.99)


# ---------------------------------------------------------------------- AWSRN
def test_awsrn_units():
    s = Scale(0.25)
    assert n_params(s) == 1 and s(torch.ones(2)).tolist() == [0.25, 0.25]
    c, b = 32, 128
    assert n_params(AWRU(c, b, weight_norm=False)) == 18 * c * b + b + c + 2
    assert n_params(AWRU(c, b, weight_norm=True)) == 18 * c * b + 2 * (b + c) + 2
    lfb = LFB(c, n_awru=4, expansion=4, weight_norm=True)
    assert [n for n, _ in lfb.named_children()] == ["b0", "b1", "b2", "b3", "reduction", "res_scale", "x_scale"]
    assert n_params(lfb) == 4 * n_params(AWRU(c, b)) + 9 * 4 * c * c + 2 * c + 2
    awms = AWMS(c, 3, 2, weight_norm=False)
    assert all(getattr(awms, f"scale_k{k}").scale.item() == 0.25 for k in (3, 5, 7, 9))
    assert n_params(awms) == (9 + 25 + 49 + 81) * c * 12 + 4 * 12 + 4
    x = torch.rand(1, c, 9, 13)
    assert lfb(x).shape == x.shape
    assert awms(x).shape == (1, 3, 18, 26)


# ---------------------------------------------------------------------- ECB
def _randomise(module: nn.Module) -> nn.Module:
    """Non-trivial weights everywhere, including the edge scales / biases and PReLU slopes."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.requires_grad:
                p.normal_(0.0, 0.1)
    return module


@pytest.mark.parametrize(
    "cin, cout, dm, act, idt",
    [(8, 8, 2.0, "prelu", False), (1, 16, 2.0, "prelu", False), (16, 12, 2.0, None, False),
     (6, 6, 1.5, "relu", True), (5, 9, 0.5, "lrelu", False)],
)
def test_ecb_reparameterised_equals_multi_branch(cin, cout, dm, act, idt):
    ecb = _randomise(ECB(cin, cout, dm, act=act, with_idt=idt)).eval()
    x = torch.randn(2, cin, 9, 14)
    with torch.no_grad():
        y = ecb(x)
        fused = ecb.reparameterize()
        assert isinstance(fused, nn.Conv2d) and fused.kernel_size == (3, 3)
        assert ecb.deployed and not hasattr(ecb, "conv1x1_3x3")
        assert ecb.reparameterize() is fused  # one-way, idempotent
        assert (ecb(x) - y).abs().max().item() < 1e-5


@pytest.mark.parametrize("kind", ["sobelx", "sobely", "laplacian"])
def test_ecb_branch_merges_exactly(kind):
    for branch in (_randomise(Conv1x1Edge(4, 6, kind)), _randomise(Conv1x1Conv3x3(4, 6, 2.0))):
        x = torch.randn(1, 4, 7, 8)
        k, b = branch.merged()
        with torch.no_grad():
            assert (F.conv2d(x, k, b, padding=1) - branch(x)).abs().max().item() < 1e-5


def test_ecb_masks_are_frozen_parameters_and_counted():
    ecb = ECB(8, 8, 2.0, act="prelu")
    masks = [p for n, p in ecb.named_parameters() if n.endswith("mask")]
    assert len(masks) == 3 and all(not m.requires_grad for m in masks)
    assert ecb.conv1x1_sbx.mask[0, 0].tolist() == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    assert ecb.conv1x1_lpl.mask[3, 0].tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert ecb.conv1x1_sby.scale.abs().max() < 1e-2 and ecb.conv1x1_sby.bias.abs().max() < 1e-2
    # train form: 3x3 + 1x1-3x3 (mid 16) + 3 edge branches (1x1 + scale + bias + 9-value mask) + PReLU
    assert n_params(ecb) == (9 * 64 + 8) + (8 * 16 + 16 + 9 * 16 * 8 + 8) + 3 * (64 + 8 + 8 + 8 + 72) + 8
    ecb.eval().reparameterize()
    assert n_params(ecb) == 9 * 64 + 8 + 8


# ---------------------------------------------------------------------- upsamplers
@pytest.mark.parametrize("s", [2, 3, 4])
def test_upsamplers(s):
    x = torch.rand(1, 8, 5, 7)
    assert PixelShuffleUpsampler(8, 3, s)(x).shape == (1, 3, 5 * s, 7 * s)
    assert ECBUpsampler(8, 1, s)(x).shape == (1, 1, 5 * s, 7 * s)
    img = torch.rand(2, 3, 5, 7)
    assert torch.equal(NearestUpsample(s)(img), F.interpolate(img, scale_factor=s, mode="nearest"))


# ---------------------------------------------------------------------- every block: shape + grads
BLOCKS = {
    "rfdb_esa": lambda: RFDB(16),
    "rfdb_cca_res": lambda: RFDB(16, stages=2, attention="cca", cca_reduction=4, residual=True, act="prelu"),
    "imdb_cca": lambda: IMDB(16, cca_reduction=4),
    "imdb_none_silu": lambda: IMDB(16, stages=4, attention="none", act="silu"),
    "lfb": lambda: LFB(8, n_awru=2, expansion=2),
    "ecb_block": lambda: ECBBlock(8, depth=2, residual=True),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_shape_and_finite_grads(name):
    block = BLOCKS[name]()
    channels = next(m for m in block.modules() if isinstance(m, nn.Conv2d)).in_channels
    x = torch.rand(2, channels, 17, 23, requires_grad=True)
    y = block(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    grads = [p.grad for p in block.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert torch.isfinite(x.grad).all()
