"""DMHC health-plan cases in the graph: mapping, store, canned queries, CLI, and the corpus."""

from __future__ import annotations

import collections
import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyoxigraph import NamedNode
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.dmhc.ingest import ingest_dmhc, load_category_mappings
from imr_graph.dmhc.mapping import (
    CsvSource,
    age_range_iri,
    case_to_quads,
    comparable_category,
    treatment_iri,
)
from imr_graph.dmhc.reader import read_dmhc
from imr_graph.graph.queries import resolve_query, run_query
from imr_graph.graph.store import GraphStore
from imr_graph.resources import ontology_file

FIX = Path(__file__).parent / "fixtures" / "dmhc"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dmhc"
CORPUS_CSV = CORPUS / "Independent_Medical_Review__IMR__Determinations__Trend.csv"
SVC = "https://w3id.org/imr-graph/vocab/service-category/"
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _rows(store: GraphStore, name: str, **params: str) -> list[dict[str, str]]:
    result = run_query(store, resolve_query(name), params)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [
        {n: (row[n].value if row[n] is not None else "") for n in names}
        for row in result  # type: ignore[union-attr]
    ]


@pytest.fixture
def store(tmp_path: Path) -> GraphStore:
    with GraphStore(tmp_path / "store") as gs:
        for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv"):
            result = ingest_dmhc(gs, FIX / name, ingest_time=WHEN)
            assert result.ok
        yield gs


def test_mappings_point_into_the_service_scheme() -> None:
    maps = load_category_mappings()
    services = ontology_file("services.ttl").read_text(encoding="utf-8")
    assert maps, "dmhc.ttl has no mappings"
    for concept, (relation, target) in maps.items():
        assert concept.startswith("https://w3id.org/imr-graph/vocab/dmhc-treatment/")
        assert relation.startswith("http://www.w3.org/2004/02/skos/core#")
        assert f"svc:{target.removeprefix(SVC)} a skos:Concept" in services, target


def test_comparable_category_sub_wins_over_category() -> None:
    maps = load_category_mappings()
    cases = {c.reference_id: c for c in read_dmhc(FIX / "semicolon.csv").cases}
    # MRI (sub-category mapping) beats "Diagnostic Imaging ..." (category mapping)
    assert comparable_category(cases["MN15-00001"], maps) == NamedNode(SVC + "imaging-mri")
    # Botox Injection is an injection although its category is Pharmacy
    assert comparable_category(cases["EI14-00003"], maps) == NamedNode(SVC + "injection")
    assert comparable_category(cases["MN15-00002"], maps) == NamedNode(SVC + "physical-therapy")
    assert comparable_category(cases["MN13-00006"], maps) == NamedNode(SVC + "acupuncture")
    # no category and an unmapped sub-category: nothing
    assert comparable_category(cases["MN13-00005"], maps) is None


def test_case_quads_are_deterministic_and_in_the_case_graph() -> None:
    case = read_dmhc(FIX / "semicolon.csv").cases[0]
    src = CsvSource("x.csv", "ab" * 32)
    a = case_to_quads(case, src, ingest_time=WHEN, mappings=load_category_mappings())
    b = case_to_quads(case, src, ingest_time=WHEN, mappings=load_category_mappings())
    assert a == b
    graphs = {q.graph_name.value for q in a}
    assert graphs == {"https://w3id.org/imr-graph/id/graph/MN15-00001"}
    objects = {q.object for q in a}
    assert NamedNode("https://w3id.org/imr-graph/ontology#Overturned") in objects
    assert NamedNode("https://w3id.org/imr-graph/ontology#Female") in objects
    assert age_range_iri("41-50") in objects
    assert treatment_iri("Diagnostic Imaging, Screening and Testing", "MRI") in objects
    assert age_range_iri("65+").value.endswith("/age-range/65plus")


def test_counts_in_the_store(store: GraphStore) -> None:
    rows = _rows(store, "dmhc-overturn-by-year")
    got = {r["year"]: (r["cases"], r["upheld"], r["overturned"]) for r in rows}
    assert got == {
        "2011": ("1", "0", "1"),
        "2012": ("2", "1", "1"),
        "2013": ("2", "1", "1"),
        "2014": ("2", "1", "1"),
        "2015": ("2", "1", "1"),
        "2018": ("1", "1", "0"),
        "2019": ("2", "1", "1"),
    }
    urgent = _rows(store, "dmhc-overturn-by-year", review_type="urgent-care")
    assert [(r["year"], r["cases"], r["overturned"]) for r in urgent] == [
        ("2014", "1", "1"),
        ("2019", "1", "0"),
    ]
    stats = store.stats()
    assert stats["cases"] == 12 and stats["case_graphs"] == 12 == store.case_count()
    assert stats["upheld"] + stats["overturned"] == 12


def test_rerun_duplicates_nothing(store: GraphStore) -> None:
    before = len(store)
    again = ingest_dmhc(store, FIX / "semicolon.csv")
    assert (again.unchanged, again.new, again.replaced) == (6, 0, 0)
    assert len(store) == before
    forced = ingest_dmhc(store, FIX / "semicolon.csv", force=True)
    assert (forced.replaced, forced.new) == (6, 0)
    assert len(store) == before


