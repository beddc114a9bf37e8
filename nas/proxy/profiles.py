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

__all__ = ["ProxyProfile", "PROFILES", "get_profile"]


@dataclass(frozen=True)
class ProxyProfile:
    """A short, fixed training protocol for ranking candidates.

    Attributes:
        name: profile key (``default``, ``fast``, ``smoke``, ``long``).
        iters: Adam steps per candidate.
        batch: LR/HR patch pairs per step.
        lr_patch: LR patch side in pixels (HR patch = ``lr_patch * scale``).
        lr: peak learning rate of Adam (betas 0.9, 0.999), cosine-annealed to ``lr * 0.01``.
        seed: seeds weights and the (shared) patch order.
        val_max_side: validation images are centre-cropped to at most this HR side (px).
        channels_last: train and time in ``torch.channels_last`` (about 1.4x faster on CPU).
        augment: random flips and 90-degree rotations of the patches.
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_iters(self, iters: int) -> "ProxyProfile":
        return replace(self, iters=iters)


PROFILES: dict[str, ProxyProfile] = {
    # ~15 s of training for an E-RFDN-size candidate on 2 CPU cores, ~18 s a trial in all:
    # `nas search --budget 200` in about an hour (results/benchmarks/trial_breakdown.md).
    "default": ProxyProfile("default", iters=60, batch=8, lr_patch=24, lr=2e-3),
    "fast": ProxyProfile("fast", iters=20, batch=8, lr_patch=24, lr=2e-3),
    # for tests and smoke runs: seconds per candidate, ranking meaningless
    "smoke": ProxyProfile("smoke", iters=4, batch=2, lr_patch=16, val_max_side=96),
    # 10x the default: the reference schedule for proxy-fidelity calibration
    "long": ProxyProfile("long", iters=600, batch=8, lr_patch=24, lr=2e-3),
}


def get_profile(name: str, iters: int | None = None) -> ProxyProfile:
    """The named profile, optionally with ``iters`` overridden.

    Raises:
        NasError: unknown profile name (lists the known ones) or ``iters < 1``.
    """
    if name not in PROFILES:
        raise NasError(f"unknown proxy profile {name!r} (known: {', '.join(PROFILES)})")
    profile = PROFILES[name]
    if iters is not None:
        if iters < 1:
            raise NasError(f"--iters must be at least 1, got {iters}")
        profile = profile.with_iters(iters)
    return profile
