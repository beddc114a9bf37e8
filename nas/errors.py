"""One error hierarchy for everything a user can get wrong.

Every error the CLI can meet derives from :class:`NasError`; ``nas`` prints its message as one
line and exits non-zero, without a traceback. Messages name the culprit: the file, the field
(``path:key``) or the trial. Modelled on ``optuna/exceptions.py`` (one base class).
"""

from __future__ import annotations

__all__ = [
    "NasError",
    "ArchConfigError",
    "SearchSpaceError",
    "ImageReadError",
    "DataError",
    "StudyError",
    "CheckpointError",
    "DivergedError",
]


class NasError(Exception):
    """Base class of all user-facing errors; ``str(err)`` is a one-line message."""


class ArchConfigError(NasError):
    """An architecture config is malformed or cannot be built (names the file and field)."""


class SearchSpaceError(NasError):
    """A search-space file is malformed (names the file and the key)."""


class ImageReadError(NasError):
    """An image file cannot be read or decoded (names the file)."""


class DataError(NasError):
    """A dataset folder is missing, empty or unusable (names the folder or file)."""


class StudyError(NasError):
    """A study cannot be created, loaded or resumed, or a trial is unknown (names the study/trial)."""


class CheckpointError(NasError):
    """A weights file is not a state dict, or belongs to another architecture (names the key)."""


class DivergedError(NasError):
    """A training loss became NaN or infinite (the proxy marks the candidate FAILED; ``nas
    train`` stops, its last checkpoint kept); the message names the step."""

