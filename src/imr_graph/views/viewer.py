"""The interactive offline graph viewer: one self-contained HTML file for a projected graph.

:func:`viewer_html` writes a page that draws the graph with Cytoscape.js and its fcose
layout (vendored under ``data/vendor/``, pinned, licences alongside; ``scripts/vendor-js.sh``
refreshes them) and ``data/viewer.js``. Everything is inlined: the page loads nothing, and
its Content-Security-Policy forbids it to.

What the page shows is computed here, generically over the graph (``rdf:type``,
``skos:prefLabel``, ``skos:notation``), so new kinds of nodes show up without changes:

* **Layers.** Provenance and citation plumbing (:data:`PROVENANCE_TYPES`: ingest
  activities, source documents, case graphs, citations, guideline bases, rationale
  references, mapping records) is hidden behind a toggle; the domain (cases, workers,
  diagnoses and their codes, services, guideline documents and sections, outcomes) shows.
* **Labels and types.** Nodes the store left untyped or labelled with a slug (``imr:Upheld``,
  ``imr:MTUS``) take type and label from the packaged ontology; a node still untyped (a shared
  concept seen from one case's graph) takes the ``rdfs:range`` of a property that points at
  it; slugs become words; a node with a ``skos:notation`` (or a ``*code`` attribute) shows
  it as its code; a plain ``skos:Concept`` is typed by its scheme. Types are named by their
  ontology label.
* **Items and facets.** A disputed item is a node with one outcome. Each item row records its
  outcome, service kinds (a ``*kind`` attribute, or the target of a ``serviceCategory``-like
  or ``kind``-like link from the item or its service), guideline families, year and system
  (the case's type), and the shared concepts it touches: the filters and the overview use it.
* **Overview.** A graph with more than ``detail_limit`` nodes is not drawn node by node: the
  page aggregates the items into concepts (services, sections, categories, diagnoses ...)
  linked to the outcomes and to each other with counts as weighted edges, so the whole
  corpus can be looked at. Smaller graphs get the same overview behind a button.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx

from ..resources import data_file, ontology_dir
from .export import (
    HUB_TYPES,
    OUTCOME_COLOURS,
    local_name,
    outcome_nodes,
    outcome_of_edge,
    outcome_of_node,
    palette,
)

#: Attribute and edge names that hold (or lead to) the path of a case's source letter.
SOURCE_HINTS = ("path", "sourcepath", "filepath", "atlocation", "location", "source", "file")
_SOURCE_EDGES = ("wasderivedfrom", "hadprimarysource", "source", "wasquotedfrom")

#: Node types of provenance and citation plumbing, hidden until the page's toggle shows them.
PROVENANCE_TYPES = frozenset(
    {
        "IngestActivity", "Activity", "SourceDocument", "CaseGraph", "Citation",
        "GuidelineBasis", "RationaleReference", "Mapping", "ConceptScheme", "TextSpan",
        "Annotation", "MappingSet",
    }
)

#: Fixed colours for the main domain types (others get :func:`~imr_graph.views.export.palette`).
TYPE_COLOURS: dict[str, str] = {
    "WorkersCompCase": "#1b3a6b", "HealthPlanCase": "#4e79a7", "DisputedItem": "#edc948",
    "PartiallyAuthorizedItem": "#edc948", "InjuredWorker": "#9c755f",
    "HealthPlanMember": "#9c755f", "Diagnosis": "#b07aa1", "Service": "#f28e2b",
    "Medication": "#ff9da7", "GuidelineSection": "#59a14f", "GuidelineDocument": "#8cd17d",
    "GuidelineFamily": "#17becf", "ExpertReviewer": "#bab0ac", "Outcome": "#79706e",
}

#: Above this many nodes the page shows the aggregated overview only.
DETAIL_LIMIT = 2500

_SKOS = "http://www.w3.org/2004/02/skos/core#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_OWL_NAMED = "http://www.w3.org/2002/07/owl#NamedIndividual"
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)+$")
#: Edges to a node that is not a concept of the item (the item's own plumbing or its case).
_NOT_CONCEPT_EDGES = frozenset({"outcome", "inCase", "item", "subject", "patient", "reviewer"})
#: Attribute keys holding a case's date or year, best first.
_YEAR_KEYS = ("decisionDate", "reportYear", "dateOfDecision", "year")


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


@lru_cache(maxsize=1)
def ontology_terms() -> Mapping[str, Mapping[str, str]]:
    """What the packaged ontology files say about each IRI: ``type`` (most specific own
    class, by local name), ``label`` (``skos:prefLabel``, else ``rdfs:label``, English
    first), ``notation`` and, for a property, ``range`` (its class). Shapes are left out."""
    import pyoxigraph as ox

    types: dict[str, list[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    notations: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for path in sorted(ontology_dir().glob("*.ttl")):
        if path.name == "shapes.ttl":
            continue
        with path.open("rb") as fh:
            for t in ox.parse(fh, format=ox.RdfFormat.TURTLE):
                if not isinstance(t.subject, ox.NamedNode):
                    continue
                s, p, o = t.subject.value, t.predicate.value, t.object
                if p == _RDF_TYPE and isinstance(o, ox.NamedNode) and o.value != _OWL_NAMED:
                    types.setdefault(s, []).append(o.value)
                elif p == _RDFS + "range" and isinstance(o, ox.NamedNode):
                    if not o.value.startswith(("http://www.w3.org/2001/XMLSchema#", _RDFS)):
                        ranges[s] = o.value
                elif isinstance(o, ox.Literal) and (o.language or "en").startswith("en"):
                    if p in (_SKOS + "prefLabel", _RDFS + "label"):
                        labels.setdefault(s, {})[p] = o.value
                    elif p == _SKOS + "notation":
                        notations.setdefault(s, o.value)
    terms: dict[str, dict[str, str]] = {}
    for iri in set(types) | set(labels) | set(notations) | set(ranges):
        entry: dict[str, str] = {}
        if iri in ranges:
            entry["range"] = local_name(ranges[iri])
        if iri in types:
            entry["type"] = local_name(sorted(types[iri])[0])
        names = labels.get(iri, {})
        label = names.get(_SKOS + "prefLabel") or names.get(_RDFS + "label")
        if label:
            entry["label"] = label
        if iri in notations:
            entry["notation"] = notations[iri]
        terms[iri] = entry
    return terms


def _humanise(label: str) -> str:
    """``cervical-sprain`` -> ``cervical sprain``; anything else unchanged."""
    return re.sub(r"[-_]+", " ", label) if _SLUG.match(label) else label


def _type_label(name: str, terms: Mapping[str, Mapping[str, str]]) -> str:
    """A class's ontology label (``workers' compensation case``), else its spaced name."""
    for iri, entry in terms.items():
        if local_name(iri) == name and entry.get("type") == "Class" and entry.get("label"):
            return entry["label"]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower() if name != "Resource" else "other"


def _describe(graph: nx.MultiDiGraph) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Type, label and code of each node, completed from the ontology (see module doc), and
    the names of the types made for SKOS concepts: a plain ``skos:Concept`` in a scheme is
    typed by its scheme (``Service categories of disputed IMR items``)."""
    terms = ontology_terms()
    out: dict[str, dict[str, str]] = {}
    schemes: dict[str, str] = {}
    for n, d in graph.nodes(data=True):
        known = terms.get(n, {})
        ntype = str(d.get("type", "Resource"))
        if ntype == "Resource" and known.get("type"):
            ntype = known["type"]
        if ntype == "Resource":  # untyped here (a shared concept seen from one case)
            ntype = next((r for _, _, e in graph.in_edges(n, data=True)
                          if (r := terms.get(str(e.get("predicate")), {}).get("range"))), ntype)
        label = str(d.get("label", n))
        if label == local_name(n) and known.get("label"):
            label = known["label"]
        if ntype == "Concept":
            scheme = next((v for _, v, k in graph.out_edges(n, keys=True) if k == "inScheme"), None)
            if scheme is not None:
                ntype = "scheme:" + local_name(scheme)
                schemes[ntype] = str(graph.nodes[scheme].get("label") or local_name(scheme))
        code = d.get("notation") or next(
            (v for k, v in sorted(d.items()) if k.lower().endswith("code") and v != ""), None
        ) or known.get("notation") or ""
        out[n] = {"type": ntype, "label": _humanise(label), "code": str(code)}
    return out, schemes


