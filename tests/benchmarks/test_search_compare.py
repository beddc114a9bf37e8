"""benchmarks/search_compare.py: method specs, the summary, the run-complete decision and the
scoring of hand-made studies (no training, no subprocess), and one smoke-profile rescore on two
worker processes (seconds)."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path

import optuna
import pytest

from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from tests.benchmarks import load_benchmark

sc = load_benchmark("search_compare")

FIXED = {"name": "default", "iters": 60, "rungs": 1, "eta": 3}
HALVING = {"name": "halving", "iters": 20, "rungs": 3, "eta": 3}


# ---------------------------------------------------------------------------------- methods
def test_default_methods():
    ms = sc.parse_methods(None)
    assert [m.name for m in ms] == ["default", "random", "nsga2", "tpe-fixed"]
    assert ms[0].args == ("--profile", "halving", "--sampler", "tpe")
    assert ms[3].args_text == "--profile fixed --sampler tpe"


def test_method_override_replaces_the_set():
    ms = sc.parse_methods(['a=--profile smoke-halving --sampler "tpe"', "b=", "c.1=--sampler=random"])
    assert [(m.name, m.args) for m in ms] == [("a", ("--profile", "smoke-halving", "--sampler", "tpe")),
                                              ("b", ()), ("c.1", ("--sampler=random",))]


@pytest.mark.parametrize("spec, match", [
    ("noequals", "NAME="),
    ("bad/name=--sampler tpe", "name"),
    ("a=--seed 3", "--seed"),
    ("a=--out-dir=/tmp/x", "--out-dir"),
    ("a=--budget 5", "--budget"),
    ("a=--sampler 'tpe", "quotation"),
])
def test_bad_method_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        sc.parse_method(spec)


def test_duplicate_method_and_seeds():
    with pytest.raises(ValueError, match="twice"):
        sc.parse_methods(["a=", "a=--sampler tpe"])
    assert sc.parse_seeds("0, 1,2,1") == [0, 1, 2]
    with pytest.raises(ValueError):
        sc.parse_seeds(" , ")


def test_search_command():
    m = sc.MethodSpec("a", ("--profile", "halving"))
    cmd = sc.search_command(m, 2, 50, 4, 1, ["--references", "none"], Path("/r/a_s2"))
    assert cmd == ["nas", "search", "--budget", "50", "--seed", "2", "--scale", "4", "--out", "/r/a_s2",
                   "--threads", "1", "--profile", "halving", "--references", "none"]
    assert "--threads" not in sc.search_command(m, 0, 5, 4, 0, [], Path("x"))


def test_cli_rejects_reserved_extra_args(capsys):
    with pytest.raises(SystemExit):
        sc.parse_args(["--extra-args", "--seed 3"])
    assert "--seed" in capsys.readouterr().err
    args = sc.parse_args(["--budget", "3", "--method", "x=--sampler tpe", "--out-dir", "/tmp/sc"])
    assert args.tag == "custom" and args.seed_list == [0, 1, 2] and args.methods[0].name == "x"
    assert sc.parse_args([]).tag == "builtin"


# ---------------------------------------------------------------------------------- summary
def test_summary_medians_and_ratios():
    runs = [
        {"method": "default", "final_hv": 0.30, "wall_s": 100.0, "front_size": 5, "n_top": 20,
         "refs_dominated": {"imdn": 2}},
        {"method": "default", "final_hv": 0.36, "wall_s": 120.0, "front_size": 7, "n_top": 22,
         "refs_dominated": {"imdn": 4}},
        {"method": "default", "final_hv": 0.33, "wall_s": 110.0, "front_size": 6, "n_top": 21,
         "refs_dominated": {"imdn": 3}},
        {"method": "random", "final_hv": 0.20, "wall_s": 90.0, "front_size": 4, "n_top": 18},
        {"method": "random", "final_hv": 0.25, "wall_s": 95.0, "front_size": 3, "n_top": 19},
        {"method": "random", "final_hv": None, "wall_s": 5.0},  # failed run: left out
        {"method": "zero", "final_hv": 0.0},
    ]
    s = sc.summarise(runs, ["default", "random", "zero", "absent"], "random")
    assert s["default"]["n"] == 3 and s["default"]["median"] == pytest.approx(0.33)
    assert (s["default"]["min"], s["default"]["max"]) == (0.30, 0.36)
    assert s["random"]["n"] == 2 and s["random"]["median"] == pytest.approx(0.225)
    assert s["default"]["ratio_vs_baseline"] == pytest.approx(0.33 / 0.225)
    assert s["random"]["ratio_vs_baseline"] == pytest.approx(1.0)
    assert s["zero"]["ratio_vs_baseline"] == 0.0
    assert s["absent"]["n"] == 0 and s["absent"]["median"] is None and s["absent"]["ratio_vs_baseline"] is None
    assert s["default"]["median_wall_s"] == 110.0 and s["random"]["median_wall_s"] == 92.5
    assert s["default"]["median_front_size"] == 6 and s["default"]["median_refs_dominated"] == {"imdn": 3}
    # no baseline among the methods, or a baseline with median 0: no ratios
    assert sc.summarise(runs, ["default"], "random")["default"]["ratio_vs_baseline"] is None
    assert sc.summarise(runs, ["default", "zero"], "zero")["default"]["ratio_vs_baseline"] is None
    assert sc.ratio(1.0, None) is None and sc.ratio(1.2, 1.0) == pytest.approx(1.2)


def test_schedule_groups_and_target_text():
    # grouped by what the schedule is, not by the profile's name (which changed between versions)
    runs = [{"method": "default", "schedule": {"profile": "default", "rungs": 3, "top_iters": 180}, "top_iters": 180},
            {"method": "random", "schedule": {"profile": "halving", "rungs": 3, "top_iters": 180}, "top_iters": 180},
            {"method": "tpe-fixed", "schedule": {"profile": "default", "rungs": 1, "top_iters": 60}, "top_iters": 60}]
    g = sc.schedule_groups(runs, ["default", "random", "tpe-fixed"])
    assert g == {"successive halving, 3 rungs, top fidelity 180 steps": ["default", "random"],
                 "one fidelity, 60 steps": ["tpe-fixed"]}
    result = {"settings": {"baseline": "random"}, "schedule_groups": g,
              "summary": {"default": {"ratio_vs_baseline": 1.25}, "random": {"ratio_vs_baseline": 1.0}}}
    assert "**met**" in sc.target_text(result)
    assert "different schedules" in sc.fairness_text(result) and "--rescore" in sc.fairness_text(result)


# ---------------------------------------------------------------------------------- studies
def _study(run_dir: Path, profile: dict, values: list[tuple[float, float, float, float]]) -> optuna.Study:
    """A study as `nas search` leaves it: facts as user attributes, COMPLETE trials with values."""
    run_dir.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    st = optuna.create_study(study_name="t_x4", storage=sc.storage_url(run_dir),
                             directions=["maximize", "minimize", "minimize", "minimize"])
    st.set_user_attr("scale", 4)
    st.set_user_attr("profile", profile)
    st.set_user_attr("sampler", "tpe")
    t0 = _dt.datetime(2026, 1, 1, 12, 0, 0)
    for i, v in enumerate(values):
        st.add_trial(create_trial(
            state=TrialState.COMPLETE, values=list(v), params={"x": float(i)},
            distributions={"x": FloatDistribution(0.0, 100.0)},
            user_attrs={"arch_id": f"a{i}", "iters": profile["iters"], "summary": f"arch {i}",
                        "reference": "imdn" if i == 0 else None},
        ))
    # creation times are "now": spread them out so the history has an order
    from sqlalchemy import create_engine, text

    eng = create_engine(sc.storage_url(run_dir))
    with eng.begin() as c:
        for i in range(len(values)):
            c.execute(text("UPDATE trials SET datetime_start=:s, datetime_complete=:e WHERE number=:n"),
                      {"s": t0 + _dt.timedelta(seconds=10 * i), "e": t0 + _dt.timedelta(seconds=10 * i + 9), "n": i})
    eng.dispose()
    return st


VALUES = [(28.0, 700_000, 4.0e10, 50.0),   # the "reference"
          (27.5, 300_000, 2.0e10, 30.0),
          (28.5, 500_000, 3.0e10, 40.0),   # dominates the reference
          (26.0, 900_000, 5.0e10, 80.0)]   # dominated


def test_run_state_fixed_profile(tmp_path):
    assert sc.run_state(tmp_path / "none", 3) == {"done": False, "n_complete": 0, "n_running": 0,
                                                  "pending_promotions": 0, "reason": "no study yet"}
    _study(tmp_path / "r", FIXED, VALUES)
    assert sc.run_state(tmp_path / "r", 4)["done"] is True
    assert sc.run_state(tmp_path / "r", 3)["done"] is True
    s = sc.run_state(tmp_path / "r", 5)
    assert s["done"] is False and s["n_complete"] == 4 and "4 of 5" in s["reason"]


def test_run_state_halving_waits_for_promotions(tmp_path):
    from nas.search.rungs import promotions

    st = _study(tmp_path / "h", HALVING, VALUES)
    s = sc.run_state(tmp_path / "h", 4)
    assert s["done"] is False and s["pending_promotions"] > 0 and "promotion" in s["reason"]
    for _ in range(5):  # play the promotions through, as `nas search` would
        pending = promotions(st.get_trials(), st.user_attrs, 3, 3, grace_s=-1.0)
        if not pending:
            break
        for number, rung in pending:
            st.set_user_attr(f"rung:{number}:{rung}", {"psnr_db": VALUES[number][0] + rung, "iters": 20 * 3 ** rung,
                                                       "at": "2026-01-01T12:01:00"})
    assert sc.run_state(tmp_path / "h", 4)["done"] is True
    r = sc.score_run(tmp_path / "h")
    assert r["top_iters"] == 180 and r["schedule"]["top_iters"] == 180
    assert r["n_top"] == len([n for n in range(4) if st.user_attrs.get(f"rung:{n}:2")])
    assert r["hv_history"][-1]["n_trials"] == 4  # the top-rung results came after every trial


def test_score_run_fixed_profile(tmp_path):
    from nas.front.hypervolume import hypervolume

    _study(tmp_path / "r", FIXED, VALUES)
    r = sc.score_run(tmp_path / "r")
    assert r["n_complete"] == 4 and r["n_top"] == 4 and r["schedule"] == {"profile": "default", "rungs": 1,
                                                                          "top_iters": 60}
    assert sorted(p["number"] for p in r["front"]) == [1, 2]
    assert r["final_hv"] == pytest.approx(hypervolume([VALUES[1], VALUES[2]], 4))
    assert r["final_hv"] > 0
    assert [h["n_trials"] for h in r["hv_history"]] == [1, 2, 3, 4]
    assert [h["elapsed_s"] for h in r["hv_history"]] == [9.0, 19.0, 29.0, 39.0]
    assert r["refs_dominated"] == {"imdn": 1}


# ---------------------------------------------------------------------------------- secondary measures
def test_reference_box_hv_measures_only_what_beats_the_published_networks():
    from types import SimpleNamespace

    from nas.front.hypervolume import hv_reference

    def pt(values, reference=None):
        return SimpleNamespace(values=values, reference=reference)

    refs = [pt((29.0, 700_000, 40e9, 100.0), "imdn"), pt((29.5, 400_000, 20e9, 60.0), "erfdn")]
    box = lambda *searched: sc.reference_box_hv(SimpleNamespace(hv_reference=hv_reference(4),
                                                                complete=[*refs, *searched]))
    assert box() == 0.0                                       # the references alone add nothing
    assert box(pt((28.0, 10_000, 1e9, 5.0))) == 0.0           # worse PSNR than every reference: outside
    assert box(pt((40.0, 0, 0, 0.0))) == pytest.approx(1.0)   # the ideal point dominates the whole box
    # the box's worst corner is (29.0 dB, 700 K, 40 G, 100 ms); half-way on every loss axis (costs on
    # log axes from the ideal 1 K, 50 M, 0.1 ms: the geometric mean): 1/16
    half = pt((40.0 - 11.0 / 2, (1e3 * 700_000) ** 0.5, (5e7 * 40e9) ** 0.5, (0.1 * 100.0) ** 0.5))
    assert box(half) == pytest.approx(1 / 16)
    assert sc.reference_box_hv(SimpleNamespace(hv_reference=hv_reference(4), complete=[half])) is None


def test_linear_box_hv_is_the_first_benchmark_definition():
    # costs linear from 0 to the reference point: half of each range gives 1/16 of the box
    assert sc.linear_box_hv([(25.0, 1e6, 5e10, 500.0)], 4) == pytest.approx(1 / 16)
    assert sc.linear_box_hv([(25.0, 1e6, 5e10, 500.0)], 2) == pytest.approx(0.5 * 0.5 * 0.875 * 0.5)  # x2: 4e11
    assert sc.linear_box_hv([], 4) == 0.0
    # a 13 K-parameter network at 28 dB nearly saturates its cost axes (the reason for the log box)
    assert sc.linear_box_hv([(28.0, 13_000, 7.5e8, 3.7)], 4) > 0.39


def test_active_clock_leaves_out_the_pause_between_sittings():
    import datetime as dt

    t0 = dt.datetime(2026, 1, 1, 12, 0, 0)
    at = lambda s: t0 + dt.timedelta(seconds=s)
    # sitting 1: 0-300 s; killed; sitting 2 starts an hour later and runs 120 s
    clock, total = sc.active_clock([at(0), at(100), at(300), at(3900), at(4020), None])
    assert total == 420.0
    assert clock(at(0)) == 0.0 and clock(at(300)) == 300.0
    assert clock(at(3900)) == 300.0 and clock(at(4000)) == 400.0
    assert clock(at(-5)) == 0.0 and clock(None) is None
    assert sc.active_clock([])[1] == 0.0


def test_hv_at_reads_the_history_by_elapsed_time():
    run = {"hv_history": [{"hypervolume": 0.3, "elapsed_s": 10.0}, {"hypervolume": 0.5, "elapsed_s": 100.0}]}
    assert sc.hv_at(run, 5) == 0.0 and sc.hv_at(run, 10) == 0.3 and sc.hv_at(run, 99) == 0.3
    assert sc.hv_at(run, 1e6) == 0.5 and sc.hv_at({}, 10) is None


def test_an_adopted_run_is_scored_not_rerun_and_its_note_is_printed(tmp_path):
    run = tmp_path / "cmp" / "runs" / "tpe-fixed_s0"
    _study(run, FIXED, VALUES)
    meta = {"method": "tpe-fixed", "args": ["--profile", "fixed", "--sampler", "tpe"], "extra": [], "scale": 4,
            "seed": 0, "budget": 4, "attempts": [{"wall_s": 600.0, "rc": 0}],
            "note": "adopted from results/elsewhere, same flags"}
    (run / sc.RUN_META).write_text(json.dumps(meta))
    rc = sc.main(["--method", "tpe-fixed=--profile fixed --sampler tpe", "--seeds", "0", "--budget", "4",
                  "--no-run", "--out-dir", str(tmp_path / "cmp"), "--tag", "t"])
    assert rc == 0
    result = json.loads((tmp_path / "cmp" / "search_compare_t.json").read_text())
    (rec,) = result["runs"]
    assert rec["status"] == "skipped" and rec["note"] == meta["note"] and rec["wall_s"] >= 600.0
    md = (tmp_path / "cmp" / "search_compare_t.md").read_text()
    assert "- `tpe-fixed` seed 0: adopted from results/elsewhere, same flags" in md
    assert "one fidelity, 60 steps" in md


def test_rescore_trains_each_distinct_front_member_once_on_worker_processes(tmp_path, capsys):
    from nas.arch import ArchConfig
    from nas.front.hypervolume import hypervolume

    def member(number, nf, psnr):
        cfg = ArchConfig.from_dict({"scale": 4, "nf": nf, "fusion": "conv1x1",
                                    "blocks": [{"type": "imdb", "attention": "none"}]})
        return {"number": number, "reference": None, "arch_id": cfg.arch_id, "summary": cfg.summary(),
                "psnr_db": psnr, "params": 1e4 * nf, "mult_adds": 1e8 * nf, "latency_ms": float(nf),
                "iters": 4, "config": cfg.to_dict()}

    a, b = member(1, 8, 20.0), member(2, 12, 21.0)
    runs = [{"front": [a, b], "data_source": None}, {"front": [dict(b, number=7)], "data_source": None}]
    cache = sc.RescoreCache(tmp_path / "r.jsonl")
    info = sc.rescore_runs(runs, "smoke", 4, threads=2, device="cpu", cache=cache, jobs=2)
    assert info["trained"] == 2 and info["cached"] == 0 and info["failed"] == 0 and info["threads"] == 1
    recs = [__import__("json").loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert sorted(r["arch_id"] for r in recs) == sorted([a["arch_id"], b["arch_id"]])
    assert all(r["threads"] == 1 and r["iters"] == 4 and 5.0 < r["psnr_db"] < 40.0 for r in recs)
    psnr = {r["arch_id"]: r["psnr_db"] for r in recs}
    r0 = runs[0]["rescored"]
    assert r0["n_front"] == 2 and r0["n_rescored"] == 2
    assert r0["hypervolume"] == pytest.approx(hypervolume(
        [(psnr[m["arch_id"]], m["params"], m["mult_adds"], m["latency_ms"]) for m in (a, b)], 4))
    # run again: everything from the cache (a resumed rescore trains nothing twice)
    again = sc.rescore_runs(runs, "smoke", 4, threads=2, device="cpu", cache=sc.RescoreCache(tmp_path / "r.jsonl"),
                            jobs=2)
    assert again["trained"] == 0 and again["cached"] == 2
    with pytest.raises(ValueError, match="--jobs"):
        sc.rescore_runs(runs, "smoke", 4, threads=2, device="cpu", cache=cache, jobs=0)
