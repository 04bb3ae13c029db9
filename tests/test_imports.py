"""Import circles between the package's modules, found statically (every ``import``, also
those inside functions): there are none, and a new one fails the test.

A package's ``__init__`` importing its own submodules (the CLI registering its commands) is
not counted. The graph is checked against imports known to exist, so an analysis that stops
seeing imports cannot pass by finding nothing; a planted circle shows that one is found.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from .conftest import REPO

SRC = REPO / "src"
PACKAGE = "imr_graph"


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


def circles(graph: nx.DiGraph | None = None) -> set[tuple[str, ...]]:
    """Each circle as the sorted modules it joins."""
    graph = import_graph() if graph is None else graph
    return {tuple(sorted(c)) for c in nx.strongly_connected_components(graph) if len(c) > 1}


def test_the_graph_sees_imports() -> None:
    graph = import_graph()
    assert graph.has_edge("imr_graph.views.viewer", "imr_graph.resources")
    assert graph.has_edge("imr_graph.cli.export", "imr_graph.cli.options")
    assert graph.has_edge("imr_graph.dmhc.ingest", "imr_graph.graph.store")  # from ..graph.store
    assert graph.has_edge("imr_graph.cli.graph", "imr_graph.cli.dmhc")  # inside a function
    assert not graph.has_edge("imr_graph.cli", "imr_graph.cli.parse")


def test_a_circle_is_found() -> None:
    graph = import_graph()
    assert circles(graph) == set()
    graph.add_edge("imr_graph.graph.mapping", "imr_graph.graph.store")  # store imports mapping
    assert circles(graph) == {("imr_graph.graph.mapping", "imr_graph.graph.store")}


def test_no_import_circles() -> None:
    assert circles() == set(), "import circle"
