"""Built-in photographs, pairs, and dataset folders (layouts, shipped LR, errors)."""

import numpy as np
import pytest
from PIL import Image

from nas.data import (BUILTIN_PHOTOS, ImagePair, bicubic_downscale, builtin_split, dataset_name,
                      load_builtin_photos, load_folder, make_pairs, read_image, write_image)
from nas.errors import DataError, ImageReadError
from tests.shared_paths import require_benchmark_set

EXPECTED_SHAPES = {
    "astronaut": (512, 512, 3), "chelsea": (300, 451, 3), "coffee": (400, 600, 3),
    "rocket": (427, 640, 3), "motorcycle_left": (500, 741, 3), "motorcycle_right": (500, 741, 3),
}


def _noise(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_builtin_photos_load_with_expected_shapes():
    photos = load_builtin_photos()
    assert tuple(photos) == BUILTIN_PHOTOS
    assert {n: p.shape for n, p in photos.items()} == EXPECTED_SHAPES
    assert all(p.dtype == np.uint8 for p in photos.values())
    assert sum(p.shape[0] * p.shape[1] for p in photos.values()) == 1_651_724


def test_builtin_split_holds_out_two_scenes():
    train, val = builtin_split()
    assert set(train) | set(val) == set(BUILTIN_PHOTOS) and not set(train) & set(val)
    assert val == ["chelsea", "coffee"]


def test_make_pairs_modcrops_and_downscales():
    (pair,) = make_pairs({"x": _noise(50, 62)}, 3)
    assert isinstance(pair, ImagePair) and pair.name == "x"
    assert pair.hr.shape == (48, 60, 3) and pair.lr.shape == (16, 20, 3)
    assert np.array_equal(pair.lr, bicubic_downscale(pair.hr, 3))
    with pytest.raises(DataError, match="tiny"):
        make_pairs({"tiny": _noise(2, 9)}, 4)


@pytest.mark.shared
def test_load_folder_uses_the_shipped_lr_of_set5():
    root = require_benchmark_set("Set5")
    pairs = load_folder(root, 4)
    assert [p.name for p in pairs] == ["baby", "bird", "butterfly", "head", "woman"]
    for p in pairs:
        assert p.hr.shape[0] == 4 * p.lr.shape[0] and p.hr.shape[1] == 4 * p.lr.shape[1]
        official = read_image(root / "LR_bicubic" / "X4" / f"{p.name}x4.bmp")
        assert np.array_equal(p.lr, official)
    assert dataset_name(root) == "Set5"


def test_hr_folder_without_lr_gets_bicubic_lr(tmp_path):
    write_image(tmp_path / "b.png", _noise(50, 62, 1))
    write_image(tmp_path / "a.png", _noise(40, 40, 2))
    (tmp_path / "notes.txt").write_text("ignored")
    pairs = load_folder(tmp_path, 4)
    assert [p.name for p in pairs] == ["a", "b"]
    assert pairs[1].hr.shape == (48, 60, 3) and pairs[1].lr.shape == (12, 15, 3)
    assert np.array_equal(pairs[1].lr, bicubic_downscale(pairs[1].hr, 4))
    assert all(p.lr.shape == (0, 0, 3) for p in load_folder(tmp_path, 4, with_lr=False))


def test_shipped_lr_is_used_and_hr_cropped_to_match(tmp_path):
    hr = _noise(50, 62, 3)
    write_image(tmp_path / "HR" / "x.png", hr)
    shipped = _noise(10, 14, 4)  # from a 40x56 crop ("modcrop 12" style), not from 48x60
    write_image(tmp_path / "LR_bicubic" / "X4" / "xx4.png", shipped)
    (x,) = load_folder(tmp_path, 4)
    assert np.array_equal(x.lr, shipped) and np.array_equal(x.hr, hr[:40, :56])
    (y,) = load_folder(tmp_path, 3)  # no LR_bicubic/X3: our bicubic from the mod-crop
    assert y.hr.shape == (48, 60, 3) and np.array_equal(y.lr, bicubic_downscale(y.hr, 3))
    # an HR image without its LR beside others that have one would be scored on another LR
    write_image(tmp_path / "HR" / "y.png", hr)
    with pytest.raises(DataError, match=r"X4: no LR image for y.png \(looked for yx4.\* and y.\*\)"):
        load_folder(tmp_path, 4)


def test_shipped_lr_too_large_is_an_error(tmp_path):
    write_image(tmp_path / "HR" / "x.png", _noise(40, 40))
    lr_path = write_image(tmp_path / "LR_bicubic" / "X2" / "xx2.png", _noise(30, 20))
    with pytest.raises(DataError, match=f"{lr_path}: LR is 20x30, too large"):
        load_folder(tmp_path, 2)


def test_shipped_lr_far_too_small_is_an_error(tmp_path):
    # a 30x30 LR beside a 200x200 HR at x4 (needs 50x50): a cropped HR would not match it
    write_image(tmp_path / "HR" / "x.png", _noise(200, 200))
    lr_path = write_image(tmp_path / "LR_bicubic" / "X4" / "xx4.png", _noise(30, 30))
    with pytest.raises(DataError, match=f"{lr_path}: LR is 30x30, but the HR x.png \\(200x200\\) at x4 needs 50x50"):
        load_folder(tmp_path, 4)


def test_errors_are_one_line_and_name_the_path(tmp_path):
    with pytest.raises(DataError, match="nowhere: dataset folder not found"):
        load_folder(tmp_path / "nowhere", 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no images found \(looked for HR/ or \*\.png"):
        load_folder(tmp_path / "empty", 4)
    small = tmp_path / "small"
    small.mkdir()
    Image.new("RGB", (40, 30)).save(small / "tiny.png")
    with pytest.raises(DataError, match="tiny.png: image is 40x30, smaller than one HR patch"):
        load_folder(small, 4, min_size=96)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ImageReadError, match="broken.jpg: cannot read image") as info:
        load_folder(bad, 2)
    assert "\n" not in str(info.value)


def test_dataset_name_is_the_folder_name(tmp_path):
    assert dataset_name(tmp_path / "Set14") == "Set14"
    assert dataset_name(str(tmp_path / "B100") + "/") == "B100"


@pytest.mark.parametrize("point_at", ["parent", "hr"])
def test_the_ntire_challenge_layout_pairs_hr_with_its_shipped_lr(tmp_path, point_at):
    """``DIV2K_LSDIR_valid_HR/0801.png`` beside ``DIV2K_LSDIR_valid_LR/0801x4.png`` (the
    NTIRE ESR repositories' layout), given the parent folder or the _HR folder."""
    hr_dir, lr_dir = tmp_path / "DIV2K_LSDIR_valid_HR", tmp_path / "DIV2K_LSDIR_valid_LR"
    hr_dir.mkdir()
    lr_dir.mkdir()
    hr = _noise(66, 50)
    write_image(hr_dir / "0801.png", hr)
    lr = _noise(16, 12, seed=1)  # shipped: used as is, not our bicubic of the HR
    write_image(lr_dir / "0801x4.png", lr)
    pairs = load_folder(tmp_path if point_at == "parent" else hr_dir, 4)
    assert [p.name for p in pairs] == ["0801"]
    assert np.array_equal(pairs[0].lr, lr) and pairs[0].hr.shape == (64, 48, 3)
    write_image(hr_dir / "0802.png", hr)  # an HR without its LR is refused, naming the folder
    with pytest.raises(DataError, match="DIV2K_LSDIR_valid_LR: no LR image for 0802.png"):
        load_folder(tmp_path, 4)
