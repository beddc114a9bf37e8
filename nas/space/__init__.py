"""Declarative search spaces: file -> ``SearchSpace`` -> Optuna trial <-> ``ArchConfig`` (no torch)."""

from nas.space.space import DEFAULT_SPACE, Leaf, SearchSpace, load_space, parse_space

__all__ = ["DEFAULT_SPACE", "Leaf", "SearchSpace", "load_space", "parse_space"]
