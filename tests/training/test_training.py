"""nas train: a few iterations on tiny data; resume continues at the right iteration and equals an
uninterrupted run; x3 from x2 initialisation; checkpoints carry the optimizer state."""

from __future__ import annotations

import json

import pytest
import torch

from nas.arch import ArchConfig, reference_config
from nas.checkpoints import load_model, read_checkpoint
from nas.errors import CheckpointError, NasError
from nas.training import TrainCallbacks, TrainSettings, init_from, train
from nas.models import build_model
from tests.evaluation.helpers import make_benchmark, run_cli

TINY = {"name": "tiny", "scale": 2, "nf": 8, "blocks": [{"type": "rfdb", "attention": "none", "stages": 2}]}
FAST = dict(batch=2, patch=16, val_every=4, ckpt_every=2, val_max_side=32)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    train_dir = make_benchmark(root / "train", 2, sizes=((40, 44), (36, 50), (48, 40)), shipped_lr=False)
    val_dir = make_benchmark(root / "Val", 2, sizes=((30, 34),))
    return train_dir, val_dir


def _cfg(**kw) -> ArchConfig:
    return ArchConfig.from_dict({**TINY, **kw})


def test_a_few_iterations_write_checkpoints_and_history(tmp_path, data):
    train_dir, val_dir = data
    res = train(_cfg(), train_dir, tmp_path / "run", TrainSettings(iters=8, **FAST), val_data=val_dir)
    assert res.iteration == 8 and res.started_at == 0
    assert {"last.pt", "best.pt", "history.json", "config.yaml"} <= {p.name for p in (tmp_path / "run").iterdir()}
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["iteration"] for h in history] == [4, 8]
    assert all(h["psnr_db"] > 5 and h["loss"] > 0 for h in history)
    ck = read_checkpoint(tmp_path / "run" / "last.pt")
    assert ck["iteration"] == 8
    steps = {int(s["step"]) for s in ck["optimizer"]["state"].values()}
    assert steps == {8}  # Adam's state is saved
    assert ck["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert load_model(tmp_path / "run" / "best.pt").kind == "nas-checkpoint"


def test_learning_rate_is_halved_every_step(tmp_path, data):
    train_dir, _ = data
    seen = []
    cbs = TrainCallbacks(step=lambda it, loss, lr: seen.append(lr))
    train(_cfg(), train_dir, tmp_path / "run", TrainSettings(iters=9, lr=4e-4, lr_step=4, **FAST), callbacks=cbs)
    assert seen[0] == pytest.approx(4e-4) and seen[3] == pytest.approx(2e-4)  # after step 4
    assert seen[7] == pytest.approx(1e-4) and seen[8] == pytest.approx(1e-4)


def test_resume_continues_at_the_right_iteration_and_equals_an_uninterrupted_run(tmp_path, data):
    train_dir, val_dir = data
    full = train(_cfg(), train_dir, tmp_path / "full", TrainSettings(iters=10, **FAST), val_data=val_dir)

    class Stop(KeyboardInterrupt):
        pass

    def stop_at_6(it, loss, lr):
        if it == 6:
            raise Stop()

    with pytest.raises(KeyboardInterrupt):
        train(_cfg(), train_dir, tmp_path / "cut", TrainSettings(iters=10, **FAST), val_data=val_dir,
              callbacks=TrainCallbacks(step=stop_at_6))
    assert read_checkpoint(tmp_path / "cut" / "last.pt")["iteration"] == 6
    first = []
    res = train(_cfg(), train_dir, tmp_path / "cut", TrainSettings(iters=10, **FAST), val_data=val_dir, resume=True,
                callbacks=TrainCallbacks(step=lambda it, loss, lr: first.append(it)))
    assert res.started_at == 6 and first[0] == 7 and res.iteration == 10
    a = read_checkpoint(tmp_path / "full" / "last.pt")
    b = read_checkpoint(tmp_path / "cut" / "last.pt")
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-6), k
    assert res.last_psnr_db == pytest.approx(full.last_psnr_db, abs=1e-4)


def test_resume_needs_last_pt_and_the_same_architecture(tmp_path, data):
    train_dir, _ = data
    with pytest.raises(NasError, match="nothing to resume"):
        train(_cfg(), train_dir, tmp_path / "run", TrainSettings(iters=2, **FAST), resume=True)
    train(_cfg(), train_dir, tmp_path / "run", TrainSettings(iters=2, **FAST))
    with pytest.raises(NasError, match="another architecture"):
        train(_cfg(nf=12), train_dir, tmp_path / "run", TrainSettings(iters=4, **FAST), resume=True)


