"""Features that see the design: zero-cost proxies, the proxy run's loss trajectory, block composition.

Issue 31: a predictor of the fully-trained PSNR that is given only the proxy PSNR, the parameter
count and the depth learns "bigger is better". These are the other signals the field uses to rank
architectures cheaply, each measured per candidate on the proxy's own real LR patches:

* **zero-cost proxies** (one or two forward / backward passes of a network, at initialisation and
  after the proxy run), as defined in Abdelfattah et al., *Zero-Cost Proxies for Lightweight NAS*
  (ICLR 2021, sec. 3) and its code (SamsungLabs/zero-cost-nas ``foresight/pruners/measures``):
  ``grad_norm``, ``snip`` (Lee et al., ICLR 2019), ``synflow`` (Tanaka et al., NeurIPS 2020),
  ``naswot`` (Mellor et al., ICML 2021, eq. 2) and ``jacob_cov`` (Mellor et al., arXiv 2006.04647
  v1). No maintained library computes them for an arbitrary ``nn.Module`` (the SamsungLabs code is
  not packaged; its PyPI fork ``alethiometer`` had one release, 2023), so they are written here,
  each a few lines next to its definition.
* **the loss trajectory** of the proxy run: the mean training loss (the *sum of training losses*,
  TSE, of Ru et al., *Speedy Performance Estimation for NAS*, NeurIPS 2021, divided by the steps),
  the mean of its second half (TSE-E) and the slope of log-loss against the step.
* **the block composition** of an ``ArchConfig``: the share of blocks of each type, of blocks with
  an attention (ESA, CCA, SPAN's parameter-free attention), of re-parameterisable blocks, the width
  and the number of blocks (:func:`design_features`, no torch).

Every value is a float; larger is not assumed to be better (NAS-Bench-Suite-Zero, Krishnakumar et
al., NeurIPS 2022 D&B: on image reconstruction several proxies rank *negatively*), so a predictor
learns each sign. Magnitudes spanning decades (``grad_norm``, ``snip``, ``synflow``) are log10.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["ZERO_COST", "zero_cost_proxies", "trajectory_features", "design_features", "proxy_batch"]

#: The zero-cost proxies :func:`zero_cost_proxies` computes (feature names ``zc_<name>``).
ZERO_COST = ("grad_norm", "snip", "synflow", "naswot", "jacob_cov")


def proxy_batch(data: Any, profile: Any, n: int = 16, step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` real (LR, HR) patch pairs of the proxy data, un-augmented, the same for every candidate.

    Args:
        data: ``nas.proxy.data.ProxyData``.
        profile: the proxy profile (its LR patch size and seed).
        n: batch size; step: which batch of the seed's sequence.

    Returns:
        ``(lr, hr)``: (n, 3, p, p) and (n, 3, sp, sp) float32 in [0, 1].
    """
    return data.batch(step, n, profile.lr_patch, profile.seed, augment=False)


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 and math.isfinite(x) else float("nan")


