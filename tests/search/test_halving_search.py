"""`nas search` with successive halving and cost limits, run in-process on the built-in photographs
(smoke profiles: seconds per candidate, the ranking itself is meaningless here)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from nas.report import build_report_data
from nas.report import write_outputs
from nas.search import SearchSettings
from nas.search import run_search as _run_search
from nas.search import rungs as rung_store
from nas.search.study import load_existing_study


def run_search(*args, **kwargs):
    """The search as the CLI runs it: with its output files."""
    return _run_search(*args, write_outputs=write_outputs, **kwargs)


def _settings(tmp_path, **kw) -> SearchSettings:
    base = dict(budget=5, profile="smoke-halving", references=("erfdn",), out=str(tmp_path / "run"),
                threads=1, seed=0, sampler="random")
    base.update(kw)
    return SearchSettings(**base)


def _study(tmp_path) -> optuna.Study:
    return load_existing_study(None, f"sqlite:///{tmp_path / 'run' / 'study.db'}")


def _rung_keys(study) -> dict[tuple[int, int], dict]:
    return rung_store.rung_results(study.user_attrs)


def test_halving_promotes_through_the_rungs_and_compares_at_the_top_fidelity(tmp_path):
    out = run_search(_settings(tmp_path), log=lambda m: None)
    assert out.complete == 5
    study = _study(tmp_path)
    results = _rung_keys(study)
    ref = next(t.number for t in study.trials if t.user_attrs.get("reference") == "erfdn")
    assert (ref, 1) in results and (ref, 2) in results  # references always reach the top rung
    for (number, rung) in results:  # a rung result only for candidates scored at the rung below
        assert rung == 1 or (number, rung - 1) in results
    assert results[(ref, 2)]["iters"] == 8 and not results[(ref, 2)]["replayed"]
    df = pd.read_csv(tmp_path / "run" / "trials.csv")
    done = df[df.state == "COMPLETE"]
    front = df[df.on_front]
    assert len(front) >= 1 and set(front.iters) == {8}  # the front holds top-rung candidates only
    top = {n for (n, r) in results if r == 2}
    assert set(done[done.iters == 8].number) == top
    assert set(done[done.iters < 8].number).isdisjoint(set(front.number))
    assert not (tmp_path / "run" / "checkpoints").exists()  # removed once every promotion is done
    # the reference's row reports its top-rung PSNR and every rung's score
    row = df[df.number == ref].iloc[0]
    assert row.psnr_db == pytest.approx(results[(ref, 2)]["psnr_db"])
    assert set(eval(row.psnr_by_iters)) == {"2", "4", "8"}
    # the report says how many candidates the front was chosen from, and where the time went
    data = build_report_data(study, tmp_path / "run")
    n_top = len(top)
    assert data.compared_text() == (f"5 completed trials, {n_top} at the top fidelity (8 iters)" if n_top < 5
                                    else "5 completed trials")
    assert data.facts.budget == 5 and data.facts.promotion_s > 0


class _InterruptAtRung2:
    """A progress display whose first rung-2 promotion is "interrupted" (as Ctrl-C would)."""

    def __init__(self):
        self.fired = False

    def start(self, total, done): ...
    def step(self, i, n): ...
    def advance(self, done): ...
    def stop(self): ...

    def trial(self, number, label):
        if "rung 2" in label and not self.fired:
            self.fired = True
            raise KeyboardInterrupt("SIGINT")


def test_interrupted_promotion_resumes_at_the_same_rung_from_its_checkpoint(tmp_path):
    stopper = _InterruptAtRung2()
    with pytest.raises(KeyboardInterrupt):
        run_search(_settings(tmp_path), log=lambda m: None, progress=stopper)
    assert stopper.fired
    study = _study(tmp_path)
    done_before = {t.number: t.values for t in study.trials if t.state.name == "COMPLETE"}
    before = _rung_keys(study)
    assert not any(r == 2 for (_n, r) in before)  # interrupted at the first rung-2 promotion
    assert list((tmp_path / "run" / "checkpoints").glob("trial_*.pt"))  # rung-1 states kept

    out = run_search(_settings(tmp_path), log=lambda m: None)
    study = _study(tmp_path)
    after = _rung_keys(study)
    assert out.complete == 5
    assert before.items() <= after.items()  # nothing redone
    # no rung-0 trial retrained after the interruption: the same trials, the same scores
    assert {t.number: t.values for t in study.trials if t.number in done_before} == done_before
    assert not [t for t in study.trials if t.state.name == "FAIL"]
    rung2 = [v for (n, r), v in after.items() if r == 2]
    assert rung2 and not any(v["replayed"] for v in rung2)  # continued from the rung-1 checkpoints


def test_limits_reject_before_training_and_the_sampler_sees_constraints(tmp_path, monkeypatch):
    import nas.scoring.evaluate as ev

    trained: list[int] = []
    real = ev.train_segment

    def spy(model, *a, **kw):
        trained.append(sum(p.numel() for p in model.parameters()))
        return real(model, *a, **kw)

    monkeypatch.setattr(ev, "train_segment", spy)
    limit = 60_000
    out = run_search(_settings(tmp_path, profile="smoke", budget=3, max_params=limit, sampler="tpe"),
                     log=lambda m: None)
    assert out.complete == 3
    study = _study(tmp_path)
    rejected = [t for t in study.trials if t.state.name == "PRUNED" and "over the limit" in
                t.user_attrs.get("prune_reason", "")]
    assert rejected, "the space has candidates over 60k parameters; some must have been sampled"
    for t in rejected:
        assert t.constraints["params"] > 0 and t.user_attrs["costs"]["params"] > limit
        assert "timings" not in t.user_attrs  # never trained
    assert all(n <= limit for n in trained if n != 433_448)  # only the reference (exempt) is larger
    assert 433_448 in trained
    for t in study.trials:
        if t.state.name == "COMPLETE" and not t.user_attrs.get("reference"):
            assert t.values[1] <= limit and t.constraints["params"] <= 0
    df = pd.read_csv(tmp_path / "run" / "trials.csv", keep_default_na=False).set_index("number")
    assert set(df.loc[[t.number for t in rejected], "state"]) == {"PRUNED"}
    for t in rejected:  # trials.csv says why and keeps the measured costs (no PSNR: never trained)
        row = df.loc[t.number]
        assert row.fail_reason.startswith("over the limit: params") and row.psnr_db == ""
        assert int(row.params) == t.user_attrs["costs"]["params"] and float(row.latency_ms) > 0


def test_bad_limit_is_one_clear_error(tmp_path):
    from nas.errors import NasError

    with pytest.raises(NasError, match="--max-params must be a positive finite number, got 0"):
        run_search(_settings(tmp_path, max_params=0), log=lambda m: None)
    with pytest.raises(NasError, match="--max-latency-ms must be a positive finite number, got inf"):
        run_search(_settings(tmp_path, max_latency_ms=float("inf")), log=lambda m: None)
    (tmp_path / "ckpt").write_text("")
    with pytest.raises(NasError, match="ckpt: --checkpoint-dir exists and is not a folder"):
        run_search(_settings(tmp_path, checkpoint_dir=str(tmp_path / "ckpt")), log=lambda m: None)
    assert not (tmp_path / "run").exists()


def test_validation_folder_is_used_with_the_built_in_training_photos(tmp_path):
    from PIL import Image

    from nas.errors import DataError
    from nas.proxy import get_profile
    from nas.proxy.data import load_proxy_data

    val = tmp_path / "val"
    val.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (96, 80, 3), dtype=np.uint8)).save(val / "a.png")
    data = load_proxy_data(4, get_profile("smoke"), None, val)
    assert data.source.endswith(f"| val {val}") and [p.name for p in data.val] == ["a"]
    with pytest.raises(DataError, match="missing: dataset folder not found"):
        load_proxy_data(4, get_profile("smoke"), None, tmp_path / "missing")
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(val / "tiny.png")  # LR 10 px at x4
    with pytest.raises(DataError, match=r"tiny: validation LR image is 10x10, smaller than 15 px"):
        load_proxy_data(4, get_profile("smoke"), None, val)


_HALF_UNBUILDABLE = """\
name: half_unbuildable
network:
  nf: 8
  num_blocks: 1
  fusion: conv1x1
