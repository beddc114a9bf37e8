"""The published networks as ``ArchConfig`` entries (no classes: timm ``byobnet.model_cfgs`` style).

Each entry is a function of the scale returning an ``ArchConfig``, plus metadata: the paper, the
repository, the input range and key prefix of the authors' checkpoints. Exact parameter counts
per scale are in ``../shared/reference_models.md`` and asserted in ``tests/arch``.
Sources: IMDN (Hui et al., ACM MM 2019; Zheng222/IMDN ``model/architecture.py``), RFDN paper
form (Liu et al., ECCV-W 2020, arXiv 2009.11551; CCA reduction 4 and block residual, njulj/RFDN
issues #3, #5, #12), E-RFDN (AIM 2020 ESR winner; njulj/RFDN ``RFDN.py`` as released).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from nas.arch.config import ArchConfig, IMDBConfig, RFDBConfig
from nas.errors import ArchConfigError

__all__ = ["Reference", "REFERENCES", "SEARCH_REFERENCES", "reference_config", "reference_names"]


@dataclass(frozen=True)
class Reference:
    """A published network: how to build its config and how to read its official weights.

    Attributes:
        name: short key used on the CLI (``nas export --reference imdn``).
        title: human-readable name with the venue.
        build: ``scale -> ArchConfig``.
        scales: scales at which the published network exists.
        source: paper section and repository.
        pixel_range: value range the authors' checkpoints expect (1.0 for [0, 1], 255.0 for [0, 255]).
        key_prefix: prefix stripped from official state-dict keys (``"module."``), if any.
    """

    name: str
    title: str
    build: Callable[[int], ArchConfig]
    scales: tuple[int, ...] = (2, 3, 4)
    source: str = ""
    pixel_range: float = 1.0
    key_prefix: str = ""
    notes: str = field(default="")


def _imdn(scale: int) -> ArchConfig:
    return ArchConfig(
        name="imdn", scale=scale, nf=64,
        blocks=[IMDBConfig(distill_ratio=0.25, attention="cca", cca_reduction=16, residual=True)] * 6,
    )


def _rfdn(nf: int, name: str) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        block = RFDBConfig(distill_ratio=0.5, attention="cca", cca_reduction=4, residual=True)
        return ArchConfig(name=name, scale=scale, nf=nf, blocks=[block] * 6)

    return build


def _erfdn(scale: int) -> ArchConfig:
    block = RFDBConfig(distill_ratio=0.5, attention="esa", residual=False)
    return ArchConfig(name="erfdn", scale=scale, nf=50, blocks=[block] * 4)


REFERENCES: dict[str, Reference] = {
    "imdn": Reference(
        "imdn", "IMDN (Hui et al., ACM MM 2019)", _imdn,
        source="Hui et al. 2019 §3; Zheng222/IMDN model/architecture.py IMDN", pixel_range=1.0,
    ),
    "rfdn": Reference(
        "rfdn", "RFDN, paper form (Liu et al., ECCV-W 2020)", _rfdn(48, "rfdn"),
        source="Liu et al. 2020 §3, Table 3; nf 48, 6 RFDB, CCA r=4, block residual",
        pixel_range=255.0, key_prefix="module.",
        notes="The released code is E-RFDN, a different network (reference_models.md §2).",
    ),
    "rfdn_l": Reference(
        "rfdn_l", "RFDN-L, paper form (Liu et al., ECCV-W 2020)", _rfdn(52, "rfdn_l"),
        source="Liu et al. 2020 §3; nf 52, 6 RFDB, CCA r=4, block residual",
        pixel_range=255.0, key_prefix="module.",
    ),
    "erfdn": Reference(
        "erfdn", "E-RFDN, AIM 2020 ESR winner as released", _erfdn,
        source="Zhang et al. AIM 2020 ESR report; njulj/RFDN RFDN.py (nf 50, 4 RFDB, ESA)",
        pixel_range=255.0, key_prefix="module.",
        notes="Released code is x4 only; other scales change only the upsampler.",
    ),
}

#: References enqueued first in every search (always on the Pareto plot).
SEARCH_REFERENCES: tuple[str, ...] = ("imdn", "rfdn", "rfdn_l", "erfdn")


def reference_names() -> list[str]:
    return list(REFERENCES)


def reference_config(name: str, scale: int) -> ArchConfig:
    """The ``ArchConfig`` of a published network at ``scale``.

    Raises:
        ArchConfigError: unknown name (lists the known ones) or a scale the network lacks.
    """
    key = name.lower().replace("-", "_")
    if key not in REFERENCES:
        raise ArchConfigError(f"unknown reference {name!r} (known: {', '.join(REFERENCES)})")
    ref = REFERENCES[key]
    if scale not in ref.scales:
        raise ArchConfigError(f"reference {name!r} exists at scales {list(ref.scales)}, not x{scale}")
    return ref.build(scale)
