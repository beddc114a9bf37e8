"""A study's report as data: run facts, one point per trial, the front, the hypervolume history.

Everything the renderers show (``report.html``, ``pareto.png``, ``nas show``, the CSV/JSON files)
is read from one :class:`ReportData`, built from the Optuna study that ``nas search`` writes; there
is no second source of truth. Built in the style of Optuna's ``visualization/_pareto_front.py``
(``_get_pareto_front_info`` -> ``_ParetoFrontInfo`` -> plot): data first, then rendering.

Units: ``psnr_db`` dB (Y channel), ``params`` parameters, ``mult_adds`` MACs for a 1280x720 HR
output, ``latency_ms`` milliseconds (the study's latency setting), ``duration_s`` / ``wall_s``
seconds, ``iters`` proxy-training steps (the fidelity a trial was scored at), ``hypervolume``
dimensionless (see :mod:`nas.front.hypervolume`); the study's other objectives
(``nas search --objectives``) in their registry units (:mod:`nas.scoring.objectives`). No torch.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from nas.front import dominates, dominates_with_margin, hypervolume_history
from nas.front.hypervolume import HV_REFERENCES, HypervolumePoint, HypervolumeReference
from nas.metrics.quiet import LOADED_SHARE
from nas.proxy.profiles import noise_at
from nas.scoring.objectives import (
    DEFAULT_OBJECTIVE_NAMES,
    OBJECTIVE_NAMES,
    STANDARD_COSTS,
    Objective,
    is_feasible,
    objectives_of,
)
from nas.search.rungs import RungEntry, rung_table
from nas.urls import redact_url

#: One-sided normal quantile of a dominance claim on a predicted PSNR (issue 31 §5): a claim needs a
#: predicted margin above ``CLAIM_Z * sqrt(2) * sigma`` (two independent prediction errors of
#: out-of-family RMS ``sigma``), so prediction error alone makes such a margin in under 5 % of cases.
CLAIM_Z = 1.645

__all__ = [
    "COLUMNS",
    "RunFacts",
    "TrialPoint",
    "ReportData",
    "build_report_data",
    "export_command",
    "storage_url_of",
    "redact_url",
]

def _others_cpu(load: Any) -> float | None:
    """``latency_load["others_share"]`` of a trial, if recorded."""
    if isinstance(load, dict) and isinstance(load.get("others_share"), (int, float)):
        return float(load["others_share"])
    return None


#: Columns of ``trials.csv`` / ``pareto.csv`` (``trials_frame``); kept stable for scripts.
COLUMNS = ["number", "state", "reference", *OBJECTIVE_NAMES, "iters", "duration_s", "arch_id",
           "summary", "on_front", "dominates", "fail_reason", "config", "rung", "psnr_by_iters", "status",
           "train_params", "psnr_confirm_db", "confirmed", "psnr_proxy_db", "psnr_sigma_db",
           "latency_others_cpu", "latency_loaded", "domain_leverage"]

#: ``TrialPoint.status`` values, in legend order.
STATUSES = ("front", "dominated", "stopped", "rejected", "pruned", "failed", "running")


def storage_url_of(study: optuna.Study) -> str | None:
    """The URL of the study's RDB storage (password redacted), or ``None`` if not an RDB one.

    Reads Optuna's storage wrappers (``_CachedStorage._backend``); best effort, only used to
    print commands.
    """
    storage: Any = getattr(study, "_storage", None)
    storage = getattr(storage, "_backend", storage)
    engine = getattr(storage, "engine", None)
    if engine is None:
        return None
    try:
        return redact_url(engine.url.render_as_string(hide_password=False))
    except Exception:  # pragma: no cover - sqlalchemy API drift
        return None


def export_command(out_dir: str | Path | None, number: int, *, storage: str | None = None,
                   study: str | None = None) -> str:
    """The exact CLI command that writes trial ``number`` as an ``ArchConfig`` file.

    With ``storage`` (a study not in ``<out_dir>/study.db``, e.g. PostgreSQL) the command names
    the storage URL (password shown as ``***``) and the study instead of the folder.
    """
    if storage is not None:
        return (f"nas export --storage {shlex.quote(storage)}"
                + (f" --study {shlex.quote(study)}" if study else "")
                + f" --trial {number} --out trial{number}.yaml")
    return f"nas export --out-dir {shlex.quote(str(out_dir))} --trial {number} --out trial{number}.yaml"


@dataclass(frozen=True)
class TrialPoint:
    """One trial as the report shows it.

    Attributes:
        number: Optuna trial number.
        state: Optuna state name (``COMPLETE``, ``FAIL``, ``PRUNED``, ``RUNNING``, ``WAITING``).
        status: ``front`` (non-dominated among the COMPLETE trials at the top fidelity),
            ``dominated``, ``stopped`` (successive halving did not promote it to the top rung:
            scored at a lower fidelity, so not compared with the front), ``rejected`` (an
            Optuna constraint > 0: over a ``--max-*`` limit), ``pruned`` (e.g. a duplicate),
            ``failed`` or ``running``.
        reference: published network's name (``imdn``...) or ``None`` for a searched candidate.
        psnr_db: validation PSNR-Y, dB (``None`` if not scored), at the highest rung reached.
        params: parameters.
        mult_adds: MACs for a 1280x720 HR output.
        latency_ms: forward-pass latency, ms (the study's latency setting).
        iters: proxy-training steps the scores were obtained with (fidelity).
        rung: successive-halving rung of ``psnr_db`` (0 = first; always 0 for a fixed proxy).
        psnr_by_iters: PSNR (dB) at every rung reached, keyed by steps trained.
        duration_s: trial wall time, s.
        arch_id / summary / config: the architecture (id, one line, ``ArchConfig`` dict).
        on_front: member of ``study.best_trials``.
        dominates: references this trial dominates at the same fidelity (every candidate scored
            at the top fidelity, on the front or not, as in trials.csv; empty for the others).
        reason: why it failed / was pruned / rejected.
        export_command: the ``nas export`` command that writes its ``ArchConfig`` (COMPLETE
            trials with an architecture), else ``None``.
        completed_at: ISO time it finished, or ``None``.
        plot_values: objective values to draw a not-COMPLETE trial at (a duplicate is drawn at
            its original's scores), else ``None``.
        costs: ``{"params", "mult_adds", "latency_ms"}`` measured for a candidate rejected over
            a ``--max-*`` limit before training (no PSNR), else ``None``.
        train_params: parameters of the training form when it differs from the deploy form that
            ``params`` counts (re-parameterisable ECB blocks), else ``None``.
        psnr_confirm_db: PSNR (dB) after ``nas confirm`` retrained it from scratch with the
            longer protocol (``RunFacts.confirm_profile``), else ``None``.
        confirmed: the references of ``dominates`` whose claim still holds after confirmation
            (both retrained; PSNR margin above the confirmation protocol's noise).
        psnr_proxy_db: the proxy's validation PSNR at the rung reached (dB); equals ``psnr_db``
            unless the profile has a predictor, when ``psnr_db`` is the predicted fully-trained PSNR.
        psnr_sigma_db: the prediction's 1-sigma uncertainty (dB), else ``None``.
        latency_others_cpu: share of the machine's cores (0..1) that other processes used
            while the latency was timed (``nas.metrics.quiet``), ``None`` if not recorded.
        domain_leverage: the candidate's leverage with respect to the networks the predictor was
            fitted on (``nas.proxy.predict.Domain``; above the calibration's ``h_max`` the
            candidate was PRUNED before training), ``None`` without a predictor domain.
        objective_names: the study's objectives, the order of :attr:`values` and ``plot_values``.
        extra: the values of measured quantities beyond the four fields above (the study's
            other objectives), by objective name.
    """

    number: int
    state: str
    status: str
    reference: str | None
    psnr_db: float | None
    params: int | None
    mult_adds: int | None
    latency_ms: float | None
    iters: int | None
    duration_s: float | None
    arch_id: str
    summary: str
    config: dict | None
    on_front: bool
    dominates: tuple[str, ...]
    reason: str
    export_command: str | None
    completed_at: str | None = None
    plot_values: tuple[float, float, float, float] | None = None
    rung: int | None = None
    psnr_by_iters: dict = field(default_factory=dict)
    costs: dict | None = None
    train_params: int | None = None
    psnr_confirm_db: float | None = None
    confirmed: tuple[str, ...] = ()
    psnr_proxy_db: float | None = None
    psnr_sigma_db: float | None = None
    latency_others_cpu: float | None = None
    domain_leverage: float | None = None
    objective_names: tuple[str, ...] = DEFAULT_OBJECTIVE_NAMES
    extra: dict = field(default_factory=dict)

    def metric(self, name: str) -> float | None:
        """A measured quantity by objective name (``psnr_db``, ``params``, ... or one of ``extra``),
        ``None`` when not known."""
        if name in ("psnr_db", "params", "mult_adds", "latency_ms"):
            v = getattr(self, name)
            return float(v) if v is not None else None
        v = self.extra.get(name)
        return float(v) if v is not None else None

    @property
    def latency_loaded(self) -> bool:
        """The latency was timed while other processes used over a quarter of the cores."""
        return self.latency_others_cpu is not None and self.latency_others_cpu > LOADED_SHARE

    @property
    def values(self) -> tuple[float, ...] | None:
        """The study's objective values in :attr:`objective_names` order (default ``(psnr_db,
        params, mult_adds, latency_ms)``), or ``None`` when not scored."""
        if self.psnr_db is None:
            return None
        return tuple(self.metric(n) for n in self.objective_names)

    @property
    def name(self) -> str:
        """``IMDN`` for a reference, ``trial 12`` otherwise."""
        return self.reference.upper() if self.reference else f"trial {self.number}"


@dataclass(frozen=True)
class RunFacts:
    """What the run was: stored on the study by ``nas search`` (``None`` when not recorded).

    Attributes:
        study_name / storage: the study and its storage URL (password redacted).
        out_dir: the search's output folder, if known.
        space_name / space_path / space_digest: the search-space file.
        scale: upscaling factor. data_source: training / validation images.
        profile: proxy profile (name, iters, batch, lr_patch, lr, ...).
        sampler / seed: Optuna sampler and seed. budget: COMPLETE trials asked for, if recorded.
        states: trials per Optuna state. fidelities: distinct ``iters`` of COMPLETE trials.
        started / finished: ISO times of the first trial start and the last trial end.
        wall_s: ``finished - started``, s. compute_s: sum of trial durations, s.
        promotion_s: successive halving, training + validation time of the promotions
            (rungs >= 1), s; ``None`` for a fixed proxy.
        latency: latency setting (``lr_hw``, ``threads``, ``device``, ``warmup``, ``repeats``).
        machine / cpu_count: where it ran. versions: package versions.
        psnr_noise_db: the protocol's seed-to-seed PSNR noise ``{steps: dB}`` (stored with the
            study, or looked up by protocol for a study made before it was stored; ``{}`` when
            unmeasured).
        claim_margin_db: a candidate's ``dominates`` claim against a reference needs a PSNR margin
            above this (dB): the seed-to-seed noise at the top fidelity, and on a predicted PSNR at
            least ``CLAIM_Z * sqrt(2) * sigma`` (:data:`CLAIM_Z`; ``sigma`` the largest out-of-family
            error of the study's predictions), 0 when neither is known.
        claim_basis: what the margin is: ``"noise"``, ``"prediction"`` or ``""``.
        confirm_profile: the ``nas confirm`` profile, if the study was confirmed, else ``{}``.
        ntire_year: the NTIRE ESR ranking of the ``ntire_score`` column (``nas search --preset
            ntire-esr``), else ``None``.
        psnr_basis: what the PSNR objective (and so the front) is: the proxy's validation PSNR,
            or a predicted fully-trained PSNR (names the predictor and what it predicts).
        bicubic_psnr_db: PSNR of bicubic upsampling of the validation images, scored as the
            candidates are (dB): the floor a network must beat; stored with the study, or
            recomputed for a study on the built-in photographs made before it was stored;
            ``None`` when unknown.
    """

    study_name: str
    storage: str | None = None
    out_dir: str | None = None
    space_name: str | None = None
    space_path: str | None = None
    space_digest: str | None = None
    scale: int | None = None
    data_source: str | None = None
    profile: dict = field(default_factory=dict)
    sampler: str | None = None
    seed: int | None = None
    budget: int | None = None
    states: dict = field(default_factory=dict)
    fidelities: tuple[int, ...] = ()
    started: str | None = None
    finished: str | None = None
    wall_s: float | None = None
    compute_s: float | None = None
    promotion_s: float | None = None
    latency: dict = field(default_factory=dict)
    machine: str | None = None
    cpu_count: int | None = None
    versions: dict = field(default_factory=dict)
    psnr_noise_db: dict = field(default_factory=dict)
    claim_margin_db: float = 0.0
    claim_basis: str = ""
    confirm_profile: dict = field(default_factory=dict)
    psnr_basis: str = "validation PSNR-Y of the proxy at the top rung"
    ntire_year: int | None = None
    bicubic_psnr_db: float | None = None

    @property
    def psnr_is_proxy(self) -> bool:
        """True when the PSNR objective is the proxy's validation PSNR (comparable with
        :attr:`bicubic_psnr_db`), False when it is a predicted fully-trained PSNR."""
        return not self.psnr_basis.startswith("predicted")

    def rows(self) -> list[tuple[str, str]]:
        """``(label, value)`` pairs for headers and terminal output, in a fixed order."""
        p = self.profile or {}
        lat = self.latency or {}
        prof = (f"{p.get('name', '?')}: {p.get('iters', '?')} iters, batch {p.get('batch', '?')}, "
                f"LR patch {p.get('lr_patch', '?')}, lr {p.get('lr', '?')}, seed {p.get('seed', '?')}"
                if p else "not recorded")
        fid = ", ".join(str(i) for i in self.fidelities) or "-"
        hw = lat.get("lr_hw")
        budget = lat.get("budget_ms")
        passes = (f"median of {lat.get('repeats', '?')}" if not budget else
                  f"median of 3-{lat.get('repeats', '?')} passes (stopping once they took {budget:g} ms)")
        clock = f", {lat['clock']}" if lat.get("clock") else ""
        latency = (f"{lat.get('device', '?')}{clock}, {lat.get('threads', '?')} threads, "
                   f"{'x'.join(map(str, hw)) if hw else '?'} LR input, {passes} "
                   f"after {lat.get('warmup', '?')} warm-up" if lat else "not recorded")
        machine = " ".join(x for x in (self.machine, f"{self.cpu_count} CPUs" if self.cpu_count else None) if x)
        states = ", ".join(f"{n} {k.lower()}" for k, n in self.states.items()) or "none"
        versions = ", ".join(f"{k} {v}" for k, v in (self.versions or {}).items() if v) or "not recorded"
        return [
            ("study", f"{self.study_name} ({self.storage or 'storage unknown'})"),
            ("search space", f"{self.space_path or self.space_name or 'not recorded'}"
             + (f" [{self.space_name}, digest {self.space_digest}]" if self.space_digest else "")),
            ("scale", f"x{self.scale}" if self.scale else "not recorded"),
            ("data", self.data_source or "not recorded"),
            ("proxy profile", prof),
            ("fidelity (iters) scored", fid),
            ("PSNR objective (front built on)", self.psnr_basis),
            *([("bicubic upsampling (the floor)", f"{self.bicubic_psnr_db:.2f} dB on the validation images, scored as "
                "the candidates are; a proxy PSNR near it means the network has learned no more than "
                "interpolation yet")] if self.bicubic_psnr_db is not None else []),
            *([("NTIRE score", f"NTIRE ESR {self.ntire_year} Score_Final against its baseline as measured in this "
                "study (runtime here, NTIRE FLOPs, params; lower is better; nas.scoring.ntire); the challenge's "
                "PSNR threshold (26.90 dB RGB on DIV2K_LSDIR_valid after full training) is not applied: the PSNR "
                "objective is not that metric, and four published DIV2K_LSDIR_valid values (26.93-26.97 dB) "
                "cannot support a mapping to it")]
              if self.ntire_year else []),
            ("dominance claims", (f"predicted PSNR margin above {self.claim_margin_db:.2f} dB ({CLAIM_Z} x sqrt(2) x the "
                                  "predictor's out-of-family error: under 5 % that prediction error alone makes such "
                                  "a margin, independent normal errors)" if self.claim_basis == "prediction"
                                  else f"PSNR margin above {self.claim_margin_db:.2f} dB (seed-to-seed noise at the top "
                                  "rung)" if self.claim_margin_db else "plain dominance (noise not measured for "
                                  "this protocol)")
             + (f"; retrained by nas confirm with profile {self.confirm_profile.get('name')}"
                if self.confirm_profile else "")),
            ("sampler / seed", f"{self.sampler or '?'} / {self.seed if self.seed is not None else '?'}"),
            ("budget", f"{self.budget} COMPLETE trials" if self.budget else "not recorded"),
            ("trials", states),
            ("wall time", _fmt_duration(self.wall_s) + (f" ({self.started} .. {self.finished})" if self.started else "")
             + (f"; {_fmt_duration(self.compute_s)} in trials" if self.compute_s else "")
             + (f" + {_fmt_duration(self.promotion_s)} in promotions" if self.promotion_s else "")),
            ("latency measured on", latency),
            ("machine", machine or "not recorded"),
            ("versions", versions),
        ]


def _fmt_duration(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


@dataclass(frozen=True)
class ReportData:
    """A study's report. Build with :func:`build_report_data`; render with ``nas.report``.

    Attributes:
        facts: the run (:class:`RunFacts`).
        objectives: the objective table (names, directions, units, labels).
        points: one :class:`TrialPoint` per trial, by number.
        hv_reference: the fixed hypervolume reference point (``None``: scale unknown).
        hypervolume: hypervolume after each COMPLETE trial (empty if not computed).
    """

    facts: RunFacts
    objectives: tuple[Objective, ...]
    points: tuple[TrialPoint, ...]
    hv_reference: HypervolumeReference | None = None
    hypervolume: tuple[HypervolumePoint, ...] = ()

    # ----------------------------------------------------------------- views
    @property
    def complete(self) -> list[TrialPoint]:
        """COMPLETE, feasible trials at the top fidelity (the ones compared), by number."""
        return [p for p in self.points if p.status in ("front", "dominated")]

    def compared_text(self) -> str:
        """``"27 completed trials"``, or with successive halving ``"200 completed trials, 27 at
        the top fidelity (180 iters)"``: how many candidates the front was chosen from."""
        n_done = sum(1 for p in self.points if p.state == "COMPLETE")
        n_top = len(self.complete)
        if n_done == n_top:
            return f"{n_done} completed trials"
        iters = next((p.iters for p in self.complete if p.iters is not None), None)
        at = f" ({iters} iters)" if iters is not None else ""
        return f"{n_done} completed trials, {n_top} at the top fidelity{at}"

    @property
    def stopped(self) -> list[TrialPoint]:
        """Candidates successive halving stopped below the top rung (scored at a lower fidelity)."""
        return [p for p in self.points if p.status == "stopped"]

    @property
    def front(self) -> list[TrialPoint]:
        """Non-dominated trials, sorted by params (then PSNR, best first)."""
        return sorted((p for p in self.points if p.on_front), key=lambda p: (p.params, -p.psnr_db))

    @property
    def hidden(self) -> list[TrialPoint]:
        """Rejected, pruned, failed and running trials (behind a toggle in the report)."""
        return [p for p in self.points if p.status not in ("front", "dominated", "stopped")]

    @property
    def references(self) -> dict[str, TrialPoint]:
        """COMPLETE reference trials by name (first one of each name)."""
        out: dict[str, TrialPoint] = {}
        for p in self.complete:
            if p.reference and p.reference not in out:
                out[p.reference] = p
        return out

    def dominated_by(self, reference: str) -> list[TrialPoint]:
        """Searched candidates (front or not; other references excluded) that dominate
        ``reference`` at the same fidelity (fewer or equal params, Mult-Adds and latency, PSNR
        >= the reference's, better on one)."""
        return [p for p in self.complete if not p.reference and reference in p.dominates]

    @property
    def final_hypervolume(self) -> float | None:
        """Hypervolume (0..1, fixed box of the scale) after the last scored trial; None if none."""
        return self.hypervolume[-1].hypervolume if self.hypervolume else None

    # ----------------------------------------------------------------- exports
    @property
    def extra_columns(self) -> list[str]:
        """The study's objectives beyond the standard four, then ``ntire_score`` in a study with
        an NTIRE year (their ``trials.csv`` columns follow ``latency_ms``)."""
        out = [o.name for o in self.objectives if o.name not in DEFAULT_OBJECTIVE_NAMES]
        return out + (["ntire_score"] if self.facts.ntire_year else [])

    @property
    def costs(self) -> tuple[Objective, ...]:
        """The costs shown in tables: the standard three (measured for every candidate) and the
        study's other objectives, in that order."""
        from nas.scoring.objectives import get_objective

        return tuple(get_objective(n) for n in STANDARD_COSTS) + tuple(
            o for o in self.objectives if o.name not in DEFAULT_OBJECTIVE_NAMES)

    def frame(self) -> pd.DataFrame:
        """One row per trial with :data:`COLUMNS` (the ``trials.csv`` layout; a study with other
        objectives has their columns after ``latency_ms``). ``fail_reason``
        says why a FAILED or PRUNED trial has no score (error, interruption, duplicate, over a
        limit, unbuildable); a candidate rejected over a limit keeps its measured costs."""
        def cost(p: TrialPoint, key: str):  # a rejected candidate's measured costs (not scored)
            value = getattr(p, key)
            return value if value is not None or not p.costs else p.costs.get(key)

        extra = self.extra_columns
        rows = [{
            "number": p.number, "state": p.state, "reference": p.reference or "",
            "psnr_db": p.psnr_db, "params": cost(p, "params"), "mult_adds": cost(p, "mult_adds"),
            "latency_ms": cost(p, "latency_ms"),
            **{name: (p.extra.get(name) if p.extra.get(name) is not None or not p.costs else p.costs.get(name))
               for name in extra},
            "iters": p.iters, "duration_s": p.duration_s, "arch_id": p.arch_id, "summary": p.summary,
            "on_front": p.on_front, "dominates": " ".join(p.dominates),
            "fail_reason": p.reason if p.state in ("FAIL", "PRUNED") else "",
            "config": json.dumps(p.config, separators=(",", ":")) if p.config is not None else "",
            "rung": p.rung,
            "psnr_by_iters": json.dumps({str(k): round(v, 4) for k, v in p.psnr_by_iters.items()})
            if p.psnr_by_iters else "",
            "status": p.status,
            "train_params": p.train_params,
            "psnr_confirm_db": p.psnr_confirm_db,
            "confirmed": " ".join(p.confirmed),
            "psnr_proxy_db": p.psnr_proxy_db,
            "psnr_sigma_db": p.psnr_sigma_db,
            "latency_others_cpu": p.latency_others_cpu,
            "latency_loaded": p.latency_loaded,
            "domain_leverage": p.domain_leverage,
        } for p in self.points]
        at = COLUMNS.index("latency_ms") + 1
        df = pd.DataFrame(rows, columns=[*COLUMNS[:at], *extra, *COLUMNS[at:]])
        for col in ("params", "mult_adds", "rung", "train_params"):
            df[col] = df[col].astype("Int64")
        df["on_front"] = df["on_front"].astype(bool)  # also when empty (a boolean mask, not labels)
        return df

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict: facts, objectives, points, front (numbers), references,
        hypervolume reference point and history."""
        return {
            "facts": asdict(self.facts),
            "objectives": [asdict(o) for o in self.objectives],
            "points": [{**asdict(p), "name": p.name} for p in self.points],
            "front": [p.number for p in self.front],
            "references": {name: {"number": p.number, "on_front": p.on_front,
                                  "dominated_by": [q.number for q in self.dominated_by(name)]}
                           for name, p in self.references.items()},
            "hypervolume_reference": ({**asdict(self.hv_reference), "raw_point": self.hv_reference.raw_point,
                                       "description": self.hv_reference.describe(self.objectives)}
                                      if self.hv_reference else None),
            "hypervolume": [asdict(h) for h in self.hypervolume],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, default=str) + "\n"


# --------------------------------------------------------------------------- building
def _iso(t: _dt.datetime | None) -> str | None:
    return t.replace(microsecond=0).isoformat(sep=" ") if t else None


def _status(t: FrozenTrial, front: set[int], stopped: set[int] = frozenset()) -> str:
    if t.state == TrialState.COMPLETE:
        if not is_feasible(t):  # infeasible: not in best_trials either
            return "rejected"
        if t.number in stopped:
            return "stopped"
        return "front" if t.number in front else "dominated"
    if t.state == TrialState.PRUNED:
        if not is_feasible(t):  # over a --max-* limit, never trained
            return "rejected"
        return "pruned"
    if t.state == TrialState.FAIL:
        return "failed"
    return "running"


def _reason(t: FrozenTrial) -> str:
    ua = t.user_attrs
    if ua.get("fail_reason") or ua.get("prune_reason") or ua.get("reject_reason"):
        return str(ua.get("fail_reason") or ua.get("prune_reason") or ua.get("reject_reason"))
    violated = {k: v for k, v in t.constraints.items() if v > 0}
    return f"constraint violated: {violated}" if violated else ""


_DUP = re.compile(r"duplicate of trial (\d+)")


def build_report_data(study: optuna.Study, out_dir: str | Path | None = None, *,
                      storage: str | None = None, with_hypervolume: bool = True) -> ReportData:
    """Read the report out of a study made by ``nas search``.

    Args:
        study: the study.
        out_dir: the search's output folder (export commands use ``--out-dir`` when the study
            lives in ``<out_dir>/study.db``).
        storage: storage URL to name in export commands instead of ``out_dir`` (e.g. a
            PostgreSQL study); default: detected, ``--out-dir`` for ``<out_dir>/study.db``.
        with_hypervolume: compute the hypervolume history (about 0.3 s for 200 trials).
    """
    ua = study.user_attrs
    url = storage if storage is not None else storage_url_of(study)
    use_storage = None
    if url is not None:
        url = redact_url(url)
        in_out_dir = out_dir is not None and url.startswith("sqlite:///") and \
            Path(url.split(":///", 1)[1]).resolve() == (Path(out_dir) / "study.db").resolve()
        if storage is not None or (out_dir is None or not in_out_dir):
            use_storage = url
    if use_storage is None and out_dir is None:
        out_dir = "."

    trials = study.get_trials(deepcopy=False)
    objectives = objectives_of(ua)
    names = tuple(o.name for o in objectives)
    directions = [o.direction for o in objectives]
    # Each candidate at the highest rung it reached (successive halving; a fixed proxy has rung
    # 0 only). The front compares candidates at the top fidelity only.
    table = rung_table(trials, ua)
    best: dict[int, RungEntry] = {}
    for r in sorted(table):
        for number, entry in table[r].items():
            best[number] = entry
    history: dict[int, dict[int, float]] = {}
    for r in sorted(table):
        for number, entry in table[r].items():
            if entry.iters is not None:
                raw = entry.raw_psnr_db if entry.raw_psnr_db is not None else entry.values[0]
                history.setdefault(number, {})[int(entry.iters)] = raw
    top_iters = max((e.iters for e in best.values() if e.iters is not None), default=None)
    at_top = {n: e for n, e in best.items() if e.iters == top_iters}
    stopped = set(best) - set(at_top)
    front = {n for n, e in at_top.items()
             if not any(o is not e and dominates(o.values, e.values, directions) for o in at_top.values())}
    refs_at_top = {}
    for n in sorted(at_top):
        r = at_top[n].reference
        if r and r not in refs_at_top:
            refs_at_top[r] = at_top[n]
    n = len(objectives)
    noise = _noise(ua)
    margin = noise_at(noise, top_iters)
    basis = "noise" if margin else ""
    sigmas = [s for s in (_sigma(t, best.get(t.number), ua) for t in trials if t.number in at_top) if s]
    if sigmas and CLAIM_Z * math.sqrt(2) * max(sigmas) > margin:
        margin, basis = CLAIM_Z * math.sqrt(2) * max(sigmas), "prediction"

    by_number = {t.number: t for t in trials}
    points = []
    for t in trials:
        a = t.user_attrs
        entry = best.get(t.number)
        scored = t.state == TrialState.COMPLETE and t.values is not None and len(t.values) == n
        values = list(entry.values) if entry is not None else (list(t.values) if scored else [None] * n)
        stored = a.get("costs") if isinstance(a.get("costs"), dict) else {}
        known = dict(zip(names, values))
        if scored or entry is not None:  # measured costs the study does not optimise (stored since the registry)
            for k, v in stored.items():
                known.setdefault(k, v)

        def num(name: str, cast=float):
            v = known.get(name)
            return cast(v) if v is not None else None
        duration = ((t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start else None)
        plot_values = None
        if not scored:
            m = _DUP.search(str(a.get("prune_reason", "")))
            orig = by_number.get(int(m.group(1))) if m else None
            if orig is not None and orig.values is not None and len(orig.values) == n:
                plot_values = tuple(orig.values)
        points.append(TrialPoint(
            number=t.number,
            state=t.state.name,
            status=_status(t, front, stopped),
            reference=a.get("reference") or None,
            psnr_db=values[0],
            params=num("params", int),
            mult_adds=num("mult_adds", int),
            latency_ms=num("latency_ms"),
            iters=entry.iters if entry is not None else a.get("iters"),
            duration_s=round(duration, 2) if duration is not None else None,
            arch_id=a.get("arch_id", ""),
            summary=a.get("summary", ""),
            config=a.get("config"),
            on_front=t.number in front,
            dominates=(tuple(name for name, r in refs_at_top.items()
                             if r.number != t.number
                             and dominates_with_margin(entry.values, r.values, margin, directions))
                       if t.number in at_top else ()),
            reason=_reason(t),
            export_command=(export_command(out_dir, t.number, storage=use_storage,
                                           study=study.study_name if use_storage else None)
                            if scored and "config" in a else None),
            completed_at=_iso(t.datetime_complete),
            plot_values=plot_values,
            rung=entry.rung if entry is not None else (0 if scored else None),
            psnr_by_iters=history.get(t.number, {}),
            costs=a.get("costs") if not scored and isinstance(a.get("costs"), dict) else None,
            train_params=int(a["train_params"]) if isinstance(a.get("train_params"), int) else None,
            psnr_proxy_db=(entry.raw_psnr_db if entry is not None and entry.raw_psnr_db is not None else values[0]),
            psnr_sigma_db=_sigma(t, entry, ua),
            latency_others_cpu=_others_cpu(a.get("latency_load")),
            domain_leverage=(float(a["domain"]["leverage"]) if isinstance(a.get("domain"), dict)
                             and isinstance(a["domain"].get("leverage"), (int, float)) else None),
            objective_names=names,
            extra={k: float(v) for k, v in known.items()
                   if k not in DEFAULT_OBJECTIVE_NAMES and isinstance(v, (int, float))},
        ))

    points = _with_confirmations(points, ua)
    if isinstance(ua.get("ntire_year"), int):
        points = _with_ntire_scores(points, ua["ntire_year"])
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    # successive halving: promotions (rung >= 1) run between and after the trials
    promotions = [v for k, v in ua.items() if k.startswith("rung:") and isinstance(v, dict)]
    ends += [e.at for r, entries in table.items() if r > 0 for e in entries.values() if e.at is not None]
    promotion_s = sum(float(v.get("train_s") or 0.0) + float(v.get("val_s") or 0.0) for v in promotions)
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name] = states.get(t.state.name, 0) + 1
    budget = ua.get("budget")
    if isinstance(budget, list):  # one entry per (resumed) run: the latest one counts
        budget = budget[-1] if budget else None
    scale = ua.get("scale")
    facts = RunFacts(
        study_name=study.study_name,
        storage=url,
        out_dir=str(out_dir) if out_dir is not None else None,
        space_name=ua.get("space_name"),
        space_path=_relative(ua.get("space_path")),
        space_digest=ua.get("space_digest"),
        scale=scale,
        data_source=ua.get("data_source"),
        profile=dict(ua.get("profile") or {}),
        sampler=ua.get("sampler"),
        seed=ua.get("seed"),
        budget=budget if isinstance(budget, int) else None,
        states=states,
        fidelities=tuple(sorted({p.iters for p in points if p.state == "COMPLETE" and p.iters is not None})),
        started=_iso(min(starts)) if starts else None,
        finished=_iso(max(ends)) if ends else None,
        wall_s=round((max(ends) - min(starts)).total_seconds(), 1) if starts and ends else None,
        compute_s=round(sum(p.duration_s or 0.0 for p in points), 1),
        promotion_s=round(promotion_s, 1) if promotions else None,
        latency=dict(ua.get("latency") or {}),
        machine=ua.get("machine"),
        cpu_count=ua.get("cpu_count"),
        versions=dict(ua.get("versions") or {}),
        psnr_noise_db=noise,
        claim_margin_db=margin,
        claim_basis=basis,
        confirm_profile=dict(ua.get("confirm_profile") or {}),
        psnr_basis=_psnr_basis(trials, ua),
        ntire_year=ua.get("ntire_year") if isinstance(ua.get("ntire_year"), int) else None,
        bicubic_psnr_db=_bicubic_floor(ua, scale),
    )
    hv_ref = HV_REFERENCES.get(scale) if isinstance(scale, int) else None
    hv = tuple(_hypervolume_history(trials, table, top_iters, scale, objectives)) if with_hypervolume and hv_ref else ()
    return ReportData(facts=facts, objectives=objectives, points=tuple(points),
                      hv_reference=hv_ref, hypervolume=hv)


def _bicubic_floor(ua: dict[str, Any], scale: Any) -> float | None:
    """The study's stored bicubic PSNR (dB), or, for a study on the built-in photographs made
    before it was stored, the same number recomputed from those photographs (they ship with
    scikit-image); ``None`` for other data or when it cannot be computed."""
    stored = ua.get("bicubic_psnr_db")
    if isinstance(stored, (int, float)) and not isinstance(stored, bool):
        return float(stored)
    prof = ua.get("profile")
    if not (isinstance(scale, int) and isinstance(prof, dict) and str(ua.get("data_source", "")).startswith("builtin")
            and " | val " in str(ua.get("data_source"))):
        return None
    import dataclasses

    from nas.proxy.data import load_proxy_data
    from nas.proxy.profiles import ProxyProfile
    from nas.proxy.train import bicubic_psnr

    names = {f.name for f in dataclasses.fields(ProxyProfile)}
    try:
        profile = ProxyProfile(**{k: v for k, v in prof.items() if k in names})
        data = load_proxy_data(scale, profile)
        if data.source != ua.get("data_source"):  # another split of the photographs than the study's
            return None
        return round(bicubic_psnr(data, getattr(profile, "metric", "y")), 3)
    except Exception:  # an old or unexpected profile record: no floor rather than a wrong one
        return None


def _psnr_basis(trials: list[FrozenTrial], ua: dict[str, Any] | None = None) -> str:
    """What the PSNR objective is, read from the trials' stored predictions and the profile."""
    for t in trials:
        pred = t.user_attrs.get("prediction")
        if isinstance(pred, dict) and pred.get("horizon"):
            cal = (ua or {}).get("calibration")
            stats = ""
            if isinstance(cal, dict) and cal.get("spearman") is not None:
                ci = cal.get("spearman_ci") or [float("nan")] * 2
                stats = (f"; it ranks its {cal.get('n', '?')} published networks at Spearman {cal['spearman']:.2f} "
                         f"[95 % {ci[0]:.2f}, {ci[1]:.2f}] out of family, mean absolute error "
                         f"{cal.get('mae_db', float('nan')):.2f} dB")
            return (f"predicted {pred['horizon']} (predictor {pred.get('method')!r}{stats}; raw proxy PSNR in "
                    "psnr_proxy_db)")
    prof = (ua or {}).get("profile")
    metric = prof.get("metric", "y") if isinstance(prof, dict) else "y"
    return ("validation RGB-PSNR (the NTIRE ESR convention) of the proxy at the top rung" if metric == "rgb"
            else "validation PSNR-Y of the proxy at the top rung")


