"""The Optuna study: storage, sampler, resume checks, reference enqueueing and the search loop."""

from nas.search.runner import SearchOutcome, SearchSettings, default_study_name, run_search
from nas.search.study import SAMPLERS, load_existing_study, trial_config

__all__ = ["SAMPLERS", "SearchOutcome", "SearchSettings", "default_study_name", "load_existing_study",
           "run_search", "trial_config"]
