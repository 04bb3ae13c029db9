"""The networkx projection, subgraph selection, the size guard and the file writers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest

from imr_graph.errors import NotFoundError, UsageError
from imr_graph.graph.mapping import item_iri, record_to_quads
from imr_graph.letters.parsing import parse_document
from imr_graph.letters.reading import read_document
from imr_graph.views.export import (
    Selection,
    check_size,
    find_nodes,
    neighbourhood,
    outcome_nodes,
    outcome_of_edge,
    project,
    render,
    select,
    to_cytoscape,
    to_dot,
)

from .conftest import example_letters
from .export_fixtures import (
    CASE_A_GRAPH,
    IMR,
    RES,
    example_records,
    examples_store,
    make_store,
)

NORCO = RES + "service/norco"
CASE_A = RES + "case/CM16-0000001"
ITEM_A1 = RES + "case/CM16-0000001/item/1"


@pytest.fixture
def fixture_graph() -> nx.MultiDiGraph:
    return project(make_store())


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    examples_store(path).close()
    return path


def example_graph(**kwargs: bool) -> nx.MultiDiGraph:
    quads: list[ox.Quad] = []
    for letter in example_letters():
        doc = read_document(letter)
        quads.extend(record_to_quads(parse_document(doc), doc.text))
    return project(quads, **kwargs)


# --- projection ---------------------------------------------------------------------------


def test_resources_are_nodes_literals_are_attributes(fixture_graph: nx.MultiDiGraph) -> None:
    g = fixture_graph
    # 2 cases, 3 items, 2 services, 1 category, 1 section, 2 outcomes, 1 source entity
    assert g.number_of_nodes() == 12
    assert not any(str(n).startswith('"') for n in g.nodes)
    case = g.nodes[CASE_A]
    assert case["type"] == "Case"  # imr:Case preferred over prov:Entity
    assert case["types"] == "Case Entity"
    assert case["label"] == "CM16-0000001"  # dcterms:identifier
    assert case["workerAge"] == 58 and isinstance(case["workerAge"], int)
    assert case["decisionDate"] == "2016-03-01"
    assert g.nodes[ITEM_A1]["label"] == "Norco 10/325mg #90"  # rdfs:label
    assert g.nodes[NORCO]["label"] == "Norco"  # skos:prefLabel
    assert g.nodes[RES + "case/CM16-0000001/item/2"]["partial"] is True


def test_predicates_are_edge_labels_and_type_is_not_an_edge(
    fixture_graph: nx.MultiDiGraph,
) -> None:
    g = fixture_graph
    assert g.has_edge(ITEM_A1, NORCO, key="service")
    data = g.get_edge_data(ITEM_A1, NORCO, key="service")
    assert data == {"label": "service", "predicate": IMR + "service"}
    assert all(d["label"] != "type" for _, _, d in g.edges(data=True))
    # 2 + 1 case->item, 3 item->service, 3 item->outcome, 2 reviewerCites, 1 category,
    # 1 wasDerivedFrom
    assert g.number_of_edges() == 13


def test_statements_in_several_graphs_give_one_edge(fixture_graph: nx.MultiDiGraph) -> None:
    # norco -> category is stated in both case graphs
    assert fixture_graph.number_of_edges(NORCO, RES + "category/medication") == 1


def test_attribute_names_unique_and_reserved_names_prefixed() -> None:
    ttl = b"""
    @prefix a: <http://a.example/ns#> . @prefix b: <http://b.example/ns#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <http://x/n> a:name "one" ; b:name "two" ; a:type "t" ; rdfs:label "L" ; a:id "i" .
    """
    g = project(ox.parse(ttl, ox.RdfFormat.TURTLE))
    data = g.nodes["http://x/n"]
    assert data["label"] == "L" and data["rdfs_label"] == "L"
    assert {data["ns_name"], data["ns_name_2"]} == {"one", "two"}
    assert data["ns_type"] == "t" and data["type"] == "Resource"
    assert data["ns_id"] == "i"


def test_mixed_value_types_are_harmonised() -> None:
    ttl = b"""
    @prefix e: <http://e.example/#> .
    <http://x/a> e:v 3 ; e:w 1 . <http://x/b> e:v "three" ; e:w 2.5 .
    <http://x/c> e:many "x", "y" .
    """
    g = project(ox.parse(ttl, ox.RdfFormat.TURTLE))
    assert g.nodes["http://x/a"]["v"] == "3" and g.nodes["http://x/b"]["v"] == "three"
    assert g.nodes["http://x/a"]["w"] == 1.0 and isinstance(g.nodes["http://x/a"]["w"], float)
    assert g.nodes["http://x/c"]["many"] == "x | y"


def test_blank_nodes_and_fallback_labels() -> None:
    ttl = b"""<http://x/case/1/citation/3> <http://x/p> [ <http://x/q> "v" ] ."""
    g = project(ox.parse(ttl, ox.RdfFormat.TURTLE))
    assert g.nodes["http://x/case/1/citation/3"]["label"] == "citation/3"
    blank = [n for n in g.nodes if n.startswith("_:")]
    assert len(blank) == 1 and g.nodes[blank[0]]["q"] == "v"


