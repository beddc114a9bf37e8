"""``nas show``: the front of a :class:`~nas.report.data.ReportData` as a rich table, CSV or JSON.

Rows: the non-dominated trials and the references (``show_all``: every trial); columns of
``trials.csv`` plus ``export_command``. Units: PSNR dB, parameters, Mult-Adds G MACs (table) or
MACs (CSV/JSON), latency ms.
"""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from nas.errors import NasError
from nas.report.data import ReportData

__all__ = ["front_view", "front_table", "facts_table"]


def front_view(data: ReportData, sort: str = "params", show_all: bool = False,
               dominating: str | None = None) -> pd.DataFrame:
    """The rows ``nas show`` prints.

    Args:
        sort: column to sort by (``psnr_db`` descending, everything else ascending).
        show_all: every trial, not only the front and the references.
        dominating: only searched candidates (front or not; references excluded) that dominate
            this reference (by name), as the report's *dominated by*.

    Raises:
        NasError: unknown ``sort`` column or unknown reference name.
    """
    df = data.frame()
    df["export_command"] = [p.export_command or "" for p in data.points]
    if not show_all and not dominating:
        df = df[df["on_front"] | ((df["reference"] != "") & (df["state"] == "COMPLETE"))]
    if dominating:  # every candidate that dominates it, on the front or not
        known = set(data.references)
        dominating = dominating.lower()
        if dominating not in known:
            raise NasError(f"--dominating: no completed reference {dominating!r} in this study "
                           f"(known: {', '.join(sorted(known)) or 'none'})")
        df = df[df["number"].isin([p.number for p in data.dominated_by(dominating)])]
    if sort not in df.columns:
        raise NasError(f"--sort: unknown column {sort!r} (known: {', '.join(df.columns)})")
    return df.sort_values(sort, ascending=sort not in ("psnr_db",), kind="stable")


def front_table(df: pd.DataFrame, title: str) -> Table:
    """A rich table of :func:`front_view` rows; after ``nas confirm`` it adds the confirmed PSNR
    and marks each dominance claim ``+`` (confirmed) or ``-`` (not confirmed)."""
    from nas.scoring.objectives import DEFAULT_OBJECTIVE_NAMES, OBJECTIVE_REGISTRY

    table = Table(title=title)
    confirmed = "psnr_confirm_db" in df and df["psnr_confirm_db"].notna().any()
    extra = [OBJECTIVE_REGISTRY[c] for c in df.columns if c in OBJECTIVE_REGISTRY and c not in DEFAULT_OBJECTIVE_NAMES]
    score = "ntire_score" in df.columns
    cols = ["#", "ref", "PSNR dB", *(["confirm dB"] if confirmed else []), "params", "Mult-Adds G", "latency ms",
            *(o.label for o in extra), *(["NTIRE score"] if score else []), "iters", "front", "dominates",
            "architecture"]
    for col in cols:
        table.add_column(col, justify="right" if col not in ("architecture", "ref", "dominates") else "left")
    for _, r in df.iterrows():
        done = r["state"] == "COMPLETE"
        claims = r["dominates"]
        if confirmed and claims and not pd.isna(r["psnr_confirm_db"]):
            ok = set(str(r.get("confirmed") or "").split())
            claims = " ".join(f"{c}{'+' if c in ok else '-'}" for c in claims.split())
        table.add_row(
            str(r["number"]), r["reference"] or "",
            f"{r['psnr_db']:.3f}" if done else str(r.get("status") or r["state"]).upper(),
            *([("" if pd.isna(r["psnr_confirm_db"]) else f"{r['psnr_confirm_db']:.3f}")] if confirmed else []),
            f"{int(r['params']):,}" if done and not pd.isna(r["params"]) else "",
            f"{r['mult_adds'] / 1e9:.2f}" if done and not pd.isna(r["mult_adds"]) else "",
            f"{r['latency_ms']:.1f}" if done and not pd.isna(r["latency_ms"]) else "",
            *((o.show(r[o.name]) if done and not pd.isna(r[o.name]) else "") for o in extra),
            *([f"{r['ntire_score']:.3f}" if done and not pd.isna(r["ntire_score"]) else ""] if score else []),
            "" if pd.isna(r["iters"]) else str(int(r["iters"])),
            "*" if r["on_front"] else "", claims,
            r["summary"] or r["fail_reason"],
        )
    return table


def facts_table(data: ReportData) -> Table:
    """The run facts as a two-column rich table."""
    table = Table(show_header=False, title=f"{data.facts.study_name}: run")
    for k, v in data.facts.rows():
        table.add_row(k, v)
    if data.final_hypervolume is not None:
        table.add_row("hypervolume", f"{data.final_hypervolume:.4f} ({data.hv_reference.describe(data.objectives)})")
    return table