def _colours(types: Iterable[str]) -> dict[str, str]:
    """:data:`TYPE_COLOURS` for the main types, the palette's other colours for the rest."""
    used = set(TYPE_COLOURS.values())
    free = [c for c in palette(f"{i:02d}" for i in range(28)).values() if c not in used]
    others = sorted(set(types) - TYPE_COLOURS.keys())
    return {t: free[i % len(free)] for i, t in enumerate(others)} | TYPE_COLOURS


def _year(attrs: Mapping[str, Any]) -> str | None:
    for key in _YEAR_KEYS:
        value = attrs.get(key)
        if value not in (None, ""):
            text = str(value)[:4]
            return text if text.isdigit() else None
    return None


def _is_kind_edge(name: str) -> bool:
    low = name.lower()
    return "kind" in low or low.endswith("servicecategory")


class _Index:
    """Strings to small integers (facet values, concepts), in first-seen order."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        return self.ids.setdefault(value, len(self.ids))

    def values(self) -> list[Any]:
        return list(self.ids)


def viewer_data(
    graph: nx.MultiDiGraph, title: str = "imr-graph", *, detail_limit: int = DETAIL_LIMIT
) -> dict[str, Any]:
    """The JSON the viewer script reads (also handy for tests); see the module docstring.

    ``mode`` is ``detail`` (``nodes`` and ``edges`` are the whole graph) or ``overview``
    (more than ``detail_limit`` nodes: no per-node data, only ``items`` and ``concepts``).
    """
    desc, schemes = _describe(graph)
    outcomes = outcome_nodes(graph)
    terms = ontology_terms()
    type_counts = Counter(v["type"] for v in desc.values())
    colours = _colours(type_counts)
    type_labels: dict[str, str] = {}

    def type_label(t: str) -> str:
        if t not in type_labels:
            type_labels[t] = schemes.get(t) or _type_label(t, terms)
        return type_labels[t]

    provenance = {n for n, v in desc.items() if v["type"] in PROVENANCE_TYPES}
    provenance |= {n for n in graph if n.startswith("_:") and graph.in_degree(n) and
                   all(k in ("rest", "first") for _, _, k in graph.out_edges(n, keys=True))}

    def is_case(n: str) -> bool:
        return desc[n]["type"].endswith("Case") or "Case" in str(graph.nodes[n].get("types", "")).split()

    def is_concept(n: str) -> bool:
        types = set(str(graph.nodes[n].get("types", "")).split()) | {desc[n]["type"]}
        return n not in provenance and n not in outcomes and not is_case(n) and bool(
            types & (HUB_TYPES | {"Concept"}) or desc[n]["type"].endswith(("Category", "Concept"))
            or desc[n]["type"].startswith("scheme:"))

    detail = graph.number_of_nodes() <= detail_limit
    index = {n: i for i, n in enumerate(graph.nodes)}
    facet = {k: _Index() for k in ("outcome", "kind", "family", "year", "system")}
    concepts = _Index()
    items: list[list[Any]] = []
    item_row: dict[str, int] = {}
    case_facets: dict[str, tuple[int, int]] = {}

    def case_row(c: str) -> tuple[int, int]:
        if c not in case_facets:
            year = _year(graph.nodes[c])
            case_facets[c] = (facet["year"](year) if year else -1,
                              facet["system"](type_label(desc[c]["type"])))
        return case_facets[c]

    for n in graph.nodes:
        if n in outcomes:
            continue
        outcome = outcome_of_node(graph, n, outcomes)  # one outcome: an item
        if outcome is None:
            continue
        case = next((v for v in graph.successors(n) if is_case(v)), None) or next(
            (u for u in graph.predecessors(n) if is_case(u)), None)
        year, system = case_row(case) if case else (-1, -1)
        kinds: set[str] = set()
        families: set[str] = set()
        touched: list[str] = []
        for _, v, k in graph.out_edges(n, keys=True):
            if desc[v]["type"] == "GuidelineFamily":
                families.add(desc[v]["label"])
            if _is_kind_edge(k):
                kinds.add(desc[v]["label"])
            if k in _NOT_CONCEPT_EDGES or not is_concept(v):
                continue
            touched.append(v)
            kinds.update(str(value) for key, value in graph.nodes[v].items()
                         if key.lower().endswith("kind") and value != "")
            if desc[v]["type"] == "Medication":
                kinds.add("medication")
            kinds.update(desc[w]["label"] for _, w, kk in graph.out_edges(v, keys=True)
                         if _is_kind_edge(kk))
        if case:
            touched += [v for _, v, k in graph.out_edges(case, keys=True)
                        if k not in _NOT_CONCEPT_EDGES and is_concept(v)]
        item_row[n] = len(items)
        items.append([
            index[n] if detail else -1,
            index[case] if detail and case else -1,
            facet["outcome"](outcome),
            sorted(facet["kind"](k) for k in kinds),
            sorted(facet["family"](f) for f in families),
            year, system,
            sorted({concepts(v) for v in touched}),
        ])

    data: dict[str, Any] = {
        "title": title,
        "mode": "detail" if detail else "overview",
        "types": [
            {"name": t, "label": type_label(t), "colour": colours[t], "count": c,
             "layer": "provenance" if t in PROVENANCE_TYPES else "domain"}
            for t, c in sorted(type_counts.items())
        ],
        "outcomeColours": OUTCOME_COLOURS,
        "facets": {k: v.values() for k, v in facet.items()},
        "items": items,
        "concepts": [[desc[c]["label"], desc[c]["type"], desc[c]["code"], c]
                     for c in concepts.values()],
        "nodes": [],
        "edges": [],
    }
    if not detail:
        return data
    for n, d in graph.nodes(data=True):
        attrs = {k: v for k, v in d.items() if k not in ("label", "type", "iri") and v != ""}
        node: dict[str, Any] = {
            "id": n,
            "label": desc[n]["label"],
            "type": desc[n]["type"],
            "code": desc[n]["code"],
            "layer": "provenance" if n in provenance else "domain",
            "attrs": attrs,
            "outcome": outcome_of_node(graph, n, outcomes),
            "source": source_link(graph, n),
        }
        if n in item_row:
            node["item"] = item_row[n]
        if n in case_facets:
            node["case"] = list(case_facets[n])
        if n in outcomes or is_concept(n):
            node["hub"] = True
        data["nodes"].append(node)
    data["edges"] = [
        {"s": index[u], "t": index[v], "label": str(d.get("label", k)),
         "outcome": outcome_of_edge(graph, u, v, outcomes)}
        for u, v, k, d in graph.edges(keys=True, data=True)
    ]
    return data


def vendored_scripts() -> list[tuple[str, str, str]]:
    """The vendored libraries in load order: (package, version, script text)."""
    manifest = data_file("vendor/MANIFEST.tsv")
    with manifest.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        (r["package"], r["version"], data_file(f"vendor/{r['file']}").read_text(encoding="utf-8"))
        for r in rows
    ]


def _inline_script(text: str) -> str:
    """Script text that cannot end its ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)


