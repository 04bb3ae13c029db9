"""Export stage: the RDF graph as a ``networkx.MultiDiGraph`` and as files other tools open.

:func:`project` turns RDF statements (pyoxigraph triples or quads: a store, a named graph,
a CONSTRUCT result) into a :class:`networkx.MultiDiGraph`:

* every IRI or blank node that is a subject or the object of a statement becomes a node whose
  id is the IRI (``_:id`` for blank nodes); each node carries ``iri``, ``type`` (the short name
  of its most specific ``rdf:type``, ``Resource`` without one), ``types`` (all short names,
  space separated) and ``label`` (``skos:prefLabel``, else ``rdfs:label``, ``dcterms:title``,
  ``dcterms:identifier``, else the IRI's local name);
* literals become node attributes named after the predicate's local name (``int``, ``float``
  and ``bool`` typed values keep their type; several values are joined with `` | ``); every
  attribute name has a single value type across the graph, so GraphML and GEXF stay valid;
* every other statement becomes an edge keyed by the predicate's short name, with attributes
  ``label`` (short name) and ``predicate`` (the full IRI). ``rdf:type`` is an attribute, not
  an edge.

Subgraph selection (:func:`select`) works on an open ``pyoxigraph.Store``: the whole graph, one
case's named graph, the neighbourhood of a service or a guideline section, or any CONSTRUCT
query. :func:`check_size` is the guard that refuses graphs too large to draw. The writers
(:func:`render`) produce GraphML, GEXF, node-link JSON, Cytoscape.js elements JSON and Graphviz
DOT; the HTML viewer lives in :mod:`imr_graph.views.viewer` (which imports this module, never the
other way round).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import pyoxigraph as ox

from ..errors import UsageError
from ..graph.mapping import IMR, span_offsets

if TYPE_CHECKING:
    from ..graph.store import GraphStore

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Namespaces whose terms are "standard": a node typed both ``prov:Entity`` and ``imr:Case``
#: shows as ``Case``.
STANDARD_NAMESPACES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": XSD,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "http://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
}

#: Label predicates, best first.
LABEL_PREDICATES: tuple[str, ...] = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://purl.org/dc/terms/title",
    "http://purl.org/dc/terms/identifier",
)

#: Node attribute names the projection sets itself (a predicate with such a local name is
#: stored under ``<prefix>_<name>``). Also avoids GEXF's reserved names.
RESERVED_NODE_ATTRS = frozenset(
    {"id", "iri", "type", "types", "label", "start", "end", "viz", "pid", "spells"}
)

#: Formats :func:`render` writes, and the default ``--max-nodes`` for each (0: no limit).
#: DOT, drawn node by node, gets a small limit; data formats a large one; the HTML viewer
#: none, since it aggregates a large graph instead of drawing every node
#: (:data:`imr_graph.views.viewer.DETAIL_LIMIT`).
FORMATS: dict[str, int] = {
    "graphml": 250_000,
    "gexf": 250_000,
    "json": 250_000,
    "cytoscape": 20_000,
    "dot": 3_000,
    "html": 0,
}

_INT_TYPES = {
    XSD + t
    for t in (
        "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
        "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
        "unsignedShort", "unsignedByte",
    )
}
_FLOAT_TYPES = {XSD + "decimal", XSD + "double", XSD + "float"}
_BOOL_TYPE = XSD + "boolean"

Statement = ox.Triple | ox.Quad
Term = ox.NamedNode | ox.BlankNode | ox.Literal


def split_iri(iri: str) -> tuple[str, str]:
    """Split an IRI into (namespace, local name) at the last ``#``, ``/`` or ``:``."""
    for sep in ("#", "/", ":"):
        idx = iri.rfind(sep)
        if 0 <= idx < len(iri) - 1:
            return iri[: idx + 1], iri[idx + 1 :]
    return "", iri


def local_name(iri: str) -> str:
    """The local name of an IRI (``http://x/ns#Case`` -> ``Case``)."""
    return split_iri(iri)[1]


def node_id(term: ox.NamedNode | ox.BlankNode) -> str:
    """The networkx node id of a resource: its IRI, or ``_:id`` for a blank node."""
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def literal_value(lit: ox.Literal) -> str | int | float | bool:
    """A Python value for a literal: int/float/bool for numeric and boolean XSD types."""
    dt = lit.datatype.value if lit.datatype is not None else ""
    text = lit.value
    try:
        if dt in _INT_TYPES:
            return int(text)
        if dt in _FLOAT_TYPES:
            return float(text)
        if dt == _BOOL_TYPE:
            return text.strip() in ("true", "1")
    except ValueError:
        pass
    return text


