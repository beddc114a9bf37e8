"""Deployable exports: safetensors + config round trip, ONNX = torch (1e-4), re-parameterised = multi-branch (1e-5)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from nas.arch import ArchConfig, load_arch_config, reference_config
from nas.checkpoints import PixelRange, load_model, read_safetensors, save_checkpoint
from nas.errors import NasError
from nas.export import ONNX_TOL, REPARAM_TOL, deploy_model, export_model, has_ecb
from nas.models import build_model
from nas.primitives import ECB
from tests.evaluation.helpers import make_benchmark, run_cli


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _randomise_ecbs(model: nn.Module) -> nn.Module:
    """Give the edge branches and PReLUs non-trivial values (their init is ~1e-3, which hides errors)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, ECB):
                for branch in (m.conv1x1_sbx, m.conv1x1_sby, m.conv1x1_lpl):
                    branch.scale.normal_(0.0, 0.2)
                    branch.bias.normal_(0.0, 0.2)
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.0, 0.5)
    return model.eval()


def _ort(path, x: torch.Tensor) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(["sr"], {"lr": x.numpy()})[0]


SEARCHED_ECB = {"scale": 2, "nf": 12, "head": "ecb", "upsampler": "ecb", "input_skip": "nearest",
                "blocks": [{"type": "ecb", "depth": 2, "residual": True}, {"type": "rfdb", "attention": "esa"}]}


# ---------------------------------------------------------------------- re-parameterisation
@pytest.mark.parametrize("config", [reference_config("ecbsr_m4c16", 4), reference_config("ecbsr_m4c8", 2),
                                    ArchConfig.from_dict(SEARCHED_ECB)], ids=["m4c16x4", "m4c8x2", "searched"])
def test_reparameterised_equals_multi_branch(config):
    model = _randomise_ecbs(build_model(config))
    deployed = deploy_model(model)
    assert not any(isinstance(m, ECB) and not m.deployed for m in deployed.modules())
    x = torch.rand(2, config.colors, 19, 23)
    with torch.no_grad():
        diff = (deployed(x) - model(x)).abs().max().item()
    assert diff < REPARAM_TOL, diff
    assert sum(p.numel() for p in deployed.parameters()) < sum(p.numel() for p in model.parameters())


def test_weight_norm_is_folded_and_the_original_untouched():
    model = build_model(reference_config("awsrn_s", 2)).eval()
    deployed = deploy_model(model)
    names = [n for n, _ in deployed.named_parameters()]
    assert not any("parametrizations" in n for n in names)
    x = torch.rand(1, 3, 10, 11)
    with torch.no_grad():
        assert (deployed(x) - model(x)).abs().max().item() < 1e-5
        model(x)  # the original still runs (its parametrised class was not altered)


# ---------------------------------------------------------------------- export_model
@pytest.mark.parametrize("name, scale", [("imdn_rtc", 2), ("erfdn", 4), ("awsrn_sd", 3), ("ecbsr_m4c8", 4)])
def test_export_onnx_matches_torch(tmp_path, name, scale):
    cfg = reference_config(name, scale)
    model = _randomise_ecbs(build_model(cfg))
    res = export_model(model, cfg, tmp_path / f"{name}.yaml", onnx=True)
    assert res.onnx_max_diff is not None and res.onnx_max_diff < ONNX_TOL
    assert res.reparameterized == has_ecb(cfg) and res.reparam_max_diff < REPARAM_TOL
    # dynamic height / width / batch, checked independently of export_model's own check
    x = torch.rand(2, cfg.colors, 17, 26)
    with torch.no_grad():
        ref = model(x).numpy()
    assert np.abs(_ort(res.onnx_path, x) - ref).max() < ONNX_TOL
    assert load_arch_config(res.config_path) == cfg


def test_exported_safetensors_reload_in_deploy_form(tmp_path):
    cfg = reference_config("ecbsr_m4c8", 2)
    model = _randomise_ecbs(build_model(cfg))
    res = export_model(model, cfg, tmp_path / "m.yaml")
    tensors, meta = read_safetensors(res.weights_path)
    assert meta["form"] == "deploy" and meta["reparameterized"] == "true"
    # the weights get the same permissions as the config beside them (safetensors alone writes 0600)
    assert res.weights_path.stat().st_mode & 0o777 == res.config_path.stat().st_mode & 0o777
    assert sum(t.numel() for t in tensors.values()) == res.params_deployed == 2_748  # reference_models.md §4
    loaded = load_model(res.weights_path)
    x = torch.rand(1, 1, 12, 13)
    with torch.no_grad():
        assert (loaded.model(x) - model(x)).abs().max().item() < REPARAM_TOL


