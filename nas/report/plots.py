"""The Pareto plot: PSNR against each cost objective, front joined, references named (plotly).

Built from the trials table (``nas.report.tables.trials_frame``), so the plot and the CSV never
disagree. The HTML embeds plotly's JavaScript and opens offline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nas.scoring import OBJECTIVES

__all__ = ["pareto_figure", "pareto_figure_html"]

_REF_SYMBOLS = ["star", "diamond", "square", "triangle-up", "cross", "x", "pentagon", "hexagon"]


def _hover(df: pd.DataFrame, out_dir: Path | str) -> list[str]:
    from nas.report.tables import export_command

    text = []
    for _, r in df.iterrows():
        name = f"<b>{r['reference'].upper()}</b> " if r["reference"] else ""
        text.append(
            f"{name}trial {r['number']}<br>PSNR {r['psnr_db']:.3f} dB | {int(r['params']):,} params"
            f"<br>{r['mult_adds'] / 1e9:.2f} G Mult-Adds | {r['latency_ms']:.1f} ms"
            f"<br>{r['iters']} proxy iters<br>{r['summary']}<br><i>{export_command(out_dir, r['number'])}</i>"
        )
    return text


def pareto_figure(df: pd.DataFrame, title: str = "", out_dir: Path | str = ".") -> go.Figure:
    """Three panels: PSNR (dB) against params, Mult-Adds (G) and latency (ms).

    Args:
        df: ``trials_frame`` output; only COMPLETE rows are drawn.
    """
    done = df[df["state"] == "COMPLETE"].copy()
    costs = [o for o in OBJECTIVES if o.name != "psnr_db"]
    fig = make_subplots(rows=1, cols=len(costs), shared_yaxes=True,
                        subplot_titles=[o.label for o in costs], horizontal_spacing=0.04)
    if done.empty:
        fig.update_layout(title=f"{title}: no completed trials yet")
        return fig
    done["hover"] = _hover(done, out_dir)
    scale = {"params": 1.0, "mult_adds": 1e-9, "latency_ms": 1.0}
    cand = done[done["reference"] == ""]
    refs = done[done["reference"] != ""]
    for col, obj in enumerate(costs, start=1):
        f = scale[obj.name]
        show = col == 1
        dominated = cand[~cand["on_front"]]
        fig.add_trace(go.Scatter(
            x=dominated[obj.name] * f, y=dominated["psnr_db"], mode="markers", name="dominated",
            marker=dict(color="rgba(120,120,120,0.35)", size=7), hovertext=dominated["hover"],
            hoverinfo="text", legendgroup="dominated", showlegend=show), row=1, col=col)
        front = done[done["on_front"]].sort_values(obj.name)
        fig.add_trace(go.Scatter(
            x=front[obj.name] * f, y=front["psnr_db"], mode="markers", name="Pareto front",
            marker=dict(color="#d62728", size=9), hovertext=front["hover"], hoverinfo="text",
            legendgroup="front", showlegend=show), row=1, col=col)
        for i, (_, r) in enumerate(refs.iterrows()):
            fig.add_trace(go.Scatter(
                x=[r[obj.name] * f], y=[r["psnr_db"]], mode="markers+text", name=r["reference"].upper(),
                text=[r["reference"].upper()], textposition="top center",
                marker=dict(symbol=_REF_SYMBOLS[i % len(_REF_SYMBOLS)], size=14, color="#1f77b4",
                            line=dict(width=1, color="black")),
                hovertext=[r["hover"]], hoverinfo="text", legendgroup=f"ref{i}", showlegend=show),
                row=1, col=col)
        span = (done[obj.name].max() / max(done[obj.name].min(), 1e-12))
        fig.update_xaxes(title_text=obj.label, type="log" if span > 10 else "linear", row=1, col=col)
    fig.update_yaxes(title_text="PSNR-Y (dB), proxy", row=1, col=1)
    fig.update_layout(title=title, template="plotly_white", height=520, width=1500,
                      legend=dict(orientation="h", y=-0.18))
    return fig


def pareto_figure_html(df: pd.DataFrame, title: str = "", out_dir: Path | str = ".") -> str:
    """Self-contained HTML of :func:`pareto_figure` (plotly.js embedded, no network needed)."""
    return pareto_figure(df, title, out_dir).to_html(include_plotlyjs=True, full_html=True)