blocks:
  per_position: false
  type: imdb
  options:
    imdb:
      stages: 1
      distill_ratio: 0.25
      attention: cca
      cca_reduction: {type: categorical, choices: [2, 16]}   # 16 on 4 fused channels: 0 channels
"""


def test_unbuildable_points_are_rejected_before_training_not_failed(tmp_path, monkeypatch):
    import nas.scoring.evaluate as ev

    trained: list[int] = []
    real = ev.train_segment

    def spy(model, *a, **kw):
        trained.append(1)
        return real(model, *a, **kw)

    monkeypatch.setattr(ev, "train_segment", spy)
    space = tmp_path / "space.yaml"
    space.write_text(_HALF_UNBUILDABLE)
    # the space has two points: one builds, one cannot; the 1-trial budget completes either way
    out = run_search(_settings(tmp_path, space=str(space), profile="smoke", budget=1, references=(),
                               seed=1), log=lambda m: None)
    assert out.complete == 1
    study = _study(tmp_path)
    assert not [t for t in study.trials if t.state.name == "FAIL"]
    bad = [t for t in study.trials if t.params.get("b.imdb.cca_reduction") == 16]
    good = [t for t in study.trials if t.params.get("b.imdb.cca_reduction") == 2]
    assert [t.state.name for t in good] == ["COMPLETE"] and len(trained) == 1
    for t in bad:  # infeasible for the sampler, one-line reason naming the field, never trained
        assert t.state.name == "PRUNED" and t.constraints["unbuildable"] > 0
        assert t.user_attrs["prune_reason"].startswith("unbuildable: ")
        assert "cca_reduction" in t.user_attrs["prune_reason"] and "timings" not in t.user_attrs
    assert bad, "seed 1 of the random sampler draws the unbuildable point first"
    data = build_report_data(study, tmp_path / "run")
    assert {p.status for p in data.points if p.number in {t.number for t in bad}} == {"rejected"}


class _InterruptAtTrial:
    """A progress display that raises KeyboardInterrupt (as Ctrl-C would) when the trial whose
    label satisfies ``match`` starts training."""

    def __init__(self, match):
        self.match, self.fired = match, None

    def start(self, total, done): ...
    def step(self, i, n): ...
    def advance(self, done): ...
    def stop(self): ...

    def trial(self, number, label):
        if self.fired is None and "rung" not in label and self.match(number, label):
            self.fired = number
            raise KeyboardInterrupt("SIGINT")


def test_interrupted_reference_and_candidate_are_queued_again_on_resume(tmp_path):
    # Ctrl-C while the reference trains: the resumed search must still evaluate it
    stop_ref = _InterruptAtTrial(lambda n, label: label == "erfdn")
    with pytest.raises(KeyboardInterrupt):
        run_search(_settings(tmp_path, budget=3), log=lambda m: None, progress=stop_ref)
    study = _study(tmp_path)
    assert study.trials[stop_ref.fired].state.name == "FAIL"
    # Ctrl-C while a searched candidate trains: its configuration is trained first on resume
    stop_cand = _InterruptAtTrial(lambda n, label: label != "erfdn")
    with pytest.raises(KeyboardInterrupt):
        run_search(_settings(tmp_path, budget=3), log=lambda m: None, progress=stop_cand)
    victim = _study(tmp_path).trials[stop_cand.fired]
    assert victim.state.name == "FAIL" and victim.user_attrs["fail_reason"] == "interrupted (SIGINT)"

    lines: list[str] = []
    out = run_search(_settings(tmp_path, budget=3), log=lines.append)
    assert out.complete == 3
    study = _study(tmp_path)
    refs = [t for t in study.trials if t.user_attrs.get("reference") == "erfdn" and t.state.name == "COMPLETE"]
    assert len(refs) == 1  # evaluated once, not lost and not twice
    assert (refs[0].number, 2) in _rung_keys(study)  # and it reached the top rung
    retry = [t for t in study.trials if t.user_attrs.get("retry_of") == victim.number]
    assert len(retry) == 1 and retry[0].state.name == "COMPLETE" and retry[0].params == victim.params
    assert not [t for t in study.trials if t.state.name in ("RUNNING", "WAITING")]


def test_database_deleted_during_the_search_is_one_storage_error(tmp_path):
    from nas.errors import StudyError

    class DeleteDb(_InterruptAtTrial):
        def trial(self, number, label):
            if self.fired is None and number >= 2:
                self.fired = number
                (tmp_path / "run" / "study.db").unlink()

    with pytest.raises(StudyError, match=r"study.db: storage error during the search"):
        run_search(_settings(tmp_path, profile="smoke", references=()), log=lambda m: None,
                   progress=DeleteDb(None))
    assert not (tmp_path / "run" / "study.db").exists()  # the check did not create an empty one


_Y_ONLY = """\
name: y_only_ecb
network:
  nf: {type: int, low: 4, high: 8, step: 4}
  num_blocks: 1
  colors: 1
  fusion: conv1x1
