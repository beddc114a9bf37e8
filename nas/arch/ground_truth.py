"""The ground truth a predictor of fully-trained PSNR is validated on (issue 31 §1): networks that
are ``ArchConfig`` s exactly, each with a fully-trained Y-PSNR and where it comes from.

Every :class:`GroundTruth` names its network's config (``build``: scale -> ``ArchConfig``; a zoo
network reuses ``REFERENCES[name].build``), its design lineage at two grains (``family`` and the
coarser ``lineage``: a network and its direct modifications are one family, and IMDN, RFDN,
E-RFDN, RLFN, BSRN and EFDN are one ``distillation`` lineage), the PSNR per scale and set
(``{scale: {set: dB}}``, Y channel, ``scale`` px shaved, sets ``Set5``, ``Set14``, ``B100``,
``Urban100``, ``Manga109``), the source of every number, the training protocol it was obtained
under and the exact parameter count of the authors' network.

Two kinds of source, never mixed silently:

* ``paper ...`` / ``secondary ...``: a published table (a secondary one, another paper quoting
  it, says so);
* ``measured: nas eval ...``: the authors' released weights measured here with ``nas eval`` on
  ``../shared/benchmark_data/{Set5,Set14,B100}`` (shipped LR images, MATLAB-style float Y, SR
  quantised to 8 bit). The weights are public files of the authors' repositories, fetched for
  the measurement and never committed; ``source`` names the repository and path.
  Where the paper's table is known the measurement was compared with it (``notes``).

``protocol`` is ``"main"`` for a network trained as in its paper's main comparison table (or,
for a challenge entry, the team's full training: ``train_data`` says on what), and
``"ablation:<paper>-<table>"`` for a variant trained under an ablation table's own, often
shorter, protocol, and ``"retrain:<entry>"`` for ``<entry>``'s exact config trained again by
someone else (not a design of its own: the gap is label noise, and it is neither fitted on nor
ranked), and ``"derived:<entry>"`` for a config one option away from ``<entry>`` whose weights
were fine-tuned from ``<entry>``'s (not an independent training: neither fitted on nor ranked).
:data:`ABLATION_PAIRS` only pairs entries of one protocol.

No torch here (``nas.arch`` is read without it); the parameter counts are asserted by
``tests/arch/test_ground_truth.py``, which builds every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from nas.arch.config import ArchConfig, ConvBlockConfig, ECBBlockConfig, IMDBConfig, ResBlockConfig, RLFBConfig
from nas.arch.references import REFERENCES
from nas.errors import ArchConfigError

__all__ = [
    "SETS",
    "GroundTruth",
    "AblationPair",
    "NotClaimed",
    "GROUND_TRUTH",
    "ABLATION_PAIRS",
    "SMALL_GAP_PAIRS",
    "DesignPair",
    "DESIGN_PAIRS",
    "NOT_CLAIMED",
    "ground_truth",
    "config_diff",
]

#: The benchmark sets, in the usual table order.
SETS = ("Set5", "Set14", "B100", "Urban100", "Manga109")


@dataclass(frozen=True)
class GroundTruth:
    """One network with a fully-trained PSNR.

    Attributes:
        name: unique key (a zoo reference keeps its ``REFERENCES`` key).
        build: ``scale -> ArchConfig``.
        family: the network and its direct modifications (``imdn``, ``rfdn``, ``rlfn``, ``bsrn``,
            ``efdn``, ``awsrn``, ``ecbsr``, ``span``).
        lineage: the coarse design line (``distillation`` for IMDN / RFDN / E-RFDN / RLFN / BSRN /
            EFDN; ``awsrn``, ``ecbsr``, ``span``).
        psnr: ``{scale: {set: dB}}``, Y channel (BT.601), ``scale`` px shaved.
        source: where every number comes from: ``paper <table>``, ``secondary: <who quotes it>``,
            or ``measured: nas eval ... weights <repo>/<path>`` (per scale where they differ).
        protocol: ``"main"``, ``"ablation:<paper>-<table>"``, ``"derived:<entry>"`` (fine-tuned from
            ``<entry>``'s weights) or ``"retrain:<entry>"`` (``<entry>``'s
            config trained again by someone else).
        params: exact parameter count per scale, from the authors' code (train form: what
            ``build_model(config)`` holds), or ``None`` where no count was checked.
        train_data: the training set (``DIV2K``, ``DF2K``, ``DIV2K+LSDIR`` ...), or ``""`` unknown.
        notes: anything a user of the number must know (agreement with the paper, Y-only input, ...).
        reference: the ``REFERENCES`` key when the network is a zoo reference.
    """

    name: str
    build: Callable[[int], ArchConfig]
    family: str
    lineage: str
    psnr: dict[int, dict[str, float]]
    source: str
    protocol: str = "main"
    params: dict[int, int] | None = None
    train_data: str = ""
    notes: str = ""
    reference: str | None = None

    @property
    def scales(self) -> tuple[int, ...]:
        """Scales with at least one PSNR value."""
        return tuple(sorted(s for s, row in self.psnr.items() if row))

    def value(self, scale: int, dataset: str = "Set5") -> float | None:
        """The PSNR (dB) on ``dataset`` at ``scale``, or ``None``."""
        return self.psnr.get(scale, {}).get(dataset)

    def config(self, scale: int) -> ArchConfig:
        """The network's ``ArchConfig`` at ``scale`` (named after the entry).

        Raises:
            ArchConfigError: the entry has no PSNR at ``scale``.
        """
        if scale not in self.scales:
            raise ArchConfigError(f"ground truth {self.name!r} has values at x{list(self.scales)}, not x{scale}")
        return self.build(scale)


@dataclass(frozen=True)
class DesignPair:
    """Two networks of one table and one training protocol where the **smaller** one is better:
    fewer deploy-form parameters and fewer Mult-Adds, and at least 0.1 dB more PSNR. The case a
    search exists for ("a better design from a bigger one", issue 31): a predictor that only counts
    parameters orders every such pair wrongly. Unlike an :class:`AblationPair` the two designs differ
    in many choices; they are scored, never fitted on.

    Attributes:
        better, worse: :data:`GROUND_TRUTH` names (``better`` is the smaller network).
        source: the table both numbers come from.
        scale, dataset: where ``delta_db`` is read.
        delta_db: ``better`` minus ``worse`` (dB), as published (>= 0.1).
    """

    better: str
    worse: str
    source: str
    scale: int
    dataset: str
    delta_db: float


@dataclass(frozen=True)
class AblationPair:
    """Two entries of one protocol that differ in exactly one design choice, with the cited gap.

    Attributes:
        better, worse: :data:`GROUND_TRUTH` names (``better`` has the higher PSNR).
        choice: the design choice in words (``"nf 16 -> 32"``, ``"1 -> 3 LFBs"``).
        fields: the ``ArchConfig.model_dump()`` paths that differ (``("nf",)``, ``("blocks",)``,
            ``("blocks.*.attention",)``); ``tests/arch/test_ground_truth.py`` asserts that exactly
            these differ.
        source: the table both numbers come from.
        scale, dataset: where ``delta_db`` is read.
        delta_db: ``better`` minus ``worse`` (dB), as published (>= 0.1 for a usable pair).
    """

    better: str
    worse: str
    choice: str
    fields: tuple[str, ...]
    source: str
    scale: int
    dataset: str
    delta_db: float


@dataclass(frozen=True)
class NotClaimed:
    """A network or variant left out of the ground truth, and why."""

    name: str
    reason: str


def _psnr(**rows: tuple[float | None, ...]) -> dict[int, dict[str, float]]:
    """``x4=(Set5, Set14, B100, Urban100, Manga109)`` -> ``{4: {...}}``; ``None`` leaves a set out."""
    return {int(k[1:]): {s: v for s, v in zip(SETS, vals) if v is not None} for k, vals in rows.items()}


def _ref(name: str, *, family: str | None = None, lineage: str, psnr: dict[int, dict[str, float]] | None = None,
         source: str | None = None, params: dict[int, int] | None = None, train_data: str = "",
         notes: str = "") -> GroundTruth:
    """An entry for zoo reference ``name``: its builder, family and (by default) published PSNR."""
    ref = REFERENCES[name]
    return GroundTruth(
        name=name, build=ref.build, family=family or ref.family, lineage=lineage,
        psnr=psnr if psnr is not None else ref.published_psnr,
        source=source if source is not None else ref.psnr_source,
        params=params, train_data=train_data, notes=notes, reference=name,
    )


# Exact counts, copied from tests/models/test_build.py PARAMS (the authors' modules instantiated;
# released checkpoints where they exist); re-asserted by tests/arch/test_ground_truth.py.
_P = {
    "imdn": {2: 694_404, 3: 703_059, 4: 715_176},
    "rfdn": {2: 534_036, 3: 540_531, 4: 549_624},
    "rfdn_l": {2: 625_962, 3: 632_997, 4: 642_846},
    "erfdn": {4: 433_448},
    "imdn_rtc": {2: 20_190},
    "awsrn_s": {2: 397_482, 3: 476_757, 4: 587_742},
    "awsrn_sd": {2: 348_098, 3: 388_013, 4: 443_894},
    "awsrn_m": {2: 1_063_742, 3: 1_143_017, 4: 1_254_002},
    "awsrn": {2: 1_396_872, 3: 1_476_147, 4: 1_587_132, 8: 2_348_172},
    "ecbsr_m16c64": {2: 2_220_416, 4: 2_235_968},
    # x3: build_model's train form; its deploy form (13,723 / 45,851 / 97,787) is ETDS Table 2's
    # 13.72 K / 45.85 K / 97.79 K
    "ecbsr_m4c16_rgb": {2: 47_088, 3: 61_578, 4: 95_472},
    "ecbsr_m4c32_rgb": {2: 165_856, 3: 183_706, 4: 222_304},
    "ecbsr_m6c40_rgb": {2: 358_952, 3: 378_482, 4: 419_432},
    "rlfn_ntire": {4: 317_218},
    "rlfn": {2: 526_856, 4: 543_740},
    "rlfn_s": {2: 454_620, 4: 470_208},
    "span_ntire": {4: 634_048},
    "efdn": {2: 260_604, 4: 276_192},
    "bsrn": {2: 331_628, 3: 340_283, 4: 352_400},
    "bsrn_s": {4: 156_288},
}

_EVAL = ("nas eval --reference {ref} --scale {s} --weights W --data ../shared/benchmark_data/Set5 "
         "--data ../shared/benchmark_data/Set14 --data ../shared/benchmark_data/B100")

_ETDS = ("Chao et al. 2023 (ETDS), Table 2 (ECNUSR/ETDS asserts/tables/table-all.png, read here for x2 / x3 / x4): "
         "ECBSR retrained in RGB by the ETDS authors, not the ECBSR paper's own Y-only result")

_ETDS_PROTOCOL = ("DIV2K; the ETDS protocol for every network of that table (ECNUSR/ETDS configs/train/*: 64 px LR "
                  "patches, batch 32, Adam 5e-4, L1, 1.6 M iterations)")

GROUND_TRUTH: dict[str, GroundTruth] = {}


def _add(*entries: GroundTruth) -> None:
    for e in entries:
        if e.name in GROUND_TRUTH:
            raise ValueError(f"ground truth {e.name!r} is declared twice")
        GROUND_TRUTH[e.name] = e


# ------------------------------------------------------------------ the zoo, from published tables
_add(
    _ref("imdn", lineage="distillation", params=_P["imdn"], train_data="DIV2K",
         notes="Our measurement pipeline reproduces this table: " + _EVAL.format(ref="imdn", s="{2,3,4}")
               + " with Zheng222/IMDN checkpoints/IMDN_x{2,3,4}.pth gives Set5 / Set14 / B100 x2 37.996 / 33.627 / "
               "32.189, x3 34.360 / 30.322 / 29.095, x4 32.210 / 28.582 / 27.561 (table: 38.00 / 33.63 / 32.19, "
               "34.36 / 30.32 / 29.09, 32.21 / 28.58 / 27.56)."),
    _ref("rfdn", lineage="distillation", params=_P["rfdn"], train_data="DIV2K",
         source="secondary: Liu et al. 2020, Table 3, as transcribed by a third party (shared/reference_models.md §2, "
                "marked verified secondary there)",
         notes="Paper form (nf 48, 6 RFDB, CCA r=4, block residual); no released weights."),
    _ref("rfdn_l", lineage="distillation", params=_P["rfdn_l"], train_data="DIV2K",
         notes="RFDN-L numbers are an UNVERIFIED transcription (shared/reference_models.md §2); weight them "
               "accordingly."),
    _ref("awsrn_s", lineage="awsrn", params=_P["awsrn_s"], train_data="DIV2K"),
    # AWSRN-SD x3: the printed Set14 (32.21) is a typo; the other four sets are kept.
    _ref("awsrn_sd", lineage="awsrn", params=_P["awsrn_sd"], train_data="DIV2K",
         psnr=_psnr(x2=(37.86, 33.41, 32.07, 31.67, 38.20), x3=(34.18, None, 28.99, 27.80, 33.13),
                    x4=(31.98, 28.46, 27.48, 25.74, 30.09)),
         source="Wang et al. 2019, Table 4 (ChaofWang/AWSRN figs/results.png); x3 Set14 left out (printed "
                "32.21, a typo)"),
    _ref("awsrn_m", lineage="awsrn", params=_P["awsrn_m"], train_data="DIV2K"),
    _ref("awsrn", lineage="awsrn", params=_P["awsrn"], train_data="DIV2K"),
    _ref("ecbsr_m16c64", lineage="ecbsr", params=_P["ecbsr_m16c64"], train_data="DIV2K",
         notes="Y channel only (colors 1): a network of one input channel; secondary numbers."),
    _ref("ecbsr_m4c16_rgb", lineage="ecbsr", params=_P["ecbsr_m4c16_rgb"],
         psnr={**REFERENCES["ecbsr_m4c16_rgb"].published_psnr, **_psnr(x3=(33.07, 29.53, 28.57, 26.61))},
         source=_ETDS, train_data=_ETDS_PROTOCOL,
         notes="RGB retraining by the ETDS authors (their protocol, one table for all three)."),
    _ref("ecbsr_m4c32_rgb", lineage="ecbsr", params=_P["ecbsr_m4c32_rgb"],
         psnr={**REFERENCES["ecbsr_m4c32_rgb"].published_psnr, **_psnr(x3=(33.56, 29.78, 28.73, 26.98))},
         source=_ETDS, train_data=_ETDS_PROTOCOL,
         notes="RGB retraining by the ETDS authors."),
    _ref("ecbsr_m6c40_rgb", lineage="ecbsr", params=_P["ecbsr_m6c40_rgb"],
         psnr={**REFERENCES["ecbsr_m6c40_rgb"].published_psnr, **_psnr(x3=(33.67, 29.92, 28.85, 27.36))},
         source=_ETDS, train_data=_ETDS_PROTOCOL,
         notes="RGB retraining by the ETDS authors."),
)


# ------------------------------------------------------------------ the zoo, measured from released weights
# nas eval (this checkout) on ../shared/benchmark_data, Set5 / Set14 / B100; values to 3 decimals.
def _m(set5: float, set14: float, b100: float) -> dict[str, float]:
    return {"Set5": set5, "Set14": set14, "B100": b100}


_add(
    _ref("rlfn", lineage="distillation", params=_P["rlfn"],
         psnr={2: _m(38.066, 33.718, 32.242), 4: _m(32.238, 28.620, 27.607)},
         source="measured: " + _EVAL.format(ref="rlfn", s="{2,4}") + "; weights bytedance/RLFN "
                "model_zoo/rlfn_x{2,4}.pth",
         notes="Agrees with the paper as quoted in shared/reference_models.md §11 (x4 32.24 / 28.62, x2 38.07 / "
               "33.72); the paper's table itself was not read here. RLFN's paper trains in stages (warm start, "
               "contrastive loss)."),
    _ref("rlfn_s", lineage="distillation", params=_P["rlfn_s"],
         psnr={2: _m(38.047, 33.622, 32.212), 4: _m(32.239, 28.623, 27.583)},
         source="measured: " + _EVAL.format(ref="rlfn_s", s="{2,4}") + "; weights bytedance/RLFN "
                "model_zoo/rlfn_s_x{2,4}.pth",
         notes="Paper table not read here. At x4 Set5 it equals RLFN (32.239 vs 32.238) with 73 K fewer "
               "parameters."),
    _ref("rlfn_ntire", lineage="distillation", params=_P["rlfn_ntire"], train_data="DIV2K+Flickr2K (NTIRE 2022)",
         psnr={4: _m(32.097, 28.598, 27.579)},
         source="measured: " + _EVAL.format(ref="rlfn_ntire", s=4) + "; weights bytedance/RLFN "
                "model_zoo/rlfn_ntire_x4.pth",
         notes="The NTIRE 2022 entry (RLFN_cut); the challenge reports only DIV2K RGB-PSNR."),
    _ref("bsrn", lineage="distillation", params=_P["bsrn"], train_data="DF2K",
         psnr={2: _m(38.083, 33.730, 32.235), 3: _m(34.450, 30.469, 29.183),
               4: {**_m(32.349, 28.735, 27.649), "Urban100": 26.27, "Manga109": 30.84}},
         source="measured: " + _EVAL.format(ref="bsrn", s="{2,3,4}") + "; weights xiaom233/BSRN "
                "experiments/pretrained_models/net_g_BSRN_x{2,3,4}.pth (the 'params' entry); x4 Urban100 / "
                "Manga109: secondary, the paper's row as copied by LKDN (stella-von/LKDN README.md)",
         notes="x4 measured Set5 / Set14 / B100 32.349 / 28.735 / 27.649 = the paper's row as quoted by LKDN "
               "(32.35 / 28.73 / 27.65). Trained 1 M iterations, patch 192, DF2K (options/train/train_BSRN_x4.yml)."),
    _ref("bsrn_s", lineage="distillation", params=_P["bsrn_s"], train_data="DF2K",
         psnr={4: _m(32.157, 28.633, 27.584)},
         source="measured: " + _EVAL.format(ref="bsrn_s", s=4) + "; weights xiaom233/BSRN "
                "experiments/pretrained_models/net_g_BSRN-S.pth (the 'params' entry)",
         notes="Agrees with BSRN-S 32.16 at 156 K in the BSRN authors' plot script (XPixelGroup/BasicSR "
               "scripts/plot/model_complexity_cmp_bsrn.py, shared/reference_models.md §11). 1.5 M iterations, "
               "patch 256 (options/train/train_BSRN-S_x4.yml)."),
    _ref("efdn", lineage="distillation", params=_P["efdn"],
         psnr={2: _m(37.938, 33.429, 32.133), 4: _m(32.076, 28.582, 27.555)},
         source="measured: " + _EVAL.format(ref="efdn", s=4) + "; weights Amazingren/NTIRE2025_ESR "
                "model_zoo/team00_EFDN.pth (byte-identical to icandle/EFDN model_zoo/EFDN_gv.pth); x2: "
                "benchmarks/official_to_safetensors.py --reference efdn --config-from efdn --scale 2 on icandle/EFDN "
                "model_zoo/EFDNx2_baseline.pth, then nas eval on the .safetensors",
         notes="The released deploy form (EDBB merged into 3x3 convs). The x2 file is named 'baseline' by the "
               "authors; which table row it is was not checked. The paper's table was not read here."),
    _ref("imdn_rtc", lineage="distillation", params=_P["imdn_rtc"], psnr={2: _m(37.311, 32.970, 31.750)},
         source="measured: " + _EVAL.format(ref="imdn_rtc", s=2) + "; weights Zheng222/IMDN checkpoints/model_RTC.pth "
                "(= ../shared/checkpoints/official/model_RTC.pth)",
         notes="The AI-in-RTC 2019 winner (nf 12, 5 IMDBs without CCA); its training protocol is not published."),
    _ref("erfdn", lineage="distillation", params=_P["erfdn"], train_data="DF2K",
         psnr={4: _m(32.159, 28.645, 27.608)},
         source="measured: " + _EVAL.format(ref="erfdn", s=4) + "; weights njulj/RFDN trained_model/RFDN_AIM.pth",
         notes="Agrees with the 32.16 the zoo records from the authors' test code."),
    _ref("span_ntire", lineage="span", params=_P["span_ntire"], train_data="DIV2K+LSDIR (NTIRE 2024)",
         psnr={4: _m(31.739, 28.401, 27.447)},
         source="measured: benchmarks/official_to_safetensors.py --reference span_ntire --scale 4 --deploy on "
                "Amazingren/NTIRE2024_ESR model_zoo/team38_span_ch28_slim.pth (deploy form), then nas eval on the "
                ".safetensors (Set5 / Set14 / B100)",
         notes="The NTIRE 2024 winning entry, trained for DIV2K_LSDIR RGB-PSNR; params are the train form "
               "(deploy form 150,688). Our deploy network with these weights gives the authors' SPAN30 module's "
               "output exactly (max difference 0 on a random 24x24 input, checked once)."),
)

# ------------------------------------------------------------------ not efficient: the plain residual stack
def _edsr_baseline(scale: int) -> ArchConfig:
    """EDSR-baseline (Lim et al., CVPR-W 2017; sanghyun-son/EDSR-PyTorch ``src/model/edsr.py`` with
    n_resblocks 16, n_feats 64, res_scale 1, rgb_range 255): head conv, 16 plain residual blocks, a
    3x3 conv, the long skip, EDSR's upsampler and tail conv, mean shift in and out."""
    return ArchConfig(name="edsr_baseline", scale=scale, nf=64, blocks=[ResBlockConfig()] * 16, fusion="conv3x3",
                      global_residual=True, upsampler="edsr", input_norm="meanshift255")


