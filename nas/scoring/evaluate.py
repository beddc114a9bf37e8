"""Score one candidate: build, count, train the proxy, validate, time.

This is where the pipeline meets torch: ``ArchConfig -> build_model -> params / Mult-Adds ->
latency -> train_proxy -> PSNR`` (costs first: constraints reject before any training), and
for successive halving ``checkpoint -> continue_rung -> PSNR at a higher rung``. Each stage's wall time is recorded (``Scores.timings``), so
``benchmarks/trial_breakdown.py`` can split a whole search's time by stage.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from nas.arch import ArchConfig
from nas.scoring.objectives import OBJECTIVES, STANDARD_COSTS, Objective
from nas.metrics import count_params, measure_latency, mult_adds
from nas.metrics.cost import LatencyResult
from nas.models import build_model, reparameterize_model
from nas.models.depth import conv_depth
from nas.proxy.data import ProxyData
from nas.proxy.profiles import ProxyProfile
from nas.metrics.quiet import LOADED_SHARE, cpu_load, gate
from nas.data import rgb_to_y_torch
from nas.proxy.features import proxy_batch, trajectory_features, zero_cost_proxies
from nas.proxy.train import load_train_state, save_train_state, torch_threads, train_segment, with_skip

__all__ = ["LatencySetting", "Costs", "Scores", "RungScore", "deploy_form", "seeded_model", "cheap_scores", "measure_costs",
           "evaluate", "continue_rung"]


@dataclass(frozen=True)
class LatencySetting:
    """How latency is measured: LR input (H, W), warm-up and timed forward passes, threads.

    The median of ``repeats`` timed passes after ``warmup`` untimed ones, in eval mode,
    ``torch.inference_mode``, fp32, timed with CUDA events on CUDA
    (:func:`nas.metrics.cost.measure_latency`); with ``budget_ms > 0`` the timed passes stop
    once 3 or more took ``budget_ms`` together (0: always ``repeats``; studies created before
    the budget existed resume with 0). ``threads`` torch threads (0: the
    process's current count; ``nas search`` stores the usable cores at study creation, the
    machine a deployer runs on). Taken inside the machine-wide quiet gate
    (:mod:`nas.metrics.quiet`): the other ``nas`` workers of the machine pause at their next step
    boundary, so ``--jobs N`` does not time a busy machine.
    """

    lr_hw: tuple[int, int] = (64, 64)
    warmup: int = 3
    repeats: int = 10
    channels_last: bool = True
    threads: int = 0
    budget_ms: float = 100.0


@dataclass
class Costs:
    """The objectives known before training.

    All three are measured on the *deploy form* (``reparameterize_model``: every ECB merged into
    one 3x3 conv), the network ``nas export`` ships and a user runs; the training form's
    parameter count is kept beside it (issue 18 §3).

    Attributes:
        params: exact parameter count of the deploy form.
        mult_adds: Mult-Adds (MACs, fvcore) of the deploy form for a 1280x720 HR output.
        latency_ms: median forward latency (ms) of the deploy form on ``LatencySetting.lr_hw``.
        timings: wall seconds per stage (build_s, mult_adds_s, latency_s).
        train_params: parameter count of the training form (``== params`` without
            re-parameterisable blocks).
        depth: 3x3-conv layers on the deploy form's longest path (``nas.models.depth``), a
            feature of the full-training PSNR predictor.
        latency_load: how busy the machine was while timing (``nas.metrics.quiet.CpuLoad``
            as a dict: ``others_share`` of the cores used by other processes, ``loadavg1``,
            ``cores``) and ``wait_s``, the seconds waited for the quiet gate.
        extra: the study's objectives beyond ``psnr_db`` and the three above, by name, in their
            units (:mod:`nas.scoring.measures`).
    """

    params: int
    mult_adds: int
    latency_ms: float
    timings: dict[str, float] = field(default_factory=dict)
    train_params: int | None = None
    depth: int | None = None
    latency_load: dict | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """Every measured cost by objective name (``params``, ``mult_adds``, ``latency_ms`` and the
        study's other objectives), as stored on a trial (``costs`` user attribute)."""
        return {"params": self.params, "mult_adds": self.mult_adds, "latency_ms": round(self.latency_ms, 3),
                **{k: round(v, 6) for k, v in self.extra.items()}}


@dataclass
class Scores:
    """The objectives of one candidate plus bookkeeping.

    Attributes:
        psnr_db: proxy validation PSNR (dB, Y channel).
        params: exact parameter count (deploy form).
        mult_adds: Mult-Adds (MACs, fvcore) for a 1280x720 HR output (deploy form).
        latency_ms: median forward latency (ms) on ``LatencySetting.lr_hw`` (deploy form).
        iters: proxy iterations trained (fidelity).
        timings: wall seconds per stage (build, mult_adds, train, validate, latency).
        train_params: parameter count of the training form.
        extra: the study's other objectives by name (:attr:`Costs.extra`).
        features: what the proxy run measured beside the PSNR, for a full-training PSNR
            predictor (:mod:`nas.proxy.features`): the loss-trajectory features (``loss_mean``,
            ``loss_mean_late``, ``loss_last``, ``loss_slope``) and the zero-cost proxies asked for
            (``zc_<name>`` before training, ``zc_<name>_t`` after).
    """

    psnr_db: float
    params: int
    mult_adds: int
    latency_ms: float
    iters: int
    timings: dict[str, float] = field(default_factory=dict)
    train_params: int | None = None
    extra: dict[str, float] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)

    def value(self, name: str) -> float:
        """The objective ``name``'s value in its unit.

        Raises:
            KeyError: ``name`` was not measured for this candidate.
        """
        if name in ("psnr_db", "params", "mult_adds", "latency_ms"):
            return float(getattr(self, name))
        return float(self.extra[name])

    def values(self, objectives: Sequence[Objective] = OBJECTIVES) -> tuple[float, ...]:
        """The values in ``objectives`` order (the study's), for ``study.tell`` / the objective's
        return value; default ``(psnr_db, params, mult_adds, latency_ms)``."""
        return tuple(self.value(o.name) for o in objectives)


