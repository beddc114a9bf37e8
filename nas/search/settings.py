"""What `nas search` takes and returns, and the checks that need neither torch nor a file write.

``SearchSettings`` maps the CLI flags one to one; :func:`check_settings` refuses a bad value in
one line naming the flag before anything is loaded or written. No torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from nas.arch import SEARCH_REFERENCES
from nas.errors import NasError
from nas.search.study import DEFAULT_HEARTBEAT_S, SAMPLERS

__all__ = ["SearchSettings", "SearchOutcome", "DEFAULT_RUNS_DIR", "default_study_name", "default_references",
           "check_settings", "apply_preset", "PRESETS", "AUTO_CALIBRATE_SHARE", "calibration_file",
           "calibrate_command"]


@dataclass
class SearchSettings:
    """Everything ``nas search`` takes (CLI flags map one to one).

    Attributes:
        space: search-space file (``None`` = ``search_spaces/lightweight_sr.yaml``).
        budget: COMPLETE trials the study should hold when done (references included).
        scale: upscaling factor.
        data / val_data: dataset folders (``None`` = built-in photographs).
        profile / iters: proxy profile name and optional iteration override; ``default`` is
            resolved per study (``nas.proxy.predict.resolve_profile``: ``zoo-predicted``
            where a calibration fits the scale and protocol, else a refusal naming the ``nas
            calibrate`` command, or with ``calibrate="auto"`` that calibration first; a resumed study
            keeps the one it was created with).
        sampler / seed: Optuna sampler and its seed.
        device: ``auto`` | ``cpu`` | ``cuda``.
        study: study name (default ``<space>_x<scale>``).
        storage: Optuna storage URL (default SQLite file ``<out>/study.db``).
        out: output folder (default ``runs/<study>``).
        references: published configs enqueued first (``()`` = none; ``None`` = those of
            :func:`default_references` at this scale).
        threads: torch threads of the proxy training, part of the protocol (``None`` = the
            profile's, 1); latency is timed on every usable core (stored with the study).
        worker_id: index of this worker among several on one study; seeds the sampler differently.
        heartbeat: seconds between two heartbeats of the running trial; a trial without one for
            3x as long is stale (its worker died): FAILED and its configuration re-queued.
        max_params / max_mult_adds / max_latency_ms: cost limits (count, MACs, ms). A candidate
            over a limit is rejected after its costs are measured and before any training: the
            trial is PRUNED with Optuna constraints set (``(value - limit) / limit`` per limit),
            so constraint-aware samplers (TPE, the default) learn to avoid the region. The
            published references are evaluated regardless (they are the reference points).
            A sampled point that cannot be built at its width (e.g. CCA reduction 16 on fewer
            than 16 channels) is rejected the same way (constraint ``unbuildable`` = 1, PRUNED
            with reason ``"unbuildable: <field>: <problem>"``), not FAILED.
        checkpoint_dir: where successive halving keeps each candidate's weights between rungs
            (default ``<out>/checkpoints``; workers on several machines need a shared folder,
            else a promotion re-trains the lower rungs from scratch: same result, more time).
        outputs: write ``trials.csv``, ``pareto.*`` and the report (False for the extra
            processes of ``nas search --jobs``: the first one writes them).
        outputs_every_s: rewrite the outputs at most this often during the search (s); always
            at the end and on an interruption.
        metric: validation PSNR of the proxy, ``y`` or ``rgb`` (``None``: the profile's, ``y``);
            part of the protocol.
        min_psnr: reject candidates whose PSNR objective (the predicted fully-trained PSNR when
            the profile has a calibrated predictor, else the proxy's) is below this (dB), through
            an Optuna constraint ``min_psnr`` = ``(min_psnr - psnr) / min_psnr`` (the
            references are exempt). ``None``: no threshold.
        preset: ``ntire-esr`` (:data:`PRESETS`) fills the settings left unset.
        ntire_year: the NTIRE ESR ranking (baseline, weights) of the report's ``ntire_score``
            column (``None``: no column; the ``ntire-esr`` preset sets the latest, 2026).
        calibration: a calibration file (``nas calibrate --out``) searched before the shipped ones
            for the study's scale and protocol (``None``: ``<out>/calibration.json`` when it exists).
        calibrate: ``never`` or ``auto``: where ``--profile default`` finds no calibration, or the
            one it finds was fitted on other data than the study's, ``auto`` runs ``nas
            calibrate`` for the protocol and data first (into ``<out>/calibration.json``) when it
            trains at most :data:`AUTO_CALIBRATE_SHARE` of ``budget`` networks; ``never`` refuses
            where none fits, with the command that makes one (a new study only: a resumed one
            keeps its calibration).
        jobs: processes on this machine (``--jobs``; the calibration of ``--calibrate auto`` uses them).
        objectives: the study's objectives (comma-separated names of
            :data:`nas.scoring.objectives.OBJECTIVE_REGISTRY`, ``psnr_db`` first); ``None``: the
            stored ones when resuming, else ``psnr_db,params,mult_adds,latency_ms``.
    """

    space: str | None = None
    budget: int = 200
    scale: int = 4
    data: str | None = None
    val_data: str | None = None
    profile: str = "default"
    iters: int | None = None
    sampler: str = "tpe"
    seed: int = 0
    device: str = "auto"
    study: str | None = None
    storage: str | None = None
    out: str | None = None
    references: tuple[str, ...] | None = None
    threads: int | None = None
    worker_id: int = 0
    heartbeat: int = DEFAULT_HEARTBEAT_S
    max_params: int | None = None
    max_mult_adds: float | None = None
    max_latency_ms: float | None = None
    checkpoint_dir: str | None = None
    outputs: bool = True
    outputs_every_s: float = 30.0
    objectives: str | None = None
    metric: str | None = None
    min_psnr: float | None = None
    preset: str | None = None
    ntire_year: int | None = None
    calibration: str | None = None
    calibrate: str = "never"
    jobs: int = 1

    def limits(self) -> dict[str, float]:
        """The cost limits given, by objective name (``params``, ``mult_adds``, ``latency_ms``)."""
        out = {"params": self.max_params, "mult_adds": self.max_mult_adds, "latency_ms": self.max_latency_ms}
        return {k: float(v) for k, v in out.items() if v is not None}


@dataclass
class SearchOutcome:
    """What a finished ``run_search`` reports (counts are study-wide, all workers)."""

    study_name: str
    out_dir: Path
    storage: str
    complete: int
    failed: int
    wall_s: float
    files: dict[str, Path] = field(default_factory=dict)


def default_study_name(space_name: str, scale: int) -> str:
    """Study name used when ``--study`` is not given: ``<space name>_x<scale>``, e.g. ``lightweight_sr_x4``."""
    return f"{space_name}_x{scale}"


DEFAULT_RUNS_DIR = "runs"
"""Where ``nas search`` writes without ``--out``: ``runs/<study>`` (``results/`` holds the
committed reference runs, which a search must not change unless asked to)."""


def default_references(scale: int) -> tuple[str, ...]:
    """The published networks a search enqueues when ``--references`` is not given: IMDN, RFDN,
    RFDN-L and E-RFDN, those that exist at ``scale`` (all four at x2, x3 and x4; none at x8)."""
    from nas.arch import REFERENCES

    return tuple(n for n in SEARCH_REFERENCES if scale in REFERENCES[n].scales)


#: ``nas search --preset NAME``: settings filled in when left unset. ``ntire-esr``: the NTIRE
#: efficient-SR challenges (Amazingren/NTIRE2024_ESR .. NTIRE2026_ESR): x4, the 2022-2026 space,
#: RGB PSNR, the challenge's "FLOPs" (MACs at a 256x256 LR input) beside params and runtime, the
#: baselines RLFN (2024), EFDN (2025) and SPAN (2026) as references, the 2026 score in the report.
#: Its PSNR threshold (26.90 dB RGB on DIV2K_LSDIR_valid after full training) is not set: the
#: proxy's PSNR is an early-training number on other images (pass ``--min-psnr`` to apply one).
PRESETS: dict[str, dict] = {
    "ntire-esr": {
        "space": "ntire_esr.yaml", "scale": 4, "metric": "rgb",
        "references": ("rlfn_ntire", "efdn", "span_ntire"),
        "objectives": "psnr_db,params,ntire_flops,latency_ms", "ntire_year": 2026,
    },
}


def apply_preset(s: SearchSettings) -> SearchSettings:
    """``s`` with its preset's settings filled in where ``s`` leaves them unset (``None``); the
    preset's scale is required. ``s`` itself without a preset.

    Raises:
        NasError: an unknown preset, or a scale the preset does not allow.
    """
    import dataclasses

    if s.preset is None:
        return s
    if s.preset not in PRESETS:
        raise NasError(f"--preset: unknown preset {s.preset!r} (known: {', '.join(PRESETS)})")
    p = PRESETS[s.preset]
    if s.scale != p["scale"]:
        raise NasError(f"--preset {s.preset} is x{p['scale']} (the challenge's scale), got --scale {s.scale}")
    from nas.space import DEFAULT_SPACE

    fill = {
        "space": s.space or str(DEFAULT_SPACE.parent / p["space"]),
        "references": s.references if s.references is not None else p["references"],
        "objectives": s.objectives or p["objectives"],
        "metric": s.metric or p["metric"],
        "ntire_year": s.ntire_year or p["ntire_year"],
    }
    return dataclasses.replace(s, **fill)


def check_settings(s: SearchSettings) -> None:
    """The checks that need neither torch nor any file: budget, heartbeat, worker id, cost
    limits, sampler.

    Raises:
        NasError: one line naming the flag and the value.
    """
    if s.budget < 1:
        raise NasError(f"--budget must be at least 1, got {s.budget}")
    if s.heartbeat < 1:
        raise NasError(f"--heartbeat must be at least 1 second, got {s.heartbeat}")
    if s.worker_id < 0:
        raise NasError(f"--worker-id must be >= 0, got {s.worker_id}")
    for flag, value in (("--max-params", s.max_params), ("--max-mult-adds", s.max_mult_adds),
                        ("--max-latency-ms", s.max_latency_ms)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise NasError(f"{flag} must be a positive finite number, got {value}")
    if s.sampler not in SAMPLERS:
        raise NasError(f"--sampler: unknown sampler {s.sampler!r} (known: {', '.join(SAMPLERS)})")
    if s.objectives is not None:
        from nas.scoring.objectives import resolve_objectives

        resolve_objectives(s.objectives)
    if s.preset is not None and s.preset not in PRESETS:
        raise NasError(f"--preset: unknown preset {s.preset!r} (known: {', '.join(PRESETS)})")
    if s.metric is not None and s.metric not in ("y", "rgb"):
        raise NasError(f"--metric must be y or rgb, got {s.metric!r}")
    if s.min_psnr is not None and not (0 < s.min_psnr < 100 and math.isfinite(s.min_psnr)):
        raise NasError(f"--min-psnr must be a PSNR in dB (0-100), got {s.min_psnr}")
    if s.calibrate not in ("never", "auto"):
        raise NasError(f"--calibrate must be never or auto, got {s.calibrate!r}")
    if s.ntire_year is not None:
        from nas.scoring.ntire import ntire_baseline

        ntire_baseline(s.ntire_year)


#: ``--calibrate auto`` calibrates first only when the published networks it trains number at most
#: this share of ``--budget`` (each costs about one trial of the search: x4, 26 networks, 13 % of 200).
AUTO_CALIBRATE_SHARE = 0.25


def calibration_file(s: SearchSettings, out_dir: Path) -> Path | None:
    """The user calibration file a search at ``out_dir`` looks in: ``--calibration``, else
    ``<out_dir>/calibration.json`` when it exists (where ``--calibrate auto`` writes)."""
    if s.calibration:
        return Path(s.calibration)
    auto = Path(out_dir) / "calibration.json"
    return auto if auto.is_file() else None


def calibrate_command(s: SearchSettings, out: str | Path) -> str:
    """The ``nas calibrate`` command line that makes the calibration a search with ``s`` lacks
    (its scale, metric, steps and data), writing ``out``."""
    parts = ["nas calibrate", f"--scale {s.scale}"]
    if s.profile not in ("default", "zoo-predicted"):
        parts.append(f"--profile {s.profile}")
    if s.metric:
        parts.append(f"--metric {s.metric}")
    if s.iters:
        parts.append(f"--iters {s.iters}")
    if s.data:
        parts.append(f"--data {s.data}")
    if s.val_data:
        parts.append(f"--val-data {s.val_data}")
    return " ".join(parts + [f"--out {out}"])


def _fmt_limit(name: str, value: float) -> str:
    if name == "params":
        return f"{int(value):,} params"
    if name == "mult_adds":
        return f"{value / 1e9:.3g} G MACs"
    return f"{value:g} ms"
