"""The interactive offline graph viewer: one self-contained HTML file for a projected graph.

:func:`viewer_html` embeds the graph (nodes, edges, properties) as JSON together with a small
hand-written JavaScript/SVG viewer (``data/viewer.js``, ``data/viewer.css``): nodes coloured by
type, edges coloured by outcome (Upheld/Overturned), search, pan/zoom, a legend that hides
types, and a panel with a node's properties, its neighbours and, for a case, a ``file:`` link
to the source letter. The file loads nothing from the network.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx

from .export import OUTCOME_COLOURS, outcome_nodes, outcome_of_edge, outcome_of_node, palette
from .resources import data_file

#: Attribute and edge names that hold (or lead to) the path of a case's source letter.
SOURCE_HINTS = ("path", "sourcepath", "filepath", "atlocation", "location", "source", "file")
_SOURCE_EDGES = ("wasderivedfrom", "hadprimarysource", "source", "wasquotedfrom")


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>`` and ``&`` become ``\\u`` escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def path_to_url(value: str) -> str | None:
    """A ``file:`` URL for a file path or ``file:`` IRI, or None when it is neither."""
    value = value.strip()
    if value.startswith("file:"):
        return value
    if not value or "://" in value or "\n" in value:
        return None
    if not (value.startswith(("/", "./", "../", "~")) or value.lower().endswith((".pdf", ".txt", ".md"))):
        return None
    try:
        return Path(value).expanduser().absolute().as_uri()
    except ValueError:
        return None


def source_link(graph: nx.MultiDiGraph, n: str) -> str | None:
    """The ``file:`` URL of the letter a node (a case) was read from, if the graph says.

    Looks at the node's own path-like attributes, then one edge out along a provenance link
    (``prov:wasDerivedFrom``, ``prov:hadPrimarySource``, ...) at that node's IRI and path-like
    attributes. Only nodes typed like a case (``*Case*``/``*Letter*``/``*Determination*``) get
    a link.
    """
    types = str(graph.nodes[n].get("types") or graph.nodes[n].get("type", "")).lower()
    if not any(t in types for t in ("case", "letter", "determination")):
        return None

    def from_attrs(m: str) -> str | None:
        for key, value in graph.nodes[m].items():
            if key.lower().replace("_", "") in SOURCE_HINTS and isinstance(value, str):
                url = path_to_url(value.split(" | ")[0])
                if url:
                    return url
        return None

    found = from_attrs(n)
    if found:
        return found
    for _, m, data in graph.out_edges(n, data=True):
        if str(data.get("label", "")).lower().replace("_", "") in _SOURCE_EDGES:
            if m.startswith("file:"):
                return m
            found = from_attrs(m)
            if found:
                return found
    return None


def viewer_data(graph: nx.MultiDiGraph, title: str = "imr-graph") -> dict[str, Any]:
    """The JSON the viewer script reads (also handy for tests)."""
    ids = {n: i for i, n in enumerate(graph.nodes)}
    type_counts = Counter(str(d.get("type", "Resource")) for _, d in graph.nodes(data=True))
    colours = palette(type_counts)
    outcomes = outcome_nodes(graph)
    nodes = []
    for n, d in graph.nodes(data=True):
        attrs = {k: v for k, v in d.items() if k not in ("label", "type") and v != ""}
        nodes.append(
            {
                "id": n,
                "label": str(d.get("label", n)),
                "type": str(d.get("type", "Resource")),
                "attrs": attrs,
                "outcome": outcome_of_node(graph, n, outcomes),
                "source": source_link(graph, n),
            }
        )
    edges = [
        {
            "s": ids[u],
            "t": ids[v],
            "label": str(d.get("label", k)),
            "outcome": outcome_of_edge(graph, u, v, outcomes),
        }
        for u, v, k, d in graph.edges(keys=True, data=True)
    ]
    return {
        "title": title,
        "types": [
            {"name": t, "colour": colours[t], "count": c} for t, c in sorted(type_counts.items())
        ],
        "outcomeColours": OUTCOME_COLOURS,
        "nodes": nodes,
        "edges": edges,
    }


def viewer_html(graph: nx.MultiDiGraph, title: str = "imr-graph") -> str:
    """A complete, self-contained HTML page showing ``graph`` (no external resources)."""
    data = viewer_data(graph, title)
    css = data_file("viewer.css").read_text(encoding="utf-8")
    js = data_file("viewer.js").read_text(encoding="utf-8")
    t = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="imr-graph">
<title>{t}</title>
<style>
{css}</style>
</head>
<body>
<header>
<h1>{t}</h1>
<span id="counts"></span>
<input id="search" type="search" placeholder="Search labels and IRIs (Enter selects)" aria-label="Search">
<span id="match-count"></span>
<label><input id="labels-toggle" type="checkbox"> labels</label>
<button id="fit" type="button">Fit</button>
</header>
<main>
<svg id="canvas" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="graph"></svg>
<ul id="legend"></ul>
</main>
<aside id="panel"></aside>
<script id="graph-data" type="application/json">{_json_for_script(data)}</script>
<script>
{js}</script>
</body>
</html>
"""