_add(
    GroundTruth("edsr_baseline", _edsr_baseline, family="edsr", lineage="edsr",
                psnr=_psnr(x2=(37.99, 33.57, 32.16, 31.98, 38.54), x3=(34.37, 30.28, 29.09, 28.15, 33.45),
                           x4=(32.09, 28.58, 27.57, 26.04, 30.35)),
                source="secondary: Hui et al. 2019 (IMDN) comparison table, rows EDSR-baseline (1,370K / 1,555K / "
                       "1,518K), as printed in the IMDN authors' poster Zheng222/IMDN images/acmmm19_poster.pdf "
                       "('Average PSNR/SSIM results'); the EDSR paper and README give DIV2K PSNR only",
                params={2: 1_369_859, 3: 1_554_499, 4: 1_517_571}, train_data="DIV2K",
                notes="Counts from the EDSR code's structure (the printed 1,370K / 1,555K / 1,518K); its "
                      "parameters() also holds two frozen 1x1 MeanShift convs (24 more). Not efficient: the plain "
                      "residual control. Released weights (edsr_baseline_x{2,3,4}-*.pt) are on cv.snu.ac.kr, not "
                      "in the repository: not measured here."),
)


# ------------------------------------------------------------------ not efficient: pre-upsampling
def _vdsr(scale: int) -> ArchConfig:
    """VDSR (Kim, Lee, Lee, CVPR 2016, §3.1 and Fig. 2): the LR Y channel interpolated to the HR size
    (bicubic), 20 3x3 conv layers of 64 filters (ReLU after all but the last), the interpolated
    input added to the output (residual learning). One network for every scale (trained on x2, x3
    and x4 together), so the config differs across scales only in the interpolation factor."""
    return ArchConfig(name="vdsr", scale=scale, colors=1, nf=64, head_act="relu", blocks=[ConvBlockConfig()] * 18,
                      fusion="last", global_residual=False, upsampler="pre_bicubic", input_skip="bicubic")


