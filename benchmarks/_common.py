"""Helpers shared by the benchmark scripts (imported as ``_common``: the scripts run as
``python benchmarks/<name>.py``, so this folder is on ``sys.path``)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any


def finite_or_none(x: Any) -> Any:
    """JSON-safe copy: NaN / inf floats become ``None`` (recursively through dicts, lists, tuples)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_or_none(v) for v in x]
    return x


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``,
    so a killed benchmark never leaves a half-written result."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data)
    os.replace(tmp, path)


def save_figure_atomic(fig: Any, path: str | Path, dpi: int = 120) -> None:
    """Save a matplotlib figure as PNG through a temporary file and ``os.replace``, then close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    os.replace(tmp, path)


def die_with_parent() -> None:
    """In a worker process: ask the kernel for SIGTERM when the parent dies (Linux only; a no-op
    elsewhere), so killing a benchmark never leaves orphaned workers training on, holding the
    cores for hours."""
    import sys

    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def space_points(n: int, seed: int, scale: int = 4) -> list[tuple[str, Any]]:
    """``n`` buildable random points of the default space as ``("space#<trial>", ArchConfig)``:
    Optuna's ``RandomSampler(seed)``; a point that cannot be built at its width is skipped (the
    latency benchmarks time the same points for the same seed)."""
    import optuna

    from nas.models.build import check_buildable
    from nas.space import load_space

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    space = load_space(None)
    out: list[tuple[str, Any]] = []
    while len(out) < n:
        trial = study.ask()
        try:
            config = space.suggest(trial, scale=scale)
            check_buildable(config)
        except Exception:  # noqa: BLE001 - an unbuildable point: sample another
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        out.append((f"space#{trial.number}", config))
    return out


def fmt(x: Any, nd: int = 3) -> str:
    """``x`` with ``nd`` decimals for a table cell; an en dash for None, NaN or inf."""
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"
