"""`nas search` without `--profile` (issues 18, 31, 32): zoo-predicted where a calibration fits, a refusal
with the `nas calibrate` command elsewhere (or `--calibrate auto`), and a resumed study keeps the protocol it was created with."""

from __future__ import annotations

import pytest

import json
import shutil

from nas.errors import NasError, StudyError
from nas.report import write_outputs
from nas.search import SearchSettings
from nas.search import run_search as _run_search
from nas.search.study import load_existing_study

#: A small published network of the default space at every scale (IMDN_RTC, 20-24 K params):
#: its 180 halving steps take a few seconds.
TINY_REF = ("imdn_rtc",)


def _search(tmp_path, log, **kw):
    base = dict(budget=1, references=TINY_REF, out=str(tmp_path / "run"), seed=0, sampler="random")
    _run_search(SearchSettings(**{**base, **kw}), log=log.append, write_outputs=write_outputs)
    return load_existing_study(None, f"sqlite:///{tmp_path / 'run' / 'study.db'}")


def test_without_a_calibration_the_default_refuses_with_the_command_that_makes_one(tmp_path):
    """Issue 32: where no calibration fits (here 7 steps), the default never ranks by raw proxy
    PSNR: one line with the `nas calibrate` command, nothing written."""
    with pytest.raises(NasError, match=r"no calibration fits x4 .*7 steps.*`nas calibrate --scale 4 --iters 7 --out "
                                       r".*calibration.json`.*--calibrate auto.*--profile halving") as err:
        _search(tmp_path, [], iters=7)
    assert "\n" not in str(err.value) and not (tmp_path / "run").exists()
    with pytest.raises(NasError, match="x8 has fewer than 6 published networks.*--profile halving"):
        _search(tmp_path, [], scale=8)
    # a file given that holds no calibration for the protocol is named
    other = tmp_path / "other.json"
    other.write_text("{}")
    with pytest.raises(NasError, match="no calibration fits"):
        _search(tmp_path, [], iters=7, calibration=str(other))


#: Six published x4 networks of three families: a calibration in seconds at a 2-step protocol.
SIX = ("rfdn", "awsrn_s", "awsrn_m", "ecbsr_m4c16_rgb", "ecbsr_m4c32_rgb", "rlfn_s")


def test_calibrate_auto_calibrates_first_then_ranks_by_it_and_a_resume_finds_it(tmp_path, monkeypatch):
    from nas.scoring import calibrate as cal_mod
    from nas.search import settings as settings_mod

    real = cal_mod.ground_truth_networks
    monkeypatch.setattr(cal_mod, "ground_truth_networks", lambda scale, gt_set="Set5", names=None: real(scale, gt_set, SIX))
    with pytest.raises(NasError, match="--calibrate auto: calibrating trains 6 published networks, more than 25 % "
                                       "of --budget 1; run `nas calibrate --scale 4 --iters 2"):
        _search(tmp_path, [], iters=2, calibrate="auto")
    monkeypatch.setattr(settings_mod, "AUTO_CALIBRATE_SHARE", 6.0)
    log: list[str] = []
    study = _search(tmp_path, log, iters=2, calibrate="auto")
    cal_file = tmp_path / "run" / "calibration.json"
    assert cal_file.is_file() and list(json.loads(cal_file.read_text())) == ["calibrated-x4-y-2"]
    assert study.user_attrs["calibration"]["name"] == "calibrated-x4-y-2"
    assert study.user_attrs["profile"]["name"] == "zoo-predicted" and study.user_attrs["profile"]["iters"] == 2
    assert any("calibrate auto" in m for m in log) and any("out of family" in m for m in log)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert done and all("psnr_raw_db" in t.user_attrs for t in done)  # ranked by the prediction
    from nas.report import build_report_data

    basis = build_report_data(study, tmp_path / "run", with_hypervolume=False).facts.psnr_basis
    assert "'calibrated-x4-y-2'" in basis and "published networks at Spearman" in basis  # nas show, the report
    # resumed without the flag: <out>/calibration.json is found, nothing is trained again
    log.clear()
    again = _search(tmp_path, log, iters=2)
    assert again.user_attrs["calibration"] == study.user_attrs["calibration"]
    assert not any("calibrate auto" in m for m in log)
    # a new study on other data: the calibration found was fitted on the built-in photographs, so
    # --calibrate auto refits it on the study's own data
    from PIL import Image
    from skimage import data as skdata

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(skdata, name)()[:192, :192]).save(photos / f"{name}.png")
    out2 = tmp_path / "run2"
    out2.mkdir()
    shutil.copy(cal_file, out2 / "calibration.json")
    log.clear()
    _run_search(SearchSettings(budget=1, references=TINY_REF, out=str(out2), seed=0, sampler="random", iters=2,
                               calibrate="auto", data=str(photos), val_data=str(photos)),
                log=log.append, write_outputs=write_outputs)
    assert any("was fitted on other data" in m for m in log)
    refit = json.loads((out2 / "calibration.json").read_text())["calibrated-x4-y-2"]
    assert str(photos) in refit["data"] and refit["data"] != json.loads(cal_file.read_text())["calibrated-x4-y-2"]["data"]


def test_an_old_default_study_resumes_with_the_protocol_it_was_created_with(tmp_path):
    """A study created with the halving protocol (the default before issue 18) resumes under
    `--profile default` at x4, where the default is now zoo-predicted; an explicit
    `--profile zoo-predicted` is refused with the profile that fits."""
    log: list[str] = []
    _search(tmp_path, log, profile="halving")
    log.clear()
    study = _search(tmp_path, log, budget=1)  # profile "default": a resume, nothing left to do
    assert study.user_attrs["profile"]["name"] == "halving"
    assert any("the protocol this study was created with" in m for m in log)
    with pytest.raises(StudyError, match="--profile halving"):
        _search(tmp_path, log, profile="zoo-predicted")