_add(
    GroundTruth("vdsr", _vdsr, family="vdsr", lineage="vdsr",
                psnr={**_psnr(x2=(37.53, 33.03, 31.90, 30.76), x3=(33.66, 29.77, 28.82, 27.14)),
                      **_psnr(x4=(31.35, 28.01, 27.29, 25.18, 28.83))},
                source="secondary: Kim et al. 2016 (VDSR), Table 2, as transcribed in huawei-noah/AdderNet README.md "
                       "('Super-Resolution results', rows VDSR / CNN: x2 / x3 / x4, Set5 / Set14 / B100 / Urban100) "
                       "and Aitical/CFSR README.md (x4 row VDSR, 666 K, with Manga109 28.83); the two agree at x4, "
                       "and the BSRN authors' plot script gives x4 Set5 31.35 at 666 K (shared/reference_models.md "
                       "§11)",
                params={2: 665_921, 3: 665_921, 4: 665_921}, train_data="291 images (T91 + BSD200), x2 / x3 / x4 "
                "together",
                notes="Y channel only (colors 1). 665,921 parameters with conv biases (the tables' 665 K / 666 K; "
                      "without biases 664,704). Not efficient: every layer runs at HR resolution, so its "
                      "Mult-Adds are s^2 times those of the same body at LR: 664,704 per HR pixel, 612.6 G for a "
                      "1280x720 output at every scale, the Mult-Adds printed beside it by Aitical/CFSR (x4) and "
                      "xiaomi-automl/MoreMNAS (x2) README tables (nas.metrics.mult_adds gives 612.6 G with the "
                      "interpolation's 6-8 MACs per pixel). The interpolation here is MATLAB's bicubic "
                      "(nas.primitives.BicubicUpsample), as in the authors' MATLAB code. Trained on far less data "
                      "than the DIV2K-era networks: the gap to them is design and data together."),
)


def _srcnn(scale: int) -> ArchConfig:
    """SRCNN 9-5-5 (Dong, Loy, He, Tang, TPAMI 2016, §3.1-3.3 and §4.3): the LR Y channel
    interpolated to the HR size (bicubic), a 9x9 conv 1 -> 64 + ReLU, a 5x5 conv 64 -> 32 + ReLU
    and a 5x5 reconstruction conv 32 -> 1, no skip. One network per scale, each of the same shape."""
    return ArchConfig(name="srcnn", scale=scale, colors=1, nf=64, head_kernel=9, head_act="relu",
                      blocks=[ConvBlockConfig(kernel=5, out_channels=32)], fusion="last", global_residual=False,
                      upsampler="pre_bicubic", tail_kernel=5)


_add(
    GroundTruth("srcnn", _srcnn, family="srcnn", lineage="srcnn",
                psnr={2: {"Set5": 36.66}, 3: {"Set5": 32.75}, 4: {"Set5": 30.48}},
                source="secondary: Dong et al. 2016 (SRCNN, TPAMI), 9-5-5 trained on ImageNet, Set5 only. x2 36.66 "
                       "in the benchmark table of researching.cn OJ180ca922e81dc4b5 (figures-and-tables page of a "
                       "multi-scale dense feature fusion paper; its VDSR x2 row reads 37.54, 0.01 dB from VDSR's "
                       "own 37.53) and in InsightDev/SRCNN-keras README.md ('SRCNN-paper' column, which also gives "
                       "x3 32.75); x4 30.48 at 57 K in the BSRN authors' plot script (XPixelGroup/BasicSR "
                       "scripts/plot/model_complexity_cmp_bsrn.py; shared/reference_models.md §11). The other sets "
                       "are left out: the quotes differ by 0.02 dB (Set14 x2 32.43 / 32.45; x4 Set5 30.49 in the "
                       "keras README)",
                params={2: 57_281, 3: 57_281, 4: 57_281}, train_data="ImageNet (395,909 images), one model per scale",
                notes="Y channel only (colors 1). 57,281 parameters with biases (57,184 weights: 9^2 x 64 + 5^2 x "
                      "64 x 32 + 5^2 x 32, the counting convention of SRCNN §4.3, whose 9-1-5 network has 8,032; "
                      "the tables' 57 K). Zero-padded ('same') convs here; the authors trained without padding "
                      "and evaluated on the valid region. Not efficient: every layer runs at HR resolution, "
                      "57,184 Mult-Adds per HR pixel (52.7 G for a 1280x720 output). Trained long with SGD on "
                      "ImageNet patches, an older protocol than the DIV2K-era networks: the gap to them is design, "
                      "data and schedule together."),
)


_ETDS_TABLE = ("Chao et al. 2023 (ETDS, CVPR), Table 2 (ECNUSR/ETDS asserts/tables/table-all.png, read here at x2 / "
               "x3 / x4; Set5 / Set14 / B100 / Urban100, Y channel): retrained in RGB by the ETDS authors under "
               "the protocol of their ECBSR rows")

def _abpn(m: int, c: int, name: str) -> Callable[[int], ArchConfig]:
    """ABPN (Du et al., "Anchor-based Plain Net for Mobile Image Super-Resolution", CVPR-W 2021)
    at M middle layers of C channels, as the ETDS authors built it (ECNUSR/ETDS
    ``core/archs/ir/ABPN/arch.py`` ``ABPN``): conv3x3 3 -> C + ReLU, M x (conv3x3 C -> C + ReLU),
    conv3x3 C -> 3 s^2 + ReLU, conv3x3 3 s^2 -> 3 s^2, plus the LR repeated s^2 times along channels
    (the anchor), then PixelShuffle(s). The skeleton of ECBSR with plain convs and ReLU in place of
    ECBs and PReLU, and one more 3x3 conv at 3 s^2 channels before the shuffle."""

    def build(scale: int) -> ArchConfig:
        return ArchConfig(name=name, scale=scale, colors=3, nf=c, head_act="relu",
                          blocks=[ConvBlockConfig()] * m + [ConvBlockConfig(out_channels=3 * scale * scale)],
                          fusion="last", global_residual=False, upsampler="pixelshuffle", input_skip="nearest")

    return build


