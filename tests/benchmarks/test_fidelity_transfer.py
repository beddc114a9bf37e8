"""benchmarks/fidelity_transfer.py on hand-made fidelity results (no training, no torch)."""

from __future__ import annotations

import json

import pytest

from tests.benchmarks import load_benchmark

ft = load_benchmark("fidelity_transfer")


def _run(tag: str, long: list[float], proxy: list[float], ids: list[str], scale: int = 4) -> dict:
    """A fidelity result in fidelity.py's JSON shape: one rung chain of 2 stops."""
    archs = []
    for i, (aid, lg, px) in enumerate(zip(ids, long, proxy)):
        archs.append({
            "arch_id": aid, "params": 1000 * (i + 1), "mult_adds": 10 ** 6 * (i + 1),
            "proxy": {"psnr_db": px}, "halving": {"psnr_db": px + 1, "rungs": [{"psnr_db": px}, {"psnr_db": px + 1}]},
            "long_s0": {"psnr_db": lg - 0.01}, "long_s1": {"psnr_db": lg + 0.01}, "long_mean_psnr_db": lg})
    prof = {"proxy": {"name": "fixed", "iters": 60}, "halving": {"name": "halving", "rung_stops": [20, 60]},
            "long_s0": {"name": "long", "iters": 600}}
    return {"settings": {"tag": tag, "scale": scale, "data_source": tag, "profiles": prof}, "archs": archs}


def test_source_predictors_are_scored_against_the_target_long_run():
    ids = ["a", "b", "c", "d", "e"]
    target_long = [25.0, 25.1, 25.2, 25.3, 25.4]
    # the source lists the architectures in another order; its proxy orders them as the target's long run
    source = _run("builtin", long=[30.0, 29.9, 29.8, 29.7, 29.6][::-1], proxy=[20.0, 20.1, 20.2, 20.3, 20.4], ids=ids)
    source["archs"].reverse()
    target = _run("folders", long=target_long, proxy=[21.0, 20.0, 21.5, 22.0, 23.0], ids=ids)
    res = ft.transfer(source, target)
    rows = {(r["origin"], r["key"]): r for r in res["rows"]}
    assert res["n_common"] == 5
    assert rows[("source", "proxy")]["spearman"] == pytest.approx(1.0)
    assert rows[("source", "long")]["kendall"] == pytest.approx(1.0)
    # the target's own proxy has one swap among 5: tau = 0.8
    assert rows[("target", "proxy")]["kendall"] == pytest.approx(0.8)
    assert ("target", "long") not in rows  # the ground truth is not its own predictor
    assert rows[("free", "params")]["spearman"] == pytest.approx(1.0)


def test_runs_of_other_calibration_sets_or_scales_are_refused(tmp_path):
    a = _run("a", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ["x", "y", "z"])
    with pytest.raises(ValueError, match="in common"):
        ft.transfer(a, _run("b", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ["x", "p", "q"]))
    with pytest.raises(ValueError, match="scale"):
        ft.transfer(a, _run("b", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], ["x", "y", "z"], scale=2))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(a))
    assert ft.main(["--source", str(bad), "--target", str(good), "--out-dir", str(tmp_path)]) == 2
    assert ft.main(["--source", str(good), "--target", str(good), "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "fidelity_transfer_a_to_a.md").is_file()
