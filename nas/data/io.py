"""Image I/O with Pillow: RGB uint8 arrays, and one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from nas.errors import ImageReadError

__all__ = ["IMAGE_EXTENSIONS", "read_image", "write_image"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
"""Lower-case suffixes treated as images when a folder is scanned."""


def _reason(err: BaseException) -> str:
    if isinstance(err, FileNotFoundError):
        return "file not found"
    if isinstance(err, IsADirectoryError):
        return "is a directory"
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, UnidentifiedImageError):
        return "not a recognised image format"
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB.

    The whole file is decoded here (``Image.load``), so a truncated or corrupt file fails at
    once rather than in the middle of a search.

    Args:
        path: image file in any format Pillow decodes; greyscale, palette and RGBA images are
            converted to RGB (alpha dropped); 16-bit greyscale is scaled to 8 bits (v / 257).

    Returns:
        uint8 array (H, W, 3) in [0, 255].

    Raises:
        ImageReadError: the file is missing, unreadable, not an image, truncated or corrupt;
            one line, ``"{path}: cannot read image ({reason})"``.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode.startswith("I;16") or im.mode in ("I", "F"):
                return _wide_grey_to_rgb8(np.asarray(im), im.mode, path)
            rgb = im.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        # OSError covers missing / unreadable files, unidentified formats and truncated data
        raise ImageReadError(f"{path}: cannot read image ({_reason(err)})") from None
    return np.array(rgb, dtype=np.uint8)


def _wide_grey_to_rgb8(a: np.ndarray, mode: str, path: Path) -> np.ndarray:
    """A 16-bit (``I;16*``, or ``I`` holding 0..65535) greyscale image scaled to 8 bits
    (v / 257, rounded: 65535 -> 255) and repeated on three channels; Pillow's own ``convert``
    would clip every value above 255 to white.

    Raises:
        ImageReadError: 32-bit integer or float pixels outside 0..65535 (no known range).
    """
    a = a.astype(np.float64)
    if a.size and (a.min() < 0 or a.max() > 65535 or (mode == "F" and a.max() > 1.0 and a.max() <= 255)):
        raise ImageReadError(f"{path}: cannot read image ({mode} pixels in "
                             f"{a.min():g}..{a.max():g}: only 8- and 16-bit images are supported)")
    if mode == "F" and a.max(initial=0) <= 1.0:
        grey = np.rint(a * 255.0)
    else:
        grey = np.rint(a / 257.0)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def write_image(path: str | Path, img: np.ndarray) -> Path:
    """Write an 8-bit image; the format follows the suffix (use PNG for lossless output).

    Args:
        path: destination file; missing parent folders are created.
        img: uint8 (H, W, 3) RGB or (H, W) greyscale, in [0, 255].

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: ``img`` is not uint8 (H, W) or (H, W, 3), or the suffix is not a known
            image format.
        OSError: the file cannot be written.
    """
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"write_image expects uint8 (H, W) or (H, W, 3), got {arr.dtype} {arr.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path
