"""build_model: exact parameter counts of every reference, shapes, errors, ECB deploy, checkpoints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from nas.arch import REFERENCES, ArchConfig, reference_config
from nas.errors import ArchConfigError
from nas.models import SRNet, build_model, check_buildable, reparameterize_model
from nas.primitives import ECB, Conv3XC

OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "checkpoints" / "official"


def n_params(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------------- exact parameter counts
# shared/reference_models.md (official code instantiated, checkpoints where released).
PARAMS = {
    "imdn": {2: 694_404, 3: 703_059, 4: 715_176},
    "rfdn": {2: 534_036, 3: 540_531, 4: 549_624},
    "rfdn_l": {2: 625_962, 3: 632_997, 4: 642_846},
    "erfdn": {2: 417_212, 3: 423_977, 4: 433_448},
    "imdn_rtc": {2: 20_190, 3: 21_825, 4: 24_114},
    # AWSRN: weight-norm g vectors included, as the paper counts
    "awsrn_s": {2: 397_482, 3: 476_757, 4: 587_742},
    "awsrn_sd": {2: 348_098, 3: 388_013, 4: 443_894},
    "awsrn_m": {2: 1_063_742, 3: 1_143_017, 4: 1_254_002},
    "awsrn": {2: 1_396_872, 3: 1_476_147, 4: 1_587_132, 8: 2_348_172},
    # ECBSR train form, "all" (the frozen edge masks included), colors 1
    "ecbsr_m4c8": {2: 11_992, 4: 18_136},
    "ecbsr_m4c16": {2: 42_224, 4: 49_712},
    "ecbsr_m10c32": {2: 363_232, 4: 373_408},
    "ecbsr_m16c64": {2: 2_220_416, 4: 2_235_968},
    # ECBSR in RGB (colors 3) as the ETDS authors retrained it, train form "all"
    "ecbsr_m4c16_rgb": {2: 47_088, 4: 95_472},
    "ecbsr_m4c32_rgb": {2: 165_856, 4: 222_304},
    "ecbsr_m6c40_rgb": {2: 358_952, 4: 419_432},
    # RLFN: the authors' classes instantiated (sum of numel): ofsoundof/NTIRE2022_ESR
    # models/team04_rlfn.py RLFN_cut (= bytedance/RLFN model/rlfn_ntire.py RLFN_Prune =
    # Amazingren/NTIRE2024_ESR models/team00_RLFN.py) and bytedance/RLFN model/rlfn.py RLFN,
    # model/rlfn_s.py RLFN_S (x3: 308_503 / 533_891 / 461_115, scale not published)
    "rlfn_ntire": {4: 317_218},
    "rlfn": {2: 526_856, 4: 543_740},
    "rlfn_s": {2: 454_620, 4: 470_208},
    # SPAN train form = the trainable parameters (requires_grad) of hongyuanyu/SPAN
    # basicsr/archs/span_arch.py SPAN(feature_channels=28 / 48); the authors' parameters() also
    # holds the frozen eval_conv of every Conv3XC (SPAN_AUTHORS_ALL below)
    "span_ntire": {4: 634_048},
    "span": {2: 1_824_900, 4: 1_840_488},
    # EFDN as released for NTIRE 2025: Amazingren/NTIRE2025_ESR models/team00_EFDN.py EFDN()
    # (0.276 M in its README); model_zoo/team00_EFDN.pth loads strictly through OFFICIAL_KEY_MAPS
    "efdn": {4: 276_192},
    # BSRN: xiaom233/BSRN basicsr/archs/BSRN_arch.py BSRN(num_feat=64, num_block=8, conv='BSConvU')
    # and BSRN-S rfdnfinalB5_arch.py RFDNFINALB5(num_feat=48, num_block=5, conv='BSConvU'), counted on
    # the authors' modules; equal to the released experiments/pretrained_models/net_g_BSRN_x{2,3,4}.pth
    # and net_g_BSRN-S.pth (which load strictly through OFFICIAL_KEY_MAPS)
    "bsrn": {2: 331_628, 3: 340_283, 4: 352_400},
    "bsrn_s": {4: 156_288},
}
# ECBSR train form, trainable only (masks excluded)
ECBSR_TRAINABLE = {
    "ecbsr_m4c8": {2: 10_804, 4: 16_624},
    "ecbsr_m4c16": {2: 39_956, 4: 47_120},
    "ecbsr_m10c32": {2: 353_620, 4: 363_472},
    "ecbsr_m16c64": {2: 2_190_932, 4: 2_206_160},
}
# ECBSR deploy form (after reparameterize_model): plain 3x3 convs + PReLU
ECBSR_DEPLOY = {
    "ecbsr_m4c8": {2: 2_748, 3: 3_113, 4: 3_624},
    "ecbsr_m4c16": {2: 10_100, 3: 10_825, 4: 11_840},
    "ecbsr_m10c32": {2: 94_308, 3: 95_753, 4: 97_776},
    "ecbsr_m16c64": {2: 594_884, 3: 597_769, 4: 601_808},
    # Chao et al. (ETDS), CVPR 2023, Table 2: 11.55 K / 16.77 K, 41.52 K / 51.92 K, 92.37 K / 105.37 K
    "ecbsr_m4c16_rgb": {2: 11_548, 4: 16_768},
    "ecbsr_m4c32_rgb": {2: 41_516, 4: 51_920},
    "ecbsr_m6c40_rgb": {2: 92_372, 4: 105_368},
}


# SPAN deploy form (after reparameterize_model): the authors' eval_conv parameters;
# span_ntire x4 = Amazingren/NTIRE2024_ESR models/team38_SPAN.py SPAN30(feature_channels=28) as
# submitted (150_688, "0.151 M")
SPAN_DEPLOY = {
    "span_ntire": {4: 150_688},
    "span": {2: 410_700, 4: 426_288},
}
# sum(p.numel() for p in SPAN(...).parameters()) of the authors' span_arch.py: our train form plus
# a frozen merged 3x3 conv (eval_conv) inside every Conv3XC
SPAN_AUTHORS_ALL = {
    "span_ntire": {4: 769_428},
    "span": {2: 2_221_140, 4: 2_236_728},
}


def _table(table):
    return [(name, s, n) for name, row in table.items() for s, n in row.items()]


def test_every_reference_has_a_count():
    assert set(PARAMS) == set(REFERENCES)


@pytest.mark.parametrize("name, scale, expected", _table(PARAMS))
def test_reference_param_count_is_exact(name, scale, expected):
    assert n_params(build_model(reference_config(name, scale))) == expected


@pytest.mark.parametrize("name, scale, expected", _table(ECBSR_TRAINABLE))
def test_ecbsr_trainable_count(name, scale, expected):
    assert n_params(build_model(reference_config(name, scale)), trainable_only=True) == expected


@pytest.mark.parametrize("name, scale, expected", _table(ECBSR_DEPLOY))
def test_ecbsr_deploy_count(name, scale, expected):
    deployed = reparameterize_model(build_model(reference_config(name, scale)))
    assert n_params(deployed) == expected
    assert not any(isinstance(m, ECB) and not m.deployed for m in deployed.modules())


@pytest.mark.parametrize("name, scale, expected", _table(SPAN_DEPLOY))
def test_span_deploy_count(name, scale, expected):
    model = build_model(reference_config(name, scale))
    deployed = reparameterize_model(model)
    assert n_params(deployed) == expected
    assert not any(isinstance(m, Conv3XC) and not m.deployed for m in deployed.modules())
    eval_convs = sum(n_params(m) for m in deployed.modules() if isinstance(m, Conv3XC))
    assert n_params(model) + eval_convs == SPAN_AUTHORS_ALL[name][scale]


def test_awsrn_weight_norm_g_vectors_are_the_paper_difference():
    model = build_model(reference_config("awsrn_s", 2))
    g = sum(p.numel() for n, p in model.named_parameters() if n.endswith("original0"))
    assert n_params(model) - g == 396_718  # reference_models.md: without g


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_forward_shape_odd_size(name):
    for scale in REFERENCES[name].scales:
        cfg = reference_config(name, scale)
        model = build_model(cfg)
        x = torch.rand(1, cfg.colors, 17, 23)
        with torch.no_grad():
            y = model(x)
        assert y.shape == (1, cfg.colors, 17 * scale, 23 * scale)
        assert torch.isfinite(y).all()


SMALL_BLOCKS = {
    "rfdb": {"type": "rfdb", "stages": 2},
    "rfdb_cca": {"type": "rfdb", "attention": "cca", "cca_reduction": 4, "residual": True},
    "imdb": {"type": "imdb", "cca_reduction": 4},
    "lfb": {"type": "lfb", "n_awru": 2, "expansion": 2},
    "ecb": {"type": "ecb", "depth": 2, "residual": True},
    "rlfb": {"type": "rlfb", "mid_channels": 12, "esa_channels": 4},
    "rlfb_noatt": {"type": "rlfb", "attention": "none", "act": "prelu"},
    "spab": {"type": "spab"},
    "efdb": {"type": "efdb"},
    "esdb": {"type": "esdb"},
    "esdb_s": {"type": "esdb", "pw_bias": True, "cca": False, "out_conv": True, "esa_bsconv": "unstrided"},
}


def _small(block: dict, scale: int, **kw) -> ArchConfig:
    return ArchConfig.from_dict({"scale": scale, "nf": 16, "blocks": [block, block], **kw})


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("kind", sorted(SMALL_BLOCKS))
def test_block_types_shape_and_finite_grads(kind, scale):
    model = build_model(_small(SMALL_BLOCKS[kind], scale))
    x = torch.rand(2, 3, 17, 15)
    y = model(x)
    assert y.shape == (2, 3, 17 * scale, 15 * scale)
    (y - torch.rand_like(y)).abs().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize(
    "variant",
    [
        {"fusion": "last", "global_residual": False},
        {"fusion": "conv1x1"},
        {"head": "ecb", "upsampler": "ecb", "input_skip": "nearest", "colors": 1},
        {"upsampler": "awms", "input_skip": "conv", "weight_norm": True, "input_norm": "meanshift"},
        {"fusion_act": "prelu"},
        {"fusion": "conv3x3"},
        {"head": "conv3xc", "input_norm": "meansub255", "global_residual": False},
    ],
)
def test_template_variants(variant):
    cfg = _small(SMALL_BLOCKS["imdb"], 3, **variant)
    model = build_model(cfg)
    y = model(torch.rand(1, cfg.colors, 9, 10))
    assert y.shape == (1, cfg.colors, 27, 30)


def test_module_names_follow_the_official_code():
    names = {n for n, _ in build_model(reference_config("imdn", 4)).named_children()}
    assert names == {"fea_conv", "blocks", "c", "LR_conv", "upsampler"}
    rtc = {n for n, _ in build_model(reference_config("imdn_rtc", 2)).named_children()}
    assert rtc == {"fea_conv", "blocks", "LR_conv", "upsampler"}
    awsrn = {n for n, _ in build_model(reference_config("awsrn_s", 2)).named_children()}
    assert awsrn == {"fea_conv", "blocks", "upsampler", "skip"}
    rlfn = {n for n, _ in build_model(reference_config("rlfn_ntire", 4)).named_children()}
    assert rlfn == {"fea_conv", "blocks", "LR_conv", "upsampler"}  # RLFN_cut's names
    span = {n for n, _ in build_model(reference_config("span", 4)).named_children()}
    assert span == {"fea_conv", "blocks", "c", "LR_conv", "upsampler"}  # conv_1, conv_cat, conv_2


def test_span_fusion_on_a_searched_net():
    cfg = _small(SMALL_BLOCKS["spab"], 2, fusion="span", global_residual=False)
    model = build_model(cfg)
    assert model.c.in_channels == 4 * cfg.nf and isinstance(model.LR_conv, Conv3XC)
    y = model(torch.rand(1, 3, 9, 10))
    assert y.shape == (1, 3, 18, 20)
    assert build_model(reference_config("rlfn", 2)).min_input_size == 15  # slim ESA
    assert build_model(reference_config("span", 2)).min_input_size == 1


def test_esa_minimum_input_is_enforced_with_a_clear_message():
    model = build_model(reference_config("erfdn", 4))
    assert model.min_input_size == 15
    assert model(torch.rand(1, 3, 15, 15)).shape == (1, 3, 60, 60)
    with pytest.raises(ValueError, match="at least 15x15 px.*got 12x40"):
        model(torch.rand(1, 3, 12, 40))
    assert build_model(reference_config("imdn", 2)).min_input_size == 1
    assert build_model(reference_config("imdn", 2))(torch.rand(1, 3, 3, 2)).shape == (1, 3, 6, 4)


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected input \(N, 1, H, W\)"):
        build_model(reference_config("ecbsr_m4c8", 2))(torch.rand(1, 3, 8, 8))


def test_channels_last_matches_contiguous():
    model = build_model(reference_config("erfdn", 4)).eval()
    x = torch.rand(2, 3, 16, 18)
    with torch.no_grad():
        y = model(x)
        model_cl = model.to(memory_format=torch.channels_last)
        y_cl = model_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(y, y_cl, atol=1e-5)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "blocks, nf, kw, field",
    [
        ([{"type": "rfdb"}] * 2 + [{"type": "rfdb", "distill_ratio": 0.05}], 8, {}, "blocks.2.distill_ratio"),
        ([{"type": "imdb", "distill_ratio": 0.04, "attention": "none"}], 8, {}, "blocks.0.distill_ratio"),
        ([{"type": "imdb", "attention": "none"}, {"type": "imdb", "distill_ratio": 0.95}], 8, {},
         "blocks.1.distill_ratio"),
        ([{"type": "rfdb", "attention": "cca", "cca_reduction": 32}], 16, {}, "blocks.0.cca_reduction"),
        ([{"type": "imdb", "cca_reduction": 32}], 16, {}, "blocks.0.cca_reduction"),
        ([{"type": "imdb", "attention": "esa", "distill_ratio": 0.1, "stages": 1}], 8, {}, "blocks.0.attention"),
        ([{"type": "ecb", "depth_multiplier": 0.05}], 8, {}, "blocks.0.depth_multiplier"),
        ([{"type": "lfb"}], 8, {"colors": 1, "input_norm": "meanshift"}, "input_norm"),
        ([{"type": "spab"}], 8, {"colors": 1, "input_norm": "meansub255"}, "input_norm"),
        ([{"type": "spab"}, {"type": "rlfb"}], 8, {"fusion": "span"}, "fusion"),
    ],
)
def test_unbuildable_config_names_the_field(blocks, nf, kw, field):
    cfg = ArchConfig.from_dict({"name": "trial-3", "scale": 2, "nf": nf, "blocks": blocks, **kw})
    with pytest.raises(ArchConfigError) as exc:
        build_model(cfg)
    msg = str(exc.value)
    assert msg.startswith(f"trial-3: {field}: "), msg
    assert "\n" not in msg
    with pytest.raises(ArchConfigError) as exc_meta:  # the search's weight-free check says the same
        check_buildable(cfg)
    assert str(exc_meta.value) == msg


def test_check_buildable_accepts_every_reference_and_allocates_nothing():
    for name, ref in REFERENCES.items():
        for scale in ref.scales:
            assert check_buildable(reference_config(name, scale)) is None
    with torch.device("meta"):  # what check_buildable builds on: shapes only, no storage
        assert all(p.is_meta for p in build_model(reference_config("imdn", 4)).parameters())


def test_distill_error_message_reads_well():
    cfg = ArchConfig.from_dict({"scale": 2, "nf": 8, "blocks": [{"type": "rfdb"}] * 2
                                + [{"type": "rfdb", "distill_ratio": 0.05}]})
    expected = r"blocks\.2\.distill_ratio: 0\.05 gives 0 distilled channels at nf 8"
    with pytest.raises(ArchConfigError, match=expected):
        build_model(cfg)


def test_every_registered_block_type_has_a_builder():
    from nas.arch import BLOCK_REGISTRY
    from nas.models.build import block_builder

    assert {"rfdb", "imdb", "lfb", "ecb", "rlfb", "spab", "efdb", "esdb"} <= set(BLOCK_REGISTRY)
    assert all(callable(block_builder(kind)) for kind in BLOCK_REGISTRY)


def test_build_model_accepts_a_mapping():
    model = build_model({"scale": 2, "nf": 8, "blocks": [{"type": "imdb", "attention": "none"}]})
    assert isinstance(model, SRNet) and model.scale == 2


# ---------------------------------------------------------------------- ECB deploy
def _randomise_ecbs(model: nn.Module) -> None:
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, ECB):
                for branch in (m.conv1x1_sbx, m.conv1x1_sby, m.conv1x1_lpl):
                    branch.scale.normal_(0.0, 0.1)
                    branch.bias.normal_(0.0, 0.1)
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(0.0, 0.5)


@pytest.mark.parametrize("name", ["ecbsr_m4c8", "ecbsr_m4c16", "ecbsr_m10c32"])
def test_reparameterized_ecbsr_equals_train_form(name):
    model = build_model(reference_config(name, 4))
    _randomise_ecbs(model)
    model.eval()
    deployed = reparameterize_model(model)
    assert not deployed.training
    assert all(not m.deployed for m in model.modules() if isinstance(m, ECB))  # original untouched
    x = torch.rand(2, 1, 17, 23)
    with torch.no_grad():
        diff = (model(x) - deployed(x)).abs().max().item()
    assert diff < 1e-5


def test_reparameterize_model_leaves_other_models_alone():
    model = build_model(reference_config("imdn_rtc", 2)).eval()
    deployed = reparameterize_model(model)
    assert n_params(deployed) == n_params(model)
    x = torch.rand(1, 3, 8, 9)
    with torch.no_grad():
        assert torch.equal(model(x), deployed(x))


def test_ecb_blocks_in_a_searched_net_merge_too():
    cfg = _small(SMALL_BLOCKS["ecb"], 2, head="ecb", upsampler="ecb")
    model = build_model(cfg)
    _randomise_ecbs(model)
    model.eval()
    x = torch.rand(1, 3, 11, 13)
    with torch.no_grad():
        assert (model(x) - reparameterize_model(model)(x)).abs().max().item() < 1e-5


# ---------------------------------------------------------------------- official checkpoints
def _rename_imdn(key: str) -> str:
    key = key.removeprefix("module.")
    m = re.match(r"IMDB(\d+)\.(.*)", key)
    return f"blocks.{int(m.group(1)) - 1}.{m.group(2)}" if m else key


def _rename_rtc(key: str) -> str:
    key = re.sub(r"^model\.0\.", "fea_conv.", key)
    key = re.sub(r"^model\.1\.sub\.5\.", "LR_conv.", key)
    key = re.sub(r"^model\.1\.sub\.(\d)\.", r"blocks.\1.", key)
    return re.sub(r"^model\.2\.", "upsampler.0.", key)


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, scale, file, rename",
    [("imdn", 2, "IMDN_x2.pth", _rename_imdn), ("imdn", 3, "IMDN_x3.pth", _rename_imdn),
     ("imdn", 4, "IMDN_x4.pth", _rename_imdn), ("imdn_rtc", 2, "model_RTC.pth", _rename_rtc)],
)
def test_official_checkpoint_loads_strict_after_renaming_blocks(name, scale, file, rename):
    path = OFFICIAL / file
    if not path.exists():
        pytest.skip(f"{path} not available")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(reference_config(name, scale))
    model.load_state_dict({rename(k): v for k, v in state.items()}, strict=True)
    # a smooth image stays close to its nearest upsampling (the weights do something sensible)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 24), torch.linspace(0, 1, 24), indexing="ij")
    lr = torch.stack([yy, xx, (yy + xx) / 2])[None]
    with torch.no_grad():
        sr = model.eval()(lr)
    ref = torch.nn.functional.interpolate(lr, scale_factor=scale, mode="bilinear", align_corners=False)
    assert (sr - ref)[..., 8:-8, 8:-8].abs().mean() < 0.02


def test_efdn_official_key_names_load_strictly(tmp_path):
    """The key names of Amazingren/NTIRE2025_ESR models/team00_EFDN.py (EFDN: head, cells.i with
    conv1.conv1x1 / conv1.act / conv2.rep_conv / conv2.act / conv3.* / fuse / att.conv1, conv_f,
    conv_max, conv2, conv3, conv3_, conv4 / branch.0-3, local_fuse.0-2, tail.0) map onto ours."""
    from nas.checkpoints import load_official_weights

    cell = ["conv1.conv1x1.weight", "conv1.conv1x1.bias", "conv1.act.weight", "conv2.rep_conv.weight",
            "conv2.rep_conv.bias", "conv2.act.weight", "conv3.rep_conv.weight", "conv3.rep_conv.bias",
            "conv3.act.weight", "fuse.weight", "fuse.bias"]
    cell += [f"att.{c}.{w}" for c in ("conv1", "conv_f", "conv_max", "conv2", "conv3", "conv3_", "conv4")
             for w in ("weight", "bias")]
    cell += [f"branch.{i}.{w}" for i in range(4) for w in ("weight", "bias")]
    official = ["head.weight", "head.bias", *[f"cells.{i}.{k}" for i in range(4) for k in cell],
                *[f"local_fuse.{i}.{w}" for i in range(3) for w in ("weight", "bias")], "tail.0.weight", "tail.0.bias"]
    source = build_model(reference_config("efdn", 4))
    ours = source.state_dict()
    assert len(official) == len(ours)
    to_ours = {"head.": "fea_conv.", "cells.": "blocks.", "tail.0.": "upsampler.0."}

    def rename(key):
        for a, b in to_ours.items():
            if key.startswith(a):
                return b + key[len(a):]
        return key

    torch.save({k: ours[rename(k)].clone() for k in official}, tmp_path / "team00_EFDN.pth")
    model = load_official_weights(build_model(reference_config("efdn", 4)), tmp_path / "team00_EFDN.pth", "efdn")
    assert all(torch.equal(model.state_dict()[k], v) for k, v in ours.items())


def _bsrn_official_keys(n_blocks: int, small: bool) -> list[str]:
    """The state-dict keys of xiaom233/BSRN basicsr/archs/BSRN_arch.py BSRN (``small``: BSRN-S,
    rfdnfinalB5_arch.py RFDNFINALB5), in the authors' module order."""
    wb = ("weight", "bias")

    def bsconv(name: str) -> list[str]:  # BSConvU: pw (bias only in BSRN-S's Blocks.py), dw
        return [f"{name}.pw.weight", *([f"{name}.pw.bias"] if small else []), f"{name}.dw.weight", f"{name}.dw.bias"]

    block: list[str] = []
    for i in (1, 2, 3):
        block += [f"c{i}_d.{w}" for w in wb] + bsconv(f"c{i}_r")
    block += bsconv("c4") + [f"c5.{w}" for w in wb]
    block += [f"esa.conv1.{w}" for w in wb] + [f"esa.conv_f.{w}" for w in wb] + bsconv("esa.conv_max")
    block += [f"esa.conv2.{w}" for w in wb] if small else bsconv("esa.conv2")
    block += bsconv("esa.conv3") + bsconv("esa.conv3_") + [f"esa.conv4.{w}" for w in wb]
    block += ["cw", "conv_out.weight", "conv_out.bias"] if small else [f"cca.conv_du.{j}.{w}" for j in (0, 2) for w in wb]
    return [*bsconv("fea_conv"), *[f"B{i}.{k}" for i in range(1, n_blocks + 1) for k in block],
            "c1.weight", "c1.bias", *bsconv("c2"), "upsampler.upsampleOneStep.0.weight",
            "upsampler.upsampleOneStep.0.bias"]


