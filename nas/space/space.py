"""Declarative search spaces over the SR primitives (no torch).

A search-space file (YAML) declares, for every ``ArchConfig`` field, either a fixed value or an
Optuna distribution in the short form of ``optuna.distributions.json_to_distribution``::

    nf: {type: int, low: 16, high: 64, step: 2}
    attention: {type: categorical, choices: [esa, cca, none]}
    lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
    residual: [true, false]            # a bare list is a categorical
    upsampler: pixelshuffle            # a bare scalar is a fixed value
    cca_reduction: {type: categorical, choices: [4, 16], when: {attention: cca}}

``when`` makes a block option conditional on other options of the same block, and a network
field conditional on network fields declared before it (an inactive field keeps the
``ArchConfig`` default: the AWSRN and ECBSR network styles are declared this way). The file has
three top-level sections (``name``, ``description`` optional, ``network``, ``blocks``); see
README.md "Search-space format" and ``search_spaces/lightweight_sr.yaml``.

:meth:`SearchSpace.suggest` turns an Optuna trial into an ``ArchConfig`` through
``trial.suggest_*`` (conditional parameters: per-position block options exist only for the
positions and block types that were sampled); :meth:`SearchSpace.to_params` turns an
``ArchConfig`` back into trial params (so the references can be enqueued) and raises if the
config is not a point of the space. Parameter names: ``nf``, ``num_blocks``, ``b{i}.type``,
``b{i}.{type}.{option}`` (``b.`` without index when ``per_position: false``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial, FixedTrial
from pydantic import ValidationError

from nas.arch.config import BLOCK_MODELS, ArchConfig, format_validation_error
from nas.errors import ArchConfigError, SearchSpaceError
from nas.textfiles import parse_yaml_or_json, read_text

__all__ = ["Leaf", "SearchSpace", "load_space", "DEFAULT_SPACE"]

_BLOCK_MODELS = BLOCK_MODELS
_NETWORK_FIELDS = tuple(
    f for f in ArchConfig.model_fields if f not in ("name", "scale", "blocks")
) + ("num_blocks",)
_LEAF_KEYS = {"type", "low", "high", "step", "log", "choices", "when"}

#: The default search space shipped with the repository.
DEFAULT_SPACE = Path(__file__).resolve().parents[2] / "search_spaces" / "lightweight_sr.yaml"


def _same(a: Any, b: Any) -> bool:
    """Type-aware equality (``True`` is not ``1``; ``0.5`` equals ``0.5``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


@dataclass(frozen=True)
class Leaf:
    """One choice of the space: a fixed value or an Optuna distribution, optionally conditional.

    Attributes:
        fixed: the value when the leaf is not searched (``distribution is None``).
        distribution: an Optuna ``IntDistribution`` / ``FloatDistribution`` /
            ``CategoricalDistribution``.
        when: ``{option: allowed values}``; the leaf exists only if the block's already-chosen
            options match.
    """

    fixed: Any = None
    distribution: BaseDistribution | None = None
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def suggest(self, trial: BaseTrial, name: str) -> Any:
        """The leaf's value for ``trial`` (``trial.suggest_*`` under ``name``)."""
        d = self.distribution
        if d is None:
            return self.fixed
        if isinstance(d, CategoricalDistribution):
            return trial.suggest_categorical(name, d.choices)
        if isinstance(d, IntDistribution):
            return trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
        return trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)

    def values(self) -> tuple[Any, ...] | None:
        """Every value the leaf can take (fixed or categorical), or ``None`` for a numeric range."""
        if self.distribution is None:
            return (self.fixed,)
        if isinstance(self.distribution, CategoricalDistribution):
            return tuple(self.distribution.choices)
        return None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a point of this leaf."""
        d = self.distribution
        if d is None:
            return _same(self.fixed, value)
        if isinstance(d, CategoricalDistribution):
            return any(_same(c, value) for c in d.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not d.low <= value <= d.high:
            return False
        if isinstance(d, IntDistribution):
            return float(value).is_integer() and (int(value) - d.low) % d.step == 0
        return d.step is None or abs(((value - d.low) / d.step) - round((value - d.low) / d.step)) < 1e-9

    def describe(self) -> str:
        d = self.distribution
        if d is None:
            return repr(self.fixed)
        if isinstance(d, CategoricalDistribution):
            return "one of " + ", ".join(map(repr, d.choices))
        step = f" step {d.step}" if d.step not in (None, 1) else ""
        return f"[{d.low}, {d.high}]{step}"

    def active(self, chosen: Mapping[str, Any]) -> bool:
        return all(any(_same(chosen.get(k), v) for v in vals) for k, vals in self.when.items())


@dataclass(frozen=True)
class SearchSpace:
    """A parsed, validated search space.

    Attributes:
        name: the space's name (stored on the study; a study refuses another space).
        path: the file it came from.
        network: leaves for ArchConfig fields other than ``blocks`` and ``scale``, plus ``num_blocks``.
        block_type: the leaf choosing a block's type.
        block_options: per block type, the leaves of its options (in file order).
        per_position: a separate type/option choice at every block position (else one shared).
        digest: SHA-1 of the normalised space, stored on the study to detect a changed space.
    """

    name: str
    path: str
    network: Mapping[str, Leaf]
    block_type: Leaf
    block_options: Mapping[str, Mapping[str, Leaf]]
    per_position: bool
    digest: str
    description: str = ""

    # ------------------------------------------------------------------ trial -> config
    def suggest(self, trial: BaseTrial, scale: int) -> ArchConfig:
        """Sample an ``ArchConfig`` through ``trial.suggest_*``.

        Raises:
            ArchConfigError: the sampled point is not a valid config (names the field).
        """
        net: dict[str, Any] = {}
        for k, leaf in self.network.items():  # a leaf whose `when` does not hold keeps the field's default
            if leaf.active(net):
                net[k] = leaf.suggest(trial, k)
        num_blocks = net.pop("num_blocks")
        blocks = []
        shared: dict[str, Any] | None = None
        for i in range(num_blocks):
            if not self.per_position and shared is not None:
                blocks.append(shared)
                continue
            prefix = f"b{i}." if self.per_position else "b."
            btype = self.block_type.suggest(trial, prefix + "type")
            opts: dict[str, Any] = {"type": btype}
            for opt, leaf in self.block_options.get(btype, {}).items():
                if leaf.active(opts):
                    opts[opt] = leaf.suggest(trial, f"{prefix}{btype}.{opt}")
            blocks.append(opts)
            shared = opts
        data = {**net, "scale": scale, "blocks": blocks}
        try:
            return ArchConfig.model_validate(data)
        except ValidationError as err:
            raise ArchConfigError(format_validation_error(err, f"space {self.name}")) from None

    # ------------------------------------------------------------------ config -> params
    def to_params(self, config: ArchConfig) -> dict[str, Any]:
        """Trial params that make :meth:`suggest` return ``config`` (for ``enqueue_trial``).

        Raises:
            SearchSpaceError: ``config`` is not a point of this space; names the field and the
                allowed values.
        """
        label = config.name or "config"
        where = f"{label} is not a point of search space {self.name!r} ({self.path})"
        params: dict[str, Any] = {}
        cfg = config.to_dict()
        cfg["num_blocks"] = len(config.blocks)
        chosen_net: dict[str, Any] = {}
        for key, leaf in self.network.items():
            if not leaf.active(chosen_net):
                continue  # the field keeps its default here; the rebuild below checks the config has it
            if not leaf.contains(cfg[key]):
                raise SearchSpaceError(f"{where}: {key}={cfg[key]!r}, space allows {leaf.describe()}")
            chosen_net[key] = cfg[key]
            if leaf.distribution is not None:
                params[key] = cfg[key]
        blocks = [b.model_dump(mode="json") for b in config.blocks]
        if not self.per_position and any(b != blocks[0] for b in blocks):
            raise SearchSpaceError(f"{where}: blocks differ, but the space shares one block choice")
        for i, block in enumerate(blocks if self.per_position else blocks[:1]):
            prefix = f"b{i}." if self.per_position else "b."
            btype = block["type"]
            if not self.block_type.contains(btype):
                raise SearchSpaceError(
                    f"{where}: blocks.{i}.type={btype!r}, space allows {self.block_type.describe()}"
                )
            if self.block_type.distribution is not None:
                params[prefix + "type"] = btype
            chosen: dict[str, Any] = {"type": btype}
            for opt, leaf in self.block_options.get(btype, {}).items():
                if not leaf.active(chosen):
                    continue
                if not leaf.contains(block[opt]):
                    raise SearchSpaceError(
                        f"{where}: blocks.{i}.{opt}={block[opt]!r}, space allows {leaf.describe()}"
                    )
                chosen[opt] = block[opt]
                if leaf.distribution is not None:
                    params[f"{prefix}{btype}.{opt}"] = block[opt]
        rebuilt = self.suggest(FixedTrial(params), config.scale)
        if rebuilt.canonical() != config.canonical():
            diff = _first_difference(config.canonical(), rebuilt.canonical())
            raise SearchSpaceError(f"{where}: {diff} is fixed to another value by the space")
        return params

    def contains(self, config: ArchConfig) -> bool:
        try:
            self.to_params(config)
        except SearchSpaceError:
            return False
        return True

    def distributions(self) -> dict[str, BaseDistribution]:
        """Every searched parameter name pattern and its distribution (for docs and reports)."""
        out = {k: v.distribution for k, v in self.network.items() if v.distribution is not None}
        prefix = "b{i}." if self.per_position else "b."
        if self.block_type.distribution is not None:
            out[prefix + "type"] = self.block_type.distribution
        for btype, opts in self.block_options.items():
            for opt, leaf in opts.items():
                if leaf.distribution is not None:
                    out[f"{prefix}{btype}.{opt}"] = leaf.distribution
        return out


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b or a[k] != b[k]:
                return _first_difference(a[k], b.get(k), f"{path}.{k}" if path else k)
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}.{i}")
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})"
    return f"{path}={a!r} (space gives {b!r})"


# ---------------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, msg: str) -> SearchSpaceError:
        return SearchSpaceError(f"{self.path}: {key}: {msg}")

    def leaf(self, key: str, raw: Any, check: Any) -> Leaf:
        """Parse one leaf; ``check(value) -> str | None`` validates a value against the config."""
        when: dict[str, tuple[Any, ...]] = {}
        if isinstance(raw, list):
            raw = {"type": "categorical", "choices": raw}
        if not isinstance(raw, dict):
            problem = check(raw)
            if problem:
                raise self.fail(key, problem)
            return Leaf(fixed=raw)
        unknown = set(raw) - _LEAF_KEYS
        if unknown:
            raise self.fail(key, f"unknown key(s) {sorted(unknown)} (allowed: {sorted(_LEAF_KEYS)})")
        if "when" in raw:
            if not isinstance(raw["when"], dict) or not raw["when"]:
                raise self.fail(f"{key}.when", "expected a mapping {option: value or [values]}")
            when = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in raw["when"].items()}
        kind = raw.get("type")
        if kind == "categorical":
            choices = raw.get("choices")
            if not isinstance(choices, list) or not choices:
                raise self.fail(f"{key}.choices", "expected a non-empty list")
            for c in choices:
                problem = check(c)
                if problem:
                    raise self.fail(f"{key}.choices", f"{c!r}: {problem}")
            if len(choices) == 1:
                return Leaf(fixed=choices[0], when=when)
            return Leaf(distribution=CategoricalDistribution(choices), when=when)
        if kind in ("int", "float"):
            for k in ("low", "high"):
                if k not in raw:
                    raise self.fail(key, f"'{k}' is required for type {kind}")
                if isinstance(raw[k], bool) or not isinstance(raw[k], (int, float)):
                    raise self.fail(f"{key}.{k}", f"expected a number, got {raw[k]!r}")
                if kind == "int" and float(raw[k]) != int(raw[k]):
                    raise self.fail(f"{key}.{k}", f"expected a whole number for type int, got {raw[k]!r}")
            if not isinstance(raw.get("log", False), bool):
                raise self.fail(f"{key}.log", f"expected true or false, got {raw['log']!r}")
            try:
                if kind == "int":
                    dist: BaseDistribution = IntDistribution(
                        int(raw["low"]), int(raw["high"]), log=bool(raw.get("log", False)),
                        step=int(raw.get("step", 1)),
                    )
                else:
                    dist = FloatDistribution(
                        float(raw["low"]), float(raw["high"]), log=bool(raw.get("log", False)),
                        step=raw.get("step"),
                    )
            except (ValueError, TypeError) as err:
                raise self.fail(key, str(err)) from None
            for bound in (dist.low, dist.high):
                problem = check(int(bound) if kind == "int" else bound)
                if problem:
                    raise self.fail(key, f"bound {bound!r}: {problem}")
            if kind == "float" and dist.high > dist.low:  # an int field would get fractional samples
                inner = dist.low + (dist.high - dist.low) / math.pi
                problem = check(inner if dist.step is None else dist.low)
                if problem:
                    raise self.fail(f"{key}.type", f"float samples such as {inner:.3g} are invalid here "
                                    f"({problem}); use type int")
            return Leaf(distribution=dist, when=when)
        raise self.fail(f"{key}.type", f"expected int, float or categorical, got {kind!r}")


def _field_check(model: type, field_name: str, base: dict[str, Any]) -> Any:
    def check(value: Any) -> str | None:
        try:
            model.model_validate({**base, field_name: value})
        except ValidationError as err:
            for e in err.errors():
                if e["loc"] and e["loc"][0] == field_name:
                    return e["msg"]
            return err.errors()[0]["msg"]
        return None

    return check


def _num_blocks_check(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32:
        return "num_blocks must be an integer from 1 to 32"
    return None


def _check_when(p: _Parser, key: str, name: str, leaf: Leaf, earlier: Mapping[str, Leaf]) -> None:
    """A ``when`` may only name a key declared before ``name`` in the same section, with values
    that key can take."""
    for cond, values in leaf.when.items():
        if cond not in earlier:
            raise p.fail(f"{key}.when", f"{cond!r} must be declared before {name!r}")
        possible = earlier[cond].values()
        for v in values:
            if possible is not None and not any(_same(v, c) for c in possible):
                raise p.fail(f"{key}.when.{cond}", f"{v!r} is never a value of {cond} "
                             f"(its values: {', '.join(map(repr, possible))})")


def _in_dependency_order(p: _Parser, network: dict[str, Leaf]) -> dict[str, Leaf]:
    """The network leaves ordered so that every ``when`` names a field decided before it (file
    order otherwise kept; a YAML dumped with sorted keys means the same space).

    Raises:
        SearchSpaceError: a ``when`` names an unknown field or itself, a value that field never
            takes, or the conditions form a cycle.
    """
    for key, leaf in network.items():
        for cond in leaf.when:
            if cond == key or cond not in network:
                raise p.fail(f"network.{key}.when", f"{cond!r} is not another network field of this space")
    ordered: dict[str, Leaf] = {}
    pending = dict(network)
    while pending:
        ready = [k for k, leaf in pending.items() if all(c in ordered for c in leaf.when)]
        if not ready:
            raise p.fail(f"network.{next(iter(pending))}.when", "the when conditions form a cycle")
        for k in ready:
            _check_when(p, f"network.{k}", k, pending[k], ordered)
            ordered[k] = pending.pop(k)
    return ordered


def parse_space(data: Any, path: str) -> SearchSpace:
    """Validate a parsed search-space document.

    Raises:
        SearchSpaceError: ``"<path>: <key.path>: <problem>"`` for the first problem found.
    """
    p = _Parser(path)
    if not isinstance(data, dict):
        raise p.fail("<root>", "expected a mapping with keys name, network, blocks")
    unknown = set(data) - {"name", "description", "network", "blocks"}
    if unknown:
        raise p.fail(sorted(unknown)[0], "unknown top-level key (allowed: name, description, network, blocks)")
    for req in ("name", "network", "blocks"):
        if req not in data:
            raise p.fail(req, "missing")
    if not isinstance(data["name"], str) or not data["name"].strip():
        raise p.fail("name", "expected a non-empty string")
    net_raw = data["network"]
    if not isinstance(net_raw, dict):
        raise p.fail("network", "expected a mapping")
    base_arch = {"scale": 4, "nf": 16, "blocks": [{"type": "rfdb"}]}
    network: dict[str, Leaf] = {}
    for key, raw in net_raw.items():
        if key not in _NETWORK_FIELDS:
            raise p.fail(f"network.{key}", f"unknown key (allowed: {', '.join(_NETWORK_FIELDS)})")
        check = _num_blocks_check if key == "num_blocks" else _field_check(ArchConfig, key, base_arch)
        network[key] = p.leaf(f"network.{key}", raw, check)
    network = _in_dependency_order(p, network)
    for req in ("nf", "num_blocks"):
        if req not in network:
            raise p.fail(f"network.{req}", "missing")

    blocks_raw = data["blocks"]
    if not isinstance(blocks_raw, dict):
        raise p.fail("blocks", "expected a mapping with keys type, options, per_position")
    unknown = set(blocks_raw) - {"type", "options", "per_position"}
    if unknown:
        raise p.fail(f"blocks.{sorted(unknown)[0]}", "unknown key (allowed: type, options, per_position)")
    if "type" not in blocks_raw:
        raise p.fail("blocks.type", "missing")
    per_position = blocks_raw.get("per_position", True)
    if not isinstance(per_position, bool):
        raise p.fail("blocks.per_position", f"expected true or false, got {per_position!r}")

    def type_check(v: Any) -> str | None:
        if v not in _BLOCK_MODELS:
            return f"unknown block type (known: {', '.join(_BLOCK_MODELS)})"
        return None

    block_type = p.leaf("blocks.type", blocks_raw["type"], type_check)
    types = (
        [block_type.fixed] if block_type.distribution is None else list(block_type.distribution.choices)
    )
    opts_raw = blocks_raw.get("options") or {}
    if not isinstance(opts_raw, dict):
        raise p.fail("blocks.options", "expected a mapping {block type: {option: choice}}")
    block_options: dict[str, dict[str, Leaf]] = {}
    for btype, options in opts_raw.items():
        if btype not in _BLOCK_MODELS:
            raise p.fail(f"blocks.options.{btype}", f"unknown block type (known: {', '.join(_BLOCK_MODELS)})")
        if btype not in types:
            raise p.fail(f"blocks.options.{btype}", "options for a block type that blocks.type never chooses")
        if not isinstance(options, dict):
            raise p.fail(f"blocks.options.{btype}", "expected a mapping {option: choice}")
        model = _BLOCK_MODELS[btype]
        parsed: dict[str, Leaf] = {}
        for opt, raw in options.items():
            key = f"blocks.options.{btype}.{opt}"
            if opt == "type" or opt not in model.model_fields:
                known = [f for f in model.model_fields if f != "type"]
                raise p.fail(key, f"unknown option of {btype} (known: {', '.join(known)})")
            leaf = p.leaf(key, raw, _field_check(model, opt, {"type": btype}))
            _check_when(p, key, opt, leaf, parsed)
            parsed[opt] = leaf
        block_options[btype] = parsed
    normal = json.dumps(data, sort_keys=True, default=str)
    return SearchSpace(
        name=data["name"].strip(),
        path=path,
        network=network,
        block_type=block_type,
        block_options=block_options,
        per_position=per_position,
        digest=hashlib.sha1(normal.encode()).hexdigest()[:12],
        description=str(data.get("description", "")),
    )


def load_space(path: str | Path | None = None) -> SearchSpace:
    """Read and validate a search-space YAML file (default: ``search_spaces/lightweight_sr.yaml``).

    Raises:
        SearchSpaceError: missing file, broken YAML (with the line) or an invalid key (named).
    """
    path = Path(path) if path is not None else DEFAULT_SPACE
    text = read_text(path, "search-space file", SearchSpaceError)
    return parse_space(parse_yaml_or_json(text, path, SearchSpaceError, json_suffix=False), str(path))
