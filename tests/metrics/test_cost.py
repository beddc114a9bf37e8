"""Parameters, Mult-Adds (fvcore, cross-checked with thop) and latency."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nas.metrics import count_params, lr_size_for_hr, measure_latency, mult_adds, thop_mult_adds


def _conv_stack(colors: int = 3, nf: int = 8, scale: int = 2) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(colors, nf, 3, padding=1), nn.ReLU(),
        nn.Conv2d(nf, nf, 1), nn.LeakyReLU(0.05),
        nn.Conv2d(nf, nf, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(nf, colors * scale ** 2, 3, padding=1), nn.PixelShuffle(scale),
    )


class _WithInterpolate(nn.Module):
    """An ESA-like pattern: a functional bilinear upsampling that thop cannot see."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.Conv2d(4, 4, 3, stride=2)

    def forward(self, x):
        y = self.body(x)
        z = F.interpolate(self.down(y), size=y.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(z) * y


def test_lr_size_for_hr_uses_ceil():
    assert lr_size_for_hr(2) == (360, 640)
    assert lr_size_for_hr(3) == (240, 427)
    assert lr_size_for_hr(4) == (180, 320)
    assert lr_size_for_hr(4, (100, 90)) == (25, 23)
    with pytest.raises(ValueError):
        lr_size_for_hr(0)


def test_count_params_is_exact():
    assert count_params(nn.Conv2d(3, 8, 3)) == 8 * 27 + 8
    model = _conv_stack()
    assert count_params(model) == sum(p.numel() for p in model.parameters())


def test_mult_adds_of_one_conv_is_exact():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert mult_adds(conv, 4) == 180 * 320 * 8 * 27  # LR 320x180 for a 1280x720 x4 output; bias not counted
    assert mult_adds(conv, 3) == 240 * 427 * 8 * 27


def test_fvcore_and_thop_agree_on_a_conv_stack():
    model = _conv_stack()
    fv, th = mult_adds(model, 2, hr_hw=(96, 128)), thop_mult_adds(model, 2, hr_hw=(96, 128))
    convs = 48 * 64 * (8 * 27 + 8 * 8 + 8 * 4 * 9 + 12 * 8 * 9)
    assert fv == convs  # convolutions only: bias, activations and pixel shuffle are not counted
    assert th == fv


def test_fvcore_counts_bilinear_upsampling_that_thop_misses():
    model = _WithInterpolate()
    fv, th = mult_adds(model, 1, hr_hw=(32, 32)), thop_mult_adds(model, 1, hr_hw=(32, 32))
    convs = 32 * 32 * 4 * 27 + 15 * 15 * 4 * 36
    assert th == convs
    assert fv == convs + 4 * (4 * 32 * 32)  # 4 per output element of the upsampling


def test_mult_adds_restores_each_modules_training_flag():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.BatchNorm2d(4)).train()
    model[2].eval()  # a frozen batch norm inside a training model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mult_adds(model, 1, hr_hw=(16, 16))
    assert model.training and model[1].training and not model[2].training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats untouched


def test_mult_adds_of_a_y_only_model():
    assert mult_adds(nn.Conv2d(1, 4, 3, padding=1), 2, hr_hw=(20, 20), in_channels=1) == 100 * 4 * 9


def test_mult_adds_of_erfdn_matches_the_reference():
    pytest.importorskip("nas.models")
    from nas.arch import reference_config
    from nas.models import build_model

    model = build_model(reference_config("erfdn", 4))
    # reference_models.md: E-RFDN conv-only 23.76G MACs @1280x720; fvcore adds ESA's bilinear (+0.011G)
    assert mult_adds(model, 4) / 1e9 == pytest.approx(23.77, abs=0.005)


def test_latency_is_positive_and_leaves_the_model_alone():
    model = _conv_stack().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lat = measure_latency(model, lr_hw=(32, 40), warmup=1, repeats=5)
    assert lat.median_ms > 0 and lat.iqr_ms >= 0 and lat.repeats == 5
    assert lat.threads == torch.get_num_threads() and lat.device == "cpu"
    assert lat.input_shape == (1, 3, 32, 40)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.is_contiguous() for p in model.parameters())  # not converted to channels_last in place
    assert measure_latency(model, lr_hw=(8, 8), warmup=0, repeats=1, channels_last=False).iqr_ms == 0.0


