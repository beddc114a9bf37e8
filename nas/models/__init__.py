"""Torch models built from an ``ArchConfig``: ``build_model`` and the ECB deploy walker."""

from nas.models.build import DIV2K_RGB_MEAN, SRNet, build_model, check_buildable, reparameterize_model

__all__ = ["DIV2K_RGB_MEAN", "SRNet", "build_model", "check_buildable", "reparameterize_model"]
