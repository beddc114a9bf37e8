"""PSNR/SSIM on Y, exact Mult-Adds (fvcore vs thop), latency measurement."""

import numpy as np
import pytest
import torch
from torch import nn

from nas.arch import reference_config
from nas.metrics import count_params, measure_latency, mult_adds, psnr_y, ssim_y, thop_mult_adds, to_uint8
from nas.models import build_model


def test_psnr_y_known_value_and_identity():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    assert psnr_y(hr, hr, 4) == float("inf")
    sr = hr.copy()
    sr[..., :] = np.clip(hr.astype(int) + 2, 0, 255)  # +2 on every channel
    y = lambda im: 16 + (65.481 * im[..., 0] + 128.553 * im[..., 1] + 24.966 * im[..., 2]) / 255  # noqa: E731
    d = (y(sr.astype(float)) - y(hr.astype(float)))[4:-4, 4:-4]
    expected = 10 * np.log10(255 ** 2 / np.mean(d ** 2))
    assert psnr_y(sr, hr, 4) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr_y(sr[:-1], hr, 4)


def test_ssim_y_identity_and_against_skimage():
    from skimage.metrics import structural_similarity

    from nas.data import rgb_to_y

    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    sr = np.clip(hr.astype(int) + rng.integers(-20, 20, hr.shape), 0, 255).astype(np.uint8)
    assert ssim_y(hr, hr, 2) == pytest.approx(1.0)
    ref = structural_similarity(rgb_to_y(sr)[2:-2, 2:-2], rgb_to_y(hr)[2:-2, 2:-2], gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False, data_range=255, full=True)[1]
    # skimage pads at the borders; MATLAB/ours use 'valid' filtering: compare the valid interior
    assert ssim_y(sr, hr, 2) == pytest.approx(ref[5:-5, 5:-5].mean(), abs=1e-6)


def test_to_uint8_rounds_and_clips():
    x = np.array([-0.1, 0.0, 0.5 / 255, 1.5 / 255, 1.0, 1.2])
    assert to_uint8(x).tolist() == [0, 0, 1, 2, 255, 255]


def test_mult_adds_of_one_conv_is_exact():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert mult_adds(conv, 4) == 180 * 320 * 8 * 27  # LR 320x180 for a 1280x720 x4 output
    assert mult_adds(conv, 3) == 240 * 427 * 8 * 27


@pytest.mark.parametrize("name, expected_g", [("imdn", 40.89), ("rfdn", 31.13), ("erfdn", 23.76)])
def test_reference_mult_adds_fvcore_and_thop(name, expected_g):
    model = build_model(reference_config(name, 4))
    fv, th = mult_adds(model, 4), thop_mult_adds(model, 4)
    # reference_models.md: conv-only MACs @1280x720 (IMDN 40.89G, RFDN 31.13G, E-RFDN 23.76G)
    assert fv / 1e9 == pytest.approx(expected_g, abs=0.015)
    # thop counts the same convs; fvcore adds ESA's bilinear upsampling (functional, thop misses it)
    assert abs(fv - th) / fv < 0.003


def test_latency_leaves_the_model_alone():
    model = build_model(reference_config("erfdn", 4)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lat = measure_latency(model, lr_hw=(32, 32), warmup=1, repeats=3)
    assert lat.median_ms > 0 and lat.repeats == 3 and lat.threads == torch.get_num_threads()
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert next(model.parameters()).is_contiguous()  # not converted to channels_last in place
    assert count_params(model) == 433_448
