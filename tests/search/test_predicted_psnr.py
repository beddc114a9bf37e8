"""A search whose profile has a predictor ranks, promotes and builds its front on the predicted
fully-trained PSNR; the raw proxy PSNR stays beside it (in-process, smoke profile)."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

from nas.proxy import predict as predict_mod
from nas.proxy import profiles as profiles_mod
from nas.proxy.predict import Calibration, feature_vector, find_calibration, load_calibrations
from nas.report import write_outputs
from nas.search import SearchSettings
from nas.search import run_search as _run_search
from nas.search import rungs as rung_store
from nas.search.study import load_existing_study


def run_search(*args, **kwargs):
    """The search as the CLI runs it: with its output files."""
    return _run_search(*args, write_outputs=write_outputs, **kwargs)


def _cal(scale: int = 4) -> Calibration:
    prof = profiles_mod.PROFILES["smoke-halving"]
    protocol = {k: v for k, v in prof.to_dict().items() if k not in ("name", "rungs")}
    # a made-up linear law: 30 dB + 0.01 x proxy PSNR + 0.2 dB per 3x3 layer
    models = {s: {"intercept": 30.0, "coef": [0.01, 0.2], "sigma_db": 0.15} for s in prof.rung_stops}
    return Calibration("test-cal", scale, protocol, "builtin", "Set5 x4 Y-PSNR after full training",
                       ("psnr", "depth"), models)


@pytest.fixture
def predicting_profile(monkeypatch):
    monkeypatch.setitem(profiles_mod.PROFILES, "smoke-pred",
                        dataclasses.replace(profiles_mod.PROFILES["smoke-halving"], name="smoke-pred",
                                            predictor="test-cal"))
    monkeypatch.setattr(predict_mod, "load_calibrations", lambda *a, **k: {"test-cal": _cal()})


def test_calibration_predicts_by_its_linear_law_and_matches_only_its_protocol(predicting_profile):
    cal = _cal()
    p = cal.predict(8, feature_vector(28.0, 1e5, 1e9, 20))
    assert p.psnr_db == pytest.approx(30.0 + 0.28 + 4.0) and p.sigma_db == 0.15 and p.steps == 8
    assert cal.predict(16, feature_vector(28.0, 1e5, 1e9, 20)) is None  # no model at that fidelity
    assert cal.predict(8, feature_vector(28.0, 1e5, 1e9, None)) is None  # unknown depth
    bounded = dataclasses.replace(cal, models={8: {**cal.models[8], "x_min": [0.0, 5.0], "x_max": [40.0, 30.0]}})
    assert bounded.predict(8, feature_vector(28.0, 1e5, 1e9, 90)).psnr_db == pytest.approx(30.0 + 0.28 + 6.0)
    assert find_calibration("test-cal", 4, profiles_mod.PROFILES["smoke-pred"]) is not None
    assert find_calibration("test-cal", 2, profiles_mod.PROFILES["smoke-pred"]) is None  # other scale
    assert find_calibration("test-cal", 4, profiles_mod.PROFILES["smoke"]) is None  # other protocol


def test_search_ranks_by_the_predicted_psnr_and_keeps_the_raw_one(tmp_path, predicting_profile):
    s = SearchSettings(budget=4, profile="smoke-pred", references=("erfdn",), out=str(tmp_path / "run"),
                       threads=1, seed=0, sampler="random")
    run_search(s, log=lambda m: None)
    study = load_existing_study(None, f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    for t in study.trials:
        if t.state.name != "COMPLETE":
            continue
        pred, depth = t.user_attrs["prediction"], t.user_attrs["depth"]
        assert t.values[0] == pytest.approx(30.0 + 0.01 * t.user_attrs["psnr_raw_db"] + 0.2 * depth, abs=1e-3)
        assert pred["steps"] == 2 and pred["sigma_db"] == 0.15 and pred["method"] == "test-cal"
    results = rung_store.rung_results(study.user_attrs)
    assert results and all("prediction" in r for r in results.values() if "psnr_db" in r)
    df = pd.read_csv(tmp_path / "run" / "trials.csv")
    erfdn = df[df.reference == "erfdn"].iloc[0]
    top = results[(int(erfdn.number), 2)]
    assert erfdn.psnr_db == pytest.approx(top["prediction"]["psnr_db"])  # the front's PSNR: predicted
    assert erfdn.psnr_proxy_db == pytest.approx(top["psnr_db"])  # the proxy's own, kept
    assert erfdn.psnr_sigma_db == pytest.approx(0.15)
    assert json.loads(erfdn.psnr_by_iters)["8"] == pytest.approx(top["psnr_db"], abs=1e-3)  # raw curve
    # a dominance claim on a predicted PSNR needs a margin above the predictor's error at 95 %
    # (issue 31 §5), not the seed noise: 1.645 x sqrt(2) x 0.15 dB
    from nas.report import build_report_data

    data = build_report_data(study, tmp_path / "run", with_hypervolume=False)
    assert data.facts.claim_basis == "prediction"
    assert data.facts.claim_margin_db == pytest.approx(1.645 * 2 ** 0.5 * 0.15)
    ref = data.references["erfdn"]
    for p in data.points:
        if "erfdn" in p.dominates:
            assert p.psnr_db - ref.psnr_db > data.facts.claim_margin_db


def test_shipped_calibrations_load():
    for name, cal in load_calibrations().items():
        assert cal.features[0] == "psnr" and cal.models, name


def test_the_predicted_profile_predicts_at_x4_only():
    """`--profile predicted` ranks x4 searches by the zoo-x4 calibration (every rung has a model),
    other scales by the raw PSNR; the default and `halving` have no predictor."""
    default = profiles_mod.PROFILES["predicted"]
    cal = find_calibration(default.predictor, 4, default)
    assert cal is not None and all(s in cal.models for s in default.rung_stops)
    assert cal.scale == 4 and "Set5" in cal.horizon
    assert find_calibration(default.predictor, 2, default) is None
    assert profiles_mod.PROFILES["halving"].predictor == "none"
    # both train the same way, so they share the measured seed noise
    assert profiles_mod.psnr_noise_db(default) == profiles_mod.psnr_noise_db(profiles_mod.PROFILES["halving"])
    assert profiles_mod.psnr_noise_db(default)[180] > 0


def test_the_bicubic_predicted_profile_finds_its_x4_calibration_and_trains_with_the_skip():
    """`--profile bicubic-predicted` (issue 18): one 20-step rung under the proxy-only bicubic
    skip, ranked by `zoo-skip-x4`, whose protocol is the profile's (the skip included); the
    calibration of the plain proxy (`zoo-x4`) does not match it, nor does `zoo-skip-x4` match
    the plain proxy."""
    prof = profiles_mod.PROFILES["bicubic-predicted"]
    assert prof.skip == "bicubic" and prof.rungs == 1 and prof.top_iters == 20
    cal = find_calibration(prof.predictor, 4, prof)
    assert cal is not None and cal.name == "zoo-skip-x4" and 20 in cal.models
    assert cal.protocol["skip"] == "bicubic" and cal.models[20]["lofo_spearman"] >= 0.8
    assert find_calibration("zoo-x4", 4, prof) is None
    assert find_calibration(prof.predictor, 4, profiles_mod.PROFILES["halving"]) is None
    assert find_calibration(prof.predictor, 3, prof) is None  # no x3 calibration shipped
    # its dominance margin is the noise of the predicted PSNR, which a raw ranking under the same
    # training (no predictor) must not borrow: that one has no measurement
    assert profiles_mod.psnr_noise_db(prof) == {20: 0.020}
    assert profiles_mod.psnr_noise_db(dataclasses.replace(prof, predictor="none")) == {}


def test_a_study_trained_with_the_skip_stores_it_and_is_refused_without_it(tmp_path, monkeypatch):
    """The skip is part of the stored protocol: a study searched with it resumes with it, and a
    resume under a profile without it is refused with an error naming the profile."""
    from nas.errors import NasError

    monkeypatch.setitem(profiles_mod.PROFILES, "smoke-skip",
                        dataclasses.replace(profiles_mod.PROFILES["smoke"], name="smoke-skip", skip="bicubic"))
    out = tmp_path / "run"
    s = SearchSettings(budget=2, profile="smoke-skip", references=("erfdn",), out=str(out), threads=1, seed=0,
                       sampler="random")
    run_search(s, log=lambda m: None)
    study = load_existing_study(None, f"sqlite:///{out / 'study.db'}")
    assert study.user_attrs["profile"]["skip"] == "bicubic"
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 2 and all(t.values[0] > 15.0 for t in done)  # at interpolation level after 4 steps
    with pytest.raises(NasError, match="profile"):
        run_search(dataclasses.replace(s, profile="smoke", budget=3), log=lambda m: None)


def test_a_study_keeps_the_calibration_it_was_ranked_by(tmp_path, predicting_profile, monkeypatch):
    """Issue 31 §5: the study records its calibration's name and version; a resume under a changed
    calibration is refused with one line naming both, and nothing is written to the study."""
    from nas.errors import StudyError

    cal = dataclasses.replace(_cal(), version="aaaaaaaaaaaa")
    monkeypatch.setattr(predict_mod, "load_calibrations", lambda *a, **k: {"test-cal": cal})
    s = SearchSettings(budget=2, profile="smoke-pred", references=("erfdn",), out=str(tmp_path / "run"),
                       threads=1, seed=0, sampler="random")
    run_search(s, log=lambda m: None)
    url = f"sqlite:///{tmp_path / 'run' / 'study.db'}"
    study = load_existing_study(None, url)
    pinned = study.user_attrs["calibration"]
    assert {k: pinned[k] for k in ("name", "version")} == {"name": "test-cal", "version": "aaaaaaaaaaaa"}
    assert pinned["sigma_db"] == 0.15  # its statistics travel with it (issue 32: nas show, the report)
    n = len(study.trials)
    changed = dataclasses.replace(cal, version="bbbbbbbbbbbb")
    monkeypatch.setattr(predict_mod, "load_calibrations", lambda *a, **k: {"test-cal": changed})
    with pytest.raises(StudyError, match="test-cal version aaaaaaaaaaaa.*test-cal version bbbbbbbbbbbb"):
        run_search(dataclasses.replace(s, budget=3), log=lambda m: None)
    assert len(load_existing_study(None, url).trials) == n


def test_a_refit_keeps_the_replaced_calibration_for_its_studies(tmp_path, predicting_profile, monkeypatch):
    """A refit archives the entry it replaces as ``<name>@<version>``: a study ranked by the old
    version resumes with it (and keeps it pinned); a new study gets the refit."""
    old = dataclasses.replace(_cal(), version="aaaaaaaaaaaa")
    new = dataclasses.replace(old, version="bbbbbbbbbbbb")
    monkeypatch.setattr(predict_mod, "load_calibrations", lambda *a, **k: {"test-cal": old})
    s = SearchSettings(budget=2, profile="smoke-pred", references=("erfdn",), out=str(tmp_path / "run"),
                       threads=1, seed=0, sampler="random")
    run_search(s, log=lambda m: None)
    monkeypatch.setattr(predict_mod, "load_calibrations",
                        lambda *a, **k: {"test-cal": new, "test-cal@aaaaaaaaaaaa": old})
    logs: list[str] = []
    run_search(dataclasses.replace(s, budget=3), log=logs.append)
    study = load_existing_study(None, f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    assert study.user_attrs["calibration"]["version"] == "aaaaaaaaaaaa" and len(study.trials) == 3
    assert any("resuming with calibration test-cal version aaaaaaaaaaaa" in m for m in logs)
    run_search(dataclasses.replace(s, out=str(tmp_path / "fresh")), log=lambda m: None)
    fresh = load_existing_study(None, f"sqlite:///{tmp_path / 'fresh' / 'study.db'}")
    assert fresh.user_attrs["calibration"]["version"] == "bbbbbbbbbbbb"


def test_archive_calibration_keeps_the_old_entry_under_its_version(tmp_path):
    import json

    from nas.errors import NasError

    path = tmp_path / "cals.json"
    entry = {"scale": 4, "protocol": {}, "data": "d", "horizon": "h", "features": ["psnr"],
             "models": {"20": {"intercept": 1.0, "coef": [0.5], "sigma_db": 0.3}}}
    refit = {**entry, "models": {"20": {"intercept": 2.0, "coef": [0.5], "sigma_db": 0.3}}}
    cals = predict_mod.archive_calibration({"c-x4": entry}, "c-x4", refit)
    path.write_text(json.dumps(cals))
    loaded = load_calibrations(path)
    old_version = next(k for k in loaded if "@" in k).split("@")[1]
    assert loaded["c-x4"].models[20]["intercept"] == 2.0 and loaded[f"c-x4@{old_version}"].name == "c-x4"
    assert predict_mod.archived_calibration("c-x4", old_version, [path]).models[20]["intercept"] == 1.0
    assert predict_mod.archive_calibration(cals, "c-x4", refit) == cals  # the same entry: nothing archived
    cals[f"c-x4@{old_version}"] = {**entry, "data": "edited"}
    path.write_text(json.dumps(cals))
    with pytest.raises(NasError, match="changed after it was archived"):
        load_calibrations(path)


def test_shipped_calibrations_have_versions():
    for cal in load_calibrations().values():
        assert len(cal.version) == 12 and int(cal.version, 16) >= 0
