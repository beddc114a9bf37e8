"""benchmarks/trial_breakdown.py splits a whole search's worker-seconds into stages that add up
to wall x jobs (issue 21), and reads a search's job count from its trials' overlap."""

from __future__ import annotations

import datetime as dt

import optuna
import pytest

from tests.benchmarks import load_benchmark

tb = load_benchmark("trial_breakdown")


def test_the_stages_add_up_to_the_worker_seconds_and_training_excludes_the_pauses():
    stages = {"train_s": 700.0, "validate_s": 40.0, "paused_s": 20.0, "latency_s": 50.0, "gate_wait_s": 5.0,
              "build_s": 5.0, "mult_adds_s": 15.0, "sample_s": 30.0, "trials_wall_s": 900.0,
              "not_complete_wall_s": 10.0, "promotion_s": 60.0}
    run = {"wall_s": 500.0, "jobs": 2, "stats": {"stages_s": stages}}
    parts = tb.breakdown(run)
    assert list(parts) == list(tb.STAGES)
    assert sum(parts.values()) == pytest.approx(1000.0)
    assert parts["training"] == pytest.approx(720.0)  # 700 + 40 less the 20 s paused for another job's timing
    assert parts["latency"] == pytest.approx(45.0) and parts["gate_wait"] == pytest.approx(5.0)
    assert parts["between"] == pytest.approx(1000.0 - 900.0 - 60.0)  # promotions train outside any trial
    assert tb.overhead(run) == pytest.approx(0.28)
    assert "**28.0%**" in tb.stage_table([run])[-1]


def test_the_job_count_is_the_most_trials_running_at_once(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage)
    t0 = dt.datetime(2026, 12, 3, 8, 0, 0)
    spans = [(0, 10), (2, 6), (5, 12), (12, 15)]
    for start, end in spans:
        study.add_trial(optuna.trial.create_trial(value=1.0, params={}, distributions={}))
    backend = optuna.storages.RDBStorage(storage)
    from optuna.storages._rdb import models

    session = backend.scoped_session()
    for t, (start, end) in zip(session.query(models.TrialModel).order_by(models.TrialModel.number), spans):
        t.datetime_start, t.datetime_complete = t0 + dt.timedelta(seconds=start), t0 + dt.timedelta(seconds=end)
    session.commit()
    span, jobs = tb.span_and_jobs(tmp_path)
    assert span == pytest.approx(15.0)
    assert jobs == 3  # 5-6 s: trials 0, 1 and 2 overlap


def test_a_folder_without_a_study_is_refused_with_its_name(tmp_path):
    with pytest.raises(SystemExit, match=str(tmp_path)):
        tb.span_and_jobs(tmp_path)
