"""The Markdown report of ``benchmarks/predictor_fidelity.py`` (issue 31): one table per seed and
grouping (the chosen predictor, params + depth, the zoo-skip form), the shipped predictor with its
noise and domain, the networks, the ablation pairs and the cost of the features."""

from __future__ import annotations

import math
from typing import Any

#: The proxy profile every network is measured with (``predictor_fidelity.PROFILE``).
PROFILE = "bicubic-predicted"


def _f(x: Any, nd: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def _pairs(share: dict | None) -> str:
    """``in order / pairs`` of a ``pair_order_share`` result, or a dash where none was scored."""
    return f"{share['in_order']:g} / {share['pairs']}" if share and share.get("pairs") else "-"


def render(res: dict[str, Any]) -> str:
    """The Markdown of a result dict (``predictor_fidelity_x<s>.json``)."""
    L = [f"# Predictor fidelity, x{res['scale']} ({res['gt_set']}, Y-PSNR after the papers' full training)", "",
         f"Written by `benchmarks/predictor_fidelity.py` on {res['date']} ({res['machine']}). Protocol of every proxy "
         f"run: `{PROFILE}` (20 steps, proxy-only bicubic skip), data: {res['data_source']}. "
         f"{res['n_main']} published networks in {res['n_families']} families / {res['n_lineages']} lineages, "
         f"{res['n_ablation']} ablation variants, {res['n_pairs']} ablation pairs, "
         f"{len(res.get('design_pairs', []))} design pairs (one table, the smaller network better by >= 0.1 dB; "
         "scored, never fitted). "
         "Every score is **out of family**: the predictor (features, alpha) is chosen by nested leave-one-family-out "
         "cross-validation, so a held-out family touches no coefficient, standardisation or choice. "
         "95 % intervals: percentile bootstrap over networks (2,000 resamples).", ""]
    for ev in res["evaluations"]:
        L += [f"## Seed {ev['seed']}, grouped by {ev['grouping']} ({ev['n_groups']} groups)", "",
              "| predictor | Spearman [95 % CI] | Kendall | clear pairs | MAE dB [95 % CI] | ablation pairs in order "
              "| design pairs in order |",
              "|---|---|---:|---:|---|---:|---:|"]
        for label, key in (("chosen by nested LOFO", "predictor"), ("params + depth alone (nested)", "params_depth"),
                           ("params alone (nested)", "params_alone"),
                           ("zoo-skip form: psnr + params + depth, alpha 1 (LOFO)", "current_zoo_skip"),
                           ("raw proxy PSNR, no fit (20 steps)", "raw_proxy")):
            if key not in ev:  # a file written before that row existed
                continue
            b = ev[key]
            ci, mci, ab = b["spearman_ci"], b["mae_ci"], b["ablation"]
            L.append(f"| {label} | {_f(b['spearman'])} [{_f(ci[0])}, {_f(ci[1])}] | {_f(b['kendall'])} | "
                     f"{_f(100 * b['clear_share'], 0)} % | {_f(b['mae_db'], 3)} [{_f(mci[0], 3)}, {_f(mci[1], 3)}] | "
                     f"{ab['in_order']:g} / {ab['pairs']} | {_pairs(b.get('design'))} |")
        pb = ev["paired_vs_params_depth"]
        L += ["", f"Paired bootstrap, chosen minus params + depth: Spearman {pb['diff']:+.2f} "
                  f"[{pb['lo']:+.2f}, {pb['hi']:+.2f}]; difference >= 0.10 in {100 * pb['share_above_margin']:.0f} % of resamples."]
        if "jackknife" in ev:
            jk = ev["jackknife"]
            worst = min(jk["by_left_out"], key=lambda k: jk["by_left_out"][k])
            best = max(jk["by_left_out"], key=lambda k: jk["by_left_out"][k])
            L.append(f"Jackknife (one network left out of the whole procedure): Spearman {jk['min']:.2f} "
                     f"(without {worst}) to {jk['max']:.2f} (without {best}).")
        L += ["", "Chosen per held-out group: " + "; ".join(f"{g}: `{s}`" for g, s in sorted(ev["chosen"].items())), ""]
    sh = res["shipped"]
    L += ["## The predictor fitted on every network (what a calibration stores)", "",
          f"`{sh['spec']}`: PSNR = {sh['model']['intercept']:.3f} + "
          + " + ".join(f"{c:.4g} x {f}" for c, f in zip(sh["model"]["coef"], sh["features"]))
          + " (features clipped to the fitting range). "
          + ("The zoo-skip form refitted, no selection (`--fixed`): its leave-one-family-out score above is "
             "its honest one." if sh.get("fixed") else
             f"Its LOFO Spearman inside the selection, {sh['lofo_spearman_in_selection']:.2f}, is optimistic: the "
             "honest figure is the nested one above."), "",
          f"Seed-to-seed noise of its prediction (75th percentile of |seed 0 - seed 1| over the published "
          f"networks): {res.get('seed_noise_db', float('nan')):.3f} dB.", "",
          f"Applicability domain: the box of the ground truth in (log10 params, depth), widened by "
          f"{sh['domain']['margin']:.2f} of each range: "
          + ", ".join(f"{f} {a:.3g}..{b:.3g}" for f, a, b in zip(sh["domain"]["features"], sh["domain"]["lo"],
                                                               sh["domain"]["hi"]))
          + f". Keeping every published network inside the box of the other families would take a widening of "
            f"{sh['domain']['lofo_margin']:.2f} of each range: the families occupy disjoint sizes, and the "
            "leave-one-family-out errors above are those extrapolations.", "",
          "## Networks (seed 0)", "",
          "| network | family | protocol | published dB | predicted (nested) | params + depth | params | depth | proxy dB |",
          "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    ev0 = res["evaluations"][0]
    for n in res["networks"]:
        L.append(f"| {n['name']} | {n['family']} | {n['protocol']} | {n['truth']:.2f} | "
                 f"{_f(ev0['predictions'].get(n['name']))} | {_f(ev0['baseline_predictions'].get(n['name']))} | "
                 f"{n['params']:,} | {n['depth']} | {_f(n['psnr'])} |")
    if res["pairs"]:
        L += ["", "## Ablation pairs (better, worse, the choice)", ""]
        L += [f"- {a} > {b} by {d:.2f} dB: {c}" for a, b, c, d in res["pairs"]]
    L += ["", "## Cost of the features (median seconds per network, 1 thread)", "",
          f"zero-cost proxies before training {res['cost']['zc_s']:.2f} s, after {res['cost']['zc_t_s']:.2f} s, "
          f"the 20-step run {res['cost']['train_s']:.2f} s + validation {res['cost']['val_s']:.2f} s.", ""]
    return "\n".join(L)
