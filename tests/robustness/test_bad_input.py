"""Bad input never corrupts a study: one line naming the culprit, exit 2, no traceback, and the
existing study and output folder byte-identical afterwards.

The matrix runs the real ``nas`` entry point (``nas.cli.main``) in-process, against a copy of a
real study folder made by a tiny search (``existing``). That search also covers the NaN case: a
candidate whose loss becomes NaN is FAILED with the reason and the search goes on. Cases already
in tests/search/test_search_e2e.py (broken YAML, unknown block type, an undecodable image,
``--budget 0``, resuming at another scale, exporting trial 999) are not repeated here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.robustness.conftest import TINY, TINY_SPACE, digest, load_study, nas, one_line_error

BUDGET = 3


# ---------------------------------------------------------------------- the existing study
@pytest.fixture(scope="module")
def existing(tmp_path_factory) -> Path:
    """A finished tiny search (3 COMPLETE trials) in which trial 1's loss became NaN."""
    import torch

    import nas.scoring.evaluate as ev
    from nas.search import SearchSettings, run_search

    real_build = ev.build_model

    class NaNOutput(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) * float("nan")

    def build(config):
        model = real_build(config)
        return NaNOutput(model) if config.name == "trial1" else model

    import nas.report.tables as tables

    real_write = tables.write_outputs
    calls = []

    def flaky_write(study, out_dir):  # the first 3 writes fail as a transient report error would
        calls.append(out_dir)
        if len(calls) <= 3:
            raise RuntimeError("report raced with another worker")
        return real_write(study, out_dir)

    out = tmp_path_factory.mktemp("existing") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    lines: list[str] = []
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ev, "build_model", build)
            outcome = run_search(SearchSettings(space=str(TINY_SPACE), budget=BUDGET, profile="smoke",
                                                references=("imdn_rtc",), out=str(out), heartbeat=1),
                                 log=lines.append, write_outputs=flaky_write)
    finally:
        torch.set_num_threads(threads)
    assert outcome.complete == BUDGET, lines
    (out / "search.log").write_text("\n".join(lines) + "\n")
    return out


def test_output_write_failure_does_not_stop_the_search(existing):
    log = (existing / "search.log").read_text()
    assert "warning: could not write the outputs" in log and "report raced" in log
    assert (existing / "trials.csv").is_file()  # written by a later trial


def test_nan_loss_fails_the_trial_with_the_reason_and_the_search_goes_on(existing):
    study = load_study(f"sqlite:///{existing / 'study.db'}", "tiny_test_x4")
    states = {t.number: t.state.name for t in study.trials}
    assert states[1] == "FAIL"
    reason = study.trials[1].user_attrs["fail_reason"]
    assert reason.startswith("DivergedError: loss became nan at step 1/"), reason
    assert sum(s == "COMPLETE" for s in states.values()) == BUDGET  # the search went on
    import pandas as pd

    csv = pd.read_csv(existing / "trials.csv", keep_default_na=False).set_index("number")
    assert csv.loc[1, "state"] == "FAIL" and "nan" in csv.loc[1, "fail_reason"]


