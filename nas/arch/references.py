"""The published networks as ``ArchConfig`` entries (no classes: timm ``byobnet.model_cfgs`` style).

Each entry is a function of the scale returning an ``ArchConfig``, plus metadata: the paper, the
repository, the input range and key prefix of the authors' checkpoints. Exact parameter counts
per scale are in ``../shared/reference_models.md`` and asserted in ``tests/arch``.
Sources: IMDN (Hui et al., ACM MM 2019; Zheng222/IMDN ``model/architecture.py``), RFDN paper
form (Liu et al., ECCV-W 2020, arXiv 2009.11551; CCA reduction 4 and block residual, njulj/RFDN
issues #3, #5, #12), E-RFDN (AIM 2020 ESR winner; njulj/RFDN ``RFDN.py`` as released).
Zoo (not enqueued in searches): IMDN_RTC (``IMDN_RTC`` in the same IMDN file), AWSRN-S/-SD/-M/AWSRN
(Wang et al. arXiv 1904.02358; ChaofWang/AWSRN ``code/src/model/awsrn.py``, ``awsrnd.py``) and
ECBSR-M4C8/M4C16/M10C32/M16C64 (Zhang et al., ACM MM 2021; xindongzhang/ECBSR ``models/ecbsr.py``,
Y channel only, colors 1). Counts: ``shared/reference_models.md`` §1, §3, §4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from nas.arch.config import ArchConfig, ECBBlockConfig, IMDBConfig, LFBConfig, RFDBConfig
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


def _imdn_rtc(scale: int) -> ArchConfig:
    block = IMDBConfig(distill_ratio=0.25, attention="none", residual=True)
    return ArchConfig(name="imdn_rtc", scale=scale, nf=12, blocks=[block] * 5, fusion="conv1x1",
                      global_residual=True)


def _awsrn(name: str, nf: int, n_lfb: int, n_awru: int, expansion: int) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        block = LFBConfig(n_awru=n_awru, expansion=expansion, act="relu")
        return ArchConfig(
            name=name, scale=scale, nf=nf, blocks=[block] * n_lfb, fusion="last", global_residual=False,
            upsampler="awms", input_skip="conv", weight_norm=True, input_norm="meanshift",
        )

    return build


def _ecbsr(name: str, m: int, c: int) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        return ArchConfig(
            name=name, scale=scale, colors=1, nf=c, head="ecb",
            blocks=[ECBBlockConfig(depth=1, depth_multiplier=2.0, act="prelu")] * m,
            fusion="last", global_residual=False, upsampler="ecb", input_skip="nearest",
        )

    return build


REFERENCES: dict[str, Reference] = {
    "imdn": Reference(
        "imdn", "IMDN (Hui et al., ACM MM 2019)", _imdn,
        source="Hui et al. 2019 §3; Zheng222/IMDN model/architecture.py IMDN", pixel_range=1.0,
        key_prefix="module.",  # checkpoints/IMDN_x{2,3,4}.pth were saved from nn.DataParallel
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
        pixel_range=255.0, key_prefix="",  # trained_model/RFDN_AIM.pth: plain keys (test.py loads strict)
        notes="Released code is x4 only; other scales change only the upsampler.",
    ),
    "imdn_rtc": Reference(
        "imdn_rtc", "IMDN_RTC (AI in RTC 2019 SR challenge winner)", _imdn_rtc,
        source="Zheng222/IMDN model/architecture.py IMDN_RTC, block.py IMDModule_speed; "
               "checkpoints/model_RTC.pth (x2)",
        pixel_range=1.0,
        notes="nf 12, 5 IMDB without CCA (split 3|9), 1x1 conv after the blocks, residual around both.",
    ),
    "awsrn_s": Reference(
        "awsrn_s", "AWSRN-S (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_s", 32, 1, 4, 4),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (1 LFB, nf 32, "
               "block_feats 128)",
        pixel_range=255.0,
        notes="Official input is [0, 255] normalised by (x - 255 mean) / 127.5; our meanshift gives the "
              "same internal values from [0, 1] input, so weights load unchanged.",
    ),
    "awsrn_sd": Reference(
        "awsrn_sd", "AWSRN-SD (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_sd", 16, 1, 8, 8),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrnd.py (1 LFB of 8 "
               "AWRUs, nf 16, block_feats 128)",
        pixel_range=255.0,
    ),
    "awsrn_m": Reference(
        "awsrn_m", "AWSRN-M (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_m", 32, 3, 4, 4),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (3 LFBs, nf 32)",
        pixel_range=255.0,
    ),
    "awsrn": Reference(
        "awsrn", "AWSRN (Wang et al., arXiv 1904.02358)", _awsrn("awsrn", 32, 4, 4, 4),
        scales=(2, 3, 4, 8),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (4 LFBs, nf 32)",
        pixel_range=255.0,
    ),
    "ecbsr_m4c8": Reference(
        "ecbsr_m4c8", "ECBSR-M4C8 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m4c8", 4, 8),
        source="Zhang et al. 2021 §3; xindongzhang/ECBSR models/ecbsr.py, configs/ecbsr_x{2,4}_m4c8_prelu.yml",
        pixel_range=255.0,
        notes="Y channel only (colors 1), trained on [0, 255] Y; deploy form after reparameterize_model.",
    ),
    "ecbsr_m4c16": Reference(
        "ecbsr_m4c16", "ECBSR-M4C16 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m4c16", 4, 16),
        source="Zhang et al. 2021 §3; xindongzhang/ECBSR models/ecbsr.py, configs/ecbsr_x{2,4}_m4c16_prelu.yml",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
    ),
    "ecbsr_m10c32": Reference(
        "ecbsr_m10c32", "ECBSR-M10C32 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m10c32", 10, 32),
        source="Zhang et al. 2021 §3 (paper variant; no config in the repo); xindongzhang/ECBSR models/ecbsr.py",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
    ),
    "ecbsr_m16c64": Reference(
        "ecbsr_m16c64", "ECBSR-M16C64 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m16c64", 16, 64),
        source="Zhang et al. 2021 §3 (paper variant; no config in the repo); xindongzhang/ECBSR models/ecbsr.py",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
    ),
}

#: References enqueued first in every search (always on the Pareto plot).
SEARCH_REFERENCES: tuple[str, ...] = ("imdn", "rfdn", "rfdn_l", "erfdn")


def reference_names() -> list[str]:
    """Names accepted by ``reference_config`` / ``--references`` (e.g. ``imdn``, ``rfdn``, ``erfdn``)."""
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