def _statements(source: Any) -> Iterator[Statement]:
    if isinstance(source, ox.Store):
        yield from source.quads_for_pattern(None, None, None, None)
    else:
        yield from source


class _Names:
    """Short, unique attribute/edge names for predicate IRIs."""

    def __init__(self, iris: Iterable[str], reserved: frozenset[str]) -> None:
        by_local: dict[str, set[str]] = defaultdict(set)
        for iri in iris:
            by_local[local_name(iri)].add(iri)
        prefix_of = {ns: p for p, ns in STANDARD_NAMESPACES.items()}
        self.names: dict[str, str] = {}
        for local, group in by_local.items():
            for iri in sorted(group):
                if len(group) == 1 and local not in reserved:
                    self.names[iri] = local
                else:
                    ns = split_iri(iri)[0]
                    prefix = prefix_of.get(ns) or re.sub(r"\W+", "_", ns.rstrip("#/:")).strip("_")
                    prefix = prefix.rsplit("_", 1)[-1] or "ns"
                    self.names[iri] = f"{prefix}_{local}"
        # Different namespaces with the same last path segment: make names unique.
        seen: dict[str, str] = {}
        for iri in sorted(self.names):
            name = self.names[iri]
            n = 2
            while name in seen and seen[name] != iri:
                name = f"{self.names[iri]}_{n}"
                n += 1
            seen[name] = iri
            self.names[iri] = name

    def __getitem__(self, iri: str) -> str:
        return self.names[iri]


def _pick_type(types: set[str]) -> str:
    if not types:
        return "Resource"
    standard = tuple(STANDARD_NAMESPACES.values())
    own = sorted(t for t in types if not t.startswith(standard))
    chosen = own[0] if own else sorted(types)[0]
    return local_name(chosen)


#: Types of ontology/shape terms. Nodes with one of these types are left out of the
#: projection (``skip_schema``): the export is about the data, not the vocabulary's classes.
SCHEMA_TYPES = frozenset(
    {
        "http://www.w3.org/2002/07/owl#Class",
        "http://www.w3.org/2002/07/owl#ObjectProperty",
        "http://www.w3.org/2002/07/owl#DatatypeProperty",
        "http://www.w3.org/2002/07/owl#AnnotationProperty",
        "http://www.w3.org/2002/07/owl#FunctionalProperty",
        "http://www.w3.org/2002/07/owl#Ontology",
        "http://www.w3.org/2002/07/owl#Restriction",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property",
        "http://www.w3.org/2000/01/rdf-schema#Class",
        "http://www.w3.org/ns/shacl#NodeShape",
        "http://www.w3.org/ns/shacl#PropertyShape",
    }
)