def test_latency_rejects_bad_arguments():
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(nn.Identity(), repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        measure_latency(nn.Identity(), warmup=-1)


class _Slow(nn.Module):
    """Sleeps ``ms`` per forward pass: a network of known latency."""

    def __init__(self, ms: float):
        super().__init__()
        self.ms = ms

    def forward(self, x):
        import time

        time.sleep(self.ms / 1000.0)
        return x


def test_latency_budget_stops_slow_networks_early_and_keeps_every_pass_of_fast_ones():
    # 30 ms a pass, 100 ms budget: 3 passes are 90 ms, the 4th crosses the budget
    slow = measure_latency(_Slow(30.0), lr_hw=(4, 4), warmup=0, repeats=10, budget_ms=100.0)
    assert slow.repeats == 4 and slow.median_ms >= 30.0 and slow.clock == "perf_counter"
    # never fewer than min_repeats, even when one pass exceeds the budget
    assert measure_latency(_Slow(30.0), lr_hw=(4, 4), warmup=0, repeats=10, budget_ms=10.0).repeats == 3
    assert measure_latency(_Slow(30.0), lr_hw=(4, 4), warmup=0, repeats=2, budget_ms=10.0).repeats == 2
    # a fast network gets all its passes; no budget: all passes
    # (an identity: microseconds a pass even on a loaded machine, where a conv's first pass can take 100 ms)
    assert measure_latency(nn.Identity(), lr_hw=(8, 8), warmup=1, repeats=7, budget_ms=100.0).repeats == 7
    assert measure_latency(_Slow(30.0), lr_hw=(4, 4), warmup=0, repeats=5).repeats == 5
    with pytest.raises(ValueError, match="budget_ms"):
        measure_latency(nn.Identity(), budget_ms=-1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_latency_on_cuda_uses_cuda_events():
    lat = measure_latency(_conv_stack(), lr_hw=(64, 64), warmup=2, repeats=5, device="cuda")
    assert lat.clock == "cuda_event" and lat.device.startswith("cuda") and lat.median_ms > 0


def _zoo_x4():
    from nas.arch import REFERENCES

    return [n for n, r in REFERENCES.items() if 4 in r.scales]


@pytest.mark.parametrize("name", _zoo_x4())
def test_meta_device_count_equals_fvcore_on_the_zoo(name):
    """FlopCounterMode on the meta device (the default counter, no arithmetic) gives fvcore's
    1280x720 count exactly, ESA's bilinear upsampling included (4 per output element)."""
    from nas.arch import reference_config
    from nas.metrics import fvcore_mult_adds
    from nas.models import build_model, reparameterize_model

    cfg = reference_config(name, 4)
    model = reparameterize_model(build_model(cfg))
    assert mult_adds(model, 4, in_channels=cfg.colors) == fvcore_mult_adds(model, 4, in_channels=cfg.colors)


def test_meta_device_count_equals_fvcore_on_a_sample_of_the_space():
    import optuna

    from nas.metrics import fvcore_mult_adds
    from nas.models import build_model, check_buildable
    from nas.errors import NasError
    from nas.space import load_space

    space, n = load_space(), 0
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
    while n < 6:
        trial = study.ask()
        cfg = space.suggest(trial, 4).replace(nf=16)  # narrow: fast, same graph
        study.tell(trial, 0.0)
        try:
            check_buildable(cfg)
        except NasError:
            continue
        model = build_model(cfg)
        assert mult_adds(model, 4, hr_hw=(96, 128)) == fvcore_mult_adds(model, 4, hr_hw=(96, 128)), cfg.summary()
        n += 1


def test_latency_warm_up_runs_where_the_caller_says_then_the_timed_passes():
    """``timed_in(warm)``: the caller's context runs the warm-up itself (``nas search`` overlaps it
    with the other workers' steps) and the timed passes run inside it."""
    import contextlib

    import torch
    from torch import nn

    from nas.metrics.cost import measure_latency

    events: list[str] = []

    class Counted(nn.Module):
        def forward(self, x):
            events.append("pass")
            return x

    @contextlib.contextmanager
    def timed_in(warm):
        events.append("enter")
        warm()
        events.append("warmed")
        yield
        events.append("exit")

    res = measure_latency(Counted(), lr_hw=(8, 8), warmup=2, repeats=4, timed_in=timed_in)
    assert events == ["enter", "pass", "pass", "warmed", "pass", "pass", "pass", "pass", "exit"]
    assert res.repeats == 4 and torch.get_num_threads() >= 1
    events.clear()
    measure_latency(Counted(), lr_hw=(8, 8), warmup=2, repeats=4)  # without: warm-up, then timed
    assert events == ["pass"] * 6
