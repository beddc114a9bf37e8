"""The NTIRE efficient-SR ranking: the challenge's FLOPs count, its score, its baselines."""

from __future__ import annotations

import json
import math

import pytest

from nas.errors import NasError
from nas.scoring.ntire import NTIRE_ESR, ntire_baseline, ntire_score


def test_the_baseline_scores_e_squared_and_the_weights_sum_to_one():
    for base in NTIRE_ESR.values():
        s = ntire_score(base.runtime_ms, base.flops_g, base.params_m, base.runtime_ms, base.flops_g,
                        base.params_m, base.weights)
        assert all(v == pytest.approx(7.3891, abs=1e-4) for v in s.values())  # the READMEs' example
        assert sum(base.weights) == pytest.approx(1.0)


def test_score_on_hand_made_numbers():
    # half the baseline's runtime, the same FLOPs, twice its params, 2026 weights
    s = ntire_score(2.795, 9.83, 0.302, 5.59, 9.83, 0.151, (0.8, 0.1, 0.1))
    assert s["score_runtime"] == pytest.approx(math.e)
    assert s["score_flops"] == pytest.approx(math.e ** 2)
    assert s["score_params"] == pytest.approx(math.e ** 4)
    assert s["score_final"] == pytest.approx(0.8 * math.e + 0.1 * math.e ** 2 + 0.1 * math.e ** 4)
    with pytest.raises(ValueError, match="baseline"):
        ntire_score(1.0, 1.0, 1.0, 0.0, 1.0, 1.0, (0.8, 0.1, 0.1))


def test_years_and_a_clear_error_for_an_unknown_one():
    assert ntire_baseline(2026).reference == "span_ntire" and ntire_baseline(2024).reference == "rlfn_ntire"
    assert ntire_baseline(2026).psnr_valid_db == 26.90
    with pytest.raises(NasError, match="known: 2024, 2025, 2026"):
        ntire_baseline(2023)


@pytest.mark.parametrize("name, published_g", [("rlfn_ntire", 19.67), ("span_ntire", 9.83), ("efdn", 16.70)])
def test_ntire_flops_equal_the_challenge_readmes(name, published_g):
    """FLOPs as the challenges count them: fvcore (MACs) at a 1x3x256x256 LR input; RLFN_cut
    19.67 G (NTIRE2024_ESR README), SPAN 9.83 G on its deploy form (NTIRE2026_ESR README)."""
    from nas.arch import reference_config
    from nas.metrics import ntire_flops
    from nas.models import build_model
    from nas.scoring.evaluate import deploy_form

    model = deploy_form(build_model(reference_config(name, 4)))
    assert ntire_flops(model, 4) / 1e9 == pytest.approx(published_g, abs=0.01)


def test_nas_info_ntire_scores_the_baseline_at_e_squared(capsys):
    from typer.testing import CliRunner

    from nas.cli import app

    r = CliRunner().invoke(app, ["info", "--reference", "span_ntire", "--ntire", "2026", "--json"])
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)
    assert row["ntire_flops"] == pytest.approx(9.834e9, rel=1e-3)
    assert row["score_flops"] == pytest.approx(7.3891, abs=1e-3) and row["score_params"] == pytest.approx(7.3891, abs=1e-3)
    assert row["ntire"]["baseline"] == "span_ntire"
    r2025 = CliRunner().invoke(app, ["info", "--reference", "efdn", "--ntire", "2025", "--json"])
    assert r2025.exit_code == 0, r2025.output
    assert json.loads(r2025.stdout)["ntire_flops"] == pytest.approx(16.70e9, rel=1e-3)  # the 2025 README
    bad = CliRunner().invoke(app, ["info", "--reference", "span_ntire", "--ntire", "2023"])
    assert bad.exit_code != 0
