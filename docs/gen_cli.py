"""The CLI reference page (``cli.md`` of the documentation site), generated from the typer app.

Nothing in it is hand-copied: the commands, their help text and every option (names, type,
default, help) are read from ``nas.cli.app`` through click's API, and each command's ``--help``
is rendered the way the terminal shows it (fixed width, no colour).

Used three ways:

* as an mkdocs hook (``hooks:`` in ``mkdocs.yml``): :func:`on_files` adds the page to every build,
  so the site always documents the CLI of the checkout it was built from (the page is not
  committed, hence never stale);
* by ``tests/docs/test_cli_reference.py``, which checks the page against the app and against the
  real ``nas COMMAND --help`` run in a subprocess;
* on its own: ``python docs/gen_cli.py [OUT.md]`` writes the page (to stdout without OUT.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

WIDTH = 100
"""Terminal width the ``--help`` blocks are rendered at (the test renders the real CLI at it too)."""

PAGE = "cli.md"

# The environment a `--help` is rendered in: fixed width, no colours, no forced terminal.
HELP_ENV = {"TERMINAL_WIDTH": str(WIDTH), "COLUMNS": str(WIDTH), "_TYPER_FORCE_DISABLE_TERMINAL": "1",
            "NO_COLOR": "1"}
HELP_ENV_REMOVE = ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "CLICOLOR_FORCE")

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:  # `python docs/gen_cli.py` from a checkout without an install
    sys.path.insert(0, str(_REPO))


def click_group():
    """The ``nas`` command as a click group (typer's vendored click)."""
    import typer

    from nas.cli import app

    return typer.main.get_command(app)


def command_names() -> list[str]:
    """The sub-commands in the order ``nas --help`` lists them."""
    group = click_group()
    ctx = group.make_context("nas", ["--help"], resilient_parsing=True)
    return [n for n in group.list_commands(ctx) if not group.get_command(ctx, n).hidden]


def render_help(command: str | None) -> str:
    """``nas [COMMAND] --help`` as the terminal shows it at :data:`WIDTH` columns, without colour;
    trailing spaces stripped from every line and blank lines trimmed at both ends."""
    import typer.rich_utils as ru
    from typer.testing import CliRunner

    from nas.cli import app

    saved = (ru.MAX_WIDTH, ru.FORCE_TERMINAL, ru.COLOR_SYSTEM)
    ru.MAX_WIDTH, ru.FORCE_TERMINAL, ru.COLOR_SYSTEM = WIDTH, False, None
    try:
        args = ([command] if command else []) + ["--help"]
        env = dict(HELP_ENV, **{k: None for k in HELP_ENV_REMOVE})
        result = CliRunner().invoke(app, args, prog_name="nas", env=env, color=False)
    finally:
        ru.MAX_WIDTH, ru.FORCE_TERMINAL, ru.COLOR_SYSTEM = saved
    if result.exit_code != 0:
        raise RuntimeError(f"nas {command or ''} --help exited {result.exit_code}: {result.output}")
    return normalise_help(result.output)


def normalise_help(text: str) -> str:
    """Strip trailing spaces from each line and blank lines at both ends (rich pads to the width)."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def _cell(text: str) -> str:
    """One markdown table cell: one line, ``|`` escaped, ``<`` / ``>`` as entities."""
    text = " ".join(str(text).split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _default(param) -> str:
    if getattr(param, "is_flag", False) and not param.default:
        return ""
    d = param.default
    if d is None or d == () or callable(d):
        return ""
    return f"`{d}`"


def option_rows(command_name: str) -> list[tuple[str, str, str, str]]:
    """(names, type, default, help) of every parameter of ``nas COMMAND``, arguments first."""
    group = click_group()
    ctx = group.make_context("nas", [command_name], resilient_parsing=True)
    cmd = group.get_command(ctx, command_name)
    cctx = cmd.make_context(command_name, [], parent=ctx, resilient_parsing=True)
    rows = []
    for p in cmd.params:
        if getattr(p, "hidden", False):
            continue
        if p.param_type_name == "argument":
            names = f"`{p.name.upper()}` (argument{', several' if p.nargs == -1 else ''})"
        else:
            names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
        kind = p.display_type(cctx).strip("<>") + (", repeatable" if getattr(p, "multiple", False) else "")
        if getattr(p, "required", False):
            kind += ", required"
        rows.append((names, _cell(kind), _default(p), _cell(getattr(p, "help", "") or "")))
    rows.append(("`--help`", "flag", "", "Show this message and exit."))
    return rows


def reference_markdown() -> str:
    """The whole page: an index of the commands, then one section per command."""
    group = click_group()
    ctx = group.make_context("nas", ["--help"], resilient_parsing=True)
    names = command_names()
    lines = [
        "# CLI reference",
        "",
        "<!-- Generated from nas.cli.app by docs/gen_cli.py at every docs build; do not edit. -->",
        "",
        "Generated from the typer app (`nas.cli.app`) at every `make docs`: the commands, their",
        "options and their `--help` exactly as the terminal shows them"
        f" ({WIDTH} columns). `tests/docs/test_cli_reference.py` checks this page against the app.",
        "Errors in what you pass print one line (`error: ...`) and exit with code 2; Ctrl-C exits 130.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for n in names:
        short = group.get_command(ctx, n).get_short_help_str(limit=200)
        lines.append(f"| [`nas {n}`](#nas-{n}) | {_cell(short)} |")
    lines += ["", '??? example "`nas --help`"', "", "    ```text"]
    lines += [("    " + line) if line else "" for line in render_help(None).splitlines()]
    lines += ["    ```", ""]
    for n in names:
        cmd = group.get_command(ctx, n)
        lines += [f"## `nas {n}`", "", " ".join((cmd.help or "").split()), "", "| option | type | default | help |",
                  "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in option_rows(n)]
        lines += ["", f'??? example "`nas {n} --help`"', "", "    ```text"]
        lines += [("    " + line) if line else "" for line in render_help(n).splitlines()]
        lines += ["    ```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def help_blocks(markdown: str) -> dict[str | None, str]:
    """The ``--help`` blocks of a generated page, by command (``None``: the top-level one)."""
    blocks: dict[str | None, str] = {}
    lines = markdown.splitlines()
    i = 0
    current: str | None = None
    top_done = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("## `nas "):
            current = line[len("## `nas "):].rstrip("`")
        stripped = line.strip()
        if stripped == "```text":
            indent = line[: len(line) - len(line.lstrip())]
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            key = current if top_done else None
            top_done = True
            blocks[key] = "\n".join(body).strip("\n")
        i += 1
    return blocks


def on_files(files, config):  # mkdocs hook
    """Add the generated ``cli.md`` to the build."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=reference_markdown()))
    return files


if __name__ == "__main__":
    page = reference_markdown()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(page)
    else:
        sys.stdout.write(page)
