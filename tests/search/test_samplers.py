"""Every sampler name `nas search --sampler` takes builds and proposes points of a 4-objective
study (no training: random objective values told back)."""

from __future__ import annotations

import random

import optuna
import pytest

from nas.scoring import DIRECTIONS
from nas.search.study import SAMPLERS, make_sampler
from nas.space import load_space


@pytest.mark.parametrize("name", SAMPLERS)
def test_every_sampler_proposes_points_of_the_default_space(name):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = load_space()
    study = optuna.create_study(directions=list(DIRECTIONS), sampler=make_sampler(name, 0))
    rng = random.Random(0)
    for _ in range(12):
        trial = study.ask()
        config = space.suggest(trial, 4)
        assert space.contains(config)
        study.tell(trial, [rng.uniform(20, 30), rng.uniform(1e4, 1e6), rng.uniform(1e9, 1e11), rng.uniform(1, 100)])
    assert len(study.trials) == 12


def test_an_unknown_sampler_is_refused_with_the_known_ones():
    from nas.errors import NasError

    with pytest.raises(NasError, match="known: tpe, nsga2, random, gp"):
        make_sampler("cmaes", 0)
