"""Image I/O with Pillow: RGB uint8 arrays, and one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from nas.errors import ImageReadError

__all__ = ["IMAGE_EXTENSIONS", "read_image", "write_image"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as RGB.

    Args:
        path: image file (any format Pillow decodes; greyscale and RGBA become RGB).

    Returns:
        uint8 array (H, W, 3).

    Raises:
        ImageReadError: missing, not an image, or truncated / corrupt (the whole file is decoded,
            so a truncated PNG fails here and not in the middle of a search). Names the file.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            rgb = im.convert("RGB")
    except FileNotFoundError:
        raise ImageReadError(f"{path}: cannot read image (file not found)") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: cannot read image (not a recognised image format)") from None
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageReadError(f"{path}: cannot read image ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    return np.asarray(rgb, dtype=np.uint8).copy()


def write_image(path: str | Path, img: np.ndarray) -> Path:
    """Write a uint8 (H, W, 3) or (H, W) array; the format follows the suffix (PNG is lossless)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(img, dtype=np.uint8)).save(path)
    return path
