"""The statistics of benchmarks/fidelity.py on hand-made numbers (no training, no torch)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.benchmarks import load_benchmark


fid = load_benchmark("fidelity")


def test_perfect_ranking():
    truth = [25.0 + 0.1 * i for i in range(20)]
    pred = [10.0 + i * i for i in range(20)]  # monotone, not linear
    s = fid.rank_stats(pred, truth)
    assert s["n"] == 20 and s["k"] == 2
    assert s["spearman"] == pytest.approx(1.0)
    assert s["kendall"] == pytest.approx(1.0)
    assert s["top10_overlap"] == 1.0


def test_reversed_ranking():
    truth = [float(i) for i in range(10)]
    s = fid.rank_stats(truth[::-1], truth)
    assert s["spearman"] == pytest.approx(-1.0)
    assert s["kendall"] == pytest.approx(-1.0)
    assert s["top10_overlap"] == 0.0


def test_known_spearman_and_kendall():
    # one adjacent swap among 5: d^2 sum = 2 -> rho = 1 - 6*2/(5*24) = 0.9; tau = (9 - 1) / 10 = 0.8
    truth = [1, 2, 3, 4, 5]
    pred = [1, 2, 3, 5, 4]
    s = fid.rank_stats(pred, truth)
    assert s["spearman"] == pytest.approx(0.9)
    assert s["kendall"] == pytest.approx(0.8)


def test_known_top_k_overlap():
    # n = 20 -> k = 2; truth's best two are indices 19 and 18, the predictor's 19 and 0
    truth = [float(i) for i in range(20)]
    pred = list(truth)
    pred[0] = 100.0
    assert fid.top_k_overlap(pred, truth) == 0.5
    # k = 5 with frac 0.25: predictor's top 5 = {19, 18, 17, 0, 1}, truth's = {15..19}: 3 shared
    pred = list(truth)
    pred[0], pred[1], pred[16], pred[15] = 50.0, 40.0, -1.0, -2.0
    assert fid.top_k_overlap(pred, truth, frac=0.25) == pytest.approx(3 / 5)


def test_top_k_size_rounds_before_ceil():
    assert fid.top_k_size(20) == 2
    assert fid.top_k_size(30) == 3  # 0.1 * 30 = 3.0000000000000004 in floating point
    assert fid.top_k_size(21) == 3
    assert fid.top_k_size(3) == 1
    assert fid.top_k_size(1) == 1


def test_missing_values_are_dropped_pairwise():
    truth = [1.0, 2.0, float("nan"), 4.0, 5.0, 6.0]
    pred = [1.0, None, 3.0, 4.0, 5.0, 6.0]
    s = fid.rank_stats(pred, truth)
    assert s["n"] == 4
    assert s["spearman"] == pytest.approx(1.0)


def test_constant_predictor_gives_nan_correlation():
    s = fid.rank_stats([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert math.isnan(s["spearman"]) and math.isnan(s["kendall"])


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        fid.rank_stats([1.0, 2.0], [1.0, 2.0, 3.0])


def test_ground_truth_is_mean_of_seeds():
    gt = fid.ground_truth([20.0, 21.0, None], [22.0, 21.5, 23.0])
    assert gt[:2] == [21.0, 21.25]
    assert math.isnan(gt[2])


def test_cache_finds_a_unit_stored_before_threads_joined_the_profile(tmp_path: Path):
    # zoo_fidelity_builtin.cache.jsonl: the profiles have no ``threads``, the records say 1
    import json

    from nas.proxy.profiles import PROFILES

    prof = PROFILES["halving"]
    old = {k: v for k, v in prof.to_dict().items() if k != "threads"}
    rec = {"kind": "unit", "arch_id": "a1", "protocol": "halving", "profile": old, "data": "scale=4|builtin",
           "threads": 1, "rungs": []}
    (tmp_path / "c.jsonl").write_text(json.dumps(rec) + "\n")
    cache = fid.Cache(tmp_path / "c.jsonl")
    assert fid._unit_key("a1", "halving", prof.with_threads(1).to_dict(), "scale=4|builtin") in cache.units
    assert fid._unit_key("a1", "halving", prof.with_threads(2).to_dict(), "scale=4|builtin") not in cache.units


def test_bicubic_skip_records_from_before_the_profile_field_are_found():
    """Units trained by the ``bicubic_skip`` lever before ``ProxyProfile.skip`` existed were cached
    under the protocol ``halving_bicubic_skip``: they are the ``halving`` protocol with
    ``skip: bicubic`` and must not be retrained (13 networks, about 40 min)."""
    import dataclasses

    from nas.proxy.profiles import PROFILES

    prof = dataclasses.replace(PROFILES["halving"], threads=1)
    old = {k: v for k, v in prof.to_dict().items() if k != "skip"}
    rec = {"kind": "unit", "arch_id": "a1", "protocol": "halving_bicubic_skip", "profile": old,
           "data": "scale=4|builtin", "threads": 1, "rungs": []}
    key = fid._rec_key(rec)
    assert key == fid._unit_key("a1", "halving", dataclasses.replace(prof, skip="bicubic").to_dict(), "scale=4|builtin")
    assert key != fid._unit_key("a1", "halving", prof.to_dict(), "scale=4|builtin")