def _with_ntire_scores(points: list[TrialPoint], year: int) -> list[TrialPoint]:
    """Add ``ntire_score`` (the challenge's Score_Final of ``year``, lower is better) to every
    scored point, against the year's baseline *as measured in this study* (its runtime on this
    machine, its NTIRE FLOPs and params); unchanged when the baseline did not complete or a
    quantity was not measured (``ntire_flops`` is an objective of the ``ntire-esr`` preset)."""
    from dataclasses import replace

    from nas.scoring.ntire import ntire_baseline, ntire_score

    base_def = ntire_baseline(year)
    base = next((p for p in points if p.reference == base_def.reference and p.state == "COMPLETE"), None)
    keys = ("latency_ms", "ntire_flops", "params")
    if base is None or any(base.metric(k) is None for k in keys):
        return points
    out = []
    for p in points:
        vals = [p.metric(k) for k in keys]
        if p.psnr_db is None or any(v is None for v in vals):
            out.append(p)
            continue
        score = ntire_score(*vals, *(base.metric(k) for k in keys), base_def.weights)["score_final"]
        out.append(replace(p, extra={**p.extra, "ntire_score": round(score, 4)}))
    return out


def _sigma(t: FrozenTrial, entry: RungEntry | None, ua: dict[str, Any]) -> float | None:
    """The predicted PSNR's uncertainty (dB) at the rung ``entry`` is from, else ``None``."""
    if entry is None:
        return None
    pred = (t.user_attrs.get("prediction") if entry.rung == 0
            else (ua.get(f"rung:{t.number}:{entry.rung}") or {}).get("prediction"))
    return float(pred["sigma_db"]) if isinstance(pred, dict) and "sigma_db" in pred else None


