"""Plotly figures of a :class:`~nas.report.data.ReportData` (no torch).

* :func:`pareto_figure`: PSNR (dB) against each cost objective of the study (by default parameters
  (M), Mult-Adds (G MACs) and latency (ms)).
  Non-dominated trials (over all the study's objectives, among the trials at the top fidelity) are red, dominated
  ones faded grey; in each panel a step line joins the trials that are non-dominated in *that*
  plane (PSNR vs that cost), i.e. the 2-D front you read off the panel. References are named
  markers with their own symbols (red outline when on the front). Rejected / pruned trials with
  known scores are drawn behind a legend toggle ("hidden" until clicked). Log axes where the
  plotted values span a decade or more.
* :func:`objectives_figure`: a scatter matrix of all the study's objectives (lower triangle).
* :func:`hypervolume_figure`: hypervolume (fixed reference point) after each COMPLETE trial.

All traces are SVG ``scatter`` (no WebGL), so the report renders in any browser, headless ones
included, and every plotted trial is one ``path.point`` in the DOM.
"""

from __future__ import annotations

import html as _html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nas.report.data import ReportData, TrialPoint
from nas.scoring.objectives import OBJECTIVE_REGISTRY

__all__ = ["AXES", "pareto_figure", "pareto_figure_html", "objectives_figure", "hypervolume_figure",
           "hover_text", "front_2d", "use_log", "label_positions"]

#: objective -> (factor applied for display, axis title), read from the objective registry;
#: params in M, Mult-Adds in G MACs.
AXES = {name: (o.display_factor, o.label) for name, o in OBJECTIVE_REGISTRY.items()}
#: The cost axes of a study with the default objectives.
COSTS = ("params", "mult_adds", "latency_ms")


def axis_title(data: ReportData, name: str) -> str:
    """Axis title of objective ``name`` in this study (the PSNR says RGB for a ``--metric rgb``
    study, and "predicted, full training" when the front is built on a predicted PSNR)."""
    title = AXES[name][1]
    if name != "psnr_db":
        return title
    if not data.facts.psnr_is_proxy:
        title = title.replace("proxy", "predicted, full training")
    metric = (data.facts.profile or {}).get("metric", "y")
    return title.replace("PSNR-Y", "PSNR-RGB") if metric == "rgb" else title


def cost_names(data: ReportData) -> tuple[str, ...]:
    """The study's cost objectives (every objective but ``psnr_db``), the Pareto plot's panels."""
    return tuple(o.name for o in data.objectives if o.name != "psnr_db")
REF_SYMBOLS = ["star", "diamond", "square", "triangle-up", "pentagon", "hexagon", "cross", "x"]
FRONT_COLOR = "#d62728"
DOMINATED_COLOR = "rgba(110,110,110,0.35)"
REF_COLOR = "#1f77b4"
HIDDEN_COLOR = "rgba(255,127,14,0.7)"
STOPPED_COLOR = "rgba(44,160,44,0.55)"


def _v(p: TrialPoint, name: str, values=None) -> float:
    """``name``'s value of ``p`` in display units; ``values``: an objective vector of the study
    to read instead (a duplicate is drawn at its original's scores)."""
    if values is not None and name in p.objective_names:
        v = values[p.objective_names.index(name)]
    else:
        v = p.metric(name)
    return v * AXES[name][0] if v is not None else float("nan")


