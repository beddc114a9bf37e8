"""The ground truth (nas/arch/ground_truth.py): every entry builds with its exact parameter count,
every pair differs in exactly its declared choice, every number has a source."""

from __future__ import annotations

import re

import pytest
import torch

from nas.arch import REFERENCES
from nas.arch.ground_truth import (
    ABLATION_PAIRS,
    DESIGN_PAIRS,
    GROUND_TRUTH,
    NOT_CLAIMED,
    SETS,
    SMALL_GAP_PAIRS,
    config_diff,
    ground_truth,
)
from nas.models import build_model

#: What the set holds today (issue 31 §1 asks for 30 / 20 / 12 and 20 pairs): raise these as
#: entries are added; the report (results/ground_truth.md) says what is missing and why.
MIN_COUNTS = {4: 27, 2: 17, 3: 12}
MIN_PAIRS = 12

_ENTRY_SCALES = [(name, s) for name, e in GROUND_TRUTH.items() for s in e.scales]


def _n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_names_are_unique_keys_and_every_entry_is_sourced():
    for name, e in GROUND_TRUTH.items():
        assert e.name == name
        assert e.source.strip(), name
        assert e.family and e.lineage, name
        assert e.protocol == "main" or re.fullmatch(r"(ablation:[\w.-]+-[\w.-]+|(retrain|derived):\w+)",
                                                    e.protocol), (name, e.protocol)
        if e.protocol.startswith("retrain:"):
            of = GROUND_TRUTH[e.protocol.split(":", 1)[1]]
            assert of.protocol == "main" and e.build(4).model_dump(exclude={"name"}) == of.build(4).model_dump(
                exclude={"name"}), f"{name} must retrain {of.name}'s exact config"
        if e.protocol.startswith("derived:"):  # one option away from a main entry, not the same config
            of = GROUND_TRUTH[e.protocol.split(":", 1)[1]]
            assert of.protocol == "main" and e.build(4).arch_id != of.build(4).arch_id, name
        if e.reference is not None:
            assert e.reference in REFERENCES and e.build is REFERENCES[e.reference].build
        assert e.scales, f"{name} has no value"


def test_values_are_plausible_y_psnrs_on_known_sets():
    for name, e in GROUND_TRUTH.items():
        for s, row in e.psnr.items():
            assert set(row) <= set(SETS), (name, s, row)
            for dataset, v in row.items():
                assert 20.0 < v < 45.0, (name, s, dataset, v)


@pytest.mark.parametrize("name, scale", _ENTRY_SCALES)
def test_entry_builds_and_runs_at_each_scale(name, scale):
    entry = GROUND_TRUTH[name]
    cfg = entry.config(scale)
    assert cfg.scale == scale
    model = build_model(cfg).eval()
    x = torch.rand(1, cfg.colors, 16, 16)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, cfg.colors, 16 * scale, 16 * scale)
    if entry.params is not None and scale in entry.params:
        assert _n_params(model) == entry.params[scale]


def test_every_measured_or_zoo_count_is_given_where_the_network_has_values():
    missing = [(n, s) for n, e in GROUND_TRUTH.items() for s in e.scales if not e.params or s not in e.params]
    assert not missing, f"entries without an exact parameter count: {missing}"


_PAIRS = [(p, True) for p in ABLATION_PAIRS] + [(p, False) for p in SMALL_GAP_PAIRS]


@pytest.mark.parametrize("pair, usable", _PAIRS, ids=lambda p: f"{p.better}>{p.worse}@x{p.scale}" if hasattr(p, "better") else str(p))
def test_pair_differs_in_exactly_the_cited_choice(pair, usable):
    better, worse = GROUND_TRUTH[pair.better], GROUND_TRUTH[pair.worse]
    assert better.protocol == worse.protocol
    a = better.config(pair.scale).model_dump()
    b = worse.config(pair.scale).model_dump()
    assert config_diff(a, b) == sorted(pair.fields)
    vb, vw = better.value(pair.scale, pair.dataset), worse.value(pair.scale, pair.dataset)
    assert vb is not None and vw is not None
    assert abs((vb - vw) - pair.delta_db) < 0.006
    assert (pair.delta_db >= 0.1) == usable
    assert pair.delta_db > 0 and pair.source.strip()


