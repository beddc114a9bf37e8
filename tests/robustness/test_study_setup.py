"""Study set-up pieces, fast: URL redaction, the heartbeat agreement between workers, the stale
trial re-queue, and concurrent set-up under the lock (threads on SQLite, processes on PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import optuna
import pytest
from optuna.trial import TrialState

from nas.scoring import DIRECTIONS
from nas.search.study import (
    RetryStaleTrial,
    agree_heartbeat,
    fail_stale,
    make_storage,
    redact_url,
)
from tests.robustness.conftest import REPO


@pytest.mark.parametrize("url,shown", [
    ("postgresql://nas:s3cret@db.lan:5432/nas", "postgresql://nas:***@db.lan:5432/nas"),
    ("postgresql+psycopg://u:p@ss@h/db", "postgresql+psycopg://u:***@h/db"),
    ("postgresql://nas@h/db", "postgresql://nas@h/db"),
    ("postgresql://h/db?user=u&password=s3cret", "postgresql://h/db?user=u&password=***"),
    ("sqlite:////tmp/a@b/study.db", "sqlite:////tmp/a@b/study.db"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def _study(url: str, heartbeat: int) -> optuna.Study:
    storage = make_storage(url, heartbeat)
    return optuna.create_study(study_name="s", storage=storage, directions=list(DIRECTIONS), load_if_exists=True)


def test_the_longest_heartbeat_of_any_worker_sets_the_grace_period(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    fast = _study(url, 1)
    assert agree_heartbeat(fast, 1, created=True) == 3
    slow = _study(url, 20)
    assert agree_heartbeat(slow, 20, created=False) == 60
    again = _study(url, 1)  # a later fast worker must not call the slow one's trials stale
    assert agree_heartbeat(again, 1, created=False) == 60
    assert again._storage._backend.grace_period == 60
    legacy = _study(f"sqlite:///{tmp_path / 'old.db'}", 1)  # made before heartbeat_s was recorded
    assert agree_heartbeat(legacy, 1, created=False) == 60


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_stale_trial_is_failed_with_reason_and_requeued_once(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _study(url, 1)
    agree_heartbeat(study, 1, created=True)
    trial = study.ask()
    trial.suggest_int("nf", 8, 16)
    trial.set_user_attr("arch_id", "abc")
    trial.set_user_attr("admission", "admitted")
    study._storage.record_heartbeat(trial._trial_id)
    assert fail_stale(study) == []  # fresh heartbeat
    time.sleep(4.3)  # > grace 3 s even at SQLite's 1-second timestamp resolution
    assert fail_stale(study) == [trial.number]
    assert fail_stale(study) == []  # exactly once
    dead, retry = study.trials
    assert dead.state == TrialState.FAIL and dead.user_attrs["fail_reason"].startswith("stale: no heartbeat for over 3 s")
    assert retry.state == TrialState.WAITING and retry.params == dead.params
    assert retry.user_attrs == {"arch_id": "abc", "retry_of": dead.number}  # the attempt's attributes are dropped
    # a retry that goes stale again is not re-queued a second time (max_retry=1)
    RetryStaleTrial(max_retry=1)(study, retry)
    assert len(study.trials) == 2


_RACE = textwrap.dedent("""
    import sys
    from nas.search.runner import SearchSettings
    from nas.search.study import StudyFacts, setup_lock, make_storage, make_sampler, open_study, enqueue_references, reference_params
    from nas.space import load_space
    url, name, space_file = sys.argv[1:4]
    space = load_space(space_file)
    facts = StudyFacts(space_name=space.name, space_digest=space.digest, space_path=space_file, scale=4,
                       profile={"name": "smoke"}, data_source="x", latency={}, sampler="random", seed=0)
    with setup_lock(url):
        storage = make_storage(url, 5)
        study, created = open_study(name, storage, facts, make_sampler("random", 0))
        enqueue_references(study, reference_params(space, 4, ("imdn_rtc",)))
    print("created" if created else "loaded")