def _with_confirmations(points: list[TrialPoint], ua: dict[str, Any]) -> list[TrialPoint]:
    """Attach ``nas confirm`` scores (``confirm:<n>:0`` attributes) and decide each claim: a
    candidate's claim against a reference is confirmed when both were retrained and the
    candidate's PSNR is more than the confirmation protocol's noise above the reference's."""
    from dataclasses import replace

    from nas.proxy.profiles import psnr_noise_db

    scores = {}
    for key, v in ua.items():
        if key.startswith("confirm:") and isinstance(v, dict) and "psnr_db" in v:
            try:
                scores[int(key.split(":")[1])] = (float(v["psnr_db"]), v.get("iters"))
            except (ValueError, IndexError):
                continue
    if not scores:
        return points
    prof = ua.get("confirm_profile")
    noise = psnr_noise_db(prof) if isinstance(prof, dict) else {}
    ref_scores = {p.reference: scores[p.number][0] for p in points if p.reference and p.number in scores}
    out = []
    for p in points:
        mine = scores.get(p.number)
        if mine is None:
            out.append(p)
            continue
        margin = noise_at(noise, int(mine[1]) if mine[1] is not None else None)
        confirmed = tuple(r for r in p.dominates if r in ref_scores and mine[0] - ref_scores[r] > margin)
        out.append(replace(p, psnr_confirm_db=mine[0], confirmed=confirmed))
    return out


