"""Where ../shared (benchmark sets, official checkpoints) lives, for tests that may use it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NAS_SHARED_DIR", REPO.parent / "shared"))
BENCHMARK_DATA = SHARED / "benchmark_data"


def require_benchmark_set(name: str) -> Path:
    """The benchmark set's folder, or skip the test saying why."""
    path = BENCHMARK_DATA / name
    if not (path / "HR").is_dir():
        pytest.skip(f"{path} not found: ../shared/benchmark_data is absent (set NAS_SHARED_DIR to use it)")
    return path
