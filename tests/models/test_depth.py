"""conv_depth: spatial convs on the longest path, the same rule for every block type."""

from __future__ import annotations

from torch import nn

from nas.arch import reference_config
from nas.models import build_model, reparameterize_model
from nas.models.depth import conv_depth


class _Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a1, self.a2, self.a3 = (nn.Conv2d(3, 3, 3, padding=1) for _ in range(3))
        self.b = nn.Conv2d(3, 3, 3, padding=1)
        self.fuse = nn.Conv2d(6, 3, 1)  # 1x1: no receptive field, not counted

    def forward(self, x):
        return self.fuse(__import__("torch").cat([self.a3(self.a2(self.a1(x))), self.b(x)], 1))


def test_longest_branch_counts_and_1x1_does_not():
    assert conv_depth(_Branchy()) == 3


def test_deeper_awsrn_is_deeper():
    depths = [conv_depth(build_model(reference_config(n, 4))) for n in ("awsrn_s", "awsrn_m", "awsrn")]
    assert depths == sorted(depths) and len(set(depths)) == 3


def test_ecbsr_deploy_depth_is_its_number_of_3x3_layers():
    # ECBSR-M4C16: head ECB + 4 ECBs + tail ECB = 6 3x3 convs once merged
    model = reparameterize_model(build_model(reference_config("ecbsr_m4c16", 4)))
    assert conv_depth(model, in_channels=1) == 6
