"""Progress a person can follow: the ``--log-format`` option and the rich progress bars of
``nas search``, ``nas confirm`` and ``nas train``.

``--log-format`` means the same on every command:

* ``auto`` (default): the bar when stderr is a terminal, else ``lines``.
* ``bar``: the bar on stderr, even when stderr is not a terminal (a forced-terminal console).
  The per-trial (search), per-network (confirm) lines still print, above the bar.
* ``lines``: no bar; one plain line per trial / network / validation, as a CI log or
  ``logs/job*.log`` holds them (``nas search --jobs`` runs its other jobs with ``lines``).

The search and confirm bars redraw once a second from a rich thread (``refresh_per_second=1``;
a redraw takes about 2.5 ms, rich's default of 10 a second would take 2.5 % of a core from the
training); the search's status line (front size, hypervolume, best PSNR) is recomputed once per
finished trial, not per redraw (:class:`nas.report.live.LiveFront`, about 1-10 ms at 200
trials against 4-6 s a trial). ``benchmarks/progress_cost.py`` measures both.
"""

from __future__ import annotations

import enum
import time
from typing import Callable, Sequence

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

__all__ = ["LogFormat", "LOG_FORMAT_HELP", "console_for", "SearchProgress", "ConfirmProgress", "TrainProgress"]


class LogFormat(str, enum.Enum):
    """What ``--log-format`` accepts."""

    auto = "auto"
    bar = "bar"
    lines = "lines"


LOG_FORMAT_HELP = ("auto: a progress bar (elapsed, ETA) on stderr when it is a terminal, else plain lines; "
                   "bar: the bar always; lines: one plain line per unit of work, no bar (CI logs).")


def console_for(fmt: LogFormat | str, err: Console) -> tuple[Console, bool]:
    """The console to log and draw on, and whether to draw the bar.

    Args:
        fmt: the ``--log-format`` value.
        err: the CLI's stderr console (:data:`nas.cli.app.err`).

    Returns:
        ``(console, bar)``: ``err`` itself unless ``bar`` is forced on a stderr that is not a
        terminal (then a stderr console with ``force_terminal=True``, as wide as ``err``).
    """
    fmt = LogFormat(fmt)
    if fmt is LogFormat.lines:
        return err, False
    if fmt is LogFormat.auto:
        return err, err.is_terminal
    if err.is_terminal:
        return err, True
    return Console(stderr=True, force_terminal=True, file=err.file, width=err.width), True


class _WithLines(Progress):
    """A rich ``Progress`` with plain lines under its bar (``lines()``, redrawn with it)."""

    def __init__(self, *columns, lines: Callable[[], Sequence[str]], **kwargs) -> None:
        self._lines = lines  # before Progress.__init__, which renders once
        super().__init__(*columns, **kwargs)

    def get_renderables(self):
        yield self.make_tasks_table(self.tasks)
        for line in self._lines():
            if line:
                yield Text(line, no_wrap=True, overflow="ellipsis")


def _columns(what: str, unit: str | None) -> list:
    cols = [TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn()]
    if unit:
        cols.append(TextColumn(unit))
    return cols + [TimeElapsedColumn(), TextColumn("elapsed, ETA"), TimeRemainingColumn()]


