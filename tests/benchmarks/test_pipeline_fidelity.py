"""`benchmarks/pipeline_fidelity.py`: every published network with a ground truth runs through
`nas search` in a shipped space, and the study's CSV is read back as the benchmark scores it."""

from __future__ import annotations

import csv

import pytest

from tests.benchmarks import load_benchmark

pf = load_benchmark("pipeline_fidelity")


def test_every_zoo_network_with_a_published_psnr_has_a_shipped_space():
    """`nas search --references` takes the whole zoo (issue 18 section 4): each reference with a
    published PSNR at x2 or x4 is a point of lightweight_sr, ntire_esr or ecbsr_y."""
    from nas.arch.references import REFERENCES, reference_config

    for scale in (2, 4):
        archs = [{"name": n, "config": reference_config(n, scale).to_dict()} for n, r in REFERENCES.items()
                 if scale in r.scales and r.published(scale, "Set5") is not None]
        assert len(archs) >= 10
        groups = pf.assign_spaces(archs)
        assert sorted(a["name"] for g in groups.values() for a in g) == sorted(a["name"] for a in archs)
        assert set(groups) <= set(pf.SPACES)


def test_read_trials_keeps_only_complete_reference_trials(tmp_path):
    rows = [{"number": 0, "state": "COMPLETE", "reference": "imdn", "psnr_db": "32.1"},
            {"number": 1, "state": "COMPLETE", "reference": "", "psnr_db": "31.0"},
            {"number": 2, "state": "FAIL", "reference": "rfdn", "psnr_db": ""}]
    with (tmp_path / "trials.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    got = pf.read_trials(tmp_path)
    assert list(got) == ["imdn"] and got["imdn"]["psnr_db"] == "32.1"
    assert pf._float("nan") is None and pf._float("") is None and pf._float("1.5") == pytest.approx(1.5)
