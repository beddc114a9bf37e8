"""`nas calibrate` (issue 32): a calibration for any protocol, fitted as the benchmark does, that a
search finds by its protocol, refuses when it does not match, and makes itself with --calibrate auto."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nas.errors import NasError
from nas.proxy import get_profile
from nas.proxy.predict import find_calibration, load_calibrations
from nas.scoring import calibrate as cal_mod
from nas.scoring.calibrate import CalibrationSettings, calibrate, ground_truth_networks

#: Seven published x4 networks of five families, 17 K - 1.25 M params: ~1 s each at the smoke protocol.
SUBSET = ("imdn", "rfdn", "awsrn_s", "awsrn_m", "ecbsr_m4c16_rgb", "ecbsr_m16c64", "rlfn_s")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "cal.json"
    logs: list[str] = []
    path, name, summary = calibrate(CalibrationSettings(profile="smoke", out=str(out), networks=SUBSET, n_boot=200),
                                    log=logs.append)
    return path, name, summary, logs


def test_a_calibration_round_trips_and_is_found_by_its_protocol_only(made):
    path, name, summary, _ = made
    assert name == "calibrated-x4-y-4" and path.is_file()
    cal = load_calibrations(path)[name]
    smoke = get_profile("smoke")
    assert cal.scale == 4 and set(cal.models) == {4} and cal.features == cal_mod.FEATURES
    assert find_calibration("anything", 4, smoke, [path]) is cal  # a user's file: matched by protocol, not name
    assert find_calibration("anything", 2, smoke, [path]) is None  # other scale
    assert find_calibration("anything", 4, get_profile("smoke", metric="rgb"), [path]) is None  # other metric
    assert find_calibration("anything", 4, get_profile("smoke", iters=5), [path]) is None  # other steps
    assert find_calibration("anything", 4, get_profile("smoke", threads=2), [path]) is cal  # threads: not compared
    with pytest.raises(NasError, match="no such file"):
        find_calibration("zoo-gt", 4, smoke, [path.with_name("missing.json")])
    entry = json.loads(path.read_text())[name]
    assert entry["fingerprint"] == cal_mod.protocol_fingerprint(smoke, 4, entry["data"])
    # the domain covers every network it was fitted on
    for r in summary["rows"]:
        assert cal.domain.check({"log10_params": np.log10(r["params"]), "depth": r["depth"]})["inside"]


def test_the_statistics_are_out_of_family_as_a_hand_fit_with_scikit_learn_gives(made):
    """Each family predicted by a scikit-learn Ridge(alpha 1) on the standardised features of the
    other families, the held-out features clipped to their range: the calibration's sigma_db (RMS)
    and MAE; the shipped model reproduces an in-sample scikit-learn fit."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    path, name, summary, _ = made
    rows = summary["rows"]
    x = np.array([[r["proxy_psnr"], np.log10(r["params"]), r["depth"]] for r in rows])
    y = np.array([r["truth"] for r in rows])
    fam = np.array([r["family"] for r in rows])
    pred = np.empty(len(y))
    for g in set(fam):
        tr, te = fam != g, fam == g
        sc = StandardScaler().fit(x[tr])
        m = Ridge(alpha=1.0).fit(sc.transform(x[tr]), y[tr])
        pred[te] = m.predict(sc.transform(np.clip(x[te], x[tr].min(0), x[tr].max(0))))
    model = load_calibrations(path)[name].models[4]
    assert model["sigma_db"] == pytest.approx(float(np.sqrt(np.mean((pred - y) ** 2))), abs=1e-9)
    assert summary["mae_db"] == pytest.approx(float(np.mean(np.abs(pred - y))), abs=1e-9)
    assert [r["predicted"] for r in rows] == pytest.approx(list(pred), abs=1e-9)
    sc = StandardScaler().fit(x)
    full = Ridge(alpha=1.0).fit(sc.transform(x), y)
    cal = load_calibrations(path)[name]
    for xi in x:
        got = cal.predict(4, {"psnr": xi[0], "log10_params": xi[1], "depth": xi[2]}).psnr_db
        assert got == pytest.approx(float(full.predict(sc.transform(xi[None]))[0]), abs=1e-9)
    lo, hi = model["lofo_spearman_ci"]
    assert lo <= model["lofo_spearman"] <= hi


def test_a_killed_calibration_resumes_from_its_cache_and_trains_nothing_twice(made, monkeypatch, tmp_path):
    path, name, _, _ = made
    out = tmp_path / "again.json"
    cache = path.with_name(path.name + ".cache.jsonl")
    lines = cache.read_text().splitlines()
    # a run killed after five networks, mid-way through writing the sixth line
    out.with_name(out.name + ".cache.jsonl").write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    trained: list[str] = []
    real = cal_mod.measure_network
    monkeypatch.setattr(cal_mod, "measure_network", lambda config, *a, **k: trained.append(config["name"])
                        or real(config, *a, **k))
    calibrate(CalibrationSettings(profile="smoke", out=str(out), networks=SUBSET, n_boot=200), log=lambda m: None)
    assert len(trained) == 2  # the two not finished
    assert json.loads(out.read_text())[name]["models"] == json.loads(path.read_text())[name]["models"]
    trained.clear()
    calibrate(CalibrationSettings(profile="smoke", out=str(out), networks=SUBSET, n_boot=200), log=lambda m: None)
    assert trained == []