def hover_text(p: TrialPoint, data: ReportData) -> str:
    """Hover of one point: trial, its scores with units, fidelity, architecture, command."""
    lat = data.facts.latency or {}
    where = f" ({lat.get('device', '?')}, {lat.get('threads', '?')} thr)" if lat else ""
    vals = p.values or p.plot_values
    head = f"<b>{_html.escape(p.reference.upper())}</b> (reference) | trial {p.number}" if p.reference \
        else f"<b>trial {p.number}</b>"
    lines = [head + f" | {p.status}"]
    if p.values is None and vals is not None:
        lines.append(f"scores of the trial it duplicates ({_html.escape(p.reason)})")
    if vals is not None:
        got = dict(zip(p.objective_names, vals))

        def val(name: str):
            return got[name] if name in got else p.metric(name)

        params, macs, lat = val("params"), val("mult_adds"), val("latency_ms")
        lines.append(f"PSNR {vals[0]:.3f} dB" + (f" | {int(params):,} params ({params / 1e6:.3f} M)" if params is not None else ""))
        line = " | ".join(x for x in (f"Mult-Adds {macs / 1e9:.2f} G MACs" if macs is not None else "",
                                      f"latency {lat:.1f} ms{where}" if lat is not None else "") if x)
        if line:
            lines.append(line)
        others = [OBJECTIVE_REGISTRY[n].says(val(n)) for n in p.objective_names
                  if n not in ("psnr_db", "params", "mult_adds", "latency_ms") and n in OBJECTIVE_REGISTRY]
        if others:
            lines.append(" | ".join(others))
    lines.append(f"fidelity: {p.iters} proxy iters" if p.iters is not None else "fidelity: -")
    if len(p.psnr_by_iters) > 1:
        lines.append("rungs: " + ", ".join(f"{v:.2f} dB @ {k}" for k, v in sorted(p.psnr_by_iters.items())))
    if p.summary:
        lines.append(_html.escape(p.summary))
    if p.dominates:
        lines.append("dominates " + ", ".join(r.upper() for r in p.dominates))
    if p.reason and p.values is not None:
        lines.append(_html.escape(p.reason))
    if p.export_command:
        lines.append(f"<i>{_html.escape(p.export_command)}</i>")
    return "<br>".join(lines)


def use_log(values) -> bool:
    """Log axis when the positive values span a decade or more (max / min >= 10)."""
    vals = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return bool(vals) and max(vals) / min(vals) >= 10


def front_2d(points: list[TrialPoint], cost: str) -> list[TrialPoint]:
    """Trials non-dominated in the (PSNR up, ``cost`` down) plane, by increasing cost."""
    out: list[TrialPoint] = []
    best = -math.inf
    for p in sorted(points, key=lambda q: (_v(q, cost), -q.psnr_db)):
        if p.psnr_db > best:
            out.append(p)
            best = p.psnr_db
    return out


def label_positions(data: ReportData, xname: str, yname: str = "psnr_db") -> dict[str, str]:
    """``top`` or ``bottom`` for each reference's label in one panel: below the marker when the
    nearest other reference (in axis-fraction units, log-aware) sits above it, else above."""
    refs = data.references
    done = data.complete
    if len(refs) < 2 or not done:
        return {name: "top" for name in refs}

    def axis(name: str):
        vals = [_v(p, name) for p in done]
        log = use_log(vals)
        f = (lambda v: math.log10(v)) if log else (lambda v: v)
        lo, hi = min(f(v) for v in vals), max(f(v) for v in vals)
        return lambda v: (f(v) - lo) / ((hi - lo) or 1.0)

    fx, fy = axis(xname), axis(yname)
    pos = {name: (fx(_v(p, xname)), fy(_v(p, yname))) for name, p in refs.items()}
    out = {}
    for name, (x, y) in pos.items():
        others = [(math.hypot(x - ox, y - oy), oy) for o, (ox, oy) in pos.items() if o != name]
        _, oy = min(others)
        out[name] = "bottom" if oy > y else "top"
    return out


