"""Tables of a study: one row per trial, the Pareto front, and the files of an output folder.

Files are written atomically (temporary file + rename), so a killed search never leaves a
half-written CSV or plot behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import optuna
import pandas as pd

from nas.errors import NasError
from nas.front import dominated_references, pareto_trials, reference_trials
from nas.scoring import OBJECTIVE_NAMES

__all__ = ["trials_frame", "pareto_frame", "write_outputs", "atomic_write_text", "export_command"]

COLUMNS = ["number", "state", "reference", *OBJECTIVE_NAMES, "iters", "duration_s", "arch_id",
           "summary", "on_front", "dominates", "fail_reason", "config"]


def export_command(out_dir: str | Path, number: int) -> str:
    """The CLI command that writes trial ``number`` as an ``ArchConfig`` file."""
    return f"nas export --out-dir {out_dir} --trial {number} --out trial{number}.yaml"


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: state, the four scores (dB, parameters, MACs, ms), fidelity, duration,
    architecture (id, one-line summary, config JSON), front membership, dominated references."""
    front = {t.number for t in pareto_trials(study)}
    refs = reference_trials(study)
    rows = []
    for t in study.get_trials(deepcopy=False):
        values = t.values if t.values is not None and len(t.values) == len(OBJECTIVE_NAMES) else [None] * 4
        duration = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start else None
        ua = t.user_attrs
        rows.append({
            "number": t.number,
            "state": t.state.name,
            "reference": ua.get("reference") or "",
            **{name: v for name, v in zip(OBJECTIVE_NAMES, values)},
            "iters": ua.get("iters"),
            "duration_s": round(duration, 2) if duration is not None else None,
            "arch_id": ua.get("arch_id", ""),
            "summary": ua.get("summary", ""),
            "on_front": t.number in front,
            "dominates": " ".join(dominated_references(t, refs)) if t.number in front else "",
            "fail_reason": ua.get("fail_reason", ""),
            "config": json.dumps(ua["config"], separators=(",", ":")) if "config" in ua else "",
        })
    df = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("params", "mult_adds"):
        df[col] = df[col].astype("Int64")
    return df


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

    Returns:
        ``{"trials": path, "pareto": path, "plot": path}``.
    """
    from nas.report.plots import pareto_figure_html

    out = Path(out_dir)
    df = trials_frame(study)
    front = df[df["on_front"]].sort_values(["params", "psnr_db"], ascending=[True, False])
    paths = {"trials": out / "trials.csv", "pareto": out / "pareto.csv", "plot": out / "pareto.html"}
    atomic_write_text(paths["trials"], df.to_csv(index=False))
    atomic_write_text(paths["pareto"], front.to_csv(index=False))
    atomic_write_text(paths["plot"], pareto_figure_html(df, title=study.study_name, out_dir=out))
    return paths
