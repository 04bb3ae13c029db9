"""Import circles between the package's modules, found statically (every ``import``, also
those inside functions).

A package's ``__init__`` importing its own submodules (the CLI registering its commands) is
not counted. The circles that exist are listed in :data:`KNOWN`: the package-layout change
(modules grouped by stage) is to remove them, and then this list empties. A new circle
fails the test, and so does a listed one that is gone (so the list stays true).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from .conftest import REPO

SRC = REPO / "src"
PACKAGE = "imr_graph"

#: Circles present before the layout change, each as the sorted modules it joins.
KNOWN: set[tuple[str, ...]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> nx.DiGraph:
    """Module -> module for every import of one of the package's modules."""
    files = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        here = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if not target or target == name:
                    continue
                if is_package and target.startswith(name + "."):
                    continue  # a package registering its own submodules
                graph.add_edge(name, target)
    return graph


def circles() -> set[tuple[str, ...]]:
    return {tuple(sorted(c)) for c in nx.strongly_connected_components(import_graph())
            if len(c) > 1}


def test_the_graph_sees_imports() -> None:
    graph = import_graph()
    assert graph.has_edge("imr_graph.views.viewer", "imr_graph.resources")
    assert graph.has_edge("imr_graph.cli.export", "imr_graph.cli.options")
    assert not graph.has_edge("imr_graph.cli", "imr_graph.cli.parse")


def test_no_new_import_circles() -> None:
    found = circles()
    assert found - KNOWN == set(), "new import circle"
    assert KNOWN - found == set(), "a known circle is gone: remove it from KNOWN"
