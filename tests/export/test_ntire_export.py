"""``nas export --ntire``: one plain-PyTorch model file plus weights, loaded as the NTIRE ESR
``test_demo.py`` does (``Model(); load_state_dict(torch.load(path), strict=True)``), and the same
network bit for bit."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from nas.arch import ArchConfig, reference_config
from nas.checkpoints import save_checkpoint
from nas.errors import NasError
from nas.export.ntire import export_ntire
from nas.models import build_model
from nas.models.deploy import deploy_model
from tests.export.test_export import SEARCHED_ECB, run_cli


@pytest.mark.parametrize("name", ["span_ntire", "rlfn_ntire", "efdn", "awsrn_s", "imdn_rtc", "bsrn_s"])
def test_the_exported_file_is_the_network(tmp_path, name):
    torch.manual_seed(0)
    cfg = reference_config(name, 4)
    model = build_model(cfg).eval()
    res = export_ntire(model, cfg, tmp_path, 7, "Net")
    assert res.model_path == tmp_path / "models" / "team07_Net.py"
    assert res.weights_path == tmp_path / "model_zoo" / "team07_Net.pth"
    assert res.max_diff == 0.0 and res.params == sum(p.numel() for p in deploy_model(model).parameters())
    source = res.model_path.read_text()
    assert "import nas" not in source and "from nas" not in source  # plain PyTorch
    # loaded in a fresh interpreter, away from the repository, as test_demo.py would
    code = ("import importlib.util, sys, torch\n"
            f"spec = importlib.util.spec_from_file_location('team07_Net', {str(res.model_path)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "model = m.Net()\n"
            f"model.load_state_dict(torch.load({str(res.weights_path)!r}), strict=True)\n"
            "model.eval()\n"
            "torch.manual_seed(1); x = torch.rand(1, 3, 20, 17)\n"
            f"torch.save(model(x).detach(), {str(tmp_path / 'out.pt')!r})\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    torch.manual_seed(1)
    x = torch.rand(1, 3, 20, 17)
    with torch.no_grad():  # another thread count in the subprocess: float summation order differs
        assert torch.allclose(torch.load(tmp_path / "out.pt"), deploy_model(model).eval()(x), rtol=1e-5, atol=1e-5)


def test_bad_requests_are_refused_with_a_clear_error(tmp_path):
    cfg = reference_config("imdn_rtc", 4)
    model = build_model(cfg)
    with pytest.raises(NasError, match="team id 100"):
        export_ntire(model, cfg, tmp_path, 100, "Net")
    with pytest.raises(NasError, match="not a Python identifier"):
        export_ntire(model, cfg, tmp_path, 1, "my-net")
    y = reference_config("ecbsr_m4c8", 4)
    with pytest.raises(NasError, match="RGB"):
        export_ntire(build_model(y), y, tmp_path, 1, "Net")


def test_cli_export_ntire_writes_the_challenge_files(tmp_path, monkeypatch, capsys):
    cfg = ArchConfig.from_dict(SEARCHED_ECB)
    ckpt = save_checkpoint(tmp_path / "run" / "best.pt", build_model(cfg), cfg, iteration=10)
    code, _, err = run_cli(monkeypatch, capsys, "export", "--weights", ckpt, "--out", tmp_path / "dep" / "net.yaml",
                           "--ntire", "3", "--ntire-name", "Searched")
    assert code == 0, err
    assert (tmp_path / "dep" / "models" / "team03_Searched.py").is_file()
    assert (tmp_path / "dep" / "model_zoo" / "team03_Searched.pth").is_file()
    assert "strict=True" in err and "data_range 1.0" in err
    code, _, err = run_cli(monkeypatch, capsys, "export", "--reference", "efdn", "--out", tmp_path / "e.yaml",
                           "--ntire", "0")
    assert code != 0 and "--ntire exports trained weights" in err