def project(
    source: Any, *, fold_spans: bool = True, skip_schema: bool = True
) -> nx.MultiDiGraph:
    """Project RDF statements onto a ``networkx.MultiDiGraph`` (see the module docstring).

    ``source`` is a ``pyoxigraph.Store`` (all its graphs) or any iterable of pyoxigraph
    ``Triple``/``Quad`` objects (``store.quads_for_pattern(...)``, a CONSTRUCT result).
    Statements repeated in several named graphs give one edge.

    With ``fold_spans`` (the default), text spans (``<source#char=start,end>``, see
    :func:`imr_graph.graph.mapping.span_iri`) are not drawn as nodes: their owner gets attributes
    instead, e.g. ``textSpan`` (the span's ``imr:quote``, when it has one), ``textSpan_start``
    and ``textSpan_end`` for an ``imr:textSpan`` link.

    With ``skip_schema`` (the default), ontology and shape terms (:data:`SCHEMA_TYPES`:
    classes, properties, the ontology header, SHACL shapes) are left out.
    """
    types: dict[str, set[str]] = defaultdict(set)
    literals: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    edges: set[tuple[str, str, str]] = set()
    order: set[str] = set()
    predicates: set[str] = set()
    edge_predicates: set[str] = set()
    for st in _statements(source):
        s, p, o = st.subject, st.predicate, st.object
        if not isinstance(s, ox.NamedNode | ox.BlankNode):
            continue  # RDF-star quoted triples are not drawn
        sid = node_id(s)
        order.add(sid)
        piri = p.value
        if isinstance(o, ox.Literal):
            predicates.add(piri)
            literals[sid][piri].append(o)
        elif isinstance(o, ox.NamedNode | ox.BlankNode):
            if piri == RDF_TYPE:
                types[sid].add(o.value)
                continue
            oid = node_id(o)
            order.add(oid)
            edge_predicates.add(piri)
            edges.add((sid, piri, oid))
    if skip_schema:
        schema = {n for n, ts in types.items() if ts & SCHEMA_TYPES}
        if schema:
            order -= schema
            edges = {e for e in edges if e[0] not in schema and e[2] not in schema}
    folded: dict[str, dict[str, Any]] = {}
    if fold_spans:
        folded, dropped = _fold_spans(types, literals, edges)
        order -= dropped
        edges = {e for e in edges if e[0] not in dropped and e[2] not in dropped}
    predicates = {p for n in order for p in literals.get(n, {})}
    edge_predicates = {e[1] for e in edges}
    attr_names = _Names(predicates, RESERVED_NODE_ATTRS)
    edge_names = _Names(edge_predicates, frozenset())
    graph = nx.MultiDiGraph()
    for nid in sorted(order):
        data: dict[str, Any] = {
            "iri": nid,
            "type": _pick_type(types.get(nid, set())),
            "types": " ".join(sorted(local_name(t) for t in types.get(nid, set()))),
        }
        lits = literals.get(nid, {})
        data["label"] = _label(nid, lits)
        for piri, values in sorted(lits.items()):
            data[attr_names[piri]] = _combine(values)
        for key, value in folded.get(nid, {}).items():
            data.setdefault(key, value)
        graph.add_node(nid, **data)
    for sid, piri, oid in sorted(edges):
        name = edge_names[piri]
        graph.add_edge(sid, oid, key=name, label=name, predicate=piri)
    _harmonise_types(graph)
    return graph


_QUOTE = IMR + "quote"


