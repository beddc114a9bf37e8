"""The deploy form of a network and the pixel-range adapter (torch, below checkpoints and export).

* :class:`PixelRange` runs a network trained on [0, 255] images with [0, 1] images (RFDN / ECBSR
  / SPAN authors' code); :func:`unwrap` takes it apart.
* :func:`deploy_model` is the network a user ships: every re-parameterisable block (ECB, Conv3XC)
  merged into its single conv (:func:`nas.models.reparameterize_model`; ECBSR §3.2,
  xindongzhang/ECBSR ``convert.py``) and weight-norm parametrisations (AWSRN) folded into plain
  weights; exact up to float rounding (``nas.export`` checks it before writing).

Both are used by loading (``nas.checkpoints``) and by exporting (``nas.export``); they live here
so that neither of those packages imports the other.
"""

from __future__ import annotations

import torch
from torch import nn

from nas.arch import ArchConfig
from nas.models.build import reparameterize_model

__all__ = ["PixelRange", "unwrap", "deploy_model", "has_ecb"]


class PixelRange(nn.Module):
    """Run a model trained on [0, ``pixel_range``] images with [0, 1] images.

    ``forward(x) = model(x * pixel_range) / pixel_range``: exact for any network (no weight
    folding), so a [0, 255] checkpoint (RFDN / ECBSR code) plugs into our [0, 1] pipeline.

    Args:
        model: the wrapped network (kept as ``self.model``).
        pixel_range: the range its weights expect (255.0).

    Shape:
        (N, C, H, W) in [0, 1] -> (N, C, sH, sW) in [0, 1] (up to the model's own overshoot).
    """

    def __init__(self, model: nn.Module, pixel_range: float) -> None:
        super().__init__()
        self.model = model
        self.pixel_range = float(pixel_range)
        for attr in ("config", "scale", "colors", "min_input_size"):
            if hasattr(model, attr):
                setattr(self, attr, getattr(model, attr))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x * self.pixel_range) / self.pixel_range


def unwrap(model: nn.Module) -> tuple[nn.Module, float]:
    """``(inner model, pixel range)``: the ``SRNet`` inside a :class:`PixelRange` (or the model, 1.0)."""
    if isinstance(model, PixelRange):
        return model.model, model.pixel_range
    return model, 1.0



def has_ecb(config: ArchConfig) -> bool:
    """Whether the network has ECBs to merge (ECB head, ECB blocks or ECB upsampler)."""
    return config.head == "ecb" or config.upsampler == "ecb" or any(b.type == "ecb" for b in config.blocks)


def deploy_model(model: nn.Module) -> nn.Module:
    """Deploy copy: ECBs merged into single 3x3 convs, weight norm folded, eval mode.

    Args:
        model: an ``SRNet`` (or a :class:`~nas.checkpoints.PixelRange` around one); unchanged.

    Returns:
        A new module with the same outputs (up to float rounding), wrapped like the input.
    """
    inner, pixel_range = unwrap(model)
    deployed = reparameterize_model(inner)  # a deep copy
    _fold_weight_norm(deployed)
    deployed.eval()
    return PixelRange(deployed, pixel_range).eval() if pixel_range != 1.0 else deployed


def _fold_weight_norm(root: nn.Module) -> None:
    """Replace every weight-normed conv by a plain ``nn.Conv2d`` holding the computed weight.

    (``parametrize.remove_parametrizations`` is not used: on a deep copy it deletes the ``weight``
    property from the parametrised class, which the original module shares.)
    """
    from torch.nn.utils import parametrize

    for name, module in list(root.named_modules()):
        if not (isinstance(module, nn.Conv2d) and parametrize.is_parametrized(module)):
            continue
        plain = nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size, module.stride,
                          module.padding, module.dilation, module.groups, module.bias is not None,
                          module.padding_mode)
        with torch.no_grad():
            plain.weight.copy_(module.weight)
            if module.bias is not None:
                plain.bias.copy_(module.bias)
        parent_name, _, child = name.rpartition(".")
        setattr(root.get_submodule(parent_name) if parent_name else root, child, plain)
