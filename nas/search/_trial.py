"""One trial of a search: sample a candidate, admit it, measure its costs, train it (rung 0).

``run_trial(ctx, trial)`` is the Optuna objective (``study.optimize(lambda t: run_trial(ctx, t))``):
the sampled ``ArchConfig`` is written on the trial (``arch_id``, ``summary``, ``config``), checked
buildable, admitted (:mod:`nas.search.admission`: budget, duplicates), its deploy-form costs are
measured before any training (a candidate over a ``--max-*`` limit, or outside the predictor's
applicability domain, is PRUNED with Optuna constraints set), then it trains with the proxy profile and returns
the study's objective values (``ctx.objectives``; default ``(psnr_db, params, mult_adds,
latency_ms)``; the predicted fully-trained PSNR first when the profile has a predictor). Every
measured cost (the standard three and the study's others) is stored as the ``costs`` attribute. A failure is stored as ``fail_reason``; SIGINT as "interrupted".
"""

from __future__ import annotations

import math
import time
from typing import Callable

import optuna
from optuna.trial import Trial

from nas.errors import ArchConfigError
from nas.metrics.quiet import LOADED_SHARE, gate
from nas.search.admission import ADMITTED, BUDGET_REASON, PENDING, admit, claims, decide
from nas.search.settings import _fmt_limit

__all__ = ["run_trial", "UNBUILDABLE", "DOMAIN"]

#: Constraint set (1.0 = violated) on a sampled point that cannot be built at its width.
UNBUILDABLE = "unbuildable"


def prune(trial: Trial, reason: str) -> None:
    """Record ``reason`` as ``prune_reason`` and end the trial PRUNED."""
    trial.set_user_attr("prune_reason", reason)
    raise optuna.TrialPruned(reason)


