"""Costs are those of the network a user deploys (issue 18 §3): ECBs merged before counting."""

from __future__ import annotations

import torch

from nas.arch import ArchConfig, ECBBlockConfig, IMDBConfig, reference_config
from nas.metrics import count_params, mult_adds
from nas.models import build_model, reparameterize_model
from nas.scoring.evaluate import LatencySetting, deploy_form, measure_costs

FAST = LatencySetting(lr_hw=(16, 16), warmup=1, repeats=2)


def _ecb_candidate() -> ArchConfig:
    # the shape of the committed x4 trial 36 (nf64, one residual ECB), narrower to stay fast
    return ArchConfig(name="ecb_cand", scale=4, nf=16, blocks=[ECBBlockConfig(depth=1, residual=True)])


def test_ecb_candidate_is_scored_on_its_deploy_form():
    cfg = _ecb_candidate()
    costs, model = measure_costs(cfg, latency=FAST)
    trained = build_model(cfg)
    deployed = reparameterize_model(trained)
    assert costs.params == count_params(deployed)
    assert costs.train_params == count_params(trained)
    assert costs.train_params > costs.params  # the 1x1 expansions and edge branches are gone
    assert costs.mult_adds == mult_adds(deployed, 4)
    assert costs.mult_adds < mult_adds(trained, 4)
    # the model handed back for training is the multi-branch form
    assert count_params(model) == costs.train_params


def test_network_without_ecb_has_one_form():
    cfg = ArchConfig(name="imdb1", scale=4, nf=16, blocks=[IMDBConfig(attention="none")])
    costs, model = measure_costs(cfg, latency=FAST)
    assert costs.params == costs.train_params == count_params(build_model(cfg))
    assert deploy_form(model) is model


def test_ecbsr_reference_costs_match_the_published_deploy_counts():
    # shared/reference_models.md §4: ECBSR-M4C16 x4, 49,712 training-form / 11,840 deploy params
    from nas.cli.commands import _costs

    row = _costs(reference_config("ecbsr_m4c16", 4), latency=False)
    assert row["params"] == 11_840
    assert row["train_params"] == 49_712
    assert "train_params" not in _costs(reference_config("imdn", 4), latency=False)


def test_deploy_form_computes_the_same_function():
    cfg = _ecb_candidate()
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(model(x), deploy_form(model)(x), atol=1e-5)


def test_rescore_script_moves_a_finished_study_to_deploy_costs(tmp_path):
    import importlib.util

    import optuna

    spec = importlib.util.spec_from_file_location(
        "rescore_deploy_costs", __import__("pathlib").Path(__file__).parents[2] / "scripts" / "rescore_deploy_costs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    db = tmp_path / "study.db"
    study = optuna.create_study(study_name="s", storage=f"sqlite:///{db}", directions=["maximize"] + ["minimize"] * 3)
    ecb, plain = _ecb_candidate(), ArchConfig(name="p", scale=4, nf=16, blocks=[IMDBConfig(attention="none")])
    for cfg in (ecb, plain):
        trained = build_model(cfg)
        study.add_trial(optuna.trial.create_trial(
            values=[25.0, float(count_params(trained)), float(mult_adds(trained, 4)), 10.0],
            user_attrs={"config": cfg.to_dict()}))
    assert mod.rescore(db, repeats=2, log=lambda *_: None) == 1
    assert mod.rescore(db, repeats=2, log=lambda *_: None) == 0  # a second run changes nothing
    t_ecb, t_plain = optuna.load_study(study_name="s", storage=f"sqlite:///{db}").trials
    deployed = reparameterize_model(build_model(ecb))
    assert t_ecb.values[1] == count_params(deployed) and t_ecb.values[2] == mult_adds(deployed, 4)
    assert t_ecb.user_attrs["train_params"] == count_params(build_model(ecb))
    assert t_ecb.values[0] == 25.0 and t_ecb.values[3] > 0
    assert t_plain.values[1] == count_params(build_model(plain)) and "train_params" not in t_plain.user_attrs
