"""``nas search --preset ntire-esr``: the NTIRE efficient-SR challenge's setting (RGB PSNR, the
challenge's FLOPs, RLFN / EFDN / SPAN as references, its score in the report) and ``--min-psnr``."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from torch import nn

from nas.errors import NasError
from nas.metrics.quality import psnr_plane
from nas.proxy import get_profile
from nas.proxy.profiles import same_protocol
from nas.search.settings import SearchSettings, apply_preset, check_settings
from tests.robustness.conftest import nas


def test_the_preset_fills_what_is_left_unset_and_given_flags_win():
    s = apply_preset(SearchSettings(preset="ntire-esr"))
    assert s.space.endswith("search_spaces/ntire_esr.yaml") and s.metric == "rgb" and s.ntire_year == 2026
    assert s.references == ("rlfn_ntire", "efdn", "span_ntire")
    assert s.objectives == "psnr_db,params,ntire_flops,latency_ms"
    mine = apply_preset(SearchSettings(preset="ntire-esr", metric="y", references=("span_ntire",)))
    assert mine.metric == "y" and mine.references == ("span_ntire",)
    assert apply_preset(SearchSettings()) == SearchSettings()  # no preset: unchanged


@pytest.mark.parametrize("kw, match", [
    (dict(preset="ntire-esr", scale=2), "x4"),
    (dict(preset="aim2020"), "unknown preset"),
    (dict(metric="lab"), "--metric"),
    (dict(min_psnr=-3.0), "--min-psnr"),
])
def test_bad_preset_settings_name_the_flag(kw, match):
    with pytest.raises(NasError, match=match):
        check_settings(SearchSettings(**kw))
        apply_preset(SearchSettings(**kw))


def test_metric_is_part_of_the_protocol_and_old_profiles_mean_y():
    y, rgb = get_profile("smoke"), get_profile("smoke", metric="rgb")
    assert rgb.metric == "rgb" and not same_protocol(y, rgb)
    stored_before = {k: v for k, v in y.to_dict().items() if k != "metric"}  # a study from before
    assert same_protocol(stored_before, y) and not same_protocol(stored_before, rgb)


class _Nearest(nn.Module):
    """x4 nearest-neighbour upsampling with one (unused) parameter: a network whose output is known."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest") + 0 * self.w


def test_rgb_validation_psnr_equals_a_hand_computation():
    from nas.proxy.data import load_proxy_data
    from nas.proxy.train import validate_psnr
    from nas.metrics import to_uint8

    data = load_proxy_data(4, get_profile("smoke"))
    got = validate_psnr(_Nearest(), data, torch.device("cpu"), metric="rgb")
    hand = []
    for pair in data.val:
        sr = np.repeat(np.repeat(pair.lr, 4, axis=0), 4, axis=1)  # nearest x4, already uint8
        sr = to_uint8(sr.astype(np.float32) / 255.0)
        a, b = sr[4:-4, 4:-4].astype(np.float64), pair.hr[4:-4, 4:-4].astype(np.float64)
        mse = np.mean((a - b) ** 2)  # over the three channels together (NTIRE's calculate_psnr)
        hand.append(10 * math.log10(255.0 ** 2 / mse))
    assert got == pytest.approx(float(np.mean(hand)), abs=1e-9)
    assert got == pytest.approx(np.mean([psnr_plane(np.repeat(np.repeat(p.lr, 4, 0), 4, 1)[4:-4, 4:-4],
                                                    p.hr[4:-4, 4:-4]) for p in data.val]), abs=1e-9)
    y = validate_psnr(_Nearest(), data, torch.device("cpu"), metric="y")
    assert abs(y - got) > 0.01  # not the Y number


def test_a_preset_search_stores_the_protocol_and_scores_against_the_baseline(tmp_path):
    out = tmp_path / "run"
    r = nas("search", "--preset", "ntire-esr", "--profile", "smoke", "--threads", "1", "--budget", "5",
            "--out", str(out), "--jobs", "1", "--min-psnr", "9.0")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "G NTIRE FLOPs" in r.stderr and "threshold" in r.stderr
    study = optuna.load_study(study_name="ntire_esr_x4", storage=f"sqlite:///{out / 'study.db'}")
    ua = study.user_attrs
    assert ua["profile"]["metric"] == "rgb" and ua["ntire_year"] == 2026 and ua["preset"] == "ntire-esr"
    assert ua["objectives"] == ["psnr_db", "params", "ntire_flops", "latency_ms"]
    df = pd.read_csv(out / "trials.csv")
    refs = df[df.reference.notna()].set_index("reference")  # empty CSV cells read as NaN
    assert set(refs.index) == {"rlfn_ntire", "efdn", "span_ntire"}
    assert refs.loc["rlfn_ntire", "ntire_flops"] == pytest.approx(19.67e9, rel=2e-3)  # the challenge's 19.67 G
    assert refs.loc["span_ntire", "ntire_score"] == pytest.approx(math.exp(2), abs=1e-3)  # the 2026 baseline
    searched = study.trials[3:]
    for t in searched:  # the threshold: a constraint on the PSNR objective, references exempt
        if t.state.name == "COMPLETE":
            assert t.constraints["min_psnr"] == pytest.approx((9.0 - t.values[0]) / 9.0)
            status = df.set_index("number").loc[t.number, "status"]
            assert (status == "rejected") == (t.values[0] < 9.0)
    assert all("min_psnr" not in t.constraints for t in study.trials[:3])