# ---------------------------------------------------------------------- the matrix
def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run ``nas *args`` in-process through the console-script entry point."""
    import nas.cli

    monkeypatch.setattr(sys, "argv", ["nas", *args])
    with pytest.raises(SystemExit) as exc:
        nas.cli.main()
    return exc.value.code, capsys.readouterr().err


def _space(tmp: Path, old: str, new: str, name: str = "space.yaml", src: Path = TINY_SPACE) -> Path:
    text = src.read_text()
    assert old in text, old
    path = tmp / name
    path.write_text(text.replace(old, new))
    return path


def _images(folder: Path, n: int, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    return folder


def _case(name: str, tmp: Path) -> tuple[list[str], list[str]]:
    """``(extra args, substrings the error line must contain)`` for one bad-input case."""
    from nas.space import DEFAULT_SPACE

    if name == "budget_negative":
        return ["--budget", "-3"], ["--budget", "-3"]
    if name == "heartbeat_zero":
        return ["--heartbeat", "0"], ["--heartbeat"]
    if name == "scale_5":
        return ["--scale", "5"], ["--scale", "5"]
    if name == "nf_zero":
        p = _space(tmp, "nf: {type: int, low: 8,", "nf: {type: int, low: 0,")
        return ["--space", str(p)], [str(p), "nf"]
    if name == "negative_blocks":
        p = _space(tmp, "num_blocks: {type: int, low: 1,", "num_blocks: {type: int, low: -2,")
        return ["--space", str(p)], [str(p), "num_blocks"]
    if name == "reference_outside_space":  # the default references with nf <= 48: IMDN (nf 64) is outside
        p = _space(tmp, "nf: {type: int, low: 12, high: 64, step: 2}", "nf: {type: int, low: 12, high: 48, step: 2}",
                   src=DEFAULT_SPACE)
        return ["--space", str(p), "--references", "imdn,rfdn"], ["imdn", "nf=64", str(p)]
    if name == "unknown_reference":
        return ["--references", "imdn_rtc,srcnn"], ["srcnn"]
    if name == "unknown_sampler":
        return ["--sampler", "annealing"], ["annealing"]
    if name == "data_missing":
        return ["--data", str(tmp / "no_such_folder")], [str(tmp / "no_such_folder")]
    if name == "data_empty":
        (tmp / "empty").mkdir()
        return ["--data", str(tmp / "empty")], [str(tmp / "empty")]
    if name == "truncated_image":
        data = _images(tmp / "data", 4, 96)
        raw = (data / "img2.png").read_bytes()
        (data / "img2.png").write_bytes(raw[: len(raw) // 2])
        return ["--data", str(data)], ["img2.png"]
    if name == "images_smaller_than_a_patch":  # smoke: LR patch 16 px, HR patch 64 px at x4
        data = _images(tmp / "small", 4, 40)
        return ["--data", str(data)], ["img0", "patch"]
    if name == "storage_unreachable":
        return (["--storage", "postgresql://nas:s3cret-pw@127.0.0.1:1/nas", "--study", "tiny_test_x4"],
                ["postgresql://nas:***@127.0.0.1:1/nas"])
    if name == "storage_not_a_url":
        return ["--storage", "no-such-scheme:/x"], ["no-such-scheme:/x"]
    if name == "storage_not_a_database":
        junk = tmp / "junk.db"
        junk.write_bytes(b"this is not an sqlite file" * 100)
        return ["--storage", f"sqlite:///{junk}", "--study", "tiny_test_x4"], [str(junk)]
    if name == "resume_other_space":
        p = _space(tmp, "nf: {type: int, low: 8, high: 16,", "nf: {type: int, low: 8, high: 14,")
        return ["--space", str(p)], ["tiny_test_x4", "space_digest"]
    if name == "resume_other_profile":
        return ["--profile", "fast"], ["tiny_test_x4", "profile"]
    if name == "another_scale_into_the_folder":  # a second study would overwrite this one's tables
        return ["--scale", "2"], [str(tmp.parent / tmp.name / "out"), "tiny_test_x4", "tiny_test_x2"]
    if name == "max_latency_infinite":
        return ["--max-latency-ms", "inf"], ["--max-latency-ms", "inf"]
    if name == "checkpoint_dir_is_a_file":
        (tmp / "ckpt").write_text("")
        return ["--checkpoint-dir", str(tmp / "ckpt")], [str(tmp / "ckpt"), "not a folder"]
    if name == "validation_images_too_small":  # 40 px HR = 10 LR px at x4, under ESA's 15
        return ["--val-data", str(_images(tmp / "val", 2, 40))], ["img0", "10x10", "15 px"]
    if name == "validation_folder_missing":  # also without --data (built-in training photos)
        return ["--val-data", str(tmp / "no_val")], [str(tmp / "no_val")]
    if name == "float_leaf_on_an_int_field":
        p = _space(tmp, "nf: {type: int, low: 8, high: 16, step: 2}", "nf: {type: float, low: 8, high: 16}")
        return ["--space", str(p)], [str(p), "network.nf.type", "use type int"]
    if name == "space_not_utf8":
        p = tmp / "latin1.yaml"
        p.write_bytes(TINY_SPACE.read_bytes().replace(b"tiny IMDN", b"tiny \xe9 IMDN"))
        return ["--space", str(p)], [str(p), "not UTF-8"]
    raise AssertionError(name)


CASES = ["budget_negative", "heartbeat_zero", "scale_5", "nf_zero", "negative_blocks", "reference_outside_space",
         "unknown_reference", "unknown_sampler", "data_missing", "data_empty", "truncated_image",
         "images_smaller_than_a_patch", "storage_unreachable", "storage_not_a_url", "storage_not_a_database",
         "resume_other_space", "resume_other_profile", "another_scale_into_the_folder", "max_latency_infinite",
         "checkpoint_dir_is_a_file", "validation_images_too_small", "validation_folder_missing",
         "float_leaf_on_an_int_field", "space_not_utf8"]


@pytest.mark.parametrize("case", CASES)
def test_bad_search_input_leaves_the_study_untouched(case, existing, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(existing, out)
    before = digest(out)
    extra, culprits = _case(case, tmp_path)
    args = ["search", "--budget", str(BUDGET + 2), "--out", str(out), "--heartbeat", "1", *TINY]
    # later flags win in typer: the case's --space / --profile / --references override TINY's
    code, err = cli(monkeypatch, capsys, *args, *extra)
    line = one_line_error(err)
    assert code == 2, err
    for c in culprits:
        assert c in line, (c, line)
    assert "s3cret-pw" not in err
    assert digest(out) == before


def test_wrong_password_names_the_url_without_password(pg_url, existing, tmp_path, monkeypatch, capsys):
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    bad = url.set(password="not-the-password").render_as_string(hide_password=False)
    out = tmp_path / "out"
    shutil.copytree(existing, out)
    before = digest(out)
    code, err = cli(monkeypatch, capsys, "search", "--budget", "4", "--out", str(out), "--storage", bad,
                    "--study", "wrong_pw", *TINY)
    line = one_line_error(err)
    assert code == 2
    assert f"{url.username}:***@{url.host}" in line and "not-the-password" not in err
    assert "password authentication failed" in line
    assert digest(out) == before


def _make_read_only(folder: Path) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    r = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)  # root ignores mode bits
    if r.returncode != 0:
        pytest.skip(f"running as root and chattr +i is not permitted here ({r.stderr.strip()})")


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_read_only_output_folder(existing, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(existing, out)
    before = digest(out)
    _make_read_only(out)
    try:
        code, err = cli(monkeypatch, capsys, "search", "--budget", "5", "--out", str(out), *TINY)
    finally:
        _make_writable(out)
    line = one_line_error(err)
    assert code == 2 and str(out) in line and "not writable" in line
    assert digest(out) == before


def test_export_of_a_failed_trial_and_of_a_folder_without_study(existing, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(existing, out)
    before = digest(out)
    target = tmp_path / "trial1.yaml"
    code, err = cli(monkeypatch, capsys, "export", "--out-dir", str(out), "--trial", "1", "--out", str(target))
    line = one_line_error(err)
    assert code == 2 and "trial 1" in line and "did not complete" in line and "FAIL" in line
    assert not target.exists()
    code, err = cli(monkeypatch, capsys, "export", "--out-dir", str(tmp_path), "--trial", "0", "--out", str(target))
    line = one_line_error(err)
    assert code == 2 and str(tmp_path) in line and "study.db" in line
    assert digest(out) == before and not target.exists()


def test_new_output_folder_is_not_left_behind(tmp_path, monkeypatch, capsys):
    """A refused search in a folder it created removes the (still empty) folder again."""
    out = tmp_path / "fresh"
    code, err = cli(monkeypatch, capsys, "search", "--budget", "2", "--out", str(out), "--storage",
                    "postgresql://nas:pw@127.0.0.1:1/nas", *TINY)
    assert code == 2 and "127.0.0.1:1" in one_line_error(err)
    assert not out.exists()


@pytest.mark.slow
def test_real_process_storage_error_is_one_line(existing, tmp_path):
    """The same, as a real process: exit code 2 and a single stderr line."""
    out = tmp_path / "out"
    shutil.copytree(existing, out)
    before = digest(out)
    r = nas("search", "--budget", "4", "--out", str(out), "--storage", "postgresql://nas:s3cret-pw@127.0.0.1:1/nas",
            *TINY)
    line = one_line_error(r.stderr)
    assert r.returncode == 2 and "postgresql://nas:***@127.0.0.1:1/nas" in line and "s3cret-pw" not in r.stderr
    assert digest(out) == before


# ---------------------------------------------------------------------- the workflow commands
def _workflow_case(name: str, tmp: Path, existing: Path) -> tuple[list[str], list[str]]:
    """``(nas arguments, substrings the error line must contain)`` for one bad workflow input."""
    cfg = tmp / "tiny.yaml"
    cfg.write_text("name: tiny\nscale: 2\nnf: 8\nfusion: conv1x1\nblocks:\n  - {type: imdb, stages: 1, attention: none}\n")
    data = _images(tmp / "data", 2, 64)
    if name == "upscale_same_output_name":  # a.png and a.jpg would both become a_x2.png
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp / "a.png")
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp / "a.jpg")
        return (["upscale", str(cfg), str(tmp / "a.png"), str(tmp / "a.jpg"), "--weights", str(tmp / "w.pt"),
                 "--out", str(tmp / "up")], ["a.jpg", "same name", "a.png"])
    if name == "upscale_negative_tile":
        return (["upscale", str(cfg), str(data / "img0.png"), "--weights", str(tmp / "w.pt"), "--out",
                 str(tmp / "up"), "--tile", "-4"], ["--tile", "-4"])
    if name == "eval_negative_threads":
        return (["eval", str(cfg), "--weights", str(tmp / "w.pt"), "--data", str(data), "--threads", "-1"],
                ["--threads", "-1"])
    if name == "eval_data_is_a_file":
        return (["eval", str(cfg), "--weights", str(tmp / "w.pt"), "--data", str(data / "img0.png")],
                [str(data / "img0.png"), "is a file"])
    if name == "train_out_is_a_file":
        (tmp / "file.png").write_bytes(b"x")
        return (["train", str(cfg), "--data", str(data), "--out", str(tmp / "file.png"), "--iters", "1"],
                [str(tmp / "file.png"), "not a folder"])
    if name == "train_zero_val_every":
        return (["train", str(cfg), "--data", str(data), "--out", str(tmp / "run"), "--val-every", "0"],
                ["--val-every", "0"])
    if name == "train_negative_lr":
        return (["train", str(cfg), "--data", str(data), "--out", str(tmp / "run"), "--lr", "-1"], ["--lr", "-1"])
    if name == "export_out_not_a_config":  # with --weights it overwrote the config with the weights
        return (["export", "--reference", "imdn", "--scale", "4", "--out", str(tmp / "m.onnx")],
                ["m.onnx", ".yaml"])
    if name == "export_onnx_without_weights":
        return ["export", "--reference", "imdn", "--out", str(tmp / "m.yaml"), "--onnx"], ["--onnx", "--weights"]
    if name == "show_csv_and_json":
        return ["show", "--out-dir", str(existing), "--csv", "--json"], ["--csv", "--json"]
    if name == "show_storage_file_missing":  # reading must not create an empty database
        return ["show", "--storage", f"sqlite:///{tmp / 'typo.db'}"], [str(tmp / "typo.db"), "no such database"]
    if name == "zoo_unknown_scale":
        return ["zoo", "--scale", "5"], ["x5"]
    if name == "config_not_utf8":
        cfg.write_bytes(b"name: tiny\n\xff\n")
        return ["info", str(cfg)], [str(cfg), "not UTF-8"]
    raise AssertionError(name)


WORKFLOW_CASES = ["upscale_same_output_name", "upscale_negative_tile", "eval_negative_threads", "eval_data_is_a_file",
                  "train_out_is_a_file", "train_zero_val_every", "train_negative_lr", "export_out_not_a_config",
                  "export_onnx_without_weights", "show_csv_and_json", "show_storage_file_missing",
                  "zoo_unknown_scale", "config_not_utf8"]


@pytest.mark.parametrize("case", WORKFLOW_CASES)
def test_bad_workflow_input_is_one_line_and_writes_nothing(case, existing, tmp_path, monkeypatch, capsys):
    import torch

    from nas.arch import load_arch_config
    from nas.checkpoints import save_checkpoint
    from nas.models import build_model

    work = tmp_path / "work"
    work.mkdir()
    args, culprits = _workflow_case(case, work, existing)
    if (work / "tiny.yaml").is_file() and "w.pt" in " ".join(args):
        cfg = load_arch_config(work / "tiny.yaml")
        torch.manual_seed(0)
        save_checkpoint(work / "w.pt", build_model(cfg), cfg, iteration=0)
    before = {p: p.stat().st_mtime_ns for p in work.rglob("*")}
    before_existing = digest(existing)
    code, err = cli(monkeypatch, capsys, *args)
    line = one_line_error(err)
    assert code == 2, err
    for c in culprits:
        assert c in line, (c, line)
    assert {p: p.stat().st_mtime_ns for p in work.rglob("*")} == before  # nothing written or created
    assert digest(existing) == before_existing