@pytest.mark.parametrize("name, n_blocks", [("bsrn", 8), ("bsrn_s", 5)])
def test_bsrn_official_key_layout_loads_strictly(tmp_path, name, n_blocks):
    """A state dict with the key names (and, for BSRN-S, the nn.Linear (out, in) 1x1 weights) of the
    authors' modules loads strictly; the released net_g_BSRN_x4.pth / net_g_BSRN-S.pth were checked
    the same way against xiaom233/BSRN (outputs equal to 1e-12 in float64)."""
    from nas.checkpoints import load_official_weights

    small = name == "bsrn_s"
    official = _bsrn_official_keys(n_blocks, small)
    source = build_model(reference_config(name, 4))
    ours = source.state_dict()
    assert len(official) == len(ours) and sum(v.numel() for v in ours.values()) == PARAMS[name][4]
    to_ours = {"c1.": "c.0.", "c2.": "LR_conv.", "upsampler.upsampleOneStep.0.": "upsampler.0."}

    def rename(key: str) -> str:
        if key.startswith("B"):
            i, rest = key[1:].split(".", 1)
            return f"blocks.{int(i) - 1}.{rest}"
        return next((b + key[len(a):] for a, b in to_ours.items() if key.startswith(a)), key)

    renamed = {key: rename(key) for key in official}
    assert set(renamed.values()) == set(ours)
    state = {}
    for key in official:
        value = ours[renamed[key]].clone()
        if small and value.dim() == 4 and value.shape[-2:] == (1, 1) and ".pw." not in key and ".dw." not in key:
            value = value[:, :, 0, 0]  # the authors' nn.Linear
        state[key] = value
    torch.save(state, tmp_path / "net_g.pth")
    model = load_official_weights(build_model(reference_config(name, 4)), tmp_path / "net_g.pth", name)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in ours.items())
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert model(x).shape == (1, 3, 64, 64)