""")


def test_concurrent_setup_creates_once_and_enqueues_once(pg_url, study_name):
    """Four processes set up the same new study at once: one creates, three load, one reference."""
    from tests.robustness.conftest import TINY_SPACE

    procs = [subprocess.Popen([sys.executable, "-c", _RACE, pg_url, study_name, str(TINY_SPACE)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert sorted(o.strip() for o, _ in outs) == ["created", "loaded", "loaded", "loaded"]
    study = optuna.load_study(study_name=study_name, storage=pg_url)
    assert [t.user_attrs["reference"] for t in study.trials] == ["imdn_rtc"]
    assert study.user_attrs["space_digest"]


def test_a_worker_whose_trial_was_declared_stale_goes_on(tmp_path, monkeypatch):
    """A live worker whose heartbeat came late (long pause, lost connection) finds its trial
    FAILED by another worker: it drops that result, logs it and goes on to the budget."""
    import nas.scoring.evaluate as ev
    from nas.scoring.evaluate import Scores
    from nas.search import SearchSettings, run_search
    from tests.robustness.conftest import TINY_SPACE

    url = f"sqlite:///{tmp_path / 'out' / 'study.db'}"
    calls: list[str] = []

    def fake_evaluate(config, data, profile, device, latency, on_step=None, **_kw):
        calls.append(config.name)
        if len(calls) == 2:  # meanwhile, another worker declares this trial stale
            other = optuna.load_study(study_name="tiny_test_x4", storage=url)
            running = [t for t in other.trials if t.state == TrialState.RUNNING]
            other._storage.set_trial_state_values(running[0]._trial_id, TrialState.FAIL)
        n = len(calls)
        return Scores(psnr_db=20.0 + n, params=1000 * n, mult_adds=10**6 * n, latency_ms=1.0, iters=1)

    monkeypatch.setattr(ev, "evaluate", fake_evaluate)
    lines: list[str] = []
    outcome = run_search(SearchSettings(space=str(TINY_SPACE), budget=3, profile="smoke", references=("imdn_rtc",),
                                        out=str(tmp_path / "out"), heartbeat=1), log=lines.append)
    assert outcome.complete == 3, lines
    assert any("marked stale while it ran" in line for line in lines), lines


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_optuna_finds_stale_first_is_still_reported_and_requeued(tmp_path):
    """A search resumed within the grace period of a kill: its own check finds nothing yet, then
    Optuna's stale check at the start of the next trial fails the dead one. It is re-queued and
    reported once all the same (the CI saw this race)."""
    from nas.search.study import drain_stale

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _study(url, 1)
    agree_heartbeat(study, 1, created=True)
    trial = study.ask()
    trial.suggest_int("nf", 8, 16)
    study._storage.record_heartbeat(trial._trial_id)
    assert fail_stale(study) == [] and drain_stale(study) == []
    time.sleep(4.3)
    optuna.storages.fail_stale_trials(study)  # what Study.optimize runs before each trial
    assert drain_stale(study) == [trial.number]
    assert drain_stale(study) == []  # reported once
    dead, retry = study.trials
    assert dead.state == TrialState.FAIL and retry.state == TrialState.WAITING and retry.params == dead.params
    # the reason is recorded on the dead trial all the same (read back as a new process would)
    dead = optuna.load_study(study_name=study.study_name, storage=url).trials[0]
    assert dead.user_attrs["fail_reason"] == "stale: no heartbeat for over 3 s (worker killed or lost)"


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_killed_before_its_first_heartbeat_goes_stale_too(tmp_path):
    """A worker killed between Optuna's ask and the first heartbeat leaves a RUNNING trial with
    no heartbeat row, which Optuna's stale check never fails (CI hung on it): after twice the
    grace period it is failed and re-queued like any stale trial."""
    from nas.search.study import drain_stale

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = _study(url, 1)
    agree_heartbeat(study, 1, created=True)
    trial = study.ask()  # RUNNING, never a heartbeat
    trial.suggest_int("nf", 8, 16)
    assert fail_stale(study) == []  # too young to tell from a worker about to beat
    time.sleep(6.5)  # > 2 x grace (3 s)
    assert fail_stale(study) == [trial.number]
    assert drain_stale(study) == [trial.number]
    dead, retry = study.trials
    assert dead.state == TrialState.FAIL and dead.user_attrs["fail_reason"].startswith("stale")
    assert retry.state == TrialState.WAITING and retry.params == dead.params
