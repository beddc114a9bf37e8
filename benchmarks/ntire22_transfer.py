"""Does a network's Set5 Y-PSNR order its NTIRE challenge PSNR? (issue 32 §2, the NTIRE mapping.)

NTIRE 2022 ESR ranked every entry's RGB-PSNR on the 100 DIV2K validation images (801-900) after
the team's own full training: ofsoundof/NTIRE2022_ESR ``figs/results.png`` ("PSNR [Val.]" and
"[Test]", team names; ``test_demo.py`` maps each team name to its model id and checkpoint). Nine
entries that are ``nas`` ground truth (``nas/arch/ground_truth.py``) have both that number and
a Set5 x4 Y-PSNR measured here from the same checkpoint, so the two metrics can be compared on
the same weights. The table below is transcribed from that figure (read 2026-12-06).

    python benchmarks/ntire22_transfer.py   # writes results/benchmarks/ntire22_transfer.md

No torch, no training: seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.stats import bootstrap, kendalltau, spearmanr

from nas.arch.ground_truth import GROUND_TRUTH

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "ofsoundof/NTIRE2022_ESR figs/results.png (NTIRE 2022 ESR results table), RGB-PSNR after each team's training"

#: ground-truth entry -> (team as printed, model id in test_demo.py, DIV2K valid dB, DIV2K test dB).
NTIRE22 = {
    "imdn_aim2019": ("IMDN_baseline", -1, 29.13, 28.78),
    "erfdn": ("RFDN AIM2020 Winner", 0, 29.04, 28.75),
    "rlfn_ntire": ("ByteESR", 4, 29.00, 28.72),
    "erfdn_ntire22_t06": ("TieGuoDun Team", 6, 28.95, 28.65),
    "rfdn_dilated_ntire22": ("whu_sigma", 13, 29.02, 28.73),
    "bsrn_s_ntire22_t18": ("XPixel", 18, 29.01, 28.69),
    "erfdn_nf40_ntire22": ("Bilibili AI", 22, 29.00, 28.70),
    "imdn_nb7_ntire22": ("xilinxSR", 26, 29.05, 28.75),
    "esan_ntire22": ("Dragon", 34, 29.01, 28.69),
}


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a, b)[0])


def loo_linear_map(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Least-squares ``y = a + b x`` on all points and its leave-one-out errors.

    Returns:
        ``(a, b, LOO mean absolute error, MAE of predicting the mean of the others)``, dB.
    """
    b, a = np.polyfit(x, y, 1)
    errs, base = [], []
    for i in range(x.size):
        keep = np.arange(x.size) != i
        bi, ai = np.polyfit(x[keep], y[keep], 1)
        errs.append(abs(ai + bi * x[i] - y[i]))
        base.append(abs(y[keep].mean() - y[i]))
    return float(a), float(b), float(np.mean(errs)), float(np.mean(base))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "benchmarks" / "ntire22_transfer.md")
    args = ap.parse_args()
    names = list(NTIRE22)
    set5 = np.array([GROUND_TRUTH[n].value(4, "Set5") for n in names])
    val = np.array([NTIRE22[n][2] for n in names])
    test = np.array([NTIRE22[n][3] for n in names])
    rows = []
    for label, other in (("DIV2K valid", val), ("DIV2K test", test)):
        rho = _spearman(set5, other)
        ci = bootstrap((set5, other), _spearman, paired=True, vectorized=False, n_resamples=2000,
                       method="percentile", random_state=np.random.default_rng(0)).confidence_interval
        tau = float(kendalltau(set5, other)[0])
        rows.append(f"| Set5 x4 Y (measured) vs {label} RGB | {rho:.2f} [{ci.low:.2f}, {ci.high:.2f}] | {tau:.2f} |")
    a, b, loo, base = loo_linear_map(set5, val)
    lines = [
        "# NTIRE 2022: Set5 Y-PSNR against the challenge's DIV2K RGB-PSNR, same weights",
        "",
        f"Written by `benchmarks/ntire22_transfer.py`. Challenge numbers: {SOURCE}. Set5: "
        "`nas/arch/ground_truth.py` (measured here with `nas eval` from the same checkpoints).",
        "",
        "| entry | team | params | Set5 x4 Y dB | DIV2K valid RGB dB | DIV2K test RGB dB |",
        "|---|---|---:|---:|---:|---:|",
        *[f"| {n} | {NTIRE22[n][0]} | {GROUND_TRUTH[n].params[4]:,} | {s:.3f} | {v:.2f} | {t:.2f} |"
          for n, s, v, t in sorted(zip(names, set5, val, test), key=lambda r: -r[1])],
        "",
        "| comparison (9 entries) | Spearman [95 % bootstrap] | Kendall |",
        "|---|---|---:|",
        *rows,
        "",
        f"A linear map, DIV2K valid = {a:.2f} + {b:.3f} x Set5, predicts each entry left out with a mean "
        f"absolute error of {loo:.3f} dB, against {base:.3f} dB for the mean of the others: the map "
        f"{'helps' if loo < base else 'does not help'} on this range.",
        "",
        f"Spread: Set5 {set5.max() - set5.min():.2f} dB, DIV2K valid {val.max() - val.min():.2f} dB, DIV2K test "
        f"{test.max() - test.min():.2f} dB. The challenge prints two decimals, so entries 0.01 dB apart are ties "
        "within rounding. Left out: NTU607QCO-ESR (team 08, `sfdn_ntire22`), whose submission as run by the "
        "challenge scored 27.79 / 27.61 dB (its test code skips the SRB fold; see the entry's notes).",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print(args.out)


if __name__ == "__main__":
    main()
