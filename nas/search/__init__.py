"""The Optuna study: storage, sampler, resume checks, reference enqueueing, admission and the loop.

``nas.search.study``, ``nas.search.rungs`` and ``nas.search.admission`` import no torch (the
report and ``nas show`` read studies through them); the search loop (``run_search``,
``SearchSettings``, ...) trains networks and is loaded on first use.
"""

from nas.search.study import (
    DEFAULT_HEARTBEAT_S,
    SAMPLERS,
    fail_stale,
    load_existing_study,
    redact_url,
    trial_config,
)

_RUNNER_NAMES = ("SearchOutcome", "SearchSettings", "default_study_name", "run_search")

__all__ = ["DEFAULT_HEARTBEAT_S", "SAMPLERS", "SearchOutcome", "SearchSettings", "default_study_name",
           "fail_stale", "load_existing_study", "redact_url", "run_search", "trial_config"]


def __getattr__(name: str):
    if name in _RUNNER_NAMES:
        from nas.search import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