blocks:
  per_position: false
  type: ecb
  options:
    ecb:
      depth: 1
"""


def test_a_y_only_space_trains_and_scores_on_the_y_channel(tmp_path):
    # ECBSR-style networks take and return Y (colors: 1); the proxy trains them on the Y planes
    space = tmp_path / "y.yaml"
    space.write_text(_Y_ONLY)
    out = run_search(_settings(tmp_path, profile="smoke", budget=2, references=(), space=str(space)),
                     log=lambda m: None)
    assert out.complete == 2
    done = [t for t in _study(tmp_path).trials if t.state.name == "COMPLETE"]
    assert all(t.user_attrs["config"]["colors"] == 1 for t in done)
    assert all(5.0 < t.values[0] < 40.0 for t in done)  # a real PSNR-Y, not a failure


def test_validation_crops_stay_large_enough_for_esa_at_x8():
    # the smoke profile crops validation to 96 HR px: 12 LR px at x8, under ESA's 15
    from nas.proxy import get_profile
    from nas.proxy.data import VAL_MIN_LR, load_proxy_data

    data = load_proxy_data(8, get_profile("smoke"), None, None)
    assert all(min(p.lr.shape[:2]) >= VAL_MIN_LR for p in data.val)
    assert all(p.hr.shape[:2] == (p.lr.shape[0] * 8, p.lr.shape[1] * 8) for p in data.val)
