"""Suite-wide settings.

``nas search`` starts one worker process per core by default (``--jobs 0``); the tests run the
CLI with one (``NAS_JOBS=1``) unless they test ``--jobs`` itself, so a test's timing and
process count do not depend on the machine.

``make test`` runs the suite on parallel workers (pytest-xdist), then the tests marked
``serial`` alone: every test under ``tests/robustness`` (heartbeats of 1 s, signals, several
jobs, PostgreSQL), whose clocks must not compete with other tests. Under a parallel worker torch
trains on one thread, so the workers do not oversubscribe the cores.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("NAS_JOBS", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    torch.set_num_threads(1)

_SERIAL = Path(__file__).parent / "robustness"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _SERIAL in Path(item.fspath).parents:
            item.add_marker(pytest.mark.serial)
