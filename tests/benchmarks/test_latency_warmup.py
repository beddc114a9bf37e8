"""benchmarks/latency_warmup.py scores warm-up counts on recorded pass traces with the search's
own budget rule; the rule must be the one ``measure_latency`` applies."""

from __future__ import annotations

from nas.metrics.cost import measure_latency
from tests.benchmarks import load_benchmark
from tests.metrics.test_cost import _Slow

lw = load_benchmark("latency_warmup")


def test_the_budget_rule_is_measure_latencys():
    for ms, expected in ((45.0, 3), (30.0, 4), (1.0, 10)):
        res = measure_latency(_Slow(ms), lr_hw=(4, 4), warmup=1, repeats=10, budget_ms=100.0)
        assert res.repeats == expected
        assert len(lw.protocol_timed([ms] * 36, 1)) == expected


def test_warm_up_passes_are_dropped_before_the_timed_ones():
    trace = [80.0, 30.0] + [25.0] * 30  # a first pass that builds the kernels
    assert lw.protocol_timed(trace, 0) == [80.0, 30.0, 25.0]  # 3 passes at least
    assert lw.protocol_median(trace, 0) == 30.0
    assert lw.protocol_timed(trace, 1) == [30.0, 25.0, 25.0, 25.0]
    assert lw.protocol_median(trace, 3) == 25.0
