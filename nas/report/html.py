"""``report.html``: one self-contained page rendered from a :class:`~nas.report.data.ReportData`.

* plotly.js is embedded ONCE (inline ``<script>``) for all figures; nothing is fetched from the
  network. A Content-Security-Policy meta tag forbids any network request (``default-src
  'none'``), so an accidental remote resource shows up as an error instead of a silent fetch.
* Sections: run facts (header), Pareto plots, front table (sorted by params, with dominated
  references and export commands), references, scatter matrix, hypervolume history, and the
  failed / pruned / rejected trials behind a ``<details>`` toggle.
* The report data itself is embedded as JSON (``<script type="application/json"
  id="nas-report-data">``), and a small inline script records what the browser rendered into
  ``<pre id="nas-report-check">`` (JSON: plotted points per figure, expected points, JavaScript /
  console errors, non-local resources). ``nas.report.browser`` reads it back from a headless
  Chromium's ``--dump-dom``.
"""

from __future__ import annotations

import html
import json

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from nas.report.data import ReportData, TrialPoint
from nas.report.plots import hypervolume_figure, objectives_figure, pareto_figure

__all__ = ["render_report_html", "CHECK_ID", "DATA_ID"]

CHECK_ID = "nas-report-check"
DATA_ID = "nas-report-data"
_PLOT_CONFIG = {"displaylogo": False, "responsive": True,
                "toImageButtonOptions": {"format": "png", "scale": 2}}

_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; connect-src 'none'")

# Runs first: collects errors and console.error calls before plotly.js is parsed.
_ERROR_HOOK = """
window.__nasErrors = [];
window.addEventListener('error', function (e) { window.__nasErrors.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || e.type)); }, true);
window.addEventListener('unhandledrejection', function (e) { window.__nasErrors.push('unhandled rejection: ' + String(e.reason)); });
document.addEventListener('securitypolicyviolation', function (e) { window.__nasErrors.push('blocked by CSP: ' + e.blockedURI); });
(function () { var ce = console.error; console.error = function () { window.__nasErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); return ce.apply(console, arguments); }; })();
"""

