"""The `nas` command line: the typer ``app``, the consoles and the entry point (no commands).

Commands register on :data:`app` from :mod:`nas.cli.commands` (search, confirm, show, report,
export, info, zoo) and :mod:`nas.cli.workflow` (eval, upscale, train); ``nas/cli/__init__.py``
imports both. Every :class:`nas.errors.NasError` becomes one line on stderr (``error: ...``) and
exit code 2; Ctrl-C exits 130 after the search has written its outputs.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from nas.errors import NasError

__all__ = ["app", "out", "err", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Architecture search for lightweight single-image super-resolution.")
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def fail(message: str, code: int = 2) -> None:
    """One red ``error: ...`` line on stderr, then exit with ``code`` (``typer.Exit``)."""
    err.print(f"error: {message}", style="bold red", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point: one-line errors (exit 2), no tracebacks for user mistakes."""
    try:
        app()
    except NasError as e:
        err.print(f"error: {e}", style="bold red", highlight=False, markup=False, soft_wrap=True)
        sys.exit(2)
    except OSError as e:  # a path the user gave that the OS refuses (exists, not a folder, permission)
        if not e.filename:
            raise
        err.print(f"error: {e.filename}: {e.strerror or e}", style="bold red", highlight=False, markup=False,
                  soft_wrap=True)
        sys.exit(2)
