"""The proxy profiles users pick by name, and the hint a study gives when resumed with another."""

from __future__ import annotations

from nas.proxy.profiles import PROFILES, get_profile
from nas.proxy.profiles import protocol_fields as _protocol
from nas.search.study import _profile_hint


def test_default_is_successive_halving_and_fixed_keeps_the_old_proxy():
    d = get_profile("default")
    assert d.multi_fidelity and d.rung_stops == [20, 60, 180] and d.eta == 3
    assert _protocol(d.to_dict()) == _protocol(get_profile("halving").to_dict())  # the alias
    # `predicted`: the same training, ranked by the predicted fully-trained PSNR (issue 18)
    h, p = get_profile("halving"), get_profile("predicted")
    assert p.predictor == "zoo-x4" and h.predictor == "none" and d.predictor == "none"
    assert {**_protocol(p.to_dict()), "predictor": "none"} == _protocol(h.to_dict())
    # a study stored before `predictor` existed trained and ranked as `halving` does now
    stored = {k: v for k, v in h.to_dict().items() if k != "predictor"} | {"name": "default"}
    assert _protocol(stored) == _protocol(h.to_dict()) and _profile_hint(stored).startswith(
        "resume it with --profile default")
    # a study made with `predicted` names it when resumed with the default
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
