"""Tables of a study: one row per trial, the Pareto front, and the files of an output folder.

Files are written atomically (temporary file + rename), so a killed search never leaves a
half-written CSV or plot behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import optuna
import pandas as pd

from nas.errors import NasError
from nas.report.data import COLUMNS, build_report_data, export_command

__all__ = ["COLUMNS", "trials_frame", "pareto_frame", "write_outputs", "atomic_write_text", "export_command"]


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial (:data:`COLUMNS`): state, the four scores (dB, parameters, MACs, ms),
    fidelity (iters), duration (s), architecture (id, one-line summary, config JSON), front
    membership, dominated references. A view of :func:`nas.report.data.build_report_data`."""
    return build_report_data(study, with_hypervolume=False).frame()


def pareto_frame(study: optuna.Study) -> pd.DataFrame:
    """The non-dominated COMPLETE trials, sorted by parameters."""
    df = trials_frame(study)
    return df[df["on_front"]].sort_values(["params", "psnr_db"], ascending=[True, False]).reset_index(drop=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    Raises:
        NasError: the folder is not writable (names it).
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise NasError(f"{path.parent}: cannot write outputs ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_outputs(study: optuna.Study, out_dir: str | Path) -> dict[str, Path]:
    """Write ``trials.csv``, ``pareto.csv`` and ``pareto.html`` into ``out_dir``.

    Called after every trial of a search, so it stays cheap (no hypervolume; the full report
    is ``nas report`` / :func:`nas.report.write_report`).

    Returns:
        ``{"trials": path, "pareto": path, "plot": path}``.
    """
    from nas.report.plots import pareto_figure_html

    out = Path(out_dir)
    data = build_report_data(study, out, with_hypervolume=False)
    df = data.frame()
    front = df[df["on_front"]].sort_values(["params", "psnr_db"], ascending=[True, False])
    paths = {"trials": out / "trials.csv", "pareto": out / "pareto.csv", "plot": out / "pareto.html"}
    atomic_write_text(paths["trials"], df.to_csv(index=False))
    atomic_write_text(paths["pareto"], front.to_csv(index=False))
    atomic_write_text(paths["plot"], pareto_figure_html(data, title=study.study_name))
    return paths
