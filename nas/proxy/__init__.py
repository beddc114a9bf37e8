"""Proxy training: named profiles, deterministic patch batches, the trainer and validation."""

from nas.proxy.profiles import PROFILES, ProxyProfile, get_profile

__all__ = ["PROFILES", "ProxyProfile", "get_profile"]
