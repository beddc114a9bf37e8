"""Loading weights strictly: authors' checkpoints (key prefix, renaming, pixel range), ours, safetensors.

Synthetic "official" checkpoints are made from our own models by inverting the documented
renaming, so the strictness checks run without ../shared; the released IMDN files are used when
../shared is there.
"""

from __future__ import annotations

import re

import pytest
import torch

from nas.arch import REFERENCES, reference_config
from nas.checkpoints import (
    OFFICIAL_KEY_MAPS,
    PixelRange,
    load_model,
    load_official_weights,
    map_official_keys,
    read_checkpoint,
    read_safetensors,
    save_checkpoint,
    save_safetensors,
)
from nas.checkpoints.io import read_state_dict
from nas.errors import CheckpointError
from nas.models import build_model
from tests.shared_paths import SHARED

OFFICIAL = SHARED / "checkpoints" / "official"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def _to_official_imdn(state: dict) -> dict:
    """Our IMDN keys -> the authors' (``module.IMDB{i+1}.``), the inverse of the documented map."""
    out = {}
    for k, v in state.items():
        k = re.sub(r"^blocks\.(\d+)\.", lambda m: f"IMDB{int(m.group(1)) + 1}.", k)
        out["module." + k] = v.clone()
    return out


def _to_official_rfdn(state: dict) -> dict:
    return {re.sub(r"^blocks\.(\d+)\.", lambda m: f"B{int(m.group(1)) + 1}.", k): v.clone() for k, v in state.items()}


@pytest.fixture(scope="module")
def imdn_x2():
    torch.manual_seed(1)
    return build_model(reference_config("imdn", 2)).eval()


@pytest.fixture()
def imdn_file(tmp_path, imdn_x2):
    path = tmp_path / "IMDN_x2.pth"
    torch.save(_to_official_imdn(imdn_x2.state_dict()), path)
    return path


def _x(colors=3, h=12, w=13):
    return torch.rand(1, colors, h, w)


# ---------------------------------------------------------------------- declarations
def test_every_reference_has_a_key_mapping_and_declared_range():
    assert set(OFFICIAL_KEY_MAPS) == set(REFERENCES)
    for ref in REFERENCES.values():
        assert ref.pixel_range in (1.0, 255.0)
    # verified on the released files (reference_models.md §1, njulj/RFDN test.py)
    assert REFERENCES["imdn"].key_prefix == "module." and REFERENCES["imdn"].pixel_range == 1.0
    assert REFERENCES["erfdn"].key_prefix == "" and REFERENCES["erfdn"].pixel_range == 255.0


# ---------------------------------------------------------------------- official: strict mapping
def test_synthetic_official_imdn_loads_and_reproduces_outputs(imdn_file, imdn_x2):
    model = build_model(reference_config("imdn", 2))
    loaded = load_official_weights(model, imdn_file, "imdn")
    assert loaded is model and not model.training
    x = _x()
    with torch.no_grad():
        assert torch.equal(loaded(x), imdn_x2(x))


def test_missing_key_is_named(tmp_path, imdn_x2):
    state = _to_official_imdn(imdn_x2.state_dict())
    del state["module.IMDB3.cca.conv_du.0.weight"]
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing keys 'blocks\.2\.cca\.conv_du\.0\.weight'") as exc:
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_unexpected_key_is_named(tmp_path, imdn_x2):
    state = _to_official_imdn(imdn_x2.state_dict())
    state["module.IMDB7.c1.weight"] = torch.zeros(1)
    path = tmp_path / "extra.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"unexpected keys 'blocks\.6\.c1\.weight'"):
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")


def test_checkpoint_of_another_scale_names_key_and_both_shapes(imdn_file):
    with pytest.raises(CheckpointError) as exc:
        load_official_weights(build_model(reference_config("imdn", 4)), imdn_file, "imdn")
    msg = str(exc.value)
    assert "'upsampler.0.weight'" in msg
    assert "(12, 64, 3, 3)" in msg and "(48, 64, 3, 3)" in msg


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    rfdn_state = _to_official_rfdn(build_model(reference_config("erfdn", 4)).state_dict())
    path = tmp_path / "RFDN_AIM.pth"
    torch.save(rfdn_state, path)
    with pytest.raises(CheckpointError, match="lacks the prefix 'module.'"):
        load_official_weights(build_model(reference_config("imdn", 4)), path, "imdn")
    with pytest.raises(CheckpointError, match="missing keys|unexpected keys"):
        load_official_weights(build_model(reference_config("imdn", 4)), path, "imdn", key_prefix="")


