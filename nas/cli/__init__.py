"""The `nas` command line (typer): ``app`` and ``main`` in :mod:`nas.cli.app`, the commands in
:mod:`nas.cli.commands` and :mod:`nas.cli.workflow` (imported here so they register on ``app``).

Run it as ``nas ...`` (console script ``nas.cli:main``) or ``python -m nas.cli ...``.
"""

from nas.cli import commands as _commands  # noqa: F401  (registers search, confirm, show, ...)
from nas.cli import workflow as _workflow  # noqa: F401  (registers eval, upscale, train)
from nas.cli.app import app, err, main, out

__all__ = ["app", "main", "out", "err"]