def _weights(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The weight tensors the zero-cost papers score: every trainable parameter of two or more
    dimensions (conv and linear kernels; weight norm's direction and gain tensors), not biases or
    PReLU slopes."""
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad and p.dim() > 1]


def _conv_codes(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(N, U) binary codes: the sign of every convolution output unit for the N inputs."""
    codes: list[torch.Tensor] = []

    def hook(_m, _i, out):
        codes.append((out.detach() > 0).flatten(1))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return torch.cat(codes, dim=1) if codes else torch.zeros(x.shape[0], 0, dtype=torch.bool)


def naswot(model: nn.Module, x: torch.Tensor) -> float:
    """NASWOT score (Mellor et al., ICML 2021, eq. 2): ``log |K_H|``, K_H[i, j] = U - Hamming(c_i, c_j)
    over the binary activation codes c of the N inputs.

    The paper codes the ReLUs; SR blocks also call activations as functions (BSRN's GELU, ESA's
    sigmoid), which no module hook sees, so the code here is the sign of every convolution output:
    the input of the rectifier that follows it (the same linear region code for ReLU / LeakyReLU /
    PReLU / GELU / SiLU, whose sign changes at 0).

    Args:
        model: maps (N, C, H, W) to (N, C, sH, sW); x: (N, C, H, W), N >= 2.

    Returns:
        log-determinant (natural log; dimensionless). NaN for a singular kernel.
    """
    c = _conv_codes(model, x).double()
    if c.shape[1] == 0:
        return float("nan")
    k = c @ c.T + (1 - c) @ (1 - c).T
    sign, logdet = torch.linalg.slogdet(k)
    return float(logdet) if float(sign) > 0 else float("nan")


def jacob_cov(model: nn.Module, x: torch.Tensor, k: float = 1e-5) -> float:
    """``jacob_cov`` (Mellor et al., arXiv 2006.04647 v1, sec. 3): J = d(sum of output)/d(input) per
    input, flattened; with the eigenvalues v of the correlation matrix of the N rows of J,
    ``-sum(log(v + k) + 1 / (v + k))``.

    Args:
        model: the network; x: (N, C, H, W), N >= 2.

    Returns:
        ``-log10(-score)`` (the raw score is negative and spans decades, as each near-zero
        eigenvalue adds about -1/k; larger = the inputs' Jacobians less correlated); NaN where undefined.
    """
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    model(x).sum().backward()
    jac = x.grad.detach().flatten(1).double()
    model.zero_grad(set_to_none=True)
    corr = torch.corrcoef(jac)
    if not torch.isfinite(corr).all():
        return float("nan")
    v = torch.linalg.eigvalsh(corr).clamp_min(0.0)
    score = float(-torch.sum(torch.log(v + k) + 1.0 / (v + k)))
    return -math.log10(-score) if score < 0 else float("nan")


def _loss_grads(model: nn.Module, lr: torch.Tensor, hr: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, dL/dweight) of every conv / linear weight for the L1 loss on (lr, hr)."""
    model.zero_grad(set_to_none=True)
    nn.functional.l1_loss(model(lr), hr).backward()
    out = [(w.detach(), w.grad.detach().clone()) for _, w in _weights(model) if w.grad is not None]
    model.zero_grad(set_to_none=True)
    return out


def synflow(model: nn.Module, x_shape: Sequence[int]) -> float:
    """SynFlow (Tanaka et al., NeurIPS 2020, sec. 6; zero-cost form of Abdelfattah et al. 2021):
    with every parameter replaced by its absolute value, R = sum of the network's output for an
    all-ones input; the score is ``sum(|theta| * dR/dtheta)`` over the conv / linear weights.

    Computed in float64 on a copy (the network is untouched), in eval mode.

    Args:
        model: the network; x_shape: (1, C, H, W) of the all-ones input.

    Returns:
        log10 of the score; NaN where it is 0 or not finite.
    """
    net = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    net(torch.ones(*x_shape, dtype=torch.float64)).sum().backward()
    total = sum(float((w.detach() * w.grad).sum()) for _, w in _weights(net) if w.grad is not None)
    return _log10(total)


def zero_cost_proxies(model: nn.Module, lr: torch.Tensor, hr: torch.Tensor,
                      loss_model: nn.Module | None = None, which: Sequence[str] = ZERO_COST) -> dict[str, float]:
    """The zero-cost proxies of ``model`` on a real batch.

    Args:
        model: the network as built (training form), (N, C, H, W) -> (N, C, sH, sW); its weights
            and mode are restored afterwards (gradients are cleared).
        lr, hr: (N, C, H, W) and (N, C, sH, sW) in [0, 1], C matching the network (Y-only networks
            take the Y planes).
        loss_model: what the proxy run trains (``nas.proxy.train.with_skip(model, ...)``, which
            shares ``model``'s parameters); the loss-based proxies (``grad_norm``, ``snip``) use
            it. Default ``model``.
        which: names from :data:`ZERO_COST`.

    Returns:
        ``{"zc_<name>": value}``: ``grad_norm`` = log10 of the sum over weight tensors of
        ``||dL/dW||_2`` (L1 loss); ``snip`` = log10 ``sum |W * dL/dW|``; ``synflow`` (log10),
        ``naswot`` and ``jacob_cov`` as their functions here.

    Raises:
        ValueError: an unknown proxy name.
    """
    unknown = set(which) - set(ZERO_COST)
    if unknown:
        raise ValueError(f"unknown zero-cost proxies {sorted(unknown)} (known: {', '.join(ZERO_COST)})")
    loss_model = loss_model if loss_model is not None else model
    was_training = model.training
    out: dict[str, float] = {}
    try:
        model.train()
        if "grad_norm" in which or "snip" in which:
            grads = _loss_grads(loss_model, lr, hr)
            if "grad_norm" in which:
                out["zc_grad_norm"] = _log10(sum(float(g.norm()) for _, g in grads))
            if "snip" in which:
                out["zc_snip"] = _log10(sum(float((w * g).abs().sum()) for w, g in grads))
        if "jacob_cov" in which:
            out["zc_jacob_cov"] = jacob_cov(model, lr)
        model.eval()
        if "naswot" in which:
            out["zc_naswot"] = naswot(model, lr)
        if "synflow" in which:
            out["zc_synflow"] = synflow(model, (1, *lr.shape[1:]))
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return out


def trajectory_features(losses: Sequence[float]) -> dict[str, float]:
    """Features of the proxy run's per-step training losses (L1, in [0, 1] pixel units).

    Returns:
        ``loss_mean`` (TSE / steps, Ru et al. NeurIPS 2021), ``loss_mean_late`` (mean of the second
        half, TSE-E), ``loss_last`` (the last step's), ``loss_slope`` (least-squares slope of
        ln(loss) per 100 steps; negative = still falling). NaN for an empty sequence.
    """
    y = np.asarray([float(v) for v in losses], float)
    if y.size == 0 or not np.isfinite(y).all():
        nan = float("nan")
        return {"loss_mean": nan, "loss_mean_late": nan, "loss_last": nan, "loss_slope": nan}
    half = y[y.size // 2:]
    slope = float(np.polyfit(np.arange(y.size), np.log(np.maximum(y, 1e-12)), 1)[0] * 100) if y.size > 1 else 0.0
    return {"loss_mean": float(y.mean()), "loss_mean_late": float(half.mean()), "loss_last": float(y[-1]),
            "loss_slope": slope}


#: Block types with an attention and the option that switches it (``None``: always on).
_ATTENTION = {"rfdb": "attention", "imdb": "attention", "rlfb": "attention", "resblock": "attention", "spab": None,
              "efdb": None, "esdb": None}
#: Re-parameterisable block types (several training branches merged into one conv for deployment).
_REPARAM = ("ecb", "efdb", "spab")


def design_features(config: Any) -> dict[str, float]:
    """Block-composition features of an ``ArchConfig`` (no torch).

    Returns:
        ``log2_nf``, ``n_blocks``, ``share_<type>`` for every registered block type (share of the
        blocks), ``share_attention`` (blocks with ESA / CCA / SPAN attention / BSRN's ESA+CCA),
        ``share_reparam`` (ECB, EDBB, Conv3XC blocks), ``head_reparam`` (1.0 when the head conv is
        re-parameterisable), ``global_residual`` (1.0 / 0.0).
    """
    from nas.arch.config import BLOCK_TYPES

    blocks = list(config.blocks)
    n = max(1, len(blocks))
    out: dict[str, float] = {"log2_nf": math.log2(config.nf), "n_blocks": float(len(blocks))}
    for t in BLOCK_TYPES:
        out[f"share_{t}"] = sum(b.type == t for b in blocks) / n
    att = 0
    for b in blocks:
        if b.type in _ATTENTION:
            opt = _ATTENTION[b.type]
            att += 1 if opt is None or getattr(b, opt, "none") != "none" else 0
    out["share_attention"] = att / n
    out["share_reparam"] = sum(b.type in _REPARAM for b in blocks) / n
    out["head_reparam"] = 1.0 if config.head in ("ecb", "conv3xc") else 0.0
    out["global_residual"] = 1.0 if config.global_residual else 0.0
    return out