def test_schema_terms_are_left_out() -> None:
    ttl = b"""
    @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix e: <http://e.example/#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    e:Thing a owl:Class ; rdfs:subClassOf e:Other . e:p a owl:ObjectProperty ; rdfs:domain e:Thing .
    e:x a e:Thing ; e:p e:y .
    """
    g = project(ox.parse(ttl, ox.RdfFormat.TURTLE))
    assert set(g.nodes) == {"http://e.example/#x", "http://e.example/#y", "http://e.example/#Other"}
    assert set(project(ox.parse(ttl, ox.RdfFormat.TURTLE), skip_schema=False).nodes) >= {
        "http://e.example/#Thing", "http://e.example/#p"}


def test_text_spans_fold_into_their_owner() -> None:
    letter = example_letters()[0]
    doc = read_document(letter)
    record = example_records()[0]
    item = record.items[0]
    g = example_graph()
    kept = example_graph(fold_spans=False)
    assert not any("#char=" in n for n in g.nodes)
    spans = [n for n in kept.nodes if "#char=" in n]
    assert spans and any(kept.nodes[n].get("quote") for n in spans)
    data = g.nodes[item_iri(record.case_key, item.index).value]
    assert item.span is not None
    assert data["textSpan"] == doc.text[item.span[0]:item.span[1]]
    assert (data["textSpan_start"], data["textSpan_end"]) == tuple(item.span)
    assert g.number_of_nodes() < kept.number_of_nodes()


def test_outcomes_colour_item_edges() -> None:
    g = example_graph()
    outcomes = outcome_nodes(g)
    assert sorted(set(outcomes.values())) == sorted({i.outcome for r in example_records() for i in r.items})
    items = [n for n, d in g.nodes(data=True) if d["type"] == "DisputedItem"]
    for item in items:
        for _, v in g.out_edges(item):
            assert outcome_of_edge(g, item, v, outcomes) in ("Upheld", "Overturned")


# --- selection ----------------------------------------------------------------------------


def test_neighbourhood_stops_at_hubs(fixture_graph: nx.MultiDiGraph) -> None:
    sub = neighbourhood(fixture_graph, [NORCO], 2)
    # norco -> its 2 items, category (hop 1); items -> cases, outcomes, section (hop 2)
    assert ITEM_A1 in sub and CASE_A in sub and IMR + "Upheld" in sub
    # physical therapy is reached only through the Overturned outcome hub or case A (hop 3)
    assert RES + "service/physical-therapy" not in sub
    assert RES + "case/CM16-0000001/item/2" not in sub  # behind hub Overturned / hop 3
    assert set(neighbourhood(fixture_graph, [NORCO], 0).nodes) == {NORCO}
    with pytest.raises(UsageError):
        neighbourhood(fixture_graph, [NORCO], -1)


def test_find_nodes_prefers_first_type_and_exact_label(fixture_graph: nx.MultiDiGraph) -> None:
    assert find_nodes(fixture_graph, "norco", ("Service",)) == [NORCO]
    assert find_nodes(fixture_graph, "  NORCO ", ("DisputedItem",)) == sorted(
        [ITEM_A1, RES + "case/CM17-0000002/item/1"])
    assert find_nodes(fixture_graph, "opioids", ("GuidelineSection",)) == [
        RES + "section/mtus-opioids"]
    assert find_nodes(fixture_graph, "zzz", ("Service",)) == []


def test_select_from_store(store_path: Path) -> None:
    from imr_graph.graph.store import GraphStore

    records = example_records()
    with GraphStore(store_path, read_only=True) as gs:
        whole = select(gs, Selection())
        case = select(gs, Selection(case=records[0].case_key))
        service = select(gs, Selection(service=records[1].items[0].request))
        section = select(gs, Selection(section="intrathecal"))
        query = select(gs, Selection(query="CONSTRUCT { ?i imr:outcome ?o } WHERE { ?i imr:outcome ?o }"))
        cases = [n for n, d in whole.nodes(data=True) if d["type"] == "WorkersCompCase"]
        assert len(cases) == 2
        assert [n for n, d in case.nodes(data=True) if d["type"] == "WorkersCompCase"] == [
            n for n in cases if n.endswith(records[0].case_key)]
        assert case.number_of_nodes() < whole.number_of_nodes()
        assert any(d["type"] == "DisputedItem" for _, d in service.nodes(data=True))
        assert any(d["type"] == "GuidelineSection" for _, d in section.nodes(data=True))
        items = sum(len(r.items) for r in records)
        assert query.number_of_edges() == items
        with pytest.raises(UsageError, match="at most one"):
            select(gs, Selection(case="x", service="y"))
        with pytest.raises(UsageError, match="no service labelled"):
            select(gs, Selection(service="no such thing at all"))
        with pytest.raises(UsageError, match="CONSTRUCT"):
            select(gs, Selection(query="SELECT * WHERE { ?s ?p ?o }"))
        with pytest.raises(NotFoundError):
            select(gs, Selection(case="CM99-0000000"))


