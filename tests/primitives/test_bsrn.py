"""BSRN's primitives: BSConv-U, the BSConv / GELU ESA and the ESDB, against the counts of the
authors' modules (xiaom233/BSRN basicsr/archs/BSRN_arch.py, rfdnfinalB5_arch.py, Blocks.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas.arch import ArchConfig
from nas.errors import ArchConfigError
from nas.models import build_model
from nas.primitives import ESA, ESDB, BSConvU
from nas.primitives.bsconv import RepeatedInputBSConvU


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_bsconvu_is_pointwise_then_depthwise():
    m = BSConvU(8, 16)
    assert m.pw.kernel_size == (1, 1) and m.pw.bias is None and m.pw.out_channels == 16
    assert m.dw.kernel_size == (3, 3) and m.dw.groups == 16 and m.dw.bias is not None
    assert n_params(BSConvU(64, 64)) == 4_736 and n_params(BSConvU(64, 64, pw_bias=True)) == 4_800
    x = torch.rand(2, 8, 9, 10)
    assert torch.allclose(m(x), m.dw(m.pw(x)))
    assert m(x).shape == (2, 16, 9, 10)
    assert BSConvU(8, 8, 3, stride=2, padding=0)(x).shape == (2, 8, 4, 4)  # BSRN's ESA conv2


def test_bsrn_head_repeats_the_input_four_times():
    head = RepeatedInputBSConvU(3, 64)
    assert head.pw.in_channels == 12 and n_params(head) == 1_408
    x = torch.rand(1, 3, 6, 7)
    assert torch.equal(head(x), BSConvU.forward(head, torch.cat([x, x, x, x], 1)))


@pytest.mark.parametrize("kwargs, channels, count", [
    ({}, 50, 6_650),  # RFDN's ESA unchanged
    ({"act": "gelu", "bsconv": "all"}, 64, 4_064),  # BSRN_arch.py ESA(64, BSConvU)
    ({"act": "gelu", "bsconv": "unstrided", "pw_bias": True}, 48, 3_504),  # rfdnfinalB5_arch.py ESA(48)
])
def test_esa_variants_have_the_authors_counts(kwargs, channels, count):
    esa = ESA(channels, **kwargs)
    assert n_params(esa) == count
    assert esa(torch.rand(1, channels, 15, 16)).shape == (1, channels, 15, 16)


def test_esa_gelu_differs_from_relu_and_unknown_names_are_refused():
    a, b = ESA(16, act="relu"), ESA(16, act="gelu")
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 16, 20, 20)
    assert not torch.allclose(a(x), b(x))
    with pytest.raises(ValueError, match="unknown activation 'tanh'"):
        ESA(16, act="tanh")
    with pytest.raises(ValueError, match="unknown bsconv 'some'.*none, all, unstrided"):
        ESA(16, bsconv="some")


def test_esdb_counts_and_shape():
    assert n_params(ESDB(64)) == 35_716  # BSRN_arch.py ESDB(64, 64, BSConvU)
    small = ESDB(48, pw_bias=True, cca=False, out_conv=True, esa_bsconv="unstrided")
    assert n_params(small) == 24_000  # rfdnfinalB5_arch.py RFDB(48, 48, conv=Blocks.BSConvU)
    assert small.cw.shape == (1, 48) and not hasattr(small, "cca")
    x = torch.rand(1, 48, 15, 17)
    y = small(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert all(p.grad is not None for p in small.parameters())


def test_esdb_forward_follows_the_figure():
    """ESDB(x) written out with the module's own layers (Fig. 2 / BSRN_arch.py ESDB.forward)."""
    m = ESDB(16).eval()
    x = torch.randn(1, 16, 16, 16)
    d1, r1 = F.gelu(m.c1_d(x)), F.gelu(m.c1_r(x) + x)
    d2, r2 = F.gelu(m.c2_d(r1)), F.gelu(m.c2_r(r1) + r1)
    d3, r3 = F.gelu(m.c3_d(r2)), F.gelu(m.c3_r(r2) + r2)
    out = m.cca(m.esa(m.c5(torch.cat([d1, d2, d3, F.gelu(m.c4(r3))], 1)))) + x
    with torch.no_grad():
        assert torch.allclose(m(x), out)


def test_esdb_width_errors_name_the_block():
    with pytest.raises(ValueError, match="even C >= 16"):
        ESDB(15)
    cfg = ArchConfig(scale=2, nf=14, blocks=[{"type": "esdb"}])
    with pytest.raises(ArchConfigError, match=r"blocks\.0: esdb needs an even nf >= 16"):
        build_model(cfg)
    build_model(cfg.replace(blocks=[{"type": "esdb", "cca": False}]))  # no CCA: nf 14 is enough


def test_bsrn_network_pieces():
    cfg = ArchConfig(scale=3, nf=16, head="bsconv", blocks=[{"type": "esdb", "pw_bias": True}] * 2,
                     fusion="bsrn", fusion_act="gelu")
    model = build_model(cfg)
    assert model.fea_conv.pw.in_channels == 12 and model.fea_conv.pw.bias is not None  # from the first esdb
    assert isinstance(model.LR_conv, BSConvU) and model.LR_conv.pw.bias is not None
    assert isinstance(model.c[1], nn.GELU) and model.c[0].in_channels == 32
    assert model.min_input_size == 15
    assert model(torch.rand(1, 3, 15, 16)).shape == (1, 3, 45, 48)
    assert "fusion_act" in cfg.canonical()  # it changes the bsrn fusion, so it is part of arch_id
    assert cfg.replace(fusion_act="lrelu").arch_id != cfg.arch_id
