"""The objectives a study can optimise: one registry that the search, the front, the hypervolume,
the report, the CLI and ``nas show`` read (archai ``SearchObjectives`` / timm ``register_model``
style; no torch).

A study runs with an ordered tuple of objectives (``nas search --objectives``, default
:data:`DEFAULT_OBJECTIVE_NAMES`), stored on the study (user attribute ``objectives``); the order
is the order of Optuna's ``directions`` and of ``trial.values``. The quality objective
``psnr_db`` always comes first: the successive-halving rungs replace it as a candidate trains on,
and the dominance margin is in its dB. A study made before the registry (no ``objectives``
attribute) ran with the default four.

Adding an objective is one :func:`register_objective` call here: its name, direction, unit,
display, hypervolume bounds and ``measure`` (``"module:function"`` that measures it on the
deploy form, see :mod:`nas.scoring.measures`). ``params``, ``mult_adds`` and ``latency_ms`` are
measured for every candidate whatever the study optimises (the ``--max-*`` limits and the
PSNR predictor use them); any other registered objective only when the study runs with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from nas.errors import NasError

__all__ = ["Objective", "OBJECTIVE_REGISTRY", "register_objective", "get_objective", "resolve_objectives",
           "objectives_of", "DEFAULT_OBJECTIVE_NAMES", "OBJECTIVES", "OBJECTIVE_NAMES", "DIRECTIONS",
           "STANDARD_COSTS", "trial_metric", "is_feasible"]


@dataclass(frozen=True)
class Objective:
    """One scored quantity.

    Attributes:
        name: metric name set on the study (``study.set_metric_names``), the CSV column and the
            key in a trial's ``costs`` attribute.
        direction: ``maximize`` or ``minimize``.
        unit: unit of the stored value (``dB``, ``parameters``, ``MACs``, ``ms``, ``MiB``).
        cheap: known before training (can reject a candidate before any compute).
        label: axis label (with the display unit).
        description: how it is measured (one sentence, shown by ``nas search --objectives help``).
        display_factor: multiplies the stored value for tables and plots (1e-9: MACs shown in G).
        display_format: format spec of the displayed value (``",.0f"``, ``".2f"``).
        log_axis: plotted and normalised for the hypervolume on a log scale (a saving is a ratio).
        hv_ideal / hv_reference: hypervolume bounds (loss 0 / loss 1) in stored units, for
            scale x4; ``None`` for ``psnr_db`` and the three standard costs, whose bounds live in
            :class:`nas.front.hypervolume.HypervolumeReference` (unchanged since the first study).
        hv_per_lr_pixel: the bounds scale with the LR input's pixel count, ``(4 / s)^2`` at scale s
            (a count of operations on a fixed HR output).
        measure: ``"module:function"`` measuring it on a candidate (signature in
            :mod:`nas.scoring.measures`), or ``None`` for the ones every trial measures anyway
            (``psnr_db`` by the proxy; ``params`` / ``mult_adds`` / ``latency_ms`` by
            :func:`nas.scoring.evaluate.measure_costs`).
        timing: a wall-clock measurement: taken inside the machine-wide quiet gate
            (:mod:`nas.metrics.quiet`) like ``latency_ms``.
        aliases: other names accepted on the command line (``latency`` for ``latency_ms``).
        brief: one-value template for log lines, formatted with ``v`` (stored value) and ``d``
            (displayed value): ``"{v:,.0f} params"``.
    """

    name: str
    direction: str
    unit: str
    cheap: bool
    label: str
    description: str = ""
    display_factor: float = 1.0
    display_format: str = ".3g"
    log_axis: bool = False
    hv_ideal: float | None = None
    hv_reference: float | None = None
    hv_per_lr_pixel: bool = False
    measure: str | None = None
    timing: bool = False
    aliases: tuple[str, ...] = ()
    brief: str = ""

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise NasError(f"objective {self.name!r}: direction must be maximize or minimize, got {self.direction!r}")
        if (self.hv_ideal is None) != (self.hv_reference is None):
            raise NasError(f"objective {self.name!r}: give both hv_ideal and hv_reference, or neither")

    def show(self, value: float | None) -> str:
        """``value`` in display units, formatted (``""`` for ``None``)."""
        if value is None:
            return ""
        return format(value * self.display_factor, self.display_format)

    def says(self, value: float | None) -> str:
        """``value`` for a log line with its unit (``"715,176 params"``, ``"40.89 G Mult-Adds"``)."""
        if value is None:
            return f"{self.name} -"
        if self.brief:
            return self.brief.format(v=value, d=value * self.display_factor)
        return f"{self.show(value)} {self.name}"


#: Every objective a study can run with, by name (insertion order = the order of ``nas search
#: --objectives help``).
OBJECTIVE_REGISTRY: dict[str, Objective] = {}


def register_objective(obj: Objective) -> Objective:
    """Add ``obj`` to :data:`OBJECTIVE_REGISTRY` (and its aliases to the name lookup).

    Raises:
        NasError: the name or an alias is taken.
    """
    taken = {o.name for o in OBJECTIVE_REGISTRY.values()} | {a for o in OBJECTIVE_REGISTRY.values() for a in o.aliases}
    for n in (obj.name, *obj.aliases):
        if n in taken:
            raise NasError(f"objective name {n!r} is already registered")
    OBJECTIVE_REGISTRY[obj.name] = obj
    return obj


def get_objective(name: str) -> Objective:
    """The registered objective called ``name`` (or with that alias).

    Raises:
        NasError: no such objective (the message lists the known ones).
    """
    key = name.strip()
    if key in OBJECTIVE_REGISTRY:
        return OBJECTIVE_REGISTRY[key]
    for o in OBJECTIVE_REGISTRY.values():
        if key in o.aliases:
            return o
    known = ", ".join(f"{o.name}" + (f" ({'/'.join(o.aliases)})" if o.aliases else "") for o in OBJECTIVE_REGISTRY.values())
    raise NasError(f"--objectives: unknown objective {key!r} (known: {known})")


def resolve_objectives(names: str | Sequence[str] | None) -> tuple[Objective, ...]:
    """The objectives of a study from ``--objectives`` (comma-separated names or aliases) or a
    stored list; ``None`` or empty: the default four.

    Raises:
        NasError: an unknown name, a duplicate, ``psnr_db`` missing or not first, or fewer than
            two objectives (one line naming the problem).
    """
    if names is None:
        return OBJECTIVES
    items = [n for n in (names.split(",") if isinstance(names, str) else names) if str(n).strip()]
    if not items:
        return OBJECTIVES
    objs = tuple(get_objective(str(n)) for n in items)
    seen: set[str] = set()
    for o in objs:
        if o.name in seen:
            raise NasError(f"--objectives: {o.name!r} is named twice")
        seen.add(o.name)
    if objs[0].name != "psnr_db":
        raise NasError("--objectives: the first objective must be psnr_db (psnr): the rungs and the "
                       f"dominance margin are in its dB; got {', '.join(o.name for o in objs)}")
    if len(objs) < 2:
        raise NasError("--objectives: name at least one cost beside psnr_db (e.g. psnr,params)")
    return objs


def objectives_of(study_attrs: dict) -> tuple[Objective, ...]:
    """The objectives a study was created with, from its user attributes (``objectives``); the
    default four for a study made before they were stored.

    Raises:
        NasError: the study names an objective this version does not know.
    """
    stored = study_attrs.get("objectives") if isinstance(study_attrs, dict) else None
    return resolve_objectives(stored if isinstance(stored, list) and stored else None)


_PSNR = register_objective(Objective(
    "psnr_db", "maximize", "dB", False, "PSNR-Y (dB), proxy",
    description="validation PSNR on the Y channel (BT.601) of the proxy, or its predicted fully-trained value "
                "when the profile has a predictor",
    display_format=".2f", aliases=("psnr",), brief="{v:.3f} dB"))
_PARAMS = register_objective(Objective(
    "params", "minimize", "parameters", True, "parameters (M)",
    description="exact parameter count of the deploy form (re-parameterisable blocks merged)",
    display_factor=1e-6, display_format=".3f", log_axis=True, brief="{v:,.0f} params"))
_MULT_ADDS = register_objective(Objective(
    "mult_adds", "minimize", "MACs", True, "Mult-Adds (G MACs, 1280x720 HR)",
    description="multiply-accumulates of one forward pass producing a 1280x720 HR image (the papers' "
                "Mult-Adds; fvcore-equal count on the meta device), deploy form",
    display_factor=1e-9, display_format=".2f", log_axis=True, aliases=("macs",), brief="{d:.2f} G Mult-Adds"))
_LATENCY = register_objective(Objective(
    "latency_ms", "minimize", "ms", False, "latency (ms)",
    description="median PyTorch eager forward latency of the deploy form on the study's latency setting "
                "(64x64 LR, channels_last, every usable core), inside the quiet gate",
    display_format=".1f", log_axis=True, timing=True, aliases=("latency",), brief="{v:.1f} ms"))

register_objective(Objective(
    "ntire_flops", "minimize", "MACs", True, "NTIRE FLOPs (G MACs, 256x256 LR)",
    description="the NTIRE ESR challenges' FLOPs: fvcore-equal MACs of one forward pass on a 1x3x256x256 LR "
                "input, deploy form",
    display_factor=1e-9, display_format=".2f", log_axis=True, hv_ideal=1e7, hv_reference=2e10,
    hv_per_lr_pixel=False, measure="nas.scoring.measures:ntire_flops", aliases=("flops",), brief="{d:.2f} G NTIRE FLOPs"))
register_objective(Objective(
    "peak_memory_mib", "minimize", "MiB", True, "peak activation memory (MiB, 1280x720 HR)",
    description="peak memory of the live activations (input included, weights excluded) during one "
                "inference forward pass producing a 1280x720 HR image, counted on the meta device",
    display_format=".1f", log_axis=True, hv_ideal=1.0, hv_reference=4096.0, hv_per_lr_pixel=True,
    measure="nas.scoring.measures:peak_memory", aliases=("memory",), brief="{v:.0f} MiB peak memory"))

register_objective(Objective(
    "onnx_latency_ms", "minimize", "ms", False, "ONNX Runtime latency (ms)",
    description="median latency of the deploy form exported to ONNX (opset 17) and run by ONNX Runtime's CPU "
                "execution provider on the study's latency input and threads, inside the quiet gate: the runtime "
                "deployers ship (results/benchmarks/onnx_latency.md compares it with torch eager)",
    display_format=".1f", log_axis=True, hv_ideal=0.1, hv_reference=1000.0, timing=True,
    measure="nas.scoring.measures:onnx_latency", aliases=("onnx_latency", "ort"), brief="{v:.1f} ms ORT"))

DEFAULT_OBJECTIVE_NAMES: tuple[str, ...] = ("psnr_db", "params", "mult_adds", "latency_ms")
#: The default objectives (every study made before ``--objectives`` existed ran with these).
OBJECTIVES: tuple[Objective, ...] = tuple(OBJECTIVE_REGISTRY[n] for n in DEFAULT_OBJECTIVE_NAMES)
OBJECTIVE_NAMES = DEFAULT_OBJECTIVE_NAMES
DIRECTIONS = tuple(o.direction for o in OBJECTIVES)
#: The costs every candidate is measured on, whatever its study optimises.
STANDARD_COSTS: tuple[str, ...] = ("params", "mult_adds", "latency_ms")


def trial_metric(trial, name: str, objectives: Sequence[Objective] = OBJECTIVES) -> float | None:
    """A measured quantity of a ``FrozenTrial`` made by ``nas search``: the objective ``name``'s
    value when the study optimises it (``trial.values`` in ``objectives`` order), else the
    trial's stored ``costs`` attribute (every measured cost since the registry), else ``None``."""
    names = [o.name for o in objectives]
    if trial.values is not None and name in names and len(trial.values) == len(names):
        return float(trial.values[names.index(name)])
    costs = trial.user_attrs.get("costs")
    if isinstance(costs, dict) and costs.get(name) is not None:
        return float(costs[name])
    return None


def is_feasible(trial) -> bool:
    """True when none of the trial's Optuna constraints is violated (each ``<= 0``: a candidate
    over a ``--max-*`` limit or unbuildable at its width has one ``> 0``). ``trial``: a
    ``FrozenTrial`` (its ``constraints`` mapping)."""
    return all(c <= 0.0 for c in trial.constraints.values())
