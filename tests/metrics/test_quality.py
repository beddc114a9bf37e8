"""Y-PSNR / Y-SSIM with the MATLAB conventions, and the uint8 quantisation of SR outputs."""

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d

from nas.data import rgb_to_y
from nas.metrics import psnr_y, ssim_y, to_uint8


def _noise(h, w, seed):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _y(img):
    img = img.astype(np.float64)
    return 16 + (65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2]) / 255


def test_psnr_identity_is_inf():
    hr = _noise(40, 40, 0)
    assert psnr_y(hr, hr, 4) == float("inf")


def test_psnr_known_value():
    hr = _noise(40, 44, 0)
    sr = np.clip(hr.astype(int) + np.random.default_rng(9).integers(-6, 7, hr.shape), 0, 255).astype(np.uint8)
    d = (_y(sr) - _y(hr))[4:-4, 4:-4]
    assert psnr_y(sr, hr, 4) == pytest.approx(10 * np.log10(255 ** 2 / np.mean(d ** 2)), rel=1e-12)
    # a uniform +2 on R, G and B moves Y by 2 * 219 / 255: PSNR = 20 log10(255 / (2 * 219/255))
    flat = np.full((20, 20, 3), 100, np.uint8)
    assert psnr_y(flat + 2, flat, 0) == pytest.approx(20 * np.log10(255 / (2 * 219 / 255)), rel=1e-12)


def test_crop_border_shaves_each_side():
    hr = np.full((20, 20, 3), 100, np.uint8)
    sr = hr.copy()
    sr[:3] = 0  # only the top 3 rows differ
    assert psnr_y(sr, hr, 3) == float("inf") and psnr_y(sr, hr, 2) < 30


def test_mismatched_or_bad_inputs_raise_value_error():
    hr = _noise(20, 20, 0)
    with pytest.raises(ValueError, match=r"SR \(19, 20, 3\) vs HR \(20, 20, 3\)"):
        psnr_y(hr[:-1], hr, 2)
    with pytest.raises(ValueError, match=r"\(19, 20, 3\).*\(20, 20, 3\)"):
        ssim_y(hr[:-1], hr, 2)
    with pytest.raises(ValueError, match="uint8"):
        psnr_y(hr / 255.0, hr / 255.0, 2)
    with pytest.raises(ValueError, match="empty"):
        psnr_y(hr, hr, 10)
    with pytest.raises(ValueError, match="SSIM window"):
        ssim_y(hr, hr, 5)


def test_ssim_identity_is_one():
    hr = _noise(64, 64, 1)
    assert ssim_y(hr, hr, 2) == pytest.approx(1.0, abs=1e-12)


def _ssim_matlab_direct(x, y):
    """ssim_index.m: filter2(window, x, 'valid') with fspecial('gaussian', 11, 1.5)."""
    ax = np.arange(11) - 5
    w = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * 1.5 ** 2))
    w /= w.sum()
    f = lambda a: convolve2d(a, w[::-1, ::-1], mode="valid")  # noqa: E731  (filter2 = correlation)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
    return np.mean(((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2)))


def test_ssim_matches_the_matlab_formula_and_skimage():
    from skimage.metrics import structural_similarity

    hr = _noise(48, 56, 1)
    sr = np.clip(hr.astype(int) + np.random.default_rng(2).integers(-20, 20, hr.shape), 0, 255).astype(np.uint8)
    ys, yh = rgb_to_y(sr)[2:-2, 2:-2], rgb_to_y(hr)[2:-2, 2:-2]
    ours = ssim_y(sr, hr, 2)
    assert ours == pytest.approx(_ssim_matlab_direct(ys, yh), abs=1e-12)
    _, ssim_map = structural_similarity(ys, yh, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=255, full=True)
    # skimage pads at the borders, MATLAB and we use 'valid' filtering: compare the valid interior
    assert ours == pytest.approx(ssim_map[5:-5, 5:-5].mean(), abs=1e-6)
    assert 0 < ours < 1


def test_to_uint8_rounds_and_clips():
    x = np.array([-0.1, 0.0, 0.5 / 255, 1.49 / 255, 1.5 / 255, 1.0, 1.2, np.nan])
    assert to_uint8(x).tolist() == [0, 0, 1, 1, 2, 255, 255, 0]
    t = torch.tensor([[0.25, 0.75]], requires_grad=True)
    out = to_uint8(t * 1)
    assert out.dtype == np.uint8 and out.tolist() == [[64, 191]]
    assert to_uint8(torch.ones(2, 2, dtype=torch.float16)).tolist() == [[255, 255], [255, 255]]