def _noise(ua: dict[str, Any]) -> dict[int, float]:
    """The study's seed-to-seed PSNR noise ``{steps: dB}``: stored at creation, else (a study
    made before it was stored) the measured noise of its protocol, else ``{}``."""
    from nas.proxy.profiles import psnr_noise_db

    stored = ua.get("psnr_noise_db")
    if isinstance(stored, dict) and stored:
        return {int(k): float(v) for k, v in stored.items()}
    return psnr_noise_db(ua.get("profile")) if isinstance(ua.get("profile"), dict) else {}


def _hypervolume_history(trials: list[FrozenTrial], table: dict[int, dict[int, RungEntry]],
                         top_iters: int | None, scale: int, objectives) -> list[HypervolumePoint]:
    """Hypervolume after each COMPLETE trial (fixed proxy), or, with successive halving, after
    each score at the top fidelity (in the order they were obtained): the front only ever
    holds candidates compared at one fidelity."""
    top_rung = max((r for r, entries in table.items() if entries and top_iters is not None
                    and any(e.iters == top_iters for e in entries.values())), default=0)
    if top_rung == 0:
        return hypervolume_history(trials, scale, objectives)
    by_number = {t.number: t for t in trials}
    pseudo = []
    for e in table[top_rung].values():
        t = by_number[e.number]
        pseudo.append(FrozenTrial(
            number=e.number, state=TrialState.COMPLETE, value=None, values=list(e.values),
            datetime_start=t.datetime_start, datetime_complete=e.at or t.datetime_complete, params={},
            distributions={}, user_attrs={}, system_attrs={}, intermediate_values={}, trial_id=t._trial_id))
    return hypervolume_history(pseudo, scale, objectives)


def _relative(path: str | None) -> str | None:
    """A stored absolute path shown relative to the working directory when inside it; a path
    into another checkout's ``search_spaces/`` (a committed study opened elsewhere) is shown as
    ``search_spaces/<file>`` when that file exists here."""
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        pass
    parts = Path(path).parts
    if "search_spaces" in parts[:-1]:
        tail = Path(*parts[parts.index("search_spaces"):])
        if tail.is_file():
            return tail.as_posix()
    return path