def test_bad_input_is_one_line_naming_the_flag_or_file(tmp_path):
    with pytest.raises(NasError, match="--metric must be y or rgb"):
        calibrate(CalibrationSettings(profile="smoke", metric="cmyk", out=str(tmp_path / "c.json")))
    with pytest.raises(NasError, match="--jobs must be at least 1"):
        calibrate(CalibrationSettings(profile="smoke", jobs=0, out=str(tmp_path / "c.json")))
    with pytest.raises(NasError, match="x8: only .* --profile halving"):
        ground_truth_networks(8)
    with pytest.raises(NasError, match="--networks: nope"):
        ground_truth_networks(4, names=("nope",))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(NasError, match="bad.json: not a calibration file"):
        cal_mod.write_entry(bad, "x", {})
    assert bad.read_text() == "[1, 2]"  # untouched
    with pytest.raises(NasError, match="--out is a folder"):
        calibrate(CalibrationSettings(profile="smoke", out=str(tmp_path), networks=SUBSET))
    with pytest.raises(NasError, match="--profile: name the protocol"):
        calibrate(CalibrationSettings(profile="default", out=str(bad)))


def test_the_command_line_gives_one_line_and_exit_2_on_bad_input(tmp_path):
    import subprocess
    import sys

    # each case is a fresh interpreter (2 s of imports): three cases cover the flag, the ground truth and the data
    for args, culprit in ((["--scale", "8"], "x8: only"), (["--networks", "imdn,nope"], "--networks: nope"),
                          (["--data", str(tmp_path / "missing")], "missing")):
        r = subprocess.run([sys.executable, "-m", "nas.cli", "calibrate", *args, "--out", str(tmp_path / "c.json")],
                           capture_output=True, text=True, timeout=120)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and culprit in lines[0], (args, r.stderr)
        assert not (tmp_path / "c.json").exists()


def test_two_calibrate_processes_share_the_work_and_train_each_network_once(tmp_path):
    """Issue 32 §1: several processes share one calibration. Two `nas calibrate` runs on the same
    --out claim networks one at a time: every network is trained by exactly one of them, and both
    fit the same calibration from the shared cache."""
    import subprocess
    import sys

    out = tmp_path / "shared.json"
    cmd = [sys.executable, "-m", "nas.cli", "calibrate", "--profile", "smoke", "--networks", ",".join(SUBSET),
           "--jobs", "1", "--out", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [r[1] for r in results]
    records = [json.loads(line) for line in out.with_name(out.name + ".cache.jsonl").read_text().splitlines()]
    assert sorted(r["name"] for r in records) == sorted(SUBSET)  # each once
    claims = [json.loads(line) for line in out.with_name(out.name + ".cache.jsonl.claims").read_text().splitlines()]
    assert len(claims) == len(SUBSET) and {c["pid"] for c in claims} <= {p.pid for p in procs}  # one claim each
    assert json.loads(out.read_text())["calibrated-x4-y-4"]["models"]["4"]["n"] == len(SUBSET)


def test_networks_claimed_by_a_dead_process_are_taken_over(tmp_path, monkeypatch):
    """A run killed after claiming every network (its pid gone) does not block the next one."""
    import socket

    out = tmp_path / "c.json"
    dead = 2 ** 22 + 12345  # above Linux's largest pid_max: no such process
    real = cal_mod._Claims.claim
    planted: list[bool] = []

    def claim_after_a_dead_run(self, order, mine):
        if not planted:  # the claims a killed run left behind, for every network of the protocol
            with self.locked(), self.path.open("a") as fh:
                for k in order:
                    fh.write(json.dumps({"key": k, "host": socket.gethostname(), "pid": dead, "time": 0}) + "\n")
            planted.append(True)
        return real(self, order, mine)

    monkeypatch.setattr(cal_mod._Claims, "claim", claim_after_a_dead_run)
    logs: list[str] = []
    calibrate(CalibrationSettings(profile="smoke", out=str(out), networks=SUBSET, n_boot=50), log=logs.append)
    assert planted and not any("waiting" in m for m in logs)
    assert len(out.with_name(out.name + ".cache.jsonl").read_text().splitlines()) == len(SUBSET)


def test_rewriting_a_calibration_file_keeps_the_replaced_entry_for_its_studies(tmp_path):
    """``nas calibrate --out FILE`` into a file that already holds the name (a refit, or
    ``--calibrate auto`` on new data) keeps the old entry as ``<name>@<version>``: the studies
    pinned to it resume (``archived_calibration``), new searches find the refit."""
    from nas.proxy.predict import archived_calibration
    from nas.scoring.calibrate import write_entry

    path = tmp_path / "cal.json"
    entry = {"scale": 4, "protocol": {}, "data": "d", "horizon": "h", "features": ["psnr"],
             "models": {"20": {"intercept": 1.0, "coef": [0.5], "sigma_db": 0.3}}}
    write_entry(path, "mine-x4", entry)
    old_version = load_calibrations(path)["mine-x4"].version
    write_entry(path, "mine-x4", {**entry, "data": "other"})
    keys = sorted(json.loads(path.read_text()))
    assert keys == ["mine-x4", f"mine-x4@{old_version}"]
    assert load_calibrations(path)["mine-x4"].data == "other"
    assert archived_calibration("mine-x4", old_version, [path]).data == "d"