@pytest.mark.parametrize("pair", DESIGN_PAIRS, ids=lambda p: f"{p.better}>{p.worse}@x{p.scale}")
def test_design_pair_is_a_smaller_better_network_of_one_table(pair):
    """Both networks of one protocol and source table; the better one has fewer deploy-form
    parameters and fewer Mult-Adds (ECBs merged), and the cited gap is the table's, >= 0.1 dB."""
    from nas.metrics.cost import count_params, mult_adds
    from nas.models import build_model, reparameterize_model

    better, worse = GROUND_TRUTH[pair.better], GROUND_TRUTH[pair.worse]
    assert better.protocol == worse.protocol == "main" and better.train_data == worse.train_data
    authors, table = pair.source.split(" (")[0], pair.source.split(", ")[1].split(" (")[0]  # "Wang et al. 2019", "Table 4"
    assert all(authors in e.source and table in e.source for e in (better, worse))
    sizes = []
    for e in (better, worse):
        net = reparameterize_model(build_model(e.config(pair.scale)).eval())
        sizes.append((count_params(net), mult_adds(net, pair.scale, in_channels=e.config(pair.scale).colors)))
    assert sizes[0][0] < sizes[1][0] and sizes[0][1] < sizes[1][1], sizes
    vb, vw = better.value(pair.scale, pair.dataset), worse.value(pair.scale, pair.dataset)
    assert abs((vb - vw) - pair.delta_db) < 0.006 and pair.delta_db >= 0.1


def test_design_pairs_keep_their_direction_on_every_benchmark_set():
    """A design pair is read on Set5; the same table's other sets (Set14, B100, Urban100) must not
    reverse it wherever both networks have a number (35 such records today, gaps 0.01-0.57 dB)."""
    checked = 0
    for better, worse in {(p.better, p.worse) for p in DESIGN_PAIRS}:
        for scale in (2, 3, 4):
            for dataset in ("Set5", "Set14", "B100", "Urban100"):
                vb, vw = GROUND_TRUTH[better].value(scale, dataset), GROUND_TRUTH[worse].value(scale, dataset)
                if vb is not None and vw is not None:
                    assert vb > vw, (better, worse, scale, dataset, vb, vw)
                    checked += 1
    assert checked >= 35 + 11


def test_pairs_are_distinct():
    keys = [(p.better, p.worse, p.scale, p.dataset) for p in ABLATION_PAIRS + SMALL_GAP_PAIRS]
    assert len(keys) == len(set(keys))


def test_counts(capsys):
    counts = {s: len(ground_truth(s)) for s in (4, 2, 3)}
    by_protocol = {s: sorted({e.protocol for e in ground_truth(s)}) for s in (4, 2, 3)}
    distinct = {(p.better, p.worse) for p in ABLATION_PAIRS}
    with capsys.disabled():
        print(f"\nground truth Set5: x4 {counts[4]}, x2 {counts[2]}, x3 {counts[3]} ({by_protocol}); "
              f"{len(ABLATION_PAIRS)} pair records over {len(distinct)} network pairs (+{len(SMALL_GAP_PAIRS)} "
              f"below 0.1 dB); {len(NOT_CLAIMED)} not claimed")
    for s, n in MIN_COUNTS.items():
        assert counts[s] >= n, (s, counts[s])
    assert len(ABLATION_PAIRS) >= MIN_PAIRS


def test_query_filters_by_protocol_and_set():
    assert all(e.value(4, "Set5") is not None for e in ground_truth(4))
    assert ground_truth(4, protocol="no-such-protocol") == []
    assert {e.name for e in ground_truth(4, "Urban100")} <= {e.name for e in GROUND_TRUTH.values()}


def test_config_diff_reports_paths():
    a = {"name": "a", "nf": 8, "blocks": [{"t": 1}, {"t": 2}]}
    assert config_diff(a, {**a, "name": "b"}) == []
    assert config_diff(a, {**a, "nf": 9}) == ["nf"]
    assert config_diff(a, {**a, "blocks": [{"t": 1}]}) == ["blocks"]
    assert config_diff(a, {**a, "blocks": [{"t": 1}, {"t": 3}]}) == ["blocks.*.t"]
