"""Crash-safe resume, for real: SIGINT and SIGKILL sent to a running `nas search` process.

* SIGINT (Ctrl-C): the running trial is FAILED with the reason, the outputs are written, the exit
  code is 130, and the study loads and resumes.
* SIGKILL (a machine dies): nothing can run in the process; its trial stays RUNNING until its
  heartbeat is older than the grace period (3 x ``--heartbeat 1`` = 3 s). Running the same
  command again marks it FAILED (stale), re-queues its configuration, keeps every finished trial,
  and ends with exactly ``--budget`` COMPLETE trials. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.robustness.conftest import REPO, TINY, load_study, nas_cmd, trial_rows, wait_for_admitted_trial

pytestmark = pytest.mark.slow


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(nas_cmd(*args), cwd=REPO, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _finish(args: list[str], log: Path, timeout: float = 400) -> str:
    p = _start(args, log)
    rc = p.wait(timeout=timeout)
    text = log.read_text()
    assert rc == 0, text
    return text


def _complete(url: str, study: str) -> dict[int, tuple]:
    st = load_study(url, study)
    return {t.number: tuple(t.values) for t in st.trials if t.state.name == "COMPLETE"}


def _kill_9_then_resume(args: list[str], url: str, study: str, budget: int, tmp: Path, min_complete: int) -> None:
    """SIGKILL a run while a trial trains, rerun the same command, check the counts."""
    p = _start(args, tmp / "killed.log")
    victim = wait_for_admitted_trial(url, study, p, min_complete=min_complete)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    rows = {r["number"]: r for r in trial_rows(url, study)}
    assert rows[victim["number"]]["state"] == "RUNNING"  # nobody could mark it: its heartbeat just stops
    finished = _complete(url, study)
    assert len(finished) >= min_complete

    log = _finish(args, tmp / "resumed.log")
    assert f"trial {victim['number']}: no heartbeat for over 3 s" in log, log
    st = load_study(url, study)
    trials = {t.number: t for t in st.trials}
    dead = trials[victim["number"]]
    assert dead.state.name == "FAIL" and dead.user_attrs["fail_reason"].startswith("stale: no heartbeat"), dead.user_attrs
    retries = [t for t in st.trials if t.user_attrs.get("retry_of") == dead.number]
    assert len(retries) == 1 and retries[0].state.name == "COMPLETE"
    assert retries[0].params == dead.params and retries[0].system_attrs["failed_trial"] == dead.number
    assert retries[0].user_attrs["arch_id"] == dead.user_attrs["arch_id"]
    now = _complete(url, study)
    assert len(now) == budget
    assert {n: now[n] for n in finished} == finished  # every finished trial kept, values unchanged
    assert not [t for t in st.trials if t.state.name == "RUNNING"]


def test_sigint_then_sigkill_on_sqlite(tmp_path):
    out = tmp_path / "out"
    url, study, budget = f"sqlite:///{out / 'study.db'}", "tiny_test_x4", 4
    # 40 steps a trial (not the smoke profile's 4): the trial must still be training when the
    # signal lands, now that costs are counted in milliseconds (meta-device Mult-Adds)
    args = ["search", "--budget", str(budget), "--out", str(out), "--heartbeat", "1", *TINY, "--iters", "40"]

    # 1. Ctrl-C while a trial trains
    p = _start(args, tmp_path / "sigint.log")
    victim = wait_for_admitted_trial(url, study, p, min_complete=1)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=120)
    log = (tmp_path / "sigint.log").read_text()
    assert rc == 130, log
    assert "Traceback" not in log and "interrupted" in log
    st = load_study(url, study)
    t = st.trials[victim["number"]]
    assert t.state.name == "FAIL" and t.user_attrs["fail_reason"] == "interrupted (SIGINT)"
    assert not [t for t in st.trials if t.state.name == "RUNNING"]
    csv = pd.read_csv(out / "trials.csv", keep_default_na=False).set_index("number")
    assert csv.loc[victim["number"], "fail_reason"] == "interrupted (SIGINT)"
    assert (csv["state"] == "COMPLETE").sum() == len(_complete(url, study))
    assert (out / "pareto.csv").is_file() and (out / "pareto.html").stat().st_size > 0
    assert not list(out.glob(".*.tmp"))  # no half-written output left behind

    # 2. the same command resumes; SIGKILL it mid-trial; 3. run it again to the end
    _kill_9_then_resume(args, url, study, budget, tmp_path, min_complete=2)
    csv = pd.read_csv(out / "trials.csv", keep_default_na=False)
    assert (csv["state"] == "COMPLETE").sum() == budget


def test_sigkill_on_postgresql(pg_url, study_name, tmp_path):
    budget = 3
    args = ["search", "--budget", str(budget), "--out", str(tmp_path / "out"), "--storage", pg_url,
            "--study", study_name, "--heartbeat", "1", *TINY, "--iters", "40"]  # still training at the kill
    _kill_9_then_resume(args, pg_url, study_name, budget, tmp_path, min_complete=1)
