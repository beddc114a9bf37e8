"""nas.proxy.features: each zero-cost proxy on a tiny network against a hand computation (issue 31)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from nas.arch.references import reference_config
from nas.proxy import features as F


def _conv(w: float) -> nn.Conv2d:
    c = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        c.weight.fill_(w)
    return c


def test_synflow_two_layer_product():
    # R = sum over the 2x2 ones input of |w2| relu(|w1| x) = 4 |w1 w2|; score = sum |theta| dR/dtheta = 8 |w1 w2|
    net = nn.Sequential(_conv(-0.5), nn.ReLU(), _conv(3.0))
    assert F.synflow(net, (1, 1, 2, 2)) == pytest.approx(math.log10(8 * 1.5))
    assert float(net[0].weight.detach()) == -0.5  # the network itself is untouched


def test_grad_norm_and_snip_of_one_conv():
    net = _conv(2.0)
    x = torch.tensor([[[[1.0, -1.0], [0.5, 2.0]]]])
    h = torch.tensor([[[[1.0, 0.0], [3.0, 0.0]]]])
    # L = mean |w x - h|, dL/dw = mean(sign(w x - h) x)
    g = float(np.mean(np.sign(2.0 * x.numpy() - h.numpy()) * x.numpy()))
    zc = F.zero_cost_proxies(net, x, h, which=("grad_norm", "snip"))
    assert zc["zc_grad_norm"] == pytest.approx(math.log10(abs(g)))
    assert zc["zc_snip"] == pytest.approx(math.log10(abs(2.0 * g)))


def test_naswot_kernel_by_hand():
    net = _conv(1.0)
    # sign codes over the 2 output pixels: [1, 1], [1, 0], [0, 0]; K = U - Hamming, U = 2
    x = torch.tensor([[[[1.0, 2.0]]], [[[1.0, -2.0]]], [[[-1.0, -2.0]]]])
    k = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]], float)
    assert F.naswot(net, x) == pytest.approx(math.log(np.linalg.det(k)))


def test_jacob_cov_against_a_direct_computation():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Conv2d(4, 1, 3, padding=1))
    x = torch.rand(5, 1, 6, 6)
    rows = []
    for i in range(5):
        xi = x[i:i + 1].clone().requires_grad_(True)
        net(xi).sum().backward()
        rows.append(xi.grad.flatten().double().numpy())
    v = np.clip(np.linalg.eigvalsh(np.corrcoef(np.array(rows))), 0, None)
    score = -np.sum(np.log(v + 1e-5) + 1 / (v + 1e-5))
    assert F.jacob_cov(net, x) == pytest.approx(-math.log10(-score), rel=1e-6)


def test_proxies_leave_a_zoo_network_as_it_was():
    from nas.models import build_model

    torch.manual_seed(0)
    net = build_model(reference_config("rfdn", 4).replace(nf=16)).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    lr, hr = torch.rand(4, 3, 12, 12), torch.rand(4, 3, 48, 48)
    zc = F.zero_cost_proxies(net, lr, hr)
    assert set(zc) == {f"zc_{n}" for n in F.ZERO_COST} and all(math.isfinite(v) for v in zc.values())
    assert net.training and all(p.grad is None for p in net.parameters())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    with pytest.raises(ValueError, match="fisher"):
        F.zero_cost_proxies(net, lr, hr, which=("fisher",))


def test_trajectory_and_design_features():
    t = F.trajectory_features([0.4, 0.2, 0.1, 0.05])
    assert t["loss_mean"] == pytest.approx(0.1875) and t["loss_mean_late"] == pytest.approx(0.075)
    assert t["loss_slope"] == pytest.approx(100 * math.log(0.5))  # halves every step
    d = F.design_features(reference_config("erfdn", 4))
    assert d["share_rfdb"] == 1.0 and d["share_attention"] == 1.0 and d["n_blocks"] == 4.0
    e = F.design_features(reference_config("imdn_rtc", 4))  # IMDN_RTC's blocks have no CCA
    assert e["share_attention"] == 0.0 and e["share_imdb"] == 1.0


def test_a_search_trial_measures_the_features_its_calibration_needs():
    """evaluate() keeps the loss trajectory and measures exactly the zero-cost proxies asked for, and
    the search's predict() reads them with the design features (issue 31 §2, §5)."""
    from nas.proxy.data import load_proxy_data
    from nas.proxy.predict import Calibration
    from nas.proxy.profiles import PROFILES
    from nas.scoring.evaluate import evaluate
    from nas.search._trial import predict

    prof = PROFILES["smoke"]
    cfg = reference_config("rfdn", 4).replace(nf=16, blocks=reference_config("rfdn", 4).blocks[:1])
    s = evaluate(cfg, load_proxy_data(4, prof), prof, zero_cost=("zc_synflow", "zc_naswot_t"))
    assert set(s.features) == {"zc_synflow", "zc_naswot_t", "loss_mean", "loss_mean_late", "loss_last", "loss_slope"}
    assert s.timings["zero_cost_s"] > 0
    names = ("psnr", "log10_params", "share_attention", "zc_synflow", "loss_mean")
    cal = Calibration(name="t", scale=4, protocol={}, data="", horizon="", features=names,
                      models={prof.iters: {"intercept": 30.0, "coef": [0.0, 0.0, 1.0, 0.01, 0.0], "sigma_db": 0.1}})
    pred = predict(cal, s.iters, s.psnr_db, s.params, s.mult_adds, 10, cfg, s.features)
    assert pred.psnr_db == pytest.approx(31.0 + 0.01 * s.features["zc_synflow"])