def test_a_finished_run_is_never_overwritten_and_resume_keeps_its_settings(tmp_path, data):
    train_dir, val_dir = data
    run = tmp_path / "run"
    train(_cfg(), train_dir, run, TrainSettings(iters=2, **FAST), val_data=val_dir)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(NasError, match="holds a training run.*--resume"):  # without --resume
        train(_cfg(), train_dir, run, TrainSettings(iters=4, **FAST), val_data=val_dir)
    # resuming with another batch, or validating elsewhere, would not continue the same run
    with pytest.raises(NasError, match=r"last.pt: the run was trained with --batch 2, this call has 3"):
        train(_cfg(), train_dir, run, TrainSettings(iters=4, **{**FAST, "batch": 3}), val_data=val_dir, resume=True)
    with pytest.raises(NasError, match=r"--val-data .*Val, this call has \(none\)"):
        train(_cfg(), train_dir, run, TrainSettings(iters=4, **FAST), resume=True)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing changed
    res = train(_cfg(), train_dir, run, TrainSettings(iters=4, val_every=2, **{k: v for k, v in FAST.items()
                                                                               if k != "val_every"}),
                val_data=val_dir, resume=True)  # --iters and --val-every may change
    assert res.started_at == 2 and res.iteration == 4
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(NasError, match="file.png: exists and is not a folder"):
        train(_cfg(), train_dir, tmp_path / "file.png", TrainSettings(iters=1, **FAST))


def test_x3_from_x2_skips_only_the_upsampler(tmp_path, data):
    train_dir, _ = data
    train(_cfg(), train_dir, tmp_path / "x2", TrainSettings(iters=2, **FAST))
    x2 = read_checkpoint(tmp_path / "x2" / "last.pt")["model"]
    model = build_model(_cfg(scale=3))
    loaded, skipped = init_from(model, tmp_path / "x2" / "last.pt")
    assert set(skipped) == {"upsampler.0.weight", "upsampler.0.bias"}
    assert all(r.startswith("upsampler") for r in skipped.values())
    assert set(loaded) == {k for k in x2 if not k.startswith("upsampler.")}
    assert torch.equal(model.state_dict()["fea_conv.weight"], x2["fea_conv.weight"])
    res = train(_cfg(scale=3), train_dir, tmp_path / "x3", TrainSettings(iters=2, **{**FAST, "patch": 24}),
                init=tmp_path / "x2" / "last.pt")
    assert set(res.skipped_init) == {"upsampler.0.weight", "upsampler.0.bias"}
    with pytest.raises(CheckpointError, match="no tensor matches"):
        init_from(build_model(reference_config("ecbsr_m4c8", 3)), tmp_path / "x2" / "last.pt")


def test_y_only_network_trains(tmp_path, data):
    train_dir, _ = data
    res = train(reference_config("ecbsr_m4c8", 2), train_dir, tmp_path / "y", TrainSettings(iters=2, **FAST))
    assert res.iteration == 2 and res.last_psnr_db > 5


def test_bad_patch_is_refused(tmp_path, data):
    with pytest.raises(NasError, match="not a multiple of the scale"):
        train(_cfg(scale=3), data[0], tmp_path / "r", TrainSettings(iters=1, patch=16))


def test_cli_train_then_resume(tmp_path, data, monkeypatch, capsys):
    train_dir, val_dir = data
    cfg_path = _cfg().save(tmp_path / "tiny.yaml")
    args = ["train", cfg_path, "--data", train_dir, "--val-data", val_dir, "--batch", "2", "--patch", "16",
            "--val-every", "3", "--out", tmp_path / "run", "--device", "cpu"]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--iters", "3")
    assert code == 0, err
    assert "val PSNR" in err and "done: iteration 3" in err
    code, _, err = run_cli(monkeypatch, capsys, *args, "--iters", "6", "--resume")
    assert code == 0, err
    assert "resumed" in err and "at iteration 3" in err and "done: iteration 6 (3 this run" in err
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg_path, "--data", tmp_path / "missing", "--out",
                           tmp_path / "r2", "--iters", "1")
    assert code == 2 and "missing" in err
