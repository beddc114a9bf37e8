"""The bicubic floor of the validation images (``nas.proxy.train.bicubic_psnr``)."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data import rgb_to_y
from nas.data.bicubic import bicubic_downscale, imresize
from nas.proxy.data import ProxyData
from nas.proxy.train import bicubic_psnr
from nas.data.datasets import ImagePair


def _pair(seed: int, scale: int) -> ImagePair:
    rng = np.random.default_rng(seed)
    hr = (rng.random((8 * scale, 12 * scale, 3)) * 255).astype(np.uint8)
    return ImagePair(name=f"img{seed}", hr=hr, lr=bicubic_downscale(hr, scale))


@pytest.mark.parametrize("scale", [2, 4])
def test_bicubic_psnr_against_a_hand_computation(scale):
    pairs = [_pair(0, scale), _pair(1, scale)]
    data = ProxyData(scale=scale, train=pairs, val=pairs, source="hand")
    ys, rgb = [], []
    for p in pairs:
        up, s = imresize(p.lr, scale), scale  # uint8, MATLAB bicubic
        assert up.dtype == np.uint8 and up.shape == p.hr.shape
        dy = rgb_to_y(up)[s:-s, s:-s] - rgb_to_y(p.hr)[s:-s, s:-s]  # BT.601 Y of the 8-bit images
        ys.append(10 * np.log10(255.0 ** 2 / np.mean(dy ** 2)))
        drgb = up[s:-s, s:-s].astype(np.float64) - p.hr[s:-s, s:-s]
        rgb.append(10 * np.log10(255.0 ** 2 / np.mean(drgb ** 2)))
    assert bicubic_psnr(data) == pytest.approx(np.mean(ys), abs=1e-6)
    assert bicubic_psnr(data, "rgb") == pytest.approx(np.mean(rgb), abs=1e-6)
    with pytest.raises(ValueError, match="metric"):
        bicubic_psnr(data, "lab")
