"""nas: architecture search for lightweight single-image super-resolution.

Data flows one way: search-space file (``nas.space``) -> ``ArchConfig`` (``nas.arch``) ->
model from primitives (``nas.models``, ``nas.primitives``) -> proxy training (``nas.proxy``) ->
scores (``nas.scoring``) -> Optuna study (``nas.search``) -> Pareto front (``nas.front``) ->
report / export (``nas.report``, ``nas.export``). Importing ``nas`` imports no torch.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
