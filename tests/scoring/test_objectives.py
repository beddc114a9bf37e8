"""The objective registry: one list that the search, the study, the front, the hypervolume, the
report, the CLI and ``nas show`` read (``nas.scoring.objectives``), and ``--objectives``
round-tripping through all of them on a tiny real search."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
from torch import nn

from nas.errors import NasError
from nas.front.hypervolume import hv_reference, hypervolume
from nas.metrics.memory import peak_activation_bytes
from nas.scoring.objectives import (
    DEFAULT_OBJECTIVE_NAMES,
    OBJECTIVE_REGISTRY,
    OBJECTIVES,
    Objective,
    register_objective,
    resolve_objectives,
)
from tests.robustness.conftest import TINY, nas


def test_default_objectives_are_the_four_of_every_committed_study():
    assert tuple(o.name for o in OBJECTIVES) == DEFAULT_OBJECTIVE_NAMES == (
        "psnr_db", "params", "mult_adds", "latency_ms")
    assert resolve_objectives(None) == resolve_objectives("") == OBJECTIVES


def test_aliases_and_order_are_kept():
    objs = resolve_objectives("psnr, memory,flops")
    assert [o.name for o in objs] == ["psnr_db", "peak_memory_mib", "ntire_flops"]


@pytest.mark.parametrize("names, match", [
    ("psnr,params,bogus", "unknown objective 'bogus'"),
    ("params,psnr", "first objective must be psnr_db"),
    ("psnr", "at least one cost"),
    ("psnr,params,params", "named twice"),
])
def test_bad_objectives_name_the_problem(names, match):
    with pytest.raises(NasError, match=match):
        resolve_objectives(names)


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(NasError, match="already registered"):
        register_objective(Objective("params", "minimize", "parameters", True, "x"))
    assert "params" in OBJECTIVE_REGISTRY


def test_every_registered_objective_has_a_way_to_be_measured_and_bounds():
    from nas.scoring.measures import measure_function

    ref = hv_reference(4)
    for o in OBJECTIVE_REGISTRY.values():
        if o.name not in DEFAULT_OBJECTIVE_NAMES:
            assert callable(measure_function(o.measure)), o.name
        lo, hi, _ = ref.bounds(o)
        assert lo != hi, o.name


def test_default_hypervolume_box_is_unchanged():
    ref = hv_reference(4)
    assert ref.describe() == ("x4: PSNR 10-40 dB (linear), 1 K-2 M params, 50 M-100 G Mult-Adds, 0.1-1000 ms (log); "
                              "hypervolume = dominated fraction of that box")
    v = [(30.0, 5e5, 3e10, 50.0)]
    assert np.allclose(ref.normalise(v), ref.normalise(v, OBJECTIVES))


def test_hypervolume_with_other_objectives_uses_their_bounds():
    objs = resolve_objectives("psnr,params,memory")
    ref = hv_reference(4)
    lo, hi, log = ref.bounds(objs[2])
    assert (lo, hi, log) == (1.0, 4096.0, True)
    assert ref.bounds(objs[2])[:2] != hv_reference(2).bounds(objs[2])[:2]  # per LR pixel: x2 has 4x the pixels
    losses = ref.normalise([(25.0, 2e6, 64.0)], objs)[0]
    assert losses[0] == pytest.approx(0.5) and losses[1] == pytest.approx(1.0)
    assert losses[2] == pytest.approx(np.log(64.0) / np.log(4096.0))
    assert 0 < hypervolume([(25.0, 1e5, 64.0)], 4, objs) < 1


def test_peak_activation_memory_of_a_hand_made_network():
    # input 3 planes (held by the caller), conv1 -> 8 planes, relu -> 8 more while conv1's output
    # is still referenced by the Sequential, then conv1's output is freed: peak 3 + 8 + 8 planes.
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))
    h, w = 10, 20
    assert peak_activation_bytes(net, scale=1, hr_hw=(h, w)) == (3 + 8 + 8) * h * w * 4
    inplace = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(8, 3, 3, padding=1))
    assert peak_activation_bytes(inplace, scale=1, hr_hw=(h, w)) == (3 + 8 + 3) * h * w * 4
    assert next(net.parameters()).device.type == "cpu"  # the caller's model is not moved


def test_a_search_with_other_objectives_round_trips_through_study_csv_report_and_show(tmp_path):
    out = tmp_path / "run"
    r = nas("search", *TINY, "--budget", "3", "--out", str(out), "--jobs", "1",
            "--objectives", "psnr,params,memory")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "MiB peak memory" in r.stderr  # the trial log names each objective with its unit
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{out / 'study.db'}")
    assert study.user_attrs["objectives"] == ["psnr_db", "params", "peak_memory_mib"]
    assert study.metric_names == ["psnr_db", "params", "peak_memory_mib"]
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE", "MINIMIZE"]
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 3 and all(len(t.values) == 3 for t in done)
    for t in done:  # the value optimised is the one measured; the other costs are kept beside it
        assert t.values[2] == pytest.approx(t.user_attrs["costs"]["peak_memory_mib"], rel=1e-5)
        assert {"mult_adds", "latency_ms"} <= set(t.user_attrs["costs"])
    df = pd.read_csv(out / "trials.csv")
    cols = list(df.columns)
    assert cols[cols.index("latency_ms") + 1] == "peak_memory_mib"
    assert df.loc[df.state == "COMPLETE", ["params", "mult_adds", "latency_ms", "peak_memory_mib"]].notna().all().all()
    rep = nas("report", "--out-dir", str(out))
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert (out / "pareto.png").is_file()
    report = json.loads((out / "report.json").read_text())
    assert [o["name"] for o in report["objectives"]] == ["psnr_db", "params", "peak_memory_mib"]
    assert "peak_memory_mib" in report["hypervolume_reference"]["description"]
    html = (out / "report.html").read_text()
    assert "peak activation memory" in html
    show = nas("show", "--out-dir", str(out))
    assert show.returncode == 0, show.stderr[-2000:]
    assert "peak activation" in show.stdout
    # resumed without --objectives: the study's own; with others: refused, nothing written
    again = nas("search", *TINY, "--budget", "4", "--out", str(out), "--jobs", "1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert len([t for t in optuna.load_study(study_name=None, storage=f"sqlite:///{out / 'study.db'}").trials
                if t.state.name == "COMPLETE"]) == 4
    before = (out / "study.db").read_bytes()
    bad = nas("search", *TINY, "--budget", "5", "--out", str(out), "--jobs", "1", "--objectives", "psnr,params")
    assert bad.returncode != 0 and "objectives psnr_db,params,peak_memory_mib" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) <= 2
    assert (out / "study.db").read_bytes() == before


def test_an_unknown_objective_is_refused_before_anything_is_written(tmp_path):
    out = tmp_path / "run"
    r = nas("search", *TINY, "--budget", "2", "--out", str(out), "--objectives", "psnr,watts")
    assert r.returncode != 0 and "unknown objective 'watts'" in r.stderr
    assert not out.exists()


def test_scores_give_values_in_the_studys_order():
    from nas.scoring.evaluate import Scores

    s = Scores(psnr_db=30.0, params=1000, mult_adds=2000, latency_ms=3.0, iters=1, extra={"peak_memory_mib": 4.0})
    assert s.values() == (30.0, 1000.0, 2000.0, 3.0)
    assert s.values(resolve_objectives("psnr,memory,params")) == (30.0, 4.0, 1000.0)
    with pytest.raises(KeyError):
        s.values(resolve_objectives("psnr,flops"))


def test_measure_costs_measures_only_the_studys_extra_objectives():
    from nas.arch.references import REFERENCES
    from nas.scoring.evaluate import LatencySetting, measure_costs

    cfg = REFERENCES["imdn_rtc"].build(4)
    lat = LatencySetting(lr_hw=(16, 16), warmup=0, repeats=1)
    plain, _ = measure_costs(cfg, latency=lat)
    assert plain.extra == {}
    more, _ = measure_costs(cfg, latency=lat, objectives=resolve_objectives("psnr,flops,memory,ort"))
    assert set(more.extra) == {"ntire_flops", "peak_memory_mib", "onnx_latency_ms"}
    assert more.extra["onnx_latency_ms"] > 0 and "onnx_latency_ms_s" in more.timings
    assert more.extra["peak_memory_mib"] > 0 and more.extra["ntire_flops"] > 0
    assert more.params == plain.params and torch.get_num_threads() >= 1