def test_newer_columns_and_findings_in_the_graph(store: GraphStore) -> None:
    q = (
        "SELECT ?days ?adopt ?type ?findings WHERE { ?c imr:caseKey 'MN19-00201' ;"
        " imr:daysToReview ?days ; imr:daysToAdopt ?adopt ; imr:imrType ?type ;"
        " imr:findings ?findings }"
    )
    (row,) = list(store.query(q))  # type: ignore[arg-type]
    assert (row["days"].value, row["adopt"].value, row["type"].value) == ("27", "3", "Standard")
    assert "psychotherapy" in row["findings"].value


def test_side_by_side_query(store: GraphStore) -> None:
    rows = _rows(store, "overturn-rate-by-service-category-per-system", rollup="false")
    by_cat = {r["category"].removeprefix(SVC): r for r in rows}
    assert by_cat["imaging-mri"]["hp_items"] == "2"
    assert by_cat["imaging-mri"]["hp_overturned"] == "1"
    assert by_cat["imaging-mri"]["hp_rate"] == "0.5"
    assert by_cat["imaging-mri"]["wc_items"] == "0" and by_cat["imaging-mri"]["wc_rate"] == ""
    assert by_cat["psychological-care"]["hp_items"] == "1"  # only the Findings psychotherapy
    assert sum(int(r["hp_items"]) for r in rows) == 11  # MN13-00005 has no comparable category


def test_trend_query(store: GraphStore) -> None:
    rows = _rows(store, "overturn-trend-by-year-per-system")
    assert [r["year"] for r in rows] == ["2011", "2012", "2013", "2014", "2015", "2018", "2019"]
    assert sum(int(r["hp_items"]) for r in rows) == 12
    assert all(r["wc_items"] == "0" for r in rows)


def test_treatment_category_query(store: GraphStore) -> None:
    rows = _rows(store, "dmhc-overturn-by-treatment-category", min_cases="2")
    got = {r["treatment"]: (r["cases"], r["overturned"], r["comparable"]) for r in rows}
    assert got["Diagnostic Imaging, Screening and Testing"] == ("2", "1", "imaging-mri")
    assert got["Mental Health Treatment"][:2] == ("2", "2")
    assert set(got["Mental Health Treatment"][2].split(", ")) == {
        "inpatient-care",
        "psychological-care",
    }


def test_cli_ingest_dmhc_reports_bad_rows(tmp_path: Path) -> None:
    runner = CliRunner()
    errors = tmp_path / "bad.jsonl"
    res = runner.invoke(
        app,
        [
            "ingest-dmhc",
            str(FIX / "bad_rows.csv"),
            "--store",
            str(tmp_path / "s"),
            "--errors",
            str(errors),
        ],
    )
    assert res.exit_code == 1, res.output
    assert "cases: 2" in res.stdout and "bad rows: 8" in res.stdout
    assert "line 5 (MN16-00304): unknown determination 'Withdrawn'" in res.stderr
    assert len(errors.read_text().splitlines()) == 8
    ok = runner.invoke(
        app, ["ingest-dmhc", str(FIX / "semicolon.csv"), "--store", str(tmp_path / "s")]
    )
    assert ok.exit_code == 0, ok.output
    notcsv = tmp_path / "x.csv"
    notcsv.write_text("a,b\n1,2\n")
    bad = runner.invoke(app, ["ingest-dmhc", str(notcsv), "--store", str(tmp_path / "s")])
    assert bad.exit_code == 1
    assert "not a DMHC IMR table" in bad.stderr


def test_cli_ingest_detects_dmhc_tables(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app, ["ingest", str(FIX / "official_comma.csv"), "--store", str(tmp_path / "s")]
    )
    assert res.exit_code == 0, res.output
    assert "cases: 3" in res.stdout
    with GraphStore(tmp_path / "s", read_only=True) as gs:
        assert gs.stats()["cases"] == 3


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_counts_match_the_csv(tmp_path: Path) -> None:
    """SPARQL counts by determination and by year equal those counted with the csv module."""
    if not CORPUS_CSV.is_file():
        pytest.skip("DMHC corpus not available")
    by_det: collections.Counter[str] = collections.Counter()
    by_year: collections.Counter[str] = collections.Counter()
    with CORPUS_CSV.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            by_det[row["Determination"]] += 1
            by_year[row["Report Year"]] += 1
    with GraphStore(tmp_path / "s") as gs:
        result = ingest_dmhc(gs, CORPUS_CSV)
        assert result.errors == []
        det = {
            row["o"].value.rsplit("#", 1)[1]: int(row["n"].value)
            for row in gs.query(
                "SELECT ?o (COUNT(?c) AS ?n) WHERE { ?c a imr:HealthPlanCase ;"
                " imr:item/imr:outcome ?o } GROUP BY ?o"
            )  # type: ignore[union-attr]
        }
        assert det == {
            "Upheld": by_det["Upheld Decision of Health Plan"],
            "Overturned": by_det["Overturned Decision of Health Plan"],
        }
        assert sum(det.values()) == sum(by_det.values())
        years = {r["year"]: int(r["cases"]) for r in _rows(gs, "dmhc-overturn-by-year")}
        assert years == dict(by_year)
        size = len(gs)
        again = ingest_dmhc(gs, CORPUS_CSV)
        assert again.unchanged == result.cases
        assert len(gs) == size