def run_trial(ctx, trial: Trial) -> tuple[float, ...]:
    """The Optuna objective of one worker (``ctx``: a :class:`nas.search._setup.SearchContext`).

    Returns:
        The values of ``ctx.objectives`` in their units; by default ``(psnr_db, params,
        mult_adds, latency_ms)`` in dB, count, MACs (1280x720 HR), ms.

    Raises:
        optuna.TrialPruned: over the budget, a duplicate, unbuildable, over a cost limit or
            outside the predictor's domain (``prune_reason`` says which).
        Exception: anything else fails the trial with ``fail_reason`` (the search goes on).
        KeyboardInterrupt: SIGINT / SIGTERM (``fail_reason`` "interrupted (SIGINT)").
    """
    from nas.scoring.evaluate import evaluate, measure_costs, seeded_model  # looked up per call (tests patch them)

    s, study, profile, progress, sig = ctx.s, ctx.study, ctx.profile, ctx.progress, ctx.signals
    pre: dict[str, float] = {}  # sample_s (the sampler), build_s (build + admission), paused_s
    paused0 = gate().paused_s
    ctx.current["trial_id"] = trial._trial_id
    try:
        sig.check()  # a signal is held outside training and timing (storage writes are never cut)
        trial.set_user_attr("worker", ctx.worker)
        if decide(trial.number, None, s.budget, claims(study)).verdict == "yield":
            prune(trial, BUDGET_REASON)  # cheap early exit; the real check is admit() below
        t0 = time.perf_counter()
        config = ctx.space.suggest(trial, s.scale)
        pre["sample_s"] = time.perf_counter() - t0
        ref = trial.user_attrs.get("reference")
        config = config.replace(name=ref) if ref else config.replace(name=f"trial{trial.number}")
        trial.set_user_attr("arch_id", config.arch_id)
        trial.set_user_attr("summary", config.summary())
        trial.set_user_attr("config", config.to_dict())
        t0 = time.perf_counter()
        try:  # the seeded training-form build is the buildability check (cheaper than a meta-device one)
            model = seeded_model(config, profile.seed)
        except ArchConfigError as err:  # a point of the space that cannot exist at its width
            if ref:
                raise
            trial.set_constraint(UNBUILDABLE, 1.0)  # infeasible: the sampler learns to avoid it
            prune(trial, f"unbuildable: {err}")
        trial.set_user_attr("admission", PENDING)  # after arch_id: see nas.search.admission
        verdict = admit(study, trial.number, config.arch_id, s.budget, sleep=sig.sleep)
        if verdict.verdict != "admit":
            prune(trial, verdict.reason)
        trial.set_user_attr("admission", ADMITTED)
        pre["build_s"] = time.perf_counter() - t0  # building + admission
        if progress is not None:
            progress.trial(trial.number, ref or config.summary())
        def domain(partial) -> None:  # stores the leverage / prunes: a storage write
            with sig.held():
                _check_domain(ctx, trial, config, partial, ref)

        with sig.interruptible():
            costs = measure_costs(config, profile.seed, ctx.latency, ctx.device, ctx.objectives, model=model,
                                  before_latency=domain)
        _record_load(trial, costs[0].latency_load, ctx.warned, ctx.log)
        trial.set_user_attr("costs", costs[0].metrics())
        limits = ctx.limits
        over = _over_limits(costs[0], limits)
        if limits and not ref:
            for name, limit in limits.items():  # normalised: comparable across objectives
                trial.set_constraint(name, (getattr(costs[0], name) - limit) / limit)
        if over and not ref:
            prune(trial, "over the limit: " + "; ".join(over))
        if over:
            trial.set_user_attr("over_limits", over)
        on_step = (lambda i, _l: progress.step(i, profile.iters)) if progress is not None else None
        ckpt = ctx.ckpt_dir / f"trial_{trial.number:05d}.pt" if profile.multi_fidelity else None
        with sig.interruptible():
            scores = evaluate(config, ctx.data, profile, ctx.device, ctx.latency, on_step=on_step, costs=costs,
                              checkpoint=ckpt, zero_cost=getattr(ctx.calibration, "features", ()) or ())
    except optuna.TrialPruned:
        raise
    except Exception as err:  # the trial FAILS with the reason; the search goes on
        reason = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
        trial.set_user_attr("fail_reason", reason[:500])
        raise
    except KeyboardInterrupt as err:
        sig.defer = True  # let the reason and Optuna's FAIL reach the storage
        trial.set_user_attr("fail_reason", f"interrupted ({err.args[0] if err.args else 'SIGINT'})")
        raise
    finally:
        sig.defer = True  # until Optuna has written the trial's final state
    trial.set_user_attr("iters", scores.iters)
    if scores.train_params is not None and scores.train_params != scores.params:
        trial.set_user_attr("train_params", scores.train_params)  # deploy form scored, training form kept
    if costs[0].depth is not None:
        trial.set_user_attr("depth", costs[0].depth)
    # paused_s: this worker's steps waiting while another worker timed a latency (inside train_s / validate_s)
    pre["paused_s"] = gate().paused_s - paused0
    trial.set_user_attr("timings", {k: round(v, 3) for k, v in {**scores.timings, **pre}.items()})
    values = scores.values(ctx.objectives)
    pred = predict(ctx.calibration, scores.iters, scores.psnr_db, scores.params, scores.mult_adds, costs[0].depth,
                   config, scores.features)
    if pred is not None:  # rank by the predicted fully-trained PSNR; the proxy's own kept beside it
        trial.set_user_attr("psnr_raw_db", scores.psnr_db)
        trial.set_user_attr("prediction", pred.to_dict())
        values = (pred.psnr_db, *values[1:])
    if s.min_psnr is not None and not ref:  # the threshold on the score the front is built on
        trial.set_constraint("min_psnr", (s.min_psnr - values[0]) / s.min_psnr)
    return values


#: Constraint ``(leverage - h_max) / h_max`` on a candidate the predictor's fitting set does not cover.
DOMAIN = "domain"


