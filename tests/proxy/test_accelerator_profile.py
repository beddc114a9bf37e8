"""The accelerator profile (issue 32 §3): real-share rungs, bf16 autocast, a calibration per rung,
built and tested on CPU with tiny settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nas.arch.ground_truth import GROUND_TRUTH
from nas.errors import NasError
from nas.models import build_model
from nas.proxy import get_profile
from nas.proxy.data import load_proxy_data
from nas.proxy.profiles import ProxyProfile, same_protocol
from nas.proxy.train import train_segment
from nas.search import SearchSettings, run_search


def test_the_accelerator_profile_is_a_real_share_of_the_papers_schedule():
    p = get_profile("accelerator")
    assert p.rung_stops == [1000, 3000, 9000] and p.batch == 32 and p.lr_patch == 48
    assert p.amp == "bf16" and p.skip == "bicubic" and p.predictor == "zoo-gt"
    # amp is part of the protocol; a study stored before it existed trained in fp32
    fp32 = get_profile("smoke").to_dict()
    old = {k: v for k, v in fp32.items() if k != "amp"}
    assert same_protocol(old, fp32)
    assert not same_protocol({**fp32, "amp": "bf16"}, fp32)
    with pytest.raises(NasError, match="amp must be one of none, bf16"):
        ProxyProfile("x", iters=1, amp="fp8")


def test_accelerator_fixed_is_the_accelerator_profiles_first_rung_alone():
    full, fixed = get_profile("accelerator"), get_profile("accelerator-fixed")
    assert fixed.rung_stops == [1000] == full.rung_stops[:1]
    assert same_protocol(fixed, full, ignore=("rungs",)) and not same_protocol(fixed, full)


def test_bf16_autocast_trains_in_mixed_precision_and_keeps_fp32_weights():
    cfg = GROUND_TRUTH["ecbsr_m4c16_rgb"].build(4)
    # the accelerator's protocol at a size a CPU test affords (bf16 on a CPU is slow: batch 32 of
    # 48 px patches took 30 s); what is tested is the autocast path, not the schedule
    prof = ProxyProfile(**{**get_profile("accelerator", iters=2).to_dict(), "batch": 2, "lr_patch": 16,
                           "val_max_side": 96})
    data = load_proxy_data(4, prof)
    runs = {}
    for amp in ("none", "bf16"):
        torch.manual_seed(0)
        model = build_model(cfg)
        losses: list[float] = []
        res, _ = train_segment(model, data, ProxyProfile(**{**prof.to_dict(), "amp": amp}), start=0, stop=2,
                               on_step=lambda _i, v: losses.append(v))
        assert all(p.dtype == torch.float32 for p in model.parameters())
        assert 10 < res.psnr_db < 60
        runs[amp] = losses
    # the same weights and patches: the first loss differs only by the bf16 forward
    assert runs["none"][0] != runs["bf16"][0]
    assert runs["none"][0] == pytest.approx(runs["bf16"][0], rel=0.05)


def test_a_predicting_profile_without_a_calibration_refuses_with_the_command(tmp_path):
    s = SearchSettings(budget=1, profile="accelerator", iters=2, references=("imdn_rtc",), out=str(tmp_path / "r"))
    with pytest.raises(NasError, match=r"profile accelerator ranks by its predictor 'zoo-gt', which has no calibration "
                                       r"for x4.*`nas calibrate --scale 4 --profile accelerator --iters 2 --out "):
        run_search(s, log=lambda m: None)
    assert not (tmp_path / "r").exists()


_REPO = Path(__file__).resolve().parents[2]
#: five families of tiny networks: a calibration's minimum, in seconds on a CPU
_TINY = "espcn,fsrcnn,ecbsr_m4c16_rgb,ecbsr_m4c32_rgb,abpn_m4c28,srcnn"


@pytest.mark.slow
def test_the_device_script_goes_on_from_a_carried_cache(tmp_path):
    """scripts/device_calibrate.sh, as on a GPU machine but on the CPU with the smoke protocol: a
    second run given the cache its OUT received (a network short: the first was stopped) trains
    only that network, and OUT gets the cache and the calibration, no claims file."""
    env = {**os.environ, "PY": sys.executable, "TIME_S": "300", "NAME": "t", "DIR": str(tmp_path / "d")}
    cmd = ["bash", str(_REPO / "scripts/device_calibrate.sh"), "--scale", "4", "--profile", "smoke",
           "--device", "cpu", "--jobs", "1", "--networks", _TINY]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    cache = tmp_path / "d" / "t.json.cache.jsonl"
    lines = cache.read_text().splitlines()
    assert len(lines) == 6 and (tmp_path / "d" / "out" / "t.json").is_file()
    assert sorted(f.name for f in (tmp_path / "d" / "out").iterdir()) == ["t.json", "t.json.cache.jsonl", "t.log"]
    # a fresh machine: the working folder holds only what OUT returned, one network short
    shutil.rmtree(tmp_path / "d")
    (tmp_path / "d").mkdir()
    cache.write_text("\n".join(lines[:-1]) + "\n")
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "training 1 of 6 published networks" in second.stdout
    assert "networks measured: 5 before, 6 now" in second.stdout
    assert len((tmp_path / "d" / "out" / "t.json.cache.jsonl").read_text().splitlines()) == 6
    assert json.loads((tmp_path / "d" / "out" / "t.json").read_text())["t"]["models"]
