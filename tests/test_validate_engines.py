"""``validate`` at scale: the SHACL shapes compiled into SPARQL (the default engine) report
what pySHACL (the reference) reports, on conforming and on broken stores; DMHC label
variants folded so a fresh DMHC load validates; the closing line counts consistently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.dmhc.ingest import ingest_dmhc
from imr_graph.dmhc.mapping import concept_quads, fold_labels
from imr_graph.dmhc.reader import read_dmhc
from imr_graph.errors import UsageError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.store import GraphStore
from imr_graph.graph.validate import Report, Violation, validate_store

from .conftest import EXAMPLES
from .graph_records import handmade_cases

FIX = Path(__file__).parent / "fixtures" / "dmhc"
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
CASE = "https://w3id.org/imr-graph/id/case/"
GRAPH = "https://w3id.org/imr-graph/id/graph/"
SKOS = "http://www.w3.org/2004/02/skos/core#"

# Breakages touching every kind of constraint the shapes use (counts, datatype, class, in,
# pattern, nodeKind, minInclusive, equals, sh:node, sh:or, SPARQL constraints).
BREAKS = [
    "DELETE { GRAPH ?g { ?i imr:outcome ?o } } WHERE { GRAPH ?g { ?i imr:outcome ?o } "
    "FILTER(STRENDS(STR(?i), 'CM16-0000002/item/1')) }",
    f"INSERT DATA {{ GRAPH <{GRAPH}CM17-0000003> {{ <{CASE}CM17-0000003/worker> imr:age 'old' , 200 }} }}",
    f"INSERT DATA {{ GRAPH <{GRAPH}CM17-0000003> {{ <{CASE}CM17-0000003/worker> imr:sex imr:Other }} }}",
    f"INSERT DATA {{ GRAPH <{GRAPH}CM16-0000001> {{ <{CASE}CM16-0000001> imr:caseNumber 'X1' ; "
    f"imr:reviewer <{CASE}CM16-0000001/item/1> }} }}",
    "INSERT { GRAPH ?g { ?item imr:rationaleSpan <https://example.org/x#char=5> } } "
    "WHERE { GRAPH ?g { ?item imr:itemIndex 1 } FILTER(STRENDS(STR(?item), 'CM16-0000002/item/1')) }",
    "INSERT { GRAPH ?g { ?span imr:quote 'another' } } WHERE { GRAPH ?g { ?item imr:textSpan "
    "?span } FILTER(STRENDS(STR(?item), 'CM16-0000001/item/1')) }",
    "DELETE { GRAPH ?g { ?item imr:reviewerFamily ?f } } WHERE { GRAPH ?g { ?item "
    "imr:reviewerFamily ?f } FILTER(STRENDS(STR(?item), 'CM16-0000001/item/1')) }",
    "DELETE { GRAPH ?g { ?i imr:originalRequest ?o . ?i imr:authorized ?a } } WHERE { GRAPH ?g "
    "{ ?i a imr:PartiallyAuthorizedItem OPTIONAL { ?i imr:originalRequest ?o } "
    "OPTIONAL { ?i imr:authorized ?a } } }",
    "INSERT { GRAPH ?g { ?c imr:daysToDecision 999 } } WHERE { GRAPH ?g { ?c imr:caseKey "
    "'CM17-0000003' } }",
    "INSERT { GRAPH ?g { ?s skos:prefLabel 'second label' } } WHERE { GRAPH ?g { ?s a "
    "imr:Service } } ",
]


def handmade(path: Path) -> GraphStore:
    gs = GraphStore(path)
    for record, text in handmade_cases():
        gs.replace_case(record, text, ingest_time=WHEN)
    return gs


def key(report: Report) -> set[tuple[str, str, str | None]]:
    return {(v.case, v.focus, v.path) for v in report.violations}


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[GraphStore]:
    with handmade(tmp_path / "store") as gs:
        for update in BREAKS:
            gs.update(update)
        yield gs


def test_both_engines_report_the_same_violations(broken: GraphStore) -> None:
    sparql = validate_store(broken)
    reference = validate_store(broken, engine="pyshacl")
    assert key(sparql) == key(reference)
    assert len(key(sparql)) >= 10 and sparql.failing_cases == reference.failing_cases == 3
    # the same messages where pySHACL's wording is followed or the shapes give one
    for ours in sparql.violations:
        if ours.path and ("values on" in ours.message or "does not match" in ours.message):
            theirs = {v.message for v in reference.violations
                      if (v.case, v.focus, v.path) == (ours.case, ours.focus, ours.path)}
            assert any(ours.message.split(":")[0] in t for t in theirs), (ours, theirs)


def test_both_engines_agree_on_one_case(broken: GraphStore) -> None:
    graph = broken.resolve_graph("CM17-0000003")
    assert key(validate_store(broken, [graph])) == key(
        validate_store(broken, [graph], engine="pyshacl")) != set()


def test_conforming_stores(tmp_path: Path) -> None:
    with GraphStore(tmp_path / "s") as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
        for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv"):
            assert ingest_dmhc(gs, FIX / name, ingest_time=WHEN).ok
        report = validate_store(gs)
        assert report.conforms, [v.line() for v in report.violations]
        assert report.cases == gs.case_count() == 14
        with pytest.raises(UsageError, match="one of: sparql, pyshacl"):
            validate_store(gs, engine="fast")


def test_label_variants_are_folded(tmp_path: Path) -> None:
    assert fold_labels({"H-wave Device": 1, "H-Wave Device": 1}) == "H-Wave Device"
    assert fold_labels({"H-wave Device": 3, "H-Wave Device": 1}) == "H-wave Device"
    assert fold_labels({"b": 1, "a": 1}) == "a"  # not the order of the rows
    table = tmp_path / "variants.csv"
    head = (FIX / "semicolon.csv").read_text(encoding="utf-8").splitlines()[0]
    table.write_text(
        head + "\n"
        "MN06-5579;2006;Cardiac/Circulatory;Stroke/ CVA;Durable Medical Equipment;H-wave Device;"
        "Upheld Decision of Health Plan;Medical Necessity;51-64;Male\n"
        "MN01-336;2001;Immunologic;Fibromyalgia;Durable Medical Equipment;H-Wave Device;"
        "Upheld Decision of Health Plan;Medical Necessity;;\n", encoding="utf-8")
    with GraphStore(tmp_path / "s") as gs:
        assert ingest_dmhc(gs, table, ingest_time=WHEN).ok
        report = validate_store(gs)
        assert report.conforms, [v.line() for v in report.violations]
        labels = {(r["p"].value, r["l"].value) for r in gs.query(  # type: ignore[union-attr]
            "SELECT ?p ?l WHERE { ?c ?p ?l VALUES ?p { skos:prefLabel skos:altLabel } "
            "FILTER(CONTAINS(LCASE(STR(?l)), 'h-wave')) }")}
        assert labels == {(SKOS + "prefLabel", "H-Wave Device"),
                          (SKOS + "altLabel", "H-wave Device")}
        # a later table spelling it the other way keeps the label chosen first
        quads = concept_quads(read_dmhc(table).cases, gs.concepts_graph,
                              stored_labels={next(iter(
                                  r["c"].value for r in gs.query(  # type: ignore[union-attr]
                                      "SELECT ?c WHERE { ?c skos:altLabel ?l }"))): "H-wave Device"})
        assert {q.object.value for q in quads if q.predicate.value == SKOS + "prefLabel"
                and "wave" in q.object.value} == {"H-wave Device"}


def test_closing_line_counts_cases_and_concepts_apart() -> None:
    report = Report(cases=3, violations=[
        Violation("concepts", "vocab/x", "skos:prefLabel", "More than 1 values"),
        Violation("CM1", "case/CM1", "imr:age", "bad"),
        Violation("CM1", "case/CM1/item/1", "imr:outcome", "bad")])
    assert report.summary() == ("cases: 3  conforming: 2  violations: 3 (2 in 1 cases, "
                                "1 on shared concepts)")
    assert Report(cases=2).summary() == "cases: 2  conforming: 2  violations: 0"


def test_cli_validate_engine_and_progress(broken: GraphStore) -> None:
    path = str(broken.path)
    broken.close()
    runner = CliRunner()
    res = runner.invoke(app, ["validate", "--store", path, "--progress"])
    assert res.exit_code == 1
    assert "checks" in res.stderr and "violations:" in res.stdout
    ref = runner.invoke(app, ["validate", "--store", path, "--validator", "pyshacl"])
    assert ref.exit_code == 1
    assert res.stdout.splitlines()[-1] == ref.stdout.splitlines()[-1]
