"""The Optuna study: storage, sampler, resume checks, reference enqueueing, admission and the loop."""

from nas.search.runner import SearchOutcome, SearchSettings, default_study_name, run_search
from nas.search.study import (
    DEFAULT_HEARTBEAT_S,
    SAMPLERS,
    fail_stale,
    load_existing_study,
    redact_url,
    trial_config,
)

__all__ = ["DEFAULT_HEARTBEAT_S", "SAMPLERS", "SearchOutcome", "SearchSettings", "default_study_name",
           "fail_stale", "load_existing_study", "redact_url", "run_search", "trial_config"]
