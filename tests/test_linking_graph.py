"""Links in the graph: the per-record hook, the vocabulary graph, SSSOM export, curated
corrections and the CLI commands (link, mappings, link-report), on the seed letters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import InputError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.mapping import diagnosis_iri, medication_iri
from imr_graph.graph.store import GraphStore
from imr_graph.linking import item_details, read_sssom, relink, store_links, write_sssom

from .conftest import example_letters

PREFIXES = """
PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX imrv: <https://w3id.org/imr-graph/vocab#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX sssom: <https://w3id.org/sssom/>
"""


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("linkstore")
    with GraphStore(path, read_only=False) as gs:
        results = list(ingest(gs, example_letters(), extra=item_details(gs.base)))
        assert all(r.ok for r in results), [r.error for r in results]
        relink(gs)
    return path


def _rows(store_dir: Path, query: str) -> list[dict[str, str]]:
    with GraphStore(store_dir, read_only=True) as gs:
        result = gs.query(PREFIXES + query)
        names = [v.value for v in result.variables]
        return [{n: (s[n].value if s[n] is not None else "") for n in names} for s in result]


def test_diagnosis_linked_with_reified_mapping(store_dir: Path) -> None:
    rows = _rows(store_dir, """
        SELECT ?dx ?code ?conf ?just WHERE {
          ?dx a imr:Diagnosis ; skos:prefLabel "chronic pain syndrome" ; skos:exactMatch ?code .
          ?m owl:annotatedSource ?dx ; owl:annotatedTarget ?code ;
             owl:annotatedProperty skos:exactMatch ;
             sssom:confidence ?conf ; sssom:mapping_justification ?just .
        }""")
    assert len(rows) == 1
    assert rows[0]["code"] == "http://purl.bioontology.org/ontology/ICD10CM/G89.4"
    assert float(rows[0]["conf"]) > 0.9


def test_icd_code_reaches_its_chapter(store_dir: Path) -> None:
    rows = _rows(store_dir, """
        SELECT ?chapter ?label WHERE {
          ?dx skos:prefLabel "post lumbar laminectomy syndrome" ; skos:broadMatch ?code .
          ?code skos:broader+ ?chapter . ?chapter a imrv:ICD10CMChapter ; skos:prefLabel ?label .
        }""")
    assert [r["label"] for r in rows] == [
        "Diseases of the musculoskeletal system and connective tissue (M00-M99)"]


def test_medication_drug_class_and_service_category(store_dir: Path) -> None:
    rows = _rows(store_dir, """
        SELECT ?class WHERE {
          ?m a imr:Medication ; skos:prefLabel "norco" ; skos:exactMatch ?drug .
          ?drug skos:broader ?c . ?c skos:prefLabel ?class .
        }""")
    assert {r["class"] for r in rows} >= {"opioid"}
    cats = _rows(store_dir, """
        SELECT ?request ?cat WHERE {
          ?i imr:request ?request ; imr:service ?s . ?s imr:serviceCategory ?c .
          ?c skos:notation ?cat .
        }""")
    assert cats and all(r["cat"] for r in cats)
    assert {r["cat"] for r in cats if "Pump" in r["request"]} == {"surgery"}


def test_item_details_from_the_hook() -> None:
    from dataclasses import replace

    from pyoxigraph import NamedNode

    from imr_graph.graph.mapping import record_to_quads
    from imr_graph.letters.parsing import parse_file
    from imr_graph.letters.reading import read_document

    record = parse_file(example_letters()[0])
    text = read_document(example_letters()[0]).text
    record = replace(record, items=[
        replace(record.items[0], request="Physical therapy 2 times a week for 3 weeks for the right knee",
                service=None),
        replace(record.items[0], index=2, request="Norco 10/325mg #120", service=None),
    ])
    quads = record_to_quads(record, text, extra=item_details())
    got = {(q.subject.value.rsplit("/", 1)[1], q.predicate.value.rsplit("#", 1)[1], q.object.value)
           for q in quads if q.predicate.value.startswith("https://w3id.org/imr-graph/vocab#")}
    assert got == {
        ("1", "bodyRegion", "knee"), ("1", "side", "right"),
        ("1", "sessionsPerWeekMin", "2"), ("1", "sessionsPerWeekMax", "2"),
        ("1", "weeksMin", "3"), ("1", "weeksMax", "3"),
        ("1", "totalSessionsMin", "6"), ("1", "totalSessionsMax", "6"),
        ("2", "strength", "10/325mg"), ("2", "quantity", "120"),
    }
    assert all(isinstance(q.graph_name, NamedNode) for q in quads)


def test_schemes_in_vocabulary_graph(store_dir: Path) -> None:
    rows = _rows(store_dir, """
        SELECT ?doc WHERE { ?doc imrv:family "MTUS" ; imrv:editionYear 2009 ;
                            <http://purl.org/dc/terms/isReplacedBy> ?newer }""")
    assert [r["doc"].rsplit("/", 1)[1] for r in rows] == ["chronic-pain-medical-treatment-2009"]


def test_relink_is_idempotent(store_dir: Path) -> None:
    with GraphStore(store_dir, read_only=False) as gs:
        before = len(gs)
        links, _ = relink(gs)
        assert len(gs) == before
        assert links


def test_sssom_round_trip_and_curated_wins(store_dir: Path, tmp_path: Path) -> None:
    with GraphStore(store_dir, read_only=True) as gs:
        links = store_links(gs)
        text = write_sssom(links, gs.base)
        base = gs.base
    assert text.startswith("# curie_map:")
    assert "# license: " in text and "# mapping_set_id: " in text
    header = next(ln for ln in text.splitlines() if not ln.startswith("#")).split("\t")
    assert header[:4] == ["subject_id", "subject_label", "subject_category", "predicate_id"]
    path = tmp_path / "all.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    back = read_sssom(path, base)
    assert {lk.key for lk in back} == {lk.key for lk in links}

    # A curator says "constipation" is K59.00 (not K59.0) and Xanax is not alprazolam.
    dx = diagnosis_iri("constipation", base).value
    med = medication_iri("Xanax", base).value
    curated = tmp_path / "curated.sssom.tsv"
    curated.write_text(
        "# curie_map:\n#   ICD10CM: http://purl.bioontology.org/ontology/ICD10CM/\n"
        "subject_id\tsubject_label\tsubject_category\tpredicate_id\tpredicate_modifier\t"
        "object_id\tobject_label\tobject_source\tconfidence\n"
        f"{dx}\tconstipation\tdiagnosis\tskos:exactMatch\t\tICD10CM:K59.00\t"
        "Constipation, unspecified\t\t1.0\n"
        f"{med}\tXanax\tmedication\tskos:exactMatch\tNot\t"
        "https://w3id.org/imr-graph/vocab/drug/alprazolam\t\t\t1.0\n",
        encoding="utf-8",
    )
    with GraphStore(store_dir, read_only=True) as gs:
        fixed = store_links(gs, read_sssom(curated, base))
    dx_links = [lk for lk in fixed if lk.subject_id == dx]
    assert [(lk.object_id.rsplit("/", 1)[1], lk.justification) for lk in dx_links] == [
        ("K59.00", "semapv:ManualMappingCuration")]
    assert not [lk for lk in fixed if lk.subject_id == med and lk.object_id.endswith("/alprazolam")]


def test_curated_file_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("subject_id\tpredicate_id\tobject_id\nimrdx:x\tskos:sameAs\tICD10CM:A00\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.tsv: line 2: unknown predicate_id"):
        read_sssom(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_sssom(tmp_path / "missing.tsv")


def test_cli_link_mappings_report(store_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["link", "--store", str(store_dir)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("links: ")
    res = runner.invoke(app, ["mappings", "--format", "sssom", "--store", str(store_dir)])
    assert res.exit_code == 0
    assert "ICD10CM:G89.4" in res.output and res.output.startswith("# curie_map:")
    res = runner.invoke(app, ["link-report", "--store", str(store_dir)])
    assert res.exit_code == 0
    lines = {ln.split()[0]: ln.split() for ln in res.output.splitlines() if ln.strip()}
    assert lines["services"][-1] == "100.0%"
    # 6 diagnosis phrases in the seed letters; "syndrome-postlaminectoy-lumbar" (a typo in the
    # letter) and "high risk medications" (not a diagnosis) are rightly left unlinked
    assert lines["diagnoses"][1:3] == ["4", "6"]
    dx = next(ln for ln in res.output.splitlines() if ln.startswith("diagnosis codes: "))
    assert "header categories 0" in dx and "exactMatch" in dx
    res = runner.invoke(app, ["mappings", "--store", str(store_dir), "--curated",
                              str(tmp_path / "nope.tsv")])
    assert res.exit_code == 1 and "cannot read curated mappings" in res.output


# -- canned queries that use the links ------------------------------------------------------------


@pytest.fixture(scope="module")
def handmade_linked(tmp_path_factory: pytest.TempPathFactory):
    from datetime import UTC, datetime

    from .graph_records import ItemSpec, handmade_cases, make_record

    cases = handmade_cases()
    old = make_record("CM17-0000009", [
        ItemSpec("Norco 10/325mg #90", "Upheld",
                 reviewer=[("MTUS", "Chronic Pain Medical Treatment", 2009, ["Opioids"])],
                 claims=[("MTUS", "Chronic Pain Medical Treatment", 2016, [])]),
    ], diagnoses=("lumbar radiculopathy",), decision_date="2017-02-01")
    with GraphStore(tmp_path_factory.mktemp("hml") / "store", read_only=False) as gs:
        for record, text in cases:
            gs.replace_case(record, text, ingest_time=datetime(2024, 1, 1, tzinfo=UTC))
        relink(gs)
        yield gs, gs.replace_case, old


def _canned_rows(gs: GraphStore, name: str, **params: str) -> list[dict[str, str]]:
    """The rows of a canned query by column name ("" for unbound)."""
    from imr_graph.graph.queries import resolve_query, run_query

    result = run_query(gs, resolve_query(name), params)
    names = [v.value for v in result.variables]
    return [{n: s[n].value if s[n] is not None else "" for n in names} for s in result]


def _canned(gs: GraphStore, name: str, **params: str) -> list[tuple[str, ...]]:
    return [tuple(row.values()) for row in _canned_rows(gs, name, **params)]


def test_overturn_rate_by_icd10_chapter(handmade_linked) -> None:
    gs, _replace, _old = handmade_linked
    got = [(r[0], r[2], r[3]) for r in _canned(gs, "overturn-rate-by-icd10-chapter")]
    # chapter 13 (M54.16, M54.2): cases A (3 items, 1 overturned), B (2, 1), C (1, 0)
    # chapter 6 (G89.4): cases A (3, 1) and D (1, 0)
    assert got == [("13", "6", "2"), ("6", "4", "1")]
    assert [r[0] for r in _canned(gs, "overturn-rate-by-icd10-chapter", min_items="5")] == ["13"]


def test_overturn_rate_by_drug_class(handmade_linked) -> None:
    gs, _replace, _old = handmade_linked
    got = [(r[0], r[1], r[2]) for r in _canned(gs, "overturn-rate-by-drug-class")]
    # Norco 10/325 (A, Overturned) and Norco 5/325 (B, Upheld): hydrocodone/acetaminophen
    assert got == [("non-opioid analgesic", "2", "1"), ("opioid", "2", "1")]


def test_similar_cases_share_icd10_categories_once_linked(handmade_linked) -> None:
    gs, _replace, _old = handmade_linked
    # C (neck pain, M54.2) shares no service and no diagnosis node with the earlier A and B;
    # linked, their lumbar radiculopathy (M54.1x) is in the same category M54: a match on
    # diagnoses only, so no items are counted.
    cols = ("other", "score", "items", "upheld", "overturned", "shared_diagnoses")
    got = [tuple(r[c] for c in cols) for r in
           _canned_rows(gs, "similar-cases", case="CM17-0000003")]
    assert got == [("CM16-0000002", "1", "0", "0", "0", "M54 Dorsalgia"),
                   ("CM16-0000001", "1", "0", "0", "0", "M54 Dorsalgia")]
    # B against A: each of B's diagnoses counts once (node and category alike).
    (row,) = _canned_rows(gs, "similar-cases", case="CM16-0000002")
    assert tuple(row[c] for c in cols[:5]) == ("CM16-0000001", "5", "2", "1", "1")


def test_cases_citing_replaced_edition(handmade_linked) -> None:
    gs, replace_case, (record, text) = handmade_linked
    assert _canned(gs, "cases-citing-replaced-edition") == []  # all cite current editions
    replace_case(record, text)
    relink(gs)
    got = _canned(gs, "cases-citing-replaced-edition")
    assert [(r[0], r[2], r[3], r[4]) for r in got] == [
        ("CM17-0000009", "reviewer", "MTUS Chronic Pain Medical Treatment 2009",
         "MTUS Chronic Pain Medical Treatment 2016")]


def test_cli_ingest_with_link(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    res = runner.invoke(app, ["ingest", *map(str, example_letters()), "--link", "--store", str(store)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["query", "overturn-rate-by-icd10-chapter", "--store", str(store),
                              "--format", "csv"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert lines[0].startswith("chapter,title,items,overturned,rate")
    # chronic pain syndrome -> G89.4 (6), constipation -> K59.0 (11), M96.1 / M54.16 (13)
    assert sorted(ln.split(",")[0] for ln in lines[1:]) == ["11", "13", "6"]


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_sssom_round_trip_any_label(label: str) -> None:
    import tempfile

    from imr_graph.linking.links import Link

    link = Link(diagnosis_iri(label).value, label, "diagnosis", "skos:closeMatch",
                "http://purl.bioontology.org/ontology/ICD10CM/M54.16",
                "Radiculopathy, lumbar region", "ICD10CM", 0.5, "semapv:LexicalMatching", "lexical")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.sssom.tsv"
        path.write_text(write_sssom([link]), encoding="utf-8")
        (back,) = read_sssom(path)
    assert back.key == link.key
    assert back.subject_label == " ".join(label.split())
    assert back.confidence == 0.5 and back.object_source == "ICD10CM"


def test_drop_after_link_prunes_the_dropped_case_concepts(tmp_path: Path) -> None:
    """The vocabulary graph's links must not keep a dropped case's concepts alive."""
    from imr_graph.graph.ingest import ingest
    from imr_graph.graph.store import GraphStore
    from imr_graph.linking import relink

    examples = Path(__file__).resolve().parent.parent / "examples"
    with GraphStore(tmp_path / "store") as gs:
        assert all(r.ok for r in ingest(gs, [examples]))
        before = gs.stats()
        relink(gs)
        gs.drop_case("CM15-0171547")
        after = gs.stats()
    assert after["cases"] == before["cases"] - 1
    assert after["services"] == before["services"] - 1
    assert after["diagnoses"] < before["diagnoses"]


def test_overturn_rate_by_diagnosis_groups_by_icd10_category(handmade_linked) -> None:
    gs, _replace, _old = handmade_linked
    got = {r[0]: (r[1], r[2], r[3]) for r in _canned(gs, "overturn-rate-by-diagnosis")}
    chapters = {r[0]: (r[2], r[3]) for r in _canned(gs, "overturn-rate-by-icd10-chapter")}
    # lumbar radiculopathy (M54.16) and neck pain (M54.2) meet in M54, the only category
    # of chapter 13 here; chronic pain syndrome (G89.4) is chapter 6's only one. (The
    # fixture's cases change between tests, so rows are compared, not constants.)
    assert set(got) == {"M54", "G89"}
    assert got["M54"] == ("Dorsalgia", *chapters["13"])
    assert got["G89"] == ("Pain, not elsewhere classified", *chapters["6"])


def test_status_diagnoses_left_out_unless_asked(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from .graph_records import ItemSpec, make_record

    record, text = make_record("CM17-0000010", [ItemSpec("MRI of the lumbar spine", "Overturned")],
                               diagnoses=("possible carpal tunnel syndrome", "neck pain"))
    record.diagnosis_status = {"possible carpal tunnel syndrome": "possible"}
    with GraphStore(tmp_path / "store", read_only=False) as gs:
        gs.replace_case(record, text, ingest_time=datetime(2024, 1, 1, tzinfo=UTC))
        relink(gs)
        assert [r[0] for r in _canned(gs, "overturn-rate-by-icd10-chapter")] == ["13"]
        every = _canned(gs, "overturn-rate-by-icd10-chapter", all_statuses="true")
        assert sorted(r[0] for r in every) == ["13", "6"]
        plain = [(r[0], r[2]) for r in _canned(gs, "overturn-rate-by-diagnosis")]
        assert plain == [("M54", "1")]  # neck pain only; one case, one item
        every = _canned(gs, "overturn-rate-by-diagnosis", all_statuses="true")
        assert sorted((r[0], r[2]) for r in every) == [("G56", "1"), ("M54", "1")]
        links = {r[0] for r in gs.query(
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX imrv: <https://w3id.org/imr-graph/vocab#> "
            "SELECT ?n WHERE { ?d skos:prefLabel 'possible carpal tunnel syndrome' ; "
            "skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?c . "
            "?c imrv:icd10Category/skos:notation ?n }")}
        assert {t.value for t in links} == {"G56"}
