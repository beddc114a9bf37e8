"""`nas search` end to end on the built-in photographs, with a tiny budget and the smoke profile.

Runs the real CLI in a subprocess: real models, real proxy training, real scores.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest

from nas.arch import SEARCH_REFERENCES, load_arch_config

pytestmark = pytest.mark.slow


def nas(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nas.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "run"
    r = nas("search", "--budget", "5", "--profile", "smoke", "--out", str(out), "--seed", "3")
    assert r.returncode == 0, r.stderr
    return out, r


def test_search_writes_all_outputs_with_references(searched):
    out, _ = searched
    for name in ("trials.csv", "pareto.csv", "pareto.html", "study.db"):
        assert (out / name).is_file(), name
    trials = pd.read_csv(out / "trials.csv", keep_default_na=False)
    done = trials[trials["state"] == "COMPLETE"]
    assert len(done) == 5
    assert set(SEARCH_REFERENCES) <= set(done["reference"])
    assert (done["params"] > 0).all() and (done["mult_adds"] > 0).all() and (done["latency_ms"] > 0).all()
    imdn = done[done["reference"] == "imdn"].iloc[0]
    assert imdn["params"] == 715_176  # exact count of IMDN x4
    assert done["psnr_db"].between(10, 40).all()
    html = (out / "pareto.html").read_text()
    for ref in SEARCH_REFERENCES:
        assert ref.upper() in html
    front = pd.read_csv(out / "pareto.csv", keep_default_na=False)
    assert len(front) >= 1 and front["on_front"].all()
    # every trial records its architecture, which rebuilds the same arch_id
    for _, row in done.iterrows():
        assert json.loads(row["config"])["scale"] == 4


def test_export_show_and_info_on_a_trial(searched, tmp_path):
    out, _ = searched
    trials = pd.read_csv(out / "trials.csv", keep_default_na=False)
    number = int(trials[trials["state"] == "COMPLETE"]["number"].iloc[-1])
    target = tmp_path / "winner.yaml"
    r = nas("export", "--out-dir", str(out), "--trial", str(number), "--out", str(target))
    assert r.returncode == 0, r.stderr
    cfg = load_arch_config(target)
    assert cfg.arch_id == trials.set_index("number").loc[number, "arch_id"]
    r = nas("info", str(target), "--json", "--no-latency")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["params"] == trials.set_index("number").loc[number, "params"]
    r = nas("show", "--out-dir", str(out), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {row["reference"] for row in rows if row["reference"]} == set(SEARCH_REFERENCES)


def test_resume_does_not_redo_finished_trials(searched, tmp_path):
    out, _ = searched
    before = pd.read_csv(out / "trials.csv", keep_default_na=False)
    r = nas("search", "--budget", "5", "--profile", "smoke", "--out", str(out))
    assert r.returncode == 0, r.stderr
    same = pd.read_csv(out / "trials.csv", keep_default_na=False)
    assert len(same) == len(before)
    r = nas("search", "--budget", "6", "--profile", "smoke", "--out", str(out))
    assert r.returncode == 0, r.stderr
    after = pd.read_csv(out / "trials.csv", keep_default_na=False)
    assert (after["state"] == "COMPLETE").sum() == 6
    old = after[after["number"].isin(before["number"])]
    pd.testing.assert_frame_equal(
        old[["number", "psnr_db", "params", "arch_id"]].reset_index(drop=True),
        before[["number", "psnr_db", "params", "arch_id"]].reset_index(drop=True))
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{out / 'study.db'}")
    assert study.user_attrs["budget"] == [5, 6]  # each run's --budget, for the report's facts


def test_resume_with_another_scale_is_refused_and_changes_nothing(searched):
    out, _ = searched
    before = _digest(out)
    r = nas("search", "--budget", "7", "--profile", "smoke", "--out", str(out), "--scale", "2",
            "--study", "lightweight_sr_x4")
    assert r.returncode == 2
    assert "scale" in r.stderr and "Traceback" not in r.stderr
    assert _digest(out) == before


@pytest.mark.parametrize("flag", [("--scale", "2"), ("--study", "another_study")])
def test_another_study_into_the_same_output_folder_is_refused(searched, flag):
    # without --study, --scale 2 names the study lightweight_sr_x2: a second study in this folder
    # would overwrite trials.csv / pareto.* with its rows and leave `nas show` unable to choose
    out, _ = searched
    before = _digest(out)
    r = nas("search", "--budget", "7", "--profile", "smoke", "--out", str(out), *flag)
    assert r.returncode == 2, r.stderr
    assert "holds the outputs of study 'lightweight_sr_x4'" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _digest(out) == before
    assert optuna.get_all_study_names(f"sqlite:///{out / 'study.db'}") == ["lightweight_sr_x4"]


def test_search_without_out_writes_under_runs_not_results(tmp_path):
    r = nas("search", "--budget", "1", "--profile", "smoke", "--references", "none", "--threads", "1",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "lightweight_sr_x4" / "study.db").is_file()
    assert not (tmp_path / "results").exists()
    r = nas("show", "--json", cwd=tmp_path)  # `nas show` reads where `nas search` wrote
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 1


def test_export_of_unknown_or_failed_trial(searched, tmp_path):
    out, _ = searched
    r = nas("export", "--out-dir", str(out), "--trial", "999", "--out", str(tmp_path / "x.yaml"))
    assert r.returncode == 2 and "no trial 999" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_reference_export_and_zoo(tmp_path):
    target = tmp_path / "new" / "folder" / "imdn_x4.yaml"  # missing folders are created
    r = nas("export", "--reference", "imdn", "--scale", "4", "--out", str(target))
    assert r.returncode == 0, r.stderr
    assert load_arch_config(target).nf == 64
    r = nas("export", "--reference", "imdn", "--scale", "4", "--out", str(tmp_path / "imdn.txt"))
    assert r.returncode == 2 and "imdn.txt: --out is a config file ending in .yaml" in r.stderr
    assert not (tmp_path / "imdn.txt").exists()
    r = nas("zoo", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert rows["erfdn"]["params"] == 433_448


@pytest.mark.parametrize("case", ["broken_yaml", "unknown_block", "unreadable_image", "budget_zero"])
def test_bad_input_gives_one_line_error(tmp_path, case):
    args = ["search", "--budget", "2", "--profile", "smoke", "--out", str(tmp_path / "out")]
    culprit = ""
    if case == "broken_yaml":
        space = tmp_path / "space.yaml"
        space.write_text("name: broken\nnetwork: {nf: [16, 32\n")
        args += ["--space", str(space)]
        culprit = str(space)
    elif case == "unknown_block":
        from nas.space import DEFAULT_SPACE

        space = tmp_path / "space.yaml"
        space.write_text(DEFAULT_SPACE.read_text().replace("choices: [rfdb, imdb, lfb, ecb]",
                                                           "choices: [rfdb, swinir]"))
        args += ["--space", str(space)]
        culprit = "blocks.type"
    elif case == "unreadable_image":
        data = tmp_path / "data"
        data.mkdir()
        from PIL import Image
        import numpy as np

        for i in range(3):
            Image.fromarray(np.full((96, 96, 3), 60 * i, np.uint8)).save(data / f"ok{i}.png")
        (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
        args += ["--data", str(data)]
        culprit = "broken.png"
    else:
        args[2] = "0"
        culprit = "--budget"
    r = nas(*args)
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert culprit in lines[0] and "Traceback" not in r.stderr
