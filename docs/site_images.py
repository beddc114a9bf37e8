"""mkdocs hook: pictures from ``results/`` in the site, with links that also work on GitHub.

A docs page shows a committed plot as ``![...](../results/lightweight_sr_x4/pareto.png)``: that
path resolves when the page is read in the repository, but lies outside ``docs_dir``, which mkdocs
cannot link to (strict mode fails the build). This hook adds every ``results/**/*.png`` to the
build as ``assets/results/...`` and rewrites ``](../results/`` to ``](assets/results/``
(``](../assets/results/`` for pages one folder down). Nothing else under ``results/`` is copied.
"""

from __future__ import annotations

import re
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
_LINK = re.compile(r"\]\((?:\.\./)+results/([^)\s]+\.png)\)")


def on_files(files, config):
    from mkdocs.structure.files import File

    for png in sorted((_REPO / "results").rglob("*.png")):
        rel = png.relative_to(_REPO).as_posix()
        files.append(File.generated(config, "assets/" + rel, abs_src_path=str(png)))
    return files


def on_page_markdown(markdown, page, config, files):
    depth = page.file.src_uri.count("/")
    return _LINK.sub(lambda m: "](" + "../" * depth + "assets/results/" + m.group(1) + ")", markdown)
