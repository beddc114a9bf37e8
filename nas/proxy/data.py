"""Proxy data: LR/HR patch batches from real photographs, the same order for every candidate.

The built-in default is the natural colour photographs bundled in scikit-image's wheel (see
``nas.data.datasets``); ``--data DIR`` takes a DIV2K-style folder and ``--val-data DIR`` a
Set5/Set14-style validation set. LR images are made once with the MATLAB-compatible bicubic
(``nas.data.bicubic``) unless the folder ships ``LR_bicubic/X{s}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nas.data import ImagePair, builtin_split, load_builtin_photos, load_folder, make_pairs
from nas.errors import DataError
from nas.proxy.profiles import ProxyProfile

__all__ = ["ProxyData", "load_proxy_data"]


def _centre_crop(pair: ImagePair, max_side: int, scale: int) -> ImagePair:
    """The centre of ``pair`` with an HR side of at most ``max_side`` px (0 = whole image), never
    an LR side under :data:`VAL_MIN_LR` (every network of the space must be able to score it)."""
    if not max_side:
        return pair
    lh, lw = pair.lr.shape[:2]
    ml = max(VAL_MIN_LR, max_side // scale)
    th, tw = min(lh, ml), min(lw, ml)
    y, x = (lh - th) // 2, (lw - tw) // 2
    lr = pair.lr[y : y + th, x : x + tw]
    hr = pair.hr[y * scale : (y + th) * scale, x * scale : (x + tw) * scale]
    return ImagePair(pair.name, hr=np.ascontiguousarray(hr), lr=np.ascontiguousarray(lr))


@dataclass
class ProxyData:
    """Training pairs, validation pairs and a deterministic batch generator.

    Attributes:
        scale: upscaling factor s.
        train: training pairs (HR uint8 (sH, sW, 3), LR uint8 (H, W, 3)).
        val: validation pairs, centre-cropped to the profile's ``val_max_side``.
        source: a short description of where the images came from (stored on the study).
    """

    scale: int
    train: list[ImagePair]
    val: list[ImagePair]
    source: str

    def __post_init__(self) -> None:
        areas = np.array([p.lr.shape[0] * p.lr.shape[1] for p in self.train], dtype=np.float64)
        self._weights = areas / areas.sum()

    def batch(self, step: int, batch: int, lr_patch: int, seed: int, augment: bool = True,
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``step``-th training batch; identical for every candidate with the same seed.

        Returns:
            ``(lr, hr)`` float32 tensors in [0, 1] of shapes (B, 3, p, p) and (B, 3, sp, sp).
        """
        rng = np.random.default_rng((seed, step))
        s = self.scale
        lrs = np.empty((batch, lr_patch, lr_patch, 3), np.uint8)
        hrs = np.empty((batch, lr_patch * s, lr_patch * s, 3), np.uint8)
        for b in range(batch):
            pair = self.train[rng.choice(len(self.train), p=self._weights)]
            h, w = pair.lr.shape[:2]
            y, x = rng.integers(0, h - lr_patch + 1), rng.integers(0, w - lr_patch + 1)
            lr = pair.lr[y : y + lr_patch, x : x + lr_patch]
            hr = pair.hr[y * s : (y + lr_patch) * s, x * s : (x + lr_patch) * s]
            if augment:
                k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
                lr, hr = np.rot90(lr, k), np.rot90(hr, k)
                if flip:
                    lr, hr = lr[:, ::-1], hr[:, ::-1]
            lrs[b], hrs[b] = lr, hr
        to_t = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255.0)  # noqa: E731
        return to_t(lrs), to_t(hrs)


def load_proxy_data(scale: int, profile: ProxyProfile, data: str | Path | None = None,
                    val_data: str | Path | None = None) -> ProxyData:
    """Load (and LR-downscale) the proxy's training and validation images.

    Args:
        scale: upscaling factor s.
        profile: proxy profile (LR patch size and validation crop).
        data: DIV2K-style folder (``HR/`` or images directly); ``None`` = built-in photographs,
            split into 4 training and 2 held-out validation photographs.
        val_data: validation folder (with ``data=None`` too: built-in photographs for training,
            this folder for validation); ``None`` with ``data`` given = every 5th image of
            ``data`` is held out (at least one).

    Raises:
        DataError: folder missing or empty, too few images, training images smaller than one
            HR patch, validation images under :data:`VAL_MIN_LR` LR px (names the image).
        ImageReadError: an image cannot be decoded (names the file).
    """
    hr_patch = profile.lr_patch * scale
    if data is None:
        photos = load_builtin_photos()
        train_names, val_names = builtin_split()
        train = make_pairs({n: photos[n] for n in train_names}, scale)
        if val_data is None:
            val = make_pairs({n: photos[n] for n in val_names}, scale)
            source = "builtin: scikit-image photographs " + "+".join(train_names) + " | val " + "+".join(val_names)
        else:  # the built-in photographs for training, the user's folder for validation
            val = load_folder(val_data, scale)
            source = "builtin: scikit-image photographs " + "+".join(train_names) + f" | val {val_data}"
    else:
        pairs = load_folder(data, scale, min_size=hr_patch)
        if val_data is None:
            if len(pairs) < 2:
                raise DataError(f"{data}: need at least 2 images to hold one out for validation "
                                "(or pass --val-data)")
            val = pairs[::5]
            train = [p for i, p in enumerate(pairs) if i % 5]
        else:
            train, val = pairs, load_folder(val_data, scale)
        source = f"{data}" + (f" | val {val_data}" if val_data else " | val every 5th image")
    for p in train:
        h, w = p.lr.shape[:2]
        if min(h, w) < profile.lr_patch:
            raise DataError(f"{p.name}: LR {w}x{h} is smaller than one LR patch ({profile.lr_patch} px)")
    check_val_sizes(val, where=str(val_data) if val_data is not None else str(data or "built-in photographs"))
    val = [_centre_crop(p, profile.val_max_side, scale) for p in val]
    return ProxyData(scale=scale, train=train, val=val, source=source)


VAL_MIN_LR = 15
"""Smallest LR side (px) of a validation image: RFDN's ESA needs 15 px (a stride-2 3x3 conv,
then a 7x7 max-pool with stride 3), and PSNR shaves ``scale`` HR px from every border."""


def check_val_sizes(pairs: list[ImagePair], min_lr: int = VAL_MIN_LR, where: str = "") -> None:
    """Refuse validation images too small to score every network of the space.

    Raises:
        DataError: one line naming the image, its LR size and the minimum.
    """
    for p in pairs:
        h, w = p.lr.shape[:2]
        if min(h, w) < min_lr:
            raise DataError(f"{where + ': ' if where else ''}{p.name}: validation LR image is {w}x{h}, smaller than {min_lr} px "
                            f"(HR {p.hr.shape[1]}x{p.hr.shape[0]}); use images of at least {min_lr} x scale px")
