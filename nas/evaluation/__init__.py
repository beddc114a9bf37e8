"""Benchmark evaluation (Y-channel PSNR / SSIM) and whole-image / tiled inference.

* :func:`evaluate_dataset` / :func:`evaluate_datasets`: the SR papers' protocol on Set5-style
  folders (``nas eval``).
* :func:`super_resolve` / :func:`upscale_tensor`: run a network on an image of any size, tiled
  so memory stays bounded (``nas upscale``).
"""

from nas.evaluation.evaluate import evaluate_dataset, evaluate_datasets, psnr_plane, ssim_plane
from nas.evaluation.inference import (
    rgb_to_ycbcr,
    super_resolve,
    tile_grid,
    to_tensor,
    upscale_tensor,
    ycbcr_to_rgb,
)

__all__ = [
    "evaluate_dataset", "evaluate_datasets", "psnr_plane", "ssim_plane", "rgb_to_ycbcr",
    "super_resolve", "tile_grid", "to_tensor", "upscale_tensor", "ycbcr_to_rgb",
]