def test_declared_prefix_can_be_overridden_but_is_never_guessed(tmp_path, imdn_x2):
    state = {k.removeprefix("module."): v for k, v in _to_official_imdn(imdn_x2.state_dict()).items()}
    path = tmp_path / "resaved.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"key 'fea_conv\.weight' lacks the prefix 'module\.'"):
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")
    model = load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn", key_prefix="")
    x = _x()
    with torch.no_grad():
        assert torch.equal(model(x), imdn_x2(x))


@pytest.mark.parametrize("content, match", [
    (b"not a checkpoint at all\n", "not a PyTorch checkpoint"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "not a PyTorch checkpoint"),
])
def test_non_torch_file_names_the_file(tmp_path, content, match):
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match) as exc:
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")
    assert str(path) in str(exc.value)


def test_torch_file_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(CheckpointError, match=r"not a state dict \(the file holds a list\)"):
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")
    nested = tmp_path / "nested.pth"
    torch.save({"state_dict": {"a": torch.zeros(1)}, "epoch": 3}, nested)
    with pytest.raises(CheckpointError, match="training checkpoint holding 'state_dict'"):
        load_official_weights(build_model(reference_config("imdn", 2)), nested, "imdn")


def test_an_entry_of_a_training_checkpoint_is_read_only_when_named(tmp_path):
    """BasicSR checkpoints hold ``params`` and ``params_ema``: the converter takes the one the
    authors' test code loads (``--entry``), and a missing entry names the file and what it holds."""
    path = tmp_path / "basicsr.pth"
    torch.save({"params": {"w": torch.zeros(2)}, "params_ema": {"w": torch.ones(2)}}, path)
    with pytest.raises(CheckpointError, match="training checkpoint holding 'params'"):
        read_state_dict(path)
    assert torch.equal(read_state_dict(path, entry="params_ema")["w"], torch.ones(2))
    with pytest.raises(CheckpointError, match=r"basicsr\.pth: no entry 'ema' \(it holds 'params', 'params_ema'\)"):
        read_state_dict(path, entry="ema")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_official_weights(build_model(reference_config("imdn", 2)), tmp_path / "nope.pth", "imdn")


def test_unknown_reference_is_refused(imdn_file):
    with pytest.raises(CheckpointError, match="unknown reference 'edsr'"):
        load_official_weights(build_model(reference_config("imdn", 2)), imdn_file, "edsr")


# ---------------------------------------------------------------------- pixel range
def test_255_checkpoint_is_wrapped_for_unit_range(tmp_path):
    torch.manual_seed(3)
    src = build_model(reference_config("erfdn", 4)).eval()
    path = tmp_path / "RFDN_AIM.pth"
    torch.save(_to_official_rfdn(src.state_dict()), path)
    loaded = load_official_weights(build_model(reference_config("erfdn", 4)), path, "erfdn")
    assert isinstance(loaded, PixelRange) and loaded.pixel_range == 255.0
    assert loaded.scale == 4 and loaded.min_input_size == 15
    x = _x(h=16, w=17)
    with torch.no_grad():
        assert torch.allclose(loaded(x), src(x * 255.0) / 255.0, atol=1e-6)
    bare = load_official_weights(build_model(reference_config("erfdn", 4)), path, "erfdn", adapt_range=False)
    assert not isinstance(bare, PixelRange)


def test_awsrn_range_is_absorbed_by_the_mean_shift(tmp_path):
    src = build_model(reference_config("awsrn_s", 2)).eval()
    official = {}
    for k, v in src.state_dict().items():  # our names -> ChaofWang/AWSRN awsrn.py names
        k = re.sub(r"^fea_conv\.", "head.0.", k)
        k = re.sub(r"^blocks\.(\d+)\.", r"body.\1.", k)
        k = re.sub(r"^upsampler\.", "tail.", k)
        k = k.replace(".parametrizations.weight.original0", ".weight_g").replace(
            ".parametrizations.weight.original1", ".weight_v")
        official[k] = v.clone()
    path = tmp_path / "awsrn_s_x2.pt"
    torch.save(official, path)
    loaded = load_official_weights(build_model(reference_config("awsrn_s", 2)), path, "awsrn_s")
    assert not isinstance(loaded, PixelRange)
    x = _x()
    with torch.no_grad():
        assert torch.allclose(loaded(x), src(x), atol=1e-6)


