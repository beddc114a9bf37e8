"""The NTIRE efficient-SR challenge's ranking: baselines, PSNR threshold and score (no torch).

From the challenge repositories' README ("How the Ranking Strategy Works?"):

* Amazingren/NTIRE2024_ESR: baseline RLFN (NTIRE 2022 winner, ``RLFN_cut``): 13.54 ms, 19.67 G
  FLOPs, 0.317 M params; weights 0.7 / 0.15 / 0.15.
* Amazingren/NTIRE2025_ESR: baseline EFDN: 16.69 ms, 16.70 G, 0.276 M; weights 0.7 / 0.15 / 0.15.
* Amazingren/NTIRE2026_ESR: baseline SPAN (NTIRE 2024 winner): 5.59 ms, 9.83 G, 0.151 M; weights
  0.8 / 0.1 / 0.1.

Runtimes are averages of 5 runs on the organisers' GPU (RTX 3090 in 2024, RTX A6000 in 2025-2026);
"FLOPs" are fvcore's count on a 1x3x256x256 LR input, which are **multiply-accumulates (MACs)**,
not 2x-MAC FLOPs (``nas.metrics.cost.ntire_flops`` counts the same). A method is ranked only if
its PSNR (RGB, DIV2K_LSDIR_valid) is at least 26.90 dB (26.99 dB on the test set). Then

    Score_X = exp(2 * X / X_baseline)   for X in runtime, FLOPs, params
    Score_Final = w_T * Score_Runtime + w_F * Score_FLOPs + w_P * Score_Params

(lower is better; the baseline itself scores e^2 = 7.3891). ``nas`` compares networks measured on
*one* machine: :func:`ntire_score` takes the baseline's values measured there too (runtime
ratios transfer between machines much better than milliseconds do).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nas.errors import NasError

__all__ = ["NtireBaseline", "NTIRE_ESR", "ntire_baseline", "ntire_score", "PSNR_THRESHOLD_VALID_DB"]

#: Minimum RGB PSNR on DIV2K_LSDIR_valid to be ranked (2024-2026; 26.99 dB on the test set).
PSNR_THRESHOLD_VALID_DB = 26.90


@dataclass(frozen=True)
class NtireBaseline:
    """One year's baseline and weights.

    Attributes:
        year: challenge year.
        reference: the ``nas`` reference of the baseline network (``nas zoo``).
        runtime_ms / flops_g / params_m: the organisers' numbers (ms on their GPU, G MACs at a
            256x256 LR input, millions).
        weights: (w_T, w_F, w_P).
        psnr_valid_db / psnr_test_db: the thresholds (RGB PSNR, dB).
        source: where the numbers are published.
    """

    year: int
    reference: str
    runtime_ms: float
    flops_g: float
    params_m: float
    weights: tuple[float, float, float]
    psnr_valid_db: float = PSNR_THRESHOLD_VALID_DB
    psnr_test_db: float = 26.99
    source: str = ""


NTIRE_ESR: dict[int, NtireBaseline] = {
    2024: NtireBaseline(2024, "rlfn_ntire", 13.54, 19.67, 0.317, (0.7, 0.15, 0.15),
                        source="Amazingren/NTIRE2024_ESR README.md"),
    2025: NtireBaseline(2025, "efdn", 16.69, 16.70, 0.276, (0.7, 0.15, 0.15),
                        source="Amazingren/NTIRE2025_ESR README.md"),
    2026: NtireBaseline(2026, "span_ntire", 5.59, 9.83, 0.151, (0.8, 0.1, 0.1),
                        source="Amazingren/NTIRE2026_ESR README.md"),
}


def ntire_baseline(year: int) -> NtireBaseline:
    """The baseline of ``year``.

    Raises:
        NasError: no such year (names the known ones).
    """
    if year not in NTIRE_ESR:
        raise NasError(f"--ntire: no NTIRE ESR ranking for {year} (known: {', '.join(map(str, NTIRE_ESR))})")
    return NTIRE_ESR[year]


def ntire_score(runtime: float, flops: float, params: float, base_runtime: float, base_flops: float,
                base_params: float, weights: tuple[float, float, float]) -> dict[str, float]:
    """The challenge's scores of one network against a baseline (lower is better).

    Each quantity is divided by the baseline's in the same unit (runtime in ms measured on the
    same machine, FLOPs as MACs at the same input, params as counts).

    Returns:
        ``{"score_runtime", "score_flops", "score_params", "score_final"}``; the baseline itself
        gets e^2 = 7.3891 for each.

    Raises:
        ValueError: a baseline value is not positive, or a value is negative / not finite.
    """
    pairs = {"runtime": (runtime, base_runtime), "flops": (flops, base_flops), "params": (params, base_params)}
    out = {}
    for key, (value, base) in pairs.items():
        if not (math.isfinite(value) and value >= 0) or not (math.isfinite(base) and base > 0):
            raise ValueError(f"ntire_score: {key} {value} against baseline {base}: need value >= 0 and baseline > 0")
        out[f"score_{key}"] = math.exp(2.0 * value / base)
    w_t, w_f, w_p = weights
    out["score_final"] = w_t * out["score_runtime"] + w_f * out["score_flops"] + w_p * out["score_params"]
    return out