def _check_domain(ctx, trial: Trial, config, costs, ref: str | None) -> None:
    """Where the profile's calibration has an applicability domain (``nas.proxy.predict.Domain``):
    store ``domain`` (``{"leverage", "h_max", "inside"}``) on the trial, set the Optuna constraint
    ``domain`` and PRUNE a searched candidate outside it before it trains (its predicted PSNR
    would be an extrapolation no published network supports). References are never pruned.

    Raises:
        optuna.TrialPruned: a searched candidate outside the domain (``prune_reason`` says so).
    """
    domain = getattr(ctx.calibration, "domain", None)
    if domain is None or costs.depth is None:
        return
    from nas.proxy.predict import feature_vector

    check = domain.check(feature_vector(float("nan"), costs.params, costs.mult_adds, costs.depth, config.nf))
    if check is None:
        return
    trial.set_user_attr("domain", check)
    if ref:
        return
    trial.set_constraint(DOMAIN, (check["leverage"] - check["h_max"]) / check["h_max"])
    if not check["inside"]:  # pruned before its latency is timed: the costs counted so far are kept
        trial.set_user_attr("costs", {k: v for k, v in costs.metrics().items() if k != "latency_ms"})
        where = (f"(log10 params, depth) = ({math.log10(max(1, costs.params)):.2f}, {costs.depth}) outside the box "
                 f"{domain.describe()}" if hasattr(domain, "describe") else
                 f"leverage {check['leverage']:.2f} > {check['h_max']:.2f} in (log10 params, depth, log2 nf) = "
                 f"({math.log10(max(1, costs.params)):.2f}, {costs.depth}, {math.log2(config.nf):.2f})")
        prune(trial, f"outside the predictor's domain: {where}, against the {len(domain.networks)} published "
                     f"networks of {ctx.calibration.name!r}")


def _record_load(trial: Trial, load: dict | None, warned: dict[str, bool], log: Callable[[str], None]) -> None:
    """Store how busy the machine was while the latency was timed (``latency_load``) and warn
    once per worker when other processes used more than ``LOADED_SHARE`` of the cores."""
    if not load:
        return
    trial.set_user_attr("latency_load", load)
    share = load.get("others_share")
    if share is not None and share > LOADED_SHARE and not warned.get("load"):
        warned["load"] = True
        log(f"warning: other processes used {share:.0%} of the {load.get('cores')} cores while trial "
            f"{trial.number}'s latency was timed (load average {load.get('loadavg1')}): latencies measured on "
            "a busy machine are slower and noisier; the report flags them (latency_loaded)")



def predict(calibration, iters: int, psnr_db: float, params: float, mult_adds: float, depth, config=None,
            features=None):
    """The calibration's prediction of the fully-trained PSNR at ``iters`` steps, or ``None``
    (no calibration, no model for that fidelity, or an unknown feature). Its features may be
    any of ``nas.proxy.predict.feature_vector``'s, the design features of ``config``
    (``nas.proxy.features.design_features``) and what the proxy run measured (``features``:
    ``Scores.features``, the loss trajectory and zero-cost proxies)."""
    if calibration is None:
        return None
    from nas.proxy.predict import feature_vector

    values = feature_vector(psnr_db, params, mult_adds, depth, getattr(config, "nf", None))
    if config is not None:
        from nas.proxy.features import design_features

        values.update(design_features(config))
    values.update(features or {})
    return calibration.predict(iters, values)



def _over_limits(costs, limits: dict[str, float]) -> list[str]:
    """``["params 901,395 > 500,000 params", ...]`` for each limit ``costs`` exceeds."""
    out = []
    for name, limit in limits.items():
        value = float(getattr(costs, name))
        if value > limit:
            shown = f"{int(value):,}" if name == "params" else (f"{value / 1e9:.3g} G" if name == "mult_adds"
                                                                  else f"{value:.1f} ms")
            out.append(f"{name} {shown} > {_fmt_limit(name, limit)}")
    return out