def _fold_spans(
    types: Mapping[str, set[str]],
    literals: Mapping[str, Mapping[str, list[ox.Literal]]],
    edges: set[tuple[str, str, str]],
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Attributes for span owners and the span nodes to drop (see :func:`project`)."""
    spans = {o: v for _, _, o in edges if not types.get(o) and (v := span_offsets(o))}
    folded: dict[str, dict[str, Any]] = defaultdict(dict)
    for s, p, o in edges:
        if o in spans and s not in spans:
            name = local_name(p)
            quote = literals.get(o, {}).get(_QUOTE)
            if quote:
                folded[s][name] = quote[0].value
            folded[s][f"{name}_start"], folded[s][f"{name}_end"] = spans[o][1:]
    return dict(folded), set(spans)


def _label(nid: str, lits: Mapping[str, list[ox.Literal]]) -> str:
    for piri in LABEL_PREDICATES:
        values = lits.get(piri)
        if values:
            english = [v for v in values if (v.language or "en").startswith("en")]
            return sorted(v.value for v in (english or values))[0]
    if nid.startswith("_:"):
        return nid
    name = local_name(nid)
    if name.isdigit():  # .../citation/1 -> citation/1
        parent = local_name(nid[: -len(name) - 1])
        return f"{parent}/{name}" if parent else name
    return name


def _combine(values: list[ox.Literal]) -> Any:
    converted = sorted({literal_value(v) for v in values}, key=lambda v: (str(type(v)), str(v)))
    if len(converted) == 1:
        return converted[0]
    return " | ".join(str(v) for v in converted)


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    return type(value)


def _harmonise_types(graph: nx.MultiDiGraph) -> None:
    """Give each node attribute one value type (mixed int/float -> float, else -> str)."""
    kinds: dict[str, set[type]] = defaultdict(set)
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            kinds[key].add(_kind(value))
    for key, ks in kinds.items():
        if len(ks) <= 1:
            continue
        target: type = float if ks <= {int, float} else str
        for _, data in graph.nodes(data=True):
            if key in data:
                value = data[key]
                if target is str and isinstance(value, bool):
                    data[key] = "true" if value else "false"
                else:
                    data[key] = target(value)


# ---------------------------------------------------------------------------------------------
# Subgraph selection


@dataclass(frozen=True)
class Selection:
    """What part of the store to export (at most one of case/service/section/query)."""

    case: str | None = None
    service: str | None = None
    section: str | None = None
    query: str | None = None
    params: Mapping[str, str] | None = None
    hops: int | None = None
    system: str | None = None
    """Only the cases of this system (``dwc`` letters or ``dmhc`` health-plan data) with the
    shared concepts and vocabularies; None: every case."""

    @property
    def radius(self) -> int:
        """``hops``, else the default: 2 around a service (its items and their cases and
        outcomes), 4 around a section (citations, bases, items, their cases and services)."""
        if self.hops is not None:
            return self.hops
        return 4 if self.section else 2

    def describe(self) -> str:
        """A short human description, e.g. ``service 'Norco' (2 hops)``."""
        if self.case:
            return f"case {self.case}"
        if self.service:
            return f"service {self.service!r} ({self.radius} hops)"
        if self.section:
            return f"guideline section {self.section!r} ({self.radius} hops)"
        if self.query:
            return "CONSTRUCT query"
        return f"whole graph ({self.system} cases)" if self.system else "whole graph"


#: Node types that a neighbourhood includes but never expands through: shared concepts and
#: vocabulary (an outcome, a state, a specialty, a service, a section) would otherwise pull in
#: every case within a few hops. ``Resource`` (untyped) nodes are treated the same way.
HUB_TYPES = frozenset(
    {
        "Concept", "NamedIndividual", "Outcome", "State", "Specialty", "GuidelineFamily",
        "GuidelineDocument", "GuidelineSection", "Service", "Diagnosis", "Medication", "Sex",
        "Resource", "Class",
    }
)


def neighbourhood(
    graph: nx.MultiDiGraph, seeds: Iterable[str], hops: int, hubs: frozenset[str] = HUB_TYPES
) -> nx.MultiDiGraph:
    """The nodes within ``hops`` edges of ``seeds`` (either direction), as a new graph.

    Nodes whose ``type`` is in ``hubs`` are included when reached but not expanded, unless
    they are seeds themselves.
    """
    if hops < 0:
        raise UsageError(f"--hops must be 0 or more, got {hops}")
    seeds = set(seeds)
    seen = set(seeds)
    frontier = set(seen)
    for _ in range(hops):
        nxt: set[str] = set()
        for n in frontier:
            if n not in seeds and _is_hub(graph.nodes[n], hubs):
                continue
            nxt.update(graph.successors(n))
            nxt.update(graph.predecessors(n))
        nxt -= seen
        seen |= nxt
        frontier = nxt
    return graph.subgraph(seen).copy()


def _is_hub(data: Mapping[str, Any], hubs: frozenset[str]) -> bool:
    types = str(data.get("types") or "").split() or [str(data.get("type", "Resource"))]
    return bool(hubs.intersection(types))


def find_nodes(graph: nx.MultiDiGraph, label: str, type_hints: Iterable[str]) -> list[str]:
    """Nodes whose label matches ``label`` (ignoring case and spacing; exact, else substring).

    Only nodes with one of ``type_hints`` among their types are returned; the first hint with
    any hit wins (``("Service", "Medication")``: services before medications).
    """
    wanted = " ".join(label.split()).casefold()

    def types_of(n: str) -> list[str]:
        return str(graph.nodes[n].get("types") or graph.nodes[n].get("type", "")).split()

    def label_of(n: str) -> str:
        return " ".join(str(graph.nodes[n].get("label", "")).split()).casefold()

    for hint in type_hints:
        typed = [n for n in graph.nodes if hint in types_of(n)]
        for match in (lambda n: label_of(n) == wanted, lambda n: wanted in label_of(n)):
            hits = sorted(n for n in typed if match(n))
            if hits:
                return hits
    return []


def select(store: GraphStore, selection: Selection, *, fold_spans: bool = True) -> nx.MultiDiGraph:
    """The part of ``store`` described by ``selection``, projected (see :func:`project`).

    * ``case``: that case's named graph (case key, case IRI or graph IRI);
    * ``service`` / ``section``: the :func:`neighbourhood` (``hops``) of the services or
      guideline sections whose label matches (exactly, else as a substring, ignoring case);
    * ``query``: a CONSTRUCT or DESCRIBE query (canned name, ``.rq`` path or text) run by
      :mod:`imr_graph.graph.queries` with ``params``;
    * nothing: every graph (cases and vocabulary).

    ``system`` (``dwc`` or ``dmhc``) keeps to that system's cases (with the shared concepts
    and vocabularies) for the whole graph and the neighbourhoods.

    Raises :class:`~imr_graph.errors.UsageError` for conflicting choices, a label that
    matches nothing, or a query that does not return a graph.
    """
    chosen = [x for x in (selection.case, selection.service, selection.section, selection.query) if x]
    if len(chosen) > 1:
        raise UsageError("choose at most one of --case, --service, --section, --query")
    if selection.query:
        from ..graph.queries import resolve_query, run_query

        result = run_query(store, resolve_query(selection.query), dict(selection.params or {}))
        if not isinstance(result, ox.QueryTriples):
            raise UsageError("--query must be a CONSTRUCT or DESCRIBE query (it returns a graph)")
        return project(result, fold_spans=fold_spans)
    if selection.case:
        graph_iri = store.resolve_graph(selection.case)
        return project(store.iter_quads(graph_iri), fold_spans=fold_spans)
    if selection.system:
        graphs = [*store.system_graphs(selection.system), store.concepts_graph,
                  store.vocabulary_graph]
        quads: Iterable[ox.Quad] = itertools.chain.from_iterable(
            store.iter_quads(g) for g in graphs)
    else:
        quads = store.iter_quads()
    graph = project(quads, fold_spans=fold_spans)
    if selection.service:
        seeds = find_nodes(graph, selection.service, ("Service", "Medication"))
        if not seeds:  # a request as a letter words it: its service concept
            from ..graph.mapping import normalise_label
            from ..letters.services import read_service

            concept = normalise_label(read_service(selection.service).label)
            seeds = find_nodes(graph, concept, ("Service",))
        what, label = "service", selection.service
    elif selection.section:
        seeds = find_nodes(graph, selection.section, ("GuidelineSection",))
        what, label = "guideline section", selection.section
    else:
        return graph
    if not seeds:
        raise UsageError(
            f"no {what} labelled {label!r} in the store "
            f"(labels are matched ignoring case, exactly or as a substring)"
        )
    return neighbourhood(graph, seeds, selection.radius)


def check_size(graph: nx.MultiDiGraph, max_nodes: int, fmt: str, what: str) -> None:
    """Refuse a graph with more than ``max_nodes`` nodes (0 = no limit), saying how to narrow."""
    n = graph.number_of_nodes()
    if max_nodes and n > max_nodes:
        raise UsageError(
            f"{what} has {n} nodes, over the --max-nodes limit of {max_nodes} for {fmt}; "
            "narrow it with --case, --service, --section (fewer --hops) or --query, "
            "or raise the limit with --max-nodes"
        )


# ---------------------------------------------------------------------------------------------
# Writers


def palette(types: Iterable[str]) -> dict[str, str]:
    """A stable colour for each node type (sorted by name; cycles after 28 types)."""
    colours = [
        "#4e79a7", "#f28e2b", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac",
        "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#aec7e8", "#ffbb78",
        "#1b3a6b", "#c5b0d5", "#ff9da7", "#59a14f", "#f1ce63", "#86bcb6", "#d37295",
        "#a0cbe8", "#8cd17d", "#b6992d", "#499894", "#e15759", "#79706e", "#d4a6c8",
    ]
    return {t: colours[i % len(colours)] for i, t in enumerate(sorted(set(types)))}


#: Colours of the two outcomes (edges into an outcome, and edges of an item with an outcome).
OUTCOME_COLOURS = {"Upheld": "#d62728", "Overturned": "#2ca02c"}


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """GraphML text (opens in Gephi, Cytoscape Desktop, yEd)."""
    return "\n".join(nx.generate_graphml(graph, encoding="utf-8", prettyprint=True)) + "\n"


def to_gexf(graph: nx.MultiDiGraph) -> str:
    """GEXF 1.2 text (Gephi's own format)."""
    return "\n".join(nx.generate_gexf(graph, encoding="utf-8", prettyprint=True)) + "\n"


def to_node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """networkx node-link data (``nx.node_link_graph(data, edges="links")`` reads it back)."""
    return nx.node_link_data(graph, edges="links")


def to_cytoscape(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Cytoscape.js elements JSON: ``{"elements": {"nodes": [...], "edges": [...]}}``.

    Every element has a ``data`` object; nodes carry their attributes plus ``id``; edges carry
    ``id`` (``e0``, ``e1``, ...), ``source``, ``target``, ``label`` and ``predicate``.
    Cytoscape Desktop imports it as ``.cyjs``.
    """
    nodes = [{"data": {**data, "id": n}} for n, data in graph.nodes(data=True)]
    edges = [
        {"data": {**data, "id": f"e{i}", "source": u, "target": v, "key": k}}
        for i, (u, v, k, data) in enumerate(graph.edges(keys=True, data=True))
    ]
    return {
        "format_version": "1.0",
        "generated_by": "imr-graph",
        "data": {"name": "imr-graph"},
        "elements": {"nodes": nodes, "edges": edges},
    }


def _dot_quote(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r", "").replace("\n", "\\n")
    return f'"{text}"'


def _dot_label(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def to_dot(graph: nx.MultiDiGraph) -> str:
    """Graphviz DOT text: nodes filled by type, outcome edges coloured (``dot -Tsvg``)."""
    colours = palette(d.get("type", "Resource") for _, d in graph.nodes(data=True))
    outcomes = outcome_nodes(graph)
    out = io.StringIO()
    out.write('digraph "imr-graph" {\n')
    out.write("  graph [overlap=false, splines=true, rankdir=LR];\n")
    out.write('  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];\n')
    out.write('  edge [fontname="Helvetica", fontsize=8, color="#888888"];\n')
    for n, data in graph.nodes(data=True):
        t = data.get("type", "Resource")
        out.write(
            f"  {_dot_quote(n)} [label={_dot_quote(_dot_label(str(data.get('label', n))))}, "
            f"fillcolor={_dot_quote(colours[t])}, tooltip={_dot_quote(t + ': ' + n)}];\n"
        )
    for u, v, data in graph.edges(data=True):
        attrs = f"label={_dot_quote(data.get('label', ''))}"
        outcome = outcome_of_edge(graph, u, v, outcomes)
        if outcome:
            attrs += f", color={_dot_quote(OUTCOME_COLOURS[outcome])}, penwidth=2"
        out.write(f"  {_dot_quote(u)} -> {_dot_quote(v)} [{attrs}];\n")
    out.write("}\n")
    return out.getvalue()


def outcome_nodes(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Outcome nodes (``Upheld``/``Overturned``): typed ``Outcome`` or the target of an
    ``outcome`` edge, labelled with an outcome name. Maps node id -> outcome name."""
    found: dict[str, str] = {}
    for n, data in graph.nodes(data=True):
        label = str(data.get("label", ""))
        if label in OUTCOME_COLOURS and data.get("type") == "Outcome":
            found[n] = label
    for _, v, k in graph.edges(keys=True):
        label = str(graph.nodes[v].get("label", ""))
        if label in OUTCOME_COLOURS and local_name(str(k)).lower() == "outcome":
            found[v] = label
    return found


def outcome_of_node(
    graph: nx.MultiDiGraph, n: str, outcomes: Mapping[str, str] | None = None
) -> str | None:
    """``Upheld``/``Overturned`` when ``n`` is an outcome node or links to exactly one."""
    outcomes = outcome_nodes(graph) if outcomes is None else outcomes
    if n in outcomes:
        return outcomes[n]
    found = {outcomes[v] for v in graph.successors(n) if v in outcomes}
    return found.pop() if len(found) == 1 else None


def outcome_of_edge(
    graph: nx.MultiDiGraph, u: str, v: str, outcomes: Mapping[str, str] | None = None
) -> str | None:
    """The outcome an edge is coloured with: its target is an outcome, or it leaves an item
    that has one (the item -> service edge shows how that request was decided)."""
    outcomes = outcome_nodes(graph) if outcomes is None else outcomes
    if v in outcomes:
        return outcomes[v]
    if u in outcomes:
        return None
    return outcome_of_node(graph, u, outcomes)


def render(graph: nx.MultiDiGraph, fmt: str) -> str:
    """The text of ``graph`` in ``fmt`` (one of :data:`FORMATS` but ``html``: the viewer page
    is :func:`imr_graph.views.viewer.viewer_html`, which builds on this module)."""
    if fmt == "graphml":
        return to_graphml(graph)
    if fmt == "gexf":
        return to_gexf(graph)
    if fmt == "json":
        return json.dumps(to_node_link(graph), indent=1, ensure_ascii=False) + "\n"
    if fmt == "cytoscape":
        return json.dumps(to_cytoscape(graph), indent=1, ensure_ascii=False) + "\n"
    if fmt == "dot":
        return to_dot(graph)
    if fmt == "html":
        raise UsageError("html is written by imr_graph.views.viewer.viewer_html, not render()")
    raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