class SearchProgress:
    """``nas search``'s bar: COMPLETE trials of the study / budget (every worker's, references
    included), elapsed, ETA; under it the front (size, hypervolume, best PSNR within the
    ``--max-*`` limits) and the trial this process trains.

    The protocol :func:`nas.search.run_search` calls: ``start``, ``trial``, ``step``,
    ``advance``, ``stop``, and (optional) ``describe`` and ``scored``.
    """

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.enabled = enabled
        self.task = None
        self.label = ""
        self.now = ""
        self.front = None
        self.front_text = ""
        self.front_s = 0.0  # seconds spent computing the status line (measured: the bar's cost)
        self.updates = 0
        self.progress = _WithLines(*_columns("search", "trials"), lines=self._status, console=console,
                                   transient=False, disable=not enabled, refresh_per_second=1,
                                   speed_estimate_period=300.0)

    def _status(self) -> list[str]:
        return [self.front_text, self.now]

    def describe(self, scale: int, objectives, limits: dict, predicted: bool) -> None:
        """The study's facts the status line needs (called once, before ``start``)."""
        if not self.enabled:
            return
        from nas.report.live import LiveFront

        self.front = LiveFront(scale, objectives, limits, predicted)

    def scored(self, trials, attrs: dict | None) -> None:
        """Recompute the front from the study's trials (and rung results): after each trial and
        promotion. A failure here never stops the search: the line says so."""
        if self.front is None:
            return
        t0 = time.perf_counter()
        try:
            self.front.update(trials, attrs)
            self.front_text = self.front.text()
        except Exception as err:  # noqa: BLE001 - a display problem, not the search's
            self.front_text = f"front: not shown ({type(err).__name__}: {err})"
        self.front_s += time.perf_counter() - t0
        self.updates += 1

    def start(self, total: int, done: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("search", total=total, completed=done)

    def trial(self, number: int, label: str) -> None:
        self.label = f"now: trial {number} {label}"
        self.now = self.label

    def step(self, i: int, n: int) -> None:
        if i % 5 == 0 or i == n:
            self.now = f"{self.label} [{i}/{n} it]"

    def advance(self, done: int) -> None:
        self.progress.update(self.task, completed=done)
        self.now = ""

    def stop(self) -> None:
        self.progress.stop()


class ConfirmProgress:
    """``nas confirm``'s bar over its unit of work, networks x training steps (every process's
    finished networks counted), elapsed, ETA; under it the network this process trains."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.task = None
        self.now = ""
        self.steps_each = 1
        self.name = ""
        self.base = 0
        self.n = 0
        self.progress = _WithLines(*_columns("confirm", "steps"), TextColumn("{task.fields[networks]}"),
                                   lines=lambda: [self.now], console=console, disable=not enabled,
                                   refresh_per_second=1, speed_estimate_period=300.0)

    def start(self, networks: int, steps_each: int, done: int) -> None:
        self.steps_each, self.n = max(1, steps_each), networks
        self.progress.start()
        self.task = self.progress.add_task("confirm", total=networks * self.steps_each,
                                           completed=done * self.steps_each, networks="")
        self.done(done)

    def network(self, name: str) -> None:
        self.now = f"now: {name}"
        self.name = name

    def step(self, i: int) -> None:
        self.progress.update(self.task, completed=self.base + min(i, self.steps_each))
        if i % 10 == 0:
            self.now = f"now: {self.name} [{i}/{self.steps_each} steps]"

    def done(self, n_done: int) -> None:
        self.base = n_done * self.steps_each
        self.progress.update(self.task, completed=self.base, networks=f"({n_done}/{self.n} networks)")
        self.now = ""

    def stop(self) -> None:
        self.progress.stop()


class TrainProgress:
    """``nas train``'s bar: iterations, loss (running mean), last validation PSNR, lr, elapsed,
    ETA. Without the bar (``lines``), one line per validation."""

    def __init__(self, console: Console, enabled: bool, log: Callable[[str], None]) -> None:
        self.enabled, self.log = enabled, log
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("PSNR {task.fields[psnr]}"),
            TextColumn("lr {task.fields[lr]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, refresh_per_second=2,
        )
        self.task = None
        self.loss = None
        self.t0 = time.perf_counter()
        self.started = 0

    def start(self, start: int, total: int) -> None:
        self.started, self.t0 = start, time.perf_counter()
        self.progress.start()
        self.task = self.progress.add_task("train", total=total, completed=start, loss="-", psnr="-", lr="-")

    def step(self, it: int, loss: float, lr: float) -> None:
        self.loss = loss if self.loss is None else 0.98 * self.loss + 0.02 * loss
        self.progress.update(self.task, completed=it, loss=f"{self.loss:.4f}", lr=f"{lr:.1e}")

    def validated(self, it: int, psnr: float) -> None:
        self.progress.update(self.task, psnr=f"{psnr:.3f} dB")
        if not self.enabled:  # no live bar: one line per validation instead
            rate = (it - self.started) / max(time.perf_counter() - self.t0, 1e-9)
            total = self.progress.tasks[0].total
            eta = (total - it) / rate if rate > 0 else float("nan")
            self.log(f"iter {it:,}/{total:,}  loss {self.loss:.4f}  val PSNR {psnr:.3f} dB  {rate:.2f} it/s  "
                     f"ETA {eta / 60:.1f} min")

    def stop(self) -> None:
        self.progress.stop()
