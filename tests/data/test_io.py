"""read_image / write_image: RGB uint8 arrays, one-line errors that name the file."""

import numpy as np
import pytest
from PIL import Image

from nas.data import IMAGE_EXTENSIONS, read_image, write_image
from nas.errors import ImageReadError, NasError


def _noise(h=64, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_round_trip_png(tmp_path):
    img = _noise(13, 17)
    path = write_image(tmp_path / "sub" / "x.png", img)  # parent folders are created
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (13, 17, 3)
    assert np.array_equal(out, img)


def test_grey_palette_and_rgba_become_rgb(tmp_path):
    Image.new("L", (5, 4), 7).save(tmp_path / "g.png")
    Image.new("RGBA", (5, 4), (1, 2, 3, 4)).save(tmp_path / "a.png")
    Image.new("P", (5, 4), 0).save(tmp_path / "p.png")
    assert read_image(tmp_path / "g.png").shape == (4, 5, 3)
    assert read_image(tmp_path / "g.png")[0, 0].tolist() == [7, 7, 7]
    assert read_image(tmp_path / "a.png")[0, 0].tolist() == [1, 2, 3]
    assert read_image(tmp_path / "p.png").shape == (4, 5, 3)


def _one_line_error(path) -> str:
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    msg = str(info.value)
    assert "\n" not in msg and isinstance(info.value, NasError)
    assert msg.startswith(f"{path}: cannot read image (")
    return msg


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path):
    # a 16-bit PNG (Pillow mode I;16): convert("RGB") alone would make every value > 255 white
    ramp = (np.arange(32 * 32, dtype=np.float64).reshape(32, 32) * 64).astype(np.uint16)
    ramp[0, 0], ramp[0, 1] = 0, 65535
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    out = read_image(tmp_path / "g16.png")
    assert out.dtype == np.uint8 and out.shape == (32, 32, 3)
    assert np.array_equal(out[..., 0], np.rint(ramp / 257.0).astype(np.uint8))
    assert out[0, 1, 0] == 255 and out[0, 0, 0] == 0 and (out[..., 0] == 255).mean() < 0.01


def test_missing_file(tmp_path):
    assert "file not found" in _one_line_error(tmp_path / "missing.png")


def test_not_an_image(tmp_path):
    bogus = tmp_path / "bogus.png"
    bogus.write_text("not an image")
    assert "not a recognised image format" in _one_line_error(bogus)


def test_truncated_png_fails_on_read(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(_noise()).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _one_line_error(truncated)


def test_truncated_jpeg_fails_on_read(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(_noise(128, 128)).save(good, quality=90)
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _one_line_error(truncated)


def test_directory_is_not_an_image(tmp_path):
    _one_line_error(tmp_path)


def test_write_image_rejects_float_and_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "f.png", np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "c.png", np.zeros((4, 4, 4), np.uint8))


def test_extensions_are_lower_case_suffixes():
    assert all(e.startswith(".") and e == e.lower() for e in IMAGE_EXTENSIONS)
    assert {".png", ".jpg", ".bmp"} <= set(IMAGE_EXTENSIONS)
