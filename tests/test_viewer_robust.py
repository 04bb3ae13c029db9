"""The viewer's data for arbitrary graphs (hypothesis): it never fails, stays consistent,
and its page embeds it safely whatever the labels hold."""

from __future__ import annotations

import json
import re

import networkx as nx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_graph.views.viewer import viewer_data, viewer_html

TYPES = ["WorkersCompCase", "HealthPlanCase", "DisputedItem", "Service", "Diagnosis",
         "GuidelineFamily", "GuidelineSection", "Concept", "IngestActivity", "Citation",
         "Resource", "Thing"]
PREDICATES = ["item", "inCase", "service", "reviewerFamily", "reviewerSection",
              "serviceCategory", "kind", "inScheme", "diagnosis", "wasDerivedFrom", "related"]
labels = st.text(min_size=0, max_size=30)


@st.composite
def graphs(draw: st.DrawFn) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    outcomes = ["https://w3id.org/imr-graph/ontology#Upheld",
                "https://w3id.org/imr-graph/ontology#Overturned"]
    for o in outcomes:
        g.add_node(o, iri=o, type="Resource", types="", label=o.rsplit("#", 1)[1])
    n = draw(st.integers(min_value=0, max_value=25))
    ids = [f"https://example.org/n/{i}" for i in range(n)]
    for nid in ids:
        t = draw(st.sampled_from(TYPES))
        attrs = {"decisionDate": draw(st.sampled_from(["2016-01-02", "", "x"]))} if t.endswith(
            "Case") else {}
        g.add_node(nid, iri=nid, type=t, types=t if t != "Resource" else "",
                   label=draw(labels), **attrs)
    every = ids + outcomes
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        if not ids:
            break
        u = draw(st.sampled_from(ids))
        if draw(st.booleans()):
            v, p = draw(st.sampled_from(outcomes)), "outcome"
        else:
            v, p = draw(st.sampled_from(every)), draw(st.sampled_from(PREDICATES))
        g.add_edge(u, v, key=p, label=p, predicate=f"https://example.org/p/{p}")
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_viewer_data_is_consistent(graph: nx.MultiDiGraph) -> None:
    data = viewer_data(graph)
    assert data["mode"] == "detail"
    assert len(data["nodes"]) == graph.number_of_nodes()
    assert len(data["edges"]) == graph.number_of_edges()
    n = len(data["nodes"])
    assert all(0 <= e["s"] < n and 0 <= e["t"] < n for e in data["edges"])
    facets = data["facets"]
    for i, row in enumerate(data["items"]):
        node = data["nodes"][row[0]]
        assert node["item"] == i
        assert node["outcome"] == facets["outcome"][row[2]]
        assert all(0 <= k < len(facets["kind"]) for k in row[3])
        assert all(0 <= f < len(facets["family"]) for f in row[4])
        assert row[5] == -1 or 0 <= row[5] < len(facets["year"])
        assert all(0 <= c < len(data["concepts"]) for c in row[7])
    assert {t["name"] for t in data["types"]} == {node["type"] for node in data["nodes"]}
    overview = viewer_data(graph, detail_limit=0)
    assert overview["mode"] == "overview" and overview["nodes"] == []
    assert [r[2:] for r in overview["items"]] == [r[2:] for r in data["items"]]
    json.dumps(data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), labels)
def test_viewer_page_embeds_any_text_safely(graph: nx.MultiDiGraph, title: str) -> None:
    for node in list(graph.nodes)[:3]:
        graph.nodes[node]["label"] = "</script><script>alert(1)</script>" + title
    page = viewer_html(graph, title=title)
    embedded = re.search(r'<script id="graph-data" type="application/json">(.*?)</script>',
                         page, re.S).group(1)
    assert "</" not in embedded and "<script" not in embedded.lower()
    assert json.loads(embedded) == json.loads(json.dumps(viewer_data(graph, title)))
