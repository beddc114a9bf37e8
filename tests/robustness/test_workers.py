"""Three `nas search` processes on one PostgreSQL study, started at the same instant.

They race to create the study and to enqueue the reference; the budget counts COMPLETE trials
across all of them. Expected: exactly ``budget`` COMPLETE trials, the reference enqueued and
evaluated once, no architecture among the COMPLETE trials twice, a different sampler seed per
worker, every worker exiting 0.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from tests.robustness.conftest import REPO, TINY, load_study, nas_cmd

pytestmark = pytest.mark.slow


def test_three_workers_share_one_study(pg_url, study_name, tmp_path):
    budget, n = 8, 3
    procs, logs = [], []
    for i in range(n):
        log = tmp_path / f"worker{i}.log"
        logs.append(log)
        procs.append(subprocess.Popen(
            nas_cmd("search", "--budget", str(budget), "--storage", pg_url, "--study", study_name,
                    "--worker-id", str(i), "--out", str(tmp_path / f"out{i}"), "--heartbeat", "5", *TINY),
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=log.open("w")))
    for p, log in zip(procs, logs):
        assert p.wait(timeout=500) == 0, log.read_text()

    st = load_study(pg_url, study_name)
    trials = st.trials
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == budget
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING", "FAIL")], \
        [(t.number, t.state.name, t.user_attrs.get("fail_reason")) for t in trials]
    # the reference: enqueued once (one trial in the whole study), evaluated once
    refs = [t for t in trials if t.user_attrs.get("reference")]
    assert [t.user_attrs["reference"] for t in refs] == ["imdn_rtc"] and refs[0].state.name == "COMPLETE"
    # no architecture evaluated twice
    dup = [a for a, c in Counter(t.user_attrs["arch_id"] for t in complete).items() if c > 1]
    assert not dup
    # pruned trials say why (budget reached / duplicate), none was admitted
    for t in trials:
        if t.state.name == "PRUNED":
            reason = t.user_attrs["prune_reason"]
            assert reason.startswith(("budget reached", "duplicate of trial")), reason
            assert t.user_attrs.get("admission") != "admitted"
    # a different sampler seed in each worker
    seeds = {(t.user_attrs["worker"]["pid"], t.user_attrs["worker"]["sampler_seed"]) for t in trials}
    by_pid = dict(seeds)
    assert len(seeds) == len(by_pid)  # one seed per process
    for log in logs:
        assert "sampler tpe (seed " in log.read_text()
    started = [line.split("sampler tpe (seed ")[1].split(",")[0] for log in logs
               for line in log.read_text().splitlines() if "sampler tpe (seed " in line]
    assert len(set(started)) == n, started
    # exactly one worker created the study, the others resumed it
    created = sum("(created)" in log.read_text() for log in logs)
    assert created == 1
