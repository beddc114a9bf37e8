"""BT.601 Y as MATLAB rgb2ycbcr (numpy and torch) and modcrop."""

import numpy as np
import pytest
import torch

from nas.data import modcrop, rgb_to_y, rgb_to_y_torch


def test_white_and_black_are_235_and_16():
    white, black = np.full((1, 1, 3), 255, np.uint8), np.zeros((1, 1, 3), np.uint8)
    assert rgb_to_y(white)[0, 0] == pytest.approx(235.0, abs=1e-9)
    assert rgb_to_y(black)[0, 0] == pytest.approx(16.0)


def test_uint8_and_float_inputs_agree_with_the_formula():
    img = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    r, g, b = (img[..., i] / 255.0 for i in range(3))
    expected = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    y = rgb_to_y(img)
    assert y.shape == (6, 7) and y.dtype == np.float64
    np.testing.assert_allclose(y, expected, atol=1e-12)
    np.testing.assert_allclose(rgb_to_y(img / 255.0), expected, atol=1e-12)
    assert not np.array_equal(y, np.round(y))  # float Y, not rounded


def test_torch_variant_matches_numpy():
    img = np.random.default_rng(1).integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)
    t = torch.from_numpy(img).permute(0, 3, 1, 2).float() / 255  # (N, 3, H, W) in [0, 1]
    y = rgb_to_y_torch(t)
    assert y.shape == (2, 1, 5, 4) and y.dtype == torch.float32
    np.testing.assert_allclose(y[:, 0].numpy(), rgb_to_y(img), atol=1e-4)
    assert torch.equal(rgb_to_y(t), y)  # rgb_to_y passes tensors on
    assert rgb_to_y_torch(torch.from_numpy(img[0]).permute(2, 0, 1)).shape == (1, 5, 4)  # uint8 (3, H, W)
    t.requires_grad_(True)
    rgb_to_y_torch(t).sum().backward()
    assert t.grad is not None


def test_wrong_channel_axis_is_rejected():
    with pytest.raises(ValueError, match=r"\(4, 4, 4\)"):
        rgb_to_y(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match=r"\(1, 4, 4, 3\)"):
        rgb_to_y_torch(torch.zeros(1, 4, 4, 3))


def test_modcrop():
    img = np.zeros((50, 62, 3))
    assert modcrop(img, 4).shape == (48, 60, 3)
    assert modcrop(img[..., 0], 3).shape == (48, 60)
    assert modcrop(img, 1).shape == img.shape
    with pytest.raises(ValueError):
        modcrop(img, 0)
