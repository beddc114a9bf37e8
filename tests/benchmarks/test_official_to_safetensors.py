"""``benchmarks/official_to_safetensors.py``: the batch-norm fold that turns a challenge entry trained
with a BN after a conv (NTIRE 2024 team 13's RLFN_B) into the plain network it computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.errors import CheckpointError
from tests.benchmarks import load_benchmark


def test_fold_bn_gives_the_conv_the_eval_mode_bn_computes():
    mod = load_benchmark("official_to_safetensors")
    torch.manual_seed(0)
    net = nn.Sequential()
    net.add_module("c1_r", nn.Conv2d(4, 6, 3, padding=1))
    net.add_module("bn1", nn.BatchNorm2d(6))
    net.bn1.running_mean.uniform_(-1, 1)
    net.bn1.running_var.uniform_(0.5, 2)
    net.bn1.weight.data.uniform_(0.5, 1.5)
    net.bn1.bias.data.uniform_(-0.5, 0.5)
    net.eval()
    state = {f"block_1.{k}": v for k, v in net.state_dict().items()}
    folded = mod.fold_batch_norms(state, [(r"(block_\d+)\.bn1", r"\1.c1_r")])
    assert sorted(folded) == ["block_1.c1_r.bias", "block_1.c1_r.weight"]
    conv = nn.Conv2d(4, 6, 3, padding=1).eval()
    conv.load_state_dict({k.split(".", 2)[2]: v for k, v in folded.items()})
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        torch.testing.assert_close(conv(x), net(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(CheckpointError, match="matches no batch norm"):
        mod.fold_batch_norms(state, [(r"(block_\d+)\.bn9", r"\1.c1_r")])
    with pytest.raises(CheckpointError, match="no conv 'block_1.c7'"):
        mod.fold_batch_norms(state, [(r"(block_\d+)\.bn1", r"\1.c7")])
