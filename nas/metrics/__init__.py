"""Metrics: Y-channel PSNR (dB) / SSIM, exact parameters, Mult-Adds (fvcore MACs), latency (ms).

The quality metrics need only numpy and scipy; the cost metrics (``nas.metrics.cost``) import
torch, so they are loaded on first access (``from nas.metrics import mult_adds`` works as usual).
"""

from nas.metrics.quality import psnr_plane, psnr_y, ssim_plane, ssim_y, to_uint8

_COST_NAMES = ("count_params", "lr_size_for_hr", "mult_adds", "ntire_flops", "fvcore_mult_adds", "thop_mult_adds", "measure_latency",
               "LatencyResult")

__all__ = ["psnr_y", "ssim_y", "psnr_plane", "ssim_plane", "to_uint8", *_COST_NAMES]


def __getattr__(name: str):
    if name in _COST_NAMES:
        from nas.metrics import cost

        return getattr(cost, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
