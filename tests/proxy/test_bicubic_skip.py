"""The proxy-only bicubic skip (``ProxyProfile.skip``, issue 18): training starts at
interpolation quality, and the network that is costed, checkpointed and exported is untouched."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from nas.arch import REFERENCES, reference_config
from nas.arch.ground_truth import GROUND_TRUTH
from nas.errors import NasError
from nas.models import build_model
from nas.proxy.data import load_proxy_data
from nas.proxy.profiles import PROFILES, ProxyProfile, same_protocol
from nas.proxy.train import BicubicSkip, train_segment, with_skip


def _config(name: str, scale: int):
    return reference_config(name, scale) if name in REFERENCES else GROUND_TRUTH[name].build(scale)


@pytest.mark.parametrize("name,scale", [("imdn", 4), ("ecbsr_m4c16_rgb", 4), ("ecbsr_m4c8", 4),
                                        ("lightrlfn_ntire24", 4), ("vdsr", 4), ("vdsr", 3)])
def test_zero_network_under_the_skip_is_bicubic_upsampling(name, scale):
    """With every weight zero the wrapped network *is* bicubic upsampling: a network's own
    interpolating input skip (ECBSR's nearest, LightRLFN's bilinear, VDSR's bicubic on its
    pre-upsampled input) is replaced, not added to (RGB and Y-only networks)."""
    cfg = _config(name, scale)
    net = build_model(cfg)
    wrapped = with_skip(net, "bicubic", scale)
    assert isinstance(wrapped, BicubicSkip) and wrapped.colors == cfg.colors
    assert wrapped.replaced_skip == (None if cfg.input_skip == "none" else cfg.input_skip)
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        x = torch.rand(2, cfg.colors, 16, 15)
        want = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
        assert torch.allclose(wrapped(x), want, atol=1e-6)


def test_a_learned_skip_is_kept():
    """AWSRN's skip is a conv with weights: the proxy adds bicubic beside it, it replaces nothing."""
    wrapped = with_skip(build_model(reference_config("awsrn_s", 4)), "bicubic", 4)
    assert wrapped.replaced_skip is None


def test_skip_none_is_the_network_itself_and_unknown_skips_are_refused():
    net = build_model(reference_config("imdn", 4))
    assert with_skip(net, "none", 4) is net
    with pytest.raises(ValueError, match="unknown proxy skip"):
        with_skip(net, "nearest", 4)
    with pytest.raises(NasError, match="skip must be one of"):
        ProxyProfile("x", iters=2, skip="lanczos")


@pytest.fixture(scope="module")
def tiny_data():
    """The built-in photographs at x4, cropped small (the smoke profile's validation side)."""
    return load_proxy_data(4, PROFILES["smoke"])


def test_training_under_the_skip_trains_the_network_in_place_and_leaves_it_unwrapped(tiny_data):
    """``train_segment`` wraps the network for the proxy only: the parameters that change are the
    network's own, its ``state_dict`` keys are unchanged (checkpoints and export see no
    wrapper), and the validation PSNR is the wrapped network's (at interpolation level)."""
    prof = dataclasses.replace(PROFILES["smoke"], skip="bicubic")
    torch.manual_seed(0)
    net = build_model(reference_config("ecbsr_m4c16_rgb", 4))
    keys = list(net.state_dict())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    res, state = train_segment(net, tiny_data, prof, start=0, stop=3)
    assert list(net.state_dict()) == keys and not isinstance(net, BicubicSkip)
    assert any(not torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert res.iters == 3 and res.psnr_db > 15.0
    # the Adam state continues on the bare network (a promoted rung resumes from it)
    res2, _ = train_segment(net, tiny_data, prof, start=3, stop=5, optimizer_state=state)
    assert res2.iters == 5


def test_skip_is_part_of_the_protocol_and_old_studies_mean_none():
    h = PROFILES["halving"]
    skip = dataclasses.replace(h, skip="bicubic")
    assert not same_protocol(h, skip)
    stored_before = {k: v for k, v in h.to_dict().items() if k != "skip"}
    assert same_protocol(stored_before, h) and not same_protocol(stored_before, skip)
