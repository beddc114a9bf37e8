"""nas eval: Y-channel PSNR/SSIM conventions, LR sources, JSON format, and the IMDN acceptance numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nas.arch import ArchConfig, reference_config
from nas.checkpoints import load_model, save_checkpoint
from nas.data import write_image
from nas.evaluation import evaluate_dataset, psnr_plane, rgb_to_ycbcr, ssim_plane, super_resolve, ycbcr_to_rgb
from nas.metrics import psnr_y, ssim_y
from nas.models import build_model
from tests.evaluation.helpers import make_benchmark, run_cli, smooth_image
from tests.shared_paths import SHARED, require_benchmark_set

TINY = {"scale": 2, "nf": 8, "blocks": [{"type": "rfdb", "attention": "none"}]}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


class Bicubic(torch.nn.Module):
    """A parameter-free "network": torch bicubic upsampling (a sensible SR baseline, ~25-30 dB)."""

    colors = 3

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)


@pytest.fixture()
def tiny():
    cfg = ArchConfig.from_dict(TINY)
    return cfg, build_model(cfg).eval()


# ---------------------------------------------------------------------- metric conventions
def test_plane_metrics_equal_the_rgb_metrics_of_nas_metrics():
    a, b = smooth_image(40, 44, 1), smooth_image(40, 44, 2)
    from nas.data import rgb_to_y

    ya, yb = rgb_to_y(a)[3:-3, 3:-3], rgb_to_y(b)[3:-3, 3:-3]
    assert psnr_plane(ya, yb) == pytest.approx(psnr_y(a, b, 3), abs=1e-9)
    assert ssim_plane(ya, yb) == pytest.approx(ssim_y(a, b, 3), abs=1e-9)
    assert psnr_plane(ya, ya) == float("inf") and ssim_plane(ya, ya) == pytest.approx(1.0)


def test_ycbcr_round_trip_and_matlab_luma():
    img = smooth_image(9, 11, 3)
    ycc = rgb_to_ycbcr(img)
    from nas.data import rgb_to_y

    assert np.allclose(ycc[..., 0], rgb_to_y(img))
    assert np.allclose(ycbcr_to_rgb(ycc) * 255.0, img, atol=1e-9)


# ---------------------------------------------------------------------- datasets
def test_result_format_and_per_image_values(tmp_path, tiny):
    cfg, model = tiny
    folder = make_benchmark(tmp_path / "Synth", 2)
    res = evaluate_dataset(model, folder, 2)
    assert set(res) == {"psnr_db", "ssim", "per_image"}
    assert list(res["per_image"]) == ["img0", "img1"]
    for v in res["per_image"].values():
        assert set(v) == {"psnr_db", "ssim"} and np.isfinite(v["psnr_db"])
    assert res["psnr_db"] == pytest.approx(np.mean([v["psnr_db"] for v in res["per_image"].values()]))


def test_shipped_lr_is_used_and_bicubic_lr_forces_ours(tmp_path):
    model = Bicubic(2)
    folder = make_benchmark(tmp_path / "Synth", 2)
    ours = evaluate_dataset(model, folder, 2, bicubic_lr=True)
    shipped_same = evaluate_dataset(model, folder, 2)
    assert shipped_same == ours  # the shipped LR here is our bicubic, bit for bit
    lr_path = folder / "LR_bicubic" / "X2" / "img0x2.png"
    from nas.data import read_image

    write_image(lr_path, 255 - read_image(lr_path))  # a shipped LR that is not the bicubic one
    shipped = evaluate_dataset(model, folder, 2)
    assert shipped["per_image"]["img0"]["psnr_db"] < ours["per_image"]["img0"]["psnr_db"] - 3
    assert shipped["per_image"]["img1"] == ours["per_image"]["img1"]
    assert evaluate_dataset(model, folder, 2, bicubic_lr=True) == ours


def test_hr_only_folder_uses_our_bicubic(tmp_path):
    model = Bicubic(2)
    with_lr = evaluate_dataset(model, make_benchmark(tmp_path / "A", 2), 2)
    hr_only = evaluate_dataset(model, make_benchmark(tmp_path / "B", 2, shipped_lr=False), 2)
    assert with_lr == hr_only


def test_y_only_network_is_scored_on_its_y(tmp_path):
    model = build_model(reference_config("ecbsr_m4c8", 2)).eval()
    folder = make_benchmark(tmp_path / "Synth", 2)
    res = evaluate_dataset(model, folder, 2)
    assert np.isfinite(res["psnr_db"])
    lr = smooth_image(10, 12, 5)
    rgb = super_resolve(model, lr, 2, colors=1)
    assert rgb.shape == (20, 24, 3) and rgb.dtype == np.uint8


def test_rounded_y_convention_differs_slightly(tmp_path):
    model = Bicubic(2)
    folder = make_benchmark(tmp_path / "Synth", 2)
    a = evaluate_dataset(model, folder, 2)["psnr_db"]
    b = evaluate_dataset(model, folder, 2, y_convention="rounded")["psnr_db"]
    assert a != b and abs(a - b) < 0.5


# ---------------------------------------------------------------------- CLI
def test_cli_json_is_exactly_the_documented_shape(tmp_path, tiny, monkeypatch, capsys):
    cfg, model = tiny
    ckpt = save_checkpoint(tmp_path / "m.pt", model, cfg)
    a = make_benchmark(tmp_path / "SetA", 2)
    b = make_benchmark(tmp_path / "SetB", 2, sizes=((30, 30),))
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--weights", ckpt, "--data", a, "--data", b,
                             "--scale", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["SetA", "SetB"]
    assert set(data["SetA"]) == {"psnr_db", "ssim", "per_image"}
    assert set(data["SetB"]["per_image"]) == {"img0"}
    assert set(data["SetB"]["per_image"]["img0"]) == {"psnr_db", "ssim"}
    direct = evaluate_dataset(model, a, 2)
    assert data["SetA"]["psnr_db"] == pytest.approx(direct["psnr_db"], abs=1e-9)
    assert data["SetA"]["per_image"]["img1"] == pytest.approx(direct["per_image"]["img1"], abs=1e-9)


def test_cli_table_and_errors(tmp_path, tiny, monkeypatch, capsys):
    cfg, model = tiny
    ckpt = save_checkpoint(tmp_path / "m.pt", model, cfg)
    folder = make_benchmark(tmp_path / "SetA", 2)
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--weights", ckpt, "--data", folder)
    assert code == 0 and "mean" in out and "img1" in out
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--weights", ckpt, "--data", folder, "--scale", "3")
    assert code == 2 and "x2" in err and "x3" in err
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--weights", tmp_path / "none.pt", "--data", folder)
    assert code == 2 and "none.pt" in err and "not found" in err
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--weights", ckpt, "--data", tmp_path / "nowhere")
    assert code == 2 and "nowhere" in err
    bad = tmp_path / "bad.pth"
    torch.save({"module.fea_conv.weight": torch.zeros(64, 3, 3, 3)}, bad)
    code, out, err = run_cli(monkeypatch, capsys, "eval", "--reference", "imdn", "--scale", "2",
                             "--weights", bad, "--data", folder)
    assert code == 2 and "missing keys" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------- acceptance: the authors' IMDN weights
# Hui et al. 2019 (authors' poster table; shared/reference_models.md §1): Y PSNR / SSIM.
PAPER_IMDN = {
    ("Set5", 2): (38.00, 0.9605), ("Set5", 3): (34.36, 0.9270), ("Set5", 4): (32.21, 0.8948),
    ("Set14", 2): (33.63, 0.9177), ("Set14", 3): (30.32, 0.8417), ("Set14", 4): (28.58, 0.7811),
}


@pytest.mark.shared
@pytest.mark.parametrize("dataset, scale", list(PAPER_IMDN))
def test_authors_imdn_weights_reproduce_the_paper(dataset, scale):
    folder = require_benchmark_set(dataset)
    weights = SHARED / "checkpoints" / "official" / f"IMDN_x{scale}.pth"
    if not weights.is_file():
        pytest.skip(f"{weights} not found: ../shared/checkpoints is absent (set NAS_SHARED_DIR to use it)")
    loaded = load_model(weights, reference="imdn", scale=scale)
    res = evaluate_dataset(loaded.model, folder, scale)
    psnr, ssim = PAPER_IMDN[(dataset, scale)]
    assert res["psnr_db"] == pytest.approx(psnr, abs=0.02), res["psnr_db"]
    assert res["ssim"] == pytest.approx(ssim, abs=0.0006), res["ssim"]


@pytest.mark.shared
def test_our_bicubic_lr_gives_the_same_set5_score():
    """Set5's shipped LR is MATLAB bicubic; ours reproduces it, so the score barely moves."""
    folder = require_benchmark_set("Set5")
    weights = SHARED / "checkpoints" / "official" / "IMDN_x4.pth"
    if not weights.is_file():
        pytest.skip(f"{weights} not found: ../shared/checkpoints is absent (set NAS_SHARED_DIR to use it)")
    model = load_model(weights, reference="imdn", scale=4).model
    shipped = evaluate_dataset(model, folder, 4)["psnr_db"]
    ours = evaluate_dataset(model, folder, 4, bicubic_lr=True)["psnr_db"]
    assert abs(shipped - ours) < 0.02