def _add_points(fig: go.Figure, data: ReportData, xname: str, yname: str, row: int, col: int,
                show_legend: bool, meta: str) -> None:
    """Dominated, front, reference and hidden traces of one panel (x = ``xname``, y = ``yname``)."""
    done = data.complete
    cand = [p for p in done if not p.reference]
    groups = [
        ("dominated", [p for p in cand if not p.on_front], dict(color=DOMINATED_COLOR, size=7)),
        (f"non-dominated ({len(data.objectives)} objectives)", [p for p in cand if p.on_front],
         dict(color=FRONT_COLOR, size=9, line=dict(width=0.5, color="white"))),
    ]
    for name, pts, marker in groups:
        fig.add_trace(go.Scatter(
            x=[_v(p, xname) for p in pts], y=[_v(p, yname) for p in pts], mode="markers", name=name,
            marker=marker, hovertext=[hover_text(p, data) for p in pts], hoverinfo="text",
            legendgroup=name, showlegend=show_legend, meta=meta,
            customdata=[p.number for p in pts]), row=row, col=col)
    stopped = data.stopped
    if stopped:  # successive halving: scored at a lower rung, not compared with the front
        fig.add_trace(go.Scatter(
            x=[_v(p, xname) for p in stopped], y=[_v(p, yname) for p in stopped], mode="markers",
            name=f"stopped at a lower rung ({len(stopped)}; fewer iters)",
            marker=dict(symbol="circle-open", size=6, color=STOPPED_COLOR),
            hovertext=[hover_text(p, data) for p in stopped], hoverinfo="text", legendgroup="stopped",
            visible="legendonly", showlegend=show_legend, meta="stopped",
            customdata=[p.number for p in stopped]), row=row, col=col)
    where = label_positions(data, xname, yname)
    for i, (ref, p) in enumerate(data.references.items()):
        fig.add_trace(go.Scatter(
            x=[_v(p, xname)], y=[_v(p, yname)], mode="markers+text", name=f"{ref.upper()} (reference)",
            text=[ref.upper()], textposition=f"{where[ref]} center", textfont=dict(size=11, color=REF_COLOR),
            marker=dict(symbol=REF_SYMBOLS[i % len(REF_SYMBOLS)], size=15, color=REF_COLOR,
                        line=dict(width=2.5 if p.on_front else 1, color=FRONT_COLOR if p.on_front else "black")),
            hovertext=[hover_text(p, data)], hoverinfo="text", legendgroup=f"ref-{ref}",
            showlegend=show_legend, meta=meta, customdata=[p.number]), row=row, col=col)
    hidden = [p for p in data.hidden if (p.values or p.plot_values) is not None]
    n_hidden = sum(p.status != "running" for p in data.hidden)
    fig.add_trace(go.Scatter(
        x=[_v(p, xname, p.values or p.plot_values) for p in hidden],
        y=[_v(p, yname, p.values or p.plot_values) for p in hidden],
        mode="markers", name=f"failed / pruned / rejected ({n_hidden})", visible="legendonly",
        marker=dict(symbol="x-thin-open", size=10, color=HIDDEN_COLOR, line=dict(width=2, color=HIDDEN_COLOR)),
        hovertext=[hover_text(p, data) for p in hidden], hoverinfo="text", legendgroup="hidden",
        showlegend=show_legend, meta="hidden", customdata=[p.number for p in hidden]), row=row, col=col)


def pareto_figure(data: ReportData, title: str | None = None) -> go.Figure:
    """One panel per cost objective of the study: PSNR (dB) against parameters (M), Mult-Adds
    (G MACs) and latency (ms) by default.

    Every COMPLETE feasible trial is exactly one marker per panel (trace ``meta`` = ``"trial"``);
    the step lines (``meta`` = ``"front2d"``) and the hidden trials (``meta`` = ``"hidden"``) are
    separate traces.
    """
    title = data.facts.study_name if title is None else title
    costs = cost_names(data)
    fig = make_subplots(rows=1, cols=len(costs), shared_yaxes=True, horizontal_spacing=0.035,
                        subplot_titles=[f"PSNR vs {axis_title(data, c)}" for c in costs])
    done = data.complete
    if not done:
        fig.update_layout(title=f"{title}: no completed trials yet", template="plotly_white", height=560)
        return fig
    for col, cost in enumerate(costs, start=1):
        stair = front_2d(done, cost)
        fig.add_trace(go.Scatter(
            x=[_v(p, cost) for p in stair], y=[p.psnr_db for p in stair], mode="lines", line_shape="hv",
            line=dict(color=FRONT_COLOR, width=1.5), name="front in each plane (PSNR vs that cost)",
            hoverinfo="skip", legendgroup="front2d", showlegend=col == 1, meta="front2d"), row=1, col=col)
        _add_points(fig, data, cost, "psnr_db", 1, col, col == 1, "trial")
        xs = [_v(p, cost) for p in done]
        bic = data.facts.bicubic_psnr_db
        if bic is not None and data.facts.psnr_is_proxy:  # the floor: interpolation, no learning
            fig.add_trace(go.Scatter(
                x=[min(xs), max(xs)], y=[bic, bic], mode="lines", line=dict(color="#8c564b", width=1, dash="dot"),
                name=f"bicubic upsampling ({bic:.2f} dB)", hoverinfo="name", legendgroup="bicubic",
                showlegend=col == 1, meta="bicubic"), row=1, col=col)
        fig.update_xaxes(title_text=axis_title(data, cost), type="log" if use_log(xs) else "linear", row=1, col=col)
    fig.update_yaxes(title_text=axis_title(data, "psnr_db"), row=1, col=1)
    fig.update_layout(title=dict(text=title, x=0.01), template="plotly_white", height=600,
                      margin=dict(l=60, r=20, t=80, b=40), hoverlabel=dict(align="left"),
                      legend=dict(orientation="h", y=-0.16, x=0))
    return fig


