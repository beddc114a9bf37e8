"""Named proxy-training protocols (no torch).

A proxy profile fixes everything a candidate's short training run depends on, so that every
candidate of a study is trained identically: iterations, batch, LR patch size, learning rate,
schedule, seed and validation crop. The study stores the profile and refuses to resume with
another one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from nas.errors import NasError

__all__ = ["DEFAULT_CHOICES", "ProxyProfile", "PROFILES", "get_profile", "protocol_fields", "same_protocol", "PSNR_NOISE_DB", "psnr_noise_db",
           "noise_at"]


#: Proxy-only input skips (``ProxyProfile.skip``).
SKIPS = ("none", "bicubic")
#: Mixed precision of the proxy's forward pass and loss (``ProxyProfile.amp``): ``none`` (fp32) or
#: ``bf16`` (``torch.autocast`` to bfloat16; weights, optimiser and validation stay fp32; no loss
#: scaling needed, unlike fp16).
AMPS = ("none", "bf16")


@dataclass(frozen=True)
class ProxyProfile:
    """A short, fixed training protocol for ranking candidates.

    Attributes:
        name: profile key (``default``, ``halving``, ``predicted``, ``bicubic-predicted``,
            ``zoo-predicted``, ``fixed``,
            ``fast``, ``smoke``, ``long``, ``confirm``, ``smoke-halving``, ``accelerator``).
        iters: Adam steps per candidate.
        batch: LR/HR patch pairs per step.
        lr_patch: LR patch side in pixels (HR patch = ``lr_patch * scale``).
        lr: peak learning rate of Adam (betas 0.9, 0.999), cosine-annealed to ``lr * 0.01``.
        seed: seeds weights and the (shared) patch order.
        val_max_side: validation images are centre-cropped to at most this HR side (px).
        channels_last: train and time in ``torch.channels_last`` (about 1.4x faster on CPU).
        augment: random flips and 90-degree rotations of the patches.
        rungs: successive-halving rungs (1 = a fixed proxy: every candidate trains ``iters``).
            With ``rungs > 1`` every candidate trains ``iters`` steps (rung 0); the best
            ``1/eta`` of each rung (non-dominated sorting, :mod:`nas.schedule.halving`) continue
            to ``iters * eta**r`` steps in all at rung ``r``.
        eta: reduction factor between rungs (>= 2).
        predictor: ``none`` (rank by the rung's validation PSNR) or the name of a calibration
            (``nas.proxy.predict``, e.g. ``zoo-x4``): the search then ranks, promotes and builds
            the front on the *predicted fully-trained* PSNR, the raw PSNR kept beside it.
        threads: torch intra-op threads while training and validating (part of the protocol:
            float summation order changes with the thread count, and with it the PSNR by 0.1-0.2
            dB at 180 steps, issue 21). 1 by default: the proxy's tensors (batch 8, 24 px) are too
            small for intra-op threads, so one single-threaded worker per core (``nas search
            --jobs``) is the fast way to use a machine, and every worker scores a network the same.
        metric: validation PSNR ``y`` (the papers: BT.601 Y, ``scale`` px shaved) or ``rgb`` (the
            NTIRE efficient-SR challenges: the three 8-bit channels, ``scale`` px shaved).
        skip: ``none`` (train and validate the network as built) or ``bicubic``: during proxy
            training and validation only, the network's output is added to a bicubic upsampling
            of its input (:func:`nas.proxy.train.with_skip`), so every candidate starts at
            interpolation quality and the short run measures what it adds over interpolation
            (issue 18: without it the top rung is at the bicubic floor). Costs, export and the
            deployed network are the network's own.
        amp: ``none`` or ``bf16`` (:data:`AMPS`): the training forward pass and loss under
            ``torch.autocast`` in bfloat16, the accelerator profile's setting (H100 / A100 tensor
            cores; it works, slowly, on CPU too). Part of the protocol.
    """

    name: str
    iters: int
    batch: int = 16
    lr_patch: int = 32
    lr: float = 1e-3
    seed: int = 0
    val_max_side: int = 384
    channels_last: bool = True
    augment: bool = True
    rungs: int = 1
    eta: int = 3
    predictor: str = "none"
    threads: int = 1
    metric: str = "y"
    skip: str = "none"
    amp: str = "none"

    def __post_init__(self) -> None:
        if self.metric not in ("y", "rgb"):
            raise NasError(f"proxy profile {self.name!r}: metric must be 'y' or 'rgb', got {self.metric!r}")
        if self.amp not in AMPS:
            raise NasError(f"proxy profile {self.name!r}: amp must be one of {', '.join(AMPS)}, got {self.amp!r}")
        if self.skip not in SKIPS:
            raise NasError(f"proxy profile {self.name!r}: skip must be one of {', '.join(SKIPS)}, got {self.skip!r}")
        if (self.iters < 1 or self.rungs < 1 or self.eta < 2 or self.batch < 1 or self.lr_patch < 4
                or self.threads < 1):
            raise NasError(f"proxy profile {self.name!r}: need iters >= 1, rungs >= 1, eta >= 2, batch >= 1, "
                           f"lr_patch >= 4 and threads >= 1 (got iters={self.iters}, rungs={self.rungs}, "
                           f"eta={self.eta}, batch={self.batch}, lr_patch={self.lr_patch}, threads={self.threads})")

    @property
    def multi_fidelity(self) -> bool:
        """True when candidates are promoted through several rungs."""
        return self.rungs > 1

    def rung_iters(self, rung: int) -> int:
        """Steps trained in all at ``rung`` (0-based): ``iters * eta**rung``.

        Raises:
            ValueError: ``rung`` outside ``0 .. rungs-1``.
        """
        if not 0 <= rung < self.rungs:
            raise ValueError(f"rung {rung} outside 0..{self.rungs - 1} of profile {self.name!r}")
        return self.iters * self.eta ** rung

    @property
    def rung_stops(self) -> list[int]:
        """``[rung_iters(0), ..., rung_iters(rungs-1)]``."""
        return [self.rung_iters(r) for r in range(self.rungs)]

    @property
    def top_iters(self) -> int:
        """Steps trained by a candidate that reaches the top rung (the final front's fidelity)."""
        return self.rung_iters(self.rungs - 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_iters(self, iters: int) -> "ProxyProfile":
        return replace(self, iters=iters)

    def with_threads(self, threads: int) -> "ProxyProfile":
        return replace(self, threads=threads)

    def with_metric(self, metric: str) -> "ProxyProfile":
        return replace(self, metric=metric)


#: What ``--profile default`` means (issue 18), in order: the first of these whose predictor has a
#: calibration for the study's scale and protocol (metric, iterations, threads), the last otherwise
#: (``nas.proxy.predict.resolve_profile``). ``bicubic-predicted`` ranks the 13 published x4 networks with a
#: fully-trained Set5 PSNR rho 0.85 / 95 % of the clear pairs out of family through ``nas search``
#: (x2: 0.92 / 100 %), ``halving``'s raw 180-step PSNR 0.36 / 61 %
#: (results/benchmarks/pipeline_fidelity_*.md); where no calibration fits (x3, ``--metric rgb``,
#: ``--iters``), ``halving`` reports what it measured instead of a raw 20-step PSNR.
DEFAULT_CHOICES = ("zoo-predicted", "bicubic-predicted", "halving")

PROFILES: dict[str, ProxyProfile] = {
    # multi-objective successive halving (every candidate 20 steps, the best third 60, the best
    # ninth 180; warm-restart cosine per rung; ~47 steps a candidate on average), ranked by the
    # raw validation PSNR: the default until 2026-12-03 (studies stored as "default" before then
    # hold this protocol and resume with --profile default or halving). On the published x4
    # networks it ranks badly (Spearman -0.53 / -0.39 / 0.36 at 20 / 60 / 180 steps,
    # results/benchmarks/zoo_fidelity_builtin.md): it measures speed of convergence.
    "halving": ProxyProfile("halving", iters=20, batch=8, lr_patch=24, lr=2e-3, rungs=3, eta=3),
    # the same training, ranked by the predicted fully-trained Set5 PSNR of the zoo-x4 calibration
    # (nas/proxy/predict.py); at scales without a calibration, by the raw PSNR
    "predicted": ProxyProfile("predicted", iters=20, batch=8, lr_patch=24, lr=2e-3, rungs=3, eta=3,
                              predictor="zoo-x4"),
    # every candidate 20 steps with the proxy-only bicubic skip (ProxyProfile.skip), ranked by the
    # predicted fully-trained Set5 PSNR of the zoo-skip calibration (its 20-step PSNR, deploy-form
    # params and depth). On the 13 published x4 networks with a full-training Set5 PSNR, out of
    # family: Spearman 0.87 and 95 % of the clear pairs (seed 1: 0.91, 98 %), against 0.69 for the
    # same predictor on the plain proxy and 0.65 for params + depth alone; its 60- and 180-step
    # models rank worse (0.66), so it is a single 20-step rung (results/benchmarks/zoo_fidelity_builtin.md).
    # Candidates outside the calibration's applicability domain (nas.proxy.predict.Domain) are
    # pruned before training: its first 200-trial front, without one, was extrapolated to nf 12 stacks.
    "bicubic-predicted": ProxyProfile("bicubic-predicted", iters=20, batch=8, lr_patch=24, lr=2e-3, rungs=1, eta=3,
                                      skip="bicubic", predictor="zoo-skip"),
    # issue 31: the same training as bicubic-predicted, ranked by the zoo-gt calibration
    # (benchmarks/predictor_fidelity.py): fitted on the ground truth of nas/arch/ground_truth.py
    # (published networks, the authors' weights measured here, EDSR-baseline as a plain control),
    # its error and statistics out of family, its domain a box in (params, depth) derived by
    # leave-one-family-out (results/benchmarks/predictor_fidelity_x4.md)
    "zoo-predicted": ProxyProfile("zoo-predicted", iters=20, batch=8, lr_patch=24, lr=2e-3, rungs=1, eta=3,
                                  skip="bicubic", predictor="zoo-gt"),
    # the fixed proxy (the default until successive halving won the measurements): every
    # candidate 60 steps, ~18 s a trial on 2 CPU cores (the one-trial table that
    # results/benchmarks/trial_breakdown.md held until 2026-12-03, in the git history)
    "fixed": ProxyProfile("fixed", iters=60, batch=8, lr_patch=24, lr=2e-3),
    "fast": ProxyProfile("fast", iters=20, batch=8, lr_patch=24, lr=2e-3),
    # for tests and smoke runs: seconds per candidate, ranking meaningless
    "smoke": ProxyProfile("smoke", iters=4, batch=2, lr_patch=16, val_max_side=96),
    # 10x the fixed proxy: the reference schedule for proxy-fidelity calibration
    "long": ProxyProfile("long", iters=600, batch=8, lr_patch=24, lr=2e-3),
    # nas confirm: a candidate retrained from scratch through five warm-restart cosine segments,
    # validated at 20 / 60 / 180 / 540 / 1620 steps (9x the default's top rung; the points also
    # give the learning curve). ~5.5 min for IMDN on one CPU thread.
    "confirm": ProxyProfile("confirm", iters=20, batch=8, lr_patch=24, lr=2e-3, rungs=5, eta=3),
    "smoke-halving": ProxyProfile("smoke-halving", iters=2, batch=2, lr_patch=16, val_max_side=96, rungs=3, eta=2),
    # issue 32 §3, for a GPU (--device cuda): successive halving whose rungs are a real share of the
    # papers' schedules (1 K / 3 K / 9 K steps at batch 32 and 48 px LR patches, against 1 M steps
    # at batch 64 for RLFN or IMDN's 1 K epochs), bf16 autocast, the proxy-only bicubic skip, ranked
    # at every rung by the zoo-gt predictor of a calibration made for it (`nas calibrate --profile
    # accelerator --device cuda`; none is shipped: no GPU was available to make one).
    "accelerator": ProxyProfile("accelerator", iters=1000, batch=32, lr_patch=48, lr=5e-4, val_max_side=512,
                                rungs=3, eta=3, skip="bicubic", predictor="zoo-gt", amp="bf16"),
}
# the accelerator profile's first rung alone: every candidate 1 K steps. Its calibration trains the
# 38 x4 networks for 1 K steps each, 1.4e13 FLOP a step for all of them together (their 720p
# Mult-Adds scaled to 32 x 48 px patches, x 6 for forward and backward): about 2-9 GPU minutes at
# 25-100 TFLOP/s effective, where the three-rung profile's 9 K steps take 20-80
PROFILES["accelerator-fixed"] = replace(PROFILES["accelerator"], name="accelerator-fixed", rungs=1)


def get_profile(name: str, iters: int | None = None, threads: int | None = None,
                metric: str | None = None) -> ProxyProfile:
    """The named profile, optionally with ``iters``, the training ``threads`` and the validation
    ``metric`` (``y`` / ``rgb``) overridden (``default`` is resolved per study by
    ``nas.proxy.predict.resolve_profile``).

    Raises:
        NasError: unknown profile name (lists the known ones) or ``default``, ``iters < 1``,
            ``threads < 1`` or an unknown metric.
    """
    if name == "default":
        raise NasError("profile 'default' depends on the study's scale and protocol: resolve it with "
                       "nas.proxy.predict.resolve_profile")
    if name not in PROFILES:
        raise NasError(f"unknown proxy profile {name!r} (known: default, {', '.join(PROFILES)})")
    profile = PROFILES[name]
    if iters is not None:
        if iters < 1:
            raise NasError(f"--iters must be at least 1, got {iters}")
        profile = profile.with_iters(iters)
    if threads is not None:
        if threads < 1:
            raise NasError(f"--threads must be at least 1, got {threads}")
        profile = profile.with_threads(threads)
    if metric is not None:
        if metric not in ("y", "rgb"):
            raise NasError(f"--metric must be y or rgb, got {metric!r}")
        profile = profile.with_metric(metric)
    return profile


#: Proxy-profile fields added after studies were first stored, with the value they implied.
#: ``threads`` None: not recorded (studies before issue 21 trained with torch's default thread
#: count); :func:`same_protocol` lets it match any thread count.
_ADDED_FIELDS = {"rungs": 1, "eta": 3, "predictor": "none", "threads": None, "metric": "y", "skip": "none",
                 "amp": "none"}


def protocol_fields(profile: Any) -> Any:
    """A profile (``ProxyProfile`` or its stored dict) as the protocol it trains: without its
    name, fields added in later versions filled with the value older studies implied. Two
    profiles train identically when these are equal. A non-dict is returned unchanged."""
    if isinstance(profile, ProxyProfile):
        profile = profile.to_dict()
    if not isinstance(profile, dict):
        return profile
    out = {**_ADDED_FIELDS, **profile}
    out.pop("name", None)
    return out


def same_protocol(a: Any, b: Any, ignore: tuple[str, ...] = ()) -> bool:
    """True when profiles ``a`` and ``b`` (``ProxyProfile`` or stored dicts) train identically:
    equal :func:`protocol_fields` apart from the fields in ``ignore``, an unrecorded ``threads``
    (None, a study stored before the thread count was part of the protocol) matching any."""
    fa, fb = protocol_fields(a), protocol_fields(b)
    if not isinstance(fa, dict) or not isinstance(fb, dict):
        return fa == fb
    fa = {k: v for k, v in fa.items() if k not in ignore}
    fb = {k: v for k, v in fb.items() if k not in ignore}
    if fa.get("threads") is None or fb.get("threads") is None:
        fa.pop("threads", None)
        fb.pop("threads", None)
    return fa == fb


#: Seed-to-seed PSNR noise (dB) at each fidelity (steps trained) of a profile: the root mean
#: square, over the published x4 networks with a full-training PSNR, of the difference between
#: the validation PSNR with seed 0 and with seed 1 (weights and patch order), on the built-in
#: photographs (``benchmarks/zoo_fidelity.py``, results/benchmarks/zoo_fidelity_builtin.md).
#: It is the noise of comparing two networks each trained once, so a dominance claim needs a
#: PSNR margin above it (``nas.front.dominates_with_margin``).
PSNR_NOISE_DB: dict[str, dict[int, float]] = {
    # 75th percentile of |seed 0 - seed 1| over the 12 networks (results/benchmarks/zoo_fidelity_builtin.md)
    "halving": {20: 1.181, 60: 0.515, 180: 0.171},
    # the noise of what `bicubic-predicted` ranks by, the zoo-skip-x4 prediction from the 20-step
    # PSNR: 75th percentile over the 13 networks of |prediction(seed 0) - prediction(seed 1)|
    # (the raw 20-step PSNR's is 2.98 dB, times the calibration's 0.017 dB/dB; largest 0.059 dB,
    # AWSRN-SD). The prediction's own error, 0.26 dB out of family (psnr_sigma_db), is not noise
    # between seeds: it is shared by every network of a kind and shown beside each score.
    "bicubic-predicted": {20: 0.020},
    # zoo-gt's prediction, likewise over the ground truth's published networks (predictor_fidelity_x*.md:
    # 0.007 / 0.008 / 0.020 dB at x4 / x3 / x2; the largest, since the entry is per protocol, not per scale)
    "zoo-predicted": {20: 0.020},
}


def psnr_noise_db(profile: Any) -> dict[int, float]:
    """The measured seed-to-seed noise ``{steps: dB}`` of ``profile``'s training protocol (a
    ``ProxyProfile`` or a stored dict; matched by the training fields, not the name: the number
    of rungs does not change the PSNR at a given step), or ``{}``. A measurement of the raw PSNR
    (an entry whose profile has no predictor) serves any predictor; one of a predicted PSNR only
    the same predictor (its noise is the raw noise times the calibration's small PSNR weight)."""
    for name, noise in PSNR_NOISE_DB.items():
        ref = PROFILES.get(name)
        if ref is None:
            continue
        # the seed-to-seed noise does not depend on the thread count (it sets the summation order
        # of every seed alike)
        ignore = ("predictor", "rungs", "threads") if ref.predictor == "none" else ("rungs", "threads")
        if same_protocol(ref, profile, ignore=ignore):
            return dict(noise)
    return {}


def noise_at(noise: dict[int, float], steps: int | None) -> float:
    """The seed-to-seed PSNR noise (dB) to use at ``steps`` from a measured ``{steps: dB}``: the
    measurement at ``steps``, else the one at the longest measured fidelity below it (the noise
    falls with training: 1.18 / 0.52 / 0.17 dB at 20 / 60 / 180 steps for ``halving``, so this
    over-estimates it, the safe side for a dominance claim); 0.0 with nothing measured below."""
    if steps is None or not noise:
        return 0.0
    if steps in noise:
        return float(noise[steps])
    below = [k for k in noise if k <= steps]
    return float(noise[max(below)]) if below else 0.0

