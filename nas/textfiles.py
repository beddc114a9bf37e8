"""Reading the text files users write (architecture configs, search spaces): one place for the
errors, so every such file fails the same way, in one line naming it (no torch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from nas.errors import NasError

__all__ = ["read_text", "parse_yaml_or_json"]


def read_text(path: str | Path, what: str, error: type[NasError] = NasError) -> str:
    """The UTF-8 text of ``path``.

    Args:
        path: the file.
        what: what it is, for the message (``"config"``, ``"search-space file"``).
        error: the ``NasError`` subclass to raise.

    Raises:
        error: ``"<path>: cannot read <what> (<reason>)"``: missing, a folder, unreadable, or
            not UTF-8 (names the byte offset).
    """
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"{path}: cannot read {what} ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: cannot read {what} (not UTF-8 text: byte {err.start})") from None


def parse_yaml_or_json(text: str, path: str | Path, error: type[NasError] = NasError,
                       json_suffix: bool = True) -> Any:
    """``text`` parsed as JSON when ``path`` ends in ``.json`` (and ``json_suffix``), else YAML.

    Raises:
        error: ``"<path>: line L, column C: invalid YAML (<problem>)"`` (or invalid JSON).
    """
    as_json = json_suffix and Path(path).suffix == ".json"
    try:
        return json.loads(text) if as_json else yaml.safe_load(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}: line {err.lineno}, column {err.colno}: invalid JSON ({err.msg})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise error(f"{path}:{where} invalid YAML ({problem})") from None
