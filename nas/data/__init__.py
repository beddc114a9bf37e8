"""Images: Pillow I/O, MATLAB-compatible bicubic, BT.601 Y, built-in photographs, dataset folders."""

from nas.data.bicubic import bicubic_downscale, imresize
from nas.data.color import modcrop, rgb_to_y, rgb_to_y_torch
from nas.data.datasets import (
    BUILTIN_PHOTOS,
    ImagePair,
    builtin_split,
    dataset_name,
    load_builtin_photos,
    load_folder,
    make_pairs,
)
from nas.data.io import IMAGE_EXTENSIONS, read_image, write_image

__all__ = [
    "BUILTIN_PHOTOS", "IMAGE_EXTENSIONS", "ImagePair", "bicubic_downscale", "builtin_split",
    "dataset_name", "imresize", "load_builtin_photos", "load_folder", "make_pairs", "modcrop",
    "read_image", "rgb_to_y", "rgb_to_y_torch", "write_image",
]