def viewer_html(
    graph: nx.MultiDiGraph, title: str = "imr-graph", *, detail_limit: int = DETAIL_LIMIT
) -> str:
    """A complete, self-contained HTML page showing ``graph`` (no external resources)."""
    data = viewer_data(graph, title, detail_limit=detail_limit)
    css = data_file("viewer.css").read_text(encoding="utf-8")
    js = data_file("viewer.js").read_text(encoding="utf-8")
    libs = "\n".join(
        f"<script>/* {name} {version}, MIT licence (see imr_graph/data/vendor/) */\n"
        f"{_inline_script(text)}\n</script>"
        for name, version, text in vendored_scripts()
    )
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
<input id="search" type="search" placeholder="Search labels, codes, IRIs (Enter selects)" aria-label="Search">
<span id="match-count"></span>
<label title="Also ingest activities, source documents, citations, rationale references, mapping records and vocabulary no case uses"><input id="provenance-toggle" type="checkbox"> provenance</label>
<button id="overview" type="button">Overview</button>
<button id="fit" type="button">Fit</button>
</header>
<nav id="filters" aria-label="Filters"></nav>
<ul id="legend" aria-label="Legend: click a type to hide or show it"></ul>
<main>
<div id="cy" role="img" aria-label="graph"></div>
</main>
<aside id="panel"><p class="hint">Click a node to see it and its neighbours; click the background to clear.</p></aside>
<script id="graph-data" type="application/json">{_json_for_script(data)}</script>
{libs}
<script>
{_inline_script(js)}</script>
</body>
</html>
"""
