"""The store: atomic case replacement, read-only access, drop, vocabulary, dump, ingest loop."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from imr_graph.errors import NotFoundError, StoreError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.mapping import case_graph_iri, concepts_graph_iri, service_iri
from imr_graph.graph.store import GraphStore, default_store_path
from imr_graph.graph.validate import validate_store

from .conftest import EXAMPLES
from .graph_records import ItemSpec, handmade_cases, make_record

WHEN = datetime(2024, 1, 2, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with GraphStore(tmp_path / "store") as gs:
        for record, text in handmade_cases():
            gs.replace_case(record, text, ingest_time=WHEN)
        yield gs


def _count(gs: GraphStore, text: str) -> int:
    return int(next(iter(gs.query(text)))["n"].value)  # type: ignore[call-overload]


def test_default_store_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMR_GRAPH_STORE", str(tmp_path / "s"))
    assert default_store_path() == tmp_path / "s"
    monkeypatch.delenv("IMR_GRAPH_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path() == tmp_path / "xdg" / "imr-graph" / "store"


def test_one_graph_per_case_and_reingest_is_idempotent(store: GraphStore) -> None:
    assert len(store.case_graphs()) == 4
    assert store.case_count() == 4
    before = len(store)
    for record, text in handmade_cases():
        store.replace_case(record, text)  # a new ingest time: replaced, not added
    assert len(store) == before
    assert _count(store, "SELECT (COUNT(*) AS ?n) { ?g prov:generatedAtTime ?t }") == 4


def test_replacing_a_case_removes_what_is_gone(store: GraphStore) -> None:
    record, text = make_record("CM16-0000001", [ItemSpec("MRI of the lumbar spine", "Upheld")])
    store.replace_case(record, text)
    assert _count(store, "SELECT (COUNT(*) AS ?n) { <https://w3id.org/imr-graph/id/case/"
                         "CM16-0000001> imr:item ?i }") == 1


def test_failed_replacement_leaves_the_old_case(store: GraphStore) -> None:
    graph = case_graph_iri("CM16-0000001")
    before = store.graph_size(graph)
    bad = [ox.Quad(ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p"), ox.Literal("o"),
                   ox.NamedNode("http://x/other-graph"))]
    with pytest.raises(ValueError):
        store.replace_graph(graph, bad)
    assert store.graph_size(graph) == before


def test_shared_concepts_are_stored_once(store: GraphStore) -> None:
    mri = service_iri("imaging-mri/lumbar-spine")
    labels = list(store.store.quads_for_pattern(mri, ox.NamedNode(
        "http://www.w3.org/2004/02/skos/core#prefLabel"), None, None))
    assert [q.graph_name for q in labels] == [concepts_graph_iri()]
    # three cases use it, so counting items per service is not multiplied
    assert _count(store, "SELECT (COUNT(?i) AS ?n) { ?i imr:service ?s . "
                         "?s skos:prefLabel \"mri of the lumbar spine\" }") == 3


def test_drop_case_prunes_orphan_concepts(store: GraphStore) -> None:
    acupuncture = service_iri("acupuncture/acupuncture")
    assert list(store.store.quads_for_pattern(acupuncture, None, None, None))
    removed = store.drop_case("CM17-0000003")
    assert removed > 0
    assert len(store.case_graphs()) == 3
    assert not list(store.store.quads_for_pattern(acupuncture, None, None, None))
    assert list(store.store.quads_for_pattern(service_iri("imaging-mri/lumbar-spine"), None,
                                              None, None))
    with pytest.raises(NotFoundError):
        store.drop_case("CM17-0000003")


def test_prune_counts_the_concept_triples_it_removes(store: GraphStore) -> None:
    orphan = service_iri("Nothing refers to this")
    label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    store.store.add(ox.Quad(orphan, label, ox.Literal("a"), concepts_graph_iri()))
    store.store.add(ox.Quad(orphan, label, ox.Literal("b"), concepts_graph_iri()))
    before = len(store)
    assert store.prune_concepts() == 2
    assert len(store) == before - 2
    assert store.prune_concepts() == 0


def test_load_vocabulary_replaces_its_graph(store: GraphStore) -> None:
    s, p = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p")
    assert store.load_vocabulary([ox.Quad(s, p, ox.Literal("1")),
                                  ox.Quad(s, p, ox.Literal("2"))]) == 2
    assert store.load_vocabulary([ox.Quad(s, p, ox.Literal("3"))]) == 1
    assert store.graph_size(store.vocabulary_graph) == 1
    assert store.vocabulary_graph not in store.case_graphs()


def test_read_only_while_a_writer_holds_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with GraphStore(path) as writer:
        record, text = handmade_cases()[2]
        writer.replace_case(record, text)
        writer.store.flush()
        with GraphStore(path, read_only=True) as reader:
            assert len(reader.case_graphs()) == 1
            with pytest.raises(StoreError, match="read-only"):
                reader.replace_case(record, text)
        with pytest.raises(StoreError, match="in use"):
            GraphStore(path)


def test_read_only_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store"):
        GraphStore(tmp_path / "missing", read_only=True)


def test_resolve_graph(store: GraphStore) -> None:
    g = case_graph_iri("CM16-0000002")
    assert store.resolve_graph("CM16-0000002") == g
    assert store.resolve_graph(f"<{g.value}>") == g
    assert store.resolve_graph("https://w3id.org/imr-graph/id/case/CM16-0000002/item/1") == g
    with pytest.raises(NotFoundError):
        store.resolve_graph("CM99-9999999")


@pytest.mark.parametrize("fmt", ["trig", "nq"])
def test_dump_round_trips_through_rdflib(store: GraphStore, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"dump.{fmt}"
    store.dump(fmt, out)
    ds = rdflib.Dataset()
    ds.parse(out, format="trig" if fmt == "trig" else "nquads")
    assert len(ds) == len(store)
    for graph in [*store.case_graphs(), store.concepts_graph]:
        ours = rdflib.Graph()
        triples = [q.triple for q in store.iter_quads(graph)]
        ours.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(),
                   format="nt")
        assert len(ours) > 0
        assert isomorphic(ds.graph(rdflib.URIRef(graph.value)), ours)


def test_dump_ttl_is_the_merged_union(store: GraphStore) -> None:
    data = store.dump("ttl")
    assert data is not None
    g = rdflib.Graph().parse(data=data.decode(), format="turtle")
    distinct = {(q.subject, q.predicate, q.object) for q in store.iter_quads()}
    assert len(g) == len(distinct)


def test_stats(store: GraphStore) -> None:
    s = store.stats()
    assert (s["cases"], s["items"], s["upheld"], s["overturned"]) == (4, 7, 5, 2)
    assert s["partial_authorizations"] == 1
    assert s["case_graphs"] == 4 and s["named_graphs"] == 5
    assert s["triples"] == len(store)


def test_handmade_cases_conform_to_the_shapes(store: GraphStore) -> None:
    report = validate_store(store)
    assert report.cases == 4
    assert report.conforms, [v.line() for v in report.violations]


def test_a_broken_case_is_named_by_validation(store: GraphStore) -> None:
    store.update("DELETE { GRAPH ?g { ?item imr:outcome ?o } } WHERE { GRAPH ?g { ?item "
                 "imr:outcome ?o } FILTER(STRENDS(STR(?item), 'CM16-0000002/item/1')) }")
    store.update('INSERT DATA { GRAPH <https://w3id.org/imr-graph/id/graph/CM17-0000003> { '
                 '<https://w3id.org/imr-graph/id/case/CM17-0000003/worker> imr:age "old" } }')
    report = validate_store(store)
    # The deleted outcome also leaves the case's derived counts disagreeing with its items.
    assert {(v.case, v.path) for v in report.violations} == {
        ("CM16-0000002", "imr:outcome"), ("CM16-0000002", None), ("CM17-0000003", "imr:age")}
    assert any("does not count the case's items" in v.message for v in report.violations)
    assert report.failing_cases == 2


def test_validation_names_a_broken_text_span_and_its_case(store: GraphStore) -> None:
    # A span that is no #char fragment, and a second quote on an item's span.
    store.update("INSERT { GRAPH ?g { ?item imr:rationaleSpan <https://example.org/x#char=5> } } "
                 "WHERE { GRAPH ?g { ?item imr:itemIndex 1 } "
                 "FILTER(STRENDS(STR(?item), 'CM16-0000002/item/1')) }")
    store.update("INSERT { GRAPH ?g { ?span imr:quote 'another' } } WHERE { GRAPH ?g { "
                 "?item imr:textSpan ?span } FILTER(STRENDS(STR(?item), 'CM16-0000001/item/1')) }")
    report = validate_store(store)
    # (a hand-made item's decision sentence is its whole block: the same span node)
    shared = [v.line() for v in report.violations if v.path == "imr:decisionSpan"]
    assert len(shared) == 1 and "More than 1 values" in shared[0]
    lines = sorted(v.line() for v in report.violations if v.path != "imr:decisionSpan")
    assert len(lines) == 2, lines
    # Each is named by the case and the owner's span property, and the value's own shape
    # failing is told in the same line (not as a second, "see details" result).
    assert lines[0].startswith("CM16-0000001: case/CM16-0000001/item/1 imr:textSpan:")
    assert "SpanShape" in lines[0] and "More than 1 values" in lines[0]
    assert lines[1].startswith("CM16-0000002: case/CM16-0000002/item/1 imr:rationaleSpan:")
    assert "does not match pattern" in lines[1]
    assert report.failing_cases == 2


def test_validation_checks_the_derived_days_and_family_agreement(store: GraphStore) -> None:
    case = "https://w3id.org/imr-graph/id/case/CM16-0000001"
    graph = "https://w3id.org/imr-graph/id/graph/CM16-0000001"
    # Days that are not the dates' difference; item 1 (both sides MTUS) without its
    # agreement; item 3 (only the reviewer cites) with one.
    store.update(f"DELETE {{ GRAPH ?g {{ <{case}> imr:daysToDecision ?d }} }} "
                 f"INSERT {{ GRAPH ?g {{ <{case}> imr:daysToDecision 70 }} }} "
                 f"WHERE {{ GRAPH ?g {{ <{case}> imr:daysToDecision ?d }} }}")
    store.update(f"DELETE DATA {{ GRAPH <{graph}> {{ <{case}/item/1> imr:sidesShareFamily true }} }}")
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{case}/item/3> imr:sidesShareFamily true }} }}")
    report = validate_store(store)
    lines = sorted(v.line() for v in report.violations)
    assert len(lines) == 3, lines
    assert all(line.startswith("CM16-0000001: ") for line in lines)
    assert sum("imr:daysToDecision is not the days" in line for line in lines) == 1
    assert sum("imr:sidesShareFamily does not match" in line for line in lines) == 2
    assert report.failing_cases == 1


def test_ingest_loop_reports_bad_files_and_goes_on(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    (letters / "sub").mkdir(parents=True)
    for p in sorted(EXAMPLES.glob("*.txt")):
        (letters / "sub" / p.name).write_bytes(p.read_bytes())
    (letters / "empty.txt").write_text("")
    (letters / "notes.txt").write_text("Shopping list: milk, eggs.\n")
    with GraphStore(tmp_path / "store") as gs:
        results = list(ingest(gs, [letters, tmp_path / "missing.pdf"]))
        assert len(results) == 5
        bad = [r for r in results if not r.ok]
        assert sorted(Path(r.path).name for r in bad) == ["empty.txt", "missing.pdf", "notes.txt"]
        assert all(r.error_record()["error"] for r in bad)
        good = [r for r in results if r.ok]
        assert sorted(r.case_key for r in good) == ["CM15-0171547", "sha256-19c97d9bd2c2569c"]
        assert len(gs.case_graphs()) == 2


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_counts_validation_and_reingest(dwc_pdfs: list[Path], tmp_path: Path) -> None:
    from imr_graph.letters.parsing import parse_file

    expected = Counter(item.outcome for p in dwc_pdfs for item in parse_file(p).items)
    with GraphStore(tmp_path / "store") as gs:
        results = list(ingest(gs, dwc_pdfs))
        assert all(r.ok for r in results), [str(r.error) for r in results if not r.ok]
        rows = gs.query("SELECT ?o (COUNT(?i) AS ?n) { ?i imr:outcome ?o } GROUP BY ?o")
        got = {r["o"].value.rsplit("#", 1)[1]: int(r["n"].value) for r in rows}  # type: ignore[union-attr]
        assert got == dict(expected)
        report = validate_store(gs)
        assert report.cases == len(dwc_pdfs)
        assert report.conforms, [v.line() for v in report.violations[:20]]
        before = len(gs)
        list(ingest(gs, dwc_pdfs))
        assert len(gs) == before
        assert json.dumps(gs.stats())  # serialisable summary


def test_validation_names_an_item_shortcut_that_disagrees_with_its_citations(
        store: GraphStore) -> None:
    # One shortcut missing (its chain is still there) and one with no chain behind it.
    store.update("DELETE { GRAPH ?g { ?item imr:reviewerFamily ?f } } WHERE { GRAPH ?g { ?item "
                 "imr:reviewerFamily ?f } FILTER(STRENDS(STR(?item), 'CM16-0000001/item/1')) }")
    store.update("INSERT { GRAPH ?g { ?item imr:claimsAdministratorSection "
                 "<https://w3id.org/imr-graph/id/section/none> } } WHERE { GRAPH ?g { ?item "
                 "imr:outcome ?o } FILTER(STRENDS(STR(?item), 'CM17-0000003/item/1')) }")
    report = validate_store(store)
    # Without its reviewer family, item 1's imr:sidesShareFamily (derived from the
    # shortcuts) no longer holds either.
    assert {v.path for v in report.violations} == {
        "imr:reviewerBasis/imr:citation/imr:guidelineFamily",
        "imr:claimsAdministratorBasis/imr:citation/imr:citesSection", None}
    assert {(v.case, v.message) for v in report.violations} == {
        ("CM16-0000001", "imr:reviewerFamily does not match what the item's citations cite"),
        ("CM16-0000001", "imr:sidesShareFamily does not match the families the two sides cite"),
        ("CM17-0000003",
         "imr:claimsAdministratorSection does not match what the item's citations cite")}


def test_shapes_pyshacl_cannot_use_are_one_clear_error(
        store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from imr_graph.errors import ShapesError
    from imr_graph.graph import validate as validate_module

    shapes = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass <https://w3id.org/imr-graph/ontology#DisputedItem> ;
          sh:sparql [ a sh:SPARQLConstraint ;
            sh:select "SELECT $this WHERE { VALUES ?x { 1 } $this ?p ?x }" ] .
        """, format="turtle")
    monkeypatch.setattr(validate_module, "_shapes_and_ontology",
                        lambda: (shapes, rdflib.Graph()))
    with pytest.raises(ShapesError, match=r"shapes\.ttl: .*VALUES") as info:
        validate_store(store)
    assert info.value.exit_code == 2
