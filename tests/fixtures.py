"""Fixtures shared by several test folders (imported by their conftest.py)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One torch thread: tiny tensors gain nothing from more, and on a 2-core machine shared
    with a background search, two threads are up to 50x slower (oversubscription)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
