"""Depth of a network: 3x3 (or larger) convolution layers on its longest input-to-output path.

An architecture feature for predicting full-training PSNR from a short proxy run: the proxy
favours shallow networks (they converge in fewer steps), full training favours deeper ones
(AWSRN-S 1 LFB 31.77 dB < AWSRN 4 LFBs 32.27 dB at x4, Set5). Counted on the graph that
``torch.fx`` traces, so every block type is measured the same way without per-block rules.
"""

from __future__ import annotations

import torch
from torch import fx, nn

__all__ = ["conv_depth"]


def _is_spatial_conv(module: nn.Module) -> bool:
    return isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) and max(module.kernel_size) > 1


def conv_depth(model: nn.Module, in_channels: int = 3) -> int:
    """Largest number of spatial (kernel > 1) ``nn.Conv2d`` / ``nn.ConvTranspose2d`` layers on any
    path of ``model``'s graph (FSRCNN's deconvolution tail counts as one layer).

    Measure the deploy form (``nas.models.reparameterize_model``): a re-parameterised ECB is one
    3x3 conv, as the network a user ships has it. 1x1 convs (fusion, CCA, channel mixing) do not
    count: they add no receptive field.

    Args:
        model: maps (N, in_channels, H, W) to (N, in_channels, sH, sW).
        in_channels: C of the input (3 RGB, 1 Y).

    Returns:
        The depth (>= 0). When ``torch.fx`` cannot trace the model, the number of spatial convs
        in the whole model (an upper bound) is returned instead.
    """
    try:
        graph = fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - data-dependent control flow: fall back to the upper bound
        return sum(1 for m in model.modules() if _is_spatial_conv(m))
    modules = dict(model.named_modules())
    depth: dict[fx.Node, int] = {}
    for node in graph.nodes:
        inputs = [depth[n] for n in node.all_input_nodes if n in depth]
        here = max(inputs, default=0)
        if node.op == "call_module" and _is_spatial_conv(modules.get(str(node.target), nn.Identity())):
            here += 1
        elif node.op == "call_function" and node.target in (torch.conv2d, nn.functional.conv2d):
            weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
            here += 1 if weight is not None else 0
        depth[node] = here
    return max(depth.values(), default=0)
