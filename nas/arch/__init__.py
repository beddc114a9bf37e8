"""Architecture descriptions: ``ArchConfig`` and the published reference configs (no torch)."""

from nas.arch.config import (
    ACTIVATIONS,
    ATTENTIONS,
    BLOCK_REGISTRY,
    BLOCK_TYPES,
    SCALES,
    ArchConfig,
    BlockConfig,
    BlockConfigBase,
    ConvBlockConfig,
    ECBBlockConfig,
    IMDBConfig,
    LFBConfig,
    ResBlockConfig,
    RFDBConfig,
    RLFBConfig,
    SPABConfig,
    load_arch_config,
    register_block,
)
from nas.arch.references import REFERENCES, SEARCH_REFERENCES, Reference, reference_config, reference_names

__all__ = [
    "ACTIVATIONS", "ATTENTIONS", "BLOCK_REGISTRY", "BLOCK_TYPES", "SCALES", "ArchConfig", "BlockConfig",
    "BlockConfigBase", "register_block",
    "ConvBlockConfig", "ECBBlockConfig", "IMDBConfig", "LFBConfig", "ResBlockConfig", "RFDBConfig", "RLFBConfig", "SPABConfig", "load_arch_config",
    "REFERENCES", "SEARCH_REFERENCES", "Reference", "reference_config", "reference_names",
]