def test_ecbsr_backbone_indices_map_to_head_blocks_tail():
    cfg = reference_config("ecbsr_m4c8", 2)
    ours = build_model(cfg).state_dict()
    official = {}
    for k in ours:
        if k.startswith("fea_conv."):
            official["backbone.0." + k[9:]] = ours[k]
        elif k.startswith("blocks."):
            i, rest = re.match(r"blocks\.(\d+)\.body\.0\.(.*)", k).groups()
            official[f"backbone.{int(i) + 1}.{rest}"] = ours[k]
        else:
            official["backbone.5." + k.removeprefix("upsampler.0.")] = ours[k]
    assert map_official_keys(official, "ecbsr_m4c8", cfg).keys() == ours.keys()


def test_rtc_renaming_matches_the_official_layout():
    cfg = reference_config("imdn_rtc", 2)
    keys = ["model.0.weight", "model.1.sub.0.c1.weight", "model.1.sub.4.c5.bias", "model.1.sub.5.weight",
            "model.2.bias"]
    mapped = map_official_keys({k: torch.zeros(1) for k in keys}, "imdn_rtc", cfg)
    assert list(mapped) == ["fea_conv.weight", "blocks.0.c1.weight", "blocks.4.c5.bias", "LR_conv.weight",
                            "upsampler.0.bias"]


# ---------------------------------------------------------------------- ours
def test_nas_checkpoint_round_trip_carries_the_config(tmp_path):
    cfg = reference_config("imdn_rtc", 3)
    model = build_model(cfg).eval()
    path = save_checkpoint(tmp_path / "run" / "last.pt", model, cfg, iteration=7, best_psnr_db=30.5)
    ckpt = read_checkpoint(path)
    assert ckpt["iteration"] == 7 and ckpt["config"]["scale"] == 3
    loaded = load_model(path)
    assert loaded.kind == "nas-checkpoint" and loaded.config == cfg and loaded.info["iteration"] == 7
    x = _x()
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))


def test_safetensors_round_trip_keeps_pixel_range(tmp_path):
    cfg = reference_config("erfdn", 4)
    inner = build_model(cfg).eval()
    path = save_safetensors(tmp_path / "erfdn.safetensors", PixelRange(inner, 255.0), cfg)
    tensors, meta = read_safetensors(path)
    assert meta["format"] == "nas-weights/1" and float(meta["pixel_range"]) == 255.0
    assert set(tensors) == set(inner.state_dict())
    loaded = load_model(path)
    assert loaded.kind == "safetensors" and isinstance(loaded.model, PixelRange)
    x = _x(h=15, w=16)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), inner(x * 255.0) / 255.0)


def test_plain_state_dict_needs_a_config(tmp_path):
    cfg = reference_config("imdn_rtc", 2)
    path = tmp_path / "plain.pt"
    torch.save(build_model(cfg).state_dict(), path)
    with pytest.raises(CheckpointError, match="holds no ArchConfig"):
        load_model(path)
    assert load_model(path, config=cfg).kind == "state-dict"
    with pytest.raises(CheckpointError, match=r"key 'upsampler\.0\.weight'.*\(12, 12, 3, 3\).*\(27, 12, 3, 3\)"):
        load_model(path, config=reference_config("imdn_rtc", 3))


def test_not_a_nas_checkpoint(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"a": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="not a nas checkpoint"):
        read_checkpoint(path)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match=r"bad\.safetensors: not a safetensors file"):
        load_model(bad)


# ---------------------------------------------------------------------- the released files
@pytest.mark.shared
@pytest.mark.parametrize("name, scale, file", [
    ("imdn", 2, "IMDN_x2.pth"), ("imdn", 3, "IMDN_x3.pth"), ("imdn", 4, "IMDN_x4.pth"),
    ("imdn_rtc", 2, "model_RTC.pth"),
])
def test_released_checkpoints_load_strictly(name, scale, file):
    path = OFFICIAL / file
    if not path.is_file():
        pytest.skip(f"{path} not found: ../shared/checkpoints is absent (set NAS_SHARED_DIR to use it)")
    model = load_official_weights(build_model(reference_config(name, scale)), path, name)
    assert not isinstance(model, PixelRange)
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert sum(v.numel() for v in state.values()) == sum(p.numel() for p in model.parameters())


@pytest.mark.shared
def test_released_x4_checkpoint_refused_by_x2_model():
    path = OFFICIAL / "IMDN_x4.pth"
    if not path.is_file():
        pytest.skip(f"{path} not found: ../shared/checkpoints is absent (set NAS_SHARED_DIR to use it)")
    with pytest.raises(CheckpointError, match=r"'upsampler\.0\.weight': checkpoint has shape \(48, 64, 3, 3\), "
                                              r"the model expects \(12, 64, 3, 3\)"):
        load_official_weights(build_model(reference_config("imdn", 2)), path, "imdn")
