"""Image sets: the built-in photographs, and dataset folders in the common SR layouts.

Built-in data: the natural colour photographs that scikit-image ships inside its wheel
(``skimage/data/``: astronaut, chelsea, coffee, rocket, motorcycle_left, motorcycle_right; about
1.65 megapixels in all). They are read straight from the package folder; nothing is downloaded.
Licences as stated in the ``skimage.data`` docstrings: astronaut (NASA, public domain), chelsea
(CC0, Stefan van der Walt), coffee (CC0, Rachel Michetti), rocket (SpaceX, public domain), the
motorcycle stereo pair (Middlebury 2014 stereo data set, Scharstein et al., GCPR 2014).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas.data.bicubic import bicubic_downscale
from nas.data.color import modcrop
from nas.data.io import IMAGE_EXTENSIONS, read_image
from nas.errors import DataError

__all__ = ["BUILTIN_PHOTOS", "ImagePair", "builtin_split", "load_builtin_photos", "make_pairs",
           "load_folder", "dataset_name"]

BUILTIN_PHOTOS = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
}


@dataclass
class ImagePair:
    """An HR image and its LR counterpart.

    Attributes:
        name: image stem (``baby``, ``0801``).
        hr: uint8 (sH, sW, 3), mod-cropped to a multiple of the scale.
        lr: uint8 (H, W, 3).
    """

    name: str
    hr: np.ndarray
    lr: np.ndarray


def load_builtin_photos() -> dict[str, np.ndarray]:
    """The built-in photographs as uint8 (H, W, 3) arrays, by name.

    Raises:
        DataError: scikit-image or one of its bundled files is missing (names the file).
    """
    try:
        import skimage.data
    except ImportError:
        raise DataError("scikit-image is not installed; it provides the built-in photographs "
                        "(pip install scikit-image, or pass --data DIR)") from None
    folder = Path(os.path.dirname(skimage.data.__file__))
    out = {}
    for name, fname in BUILTIN_PHOTOS.items():
        path = folder / fname
        if not path.is_file():
            raise DataError(f"{path}: scikit-image's bundled photograph {name!r} is missing "
                            "(reinstall scikit-image, or pass --data DIR)")
        out[name] = read_image(path)
    return out


def builtin_split() -> tuple[list[str], list[str]]:
    """``(train, val)`` names: four photographs for training, two other scenes held out."""
    return ["astronaut", "rocket", "motorcycle_left", "motorcycle_right"], ["chelsea", "coffee"]


def make_pairs(images: dict[str, np.ndarray], scale: int) -> list[ImagePair]:
    """Mod-crop each HR image to a multiple of ``scale`` and make its LR with MATLAB bicubic."""
    pairs = []
    for name, img in images.items():
        hr = np.ascontiguousarray(modcrop(img, scale))
        pairs.append(ImagePair(name, hr=hr, lr=bicubic_downscale(hr, scale)))
    return pairs


def dataset_name(path: str | Path) -> str:
    """A dataset's name: its folder's name (``Set5``)."""
    return Path(path).resolve().name


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _find_lr(root: Path, stem: str, scale: int) -> Path | None:
    for sub in (root / "LR_bicubic" / f"X{scale}", root / "LR_bicubic" / f"x{scale}"):
        if sub.is_dir():
            for ext in IMAGE_EXTENSIONS:
                for name in (f"{stem}x{scale}{ext}", f"{stem}{ext}"):
                    if (sub / name).is_file():
                        return sub / name
    return None


def load_folder(path: str | Path, scale: int, with_lr: bool = True, min_size: int = 0) -> list[ImagePair]:
    """Load a dataset folder: ``DIR/HR/*`` (+ ``DIR/LR_bicubic/X{s}/{stem}x{s}.{ext}`` when
    present, as in DIV2K / the benchmark sets), or images directly in ``DIR``.

    HR images are mod-cropped to a multiple of ``scale``; without a shipped LR image the LR is
    made with the MATLAB-compatible bicubic. A shipped LR image must be HR / scale in size.

    Args:
        path: dataset folder.
        scale: upscaling factor s.
        with_lr: also load / make the LR images (else ``lr`` is an empty array).
        min_size: minimum HR side in pixels (e.g. one HR training patch).

    Returns:
        Pairs sorted by file name.

    Raises:
        DataError: folder missing, no images, an image smaller than ``min_size``, or a shipped LR
            image whose size does not match (each names the path).
        ImageReadError: an image cannot be decoded (names the file).
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    hr_dir = root / "HR" if (root / "HR").is_dir() else root
    files = _images_in(hr_dir)
    if not files:
        raise DataError(f"{root}: no images found (looked for HR/ or {', '.join(IMAGE_EXTENSIONS)} files in the folder)")
    pairs = []
    for f in files:
        hr = read_image(f)
        h, w = hr.shape[:2]
        if min(h, w) < max(min_size, scale):
            raise DataError(f"{f}: image is {w}x{h}, smaller than one HR patch ({min_size} px)")
        hr = np.ascontiguousarray(modcrop(hr, scale))
        lr = np.empty((0, 0, 3), np.uint8)
        if with_lr:
            lr_path = _find_lr(root, f.stem, scale) if hr_dir != root else None
            if lr_path is not None:
                lr = read_image(lr_path)
                lh, lw = lr.shape[:2]
                if (lh * scale, lw * scale) != hr.shape[:2]:
                    if lh * scale <= h and lw * scale <= w:
                        hr = np.ascontiguousarray(read_image(f)[: lh * scale, : lw * scale])
                    else:
                        raise DataError(f"{lr_path}: LR is {lw}x{lh}, does not match HR {w}x{h} at x{scale}")
            else:
                lr = bicubic_downscale(hr, scale)
        pairs.append(ImagePair(f.stem, hr=hr, lr=lr))
    return pairs
