"""``nas eval --metric rgb``: the NTIRE challenges' PSNR (8-bit RGB, ``scale`` px shaved)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nas.data import write_image
from nas.evaluation import evaluate_dataset


class Nearest(nn.Module):
    """x4 nearest upsampling: a network whose output is known exactly."""

    colors, scale = 3, 4

    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest")


def test_rgb_psnr_with_border_4_equals_a_hand_computation(tmp_path):
    rng = np.random.default_rng(0)
    lr = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    hr = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    (tmp_path / "HR").mkdir()
    (tmp_path / "LR_bicubic" / "X4").mkdir(parents=True)
    write_image(tmp_path / "HR" / "img.png", hr)
    write_image(tmp_path / "LR_bicubic" / "X4" / "imgx4.png", lr)
    res = evaluate_dataset(Nearest(), tmp_path, 4, metric="rgb")
    sr = lr.repeat(4, axis=0).repeat(4, axis=1).astype(np.float64)
    mse = np.mean((sr[4:-4, 4:-4] - hr[4:-4, 4:-4].astype(np.float64)) ** 2)  # all three channels
    assert res["psnr_db"] == pytest.approx(10 * np.log10(255.0 ** 2 / mse), abs=1e-9)
    y = evaluate_dataset(Nearest(), tmp_path, 4, metric="y")
    assert y["psnr_db"] != pytest.approx(res["psnr_db"], abs=1e-3)  # a different convention
    with pytest.raises(ValueError, match="metric"):
        evaluate_dataset(Nearest(), tmp_path, 4, metric="lab")
