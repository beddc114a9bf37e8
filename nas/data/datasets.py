"""Image sets: the built-in photographs, and dataset folders in the common SR layouts.

Built-in data: the natural colour photographs that scikit-image ships inside its wheel, in the
``skimage/data/`` package folder: astronaut (512x512), chelsea (451x300), coffee (600x400),
rocket (640x427), motorcycle_left and motorcycle_right (741x500 each); 1,651,724 pixels in all.
They are read straight from that folder; nothing is ever downloaded (scikit-image's fetchers are
not used).

Licences. ``skimage/data/README.txt`` only says that the folder holds a small subset of the
sample data; the licences are stated in the ``skimage.data`` docstrings: astronaut (NASA Great
Images, "no known copyright restrictions, released into the public domain"), chelsea ("CC0 by
the photographer", Stefan van der Walt), coffee ("CC0 by the photographer", Rachel Michetti,
courtesy of Pikolo Espresso Bar), rocket (SpaceX, "released in the public domain"). The
motorcycle stereo pair is a down-sampled image pair of the Middlebury 2014 stereo benchmark
(Scharstein et al., GCPR 2014); its docstring states no licence, only the citation.
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

_BUILTIN_FILES = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
}
BUILTIN_PHOTOS = tuple(_BUILTIN_FILES)
"""Names of the built-in photographs (files in scikit-image's ``skimage/data/``)."""


@dataclass
class ImagePair:
    """An HR image and its LR counterpart.

    Attributes:
        name: image stem (``baby``, ``0801``, ``astronaut``).
        hr: uint8 (sH, sW, 3) in [0, 255], mod-cropped to a multiple of the scale s.
        lr: uint8 (H, W, 3) in [0, 255]; an empty (0, 0, 3) array when loaded with
            ``with_lr=False``.
    """

    name: str
    hr: np.ndarray
    lr: np.ndarray


def load_builtin_photos() -> dict[str, np.ndarray]:
    """Read the built-in photographs from scikit-image's package folder (no download).

    Returns:
        ``{name: uint8 (H, W, 3)}`` in the order of :data:`BUILTIN_PHOTOS`.

    Raises:
        DataError: scikit-image is not installed, or one of its bundled files is missing
            (names the file).
        ImageReadError: a bundled file cannot be decoded (names the file).
    """
    try:
        import skimage.data
    except ImportError:
        raise DataError("scikit-image is not installed; its bundled photographs are the built-in "
                        "data (install scikit-image, or pass --data DIR)") from None
    folder = Path(os.path.dirname(skimage.data.__file__))
    photos = {}
    for name, fname in _BUILTIN_FILES.items():
        path = folder / fname
        if not path.is_file():
            raise DataError(f"{path}: scikit-image's bundled data is missing the photograph {name!r} "
                            "(reinstall scikit-image, or pass --data DIR)")
        photos[name] = read_image(path)
    return photos


def builtin_split() -> tuple[list[str], list[str]]:
    """Split the built-in photographs into training and held-out validation images.

    Returns:
        ``(train, val)``: train = astronaut, rocket, motorcycle_left, motorcycle_right; val =
        chelsea, coffee (scenes that do not occur in the training images).
    """
    return ["astronaut", "rocket", "motorcycle_left", "motorcycle_right"], ["chelsea", "coffee"]


def make_pairs(images: dict[str, np.ndarray], scale: int) -> list[ImagePair]:
    """Make benchmark-style pairs: HR mod-cropped to a multiple of ``scale``, LR = MATLAB bicubic.

    Args:
        images: ``{name: uint8 (H, W, 3)}`` HR images.
        scale: integer factor s >= 1.

    Returns:
        One :class:`ImagePair` per image, in the order of ``images``.

    Raises:
        DataError: an image is smaller than ``scale`` pixels on a side (names it).
    """
    pairs = []
    for name, img in images.items():
        if min(img.shape[:2]) < scale:
            raise DataError(f"{name}: image is {img.shape[1]}x{img.shape[0]}, smaller than the scale x{scale}")
        hr = np.ascontiguousarray(modcrop(img, scale))
        pairs.append(ImagePair(name, hr=hr, lr=bicubic_downscale(hr, scale)))
    return pairs


def dataset_name(path: str | Path) -> str:
    """A dataset's name: the name of its folder (``/data/Set5`` and ``/data/Set5/`` give ``Set5``)."""
    return Path(path).resolve().name


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _challenge_dirs(root: Path) -> tuple[Path, Path] | None:
    """The NTIRE challenges' layout: ``X_HR/`` beside ``X_LR/`` (``DIV2K_LSDIR_valid_HR`` and
    ``DIV2K_LSDIR_valid_LR`` holding ``{stem}x{s}.png``), given either their parent folder or the
    ``_HR`` folder itself. Returns ``(hr_dir, lr_dir)`` or None."""
    if root.name.endswith("_HR"):
        lr = root.with_name(root.name[:-3] + "_LR")
        return (root, lr) if lr.is_dir() else None
    pairs = [(d, d.with_name(d.name[:-3] + "_LR")) for d in sorted(root.glob("*_HR")) if d.is_dir()]
    pairs = [(h, lr) for h, lr in pairs if lr.is_dir()]
    return pairs[0] if len(pairs) == 1 else None


def _lr_dirs(root: Path, scale: int) -> list[Path]:
    """Where a dataset folder may ship its LR images: ``LR_bicubic/X{s}`` (or ``x{s}``), or the
    ``_LR`` folder of the challenge layout."""
    dirs = [root / "LR_bicubic" / f"X{scale}", root / "LR_bicubic" / f"x{scale}"]
    challenge = _challenge_dirs(root)
    if challenge is not None:
        dirs.append(challenge[1])
    return [d for d in dirs if d.is_dir()]


def _lr_dir(root: Path, scale: int) -> Path | None:
    """The first LR folder of :func:`_lr_dirs` that holds at least one image."""
    return next((d for d in _lr_dirs(root, scale) if _images_in(d)), None)


def _find_lr(root: Path, stem: str, scale: int) -> Path | None:
    """The shipped LR of ``stem``: ``{stem}x{s}.{ext}`` (or ``{stem}.{ext}``) in an LR folder."""
    for sub in _lr_dirs(root, scale):
        for name in (f"{stem}x{scale}", stem):
            for ext in IMAGE_EXTENSIONS:
                if (sub / f"{name}{ext}").is_file():
                    return sub / f"{name}{ext}"
    return None


def _pair_with_shipped_lr(name: str, hr_full: np.ndarray, lr: np.ndarray, lr_path: Path,
                          hr_path: Path, scale: int) -> ImagePair:
    """HR cropped to exactly ``scale`` x the shipped LR's size (= the mod-crop when consistent:
    by ``scale``, as the official sets, or by up to 12 px, as "modcrop 12" sets); an LR that
    would leave 12 HR px or more unused is refused (not the HR's downscaled image)."""
    h, w = hr_full.shape[:2]
    lh, lw = lr.shape[:2]
    if lh * scale > h or lw * scale > w:
        raise DataError(f"{lr_path}: LR is {lw}x{lh}, too large for the HR {hr_path.name} "
                        f"({w}x{h}) at x{scale}")
    if h - lh * scale >= 12 or w - lw * scale >= 12:  # mod-crop by s (official sets) or by up to 12
        raise DataError(f"{lr_path}: LR is {lw}x{lh}, but the HR {hr_path.name} ({w}x{h}) at x{scale} "
                        f"needs {w // scale}x{h // scale} (a mod-crop of at most 11 px): not its downscaled image")
    return ImagePair(name, hr=np.ascontiguousarray(hr_full[: lh * scale, : lw * scale]), lr=lr)


def load_folder(path: str | Path, scale: int, with_lr: bool = True, min_size: int = 0) -> list[ImagePair]:
    """Load a dataset folder as HR/LR pairs.

    Layouts: ``DIR/HR/*`` with optional shipped LR images ``DIR/LR_bicubic/X{s}/{stem}x{s}.{ext}``
    (the benchmark sets, DIV2K-style); the NTIRE challenges' ``DIR/X_HR/*`` beside
    ``DIR/X_LR/{stem}x{s}.{ext}`` (``DIV2K_LSDIR_valid_HR`` / ``_LR``; ``DIR`` may also be the
    ``_HR`` folder itself); or the images directly in ``DIR`` (an HR folder).
    HR images are mod-cropped to a multiple of ``scale``. A shipped LR image is used as is; the
    HR is then cropped to exactly s times its size (which is the mod-crop for the official sets).
    Without a shipped LR image, the LR is made with the MATLAB-compatible bicubic
    (:func:`nas.data.bicubic_downscale`).

    Args:
        path: dataset folder.
        scale: integer factor s >= 1.
        with_lr: load or make the LR images; with False, ``lr`` is an empty (0, 0, 3) array.
        min_size: minimum HR side in pixels (e.g. one HR training patch); 0 for none.

    Returns:
        :class:`ImagePair` list sorted by file name; hr uint8 (sH, sW, 3), lr uint8 (H, W, 3).

    Raises:
        DataError: the folder is missing, holds no images, an image is smaller than
            ``min_size`` (or than ``scale``), a shipped LR image does not fit its HR, or
            ``LR_bicubic/X{s}`` holds images but none for one HR image;
            each message is one line naming the path.
        ImageReadError: an image cannot be decoded (names the file).
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    challenge = _challenge_dirs(root)
    hr_dir = root / "HR" if (root / "HR").is_dir() else (challenge[0] if challenge is not None else root)
    shipped = hr_dir != root or challenge is not None  # a layout that may ship LR images
    files = _images_in(hr_dir)
    if not files:
        raise DataError(f"{root}: no images found (looked for HR/ or "
                        f"{'|'.join('*' + e for e in IMAGE_EXTENSIONS)} in the folder)")
    pairs = []
    for f in files:
        hr = read_image(f)
        h, w = hr.shape[:2]
        if min(h, w) < min_size:
            raise DataError(f"{f}: image is {w}x{h}, smaller than one HR patch ({min_size} px)")
        if min(h, w) < scale:
            raise DataError(f"{f}: image is {w}x{h}, smaller than the scale x{scale}")
        lr_path = _find_lr(root, f.stem, scale) if with_lr and shipped else None
        if lr_path is None and with_lr and shipped and _lr_dir(root, scale) is not None:
            raise DataError(f"{_lr_dir(root, scale)}: no LR image for {f.name} (looked for {f.stem}x{scale}.* "
                            f"and {f.stem}.*); the other images have one, so this one cannot be scored alike")
        if lr_path is not None:
            pairs.append(_pair_with_shipped_lr(f.stem, hr, read_image(lr_path), lr_path, f, scale))
            continue
        hr = np.ascontiguousarray(modcrop(hr, scale))
        lr = bicubic_downscale(hr, scale) if with_lr else np.empty((0, 0, 3), np.uint8)
        pairs.append(ImagePair(f.stem, hr=hr, lr=lr))
    return pairs
