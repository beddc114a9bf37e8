"""The proxy profiles users pick by name, and the hint a study gives when resumed with another."""

from __future__ import annotations

import pytest

from nas.errors import NasError
from nas.proxy.predict import NoCalibrationError, resolve_profile
from nas.proxy.profiles import PROFILES, get_profile
from nas.proxy.profiles import protocol_fields as _protocol
from nas.search.study import _profile_hint


def test_default_is_zoo_predicted_where_calibrated_and_refused_elsewhere():
    """Issues 18, 31 and 32: `default` resolves per study to the first protocol that has a calibration
    for its scale and protocol (zoo-gt: x4 / x3 / x2, Y- and RGB-PSNR, 20 iterations), else it
    raises NoCalibrationError (halving only by name, or for a study created with it)."""
    for scale in (4, 3, 2):
        d, note = resolve_profile("default", scale)
        assert d.name == "zoo-predicted" and d.skip == "bicubic" and d.predictor == "zoo-gt" and note is None
        assert _protocol(d.to_dict()) == _protocol(get_profile("zoo-predicted").to_dict())
    # the same training as bicubic-predicted, ranked by another calibration
    assert {**_protocol(get_profile("zoo-predicted").to_dict()), "predictor": "zoo-skip"} == \
        _protocol(get_profile("bicubic-predicted").to_dict())
    for scale in (4, 3, 2):  # RGB-PSNR calibrations (nas calibrate --metric rgb) are shipped too
        d, note = resolve_profile("default", scale, metric="rgb")
        assert d.name == "zoo-predicted" and d.metric == "rgb" and note is None
    # elsewhere no default: the caller says how to make a calibration (issue 32: never raw PSNR silently)
    for scale, kw in ((4, {"iters": 40}), (8, {})):
        with pytest.raises(NoCalibrationError, match=f"no calibration fits x{scale}") as err:
            resolve_profile("default", scale, **kw)
        assert err.value.profile.name == "zoo-predicted"
    # the training thread count does not move the 20-step PSNR enough to matter to the prediction
    assert resolve_profile("default", 4, threads=2)[0].name == "zoo-predicted"
    with pytest.raises(NasError, match="resolve_profile"):  # it depends on the study
        get_profile("default")
    # a resumed study keeps the default it was created with: the halving default of before
    h = get_profile("halving")
    stored = {k: v for k, v in h.to_dict().items() if k != "predictor"} | {"name": "default"}
    again, note = resolve_profile("default", 4, stored=stored)
    assert again.name == "halving" and "created with" in note
    assert resolve_profile("default", 4, stored=get_profile("fixed").to_dict())[0].name == "zoo-predicted"
    # a study created with the issue-18 default keeps it (and its zoo-skip calibration)
    old = get_profile("bicubic-predicted").to_dict() | {"name": "default"}
    assert resolve_profile("default", 4, stored=old)[0].name == "bicubic-predicted"
    assert "default" not in PROFILES  # never stored under that name again


def test_halving_predicted_and_fixed_keep_their_protocols():
    h, p = get_profile("halving"), get_profile("predicted")
    assert h.multi_fidelity and h.rung_stops == [20, 60, 180] and h.eta == 3
    # `predicted`: the same training, ranked by the predicted fully-trained PSNR (issue 18)
    assert p.predictor == "zoo-x4" and h.predictor == "none"
    assert {**_protocol(p.to_dict()), "predictor": "none"} == _protocol(h.to_dict())
    # a study stored before `predictor` existed trained and ranked as `halving` does now
    stored = {k: v for k, v in h.to_dict().items() if k != "predictor"} | {"name": "default"}
    assert _protocol(stored) == _protocol(h.to_dict()) and _profile_hint(stored).startswith(
        "resume it with --profile halving")
    # a study made with `predicted` names it when resumed with another profile
    assert _profile_hint(p.to_dict()).startswith("resume it with --profile predicted")
    f = get_profile("fixed")
    assert not f.multi_fidelity and f.iters == 60 and f.top_iters == 60
    # the committed fixed-proxy study stored its profile before `rungs`/`eta` existed, as "default"
    old = {k: v for k, v in f.to_dict().items() if k not in ("rungs", "eta")} | {"name": "default"}
    assert _protocol(old) == _protocol(f.to_dict())


def test_resume_hint_names_the_profile_of_the_stored_protocol():
    assert _profile_hint(PROFILES["fixed"].to_dict()) == "resume it with --profile fixed, or "
    assert _profile_hint(PROFILES["fast"].to_dict()) == "resume it with --profile fast, or "
    assert _profile_hint(get_profile("fixed", iters=90).to_dict()) == "resume it with --profile fixed --iters 90, or "
    assert _profile_hint({**PROFILES["fixed"].to_dict(), "lr_patch": 17}) == ""
    assert _profile_hint("not a dict") == ""


def test_training_threads_are_part_of_the_protocol():
    from nas.proxy.profiles import same_protocol

    one, two = get_profile("halving"), get_profile("halving", threads=2)
    assert one.threads == 1 and two.threads == 2
    assert not same_protocol(one, two)  # a worker with another thread count is refused on resume
    assert _profile_hint(two.to_dict()) == "resume it with --profile halving --threads 2, or "
    # a study stored before the thread count was recorded resumes with any
    old = {k: v for k, v in one.to_dict().items() if k != "threads"}
    assert _protocol(old)["threads"] is None
    assert same_protocol(old, one) and same_protocol(old, two)
    assert _profile_hint(old) == "resume it with --profile halving, or "


def test_a_score_does_not_depend_on_the_process_thread_count():
    """The profile's thread count is set for training and validation, whatever the process has:
    a worker with 2 torch threads scores a network exactly as one with 1 (issue 21)."""
    import torch

    from nas.arch import reference_config
    from nas.models import build_model
    from nas.proxy.data import load_proxy_data
    from nas.proxy.train import train_proxy

    prof = get_profile("smoke", iters=6)
    data = load_proxy_data(4, prof)
    before = torch.get_num_threads()
    scores = []
    try:
        for process_threads in (1, 2):
            torch.set_num_threads(process_threads)
            torch.manual_seed(0)
            model = build_model(reference_config("imdn_rtc", 4))
            scores.append(train_proxy(model, data, prof).psnr_db)
            assert torch.get_num_threads() == process_threads  # restored after training
    finally:
        torch.set_num_threads(before)
    assert scores[0] == scores[1], scores


def test_noise_at_an_unmeasured_fidelity_is_the_longest_measured_one_below():
    """nas confirm validates at 1620 steps, where the noise is not measured: a claim then needs
    the margin measured at 180 steps (noise falls with training, so this is the safe side)."""
    from nas.proxy.profiles import PSNR_NOISE_DB, noise_at

    n = PSNR_NOISE_DB["halving"]
    assert noise_at(n, 180) == n[180] and noise_at(n, 1620) == n[180] and noise_at(n, 100) == n[60]
    assert noise_at(n, 10) == 0.0 and noise_at({}, 1620) == 0.0 and noise_at(n, None) == 0.0
