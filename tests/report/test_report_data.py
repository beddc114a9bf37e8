"""Fast checks (no search, no torch): hypervolume reference points and agreement with Optuna, and
the report data of a hand-made study (front = ``best_trials``, dominance, hidden trials)."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from nas.front import HV_REFERENCES, compute_hypervolume, hv_reference, hypervolume, hypervolume_history
from nas.report import build_report_data
from nas.report.plots import front_2d, pareto_figure, use_log
from nas.report.terminal import front_view
from nas.errors import NasError

optuna.logging.set_verbosity(optuna.logging.ERROR)
DIRECTIONS = ["maximize", "minimize", "minimize", "minimize"]


def test_hypervolume_reference_points_and_optuna_agreement():
    ref = hv_reference(4)
    assert ref.raw_point == (10.0, 2e6, 1e11, 1000.0)
    assert ref.raw_ideal == (40.0, 1e3, 5e7, 0.1)
    assert {s: r.mult_adds for s, r in HV_REFERENCES.items()} == {2: 4e11, 3: 1.8e11, 4: 1e11, 8: 2.5e10}
    # every scale's Mult-Adds range has the params' ratio (2000x)
    assert all(r.mult_adds / r.mult_adds_ideal == pytest.approx(2000) for r in HV_REFERENCES.values())
    # the reference point has loss 1 everywhere, the ideal loss 0
    assert ref.normalise([ref.raw_point]).tolist() == [[1.0, 1.0, 1.0, 1.0]]
    assert ref.normalise([ref.raw_ideal]).tolist() == [[0.0, 0.0, 0.0, 0.0]]
    # costs on log axes: the geometric mid-point of each cost range (and mid-PSNR) gives 1/16 of the box
    mid = (25.0, (1e3 * 2e6) ** 0.5, (5e7 * 1e11) ** 0.5, (0.1 * 1000) ** 0.5)
    assert hypervolume([mid], 4) == pytest.approx(1 / 16)
    # halving the parameters is worth the same at any size
    a, b = ref.normalise([(25.0, 800_000, 1e9, 10.0), (25.0, 400_000, 1e9, 10.0)])[:, 1]
    c, d = ref.normalise([(25.0, 50_000, 1e9, 10.0), (25.0, 25_000, 1e9, 10.0)])[:, 1]
    assert a - b == pytest.approx(c - d)
    assert hypervolume([(5.0, 1e6, 5e10, 500.0)], 4) == 0.0   # worse than the reference PSNR: adds nothing
    assert hypervolume([(25.0, 3e6, 5e10, 500.0)], 4) == 0.0  # more params than the reference: nothing
    assert ref.normalise([(30.0, 10, 0, 0.01)])[0, 1:].tolist() == [0.0, 0.0, 0.0]  # below the ideal: ideal
    # same numbers as Optuna's own history plot on log-transformed costs, divided by the box volume
    rng = np.random.default_rng(0)
    vals = np.column_stack([rng.uniform(20, 30, 12), rng.uniform(1e4, 1e6, 12),
                            rng.uniform(1e9, 5e10, 12), rng.uniform(1, 400, 12)])
    st = optuna.create_study(directions=["maximize", "minimize", "minimize", "minimize"])
    for v in vals:
        st.add_trial(create_trial(values=list(v)))
    st.set_user_attr("scale", 4)
    ours = [h.hypervolume for h in hypervolume_history(st)]
    from optuna.visualization._hypervolume_history import _get_hypervolume_history_info

    logged = optuna.create_study(directions=["maximize", "minimize", "minimize", "minimize"])
    for v in vals:
        logged.add_trial(create_trial(values=[v[0], *np.log(v[1:])]))
    raw = _get_hypervolume_history_info(logged, np.array([ref.psnr_ref_db, *np.log(ref.raw_point[1:])])).values
    box = (ref.psnr_ideal_db - ref.psnr_ref_db) * np.prod(np.log(np.array(ref.raw_point[1:]) / ref.raw_ideal[1:]))
    assert ours == pytest.approx([v / box for v in raw], rel=1e-9)
    assert compute_hypervolume(np.zeros((0, 4))) == 0.0


def test_hypervolume_reference_rejects_an_empty_log_range():
    from nas.front.hypervolume import HypervolumeReference

    with pytest.raises(NasError, match="params needs 0 < ideal < reference"):
        HypervolumeReference(4, params_ideal=0.0)


def test_unknown_scale_has_no_reference_point():
    with pytest.raises(NasError, match="scale 5"):
        hv_reference(5)


def _study() -> optuna.Study:
    st = optuna.create_study(directions=DIRECTIONS, study_name="handmade")
    st.set_user_attr("scale", 4)
    dist = {"x": FloatDistribution(0, 1)}

    def add(values, state=TrialState.COMPLETE, **attrs):
        st.add_trial(create_trial(state=state, values=values, params={"x": 0.5} if values else {},
                                  distributions=dist if values else {},
                                  user_attrs={"summary": f"arch {len(st.trials)}", "iters": 60,
                                              "config": {"name": "x"}, **attrs}))

    add([27.0, 700_000, 40e9, 80.0], reference="imdn")      # 0
    add([26.8, 550_000, 31e9, 70.0], reference="rfdn")      # 1
    add([27.1, 300_000, 20e9, 40.0])                        # 2 dominates both
    add([26.0, 20_000, 1e9, 5.0])                           # 3 front (cheap)
    add([25.0, 900_000, 50e9, 90.0])                        # 4 dominated
    add(None, state=TrialState.FAIL, fail_reason="RuntimeError: NaN loss")   # 5
    add(None, state=TrialState.PRUNED, prune_reason="duplicate of trial 4")  # 6
    add([27.05, 400_000, 25e9, 50.0])                       # 7 dominated by 2, dominates both
    return st


def test_report_data_of_a_handmade_study():
    st = _study()
    data = build_report_data(st, "results/x")
    assert {p.number for p in data.front} == {t.number for t in st.best_trials} == {2, 3}
    assert [p.number for p in data.front] == [3, 2]  # by params
    assert data.points[2].dominates == ("imdn", "rfdn") and data.points[3].dominates == ()
    assert [p.number for p in data.dominated_by("imdn")] == [2, 7]
    assert data.points[7].dominates == ("imdn", "rfdn") and data.points[4].dominates == ()  # off the front too
    assert [p.status for p in data.points] == ["dominated", "dominated", "front", "front", "dominated", "failed", "pruned",
                                               "dominated"]
    assert data.points[6].plot_values == (25.0, 900_000, 50e9, 90.0) and data.points[6].export_command is None
    assert data.points[2].export_command == "nas export --out-dir results/x --trial 2 --out trial2.yaml"
    hv = [h.hypervolume for h in data.hypervolume]
    assert len(hv) == 6 and all(b >= a for a, b in zip(hv, hv[1:])) and hv[-1] == hv[-2]  # trial 4 adds nothing
    frame = data.frame()
    assert frame["fail_reason"].tolist()[5] == "RuntimeError: NaN loss"
    assert frame["on_front"].tolist() == [False, False, True, True, False, False, False, False]
    rows = front_view(data, sort="psnr_db")
    assert rows["number"].tolist() == [2, 0, 1, 3]  # front + references, best PSNR first
    assert front_view(data, dominating="IMDN")["number"].tolist() == [2, 7]  # front or not
    with pytest.raises(NasError, match="--dominating"):
        front_view(data, dominating="swinir")
    with pytest.raises(NasError, match="--sort"):
        front_view(data, sort="speed")


def test_plot_conventions():
    st = _study()
    data = build_report_data(st, "results/x", with_hypervolume=False)
    fig = pareto_figure(data)
    trial_traces = [t for t in fig.data if t.meta == "trial" and t.xaxis == "x"]
    assert sum(len(t.x) for t in trial_traces) == len(data.complete) == 6  # one marker per COMPLETE trial
    assert {t.name for t in trial_traces} >= {"IMDN (reference)", "RFDN (reference)"}
    assert fig.layout.xaxis.type == "log"           # params 20k..900k: more than a decade
    assert use_log([1, 9.9]) is False and use_log([1, 10]) is True
    assert [p.number for p in front_2d(data.complete, "params")] == [3, 2]
    hidden = [t for t in fig.data if t.meta == "hidden"]
    assert all(t.visible == "legendonly" for t in hidden) and hidden[0].name == "failed / pruned / rejected (2)"


def _claim_study(margin_db: float, noise: dict | None) -> optuna.Study:
    st = optuna.create_study(directions=DIRECTIONS, study_name="claims")
    st.set_user_attr("scale", 4)
    if noise is not None:
        st.set_user_attr("psnr_noise_db", noise)
    st.add_trial(create_trial(values=[29.0, 500_000, 3e10, 50.0], user_attrs={"reference": "imdn", "iters": 180}))
    st.add_trial(create_trial(values=[29.0 + margin_db, 100_000, 1e10, 20.0], user_attrs={"iters": 180}))
    return st


@pytest.mark.parametrize("margin_db, claimed", [(0.05, False), (0.2, True)])
def test_a_dominance_claim_needs_a_psnr_margin_above_the_seed_noise(margin_db, claimed):
    data = build_report_data(_claim_study(margin_db, {"180": 0.1}), with_hypervolume=False)
    cand = next(p for p in data.points if not p.reference)
    assert (cand.dominates == ("imdn",)) is claimed
    assert [p.number for p in data.dominated_by("imdn")] == ([cand.number] if claimed else [])
    assert data.facts.claim_margin_db == pytest.approx(0.1)


def test_without_measured_noise_dominance_is_plain():
    data = build_report_data(_claim_study(0.05, None), with_hypervolume=False)
    assert next(p for p in data.points if not p.reference).dominates == ("imdn",)
    assert data.facts.claim_margin_db == 0.0


def test_a_confirmation_inside_the_noise_does_not_confirm_a_claim():
    """Retrained for 1620 steps (noise not measured there), a candidate 0.03 dB above IMDN is not
    confirmed: the margin is the noise at the longest measured fidelity (0.17 dB at 180)."""
    from nas.report.data import TrialPoint, _with_confirmations

    def point(number, reference, dominates=()):
        return TrialPoint(number=number, state="COMPLETE", status="front", reference=reference, psnr_db=29.0,
                          params=1, mult_adds=1, latency_ms=1.0, iters=180, duration_s=1.0, arch_id=str(number),
                          summary="", config=None, on_front=True, dominates=dominates, reason="", export_command=None)

    points = [point(0, "imdn"), point(1, "erfdn"), point(7, None, ("imdn", "erfdn"))]
    ua = {"confirm_profile": {"name": "confirm", "iters": 20, "batch": 8, "lr_patch": 24, "lr": 2e-3, "seed": 0,
                              "val_max_side": 384, "channels_last": True, "augment": True, "rungs": 5, "eta": 3,
                              "predictor": "none", "threads": 1},
          "confirm:0:0": {"psnr_db": 30.52, "iters": 1620}, "confirm:1:0": {"psnr_db": 30.30, "iters": 1620},
          "confirm:7:0": {"psnr_db": 30.55, "iters": 1620}}
    out = {p.number: p for p in _with_confirmations(points, ua)}
    assert out[7].psnr_confirm_db == 30.55
    assert out[7].confirmed == ("erfdn",)  # 0.25 dB above E-RFDN, only 0.03 above IMDN


def test_the_bicubic_floor_is_shown_where_the_psnr_is_the_proxys():
    """A stored bicubic PSNR appears as a summary row and as a dotted line in every Pareto panel;
    not on a front built on a predicted fully-trained PSNR, which it cannot be compared with."""
    st = _study()
    st.set_user_attr("bicubic_psnr_db", 26.5)
    data = build_report_data(st, "results/x", with_hypervolume=False)
    assert data.facts.bicubic_psnr_db == 26.5 and data.facts.psnr_is_proxy
    assert dict(data.facts.rows())["bicubic upsampling (the floor)"].startswith("26.50 dB")
    lines = [t for t in pareto_figure(data).data if t.meta == "bicubic"]
    assert len(lines) == 3 and all(list(t.y) == [26.5, 26.5] for t in lines)
    assert build_report_data(_study(), "results/x", with_hypervolume=False).facts.bicubic_psnr_db is None
    st.add_trial(create_trial(values=[31.0, 1000, 1e8, 1.0], params={"x": 0.5},
                              distributions={"x": FloatDistribution(0, 1)},
                              user_attrs={"iters": 60, "prediction": {"horizon": "Set5 after full training",
                                                                      "method": "zoo-x4"}}))
    pred = build_report_data(st, "results/x", with_hypervolume=False)
    assert not pred.facts.psnr_is_proxy and not [t for t in pareto_figure(pred).data if t.meta == "bicubic"]