def test_size_guard_names_limit_and_how_to_narrow(fixture_graph: nx.MultiDiGraph) -> None:
    check_size(fixture_graph, 12, "html", "whole graph")
    check_size(fixture_graph, 0, "html", "whole graph")
    with pytest.raises(UsageError) as info:
        check_size(fixture_graph, 5, "html", "whole graph")
    message = str(info.value)
    assert "12 nodes" in message and "--max-nodes limit of 5" in message
    assert "--case" in message and "--service" in message and "--query" in message
    assert info.value.exit_code == 2


# --- writers and round trips --------------------------------------------------------------


def _attrs_equal(a: dict, b: dict, ignore: tuple[str, ...] = ()) -> bool:
    return {k: v for k, v in a.items() if k not in ignore} == {
        k: v for k, v in b.items() if k not in ignore}


@pytest.mark.parametrize("which", ["fixture", "examples"])
@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_round_trip(tmp_path: Path, fmt: str, which: str) -> None:
    g = project(make_store()) if which == "fixture" else example_graph()
    path = tmp_path / f"g.{fmt}"
    path.write_text(render(g, fmt), encoding="utf-8")
    if fmt == "graphml":
        back = nx.read_graphml(path, force_multigraph=True)
    elif fmt == "gexf":
        back = nx.read_gexf(path)
        if not back.is_multigraph():  # no parallel edges: a DiGraph; the key is the label
            multi = nx.MultiDiGraph()
            multi.add_nodes_from(back.nodes(data=True))
            for u, v, d in back.edges(data=True):
                d = dict(d)
                multi.add_edge(u, v, key=d.pop("networkx_key", d.get("label")), **d)
            back = multi
    else:
        back = nx.node_link_graph(json.loads(path.read_text()), edges="links")
    assert isinstance(back, nx.MultiDiGraph)
    assert back.number_of_nodes() == g.number_of_nodes()
    assert back.number_of_edges() == g.number_of_edges()
    for n, data in g.nodes(data=True):
        assert _attrs_equal(back.nodes[n], data), n
    for u, v, k, data in g.edges(keys=True, data=True):
        # GEXF adds an edge "id"
        assert _attrs_equal(back.get_edge_data(u, v, key=k), data, ignore=("id",)), (u, v, k)


def test_graphml_attribute_types_are_valid() -> None:
    text = render(example_graph(), "graphml")
    keys = re.findall(r'<key id="[^"]+" for="(\w+)" attr\.name="([^"]+)" attr\.type="(\w+)"', text)
    assert keys
    assert {t for _, _, t in keys} <= {"string", "int", "long", "double", "boolean", "float"}
    names = [(scope, name) for scope, name, _ in keys]
    assert len(names) == len(set(names)), "one type per attribute name"


def test_cytoscape_elements(fixture_graph: nx.MultiDiGraph) -> None:
    data = to_cytoscape(fixture_graph)
    nodes, edges = data["elements"]["nodes"], data["elements"]["edges"]
    assert len(nodes) == fixture_graph.number_of_nodes()
    assert len(edges) == fixture_graph.number_of_edges()
    ids = {n["data"]["id"] for n in nodes}
    assert len({e["data"]["id"] for e in edges}) == len(edges)
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in edges)
    assert {"label", "type"} <= set(nodes[0]["data"])
    json.dumps(data)


def test_dot_quotes_and_colours() -> None:
    g = nx.MultiDiGraph()
    g.add_node('a"b', label='say "hi"\\ now\nnext', type="Case")
    g.add_node("o", label="Overturned", type="Outcome")
    g.add_edge('a"b', "o", key="outcome", label="outcome")
    text = to_dot(g)
    assert '"a\\"b" [label="say \\"hi\\"\\\\ now\\nnext"' in text
    assert re.search(r'"a\\"b" -> "o" \[label="outcome", color="#2ca02c"', text)
    assert text.count("->") == 1 and text.startswith('digraph "imr-graph" {')


def test_render_unknown_format(fixture_graph: nx.MultiDiGraph) -> None:
    with pytest.raises(UsageError, match="unknown export format"):
        render(fixture_graph, "png")


def test_case_graph_selection_by_iri_in_memory() -> None:
    store = make_store()
    quads = list(store.quads_for_pattern(None, None, None, ox.NamedNode(CASE_A_GRAPH)))
    g = project(quads)
    assert CASE_A in g and RES + "case/CM17-0000002" not in g
