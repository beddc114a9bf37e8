"""`nas confirm` on a tiny real search: scores stored in the study, trials.csv and the report;
several workers / a killed worker lose nothing; another protocol is refused."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import optuna
import pandas as pd
import pytest

from tests.robustness.conftest import TINY, nas

pytestmark = pytest.mark.slow
FAST = ["--profile", "smoke-halving", "--threads", "1"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("confirm") / "run"
    r = nas("search", "--budget", "4", "--out", str(out), *TINY)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def _copy(tiny, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(tiny, work)
    return work


def _attrs(work):
    return optuna.load_study(study_name=None, storage=f"sqlite:///{work / 'study.db'}").user_attrs


def test_confirm_scores_reach_the_study_the_csv_and_the_report(tiny, tmp_path):
    work = _copy(tiny, tmp_path)
    r = nas("confirm", "--out-dir", str(work), "--top", "2", *FAST)
    assert r.returncode == 0, r.stderr[-2000:]
    attrs = _attrs(work)
    done = {k: v for k, v in attrs.items() if k.startswith("confirm:")}
    trials = pd.read_csv(work / "trials.csv", keep_default_na=False)
    n_front = int(((trials["on_front"]) & (trials["reference"] == "")).sum())
    assert len(done) == 1 + min(2, n_front)  # the reference imdn_rtc + the top front members
    assert all(v["iters"] == 8 and 0 < v["psnr_db"] < 60 and set(v["psnr_by_iters"]) == {"2", "4", "8"}
               for v in done.values())
    assert attrs["confirm_profile"]["name"] == "smoke-halving"
    confirmed = trials[trials["psnr_confirm_db"] != ""]
    assert sorted(int(n) for n in confirmed["number"]) == sorted(int(k.split(":")[1]) for k in done)
    assert "confirmed PSNR" in (work / "report.html").read_text()
    # a second run finds everything done and trains nothing
    again = nas("confirm", "--out-dir", str(work), "--top", "2", *FAST)
    assert again.returncode == 0, again.stderr[-2000:]
    assert {k: v for k, v in _attrs(work).items() if k.startswith("confirm:")} == done
    # another protocol would mix fidelities: refused, one line, nothing changed
    other = nas("confirm", "--out-dir", str(work), "--profile", "smoke")
    assert other.returncode == 2 and "smoke-halving" in other.stderr and len(other.stderr.strip().splitlines()) == 1


def test_confirm_resumes_after_a_worker_was_killed(tiny, tmp_path):
    """SIGKILL leaves a claim of a dead process and no result: the next run trains it at once."""
    work = _copy(tiny, tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{work / 'study.db'}")
    ref = next(t.number for t in study.trials if t.user_attrs.get("reference") and t.state.name == "COMPLETE")
    study.set_user_attr(f"claim-confirm:{ref}:0", {"worker": {"host": socket.gethostname(), "pid": dead.pid,
                                                              "worker_id": 0}, "beat": time.time()})
    t0 = time.monotonic()
    r = nas("confirm", "--out-dir", str(work), "--top", "0", *FAST)
    assert r.returncode == 0, r.stderr[-2000:]
    assert time.monotonic() - t0 < 50  # not the 60 s grace period
    assert f"confirm:{ref}:0" in _attrs(work)


def test_two_confirm_jobs_share_the_work(tiny, tmp_path):
    work = _copy(tiny, tmp_path)
    r = nas("confirm", "--out-dir", str(work), "--top", "3", "--jobs", "2", *FAST)
    assert r.returncode == 0, r.stderr[-2000:]
    done = {k: v for k, v in _attrs(work).items() if k.startswith("confirm:")}
    assert done and all("psnr_db" in v for v in done.values())


def test_confirm_shows_a_bar_over_networks_and_steps_or_plain_lines(tiny, tmp_path):
    """Issue 33 §3: --log-format bar draws the bar (forced, stderr here is a pipe); the default in
    a pipe keeps the plain per-network lines, without control codes."""
    work = _copy(tiny, tmp_path)
    bar = nas("confirm", "--out-dir", str(work), "--top", "0", "--jobs", "1", "--log-format", "bar", *FAST)
    assert bar.returncode == 0, bar.stderr[-2000:]
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", bar.stderr)  # the bar's colours and cursor moves
    assert "\x1b[" in bar.stderr and "8/8 steps" in shown and "(1/1 networks)" in shown
    assert "elapsed, ETA" in shown and " dB after 8 steps" in shown
    plain = _copy(tiny, tmp_path / "plain")
    lines = nas("confirm", "--out-dir", str(plain), "--top", "0", "--jobs", "1", *FAST)
    assert lines.returncode == 0, lines.stderr[-2000:]
    assert " dB after 8 steps" in lines.stderr and "\x1b" not in lines.stderr and "elapsed, ETA" not in lines.stderr
