"""``pareto.png``: the main Pareto plot as a static image (matplotlib, Agg), for README files and
papers. Same data and conventions as the interactive plot (:func:`nas.report.plots.pareto_figure`):
PSNR (dB) against parameters (M), Mult-Adds (G MACs) and latency (ms); red = non-dominated over
all four objectives, grey = dominated, a red step line = the front in each plane, references
as named markers. The PNG carries no time stamp or version metadata, so re-rendering the same
study gives the same bytes (commit-friendly).
"""

from __future__ import annotations

from pathlib import Path

from nas.report.data import ReportData
from nas.report.plots import FRONT_COLOR, REF_COLOR, _v, axis_title, cost_names, front_2d, label_positions, use_log

__all__ = ["pareto_png"]

_MPL_MARKERS = {"star": "*", "diamond": "D", "square": "s", "triangle-up": "^", "pentagon": "p",
                "hexagon": "h", "cross": "P", "x": "X"}


def pareto_png(data: ReportData, path: str | Path, title: str | None = None, dpi: int = 150) -> Path:
    """Write the Pareto plot of ``data`` to ``path``: one panel per cost objective of the study
    (three by default; PNG, 5 x 4.8 in a panel at ``dpi``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from nas.report.plots import REF_SYMBOLS

    f = data.facts
    title = title if title is not None else (
        f"{f.study_name}: x{f.scale}, profile {f.profile.get('name', '?')}, "
        f"{data.compared_text()}, {len(data.front)} non-dominated")
    costs = cost_names(data)
    fig = Figure(figsize=(5 * len(costs), 4.8), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(costs), sharey=True, squeeze=False)[0]
    done = data.complete
    cand = [p for p in done if not p.reference]
    dom = [p for p in cand if not p.on_front]
    front = [p for p in cand if p.on_front]
    grey = (0.43, 0.43, 0.43, 0.35)
    for ax, cost in zip(axes, costs):
        if done:
            stair = front_2d(done, cost)
            ax.step([_v(p, cost) for p in stair], [p.psnr_db for p in stair], where="post",
                    color=FRONT_COLOR, lw=1.2, zorder=2, label="front in this plane")
            ax.scatter([_v(p, cost) for p in dom], [p.psnr_db for p in dom], s=14, color=grey, lw=0,
                       zorder=3, label="dominated")
            ax.scatter([_v(p, cost) for p in front], [p.psnr_db for p in front], s=24, color=FRONT_COLOR,
                       edgecolors="white", linewidths=0.4, zorder=4, label=f"non-dominated ({len(data.objectives)} objectives)")
            where = label_positions(data, cost)
            for i, (name, p) in enumerate(data.references.items()):
                x, y = _v(p, cost), p.psnr_db
                ax.scatter([x], [y], s=110, marker=_MPL_MARKERS.get(REF_SYMBOLS[i % len(REF_SYMBOLS)], "o"),
                           color=REF_COLOR, edgecolors=FRONT_COLOR if p.on_front else "black",
                           linewidths=1.6 if p.on_front else 0.7, zorder=5, label=f"{name.upper()} (reference)")
                below = where[name] == "bottom"
                ax.annotate(name.upper(), (x, y), textcoords="offset points", xytext=(0, -9 if below else 8),
                            ha="center", va="top" if below else "bottom", fontsize=8, color=REF_COLOR, zorder=6)
            if f.bicubic_psnr_db is not None and f.psnr_is_proxy:
                ax.axhline(f.bicubic_psnr_db, color="#8c564b", lw=1.0, ls=":", zorder=1,
                           label=f"bicubic upsampling ({f.bicubic_psnr_db:.2f} dB)")
            if use_log([_v(p, cost) for p in done]):
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.set_xlabel(axis_title(data, cost))
        ax.margins(y=0.1)
        ax.grid(True, which="major", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    axes[0].set_ylabel(axis_title(data, "psnr_db"))
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    out = Path(path)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    tmp.replace(out)
    return out