def _fsrcnn(scale: int) -> ArchConfig:
    """FSRCNN (Dong, Loy, Tang, ECCV 2016, §3.1-3.2) at d = 56, s = 12, m = 4, on RGB as the ETDS
    authors built it (ECNUSR/ETDS ``core/archs/ir/FSRCNN/arch.py``): conv5x5 3 -> 56 + PReLU,
    shrinking conv1x1 56 -> 12 + PReLU, 4 x (conv3x3 12 -> 12 + PReLU), expanding conv1x1 12 -> 56 +
    PReLU, a 9x9 transposed conv 56 -> 3 of stride s. No skip."""
    return ArchConfig(name="fsrcnn", scale=scale, colors=3, nf=56, head_kernel=5, head_act="prelu",
                      blocks=[ConvBlockConfig(kernel=1, out_channels=12, act="prelu")]
                      + [ConvBlockConfig(act="prelu")] * 4
                      + [ConvBlockConfig(kernel=1, out_channels=56, act="prelu")],
                      fusion="last", global_residual=False, upsampler="deconv")


def _espcn(scale: int) -> ArchConfig:
    """ESPCN (Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient
    Sub-Pixel Convolutional Neural Network", CVPR 2016, §2-3) on RGB as the ETDS authors built it
    (ECNUSR/ETDS ``core/archs/ir/ESPCN/arch.py``): conv5x5 3 -> 64 + tanh, conv3x3 64 -> 32 + tanh,
    conv3x3 32 -> 3 s^2, PixelShuffle(s), sigmoid. No skip."""
    return ArchConfig(name="espcn", scale=scale, colors=3, nf=64, head_kernel=5, head_act="tanh",
                      blocks=[ConvBlockConfig(act="tanh", out_channels=32)], fusion="last", global_residual=False,
                      upsampler="pixelshuffle", output_act="sigmoid")


_add(
    *(GroundTruth(f"abpn_m{m}c{c}", _abpn(m, c, f"abpn_m{m}c{c}"), family="abpn", lineage="ecbsr", psnr=psnr,
                  source=_ETDS_TABLE + f", rows ABPN-M{m}C{c}", params=params, train_data=_ETDS_PROTOCOL,
                  notes=f"{' / '.join(f'{v:,}' for v in params.values())} parameters at x2 / x3 / x4, the table's to 0.01 K. "
                        "Lineage ecbsr: the same plain skeleton and anchor skip as ECBSR, trained by the same authors "
                        "under the same protocol as the ecbsr_*_rgb rows." + extra)
      for m, c, psnr, params, extra in (
          (4, 28, _psnr(x2=(37.36, 32.96, 31.75, 30.55), x3=(33.53, 29.78, 28.72, 26.94),
                        x4=(31.32, 28.10, 27.23, 25.12)), {2: 33_464, 3: 42_539, 4: 62_048}, ""),
          (6, 40, _psnr(x2=(37.58, 33.16, 31.92, 31.04), x3=(33.71, 29.92, 28.85, 27.37),
                        x4=(31.62, 28.27, 27.35, 25.41)), {2: 93_400, 3: 104_095, 4: 125_872},
           " Beside ECBSR-M6C40 (the same M and C; 105.37 K deploy at x4) it is +0.21 dB at x4 Set5, -0.03 at x2, "
           "+0.04 at x3."))),
    GroundTruth("espcn", _espcn, family="espcn", lineage="espcn",
                psnr=_psnr(x2=(36.87, 32.62, 31.40, 29.61), x3=(32.85, 29.41, 28.40, 26.22),
                           x4=(30.66, 27.66, 26.94, 24.56)),
                source=_ETDS_TABLE + ", rows ESPCN (not the ESPCN paper's own ImageNet-trained Y-channel result)",
                params={2: 26_796, 3: 31_131, 4: 37_200}, train_data=_ETDS_PROTOCOL,
                notes="Parameters equal the table's 26.80 K / 31.13 K / 37.20 K. The first sub-pixel "
                      "(post-upsampling) network: three layers with tanh, the design every later network here "
                      "grew from; beside ECBSR-M4C16 (16.8 K deploy) it is 0.21 dB lower at x4 with 2.2 times "
                      "the parameters."),
    GroundTruth("fsrcnn", _fsrcnn, family="fsrcnn", lineage="srcnn",
                psnr=_psnr(x2=(37.00, 32.68, 31.51, 29.92), x3=(33.01, 29.52, 28.50, 26.40),
                           x4=(30.76, 27.74, 27.01, 24.66)),
                source=_ETDS_TABLE + ", rows FSRCNN (not the FSRCNN paper's own Y-channel, 91-image training)",
                params={2: 24_683, 3: 24_683, 4: 24_683}, train_data=_ETDS_PROTOCOL,
                notes="24,683 parameters at every scale (the table's 24.68 K): the deconvolution's size does not "
                      "depend on s. Lineage srcnn: FSRCNN is SRCNN's authors' redesign (post-upsampling, "
                      "shrink / map / expand). Mult-Adds here count the transposed conv per LR pixel (1.40 G "
                      "for a 1280x720 output at x4); the ETDS table prints 52.68 G, another convention for "
                      "the deconvolution."),
)


# ------------------------------------------------------------------ challenge entries (released weights)
# NTIRE efficient-SR entries whose networks are ArchConfigs exactly: the output of our network with
# the renamed weights equals the authors' module's (checked once each on a random input, see notes),
# then nas eval measured them. Trained by the teams for the challenge (x4 only).
def _imdn_kair(nb: int, name: str) -> Callable[[int], ArchConfig]:
    """The AIM 2019 simplified IMDN (KAIR ``IMDN``: nb IMDBlocks without CCA, a 3x3 conv, one long
    skip around the body, pixel-shuffle tail; ofsoundof/NTIRE2022_ESR ``models/imdn_baseline.py``)."""
    def build(scale: int) -> ArchConfig:
        block = IMDBConfig(distill_ratio=0.25, attention="none", residual=True)
        return ArchConfig(name=name, scale=scale, nf=64, blocks=[block] * nb, fusion="conv3x3", global_residual=True)

    return build


def _rlfn_cut(nf: int, mid: int | None, name: str, input_skip: str = "none", n_blocks: int = 4,
              attention: str = "esa", mid_conv: str = "conv3x3") -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        block = RLFBConfig(mid_channels=mid, esa_channels=16, attention=attention, act="lrelu", mid_conv=mid_conv)
        return ArchConfig(name=name, scale=scale, nf=nf, blocks=[block] * n_blocks, fusion="conv3x3",
                          global_residual=True, input_skip=input_skip)

    return build


_SLIMRLFN_RENAME = ("--rename '^conv_1\\.=>fea_conv.' --rename '^block_list\\.=>blocks.' --rename '^conv_2\\.=>LR_conv.' "
                    "--rename '^upsampler\\.upsample_conv\\.=>upsampler.0.'")
_CONVERT = ("measured: benchmarks/official_to_safetensors.py --ground-truth {name} --scale 4 {how} --weights {w}, "
            "then nas eval on the .safetensors (Set5 / Set14 / B100); weights {repo}")
_KAIR_IMDN_RENAME = ("--rename '^model\\.0\\.=>fea_conv.' --rename '^model\\.1\\.sub\\.{nb}\\.=>LR_conv.' "
                     "--rename '^model\\.1\\.sub\\.(\\d+)\\.conv(\\d)\\.0\\.=>blocks.\\1.c\\2.' "
                     "--rename '^model\\.1\\.sub\\.(\\d+)\\.conv4\\.=>blocks.\\1.c4.' "
                     "--rename '^model\\.1\\.sub\\.(\\d+)\\.conv1x1\\.=>blocks.\\1.c5.' "
                     "--rename '^model\\.2\\.=>upsampler.0.' --pixel-range 1")


