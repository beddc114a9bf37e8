"""Predicting a candidate's fully-trained PSNR from its proxy score and its architecture (no torch).

The proxy's PSNR after 20-180 steps measures speed of convergence: on the published x4 networks
it ranks the shallow AWSRN-S above the deeper AWSRN-M and AWSRN, the reverse of the papers
(issue 18). A *calibration* maps what the search knows at a rung (the rung's validation PSNR,
the deploy-form parameter count and Mult-Adds, the 3x3-conv depth) to the published, fully
trained Set5 PSNR of the zoo, by a ridge regression fitted in ``benchmarks/zoo_fidelity.py`` on
the networks of ``nas/arch/references.py`` that have a published PSNR, one model per rung. Its
honest accuracy is the leave-one-family-out score of that benchmark (a family's networks
predicted by a model that never saw the family); ``sigma_db`` is that out-of-family RMS error.

Calibrations are data (``calibrations.json`` beside this file), written by the benchmark with
``--write-calibration``; each names the scale, the proxy protocol and the data it was fitted
for, and :func:`find_calibration` only returns one whose protocol and scale match the study's.

A calibration may carry an *applicability domain* (:class:`Domain`): the region of architecture
space (log10 params, depth, log2 nf) its published networks cover. A linear fit on 13 networks says
nothing about a network unlike all of them: a 200-trial search ranked by ``zoo-skip-x4`` filled its
front with nf 12-18 stacks 50-87 convs deep, a shape no published network has, each credited for
depth it was never shown to use. The search keeps such candidates off the front
(:mod:`nas.search._trial`: Optuna constraint ``domain``, PRUNED before training). The rule is the
standard one for regression models of this size (the Williams plot of QSAR model validation,
OECD principle 3): a point is inside when its leverage ``h = [1, z] (X'X)^-1 [1, z]'`` with
respect to the fitting set (``z`` the standardised descriptors) is at most ``3 (p + 1) / n``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from nas.errors import NasError

__all__ = ["FEATURES", "DOMAIN_FEATURES", "BOX_FEATURES", "Prediction", "Domain", "BoxDomain", "fit_box_domain",
           "Calibration", "load_calibrations",
           "find_calibration", "feature_vector", "fit_domain", "resolve_profile", "NoCalibrationError",
           "archive_calibration", "archived_calibration"]

CALIBRATION_FILE = Path(__file__).with_name("calibrations.json")

#: Features a calibration may use (names in ``Calibration.features``).
FEATURES = ("psnr", "log10_params", "log10_mult_adds", "depth")
#: Descriptors of the applicability domain (:class:`Domain`): the network's shape, no training.
DOMAIN_FEATURES = ("log10_params", "depth", "log2_nf")


@dataclass(frozen=True)
class Prediction:
    """A predicted fully-trained PSNR.

    Attributes:
        psnr_db: predicted PSNR (dB, Y channel) on ``horizon``.
        sigma_db: 1-sigma uncertainty (dB): the predictor's out-of-family RMS error on the zoo.
        horizon: what is predicted (e.g. ``Set5 x4 Y-PSNR after the papers' full training``).
        method: the calibration's name.
        steps: the proxy fidelity (steps) the prediction was made from.
    """

    psnr_db: float
    sigma_db: float
    horizon: str
    method: str
    steps: int

    def to_dict(self) -> dict[str, Any]:
        return {"psnr_db": round(self.psnr_db, 4), "sigma_db": round(self.sigma_db, 4), "horizon": self.horizon,
                "method": self.method, "steps": self.steps}


@dataclass(frozen=True)
class Domain:
    """The architectures a calibration's fitting set covers (its applicability domain).

    Attributes:
        features: descriptor names (:data:`DOMAIN_FEATURES`, values from :func:`feature_vector`).
        mean, scale: the fitting set's per-descriptor mean and standard deviation (standardisation).
        gram_inv: ``(X'X)^-1`` of the standardised fitting set with an intercept column first,
            (p + 1) x (p + 1).
        h_max: the largest leverage inside the domain, ``3 (p + 1) / n`` (Williams plot).
        networks: the fitting set (reference names).
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    gram_inv: tuple[tuple[float, ...], ...]
    h_max: float
    networks: tuple[str, ...] = ()

    def leverage(self, values: Mapping[str, float]) -> float | None:
        """The leverage (dimensionless, >= 1/n) of the point ``values`` (descriptor name -> value);
        ``None`` when a descriptor is missing or not finite."""
        x = [values.get(f) for f in self.features]
        if any(v is None or not math.isfinite(float(v)) for v in x):
            return None
        z = [1.0] + [(float(v) - m) / s for v, m, s in zip(x, self.mean, self.scale)]
        return float(sum(z[i] * self.gram_inv[i][j] * z[j] for i in range(len(z)) for j in range(len(z))))

    def check(self, values: Mapping[str, float]) -> dict[str, Any] | None:
        """``{"leverage", "h_max", "inside"}`` for ``values``, or ``None`` (a descriptor unknown)."""
        h = self.leverage(values)
        if h is None:
            return None
        return {"leverage": h, "h_max": self.h_max, "inside": h <= self.h_max}

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "gram_inv": [list(r) for r in self.gram_inv], "h_max": self.h_max,
                "networks": list(self.networks),
                "rule": "inside when leverage <= 3 (p + 1) / n (Williams plot)"}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Domain":
        return cls(features=tuple(d["features"]), mean=tuple(float(v) for v in d["mean"]),
                   scale=tuple(float(v) for v in d["scale"]),
                   gram_inv=tuple(tuple(float(v) for v in r) for r in d["gram_inv"]),
                   h_max=float(d["h_max"]), networks=tuple(d.get("networks", ())))


def _descriptor_matrix(rows: Sequence[Mapping[str, float]], features: Sequence[str]):
    """(n, p) float array of ``rows``' descriptors.

    Raises:
        ValueError: a descriptor missing from a row, or not finite.
    """
    import numpy as np

    try:
        x = np.array([[float(r[f]) for f in features] for r in rows], float)
    except KeyError as err:
        raise ValueError(f"descriptor {err.args[0]!r} missing from a row") from None
    if not np.isfinite(x).all():
        raise ValueError("a descriptor is not finite (unknown depth or width?)")
    return x


def fit_domain(rows: Sequence[Mapping[str, float]], networks: Sequence[str] = (),
               features: Sequence[str] = DOMAIN_FEATURES) -> Domain:
    """The applicability domain of a fitting set.

    Args:
        rows: one :func:`feature_vector` per network of the fitting set (n >= p + 2).
        networks: their names, for the record.
        features: the descriptors (default :data:`DOMAIN_FEATURES`).

    Returns:
        A :class:`Domain` whose ``h_max`` is ``3 (p + 1) / n``.

    Raises:
        ValueError: fewer than p + 2 networks, a descriptor missing or not finite, or a descriptor
            constant over the set (the domain would be degenerate).
    """
    import numpy as np

    p, n = len(features), len(rows)
    if n < p + 2:
        raise ValueError(f"a domain in {p} descriptors needs at least {p + 2} networks, got {n}")
    x = _descriptor_matrix(rows, features)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    if (scale <= 0).any():
        raise ValueError(f"descriptor(s) {[f for f, s in zip(features, scale) if s <= 0]} constant over the set")
    design = np.c_[np.ones(n), (x - mean) / scale]
    gram_inv = np.linalg.inv(design.T @ design)
    return Domain(features=tuple(features), mean=tuple(float(v) for v in mean), scale=tuple(float(v) for v in scale),
                  gram_inv=tuple(tuple(float(v) for v in r) for r in gram_inv), h_max=3.0 * (p + 1) / n,
                  networks=tuple(networks))


@dataclass(frozen=True)
class BoxDomain:
    """The architectures a calibration's fitting set covers, as a box in (log10 params, depth)
    (issue 31 §3): the fitting set's range of each descriptor, widened on each side by ``margin``
    times that range.

    ``margin`` is derived, not chosen: it is the smallest widening that keeps every published
    network inside the box fitted *without its own family* (:func:`fit_box_domain`), so the box
    admits a new design as far beyond the known ones as the published families lie beyond each
    other, and no further. (The leverage rule of :class:`Domain`, refitted without their own
    family, left 9 of the 13 published x4 networks outside.)

    Attributes:
        features: descriptor names (values from :func:`feature_vector`).
        lo, hi: the box's bounds per descriptor (margin included).
        margin: the widening, in units of each descriptor's fitting range.
        networks: the fitting set (names).
        lofo_margin: the widening leave-one-family-out would need (see :func:`fit_box_domain`),
            recorded when ``margin`` was set otherwise.
    """

    features: tuple[str, ...]
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    margin: float
    networks: tuple[str, ...] = ()
    lofo_margin: float | None = None

    @property
    def h_max(self) -> float:
        """The largest ``leverage`` inside (1.0: ``leverage`` here is 1 + the excess outside the box)."""
        return 1.0

    def leverage(self, values: Mapping[str, float]) -> float | None:
        """1 + how far ``values`` lie outside the box (in units of each descriptor's box width; 1.0
        inside), ``None`` when a descriptor is missing or not finite."""
        x = [values.get(f) for f in self.features]
        if any(v is None or not math.isfinite(float(v)) for v in x):
            return None
        excess = max(max(lo - float(v), float(v) - hi, 0.0) / (hi - lo) for v, lo, hi in zip(x, self.lo, self.hi))
        return 1.0 + excess

    def check(self, values: Mapping[str, float]) -> dict[str, Any] | None:
        """``{"leverage", "h_max", "inside"}`` for ``values`` (as :meth:`Domain.check`), or ``None``."""
        h = self.leverage(values)
        if h is None:
            return None
        return {"leverage": h, "h_max": 1.0, "inside": h <= 1.0}

    def describe(self) -> str:
        """The box in words, for logs."""
        return ", ".join(f"{f} {lo:.3g}..{hi:.3g}" for f, lo, hi in zip(self.features, self.lo, self.hi))

    def to_dict(self) -> dict[str, Any]:
        return {"rule": "box", "features": list(self.features), "lo": list(self.lo), "hi": list(self.hi),
                "margin": self.margin, "lofo_margin": self.lofo_margin, "networks": list(self.networks)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BoxDomain":
        return cls(features=tuple(d["features"]), lo=tuple(float(v) for v in d["lo"]),
                   hi=tuple(float(v) for v in d["hi"]), margin=float(d["margin"]), networks=tuple(d.get("networks", ())),
                   lofo_margin=None if d.get("lofo_margin") is None else float(d["lofo_margin"]))


#: Descriptors of a :class:`BoxDomain`: size and depth, what the ground truth covers.
BOX_FEATURES = ("log10_params", "depth")


def fit_box_domain(rows: Sequence[Mapping[str, float]], families: Sequence[str], networks: Sequence[str] = (),
                   features: Sequence[str] = BOX_FEATURES, margin: float | None = None) -> BoxDomain:
    """The :class:`BoxDomain` of a fitting set, its margin derived by leave-one-family-out
    (``margin=None``) or given (``lofo_margin`` then records the derived one).

    For each family, the box of the *other* families' networks (their min..max per descriptor)
    is taken; each of the family's networks lies outside it by some excess (in units of that
    box's range per descriptor, 0 inside). ``margin`` is the largest such excess, so every
    published network is inside the box of the others widened by ``margin``; the returned box is
    the whole set's min..max widened by ``margin`` times its range. When the families occupy
    disjoint ranges (at x4 ECBSR's 17-105 K-parameter networks lie a decade below every other
    family) the derived margin admits an extrapolation the leave-one-family-out test shows to fail
    (ECBSR predicted 0.5-1 dB high without its family): then pass a ``margin`` and report both.

    Args:
        rows: one :func:`feature_vector` per network; families: each network's family (>= 2).

    Raises:
        ValueError: fewer than two families, a descriptor missing / not finite, or constant over
            the set.
    """
    import numpy as np

    if len(set(families)) < 2:
        raise ValueError("a box domain needs networks of at least two families")
    x = _descriptor_matrix(rows, features)
    lo, hi = x.min(axis=0), x.max(axis=0)
    if (hi <= lo).any():
        raise ValueError(f"descriptor(s) {[f for f, a, b in zip(features, lo, hi) if b <= a]} constant over the set")
    fam = np.asarray(families, object)
    derived = 0.0
    for g in set(families):
        others = x[fam != g]
        olo, ohi = others.min(axis=0), others.max(axis=0)
        width = np.where(ohi > olo, ohi - olo, hi - lo)
        for v in x[fam == g]:
            derived = max(derived, float(np.max(np.maximum(np.maximum(olo - v, v - ohi), 0.0) / width)))
    m = derived if margin is None else float(margin)
    width = hi - lo
    return BoxDomain(features=tuple(features), lo=tuple(float(v) for v in lo - m * width),
                     hi=tuple(float(v) for v in hi + m * width), margin=m, networks=tuple(networks),
                     lofo_margin=None if margin is None else derived)


@dataclass(frozen=True)
class Calibration:
    """A linear map from proxy features to published fully-trained PSNR, one per rung.

    Attributes:
        name: key (``zoo-x4``).
        scale: upscaling factor it was fitted at.
        protocol: the proxy protocol it was fitted on (``nas.proxy.profiles.protocol_fields``
            of a profile; ``predictor`` and ``rungs`` are not compared).
        data: the proxy data it was fitted on (a ``ProxyData.source`` string).
        horizon: what it predicts.
        features: the feature names, in coefficient order (:data:`FEATURES`).
        models: ``{steps: {"intercept", "coef", "sigma_db", "x_min", "x_max", ...}}``, a plain
            linear model on raw features (the standardisation folded in); features are clipped
            to the range they were fitted on (``x_min`` .. ``x_max``), so a network deeper or
            larger than any of the zoo gets no credit beyond what the zoo supports.
        source: how it was made (benchmark, date, networks).
        domain: the architectures its fitting set covers (:class:`Domain` or :class:`BoxDomain`),
            or ``None`` (older calibrations: no domain, every candidate is predicted).
        version: the first 12 hex digits of the SHA-256 of its JSON entry (sorted keys): a study
            stores it and resumes only under that version. A refit keeps the entry it replaces
            in the file under ``<name>@<version>`` (:func:`archive_calibration`), which
            :func:`archived_calibration` finds for the studies made with it.
    """

    name: str
    scale: int
    protocol: dict[str, Any]
    data: str
    horizon: str
    features: tuple[str, ...]
    models: dict[int, dict[str, Any]]
    source: str = ""
    domain: Domain | BoxDomain | None = None
    version: str = ""

    def predict(self, steps: int, values: Mapping[str, float]) -> Prediction | None:
        """The prediction at fidelity ``steps`` from feature ``values``; ``None`` when this
        calibration has no model for ``steps`` or a feature is missing / not finite."""
        model = self.models.get(int(steps))
        if model is None:
            return None
        x = [values.get(f) for f in self.features]
        if any(v is None or not math.isfinite(float(v)) for v in x):
            return None
        lo, hi = model.get("x_min"), model.get("x_max")
        if lo is not None and hi is not None:
            x = [min(max(float(v), float(a)), float(b)) for v, a, b in zip(x, lo, hi)]
        y = float(model["intercept"]) + sum(float(c) * float(v) for c, v in zip(model["coef"], x))
        return Prediction(psnr_db=y, sigma_db=float(model["sigma_db"]), horizon=self.horizon,
                          method=self.name, steps=int(steps))


def feature_vector(psnr_db: float, params: float, mult_adds: float, depth: float | None,
                   nf: int | None = None) -> dict[str, float]:
    """The features of :data:`FEATURES` and :data:`DOMAIN_FEATURES` for one candidate.

    Args:
        psnr_db: the rung's validation PSNR (dB; NaN where only the domain is wanted).
        params: deploy-form parameter count; mult_adds: deploy-form MACs.
        depth: 3x3-conv depth (:func:`nas.models.depth.conv_depth`), ``None`` if unknown (NaN).
        nf: the network's feature width (``ArchConfig.nf``), ``None`` if unknown (NaN).
    """
    return {"psnr": float(psnr_db), "log10_params": math.log10(max(1.0, float(params))),
            "log10_mult_adds": math.log10(max(1.0, float(mult_adds))),
            "depth": float("nan") if depth is None else float(depth),
            "log2_nf": float("nan") if not nf else math.log2(float(nf))}


def _domain_from_dict(d: Mapping[str, Any]) -> Domain | BoxDomain:
    return BoxDomain.from_dict(d) if d.get("rule") == "box" else Domain.from_dict(d)


def load_calibrations(path: str | Path = CALIBRATION_FILE) -> dict[str, Calibration]:
    """Every calibration in ``path`` (``{}`` when the file does not exist).

    Raises:
        NasError: the file is not valid (names it).
    """
    path = Path(path)
    if not path.is_file():
        return {}
    st = path.stat()
    return _load_calibrations(path, st.st_mtime_ns, st.st_size)  # re-read when the file changes


@lru_cache(maxsize=8)
def _load_calibrations(path: Path, _mtime_ns: int, _size: int) -> dict[str, Calibration]:
    try:
        raw = json.loads(path.read_text())
        out = {}
        for key, c in raw.items():
            name, _, archived = key.partition("@")
            version = _entry_version(c)
            if archived and archived != version:
                raise ValueError(f"entry {key!r} was changed after it was archived (its version is now {version})")
            out[key] = Calibration(
                name=name, scale=int(c["scale"]), protocol=dict(c["protocol"]), data=str(c["data"]),
                horizon=str(c["horizon"]), features=tuple(c["features"]),
                models={int(k): v for k, v in c["models"].items()}, source=str(c.get("source", "")),
                domain=_domain_from_dict(c["domain"]) if c.get("domain") else None, version=version)
        return out
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise NasError(f"{path}: not a valid calibration file ({err})") from None


def _entry_version(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:12]


def archive_calibration(cals: dict[str, Any], name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """``cals`` (a parsed ``calibrations.json``) with ``name`` set to ``entry``, the entry it
    replaces kept under ``<name>@<its version>`` so that studies ranked by it still resume.

    Returns:
        A new mapping (``cals`` is not modified).
    """
    out = dict(cals)
    old = out.get(name)
    if old is not None and _entry_version(old) != _entry_version(entry):
        out[f"{name}@{_entry_version(old)}"] = old
    out[name] = dict(entry)
    return out


def archived_calibration(name: str, version: str, files: Sequence[str | Path] = ()) -> Calibration | None:
    """The calibration ``name`` at ``version``, current or archived (``<name>@<version>``), from
    ``files`` then the shipped file; ``None`` when no file holds it.

    Raises:
        NasError: a file of ``files`` is not a calibration file (names it).
    """
    for f in [*files, CALIBRATION_FILE]:
        for cal in load_calibrations(Path(f)).values():
            if cal.name == name and cal.version == version:
                return cal
    return None


def find_calibration(name: str, scale: int, profile: Any, files: Sequence[str | Path] = ()) -> Calibration | None:
    """The calibration for predictor ``name`` at ``scale`` and ``profile``'s protocol (a
    ``ProxyProfile`` or its dict; the ``predictor`` field is ignored), else ``None``.

    ``files`` (a user's calibration files, ``nas calibrate --out``) are searched first, in order:
    their first calibration at ``scale`` whose protocol matches is returned, whatever its name.
    The shipped ones (:data:`CALIBRATION_FILE`) are then matched by name: ``name`` is a
    calibration's key (``zoo-x4``, fitted at one scale) or a family of them keyed
    ``<name>-x<scale>`` (``zoo-skip`` finds ``zoo-skip-x4`` at x4) or ``<name>-x<scale>-<variant>``
    (``zoo-gt`` finds ``zoo-gt-x4-rgb`` for an RGB-PSNR protocol).

    Raises:
        NasError: a file of ``files`` is missing or not a calibration file (names it).
    """
    for f in files:
        if not Path(f).is_file():
            raise NasError(f"{f}: --calibration: no such file (make one with nas calibrate --out {f})")
        for key, cal in load_calibrations(Path(f)).items():
            if "@" not in key and cal.scale == scale and _matches(cal, profile):  # not a replaced entry
                return cal
    cals = load_calibrations()
    keys = [name, f"{name}-x{scale}"] + sorted(k for k in cals if k.startswith(f"{name}-x{scale}-") and "@" not in k)
    for key in keys:
        cal = cals.get(key)
        if cal is not None and cal.scale == scale and _matches(cal, profile):
            return cal
    return None


def _matches(cal: Calibration, profile: Any) -> bool:
    from nas.proxy.profiles import same_protocol

    # the PSNR at a given step depends on batch, patch, lr, seed, augmentation and the warm-restart
    # segments (iters, eta), not on how many rungs follow it: models are keyed by steps. The
    # training thread count changes the float summation order, hence the PSNR by ~0.1 dB, which
    # moves a prediction by under 0.005 dB (the PSNR weight is 0.017 dB per dB at x4): not compared
    return same_protocol(profile, cal.protocol, ignore=("predictor", "rungs", "threads"))


class NoCalibrationError(NasError):
    """``--profile default`` found no calibration for the study's scale and protocol
    (:func:`resolve_profile`); ``profile`` is the protocol one would have to be made for."""

    def __init__(self, message: str, profile: Any) -> None:
        super().__init__(message)
        self.profile = profile


def resolve_profile(name: str, scale: int, iters: int | None = None, threads: int | None = None,
                    metric: str | None = None, stored: Any = None,
                    files: Sequence[str | Path] = ()) -> tuple[Any, str | None]:
    """The profile (``nas.proxy.profiles.ProxyProfile``) ``name`` stands for in a study at
    ``scale``, and a note saying why when ``default`` did not resolve to its first choice.

    ``default`` is the first of ``nas.proxy.profiles.DEFAULT_CHOICES`` but the last whose predictor
    has a calibration for ``scale`` and the protocol after the overrides (:func:`find_calibration`,
    the user's ``files`` first). ``stored`` (a resumed study's stored protocol) wins when it is one
    of the choices: a study keeps the default it was created with, whatever the default is now
    (the last choice, ``halving``, is reached only that way: issue 32, a search never ranks by raw
    proxy PSNR unless asked to).

    Raises:
        NoCalibrationError: ``default`` and no calibration fits (the caller says how to make one).
        NasError: as ``nas.proxy.profiles.get_profile``, or a file of ``files`` unreadable.
    """
    from nas.proxy.profiles import DEFAULT_CHOICES, get_profile, same_protocol

    if name != "default":
        return get_profile(name, iters, threads, metric), None
    choices = [get_profile(c, iters, threads, metric) for c in DEFAULT_CHOICES]
    if stored is not None:
        for prof in choices:
            if same_protocol(prof, stored):
                return prof, f"default profile: {prof.name}, the protocol this study was created with"
    for prof in choices[:-1]:
        if prof.predictor == "none" or find_calibration(prof.predictor, scale, prof, files) is not None:
            return prof, None
    first = choices[0]
    raise NoCalibrationError(f"no calibration fits x{scale} with this protocol (metric {first.metric}, "
                             f"{first.iters} steps): the default ranks by a predicted fully-trained PSNR only", first)