def objectives_figure(data: ReportData) -> go.Figure:
    """Scatter matrix (lower triangle) of all the study's objectives, same colours as the Pareto plot."""
    names = tuple(o.name for o in data.objectives)
    n = len(names)
    fig = make_subplots(rows=n - 1, cols=n - 1, horizontal_spacing=0.05, vertical_spacing=0.06)
    done = data.complete
    first = True
    for i in range(1, n):          # y objective: rows
        for j in range(i):         # x objective: cols
            r, c = i, j + 1
            if done:
                _add_points(fig, data, names[j], names[i], r, c, first, "matrix")
                first = False
                fig.update_xaxes(type="log" if use_log([_v(p, names[j]) for p in done]) else "linear", row=r, col=c)
                fig.update_yaxes(type="log" if use_log([_v(p, names[i]) for p in done]) else "linear", row=r, col=c)
            if i == n - 1:
                fig.update_xaxes(title_text=axis_title(data, names[j]), row=r, col=c)
            if j == 0:
                fig.update_yaxes(title_text=axis_title(data, names[i]), row=r, col=c)
    for i in range(1, n - 1):      # hide the empty upper triangle
        for j in range(i + 1, n):
            fig.update_xaxes(visible=False, row=i, col=j)
            fig.update_yaxes(visible=False, row=i, col=j)
    fig.update_layout(template="plotly_white", height=820, title=dict(text="All objectives (scatter matrix)", x=0.01),
                      margin=dict(l=60, r=20, t=60, b=40), hoverlabel=dict(align="left"),
                      legend=dict(orientation="h", y=-0.08, x=0))
    return fig


def hypervolume_figure(data: ReportData) -> go.Figure:
    """Hypervolume (dimensionless) against COMPLETE trials (fixed proxy) or against candidates
    scored at the top fidelity (successive halving), with the box (ideal to reference point) in the title."""
    h = data.hypervolume
    unit = "top-fidelity scores" if data.stopped else "complete trials"
    fig = go.Figure(go.Scatter(
        x=[p.n_complete for p in h], y=[p.hypervolume for p in h], mode="lines+markers", line_shape="hv",
        marker=dict(size=4), name="hypervolume", meta="hv",
        hovertext=[f"after {p.n_complete} {unit} (last: trial {p.number})<br>hypervolume {p.hypervolume:.4f}"
                   for p in h], hoverinfo="text"))
    ref = data.hv_reference.describe(data.objectives) if data.hv_reference else "no reference point (scale unknown)"
    title = "Hypervolume after each " + ("score at the top fidelity" if data.stopped else "completed trial")
    fig.update_layout(template="plotly_white", height=380, margin=dict(l=60, r=20, t=70, b=50),
                      title=dict(text=f"{title}<br><sup>box {ref}</sup>", x=0.01),
                      xaxis_title=unit, yaxis_title="hypervolume (fraction of the box)")
    return fig


def pareto_figure_html(data: ReportData, title: str | None = None) -> str:
    """Self-contained HTML of :func:`pareto_figure` (plotly.js embedded, opens offline)."""
    return pareto_figure(data, title).to_html(include_plotlyjs=True, full_html=True, div_id="nas-pareto",
                                              config={"displaylogo": False, "responsive": True})