def test_pixel_range_wrapper_is_exported(tmp_path):
    cfg = reference_config("erfdn", 4)
    inner = build_model(cfg).eval()
    res = export_model(PixelRange(inner, 255.0), cfg, tmp_path / "erfdn.yaml", onnx=True)
    assert float(read_safetensors(res.weights_path)[1]["pixel_range"]) == 255.0
    x = torch.rand(1, 3, 16, 18)
    with torch.no_grad():
        ref = (inner(x * 255.0) / 255.0).numpy()
    assert np.abs(_ort(res.onnx_path, x) - ref).max() < ONNX_TOL


def test_a_broken_deploy_form_is_refused(tmp_path, monkeypatch):
    import nas.export.deploy as deploy

    real = deploy.deploy_model

    def bad(model):
        d = real(model)
        with torch.no_grad():
            d.upsampler[0].bias.add_(1e-3)
        return d

    monkeypatch.setattr(deploy, "deploy_model", bad)
    cfg = reference_config("imdn_rtc", 2)
    with pytest.raises(NasError, match="deploy form differs"):
        export_model(build_model(cfg), cfg, tmp_path / "m.yaml")


# ---------------------------------------------------------------------- CLI
def test_cli_export_trained_checkpoint_then_eval_it(tmp_path, monkeypatch, capsys):
    cfg = ArchConfig.from_dict(SEARCHED_ECB)
    model = _randomise_ecbs(build_model(cfg))
    ckpt = save_checkpoint(tmp_path / "run" / "best.pt", model, cfg, iteration=10)
    code, _, err = run_cli(monkeypatch, capsys, "export", "--weights", ckpt, "--out", tmp_path / "dep" / "net.yaml",
                           "--onnx")
    assert code == 0, err
    assert {p.name for p in (tmp_path / "dep").iterdir()} == {"net.yaml", "net.safetensors", "net.onnx"}
    assert "max |onnxruntime - torch|" in err and "ECBs merged" in err
    folder = make_benchmark(tmp_path / "SetA", 2)
    code, out_a, err = run_cli(monkeypatch, capsys, "eval", "--weights", ckpt, "--data", folder, "--json")
    assert code == 0, err
    code, out_b, err = run_cli(monkeypatch, capsys, "eval", "--weights", tmp_path / "dep" / "net.safetensors",
                               "--data", folder, "--json")
    assert code == 0, err
    import json

    a, b = json.loads(out_a)["SetA"], json.loads(out_b)["SetA"]
    assert abs(a["psnr_db"] - b["psnr_db"]) < 1e-3


def test_cli_export_official_reference_weights(tmp_path, monkeypatch, capsys):
    src = build_model(reference_config("imdn", 2)).eval()
    official = {"module." + re.sub(r"^blocks\.(\d+)\.", lambda m: f"IMDB{int(m.group(1)) + 1}.", k): v
                for k, v in src.state_dict().items()}
    path = tmp_path / "IMDN_x2.pth"
    torch.save(official, path)
    code, _, err = run_cli(monkeypatch, capsys, "export", "--reference", "imdn", "--scale", "2", "--weights", path,
                           "--out", tmp_path / "imdn_x2.yaml")
    assert code == 0, err
    loaded = load_model(tmp_path / "imdn_x2.safetensors")
    x = torch.rand(1, 3, 9, 8)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), src(x))


def test_cli_export_keeps_reference_behaviour_and_refuses_onnx_without_weights(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "export", "--reference", "erfdn", "--scale", "4",
                           "--out", tmp_path / "e.yaml")
    assert code == 0 and [p.name for p in tmp_path.iterdir()] == ["e.yaml"]
    assert load_arch_config(tmp_path / "e.yaml") == reference_config("erfdn", 4)
    code, _, err = run_cli(monkeypatch, capsys, "export", "--reference", "erfdn", "--onnx", "--out", tmp_path / "f.yaml")
    assert code == 2 and "--weights" in err