_add(
    GroundTruth("imdn_aim2019", _imdn_kair(8, "imdn_aim2019"), family="imdn", lineage="distillation",
                psnr={4: _m(32.247, 28.691, 27.636)},
                source=_CONVERT.format(name="imdn_aim2019", how=_KAIR_IMDN_RENAME.format(nb=8), w="imdn_baseline.pth",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/imdn_baseline.pth"),
                params={4: 893_936}, train_data="AIM 2019 challenge entry (team's own training)",
                notes="The AIM 2019 constrained-SR winner (simplified IMDN: 8 IMDBs without CCA, no intermediate "
                      "collection), the NTIRE 2022 ESR baseline; 893,936 params = the checkpoint's. Output equals the "
                      "authors' KAIR IMDN module with these weights (checked once)."),
    GroundTruth("imdn_nb7_ntire22", _imdn_kair(7, "imdn_nb7_ntire22"), family="imdn", lineage="distillation",
                psnr={4: _m(32.206, 28.663, 27.624)},
                source=_CONVERT.format(name="imdn_nb7_ntire22", how=_KAIR_IMDN_RENAME.format(nb=7),
                                       w="team26_imdn_nb7.pth",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team26_imdn_nb7.pth (team xilinxSR)"),
                params={4: 790_496}, train_data="NTIRE 2022 entry (team's own training)",
                notes="The simplified IMDN with 7 blocks, retrained by an NTIRE 2022 team. Output equals the authors' "
                      "module's (checked once)."),
    GroundTruth("lightrlfn_ntire24", _rlfn_cut(36, 48, "lightrlfn_ntire24", input_skip="bilinear"), family="rlfn",
                lineage="distillation",
                psnr={4: _m(32.039, 28.597, 27.569)},
                source=_CONVERT.format(name="lightrlfn_ntire24", how="--reference rlfn_ntire --pixel-range 1",
                                       w="team16_LightRLFN.pth",
                                       repo="Amazingren/NTIRE2024_ESR model_zoo/team16_LightRLFN.pth (team 16)"),
                params={4: 265_988}, train_data="NTIRE 2024 entry (team's own training)",
                notes="RLFN_cut at nf 36 (mid 48, 4 RLFBs) plus a bilinear input skip, [0, 1] input (test_demo "
                      "data_range 1.0). Output equals the authors' LightRLFN module's (checked once)."),
    GroundTruth("depthrlfn_ntire24", _rlfn_cut(46, 48, "depthrlfn_ntire24", input_skip="bilinear",
                                               mid_conv="dw_act_pw"),
                family="rlfn", lineage="distillation",
                psnr={4: _m(32.035, 28.578, 27.571)},
                source=_CONVERT.format(name="depthrlfn_ntire24", how="--reference rlfn_ntire --pixel-range 1",
                                       w="team42_DepthRLFN.pth",
                                       repo="Amazingren/NTIRE2024_ESR model_zoo/team42_DepthRLFN.pth (team 42, "
                                            "models/team42_DepthRLFN.py RLFN_PruneLocal())"),
                params={4: 245_410}, train_data="NTIRE 2024 entry (team's own training)",
                notes="RLFN_cut (nf 46, mid 48, 4 RLFBs) whose middle conv is depthwise 3x3, LeakyReLU(0.05), 1x1 "
                      "(mid_conv: dw_act_pw), plus a bilinear input skip; [0, 1] input (test_demo data_range 1.0). "
                      "Its TLSC wrapper (Local_Base) replaces average pools the network does not have, so it changes "
                      "nothing. Output equals the authors' module's (checked once, float64)."),
    GroundTruth("slimrlfn_ntire24", _rlfn_cut(30, None, "slimrlfn_ntire24", n_blocks=6, attention="esa_no_conv_f"),
                family="rlfn", lineage="distillation",
                psnr={4: _m(31.975, 28.594, 27.545)},
                source=_CONVERT.format(name="slimrlfn_ntire24", how=_SLIMRLFN_RENAME + " --pixel-range 255",
                                       w="team21_slimrlfn.pth",
                                       repo="Amazingren/NTIRE2024_ESR model_zoo/team21_slimrlfn.pth (team 21, "
                                            "models/team21_SlimRLFN.py SlimRLFN(), the unpruned form test_demo.py loads)"),
                params={4: 207_774}, train_data="NTIRE 2024 entry (team's own training)",
                notes="RLFN at nf 30 with 6 RLFBs whose slim ESA has no conv_f (the skip c1_ enters conv4 directly), "
                      "[0, 255] input (test_demo data_range 255). Output equals the authors' SlimRLFN module's (checked "
                      "once, float64)."),
)


def _at_width(reference: str, nf: int, name: str, fusion_channels: int | None = None,
              **block_fields: object) -> Callable[[int], ArchConfig]:
    """A zoo reference's config at width ``nf``, named ``name`` (``span_ntire``: SPAN30 with 6
    SPABs; ``erfdn``: 4 RFDBs, ESA of nf // 4), with ``block_fields`` set on every block (validated
    as a block config, e.g. ``attention="pfa"``) and the ``span`` fusion's width where given."""
    net_fields = {} if fusion_channels is None else {"fusion_channels": fusion_channels}

    def build(scale: int) -> ArchConfig:
        cfg = REFERENCES[reference].build(scale)
        if block_fields:
            cfg = cfg.replace(blocks=[type(b).model_validate({**b.model_dump(), **block_fields}) for b in cfg.blocks])
        return cfg.replace(nf=nf, name=name, **net_fields)

    return build


_add(
    GroundTruth("dscf_ntire25", _at_width("span_ntire", 26, "dscf_ntire25"), family="span", lineage="span",
                psnr={4: _m(31.746, 28.342, 27.405)},
                source=_CONVERT.format(name="dscf_ntire25", how="--reference span_ntire --deploy",
                                       w="team23_DSCF.pth",
                                       repo="Amazingren/NTIRE2025_ESR model_zoo/team23_DSCF.pth (DSCLoRA, the NTIRE "
                                            "2025 ESR winner)"),
                params={4: 547_944}, train_data="DIV2K+LSDIR (NTIRE 2025)",
                notes="SPAN30 at nf 26 as submitted: the ConvLoRA branches merged into the deploy convs (130,828 "
                      "deploy parameters, the checkpoint's), trained with ConvLoRA and spatial-affinity distillation "
                      "(shared/reference_models.md §10), not a plain training of this network. Output equals the "
                      "authors' DSCF module's (checked once; their test_demo loads with strict=False, every key "
                      "matched)."),
)


_add(
    GroundTruth("span_f20_ntire25", _at_width("span_ntire", 28, "span_f20_ntire25", fusion_channels=20),
                family="span", lineage="span",
                psnr={4: _m(31.736, 28.403, 27.439)},
                source=_CONVERT.format(name="span_f20_ntire25", how="--reference span_ntire --deploy --entry params_ema",
                                       w="team46_span.pth",
                                       repo="Amazingren/NTIRE2025_ESR model_zoo/team46_span.pth (team 46; byte-identical "
                                            "to team51_span.pth; models/team46_SPAN.py SPAN(3, 3, feature_channels=28))"),
                protocol="derived:span_ntire", params={4: 629_688},
                train_data="NTIRE 2025 entry (span_ntire's weights with a retrained tail)",
                notes="SPAN at nf 28 (span_ntire's width) whose conv_cat fuses to 20 channels, so the upsampler "
                      "takes 20 (fusion_channels: 20): 146,328 deploy parameters, 4,360 fewer than span_ntire. Every "
                      "body tensor is within 2.6e-4 of span_ntire's weights (NTIRE 2024 team 38): only the fusion "
                      "and the upsampler were trained again. Output equals the authors' module's (checked once, "
                      "float64)."),
)


_add(
    GroundTruth("erfdn_nf40_ntire22", _at_width("erfdn", 40, "erfdn_nf40_ntire22"), family="rfdn",
                lineage="distillation",
                psnr={4: _m(32.207, 28.628, 27.603)},
                source=_CONVERT.format(name="erfdn_nf40_ntire22", how="--reference erfdn --pixel-range 1",
                                       w="team22_rep_rfdn.pth",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team22_rep_rfdn.pth (team 22, "
                                            "models/team22_rep_rfdn.py RFDN40)"),
                params={4: 282_688}, train_data="NTIRE 2022 entry (team's own training)",
                notes="E-RFDN at nf 40 (ESA of 10 channels), [0, 1] input (test_demo data_range 1.0); "
                      "282,688 params = the checkpoint's. It scores 0.05 dB above the 433 K E-RFDN of the AIM "
                      "2020 weights: a training recipe, not a design, separates them."),
)


_add(
    GroundTruth("rfdn_pfa_ntire26", _at_width("erfdn", 46, "rfdn_pfa_ntire26", attention="pfa"), family="rfdn",
                lineage="distillation",
                psnr={4: _m(31.932, 28.548, 27.541)},
                source=_CONVERT.format(name="rfdn_pfa_ntire26", how="--reference erfdn --pixel-range 1 "
                                                                              "--entry params_ema",
                                       w="team09_RFDN_SPAN.pth",
                                       repo="Amazingren/NTIRE2026_ESR model_zoo/team09_RFDN_SPAN.pth (team 09, "
                                            "models/team09_RFDN_SPAN.py RFDN_SPAN, built there at nf 46)"),
                params={4: 346_152}, train_data="NTIRE 2026 entry (team's own training)",
                notes="E-RFDN at nf 46 with each RFDB's ESA replaced by SPAN's parameter-free attention "
                      "(h + x) * (sigmoid(h) - 0.5); [0, 1] input (test_demo data_range 1.0); the checkpoint's "
                      "params_ema entry (the one test_demo loads), 346,152 params. Output equals the authors' "
                      "RFDN_SPAN module's exactly (float64, checked once). NTIRE 2026 lists it at 26.91 dB "
                      "(DIV2K_LSDIR_valid, RGB). 0.23 dB under E-RFDN on Set5 at 80 % of its parameters."),
)


def _esan(name: str) -> Callable[[int], ArchConfig]:
    """NTIRE 2022 team 34's ESAN at level 1 (ofsoundof/NTIRE2022_ESR ``models/team34_esan.py``):
    a 3x3 head to nf 32, 16 residual blocks conv-ReLU-conv-ESA (ESA without ``conv_f``) plus
    identity, a 3x3 conv + pixel shuffle tail, and a second 3x3 conv + pixel shuffle on the input
    added to the output; no long skip."""
    def build(scale: int) -> ArchConfig:
        block = ResBlockConfig(act="relu", res_scale=1.0, attention="esa_no_conv_f")
        return ArchConfig(name=name, scale=scale, nf=32, blocks=[block] * 16, fusion="last", global_residual=False,
                          upsampler="pixelshuffle", input_skip="conv")

    return build


_ESAN_RENAME = ("--rename '^conv_first\\.0\\.=>fea_conv.' --rename '^upconv\\.0\\.=>upsampler.0.' "
                "--rename '^upconv0\\.=>skip.0.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.conv1\\.=>blocks.\\1.body.0.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.conv2\\.=>blocks.\\1.body.2.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.ESA\\.conv3_1\\.=>blocks.\\1.esa.conv_max.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.ESA\\.conv3_2\\.=>blocks.\\1.esa.conv3.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.ESA\\.conv3_3\\.=>blocks.\\1.esa.conv3_.' "
                "--rename '^recon_trunk\\.0\\.(\\d+)\\.ESA\\.=>blocks.\\1.esa.'")

# NTIRE 2022 entries one option away from E-RFDN or from a plain residual stack (found in a survey of
# every ofsoundof/NTIRE2022_ESR entry, session 22): the option was added and the renamed weights'
# output compared with the authors' module before nas eval measured them.
_add(
    GroundTruth("rfdn_dilated_ntire22", _at_width("erfdn", 64, "rfdn_dilated_ntire22", dilations=(1, 2, 5)),
                family="rfdn", lineage="distillation",
                psnr={4: _m(32.216, 28.653, 27.617)},
                source=_CONVERT.format(name="rfdn_dilated_ntire22", how="--reference erfdn --pixel-range 1",
                                       w="team13_rfdn_dilated.pth",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team13_rfdn_dilated.pth (team 13, "
                                            "models/team13_rfdn_dilated/RFDN_dilated.py RFDN_dilated())"),
                params={4: 704_560}, train_data="NTIRE 2022 entry (team's own training)",
                notes="E-RFDN at nf 64 whose three refine convs per RFDB are dilated 1, 2, 5 (padding = dilation); "
                      "[0, 1] input (test_demo data_range 1.0). Output equals the authors' module's (checked once, "
                      "float64)."),
    GroundTruth("sfdn_ntire22", _at_width("erfdn", 50, "sfdn_ntire22", attention="esa_no_conv_f"),
                family="rfdn", lineage="distillation",
                psnr={4: _m(32.160, 28.650, 27.608)},
                source=_CONVERT.format(name="sfdn_ntire22", how="--reference erfdn --pixel-range 255",
                                       w="team08_sfdn.pt",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team08_sfdn.pt (team 08, "
                                            "models/team08_sfdn.py RFDN())"),
                protocol="derived:erfdn", params={4: 432_824},
                train_data="NTIRE 2022 entry (fine-tuned from E-RFDN's AIM 2020 weights)",
                notes="E-RFDN (nf 50) with ESA without conv_f (624 parameters fewer). Every shared tensor is within "
                      "0.9 of the AIM 2020 E-RFDN weights (ofsoundof/NTIRE2022_ESR model_zoo/rfdn_baseline.pth): a "
                      "fine-tune, not an independent training. The released weights are the training form: the "
                      "team's forward has plain refine convs and a switch_to_deploy that folds the SRB identity into "
                      "them, and test_demo.py (data_range 1.0, no fold) gives Set5 27.586 dB, as the challenge "
                      "ran it (DIV2K valid 27.79 dB, figs/results.png). With the SRB (our "
                      "refine: srb, i.e. the fold) at [0, 255] input they give 32.160, E-RFDN's own 32.159: the "
                      "configuration measured here. Output with refine: conv at [0, 1] equals the authors' module "
                      "as released (checked once, float64)."),
    GroundTruth("esan_ntire22", _esan("esan_ntire22"), family="edsr", lineage="edsr",
                psnr={4: _m(32.099, 28.575, 27.547)},
                source=_CONVERT.format(name="esan_ntire22", how=_ESAN_RENAME + " --pixel-range 255",
                                       w="team34_esan.pt",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team34_esan.pt (team 34, "
                                            "models/team34_esan.py make_model(1))"),
                params={4: 358_256}, train_data="NTIRE 2022 entry (team's own training)",
                notes="A plain residual stack (16 EDSR-style blocks at nf 32) with ESA (no conv_f) on every "
                      "residual branch and a conv + pixel-shuffle input skip; [0, 255] input (test_demo data_range "
                      "255). Output equals the authors' module's (checked once, float64)."),
)


def _tsr(name: str, fusion: str) -> Callable[[int], ArchConfig]:
    """NTIRE 2025 team 31's TSR (``fusion="conv3x3"``) and team 58's TSSR (``"conv1x1"``),
    Amazingren/NTIRE2025_ESR ``models/team31_TSR.py`` / ``team58_TSSR.py``: a 3x3 head to nf 32,
    four REECBs (four 3x3 convs, each followed by SiLU, plus the block input), the fusion conv plus
    the head output, a 3x3 conv + pixel shuffle tail. Released in deploy form (one 3x3 conv per
    REECB stage); here each stage is an ECB, whose deploy form is that 3x3 conv."""
    def build(scale: int) -> ArchConfig:
        block = ECBBlockConfig(depth=4, depth_multiplier=2.0, act="silu", residual=True)
        return ArchConfig(name=name, scale=scale, nf=32, blocks=[block] * 4, fusion=fusion, global_residual=True,
                          upsampler="pixelshuffle")

    return build


_TSR_RENAME = ("--rename '^conv_1\\.eval_conv\\.=>fea_conv.' "
               "--rename '^blocks\\.(\\d+)\\.c1_r\\.eval_conv\\.=>blocks.\\1.body.0.reparam_conv.' "
               "--rename '^blocks\\.(\\d+)\\.c2_r\\.eval_conv\\.=>blocks.\\1.body.1.reparam_conv.' "
               "--rename '^blocks\\.(\\d+)\\._extern_conv_block\\.0\\.eval_conv\\.=>blocks.\\1.body.2.reparam_conv.' "
               "--rename '^blocks\\.(\\d+)\\.c3_r\\.eval_conv\\.=>blocks.\\1.body.3.reparam_conv.' "
               "--rename '^conv_2\\.(eval_conv\\.)?=>LR_conv.' --deploy")

_add(
    GroundTruth("tsr_ntire25", _tsr("tsr_ntire25", "conv3x3"), family="tsr", lineage="ecbsr",
                psnr={4: _m(31.883, 28.441, 27.482)},
                source=_CONVERT.format(name="tsr_ntire25", how=_TSR_RENAME, w="team31_TSR.pth",
                                       repo="Amazingren/NTIRE2025_ESR model_zoo/team31_TSR.pth (team 31, "
                                            "models/team31_TSR.py TSR())"),
                params={4: 568_784}, train_data="NTIRE 2025 entry (team's own training)",
                notes="171,984 deploy parameters (the checkpoint's); params is the ECB training form built here, "
                      "not the authors' (their training branches are not released). [0, 1] input. Output equals "
                      "the authors' module's (checked once, float64)."),
    GroundTruth("tssr_ntire25", _tsr("tssr_ntire25", "conv1x1"), family="tsr", lineage="ecbsr",
                psnr={4: _m(31.938, 28.465, 27.476)},
                source=_CONVERT.format(name="tssr_ntire25", how=_TSR_RENAME, w="team58_TSSR.pth",
                                       repo="Amazingren/NTIRE2025_ESR model_zoo/team58_TSSR.pth (team 58, "
                                            "models/team58_TSSR.py TSSR())"),
                params={4: 560_592}, train_data="NTIRE 2025 entry (team's own training)",
                notes="TSR with a 1x1 fusion conv: 163,792 deploy parameters (the checkpoint's). Trained apart from "
                      "TSR (every shared tensor differs, by up to 136). [0, 1] input. Output equals the authors' "
                      "module's (checked once, float64)."),
)


# ------------------------------------------------------------------ retrainings
# The same config trained again by someone else: not a new design, so not fitted on or ranked
# (protocol ``retrain:<entry>``); the PSNR gap to ``<entry>`` is the label noise any predictor of
# fully-trained PSNR inherits from the field's differing training recipes.
_add(
    GroundTruth("erfdn_ntire22_t06", _at_width("erfdn", 50, "erfdn_ntire22_t06"), family="rfdn", lineage="distillation",
                psnr={4: _m(32.092, 28.559, 27.557)},
                source=_CONVERT.format(name="erfdn_ntire22_t06", how="--reference erfdn --pixel-range 1",
                                       w="team06_v1.pth",
                                       repo="ofsoundof/NTIRE2022_ESR model_zoo/team06_v1.pth (team 06, "
                                            "models/team06_v1.py v1(nf=50, num_modules=4))"),
                protocol="retrain:erfdn", params={4: 433_448}, train_data="NTIRE 2022 entry (team's own training)",
                notes="E-RFDN's exact config (433,448 params), retrained by an NTIRE 2022 team; [0, 1] input. "
                      "0.067 dB below the AIM 2020 weights on Set5 (Set14 0.086, B100 0.051)."),
    GroundTruth("bsrn_s_ntire22_t18", lambda s: REFERENCES["bsrn_s"].build(s).replace(name="bsrn_s_ntire22_t18"),
                family="bsrn", lineage="distillation",
                psnr={4: _m(32.010, 28.590, 27.548)},
                source="measured: benchmarks/official_to_safetensors.py --reference bsrn_s --scale 4 --entry params "
                       "--weights team18_bsrn.pth, then nas eval on the .safetensors (Set5 / Set14 / B100); weights "
                       "ofsoundof/NTIRE2022_ESR model_zoo/team18_bsrn.pth (team 18 XPixel, BSRN's authors: "
                       "models/team18_bsrn.py BSRN(num_feat=48, num_block=5, conv='BSConvU'), the 'params' entry)",
                protocol="retrain:bsrn_s", params={4: 156_288}, train_data="NTIRE 2022 entry (the authors' submission)",
                notes="BSRN-S's exact config as submitted to NTIRE 2022 by its authors; none of its 247 tensors equals "
                      "the later release xiaom233/BSRN net_g_BSRN-S.pth (largest difference 18.4), which scores 0.147 "
                      "dB more on Set5 (Set14 0.043, B100 0.036). Output equals the authors' module's (5.7e-15, "
                      "float64)."),
    GroundTruth("rlfn_b_ntire24", lambda s: REFERENCES["rlfn_ntire"].build(s).replace(name="rlfn_b_ntire24"),
                family="rlfn", lineage="distillation",
                psnr={4: _m(32.075, 28.564, 27.552)},
                source=_CONVERT.format(name="rlfn_b_ntire24",
                                       how="--reference rlfn_ntire --fold-bn '(block_\\d+)\\.bn1=>\\1.c1_r' "
                                           "--pixel-range 255",
                                       w="team13_model2.pth",
                                       repo="Amazingren/NTIRE2024_ESR model_zoo/team13_model2.pth (team 13, "
                                            "models/team13_RLFN_B.py RLFN_B(), the file test_demo.py loads)"),
                protocol="retrain:rlfn_ntire", params={4: 317_218}, train_data="NTIRE 2024 entry (team's own training)",
                notes="RLFN_cut (rlfn_ntire's exact config) trained with a batch norm after each block's first conv; "
                      "the BN's eval statistics fold into that conv (317,602 parameters before, 317,218 after), so "
                      "the network is rlfn_ntire's, 0.022 dB under bytedance's rlfn_ntire weights on Set5 (Set14 0.034, "
                      "B100 0.027). [0, 255] input (test_demo data_range 255). Output equals the "
                      "authors' module's in eval mode to 1.4e-7 (float64; the fold is done in the checkpoint's float32)."),
    GroundTruth("spantiny_ntire24", _at_width("span_ntire", 26, "spantiny_ntire24"), family="span", lineage="span",
                psnr={4: _m(31.739, 28.333, 27.399)},
                source=_CONVERT.format(name="spantiny_ntire24", how="--reference span_ntire --deploy",
                                       w="team39_spantiny_ch26_slim.pth",
                                       repo="Amazingren/NTIRE2024_ESR model_zoo/team39_spantiny_ch26_slim.pth "
                                            "(team 39, models/team39_SPANtiny.py SPAN30(feature_channels=26))"),
                protocol="retrain:dscf_ntire25", params={4: 547_944}, train_data="DIV2K+LSDIR (NTIRE 2024 entry)",
                notes="dscf_ntire25's exact config (130,828 deploy parameters; models/team39_SPANtiny.py differs "
                      "from team38_SPAN.py only in its CUDA warm-up). DSCF's ConvLoRA distillation adds 0.007 dB on "
                      "Set5 (Set14 0.009, B100 0.006) to this network: DSCF likely starts from these weights, so "
                      "the two are not independent trainings."),
)


# ------------------------------------------------------------------ ablation variants
# IMDN's ablation "Investigations of PRM, CCA module and IIC scheme" (x4), read from the authors'
# poster (Zheng222/IMDN images/acmmm19_poster.pdf; the paper's own ablation table was not read
# here). All rows have 4 IMDBs ("IMDN_basic_B4" in the poster's next table); the printed counts
# 499K / 482K / 480K are these configs' exactly (498,944 / 482,496 / 480,176). IIC (intermediate
# information collection) is the concatenation of every block's output (fusion ``concat``);
# without it the last block feeds the 3x3 conv directly (fusion ``conv3x3``): an inference
# from the counts (the 1x1 fusion's 16,448 parameters are exactly the 499K - 482K gap). The
# first row (no PRM, 510K) replaces IMDB's progressive refinement by a block the poster does
# not specify: not claimed.
_IMDN_ABL = "ablation:IMDN-PRM_CCA_IIC"
_IMDN_ABL_SRC = ("Hui et al. 2019 (IMDN), ablation 'Investigations of PRM, CCA module and IIC scheme', x4, as "
                 "printed in the authors' poster Zheng222/IMDN images/acmmm19_poster.pdf")


def _imdn_b4(attention: str, fusion: str, name: str) -> Callable[[int], ArchConfig]:
    def build(scale: int) -> ArchConfig:
        block = IMDBConfig(distill_ratio=0.25, attention=attention, cca_reduction=16, residual=True)
        return ArchConfig(name=name, scale=scale, nf=64, blocks=[block] * 4, fusion=fusion)

    return build


_add(
    GroundTruth("imdn_b4", _imdn_b4("cca", "concat", "imdn_b4"), family="imdn", lineage="distillation",
                psnr=_psnr(x4=(32.11, 28.52, 27.53, 25.90, 30.28)), source=_IMDN_ABL_SRC + ", row PRM+CCA+IIC (499K)",
                protocol=_IMDN_ABL, params={4: 498_944},
                notes="IMDN with 4 IMDBs instead of 6. The ablation's training protocol is not stated on the "
                      "poster; do not mix with 'main' numbers."),
    GroundTruth("imdn_b4_noiic", _imdn_b4("cca", "conv3x3", "imdn_b4_noiic"), family="imdn",
                lineage="distillation", psnr=_psnr(x4=(32.10, 28.51, 27.50, 25.89, 30.25)),
                source=_IMDN_ABL_SRC + ", row PRM+CCA (482K)", protocol=_IMDN_ABL, params={4: 482_496},
                notes="Without IIC: the last IMDB feeds the 3x3 conv (no 1x1 fusion)."),
    GroundTruth("imdn_b4_noiic_nocca", _imdn_b4("none", "conv3x3", "imdn_b4_noiic_nocca"), family="imdn",
                lineage="distillation", psnr=_psnr(x4=(32.01, 28.49, 27.50, 25.81, 30.16)),
                source=_IMDN_ABL_SRC + ", row PRM only (480K)", protocol=_IMDN_ABL, params={4: 480_176},
                notes="IMDBs without CCA, no IIC."),
)


# ------------------------------------------------------------------ controlled pairs
#: Pairs of one protocol whose configs differ in exactly ``fields`` and whose published (or
#: measured) PSNR differs by at least 0.1 dB; one record per (pair, scale), 4 distinct network
#: pairs in 12 records. The papers' own ablation tables (IMDN, RFDN, AWSRN,
#: ECBSR, RLFN, BSRN, SPAN, EFDN) could not be read here (see NOT_CLAIMED); these pairs come from
#: main tables whose rows differ in one choice only (depth or width), trained under one protocol.
ABLATION_PAIRS: list[AblationPair] = [
    AblationPair("awsrn_m", "awsrn_s", "1 -> 3 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 4, "Set5", round(32.21 - 31.77, 2)),
    AblationPair("awsrn", "awsrn_s", "1 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 4, "Set5", round(32.27 - 31.77, 2)),
    AblationPair("awsrn", "awsrn_m", "3 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4 (Set5 gap 0.06 dB, below the 0.1 dB bar; Urban100 0.14)",
                 4, "Urban100", round(26.29 - 26.15, 2)),
    AblationPair("ecbsr_m4c32_rgb", "ecbsr_m4c16_rgb", "nf 16 -> 32 (width)", ("nf",),
                 "Chao et al. 2023 (ETDS), Table 2: ECBSR retrained in RGB", 4, "Set5", round(31.24 - 30.87, 2)),
    # The same network pairs at x2 and x3 (other upsamplers, so other networks; one table each).
    AblationPair("awsrn_m", "awsrn_s", "1 -> 3 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 2, "Set5", round(38.04 - 37.75, 2)),
    AblationPair("awsrn_m", "awsrn_s", "1 -> 3 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 3, "Set5", round(34.42 - 34.02, 2)),
    AblationPair("awsrn", "awsrn_s", "1 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 2, "Set5", round(38.11 - 37.75, 2)),
    AblationPair("awsrn", "awsrn_s", "1 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4", 3, "Set5", round(34.52 - 34.02, 2)),
    AblationPair("awsrn", "awsrn_m", "3 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4 (Set5 gap 0.07 dB)", 2, "Urban100", round(32.49 - 32.23, 2)),
    AblationPair("awsrn", "awsrn_m", "3 -> 4 LFBs (depth)", ("blocks",),
                 "Wang et al. 2019 (AWSRN), Table 4 (Set5 gap 0.10 dB)", 3, "Urban100", round(28.42 - 28.26, 2)),
    AblationPair("ecbsr_m4c32_rgb", "ecbsr_m4c16_rgb", "nf 16 -> 32 (width)", ("nf",),
                 "Chao et al. 2023 (ETDS), Table 2: ECBSR retrained in RGB", 2, "Set5", round(37.39 - 37.18, 2)),
    AblationPair("ecbsr_m4c32_rgb", "ecbsr_m4c16_rgb", "nf 16 -> 32 (width)", ("nf",),
                 "Chao et al. 2023 (ETDS), Table 2: ECBSR retrained in RGB", 3, "Set5", round(33.56 - 33.07, 2)),
]

#: Controlled pairs whose published gap is below 0.1 dB: the same checks as ABLATION_PAIRS (one
#: protocol, exactly ``fields`` differ); useful as near-ties a predictor should not split widely.
SMALL_GAP_PAIRS: list[AblationPair] = [
    AblationPair("imdn_b4_noiic", "imdn_b4_noiic_nocca", "CCA in every IMDB (vs none)", ("blocks.*.attention",),
                 _IMDN_ABL_SRC, 4, "Set5", round(32.10 - 32.01, 2)),
    AblationPair("imdn_b4", "imdn_b4_noiic", "IIC: concat of all blocks + 1x1 fusion (vs last block only)",
                 ("fusion",), _IMDN_ABL_SRC, 4, "Set5", round(32.11 - 32.10, 2)),
    AblationPair("rlfn", "rlfn_s", "nf 48 -> 52 (width)", ("nf",),
                 "measured here from bytedance/RLFN model_zoo/rlfn_x2.pth and rlfn_s_x2.pth (one paper, one "
                 "training recipe); Set5 gap 0.019 dB, x4 Set5 -0.001 dB", 2, "Set14", round(33.718 - 33.622, 3)),
]


#: One-table, one-protocol pairs where the smaller network (deploy params and Mult-Adds) is better by
#: at least 0.1 dB; ``tests/arch/test_ground_truth.py`` checks protocol, sizes and gaps. Every pair
#: of these tables that qualifies is here (ETDS Table 2: x3 ECBSR-M4C16 vs FSRCNN is 0.06 dB).
_ETDS_T2 = "Chao et al. 2023 (ETDS), Table 2 (one protocol for every row)"
_AWSRN_T4 = "Wang et al. 2019 (AWSRN), Table 4"
DESIGN_PAIRS: list[DesignPair] = [
    *(DesignPair("ecbsr_m4c16_rgb", "fsrcnn", _ETDS_T2, s, "Set5", d) for s, d in ((4, 0.11), (2, 0.18))),
    *(DesignPair("ecbsr_m4c16_rgb", "espcn", _ETDS_T2, s, "Set5", d) for s, d in ((4, 0.21), (2, 0.31), (3, 0.22))),
    *(DesignPair("fsrcnn", "espcn", _ETDS_T2, s, "Set5", d) for s, d in ((4, 0.10), (2, 0.13), (3, 0.16))),
    *(DesignPair("awsrn_sd", "awsrn_s", _AWSRN_T4, s, "Set5", d) for s, d in ((4, 0.21), (2, 0.11), (3, 0.16))),
]


# ------------------------------------------------------------------ left out
NOT_CLAIMED: list[NotClaimed] = [
    NotClaimed("ablation tables of RFDN / AWSRN / ECBSR / RLFN / BSRN / SPAN / EFDN",
               "the papers' ablation tables could not be read from a primary source here (the stored ar5iv "
               "pages give only each paper's opening; no repository transcribes them or ships them as an "
               "image); no number from recollection is claimed"),
    NotClaimed("IMDN ablation, row without PRM (510K)",
               "the block that replaces the progressive refinement module is not specified on the poster"),
    NotClaimed("IMDN_basic_B4 + CA vs + CCA (poster: Set5 32.0821 vs 32.0964)",
               "no squeeze-and-excitation channel attention (CA) option; the gap (0.014 dB) is below any use"),
    NotClaimed("span (48 ch, CVPR-W 2024)", "weights on Google Drive only; the paper's table not read here"),
    NotClaimed("ecbsr_m4c8 / ecbsr_m4c16 / ecbsr_m10c32 (Y only)",
               "the ECBSR paper's table not read here; no released weights in xindongzhang/ECBSR"),
    NotClaimed("imdn_rtc at x3 / x4", "only the x2 checkpoint (model_RTC.pth) is released; no table"),
    NotClaimed("CARN-M (Ahn et al. 2018)",
               "not expressible: group convs, cascading 1x1 fusions at block and network level and its own "
               "upsampler would each need new code; only a secondary Set5 number (BSRN plot script) was found"),
    NotClaimed("FSRCNN's own numbers (Dong et al. 2016: Y channel, 91 images + General-100)",
               "only a secondary Set5 x4 30.71 (BSRN plot script) was found, no x2 / x3; the ground truth uses the "
               "ETDS authors' RGB retraining of the same network (entry fsrcnn) instead"),
    NotClaimed("EDSR (32 blocks, nf 256, res_scale 0.1)",
               "expressible (resblock, edsr upsampler) but its table (EDSR paper Table 3) was not read here"),
    NotClaimed("CARN (Ahn et al. 2018; IMDN table: x4 Set5 32.13)",
               "not expressible: cascading blocks with 1x1 fusions at block and network level"),
    NotClaimed("SRMDNF (IMDN table)", "not expressible: takes a degradation map as extra input channels"),
    NotClaimed("NTIRE 2022 team40 RFDN pruned (E-RFDN at nf 40)",
               "its ESA keeps 12 channels at nf 40 (nf // 4 = 10 in our RFDB); an esa_channels option on rfdb would "
               "change every stored RFDB arch_id"),
    NotClaimed("NTIRE 2022 entries not expressible (session 22 survey of every ofsoundof/NTIRE2022_ESR entry): "
               "NLFFC (t02), FMEN (t03), EFDN variant (t05), IMDTN (t09), AALN (t11), HNCT (t12), ARFDN (t14), "
               "AFDN (t15), PRRN (t16), FDEN (t17), IMDeception (t19), MobileSR (t20), MDAN (t23), MDGN (t24), "
               "LWFANet (t27), NASNetBN (t28), SCET (t30), t31, m_RFDN (t33), RFDN-rmsrb (t35), RFESR (t36), "
               "BMDN (t37), RFDNext (t38), RLCSR (t42), ResDN (t43), MSDN (t44)",
               "FFT units, transformer or Swin blocks, asymmetric or grouped convs, BatchNorm, new attentions "
               "(HFAB, ATB, pixel / channel / layer attention), LeakyReLU 0.1, PReLU-first blocks, mean shifts: "
               "each a new primitive, not an option"),
    NotClaimed("NTIRE 2024 / 2025 entries not expressible (session 22 survey of Amazingren/NTIRE2024_ESR and "
               "NTIRE2025_ESR): PFDN_Lite, LKFN, RCN, RLFN_mogai, DVMSR, SMRN, EFQN, EMaxGMan, DIRN, GFMN, SAFMN++, "
               "SMFAN, MSN, AGDN, IFADNet, CRAFT, HARN, EGFMN, LSANet, ERRN (2024); FRnet, MoASR, HannahSR, SCMSR, "
               "FSANet, SGSDN, SAFMNv3, DAN, IESRNet, SPANF, FMDN, MVFMNet, BVI-SRF, MAANRep, PFVM, ESPAN, RCUNet, "
               "ExpandRepNet, MambaIRv2, DepthIBN, FEAN, SepSRNet, GLoReNet, ECAS, HiT-SRF, PAEDN (2025)",
               "attention / modulation / Mamba / transformer / mixture-of-experts blocks, involution, LayerNorm, "
               "Hardtanh, channel-split U-nets, partial convs: each a new primitive"),
    NotClaimed("NTIRE 2024 / 2025 entries one option or block away, not added (session 22)",
               "VRTDIP, RDEN and R2Net (bias-free convs, a network-wide option), NanoSR (a linear conv before each "
               "SPAB), ASR_Prune (per-block 1x1 middle conv and a 1x1 upsampler), TDESR (factorised 3x1 / 1x3 "
               "convs), EERN and EECNet (a conv-act-conv-ESA block without residual), the 2025 SPAN of team 44 "
               "(its checkpoint is missing from the mirror); ESRNet (2025 t38) is the NTIRE 2024 SPAN fine-tuned "
               "and EagleSR (2025 t33) is xiaom233's BSRN x4 weights again"),
    NotClaimed("ETDS-M4C32 / -M5C16 / -M6C32 / -M7C48 rows of ETDS Table 2 (the table's own networks)",
               "not expressible: dual-stream blocks (a residual stream beside the feature stream, merged into plain "
               "convs by equivalent transformation: a primitive of its own); the table's ABPN, FSRCNN, ESPCN "
               "and ECBSR rows are in"),
    NotClaimed("NTIRE 2024 team30 RFDN (model_zoo/team30_RFDN.pkl)",
               "the AIM 2020 E-RFDN weights again (every tensor within 1.3e-5 of njulj/RFDN RFDN_AIM.pth; Set5 "
               "32.159 as erfdn): not a training of its own"),
    NotClaimed("NTIRE 2022 FasterRFDN (team25), RePAFDN (team10), CL-RFDN (team29)",
               "not expressible: the remaining channels halve at each distillation step (FasterRFDN); a pixel "
               "attention after the fusion (RePAFDN); a PReLU fusion and no LR conv (CL-RFDN)"),
    NotClaimed("NTIRE 2025 RepRLFN (team25), DIPNet_slim_v2 (team15), ARRLFN (team30)",
               "not expressible: an activation applied twice per conv (RepRLFN), bias-free convs and a 1x1 tail "
               "(DIPNet), an x2 network applied twice for x4 (ARRLFN)"),
    NotClaimed("IMDN+ (NTIRE 2022, Zheng222/IMDN README: x4 Set5 32.11)",
               "not expressible: IMDB+ with re-parameterised branches (no primitive)"),
    NotClaimed("NTIRE 2023 team 13 PRFDN (yindaheng98/NTIRE2023_ESR model_zoo/PRFDN_28.992.pth)",
               "not expressible: several E-RFDNs run side by side through concatenated convs (RFDB_P, ESA_P), "
               "stored as a pickled module, not a state dict"),
    NotClaimed("NTIRE 2026 team00 SPAN (Amazingren/NTIRE2026_ESR model_zoo/team00_SPAN.pth, the baseline)",
               "the NTIRE 2024 team38 span_ch28_slim weights again (every tensor identical): span_ntire"),
    NotClaimed("NTIRE 2026 PDS (team01), PKDSR (team16), DSCF_Fused (team15), DISP (team18), ERRN2 (team20), "
               "SPANV2 (team22)",
               "not expressible: five SPABs with a nearest-repeat skip concatenated into a 1x1 + Conv3XC tail "
               "(PDS, PKDSR); the head conv fused with the first SPAB conv (DSCF_Fused); an extra conv block per "
               "SPAB (DISP); four re-parameterised convs per block (ERRN2); guidance-map and depthwise convs "
               "(SPANV2)"),
    NotClaimed("NTIRE 2026 HAESR, HFENet, VSCINet, ZenoSR, AMCANet, SAFMN_Deep15, DWMamba, BVIESR, SPANMamba",
               "not expressible: large-kernel / spatial-channel attention, feed-forward, window-attention and Mamba "
               "blocks without a primitive (the SPANMamba checkpoint is also empty in the repository)"),
]


# ------------------------------------------------------------------ queries
def ground_truth(scale: int, dataset: str = "Set5", protocol: str | None = None) -> list[GroundTruth]:
    """The entries with a value on ``dataset`` at ``scale`` (``protocol`` given: only that one),
    in declaration order."""
    return [e for e in GROUND_TRUTH.values()
            if e.value(scale, dataset) is not None and (protocol is None or e.protocol == protocol)]


def config_diff(a: dict, b: dict, path: str = "") -> list[str]:
    """The paths at which two ``model_dump()`` dicts differ (``name`` ignored); list indices are
    written ``*``, a list whose length differs is reported at the list itself (``blocks``)."""
    out: list[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if not path and key == "name":
                continue
            sub = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                out.append(sub)
            else:
                out += config_diff(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(path)
        else:
            for x, y in zip(a, b):
                out += config_diff(x, y, f"{path}.*")
    elif a != b:
        out.append(path)
    return sorted(set(out))
