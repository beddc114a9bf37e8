"""The parts of `run_search`, each on its own: the settings checks, the set-up, one trial, one
promotion (``nas.search.settings``, ``_setup``, ``_trial``, ``_promote``)."""

from __future__ import annotations

import dataclasses

import optuna
import pytest
import torch

from nas.errors import NasError
from nas.search._promote import others_busy, promote_one
from nas.search._setup import open_search
from nas.search._trial import run_trial
from nas.search.rungs import rung_results
from nas.search.runner import _Signals
from nas.search.settings import SearchSettings, check_settings
from tests.robustness.conftest import TINY_SPACE


def _settings(tmp_path, **kw) -> SearchSettings:
    base = dict(space=str(TINY_SPACE), budget=4, profile="smoke", references=("imdn_rtc",),
                out=str(tmp_path / "run"), sampler="random", seed=0)
    return SearchSettings(**{**base, **kw})


@pytest.mark.parametrize("field, value, flag", [
    ("budget", 0, "--budget"), ("heartbeat", 0, "--heartbeat"), ("worker_id", -1, "--worker-id"),
    ("max_params", -5, "--max-params"), ("max_latency_ms", float("nan"), "--max-latency-ms"),
    ("sampler", "cmaes", "--sampler"),
])
def test_check_settings_names_the_flag(tmp_path, field, value, flag):
    with pytest.raises(NasError, match=flag):
        check_settings(_settings(tmp_path, **{field: value}))
    assert not (tmp_path / "run").exists()  # nothing written


def _ctx(tmp_path, **kw):
    ctx = open_search(_settings(tmp_path, **kw), log=lambda m: None)
    ctx.signals = _Signals()
    return ctx


def test_open_search_creates_the_study_with_its_facts_and_references(tmp_path):
    ctx = _ctx(tmp_path)
    assert ctx.created and (tmp_path / "run" / "study.db").is_file()
    assert ctx.study.user_attrs["profile"]["threads"] == 1
    assert ctx.latency.threads == ctx.study.user_attrs["latency"]["threads"] >= 1
    assert ctx.study.user_attrs["latency"]["budget_ms"] == ctx.latency.budget_ms == 100.0
    assert ctx.study.user_attrs["latency"]["clock"] == "perf_counter"  # cuda_event on a GPU
    from nas.proxy.train import bicubic_psnr  # the floor, stored once, scored as the candidates are
    assert ctx.study.user_attrs["bicubic_psnr_db"] == round(bicubic_psnr(ctx.data, "y"), 3)
    waiting = [t for t in ctx.study.get_trials(deepcopy=False) if t.state.name == "WAITING"]
    assert [t.user_attrs["reference"] for t in waiting] == ["imdn_rtc"]
    again = _ctx(tmp_path)  # resumes: same study, not created twice
    assert not again.created and again.study_name == ctx.study_name


def test_run_trial_scores_a_candidate_and_prunes_one_over_a_limit(tmp_path):
    threads = torch.get_num_threads()
    try:
        ctx = _ctx(tmp_path, max_params=1)
        ctx.study.optimize(lambda t: run_trial(ctx, t), n_trials=2, catch=(Exception,))
    finally:
        torch.set_num_threads(threads)
    ref, sampled = ctx.study.get_trials(deepcopy=False)
    assert ref.state.name == "COMPLETE" and ref.user_attrs["reference"] == "imdn_rtc"  # evaluated regardless
    psnr, params, macs, latency = ref.values
    assert params == 24_114 and macs > 0 and latency > 0 and psnr > 0
    assert ref.user_attrs["over_limits"] and "latency_load" in ref.user_attrs
    assert ref.user_attrs["worker"]["pid"] == ctx.worker["pid"]
    assert sampled.state.name == "PRUNED" and sampled.user_attrs["prune_reason"].startswith("over the limit")
    assert ctx.current["trial_id"] == sampled._trial_id


def test_promote_one_continues_the_best_candidate_to_the_next_rung(tmp_path):
    ctx = _ctx(tmp_path, profile="smoke-halving", budget=3)
    assert not promote_one(ctx)  # nothing trained yet
    ctx.study.optimize(lambda t: run_trial(ctx, t), n_trials=3, catch=(Exception,))
    assert not others_busy(ctx)
    assert promote_one(ctx)
    results = rung_results(ctx.study.user_attrs)
    ((number, rung), res), = results.items()
    assert rung == 1 and res["iters"] == ctx.profile.rung_iters(1) and res["psnr_db"] > 0
    assert optuna.load_study(study_name=ctx.study_name, storage=ctx.storage_url).user_attrs == ctx.study.user_attrs


def test_a_resumed_study_times_latency_with_its_stored_protocol(tmp_path):
    """Every worker and every resume times candidates as the study was created to (input size,
    passes, threads), whatever this process's defaults are."""
    from nas.search._setup import _stored_latency
    from nas.scoring.evaluate import LatencySetting

    base = LatencySetting(threads=8)
    got = _stored_latency({"lr_hw": [32, 48], "warmup": 1, "repeats": 7, "threads": 2, "channels_last": False,
                           "device": "cpu"}, base)
    assert (got.lr_hw, got.warmup, got.repeats, got.threads, got.channels_last) == ((32, 48), 1, 7, 2, False)
    # nonsense is ignored; a study that records no pass budget was timed with every pass
    assert _stored_latency({"repeats": 0, "threads": "two"}, base) == dataclasses.replace(base, budget_ms=0.0)
    assert _stored_latency({"budget_ms": 50}, base).budget_ms == 50.0
    assert _stored_latency({"budget_ms": -1}, base).budget_ms == 0.0
    assert _stored_latency(None, base) == base
    assert base.budget_ms == 100.0  # what a new study stores
