"""Progress a person can follow (issue 33 §3): ``--log-format auto|bar|lines`` on search,
confirm and train; the search's bar shows the front (size, hypervolume, best PSNR) computed the
report's way; plain lines, without control codes, when stderr is not a terminal.

Fast checks in-process (a rich console forced to be a terminal, hand-made studies); the end-to-end
ones (marked slow) run a tiny real search under a pseudo-terminal and through a pipe.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import time

import optuna
import pytest
from optuna.trial import TrialState, create_trial
from rich.console import Console

from nas.cli.progress import ConfirmProgress, LogFormat, SearchProgress, TrainProgress, console_for
from nas.report import build_report_data
from nas.report.live import LiveFront
from nas.scoring.objectives import OBJECTIVES
from tests.robustness.conftest import REPO, TINY, nas, nas_cmd

optuna.logging.set_verbosity(optuna.logging.ERROR)
DIRECTIONS = ["maximize", "minimize", "minimize", "minimize"]
# (psnr dB, params, Mult-Adds, latency ms): 0 and 2 on the front, 1 dominated by 0, 3 a reference
VALUES = [(31.0, 100_000, 5e9, 10.0), (30.5, 120_000, 6e9, 12.0), (31.5, 300_000, 2e10, 30.0),
          (32.2, 715_176, 4.1e10, 47.0)]


def _study(values=VALUES, iters=20) -> optuna.Study:
    st = optuna.create_study(directions=DIRECTIONS)
    st.set_user_attr("scale", 4)
    for i, v in enumerate(values):
        attrs = {"iters": iters, "summary": f"net{i}"}
        if i == 3:
            attrs["reference"] = "imdn"
        st.add_trial(create_trial(values=list(v), user_attrs=attrs))
    st.add_trial(create_trial(state=TrialState.PRUNED, user_attrs={"prune_reason": "over the limit"}))
    return st


def _terminal(width: int = 160) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)


def test_the_live_front_is_the_reports_front():
    st = _study()
    live = LiveFront(4, OBJECTIVES).update(st.get_trials(deepcopy=False))
    data = build_report_data(st, "results/x")
    assert live.size == len(data.front) == 3 and live.compared == 4
    assert live.hypervolume == pytest.approx(data.final_hypervolume, rel=1e-12)
    assert (live.best_psnr_db, live.best_number) == (32.2, 3)


def test_the_best_psnr_respects_the_limits_the_references_do_not():
    """A reference is scored whatever it costs; the best within --max-params must not be it."""
    st = _study()
    front = LiveFront(4, OBJECTIVES, limits={"params": 400_000}, predicted=True)
    s = front.update(st.get_trials(deepcopy=False))
    assert (s.best_psnr_db, s.best_number) == (31.5, 2)
    assert front.text() == ("front 3 of 4 | hypervolume " + f"{s.hypervolume:.4f}"
                            + " | best predicted PSNR within <= 400,000 params: 31.50 dB (trial 2)")
    none = LiveFront(4, OBJECTIVES, limits={"params": 1_000})
    none.update(st.get_trials(deepcopy=False))
    assert none.text().endswith("within <= 1,000 params: none yet")
    assert LiveFront(4, OBJECTIVES).text() == "front: no scored candidate yet"


def test_successive_halving_compares_the_top_fidelity_only():
    """With rung results the front is built among the candidates at the highest fidelity reached,
    as the report does (here trial 2 reached rung 1 at 60 iters)."""
    st = _study()
    st.set_user_attr("rung:2:1", {"psnr_db": 31.9, "iters": 60})
    front = LiveFront(4, OBJECTIVES)
    s = front.update(st.get_trials(deepcopy=False), st.user_attrs)
    data = build_report_data(st, "results/x")
    assert (s.compared, s.size, s.iters, s.best_psnr_db) == (1, 1, 60, 31.9)
    assert s.hypervolume == pytest.approx(data.final_hypervolume, rel=1e-12)
    assert front.text().startswith("front 1 of 1 at 60 iters | ")


def test_the_search_bar_shows_trials_eta_and_the_front():
    console = _terminal()
    bar = SearchProgress(console, enabled=True)
    bar.describe(scale=4, objectives=OBJECTIVES, limits={}, predicted=True)
    bar.start(10, 2)
    bar.scored(_study().get_trials(deepcopy=False), None)
    bar.trial(5, "x4 nf12 | 2x imdb")
    bar.step(10, 20)
    bar.advance(3)
    bar.progress.refresh()
    bar.stop()
    text = console.file.getvalue()
    assert "3/10 trials" in text and "elapsed, ETA" in text
    assert "front 3 of 4 | hypervolume 0." in text and "best predicted PSNR: 32.20 dB (trial 3)" in text
    assert bar.updates == 1 and bar.front_s < 0.5


def test_a_disabled_bar_writes_nothing_and_costs_nothing():
    console = Console(file=io.StringIO(), width=200)
    bar = SearchProgress(console, enabled=False)
    bar.describe(scale=4, objectives=OBJECTIVES, limits={}, predicted=False)
    bar.start(4, 0)
    bar.scored(_study().get_trials(deepcopy=False), None)
    bar.advance(1)
    bar.stop()
    assert console.file.getvalue() == "" and bar.updates == 0  # the front is not even computed


def test_a_display_error_never_stops_the_search():
    bar = SearchProgress(_terminal(), enabled=True)
    bar.describe(scale=4, objectives=OBJECTIVES, limits={}, predicted=False)
    bar.scored([object()], None)  # not a trial
    assert bar.front_text.startswith("front: not shown (AttributeError")


def test_log_format_means_the_same_everywhere():
    pipe = Console(file=io.StringIO(), width=200)
    tty = _terminal()
    assert console_for(LogFormat.lines, tty) == (tty, False)
    assert console_for("auto", tty) == (tty, True)
    assert console_for("auto", pipe) == (pipe, False)
    forced, bar = console_for("bar", pipe)
    assert bar and forced.is_terminal and forced is not pipe
    with pytest.raises(ValueError):
        console_for("fancy", pipe)


def test_the_confirm_bar_counts_networks_times_steps():
    console = _terminal()
    bar = ConfirmProgress(console, enabled=True)
    bar.start(networks=3, steps_each=100, done=1)
    bar.network("IMDN (trial 0)")
    bar.step(50)
    bar.progress.refresh()
    assert bar.progress.tasks[0].completed == 150 and bar.progress.tasks[0].total == 300
    bar.done(2)
    bar.stop()
    text = console.file.getvalue()
    assert "150/300 steps" in text and "(1/3 networks)" in text and "now: IMDN (trial 0) [50/100 steps]" in text


def test_train_without_the_bar_logs_one_line_per_validation():
    lines: list[str] = []
    bar = TrainProgress(Console(file=io.StringIO()), enabled=False, log=lines.append)
    bar.start(0, 1000)
    bar.step(500, 0.05, 5e-4)
    bar.validated(500, 30.1234)
    bar.stop()
    assert len(lines) == 1 and lines[0].startswith("iter 500/1,000  loss 0.0500  val PSNR 30.123 dB")


def _under_pty(args: list[str], timeout: float = 300) -> tuple[int, str]:
    """Run the CLI with stderr (and stdout) on a pseudo-terminal 160 columns wide."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color"}
    p = subprocess.Popen(nas_cmd(*args), stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(slave)
    chunks, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    os.close(master)
    return p.wait(timeout=30), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_search_on_a_terminal_shows_the_bar_and_in_a_pipe_plain_lines(tmp_path):
    run = ["search", "--budget", "3", *TINY, "--jobs", "1"]
    rc, screen = _under_pty([*run, "--out", str(tmp_path / "tty")])
    assert rc == 0, screen[-2000:]
    assert "\x1b[" in screen and "trials" in screen and "elapsed, ETA" in screen
    assert "front " in screen and "hypervolume" in screen
    assert "[1/3] trial 0 imdn_rtc:" in screen  # the per-trial lines print above the bar
    # a pipe (CI, logs/job*.log): today's lines, no bar, no control code
    piped = nas(*run, "--out", str(tmp_path / "pipe"))
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert "[1/3] trial 0 imdn_rtc:" in piped.stderr and "[3/3] trial" in piped.stderr
    assert "\x1b" not in piped.stderr and "\r" not in piped.stderr and "elapsed, ETA" not in piped.stderr
    assert "hypervolume" not in piped.stderr
    # --log-format lines on a terminal: the same plain lines; --log-format bar in a pipe: the bar
    rc, lines = _under_pty([*run, "--budget", "4", "--out", str(tmp_path / "pipe"), "--log-format", "lines"])
    assert rc == 0 and "[4/4] trial" in lines and "elapsed, ETA" not in lines and "hypervolume" not in lines
    forced = nas(*run, "--budget", "5", "--out", str(tmp_path / "pipe"), "--log-format", "bar")
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert "elapsed, ETA" in forced.stderr and "hypervolume" in forced.stderr and "[5/5] trial" in forced.stderr
