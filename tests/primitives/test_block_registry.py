"""Every registered block type, driven by the registry (``nas.arch.BLOCK_REGISTRY``): a new block
type is tested here without editing this file.

For each type, at its paper defaults: the builder loads, a network of it builds and maps
(1, 3, 20, 20) to (1, 3, 40, 40) at x2, the config round-trips through dict / YAML with the same
``arch_id``, the summary shows the block's label, a search space can hold it, and where the
block re-parameterises, the merged network equals the multi-branch one within 1e-5.
"""

from __future__ import annotations

import optuna
import pytest
import torch

from nas.arch import ArchConfig
from nas.arch.config import BLOCK_REGISTRY, BLOCK_TYPES, BlockConfigBase, register_block
from nas.models import build_model, reparameterize_model
from nas.models.build import block_builder
from nas.space.space import parse_space

TYPES = sorted(BLOCK_REGISTRY)


def test_the_registry_is_the_one_table():
    assert tuple(BLOCK_REGISTRY) == BLOCK_TYPES
    assert {"rfdb", "imdb", "lfb", "ecb", "rlfb", "spab"} <= set(TYPES)
    for kind, cls in BLOCK_REGISTRY.items():
        assert issubclass(cls, BlockConfigBase) and cls().type == kind


def test_registering_a_type_twice_or_without_builder_is_refused():
    from typing import ClassVar, Literal

    class NoBuilder(BlockConfigBase):
        type: Literal["nobuilder"] = "nobuilder"

    with pytest.raises(TypeError, match="builder"):
        register_block(NoBuilder)

    class Twice(BlockConfigBase):
        type: Literal["rfdb"] = "rfdb"
        builder: ClassVar[str] = "nas.primitives.rfdb:build_block"

    with pytest.raises(TypeError, match="registered twice"):
        register_block(Twice)
    assert "nobuilder" not in BLOCK_REGISTRY


@pytest.mark.parametrize("kind", TYPES)
def test_every_registered_block_builds_round_trips_and_reparameterises(kind):
    block = BLOCK_REGISTRY[kind]()
    assert callable(block_builder(kind))
    config = ArchConfig(scale=2, nf=16, blocks=[block, block])
    assert block.label() in config.summary()
    again = ArchConfig.from_dict(config.to_dict())
    assert again == config and again.arch_id == config.arch_id
    import yaml

    assert ArchConfig.from_dict(yaml.safe_load(config.to_yaml())).arch_id == config.arch_id

    torch.manual_seed(0)
    model = build_model(config).eval()
    x = torch.rand(1, 3, 20, 20)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 3, 40, 40) and torch.isfinite(y).all()
    if any(callable(getattr(m, "reparameterize", None)) for m in model.modules()):
        merged = reparameterize_model(model)
        with torch.no_grad():
            assert (merged(x) - y).abs().max().item() < 1e-5
        assert sum(p.numel() for p in merged.parameters()) < sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("kind", TYPES)
def test_a_search_space_can_hold_every_registered_block(kind):
    space = parse_space({"name": f"only_{kind}", "network": {"nf": 16, "num_blocks": 2},
                         "blocks": {"per_position": False, "type": kind, "options": {kind: {}}}}, "<test>")
    trial = optuna.create_study(directions=["maximize"]).ask()
    config = space.suggest(trial, 2)
    assert [b.type for b in config.blocks] == [kind, kind]
    assert space.contains(config)