def deploy_form(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` itself when it has no re-parameterisable block, else its deploy copy
    (:func:`nas.models.reparameterize_model`, eval mode); the costs a user pays are those of this."""
    if any(callable(getattr(m, "reparameterize", None)) for m in model.modules()):
        return reparameterize_model(model)
    return model


def seeded_model(config: ArchConfig, seed: int = 0) -> torch.nn.Module:
    """The training-form network of ``config`` with weights seeded by ``seed``
    (``torch.manual_seed(seed)``, then ``build_model``): what :func:`cheap_scores` builds, and what
    ``nas search`` builds once as its buildability check before admission.

    Raises:
        ArchConfigError: the config cannot be built at its width (names the field).
    """
    torch.manual_seed(seed)
    return build_model(config)


def cheap_scores(config: ArchConfig, seed: int = 0, model: torch.nn.Module | None = None
                 ) -> tuple[int, int, int, torch.nn.Module, torch.nn.Module, dict[str, float]]:
    """Build the model (weights seeded with ``seed``) and count the parameters and Mult-Adds of
    its deploy form (:func:`deploy_form`). ``model``: the training-form network already built
    from ``config`` with ``seed`` (``build_model`` after ``torch.manual_seed(seed)``; the search
    builds it once as its buildability check), used instead of a second build.

    Returns:
        ``(params, train_params, mult_adds, model, deployed, timings)``: deploy-form params, the
        training form's params, deploy-form MACs (1280x720 output), the *training-form* model
        (ready to train), its deploy form (the same object without ECBs) and the stage timings (s).

    Raises:
        ArchConfigError: the config cannot be built.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    if model is None:
        model = seeded_model(config, seed)
    timings["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    deploy = deploy_form(model)
    params = count_params(deploy)
    macs = mult_adds(deploy, config.scale, in_channels=config.colors)
    timings["mult_adds_s"] = time.perf_counter() - t
    return params, count_params(model), macs, model, deploy, timings


def measure_costs(config: ArchConfig, seed: int = 0, latency: LatencySetting = LatencySetting(),
                  device: torch.device | str = "cpu", objectives: Sequence[Objective] = OBJECTIVES,
                  model: torch.nn.Module | None = None,
                  before_latency: Callable[[Costs], None] | None = None,
                  ) -> tuple[Costs, torch.nn.Module]:
    """The objectives that need no training: exact params, Mult-Adds and latency (an untrained
    network runs as fast as a trained one), plus every other objective of ``objectives`` that
    has a ``measure`` (:mod:`nas.scoring.measures`), so constraints can reject a candidate before
    any training (issue 7: "cheap objectives first").

    ``model``: the training form already built from ``config`` with ``seed`` (see
    :func:`cheap_scores`). ``before_latency``: called with the costs counted so far (params,
    Mult-Adds, depth, the untimed extra objectives; ``latency_ms`` NaN) before the latency is
    timed; it may raise (e.g. ``optuna.TrialPruned``) to skip the timing, the dearest part of a
    candidate's costs (the other ``--jobs`` workers pause for it).

    Returns:
        ``(costs, model)``; the model is freshly initialised with ``seed`` (ready to train).

    Raises:
        ArchConfigError: the config cannot be built.
        NasError: an objective's ``measure`` cannot be loaded.
        RuntimeError: the forward pass fails (e.g. out of memory).
    """
    from nas.scoring.measures import measure_function

    extra_objs = [o for o in objectives if o.name != "psnr_db" and o.name not in STANDARD_COSTS]
    extra: dict[str, float] = {}
    with gate().work():  # building and counting are CPU work too: a timing elsewhere waits for them
        params, train_params, macs, model, deployed, timings = cheap_scores(config, seed=seed, model=model)
        depth = conv_depth(deployed, config.colors)
        for o in extra_objs:
            if not o.timing:
                t = time.perf_counter()
                extra[o.name] = float(measure_function(o.measure)(deployed, config, latency, device))
                timings[f"{o.name}_s"] = time.perf_counter() - t
    if before_latency is not None:
        before_latency(Costs(params=params, mult_adds=macs, latency_ms=float("nan"), timings=timings,
                             train_params=train_params, depth=depth, extra=dict(extra)))
    t = time.perf_counter()
    lat, load = _timed_quietly(deployed, config.colors, latency, device)
    timings["latency_s"] = time.perf_counter() - t
    for o in extra_objs:
        if o.timing:  # a wall-clock measurement: quiet, with the study's latency threads
            t = time.perf_counter()
            with gate().quiet(), torch_threads(latency.threads or None):
                extra[o.name] = float(measure_function(o.measure)(deployed, config, latency, device))
            timings[f"{o.name}_s"] = time.perf_counter() - t
    return Costs(params=params, mult_adds=macs, latency_ms=lat.median_ms, timings=timings,
                 train_params=train_params, depth=depth, latency_load=load, extra=extra), model


#: A latency timed while other processes used more of the cores than ``LOADED_SHARE`` is timed
#: again after a pause, up to this many times; the least-loaded measurement is kept.
LOADED_RETRIES = 2


def _timed_quietly(deployed: torch.nn.Module, colors: int, latency: LatencySetting,
                   device: torch.device | str) -> tuple[LatencyResult, dict | None]:
    """``measure_latency`` inside the machine-wide quiet gate with ``latency.threads`` threads;
    re-timed (after 0.5 s) while other processes load the machine. Returns the result and its
    load record (``CpuLoad.to_dict()`` + ``wait_s`` + ``attempts``)."""
    best: tuple[LatencyResult, dict | None] | None = None
    for attempt in range(1 + LOADED_RETRIES):
        held: dict = {}

        @contextlib.contextmanager
        def quietly(warm):  # warm-up while the other workers finish their steps, then time alone
            with gate().quiet(before=warm) as waited, cpu_load() as probe:
                held["waited"], held["probe"] = waited, probe
                yield

        with torch_threads(latency.threads or None):
            lat = measure_latency(deployed, lr_hw=latency.lr_hw, in_channels=colors,
                                  warmup=latency.warmup, repeats=latency.repeats, device=str(device),
                                  channels_last=latency.channels_last, budget_ms=latency.budget_ms,
                                  timed_in=quietly)
        probe = held["probe"]
        load = {**probe.result.to_dict(), "wait_s": round(held["waited"], 3)} if probe.result is not None else None
        share = (load or {}).get("others_share") or 0.0
        if best is None or share < ((best[1] or {}).get("others_share") or 0.0):
            best = (lat, load)
        if share <= LOADED_SHARE:
            break
        time.sleep(0.5)
    if best[1] is not None:
        best[1]["attempts"] = attempt + 1
    return best


def evaluate(config: ArchConfig, data: ProxyData, profile: ProxyProfile,
             device: torch.device | str = "cpu", latency: LatencySetting = LatencySetting(),
             on_step=None, costs: tuple[Costs, torch.nn.Module] | None = None,
             checkpoint: str | Path | None = None, objectives: Sequence[Objective] = OBJECTIVES,
             zero_cost: Sequence[str] = ()) -> Scores:
    """Score ``config``: exact params, Mult-Adds, latency, then proxy PSNR at rung 0.

    With a fixed profile (``profile.rungs == 1``) this is the whole proxy: ``profile.iters``
    steps. With successive halving it is rung 0; ``checkpoint`` (if given) then receives the
    weights and Adam state so :func:`continue_rung` can take the candidate further.

    Args:
        costs: the result of :func:`measure_costs` if already computed (saves a rebuild).
        objectives: the study's objectives (measured when ``costs`` is not given).
        checkpoint: continuation file written after training (multi-fidelity profiles only).
        zero_cost: feature names ``zc_<name>`` (zero-cost proxy before training) and
            ``zc_<name>_t`` (after) to measure into ``Scores.features``, on the proxy data's
            first 16 un-augmented patches (:func:`nas.proxy.features.proxy_batch`); the timings get
            ``zero_cost_s``.

    Raises:
        ArchConfigError: the config cannot be built.
        DivergedError: the proxy loss became NaN/Inf.
        RuntimeError: e.g. out of memory (the search marks the trial FAILED with the message).
    """
    cost, model = costs if costs is not None else measure_costs(config, profile.seed, latency, device, objectives)
    timings = dict(cost.timings)
    zc = _ZeroCost(zero_cost, model, data, profile, config, device)
    features = zc.measure(after=False)
    losses: list[float] = []

    def step(i: int, loss: float) -> None:
        losses.append(loss)
        if on_step is not None:
            on_step(i, loss)

    result, opt_state = train_segment(model, data, profile, device, start=0, stop=profile.iters, on_step=step)
    timings["train_s"], timings["validate_s"] = result.train_s, result.val_s
    features.update(trajectory_features(losses))
    features.update(zc.measure(after=True))
    if zc.seconds:
        timings["zero_cost_s"] = zc.seconds
    if checkpoint is not None and profile.multi_fidelity:
        save_train_state(checkpoint, model, opt_state, result.iters, config.arch_id)
    return Scores(psnr_db=result.psnr_db, params=cost.params, mult_adds=cost.mult_adds,
                  latency_ms=cost.latency_ms, iters=result.iters, timings=timings,
                  train_params=cost.train_params, extra=dict(cost.extra), features=features)


class _ZeroCost:
    """The zero-cost proxies ``names`` asks for (``zc_<name>`` before training, ``zc_<name>_t``
    after), measured on one fixed real batch (:func:`nas.proxy.features.proxy_batch`) of what the
    proxy trains (the profile's skip included for the loss-based ones)."""

    def __init__(self, names: Sequence[str], model, data, profile, config, device) -> None:
        self.before = tuple(n[3:] for n in names if n.startswith("zc_") and not n.endswith("_t"))
        self.after = tuple(n[3:-2] for n in names if n.startswith("zc_") and n.endswith("_t"))
        self.model, self.data, self.profile, self.config, self.device = model, data, profile, config, device
        self.seconds = 0.0
        self._batch = None

    def measure(self, after: bool) -> dict[str, float]:
        which = self.after if after else self.before
        if not which:
            return {}
        t = time.perf_counter()
        if self._batch is None:
            lr, hr = proxy_batch(self.data, self.profile)
            if self.config.colors == 1:
                lr, hr = rgb_to_y_torch(lr) / 255.0, rgb_to_y_torch(hr) / 255.0
            self._batch = lr.to(self.device), hr.to(self.device)
        wrapped = with_skip(self.model, getattr(self.profile, "skip", "none"), self.config.scale)
        out = zero_cost_proxies(self.model, *self._batch, loss_model=wrapped, which=which)
        self.seconds += time.perf_counter() - t
        return {f"{k}_t": v for k, v in out.items()} if after else out


@dataclass
class RungScore:
    """A candidate's score after a successive-halving rung >= 1.

    Attributes:
        rung: the rung (1 = first promotion).
        psnr_db: validation PSNR-Y (dB) after ``iters`` steps in all.
        iters: steps trained in all (the fidelity).
        train_s / val_s: wall seconds of this rung's training (plus any replay) and validation.
        replayed: the checkpoint of the rung below was missing, so the lower rungs were
            re-trained from scratch first (same protocol, more time).
    """

    rung: int
    psnr_db: float
    iters: int
    train_s: float
    val_s: float
    replayed: bool


def continue_rung(config: ArchConfig, data: ProxyData, profile: ProxyProfile, rung: int,
                  device: torch.device | str = "cpu", checkpoint: str | Path | None = None,
                  on_step=None) -> RungScore:
    """Train a promoted candidate from rung ``rung - 1`` to ``rung`` and validate it.

    Continues from ``checkpoint`` (weights + Adam state at ``profile.rung_iters(rung - 1)``
    steps) with one more warm-restart cosine cycle to ``profile.rung_iters(rung)`` steps
    (:func:`nas.proxy.train.train_segment`). If the checkpoint is missing or is not the expected
    one (another machine, deleted), the rungs below are replayed from scratch first: the same
    protocol, so the score is the same up to floating-point nondeterminism. The checkpoint is
    replaced by the new state, or deleted once the top rung is reached.

    Raises:
        ValueError: ``rung`` is not in ``1 .. profile.rungs - 1``.
        ArchConfigError / DivergedError / RuntimeError: as :func:`evaluate`.
    """
    if not 1 <= rung < profile.rungs:
        raise ValueError(f"rung {rung} is not a continuation rung of profile {profile.name!r} "
                         f"(1..{profile.rungs - 1})")
    torch.manual_seed(profile.seed)
    model = build_model(config)
    prev = profile.rung_iters(rung - 1)
    state = load_train_state(checkpoint, model, prev, config.arch_id) if checkpoint is not None else None
    replayed = state is None
    train_s = 0.0
    if replayed:
        start = 0
        for r in range(rung):
            res, state = train_segment(model, data, profile, device, start=start, stop=profile.rung_iters(r),
                                       optimizer_state=state, on_step=on_step)
            train_s += res.train_s + res.val_s
            start = profile.rung_iters(r)
    result, state = train_segment(model, data, profile, device, start=prev, stop=profile.rung_iters(rung),
                                  optimizer_state=state, on_step=on_step)
    if checkpoint is not None:
        if rung < profile.rungs - 1:
            save_train_state(checkpoint, model, state, result.iters, config.arch_id)
        else:
            Path(checkpoint).unlink(missing_ok=True)
    return RungScore(rung=rung, psnr_db=result.psnr_db, iters=result.iters,
                     train_s=train_s + result.train_s, val_s=result.val_s, replayed=replayed)
