"""Metrics: Y-channel PSNR/SSIM (dB), exact parameters, Mult-Adds (fvcore MACs), latency (ms).

``nas.metrics.cost`` imports torch lazily through its functions' module; importing the quality
metrics alone needs only numpy.
"""

from nas.metrics.quality import psnr_y, ssim_y, to_uint8

__all__ = ["psnr_y", "ssim_y", "to_uint8", "count_params", "mult_adds", "thop_mult_adds",
           "measure_latency", "LatencyResult", "lr_size_for_hr"]


def __getattr__(name):  # cost metrics import torch: load them on first use
    if name in ("count_params", "mult_adds", "thop_mult_adds", "measure_latency", "LatencyResult", "lr_size_for_hr"):
        from nas.metrics import cost

        return getattr(cost, name)
    raise AttributeError(name)
