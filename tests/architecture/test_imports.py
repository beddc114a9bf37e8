"""The package's import graph: no cycles, and the modules that promise no torch keep the promise.

Edges are every ``import`` / ``from ... import`` in a module of ``nas`` (module level and inside
functions), plus the package ``__init__`` such an import enters (importing ``nas.search.rungs``
runs ``nas/search/__init__.py``); a module's own enclosing packages are already entered and do
not count. A cycle makes initialisation order fragile and ties layers together (issue 19).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> dict[str, Path]:
    mods = {}
    for path in (ROOT / "nas").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of nas it imports or whose __init__ it enters}``."""
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    name = ".".join(base + ([node.module] if node.module else []))
                else:
                    name = node.module or ""
                targets = [name] + [f"{name}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target not in mods:
                    continue
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    entered = ".".join(parts[:i])
                    if entered in mods and entered != mod and not mod.startswith(entered + "."):
                        edges[mod].add(entered)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


#: Modules that read studies, reports and spaces without torch (``nas show`` / ``nas report``
#: on a machine without it, and fast start-up).
NO_TORCH = ["nas.search.study", "nas.search.rungs", "nas.search.admission", "nas.report.data", "nas.report.live",
            "nas.front", "nas.schedule", "nas.urls", "nas.space", "nas.arch", "nas.proxy.profiles", "nas.proxy.fit",
            "nas.metrics.quiet"]


@pytest.mark.parametrize("module", NO_TORCH)
def test_no_torch_modules_import_without_torch(module):
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'torch' or name.startswith('torch.'):\n"
            "            raise ImportError('torch is blocked in this test')\n"
            "sys.meta_path.insert(0, Block())\n"
            f"import {module}\n"
            "assert 'torch' not in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


#: The layers that must not know how they are shown (CONTRIBUTING.md, "The layers"): the report,
#: the export and the CLI sit above them; what they need from there is passed in (the search's
#: ``write_outputs``, ``nas confirm``'s ``read_points``, the progress displays).
PRESENTATION = ("nas.report", "nas.export", "nas.cli")
BELOW_PRESENTATION = ("nas.space", "nas.arch", "nas.primitives", "nas.models", "nas.data", "nas.proxy",
                      "nas.metrics", "nas.scoring", "nas.schedule", "nas.search", "nas.front", "nas.training",
                      "nas.evaluation", "nas.checkpoints", "nas.errors", "nas.textfiles", "nas.urls")


def _inside(module: str, packages) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def crossings(edges: dict[str, set[str]], lower, upper) -> list[str]:
    """``"a -> b"`` for every import of a module of ``upper`` by a module of ``lower``."""
    return sorted(f"{m} -> {t}" for m, ts in edges.items() if _inside(m, lower) for t in ts if _inside(t, upper))


def test_crossing_finder_finds_the_old_confirm_import():
    """What ``nas.search.confirm`` did until issue 33 (``from nas.report import build_report_data``
    inside ``run_confirm``: an import in a function body counts, see :func:`import_graph`)."""
    edges = {"nas.search.confirm": {"nas.report", "nas.search.rungs"}, "nas.report": {"nas.search.rungs"}}
    assert crossings(edges, ("nas.search",), PRESENTATION) == ["nas.search.confirm -> nas.report"]
    assert crossings(edges, ("nas.report",), ("nas.search",)) == ["nas.report -> nas.search.rungs"]


def test_the_study_layer_does_not_import_the_report():
    """Issue 33 §4: the study layer (``nas.search``) never imports how it is shown."""
    assert crossings(import_graph(), ("nas.search",), PRESENTATION) == []


def test_no_lower_layer_imports_the_presentation():
    edges = import_graph()
    assert crossings(edges, BELOW_PRESENTATION, PRESENTATION) == []
    # nothing but the CLI imports the CLI
    assert sorted(f"{m} -> {t}" for m, ts in edges.items() if not _inside(m, ("nas.cli",))
                  for t in ts if _inside(t, ("nas.cli",))) == []
