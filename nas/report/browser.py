"""Open ``report.html`` in a headless Chromium, offline: read what it rendered, take a screenshot.

Chromium runs with networking off as far as the command line allows
(``--disable-background-networking --disable-component-update --disable-sync``, every host name
resolving to nothing through ``--host-resolver-rules``, a throw-away profile); the report itself
forbids network requests with a Content-Security-Policy. The page's inline check script writes
a JSON record into ``<pre id="nas-report-check">`` (points drawn per figure, JavaScript errors,
non-local resources), read back from ``--dump-dom``; Chromium's own console log
(``--enable-logging=stderr --v=0``) is scanned as well.

Debian: ``apt-get install -y chromium`` (``.ci/run`` does it when ``/usr/bin/chromium`` is missing).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nas.errors import NasError

__all__ = ["find_chromium", "BrowserCheck", "check_report", "screenshot"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?[^\]]*\]\s*\"(?P<msg>.*)\", source: (?P<src>\S*)")


def find_chromium() -> str | None:
    """Path of a Chromium / Chrome binary (``$CHROMIUM`` first), or ``None``."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in _CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _base_args(user_dir: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={user_dir}"]


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    chromium = find_chromium()
    if chromium is None:
        raise NasError("no Chromium found (Debian: apt-get install -y chromium; or set $CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="nas-chromium-") as user_dir:
        try:
            return subprocess.run([chromium, *_base_args(user_dir), *args], capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise NasError(f"chromium did not finish within {timeout:.0f} s") from None


@dataclass
class BrowserCheck:
    """What headless Chromium saw when it opened the report.

    Attributes:
        ready: every figure was drawn.
        expected_points: COMPLETE feasible trials in the report data.
        points: SVG markers drawn: ``pareto_xy`` (first Pareto panel, trial markers only),
            ``matrix`` (scatter matrix, all panels), ``hypervolume`` (history markers).
        hidden_drawn: markers of the failed / pruned / rejected trace (0 until toggled on).
        figures: plotly figures on the page.
        errors: JavaScript errors and ``console.error`` calls caught in the page.
        remote_resources: resources the page loaded that are not ``file:``/``data:``/``blob:``.
        console: Chromium's console-log lines about the page (stderr).
    """

    ready: bool = False
    expected_points: int = -1
    points: dict = field(default_factory=dict)
    hidden_drawn: int | None = None
    figures: int = 0
    errors: list = field(default_factory=list)
    remote_resources: list = field(default_factory=list)
    console: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.ready and not self.errors and not self.remote_resources and not self.console
                and self.points.get("pareto_xy") == self.expected_points)


def check_report(report: str | Path, timeout: float = 90.0) -> BrowserCheck:
    """Open ``report`` (a local file) in headless Chromium and return what it rendered.

    Raises:
        NasError: no Chromium, it failed, or the page never wrote its check record.
    """
    path = Path(report).resolve()
    r = _run(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=20000", "--dump-dom",
              path.as_uri()], timeout)
    m = re.search(r'<pre id="nas-report-check">(.*?)</pre>', r.stdout, re.S)
    if not m or not m.group(1).strip():
        tail = (r.stderr or "").strip().splitlines()[-5:]
        raise NasError(f"{path}: the page wrote no check record (chromium exit {r.returncode}: {' | '.join(tail)})")
    rec = json.loads(html.unescape(m.group(1)))
    console = [f"{c.group('msg')} ({c.group('src')})" for c in _CONSOLE.finditer(r.stderr or "")]
    return BrowserCheck(ready=bool(rec.get("ready")), expected_points=int(rec.get("expected_points", -1)),
                        points=rec.get("points") or {}, hidden_drawn=rec.get("hidden_drawn"),
                        figures=int(rec.get("figures", 0)), errors=list(rec.get("errors") or []),
                        remote_resources=list(rec.get("remote_resources") or []), console=console)


def screenshot(report: str | Path, png: str | Path, width: int = 1600, height: int = 1200,
               timeout: float = 90.0) -> Path:
    """Screenshot of the top ``width`` x ``height`` px of ``report`` into ``png``.

    Raises:
        NasError: no Chromium, or it wrote no file.
    """
    path = Path(report).resolve()
    out = Path(png).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    tmp.unlink(missing_ok=True)
    r = _run([f"--window-size={width},{height}", "--virtual-time-budget=20000", f"--screenshot={tmp}",
              path.as_uri()], timeout)
    if not tmp.is_file() or tmp.stat().st_size == 0:
        raise NasError(f"chromium wrote no screenshot of {path} (exit {r.returncode})")
    os.replace(tmp, out)
    return out