# Runs after the figures: waits until every plot div is drawn, then writes the check JSON.
_CHECK = """
(function () {
  var expected = %(expected)s;
  function count(id, meta, xyOnly) {
    // SVG markers actually drawn by plotly for the traces whose `meta` is `meta`
    var gd = document.getElementById(id);
    if (!gd || !gd._fullLayout) return null;
    var pts = 0;
    gd.querySelectorAll((xyOnly ? '.subplot.xy ' : '') + '.scatterlayer .trace').forEach(function (g) {
      var cd = g.__data__, tr = cd && cd[0] && cd[0].trace;
      if (tr && tr.meta === meta) pts += g.querySelectorAll('path.point').length;
    });
    return pts;
  }
  function done() {
    var ids = %(ids)s, ready = ids.every(function (id) { var gd = document.getElementById(id); return gd && gd._fullLayout; });
    if (!ready && (window.__nasTries = (window.__nasTries || 0) + 1) < 100) { setTimeout(done, 100); return; }
    var res = (performance.getEntriesByType('resource') || []).map(function (r) { return r.name; })
      .filter(function (u) { return !/^(data|blob|file|about):/.test(u); });
    var out = {ready: ready, expected_points: expected, points: {pareto_xy: count('nas-pareto', 'trial', true),
               matrix: count('nas-objectives', 'matrix', false), hypervolume: count('nas-hypervolume', 'hv', false)},
               hidden_drawn: count('nas-pareto', 'hidden', false), figures: document.querySelectorAll('.js-plotly-plot').length,
               errors: window.__nasErrors.slice(), remote_resources: res};
    document.getElementById('%(check_id)s').textContent = JSON.stringify(out);
  }
  if (document.readyState === 'complete') setTimeout(done, 50); else window.addEventListener('load', function () { setTimeout(done, 50); });
})();
"""

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; margin: 0 24px 40px; color: #222; }
h1 { font-size: 22px; margin: 18px 0 4px; } h2 { font-size: 17px; margin: 26px 0 6px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 12.5px; } td, th { padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { text-align: left; background: #f6f6f6; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.facts td:first-child { color: #555; white-space: nowrap; } table.facts { font-size: 13px; }
code { font-size: 11.5px; background: #f3f3f3; padding: 1px 4px; border-radius: 3px; user-select: all; white-space: nowrap; }
.ref { color: #1f77b4; font-weight: 600; } .muted { color: #777; } .summary { font-family: monospace; font-size: 11.5px; }
details summary { cursor: pointer; font-weight: 600; margin: 8px 0; } .kpi { font-size: 14px; margin: 4px 0 10px; }
#nas-report-check { display: none; }
"""


def _num(v, fmt: str) -> str:
    return "" if v is None else format(v, fmt)


def _trial_cell(p: TrialPoint) -> str:
    ref = f' <span class="ref">{html.escape(p.reference.upper())}</span>' if p.reference else ""
    return f"{p.number}{ref}"


def _claims(p: TrialPoint) -> str:
    """``IMDN, RFDN``; after ``nas confirm``: ``IMDN (confirmed), RFDN (not confirmed)``."""
    if p.psnr_confirm_db is None:
        return ", ".join(r.upper() for r in p.dominates)
    return ", ".join(f"{r.upper()} ({'confirmed' if r in p.confirmed else 'not confirmed'})" for r in p.dominates)


def _cost_cells(data: ReportData, p: TrialPoint) -> str:
    """The cost cells of a row: params, Mult-Adds, latency and the study's other objectives."""
    out = []
    for o in data.costs:
        v = p.metric(o.name)
        if v is None:
            out.append("<td class=n></td>")
        elif o.name == "params":
            out.append(f"<td class=n>{int(v):,}</td>")
        else:
            out.append(f"<td class=n>{o.show(v)}</td>")
    if data.facts.ntire_year:
        v = p.extra.get("ntire_score")
        out.append(f"<td class=n>{'' if v is None else f'{v:.3f}'}</td>")
    return "".join(out)


def _cost_heads(data: ReportData) -> str:
    """``<th>params</th><th>Mult-Adds G</th><th>latency ms</th>`` plus the other objectives'."""
    named = {"params": "params", "mult_adds": "Mult-Adds G", "latency_ms": "latency ms"}
    heads = "".join(f"<th>{html.escape(named.get(o.name) or o.label)}</th>" for o in data.costs)
    if data.facts.ntire_year:
        heads += f"<th>NTIRE {data.facts.ntire_year} score (lower is better)</th>"
    return heads


def _front_table(data: ReportData) -> str:
    rows = []
    for p in data.front:
        rows.append(
            f"<tr><td class=n>{_trial_cell(p)}</td><td class=n>{p.psnr_db:.3f}</td>"
            f"<td class=n>{_num(p.psnr_confirm_db, '.3f')}</td>{_cost_cells(data, p)}<td class=n>{_num(p.iters, 'd')}</td>"
            f"<td>{html.escape(_claims(p))}</td>"
            f"<td class=summary>{html.escape(p.summary)}</td><td><code>{html.escape(p.export_command or '')}</code></td></tr>")
    return ("<table id='nas-front-table'><tr><th>trial</th><th>PSNR dB</th><th>confirmed PSNR dB</th>"
            f"{_cost_heads(data)}<th>iters</th><th>dominates</th><th>architecture</th>"
            "<th>export command</th></tr>" + "".join(rows) + "</table>")


def _references_table(data: ReportData) -> str:
    rows = []
    for name, p in data.references.items():
        by = data.dominated_by(name)
        best = sorted(by, key=lambda q: q.params)[:5]
        rows.append(
            f"<tr><td class=ref>{html.escape(name.upper())}</td><td class=n>{p.number}</td><td class=n>{p.psnr_db:.3f}</td>"
            f"{_cost_cells(data, p)}"
            f"<td>{'yes' if p.on_front else 'no'}</td><td class=n>{len(by)}</td>"
            f"<td>{html.escape(', '.join(str(q.number) for q in best))}{' ...' if len(by) > 5 else ''}</td></tr>")
    if not rows:
        return "<p class=muted>no reference completed</p>"
    return ("<table id='nas-references-table'><tr><th>reference</th><th>trial</th><th>PSNR dB</th>"
            f"{_cost_heads(data)}<th>on front</th><th>dominated by (trials)</th>"
            "<th>smallest dominating trials</th></tr>" + "".join(rows) + "</table>")


def _hidden_table(data: ReportData) -> str:
    hidden = data.hidden
    rows = "".join(
        f"<tr><td class=n>{_trial_cell(p)}</td><td>{p.status}</td><td>{html.escape(p.reason)}</td>"
        f"<td class=summary>{html.escape(p.summary)}</td></tr>" for p in hidden)
    return (f"<details id='nas-hidden'><summary>Failed / pruned / rejected / running trials ({len(hidden)})"
            f"</summary><table><tr><th>trial</th><th>status</th><th>reason</th><th>architecture</th></tr>{rows}"
            "</table></details>")


def _facts_table(data: ReportData) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in data.facts.rows())
    return f"<table class=facts id='nas-facts'>{rows}</table>"


def _fig_div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_PLOT_CONFIG)


def render_report_html(data: ReportData, title: str | None = None) -> str:
    """The whole report page (about 5 MB: plotly.js is inlined once)."""
    title = title or f"{data.facts.study_name}: Pareto report"
    done = data.complete
    hv = data.final_hypervolume
    kpi = (f"{data.compared_text()}, {len(data.front)} non-dominated, "
           f"{len(data.references)} references"
           + (f"; hypervolume {hv:.4f}" if hv is not None else ""))
    doms = [f"{name.upper()}: {len(data.dominated_by(name))}" for name in data.references]
    if doms:
        margin = data.facts.claim_margin_db
        kpi += ("; trials dominating each reference" + (f" by more than {margin:.2f} dB ("
                                                    + ("the predictor's error at 95 %" if data.facts.claim_basis == "prediction"
                                                       else "the seed noise") + ")" if margin else "")
                + ": " + ", ".join(doms))
    hv_note = (f"Hypervolume box {html.escape(data.hv_reference.describe(data.objectives))} "
               "(<code>nas/front/hypervolume.py</code>)." if data.hv_reference else "")
    payload = data.to_json().replace("</", "<\\/")
    check = _CHECK % {"expected": len(done), "ids": json.dumps(["nas-pareto", "nas-objectives", "nas-hypervolume"]),
                      "check_id": CHECK_ID}
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style>",
        f"<script>{_ERROR_HOOK}</script>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=kpi>{html.escape(kpi)}</p>",
        _facts_table(data),
        "<h2>Pareto front: PSNR against each cost</h2>",
        f"<p class=muted>Red: non-dominated over all {len(data.objectives)} objectives (Optuna's <code>best_trials</code>); grey: "
        "dominated; blue symbols: the published references (red outline when on the front). The red step line "
        "joins the trials non-dominated in each plane. Click <i>failed / pruned / rejected</i> in the legend to "
        "show them. Hover a point for its scores, fidelity, architecture and export command.</p>",
        _fig_div(pareto_figure(data, title=""), "nas-pareto"),
        f"<h2>The front, sorted by parameters ({len(data.front)} trials)</h2>",
        _front_table(data),
        "<h2>References</h2>",
        _references_table(data),
        "<h2>All objectives</h2>",
        _fig_div(objectives_figure(data), "nas-objectives"),
        "<h2>Hypervolume</h2>",
        f"<p class=muted>{hv_note}</p>",
        _fig_div(hypervolume_figure(data), "nas-hypervolume"),
        "<h2>Trials that did not complete</h2>",
        _hidden_table(data),
        f"<script type='application/json' id='{DATA_ID}'>{payload}</script>",
        f"<pre id='{CHECK_ID}'></pre>",
        f"<script>{check}</script>",
        "</body></html>",
    ])
