"""The Pareto report of a real tiny search (smoke profile, budget 5), checked as DATA, not pixels.

One search per module (about a minute on 2 idle cores; ``NAS_TEST_REPORT_SEARCH=<folder>`` reuses
the output folder of an earlier ``nas search --budget 5 --profile smoke --seed 1`` instead). A copy of its study gets three extra trials
(failed, pruned duplicate, infeasible) to exercise what the report hides behind its toggles.
The browser test opens report.html in headless Chromium with the network off; it is skipped,
with the reason, where no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import html as _html
import io
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial
from typer.testing import CliRunner

from nas.arch import SEARCH_REFERENCES, load_arch_config
from nas.front import hypervolume
from nas.report import build_report_data, write_report
from nas.report.data import COLUMNS
from nas.report.plots import hover_text
from nas.report.tables import trials_frame

pytestmark = pytest.mark.slow  # a real search per module
optuna.logging.set_verbosity(optuna.logging.ERROR)


def _study(folder: Path) -> optuna.Study:
    return optuna.load_study(study_name=None, storage=f"sqlite:///{folder / 'study.db'}")


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    reuse = os.environ.get("NAS_TEST_REPORT_SEARCH")  # developers: reuse a tiny search's folder
    if reuse:
        shutil.copytree(reuse, out)
        return out
    r = subprocess.run([sys.executable, "-m", "nas.cli", "search", "--budget", "5", "--profile", "smoke",
                        "--out", str(out), "--seed", "1"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def reported(searched) -> tuple[Path, optuna.Study, dict]:
    """``nas report`` on the search folder, in-process through the CLI."""
    from nas.cli import app

    r = CliRunner().invoke(app, ["report", "--out", str(searched)])
    assert r.exit_code == 0, r.output
    return searched, _study(searched), json.loads((searched / "report.json").read_text())


@pytest.fixture(scope="module")
def extended(searched, tmp_path_factory) -> tuple[Path, optuna.Study]:
    """A copy of the study plus a FAILED, a PRUNED duplicate and an infeasible COMPLETE trial."""
    out = tmp_path_factory.mktemp("report-extended") / "run"
    out.mkdir()
    shutil.copy(searched / "study.db", out / "study.db")
    st = _study(out)
    done = st.get_trials(states=(TrialState.COMPLETE,))
    last = done[-1]
    st.add_trial(create_trial(state=TrialState.FAIL, params={}, distributions={},
                              user_attrs={"fail_reason": "RuntimeError: NaN loss", "summary": "x4 nf8 | broken"}))
    st.add_trial(create_trial(state=TrialState.PRUNED, params={}, distributions={},
                              user_attrs={"prune_reason": f"duplicate of trial {last.number}",
                                          "summary": last.user_attrs["summary"], "config": last.user_attrs["config"]}))
    bad = create_trial(state=TrialState.COMPLETE, values=[45.0, 1000.0, 1e8, 1.0], params={"x": 0.5},
                       distributions={"x": FloatDistribution(0, 1)},
                       user_attrs={"summary": "x4 nf4 | over the limit", "config": last.user_attrs["config"],
                                   "iters": 4, "reject_reason": "latency limit"},
                       system_attrs={"constraints": [1.0]})
    st.add_trial(bad)
    write_report(st, out, png=False)
    return out, st


# ----------------------------------------------------------------- the data
def test_references_present_and_named(reported):
    _, study, rep = reported
    data = build_report_data(study, reported[0])
    assert set(SEARCH_REFERENCES) <= set(data.references)
    for name, p in data.references.items():
        assert p.reference == name and p.name == name.upper() and p.state == "COMPLETE"
        assert p.values is not None and p.export_command
    assert set(rep["references"]) == set(data.references)
    html = (reported[0] / "report.html").read_text()
    for name in SEARCH_REFERENCES:
        assert f"{name.upper()} (reference)" in html  # a named legend entry / marker


def test_front_is_optunas_best_trials(reported):
    folder, study, rep = reported
    data = build_report_data(study, folder)
    best = {t.number for t in study.best_trials}
    assert {p.number for p in data.points if p.on_front} == best
    assert set(rep["front"]) == best
    assert [p.params for p in data.front] == sorted(p.params for p in data.front)
    assert all(p.status == "front" for p in data.front)
    # the CSV written after every trial agrees, with its documented columns
    df = pd.read_csv(folder / "pareto.csv", keep_default_na=False)
    assert set(df["number"]) == best and list(df.columns) == COLUMNS
    assert list(trials_frame(study).columns) == COLUMNS
    # the front table of the page lists the same trials, in the same order
    html = (folder / "report.html").read_text()
    table = html[html.index("id='nas-front-table'"):].split("</table>")[0]
    assert [int(n) for n in re.findall(r"<tr><td class=n>(\d+)", table)] == [p.number for p in data.front]


def test_every_point_has_scores_units_fidelity_and_command(reported):
    folder, study, _ = reported
    data = build_report_data(study, folder)
    n_complete = len(study.get_trials(states=(TrialState.COMPLETE,)))
    assert len(data.complete) == n_complete
    for p in data.complete:
        assert p.psnr_db > 0 and p.params > 0 and p.mult_adds > 0 and p.latency_ms > 0
        assert p.iters == 4 and p.summary.startswith("x4 ")
        assert p.export_command == f"nas export --out-dir {folder} --trial {p.number} --out trial{p.number}.yaml"
        hover = hover_text(p, data)
        for part in (f"trial {p.number}", f"PSNR {p.psnr_db:.3f} dB", f"{p.params:,} params",
                     f"Mult-Adds {p.mult_adds / 1e9:.2f} G MACs", f"latency {p.latency_ms:.1f} ms",
                     "fidelity: 4 proxy iters", _html.escape(p.summary), _html.escape(p.export_command)):
            assert part in hover, (part, hover)
    assert data.facts.scale == 4 and data.facts.profile["name"] == "smoke"
    assert data.facts.space_name == "lightweight_sr" and data.facts.sampler == "tpe" and data.facts.seed == 1
    assert data.facts.latency["threads"] >= 1 and data.facts.versions["optuna"]
    labels = dict(data.facts.rows())
    for key in ("search space", "scale", "data", "proxy profile", "sampler / seed", "budget", "wall time",
                "latency measured on", "versions"):
        assert labels[key], key


def test_export_command_runs(reported, tmp_path):
    folder, study, _ = reported
    data = build_report_data(study, folder)
    p = data.front[0]
    argv = shlex.split(p.export_command)
    assert argv[:2] == ["nas", "export"]
    argv[argv.index("--out") + 1] = str(tmp_path / "winner.yaml")
    r = subprocess.run([sys.executable, "-m", "nas.cli", *argv[1:]], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert load_arch_config(tmp_path / "winner.yaml").arch_id == p.arch_id


def test_export_command_names_the_storage_when_not_in_the_folder(reported, tmp_path):
    folder, study, _ = reported
    data = build_report_data(study, tmp_path)
    cmd = data.complete[0].export_command
    assert cmd.startswith(f"nas export --storage sqlite:///{folder}/study.db --study {study.study_name} --trial ")


def test_hypervolume_history(reported):
    folder, study, rep = reported
    data = build_report_data(study, folder)
    hv = [h.hypervolume for h in data.hypervolume]
    assert len(hv) == len(data.complete)
    assert all(b >= a for a, b in zip(hv, hv[1:])), hv
    assert hv[-1] == pytest.approx(hypervolume([p.values for p in data.complete], 4))
    assert rep["hypervolume_reference"]["raw_point"] == [10.0, 2e6, 1e11, 1000.0]
    assert [h["hypervolume"] for h in rep["hypervolume"]] == hv


def test_html_is_self_contained(reported):
    html = (reported[0] / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=", html, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html, re.I)
    assert html.count("<script>/**\n* plotly.js") == 1  # the bundle, once, for all figures
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for fig in ("nas-pareto", "nas-objectives", "nas-hypervolume", "nas-front-table", "nas-facts"):
        assert f"id=\"{fig}\"" in html or f"id='{fig}'" in html, fig
    data = json.loads(re.search(r"id='nas-report-data'>(.*?)</script>", html, re.S).group(1).replace("<\\/", "</"))
    assert len(data["points"]) == len(reported[1].trials)


def test_static_png(reported, tmp_path):
    folder, study, _ = reported
    png = (folder / "pareto.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    assert (w, h) == (2250, 720)
    assert b"Software" not in png  # no version stamp: same study, same bytes
    from nas.report import pareto_png

    pareto_png(build_report_data(study, folder, with_hypervolume=False), tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes() == png


def test_hidden_trials_behind_the_toggle(extended):
    folder, study = extended
    data = build_report_data(study, folder)
    status = {p.number: p.status for p in data.points}
    assert sorted(s for s in status.values() if s in ("failed", "pruned", "rejected")) == ["failed", "pruned", "rejected"]
    assert {p.number for p in data.front} == {t.number for t in study.best_trials}
    assert all(p.status != "rejected" for p in data.front)
    pruned = next(p for p in data.points if p.status == "pruned")
    assert pruned.plot_values is not None and pruned.export_command is None
    # the infeasible trial adds no hypervolume and is not plotted with the completed ones
    assert len(data.hypervolume) == len(study.get_trials(states=(TrialState.COMPLETE,)))
    assert data.hypervolume[-1].hypervolume == data.hypervolume[-2].hypervolume
    from nas.report.plots import pareto_figure

    hidden = [t for t in pareto_figure(data).data if t.meta == "hidden"]
    assert len(hidden) == 3 and all(t.visible == "legendonly" for t in hidden)  # one per panel, toggled off
    assert hidden[0].name == "failed / pruned / rejected (3)"
    assert len(hidden[0].x) == 2  # the duplicate (at its original's scores) and the infeasible one
    html = (folder / "report.html").read_text()
    assert "RuntimeError: NaN loss" in html and "<details id='nas-hidden'>" in html


def test_show_uses_the_same_data(reported):
    from nas.cli import app

    folder, study, _ = reported
    runner = CliRunner()
    r = runner.invoke(app, ["show", "--out-dir", str(folder), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout[r.stdout.index("["):])
    best = {t.number for t in study.best_trials}
    assert {row["number"] for row in rows if row["on_front"]} == best
    assert {row["reference"] for row in rows if row["reference"]} == set(SEARCH_REFERENCES)
    assert all(row["export_command"].startswith("nas export ") for row in rows)
    r = runner.invoke(app, ["show", "--out-dir", str(folder), "--csv", "--sort", "psnr_db"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout[r.stdout.index("number,"):]))
    assert df["psnr_db"].is_monotonic_decreasing
    r = runner.invoke(app, ["show", "--out-dir", str(folder)])
    assert r.exit_code == 0 and "Pareto front" in r.stdout
    for ref in SEARCH_REFERENCES:
        r = runner.invoke(app, ["show", "--out-dir", str(folder), "--json", "--dominating", ref])
        assert r.exit_code == 0, r.output
        rows = json.loads(r.stdout[r.stdout.index("["):])
        assert all(ref in row["dominates"].split() for row in rows)


# ----------------------------------------------------------------- the browser
def _chromium_or_skip() -> None:
    from nas.report.browser import find_chromium

    if find_chromium() is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install -y chromium; .ci/run installs it)")


def test_browser_renders_offline_one_point_per_completed_trial(extended, tmp_path):
    _chromium_or_skip()
    from nas.report.browser import check_report, screenshot

    folder, study = extended
    check = check_report(folder / "report.html")
    feasible = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if not t.constraints]
    assert check.ready and check.figures == 3
    assert check.errors == [] and check.console == [] and check.remote_resources == []
    assert check.expected_points == len(feasible)
    assert check.points["pareto_xy"] == len(feasible)          # one marker per completed trial, first panel
    assert check.points["matrix"] == 6 * len(feasible)         # six panels of the scatter matrix
    assert check.points["hypervolume"] == len(feasible) + 1    # + the infeasible one (completed, adds nothing)
    assert check.hidden_drawn == 0                              # failed / pruned / rejected: toggled off
    assert check.ok
    # the check can fail: a console error and a remote image are both reported (and blocked)
    broken = tmp_path / "broken.html"
    broken.write_text((folder / "report.html").read_text().replace(
        "</body></html>", '<script>console.error("boom")</script><img src="http://example.invalid/x.png"></body></html>'))
    bad = check_report(broken)
    assert not bad.ok and "console.error: boom" in bad.errors
    assert bad.remote_resources == ["http://example.invalid/x.png"] and any("CSP" in e for e in bad.errors)
    png = screenshot(folder / "report.html", tmp_path / "shot.png")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1600, 1200)
