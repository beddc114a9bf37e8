"""Reports of a study, built from the study (no torch): data first, then renderers.

* :func:`build_report_data` -> :class:`ReportData` (run facts, one point per trial, front,
  references, hypervolume history).
* Renderers: ``report.html`` (:func:`render_report_html`, plotly, self-contained),
  ``pareto.png`` (:func:`pareto_png`, matplotlib), ``report.json`` (``ReportData.to_json``),
  the CSV tables (:func:`trials_frame`, :func:`write_outputs`) and the terminal table
  (:mod:`nas.report.terminal`, ``nas show``).
"""

from __future__ import annotations

from pathlib import Path

import optuna

from nas.report.data import ReportData, RunFacts, TrialPoint, build_report_data
from nas.report.tables import atomic_write_text, export_command, pareto_frame, trials_frame, write_outputs

__all__ = ["ReportData", "RunFacts", "TrialPoint", "build_report_data", "export_command", "pareto_frame",
           "render_report_html", "pareto_png", "trials_frame", "write_outputs", "write_report"]


def render_report_html(data: ReportData, title: str | None = None) -> str:
    """See :func:`nas.report.html.render_report_html`."""
    from nas.report.html import render_report_html as _render

    return _render(data, title)


def pareto_png(data: ReportData, path: str | Path, title: str | None = None) -> Path:
    """See :func:`nas.report.static.pareto_png`."""
    from nas.report.static import pareto_png as _png

    return _png(data, path, title)


def write_report(study: optuna.Study, out_dir: str | Path, *, storage: str | None = None,
                 png: bool = True, data: ReportData | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``report.json`` and (``png``) ``pareto.png`` into ``out_dir``,
    plus the CSV tables and ``pareto.html`` of :func:`write_outputs`.

    Args:
        study: a study made by ``nas search``.
        out_dir: output folder (created if missing).
        storage: storage URL to name in export commands (default: ``--out-dir`` when the study
            is ``<out_dir>/study.db``).
        data: already-built report data (default: built here, with the hypervolume history).

    Returns:
        ``{"html": ..., "json": ..., "png": ..., "trials": ..., "pareto": ..., "plot": ...}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = data or build_report_data(study, out, storage=storage)
    paths = write_outputs(study, out)
    paths["html"] = out / "report.html"
    paths["json"] = out / "report.json"
    atomic_write_text(paths["html"], render_report_html(data))
    atomic_write_text(paths["json"], data.to_json())
    if png:
        paths["png"] = pareto_png(data, out / "pareto.png")
    return paths
