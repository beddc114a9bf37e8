"""`nas search` without `--profile` (issues 18, 31): zoo-predicted where a calibration fits, halving
elsewhere, and a resumed study keeps the protocol it was created with."""

from __future__ import annotations

import pytest

from nas.errors import StudyError
from nas.report import write_outputs
from nas.search import SearchSettings
from nas.search import run_search as _run_search
from nas.search.study import load_existing_study

#: A small published network of the default space at every scale (IMDN_RTC, 20-24 K params):
#: its 180 halving steps take a few seconds.
TINY_REF = ("imdn_rtc",)


def _search(tmp_path, log, **kw):
    base = dict(budget=1, references=TINY_REF, out=str(tmp_path / "run"), seed=0, sampler="random")
    _run_search(SearchSettings(**{**base, **kw}), log=log.append, write_outputs=write_outputs)
    return load_existing_study(None, f"sqlite:///{tmp_path / 'run' / 'study.db'}")


def test_with_rgb_psnr_the_default_is_halving_and_says_why(tmp_path):
    log: list[str] = []
    study = _search(tmp_path, log, metric="rgb")
    assert study.user_attrs["profile"]["name"] == "halving" and study.user_attrs["profile"]["rungs"] == 3
    assert any("none fits x4" in m and "halving" in m for m in log)


def test_an_old_default_study_resumes_with_the_protocol_it_was_created_with(tmp_path):
    """A study created with the halving protocol (the default before issue 18) resumes under
    `--profile default` at x4, where the default is now zoo-predicted; an explicit
    `--profile zoo-predicted` is refused with the profile that fits."""
    log: list[str] = []
    _search(tmp_path, log, profile="halving")
    log.clear()
    study = _search(tmp_path, log, budget=1)  # profile "default": a resume, nothing left to do
    assert study.user_attrs["profile"]["name"] == "halving"
    assert any("the protocol this study was created with" in m for m in log)
    with pytest.raises(StudyError, match="--profile halving"):
        _search(tmp_path, log, profile="zoo-predicted")
