"""Image I/O errors, the MATLAB-compatible bicubic, built-in photographs and dataset folders."""

import numpy as np
import pytest
from PIL import Image

from nas.data import (ImagePair, bicubic_downscale, builtin_split, imresize, load_builtin_photos,
                      load_folder, modcrop, read_image, rgb_to_y)
from nas.errors import DataError, ImageReadError
from tests.shared_paths import require_benchmark_set


def test_read_image_errors_name_the_file(tmp_path):
    with pytest.raises(ImageReadError, match="missing.png: cannot read image"):
        read_image(tmp_path / "missing.png")
    bogus = tmp_path / "bogus.png"
    bogus.write_text("not an image")
    with pytest.raises(ImageReadError, match="bogus.png: cannot read image"):
        read_image(bogus)
    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ImageReadError, match="truncated.png: cannot read image"):
        read_image(truncated)


def test_read_image_converts_grey_and_rgba_to_rgb(tmp_path):
    Image.new("L", (5, 4), 7).save(tmp_path / "g.png")
    Image.new("RGBA", (5, 4), (1, 2, 3, 4)).save(tmp_path / "a.png")
    assert read_image(tmp_path / "g.png").shape == (4, 5, 3)
    assert read_image(tmp_path / "a.png")[0, 0].tolist() == [1, 2, 3]


def test_imresize_shapes_and_constant_image():
    img = np.full((30, 45, 3), 77, np.uint8)
    out = imresize(img, 1 / 3)
    assert out.shape == (10, 15, 3) and out.dtype == np.uint8
    assert (out == 77).all()  # weights sum to one
    assert imresize(np.zeros((7, 9)), 0.5).shape == (4, 5)  # ceil, like MATLAB
    assert imresize(img.astype(np.float64) / 255, 2).shape == (60, 90, 3)


def test_imresize_is_separable_and_linear():
    rng = np.random.default_rng(1)
    a, b = rng.random((24, 36)), rng.random((24, 36))
    np.testing.assert_allclose(imresize(a + 2 * b, 0.25), imresize(a, 0.25) + 2 * imresize(b, 0.25), atol=1e-12)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_official_lr(name, scale):
    root = require_benchmark_set(name)
    diffs = []
    for f in sorted((root / "HR").iterdir()):
        hr = modcrop(read_image(f), scale)
        official = read_image(root / "LR_bicubic" / f"X{scale}" / f"{f.stem}x{scale}{f.suffix}")
        ours = bicubic_downscale(hr, scale)
        assert ours.shape == official.shape
        diffs.append(np.abs(ours.astype(int) - official.astype(int)).mean())
    assert np.mean(diffs) < 0.5, diffs  # MATLAB imresize convention (target from issue #5)


def test_rgb_to_y_matches_matlab_formula():
    white, black = np.full((1, 1, 3), 255, np.uint8), np.zeros((1, 1, 3), np.uint8)
    assert rgb_to_y(white)[0, 0] == pytest.approx(235.0, abs=1e-9)
    assert rgb_to_y(black)[0, 0] == pytest.approx(16.0)


def test_builtin_photos_and_split():
    photos = load_builtin_photos()
    train, val = builtin_split()
    assert set(train) | set(val) == set(photos) and not set(train) & set(val)
    assert photos["astronaut"].shape == (512, 512, 3)
    total = sum(p.shape[0] * p.shape[1] for p in photos.values())
    assert 1.6e6 < total < 1.7e6


@pytest.mark.shared
def test_load_folder_uses_shipped_lr():
    root = require_benchmark_set("Set5")
    pairs = load_folder(root, 4)
    assert [p.name for p in pairs] == ["baby", "bird", "butterfly", "head", "woman"]
    for p in pairs:
        assert isinstance(p, ImagePair)
        assert p.hr.shape[0] == 4 * p.lr.shape[0] and p.hr.shape[1] == 4 * p.lr.shape[1]
        official = read_image(root / "LR_bicubic" / "X4" / f"{p.name}x4.bmp")
        assert np.array_equal(p.lr, official)


def test_load_folder_errors_name_the_path(tmp_path):
    with pytest.raises(DataError, match="nowhere: dataset folder not found"):
        load_folder(tmp_path / "nowhere", 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no images found"):
        load_folder(tmp_path / "empty", 4)
    small = tmp_path / "small"
    small.mkdir()
    Image.new("RGB", (40, 30)).save(small / "tiny.png")
    with pytest.raises(DataError, match="tiny.png: image is 40x30, smaller than one HR patch"):
        load_folder(small, 4, min_size=96)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(ImageReadError, match="broken.jpg"):
        load_folder(bad, 2)


def test_load_folder_without_lr_makes_bicubic(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (50, 62, 3), dtype=np.uint8)).save(tmp_path / "x.png")
    (pair,) = load_folder(tmp_path, 4)
    assert pair.hr.shape == (48, 60, 3) and pair.lr.shape == (12, 15, 3)
    assert np.array_equal(pair.lr, bicubic_downscale(pair.hr, 4))
