"""Tests of nas/export run with one torch thread (tests/fixtures.py)."""

from tests.fixtures import _one_torch_thread  # noqa: F401
