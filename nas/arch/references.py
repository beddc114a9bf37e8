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
Y channel only, colors 1), and ECBSR-M4C16/M4C32/M6C40 in RGB as the ETDS authors retrained them
(Chao et al., CVPR 2023, Table 2). RLFN (Kong et al., CVPR-W 2022; bytedance/RLFN ``model/rlfn.py``,
``rlfn_s.py``, ``rlfn_ntire.py``; the NTIRE 2022 entry ofsoundof/NTIRE2022_ESR ``models/team04_rlfn.py``
``RLFN_cut``, also the NTIRE 2024 baseline) and SPAN (Wan et al., CVPR-W 2024; hongyuanyu/SPAN
``basicsr/archs/span_arch.py``; the NTIRE 2024 winning entry Amazingren/NTIRE2024_ESR
``models/team38_SPAN.py``), BSRN and BSRN-S (Li et al., CVPR-W 2022; xiaom233/BSRN
``basicsr/archs/BSRN_arch.py``, ``rfdnfinalB5_arch.py``). Counts: ``shared/reference_models.md`` §1, §3, §4, §10.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from nas.arch.config import (
    ArchConfig,
    ECBBlockConfig,
    EFDBConfig,
    ESDBConfig,
    IMDBConfig,
    LFBConfig,
    RFDBConfig,
    RLFBConfig,
    SPABConfig,
)
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
        family: the design line it belongs to (``imdn``, ``rfdn``, ``awsrn``, ``ecbsr``, ``rlfn``,
            ``span``): the unit
            held out together when a predictor fitted on the references is scored
            (``benchmarks/zoo_fidelity.py``, leave-one-family-out).
        published_psnr: fully-trained PSNR (dB, Y channel, ``scale`` px shaved) as published,
            ``{scale: {set name: dB}}`` with set names ``Set5``, ``Set14``, ``B100``,
            ``Urban100``, ``Manga109``; empty where nothing citable exists.
        psnr_source: where ``published_psnr`` comes from (paper table or repository path), and
            how sure it is.
    """

    name: str
    title: str
    build: Callable[[int], ArchConfig]
    scales: tuple[int, ...] = (2, 3, 4)
    source: str = ""
    pixel_range: float = 1.0
    key_prefix: str = ""
    notes: str = field(default="")
    family: str = ""
    published_psnr: dict[int, dict[str, float]] = field(default_factory=dict)
    psnr_source: str = ""

    def published(self, scale: int, dataset: str = "Set5") -> float | None:
        """The published fully-trained Y-PSNR (dB) on ``dataset`` at ``scale``, or ``None``."""
        return self.published_psnr.get(scale, {}).get(dataset)


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


def _ecbsr(name: str, m: int, c: int, colors: int = 1) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        return ArchConfig(
            name=name, scale=scale, colors=colors, nf=c, head="ecb",
            blocks=[ECBBlockConfig(depth=1, depth_multiplier=2.0, act="prelu")] * m,
            fusion="last", global_residual=False, upsampler="ecb", input_skip="nearest",
        )

    return build


def _rlfn(name: str, nf: int, n_blocks: int, mid: int | None = None) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        block = RLFBConfig(mid_channels=mid, esa_channels=16, attention="esa", act="lrelu")
        return ArchConfig(name=name, scale=scale, nf=nf, blocks=[block] * n_blocks, fusion="conv3x3",
                          global_residual=True, upsampler="pixelshuffle")

    return build


def _span(name: str, nf: int) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        return ArchConfig(name=name, scale=scale, nf=nf, head="conv3xc", blocks=[SPABConfig(gain=2, act="silu")] * 6,
                          fusion="span", global_residual=False, upsampler="pixelshuffle", input_norm="meansub255")

    return build


def _efdn(scale: int) -> ArchConfig:
    return ArchConfig(name="efdn", scale=scale, nf=48, blocks=[EFDBConfig()] * 4, fusion="efdn",
                      global_residual=True, upsampler="pixelshuffle")


def _bsrn(name: str, nf: int, n_blocks: int, block: ESDBConfig) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        return ArchConfig(name=name, scale=scale, nf=nf, head="bsconv", blocks=[block] * n_blocks, fusion="bsrn",
                          fusion_act="gelu", global_residual=True, upsampler="pixelshuffle")

    return build


#: BSRN-S's block (xiaom233/BSRN rfdnfinalB5_arch.py RFDB): pointwise biases, no CCA, channel weight
#: and 1x1 conv_out after the ESA, the ESA's strided conv a plain conv.
_BSRN_S_BLOCK = ESDBConfig(pw_bias=True, cca=False, out_conv=True, esa_bsconv="unstrided")


_SETS = ("Set5", "Set14", "B100", "Urban100", "Manga109")


def _psnr(**rows: tuple[float, ...]) -> dict[int, dict[str, float]]:
    """``x4=(Set5, Set14, B100, Urban100, Manga109)`` -> ``{4: {"Set5": ..., ...}}`` (dB)."""
    return {int(k[1:]): dict(zip(_SETS, v)) for k, v in rows.items()}


REFERENCES: dict[str, Reference] = {
    "imdn": Reference(
        "imdn", "IMDN (Hui et al., ACM MM 2019)", _imdn,
        source="Hui et al. 2019 §3; Zheng222/IMDN model/architecture.py IMDN", pixel_range=1.0,
        key_prefix="module.",  # checkpoints/IMDN_x{2,3,4}.pth were saved from nn.DataParallel
        family="imdn",
        published_psnr=_psnr(x2=(38.00, 33.63, 32.19, 32.17, 38.88), x3=(34.36, 30.32, 29.09, 28.17, 33.61),
                             x4=(32.21, 28.58, 27.56, 26.04, 30.45)),
        psnr_source="Hui et al. 2019, Table 3 (Zheng222/IMDN images/acmmm19_poster.pdf); MATLAB Y-PSNR",
    ),
    "rfdn": Reference(
        "rfdn", "RFDN, paper form (Liu et al., ECCV-W 2020)", _rfdn(48, "rfdn"),
        source="Liu et al. 2020 §3, Table 3; nf 48, 6 RFDB, CCA r=4, block residual",
        pixel_range=255.0, key_prefix="module.",
        notes="The released code is E-RFDN, a different network (reference_models.md §2).",
        family="rfdn",
        published_psnr=_psnr(x2=(38.05, 33.68, 32.16, 32.12, 38.88), x3=(34.41, 30.34, 29.09, 28.21, 33.67),
                             x4=(32.24, 28.61, 27.57, 26.11, 30.58)),
        psnr_source="Liu et al. 2020, Table 3 (as transcribed in shared/reference_models.md §2)",
    ),
    "rfdn_l": Reference(
        "rfdn_l", "RFDN-L, paper form (Liu et al., ECCV-W 2020)", _rfdn(52, "rfdn_l"),
        source="Liu et al. 2020 §3; nf 52, 6 RFDB, CCA r=4, block residual",
        pixel_range=255.0, key_prefix="module.",
        family="rfdn",
        published_psnr=_psnr(x2=(38.08, 33.67, 32.18, 32.24, 38.95), x3=(34.47, 30.35, 29.11, 28.32, 33.78),
                             x4=(32.28, 28.61, 27.58, 26.20, 30.61)),
        psnr_source="Liu et al. 2020, Table 3; UNVERIFIED transcription (shared/reference_models.md §2)",
    ),
    "erfdn": Reference(
        "erfdn", "E-RFDN, AIM 2020 ESR winner as released", _erfdn,
        source="Zhang et al. AIM 2020 ESR report; njulj/RFDN RFDN.py (nf 50, 4 RFDB, ESA)",
        pixel_range=255.0, key_prefix="",  # trained_model/RFDN_AIM.pth: plain keys (test.py loads strict)
        notes="Released code is x4 only; other scales change only the upsampler.",
        family="rfdn",
        published_psnr={4: {"Set5": 32.16}},
        psnr_source="njulj/RFDN trained_model/RFDN_AIM.pth evaluated with the authors' test code (no paper "
                    "table: the AIM 2020 report ranks on DIV2K RGB-PSNR)",
    ),
    "imdn_rtc": Reference(
        "imdn_rtc", "IMDN_RTC (AI in RTC 2019 SR challenge winner)", _imdn_rtc,
        source="Zheng222/IMDN model/architecture.py IMDN_RTC, block.py IMDModule_speed; "
               "checkpoints/model_RTC.pth (x2)",
        pixel_range=1.0,
        notes="nf 12, 5 IMDB without CCA (split 3|9), 1x1 conv after the blocks, residual around both.",
        family="imdn",
    ),
    "awsrn_s": Reference(
        "awsrn_s", "AWSRN-S (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_s", 32, 1, 4, 4),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (1 LFB, nf 32, "
               "block_feats 128)",
        pixel_range=255.0,
        notes="Official input is [0, 255] normalised by (x - 255 mean) / 127.5; our meanshift gives the "
              "same internal values from [0, 1] input, so weights load unchanged.",
        family="awsrn",
        published_psnr=_psnr(x2=(37.75, 33.31, 32.00, 31.39, 37.90), x3=(34.02, 30.09, 28.92, 27.57, 32.82),
                             x4=(31.77, 28.35, 27.41, 25.56, 29.74)),
        psnr_source="Wang et al. 2019, Table 4 (ChaofWang/AWSRN figs/results.png)",
    ),
    "awsrn_sd": Reference(
        "awsrn_sd", "AWSRN-SD (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_sd", 16, 1, 8, 8),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrnd.py (1 LFB of 8 "
               "AWRUs, nf 16, block_feats 128)",
        pixel_range=255.0,
        family="awsrn",
        published_psnr=_psnr(x2=(37.86, 33.41, 32.07, 31.67, 38.20), x4=(31.98, 28.46, 27.48, 25.74, 30.09)),
        psnr_source="Wang et al. 2019, Table 4 (ChaofWang/AWSRN figs/results.png; x3 row has a Set14 typo, left out)",
    ),
    "awsrn_m": Reference(
        "awsrn_m", "AWSRN-M (Wang et al., arXiv 1904.02358)", _awsrn("awsrn_m", 32, 3, 4, 4),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (3 LFBs, nf 32)",
        pixel_range=255.0,
        family="awsrn",
        published_psnr=_psnr(x2=(38.04, 33.66, 32.21, 32.23, 38.66), x3=(34.42, 30.32, 29.13, 28.26, 33.64),
                             x4=(32.21, 28.65, 27.60, 26.15, 30.56)),
        psnr_source="Wang et al. 2019, Table 4 (ChaofWang/AWSRN figs/results.png)",
    ),
    "awsrn": Reference(
        "awsrn", "AWSRN (Wang et al., arXiv 1904.02358)", _awsrn("awsrn", 32, 4, 4, 4),
        scales=(2, 3, 4, 8),
        source="Wang et al. 2019 §3, Table 4; ChaofWang/AWSRN code/src/model/awsrn.py (4 LFBs, nf 32)",
        pixel_range=255.0,
        family="awsrn",
        published_psnr=_psnr(x2=(38.11, 33.78, 32.26, 32.49, 38.87), x3=(34.52, 30.38, 29.16, 28.42, 33.85),
                             x4=(32.27, 28.69, 27.64, 26.29, 30.72), x8=(26.97, 24.99, 24.80, 22.45, 24.60)),
        psnr_source="Wang et al. 2019, Table 4 (ChaofWang/AWSRN figs/results.png)",
    ),
    "ecbsr_m4c8": Reference(
        "ecbsr_m4c8", "ECBSR-M4C8 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m4c8", 4, 8),
        source="Zhang et al. 2021 §3; xindongzhang/ECBSR models/ecbsr.py, configs/ecbsr_x{2,4}_m4c8_prelu.yml",
        pixel_range=255.0,
        notes="Y channel only (colors 1), trained on [0, 255] Y; deploy form after reparameterize_model.",
        family="ecbsr",
    ),
    "ecbsr_m4c16": Reference(
        "ecbsr_m4c16", "ECBSR-M4C16 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m4c16", 4, 16),
        source="Zhang et al. 2021 §3; xindongzhang/ECBSR models/ecbsr.py, configs/ecbsr_x{2,4}_m4c16_prelu.yml",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
        family="ecbsr",
    ),
    "ecbsr_m10c32": Reference(
        "ecbsr_m10c32", "ECBSR-M10C32 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m10c32", 10, 32),
        source="Zhang et al. 2021 §3 (paper variant; no config in the repo); xindongzhang/ECBSR models/ecbsr.py",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
        family="ecbsr",
    ),
    "ecbsr_m16c64": Reference(
        "ecbsr_m16c64", "ECBSR-M16C64 (Zhang et al., ACM MM 2021)", _ecbsr("ecbsr_m16c64", 16, 64),
        source="Zhang et al. 2021 §3 (paper variant; no config in the repo); xindongzhang/ECBSR models/ecbsr.py",
        pixel_range=255.0,
        notes="Y channel only (colors 1).",
        family="ecbsr",
        published_psnr=_psnr(x2=(37.90, 33.34, 32.10, 31.71), x4=(31.92, 28.34, 27.48, 25.81)),
        psnr_source="Zhang et al. 2021 as copied by SAFMN (Sun et al., ICCV 2023; sunny2109/SAFMN "
                    "figs/efficient_sr.png, row ECBSR-M16C64) and CFSR (Wu et al., TIP 2024; Aitical/CFSR "
                    "README.md): secondary, the two agree",
    ),
    # ECBSR's architecture in RGB, fully trained by the ETDS authors (Chao et al., CVPR 2023,
    # Table 2; ECNUSR/ETDS asserts/tables/table-all.png): their deploy-form counts (x4 16.77 K /
    # 51.92 K / 105.37 K) are these configs' exactly.
    "ecbsr_m4c16_rgb": Reference(
        "ecbsr_m4c16_rgb", "ECBSR-M4C16, RGB (ETDS retraining, Chao et al., CVPR 2023)",
        _ecbsr("ecbsr_m4c16_rgb", 4, 16, colors=3), scales=(2, 4),
        source="xindongzhang/ECBSR models/ecbsr.py with colors 3; ECNUSR/ETDS experiments/ECBSR_M4C16_x4",
        pixel_range=255.0, family="ecbsr",
        published_psnr=_psnr(x2=(37.18, 32.79, 31.61, 30.18), x4=(30.87, 27.80, 27.06, 24.75)),
        psnr_source="Chao et al. 2023 (ETDS), Table 2 (ECNUSR/ETDS asserts/tables/table-all.png): ECBSR "
                    "retrained in RGB by the ETDS authors, not the ECBSR paper's own Y-only result",
    ),
    "ecbsr_m4c32_rgb": Reference(
        "ecbsr_m4c32_rgb", "ECBSR-M4C32, RGB (ETDS retraining, Chao et al., CVPR 2023)",
        _ecbsr("ecbsr_m4c32_rgb", 4, 32, colors=3), scales=(2, 4),
        source="xindongzhang/ECBSR models/ecbsr.py with colors 3; ECNUSR/ETDS experiments",
        pixel_range=255.0, family="ecbsr",
        published_psnr=_psnr(x2=(37.39, 33.03, 31.79, 30.69), x4=(31.24, 28.04, 27.21, 25.07)),
        psnr_source="Chao et al. 2023 (ETDS), Table 2 (ECNUSR/ETDS asserts/tables/table-all.png): ECBSR "
                    "retrained in RGB by the ETDS authors",
    ),
    "ecbsr_m6c40_rgb": Reference(
        "ecbsr_m6c40_rgb", "ECBSR-M6C40, RGB (ETDS retraining, Chao et al., CVPR 2023)",
        _ecbsr("ecbsr_m6c40_rgb", 6, 40, colors=3), scales=(2, 4),
        source="xindongzhang/ECBSR models/ecbsr.py with colors 3; ECNUSR/ETDS experiments",
        pixel_range=255.0, family="ecbsr",
        published_psnr=_psnr(x2=(37.61, 33.18, 31.94, 31.09), x4=(31.41, 28.20, 27.33, 25.37)),
        psnr_source="Chao et al. 2023 (ETDS), Table 2 (ECNUSR/ETDS asserts/tables/table-all.png): ECBSR "
                    "retrained in RGB by the ETDS authors",
    ),
    # RLFN: the authors' files (bytedance/RLFN model/*.py) instantiated give these configs' counts
    # exactly (tests/models/test_build.py); every RLFN takes [0, 255] input (test_demo.py img * 255).
    "rlfn_ntire": Reference(
        "rlfn_ntire", "RLFN_cut, NTIRE 2022 ESR entry (Kong et al.; runtime-track winner)",
        _rlfn("rlfn_ntire", 46, 4, mid=48), scales=(4,),
        source="ofsoundof/NTIRE2022_ESR models/team04_rlfn.py RLFN_cut (fea_conv, B1..B4, LR_conv, upsampler); "
               "= bytedance/RLFN model/rlfn_ntire.py RLFN_Prune and Amazingren/NTIRE2024_ESR "
               "models/team00_RLFN.py (the NTIRE 2024 baseline); nf 46, mid 48, 4 RLFB, ESA 16",
        pixel_range=255.0, key_prefix="",
        notes="x4 only. 317,218 params; 19.70 G fvcore MACs at a 256x256 LR input (bytedance/RLFN README; "
              "the NTIRE 2024 README quotes 19.67 G). NTIRE 2024 baseline: 26.96 / 27.07 dB RGB-PSNR on "
              "DIV2K_LSDIR valid / test, not a benchmark-set Y-PSNR.",
        family="rlfn",
        psnr_source="none recorded: the challenge reports RGB-PSNR on DIV2K_LSDIR (see notes), not the "
                    "five benchmark sets",
    ),
    "rlfn": Reference(
        "rlfn", "RLFN (Kong et al., CVPR-W 2022)", _rlfn("rlfn", 52, 6), scales=(2, 4),
        source="Kong et al. 2022 §3; bytedance/RLFN model/rlfn.py RLFN (conv_1, block_1..6, conv_2, upsampler; "
               "nf 52, 6 RLFB, mid = nf, ESA 16), model_zoo/rlfn_x{2,4}.pth",
        pixel_range=255.0, key_prefix="",
        family="rlfn",
        psnr_source="none recorded: the paper's Table could not be read from a primary source "
                    "[UNVERIFIED]; searched 2026-12-02: bytedance/RLFN README.md gives only RLFN_ntire's "
                    "runtime / params / FLOPs, fyan111/RLFN README.md only points to bytedance/RLFN",
    ),
    "rlfn_s": Reference(
        "rlfn_s", "RLFN-S (Kong et al., CVPR-W 2022)", _rlfn("rlfn_s", 48, 6), scales=(2, 4),
        source="Kong et al. 2022 §3; bytedance/RLFN model/rlfn_s.py RLFN_S (nf 48, 6 RLFB, mid = nf, ESA 16), "
               "model_zoo/rlfn_s_x{2,4}.pth",
        pixel_range=255.0, key_prefix="",
        family="rlfn",
        psnr_source="none recorded: the paper's Table could not be read from a primary source "
                    "[UNVERIFIED]; searched 2026-12-02: bytedance/RLFN and fyan111/RLFN READMEs quote no "
                    "benchmark PSNR (see rlfn)",
    ),
    # SPAN: [0, 1] input, (x - DIV2K mean) * 255 inside, no de-normalisation (img_range 255).
    # Train-form counts = the authors' trainable parameters; their parameters() also holds the
    # frozen eval_conv of every Conv3XC (= our deploy form), so their total is train + deploy.
    "span_ntire": Reference(
        "span_ntire", "SPAN, NTIRE 2024 ESR winning entry (Wan et al., XiaomiMM)", _span("span_ntire", 28),
        scales=(4,),
        source="Amazingren/NTIRE2024_ESR models/team38_SPAN.py SPAN30(feature_channels=28), test_demo.py "
               "model_id 38 (data_range 1.0), model_zoo/team38_span_ch28_slim.pth (deploy form: eval_conv "
               "only); nf 28, 6 SPAB",
        pixel_range=1.0, key_prefix="",
        notes="x4 only. Deploy form (reparameterize_model) 150,688 params = the submitted model (0.151 M); "
              "shared/reference_models.md §10: 9.83 G FLOPs, 26.94 / 27.01 dB RGB-PSNR on DIV2K_LSDIR "
              "valid / test.",
        family="span",
        psnr_source="none recorded: the challenge reports RGB-PSNR on DIV2K_LSDIR (see notes)",
    ),
    "span": Reference(
        "span", "SPAN (Wan et al., CVPR-W 2024)", _span("span", 48), scales=(2, 4),
        source="Wan et al. 2024 §3; hongyuanyu/SPAN basicsr/archs/span_arch.py SPAN (feature_channels 48 "
               "default, 6 SPAB, conv_1 / conv_2 Conv3XC, conv_cat over 4 features)",
        pixel_range=1.0, key_prefix="",
        notes="Scales x2 / x4 as in the paper's comparison [UNVERIFIED: the checkpoints are on Google "
              "Drive only]; deploy form 410,700 (x2) / 426,288 (x4) params.",
        family="span",
        psnr_source="none recorded: the paper's Table could not be read from a primary source "
                    "[UNVERIFIED]; searched 2026-12-02: hongyuanyu/SPAN README.md quotes no Set5 PSNR, its "
                    "assets/results.png plots latency against the x4 PSNR of an unnamed test set (IMDN at 28.58, "
                    "its Set14 number, so not Set5), the checkpoints and results are on Google Drive only",
    ),
    "efdn": Reference(
        "efdn", "EFDN (Wang, CVPR-W 2022; NTIRE 2023 ESR overall winner, NTIRE 2025 ESR baseline)", _efdn,
        scales=(4,),
        source="Amazingren/NTIRE2025_ESR models/team00_EFDN.py EFDN(n_feats=48), test_demo.py model_id 0 "
               "(data_range 1.0), model_zoo/team00_EFDN.pth (deploy form: EDBB_deploy); arXiv 2204.08759, "
               "icandle/EFDN",
        pixel_range=1.0, key_prefix="",
        notes="x4 only; 276,192 params (the challenge README: 0.276 M), 16.70 G FLOPs (MACs) at a 256x256 LR "
              "input; 26.93 / 27.01 dB RGB-PSNR on DIV2K_LSDIR valid / test (Amazingren/NTIRE2025_ESR "
              "README). The released form; the paper trains EDBB re-parameterisable convs in place of the "
              "3x3 convs of each block.",
        family="efdn",
        psnr_source="none recorded: the challenge reports RGB-PSNR on DIV2K_LSDIR (see notes)",
    ),
    # BSRN: [0, 1] input; BasicSR checkpoints ({"params": state dict}).
    "bsrn": Reference(
        "bsrn", "BSRN (Li et al., CVPR-W 2022)", _bsrn("bsrn", 64, 8, ESDBConfig()),
        scales=(2, 3, 4),
        source="Li et al. 2022 (arXiv 2205.05996) §3, Fig. 2; xiaom233/BSRN basicsr/archs/BSRN_arch.py "
               "BSRN(num_feat=64, num_block=8, conv='BSConvU', upsampler='pixelshuffledirect'), "
               "options/test/benchmark_BSRN_x{2,3,4}.yml, experiments/pretrained_models/net_g_BSRN_x{2,3,4}.pth",
        pixel_range=1.0, key_prefix="",
        notes="331,628 (x2) / 340,283 (x3) / 352,400 (x4) params, counted on the authors' BSRN module and "
              "equal to the released net_g_BSRN_x*.pth (the paper: 352K at x4).",
        family="bsrn",
        published_psnr=_psnr(x4=(32.35, 28.73, 27.65, 26.27, 30.84)),
        psnr_source="Li et al. 2022, the x4 row of the paper's comparison table (352K params, 19.4 G "
                    "Multi-Adds) as copied by LKDN (Xie et al., CVPR-W 2023; stella-von/LKDN README.md "
                    "'Results'); BasicSR Y-PSNR, 4 px shaved (options/test/benchmark_BSRN_x4.yml). The "
                    "table's number and the x2 / x3 rows were not read from a primary source [UNVERIFIED]: "
                    "searched 2026-12-02, xiaom233/BSRN README.md (every commit) quotes no PSNR, only links "
                    "the result images (Google Drive / Baidu), and no readable copy of the paper's table "
                    "was at hand",
    ),
    "bsrn_s": Reference(
        "bsrn_s", "BSRN-S, NTIRE 2022 ESR entry, first in model complexity (Li et al., CVPR-W 2022)",
        _bsrn("bsrn_s", 48, 5, _BSRN_S_BLOCK),
        scales=(4,),
        source="Li et al. 2022 (arXiv 2205.05996) §4.5; xiaom233/BSRN basicsr/archs/rfdnfinalB5_arch.py "
               "RFDNFINALB5(num_feat=48, num_block=5, conv='BSConvU') with Blocks.py BSConvU, "
               "options/train/train_BSRN-S_x4.yml, experiments/pretrained_models/net_g_BSRN-S.pth",
        pixel_range=1.0, key_prefix="",
        notes="x4 only; 156,288 params, counted on the authors' module and equal to the released "
              "net_g_BSRN-S.pth. The authors write its 1x1 convs as nn.Linear on NHWC tensors (same "
              "parameters and function as our 1x1 convs; their weights are (out, in), ours (out, in, 1, 1)).",
        family="bsrn",
        psnr_source="none recorded: the challenge reports RGB-PSNR on DIV2K valid",
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
