"""What the search's progress bar costs a trial (issue 33 §3: under 1 % of a 4-6 s trial).

Runs one real search in this process with ``nas search``'s bar (:class:`nas.cli.progress.SearchProgress`)
drawn on a forced-terminal console that writes to ``/dev/null``, and times the two things the
bar adds:

* in the search loop: ``_show_front`` (handing the trials, with successive halving the rung
  results, to the bar) and the bar's own ``scored`` (the front, hypervolume and best PSNR:
  :class:`nas.report.live.LiveFront`), plus every other progress call;
* in rich's refresh thread: every redraw (``Live.refresh``, twice a second), which competes with
  the training for the cores.

Usage::

    python benchmarks/progress_cost.py --budget 12 [--profile default] [--out /tmp/progress_cost]

Prints one line per measure and the cost per trial in ms and in % of the mean trial.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=12)
    ap.add_argument("--profile", default="default")
    ap.add_argument("--out", type=Path, default=None, help="search folder (default: a temporary one, removed)")
    args = ap.parse_args()

    from rich.console import Console

    import nas.search.runner as runner
    from nas.cli.progress import SearchProgress
    from nas.search import SearchSettings, run_search

    out = args.out or Path(tempfile.mkdtemp(prefix="progress_cost_"))
    spent = {"loop": 0.0, "loop_calls": 0, "refresh": 0.0, "refreshes": 0, "calls": 0.0, "once": 0.0}
    show_front = runner._show_front

    def timed_show_front(*a, **k):
        t0 = time.perf_counter()
        try:
            return show_front(*a, **k)
        finally:
            spent["loop"] += time.perf_counter() - t0
            spent["loop_calls"] += 1

    runner._show_front = timed_show_front
    with open("/dev/null", "w") as devnull:
        console = Console(file=devnull, force_terminal=True, width=160)
        bar = SearchProgress(console, enabled=True)
        for name in ("trial", "step", "advance", "start", "describe"):  # the other calls of the loop
            method = getattr(bar, name)
            key = "once" if name in ("start", "describe") else "calls"  # once a search: not per trial

            def wrapped(*a, _m=method, _key=key, **k):
                t0 = time.perf_counter()
                try:
                    return _m(*a, **k)
                finally:
                    spent[_key] += time.perf_counter() - t0
            setattr(bar, name, wrapped)
        live = bar.progress.live
        refresh = live.refresh

        def timed_refresh():
            t0 = time.perf_counter()
            try:
                return refresh()
            finally:
                spent["refresh"] += time.perf_counter() - t0
                spent["refreshes"] += 1
        live.refresh = timed_refresh
        s = SearchSettings(budget=args.budget, profile=args.profile, out=str(out), threads=1)
        outcome = run_search(s, log=lambda m: None, progress=bar)
    import optuna

    study = optuna.load_study(study_name=outcome.study_name, storage=outcome.storage)
    durations = [(t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials
                 if t.state.name == "COMPLETE" and t.datetime_complete]
    n = len(durations)
    mean_trial = sum(durations) / max(n, 1)
    per_trial_ms = 1e3 * (spent["loop"] + spent["calls"] + spent["refresh"]) / max(n, 1)
    print(f"search: {n} COMPLETE trials, mean {mean_trial:.2f} s a trial, {outcome.wall_s:.1f} s in all "
          f"(profile {args.profile})")
    print(f"status line (_show_front + LiveFront): {spent['loop_calls']} updates, "
          f"{1e3 * spent['loop'] / max(spent['loop_calls'], 1):.2f} ms each "
          f"(of which the bar's scored: {1e3 * bar.front_s / max(bar.updates, 1):.2f} ms)")
    print(f"other progress calls (trial, step, advance): {1e3 * spent['calls'] / max(n, 1):.2f} ms a trial; "
          f"once a search (describe: imports nas.report, start): {1e3 * spent['once']:.0f} ms")
    print(f"redraws: {spent['refreshes']} in {outcome.wall_s:.1f} s, {1e3 * spent['refresh'] / max(spent['refreshes'], 1):.2f} "
          f"ms each ({100 * spent['refresh'] / outcome.wall_s:.2f} % of one core)")
    print(f"cost per trial: {per_trial_ms:.1f} ms = {100 * per_trial_ms / 1e3 / max(mean_trial, 1e-9):.2f} % of a trial")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
