"""Canned queries (each on the examples, and on hand-made cases where the examples are too
small to show the point), parameter binding, safety checks and result formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from imr_graph.errors import QueryError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.queries import (
    bind_params,
    canned_queries,
    check_read_only,
    format_result,
    parse_header,
    parse_param_args,
    parse_value,
    resolve_query,
    run_query,
)
from imr_graph.graph.sparqlguard import check_update
from imr_graph.graph.store import GraphStore

from .conftest import EXAMPLES
from .graph_records import handmade_cases

A = "CM15-0171547"  # examples/000: IT Pain Pump Trial (intrathecal pump), Upheld
B = "sha256-19c97d9bd2c2569c"  # examples/001 (no header table): pump refill, Upheld


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    with GraphStore(tmp_path_factory.mktemp("ex") / "store") as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
        yield gs


def rows(store: GraphStore, name: str, **params: str) -> list[dict[str, Any]]:
    """Run a canned query; rows as dicts of Python values (numbers as int/float)."""
    result = run_query(store, resolve_query(name), params)
    out = []
    for sol in result:  # type: ignore[union-attr]
        row: dict[str, Any] = {}
        for var in result.variables:  # type: ignore[union-attr]
            term = sol[var]
            if term is None:
                row[var.value] = None
            elif isinstance(term, ox.Literal) and term.datatype.value.endswith("#integer"):
                row[var.value] = int(term.value)
            elif isinstance(term, ox.Literal) and term.datatype.value.endswith("#decimal"):
                row[var.value] = round(float(term.value), 3)
            else:
                row[var.value] = term.value
        out.append(row)
    return out


def col(table: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(r[n] for n in names) for r in table]


# -- the catalogue ------------------------------------------------------------------------------


def test_at_least_twelve_canned_queries_with_headers() -> None:
    canned = canned_queries()
    mine = canned
    assert len(mine) >= 12
    for name, q in mine.items():
        assert q.description, name
        assert q.examples and q.examples[0].startswith(f"imr-graph query {name}"), name


# -- one test per canned query --------------------------------------------------------------------


def test_overturn_rate_by_service(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(examples, "overturn-rate-by-service"), "service", "items", "overturned",
               "rate") == [("intrathecal pump", 1, 0, 0.0),
                           ("intrathecal pump refill", 1, 0, 0.0)]
    # Service concepts: "MRI of the Lumbar  Spine" meets "MRI of the lumbar spine", and
    # "Norco 10/325mg #120" meets "Norco 5/325mg #60" (hydrocodone + acetaminophen, oral).
    top = rows(handmade, "overturn-rate-by-service", min_items="2")
    assert col(top, "service", "items", "overturned", "rate") == [
        ("mri of the lumbar spine", 3, 1, 0.333),
        ("acetaminophen + hydrocodone (oral)", 2, 1, 0.5)]


def test_most_disputed_services(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(examples, "most-disputed-services"), "service", "items", "upheld") == [
        ("intrathecal pump", 1, 1), ("intrathecal pump refill", 1, 1)]
    assert col(rows(handmade, "most-disputed-services")[:1], "service", "items", "cases",
               "upheld", "overturned") == [("mri of the lumbar spine", 3, 3, 2, 1)]


def test_overturn_rate_by_specialty(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(examples, "overturn-rate-by-specialty"), "specialty", "items", "rate") == [
        ("family practice", 1, 0.0), ("occupational medicine", 1, 0.0),
        ("preventive medicine", 1, 0.0)]
    assert col(rows(handmade, "overturn-rate-by-specialty"), "specialty", "items",
               "overturned") == [("pain management", 4, 1), ("orthopedic surgery", 2, 1),
                                 ("occupational medicine", 1, 0)]


def test_overturn_rate_by_state(examples: GraphStore) -> None:
    assert col(rows(examples, "overturn-rate-by-state"), "state", "items") == [
        ("california", 1), ("connecticut", 1), ("north carolina", 1), ("virginia", 1)]


def test_overturn_rate_by_guideline_family(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(examples, "overturn-rate-by-guideline-family"), "family", "items",
               "overturned") == [("MTUS", 2, 0)]
    assert col(rows(handmade, "overturn-rate-by-guideline-family"), "family", "items",
               "overturned", "rate") == [("MTUS", 7, 2, 0.286)]


def test_overturn_rate_by_mtus_section(examples: GraphStore, handmade: GraphStore) -> None:
    got = col(rows(examples, "overturn-rate-by-mtus-section"), "document", "section", "items")
    assert got == [
        ("mtus chronic pain medical treatment 2009", "implantable drug delivery systems (iddss)", 1),
        ("mtus chronic pain medical treatment 2009",
         "intrathecal drug delivery systems, medications", 1),
        ("mtus chronic pain treatment", "implantable devices", 1),
    ]
    assert col(rows(handmade, "overturn-rate-by-mtus-section", min_items="2"), "section",
               "items", "overturned") == [("special studies", 3, 1), ("opioids", 2, 1),
                                          ("physical medicine", 2, 0)]


def test_cases_citing_section(examples: GraphStore) -> None:
    got = rows(examples, "cases-citing-section", section="Implantable")
    assert col(got, "case", "party", "label") == [
        (A, "reviewer", "implantable drug delivery systems (iddss)"),
        (B, "claims administrator", "implantable drug delivery systems"),
        (B, "reviewer", "implantable devices"),
    ]
    assert got[0]["quote"].startswith("Chronic Pain Medical Treatment 2009, Section(s): Implant")
    assert rows(examples, "cases-citing-section", section="no such section") == []


def test_partial_authorizations(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "partial-authorizations") == []
    assert col(rows(handmade, "partial-authorizations"), "case", "original", "authorized",
               "outcome") == [("CM16-0000001", "Physical therapy 12 sessions",
                               "Physical therapy 6 sessions", "Upheld")]


def test_guideline_family_disagreements(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "guideline-family-disagreements") == []
    # Only CM16-0000001's Norco: ODG by the claims administrator, MTUS by the reviewer.
    assert col(rows(handmade, "guideline-family-disagreements"), "claims_administrator",
               "reviewer", "items", "overturned", "rate") == [("ODG", "MTUS", 1, 1, 1.0)]


def test_days_to_decision(examples: GraphStore, handmade: GraphStore) -> None:
    # UR denial 08/05/2015, decision 10/13/2015; the second example has no header dates.
    assert col(rows(examples, "days-to-decision"), "days", "cases", "items", "overturned") == [
        (69, 1, 1, 0)]
    # 2016-11-10 to 2017-01-20, 2016-12-01 to 2017-02-03, 2017-01-31 to 2017-02-10; the
    # fourth hand-made case has no dates.
    assert col(rows(handmade, "days-to-decision"), "days", "cases", "items", "overturned",
               "rate") == [(71, 1, 3, 1, 0.333), (64, 1, 2, 1, 0.5), (10, 1, 1, 0, 0.0)]


def test_similar_cases(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "similar-cases", case=A) == []
    # B (decided 2017-02-03) against the earlier A (2017-01-20): A's MRI of the lumbar spine
    # (Upheld) and A's Norco 10/325 (Overturned) meet B's "MRI of the Lumbar  Spine" and
    # "Norco 5/325mg #60"; A's physical therapy does not count; lumbar radiculopathy shared.
    got = rows(handmade, "similar-cases", case="CM16-0000002")
    assert col(got, "other", "decided", "score", "items", "upheld", "overturned",
               "shared_diagnoses") == [
        ("CM16-0000001", "2017-01-20", 5, 2, 1, 1, "lumbar radiculopathy")]
    assert set(got[0]["shared_services"].split("; ")) == {
        "mri of the lumbar spine", "acetaminophen + hydrocodone (oral)"}
    # Only earlier decisions: A is the earliest; D has no decision date (never compared,
    # never a match); C shares nothing with the earlier A and B.
    assert rows(handmade, "similar-cases", case="CM16-0000001") == []
    assert rows(handmade, "similar-cases", case="CM17-0000003") == []
    d = "sha256-" + handmade_cases()[3][0].source.sha256[:16]
    assert rows(handmade, "similar-cases", case=d) == []
    # The same answer with the parameter bound as a remote endpoint binds it (VALUES in
    # every group that uses it, nested sub-selects included).
    from imr_graph.graph.remote import bind_values

    text = bind_values(resolve_query("similar-cases").text,
                       {"case": ox.Literal("CM16-0000002")})
    result = handmade.query(text)
    assert [sol["other"].value for sol in result] == ["CM16-0000001"]


def test_split_decisions_by_section(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "split-decisions-by-section") == []
    got = rows(handmade, "split-decisions-by-section")
    assert col(got, "section", "upheld", "overturned") == [("special studies", 2, 1),
                                                          ("opioids", 1, 1)]
    assert got[1]["upheld_services"] == "acetaminophen + hydrocodone (oral)"


def test_most_disputed_medications(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "most-disputed-medications") == []  # no medication is requested
    # From the requests: Norco 10/325 and Norco 5/325 are one drug concept.
    assert col(rows(handmade, "most-disputed-medications"), "medication", "items", "cases",
               "upheld", "overturned") == [("acetaminophen + hydrocodone (oral)", 2, 2, 1, 1)]


def test_overturn_rate_by_month(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(examples, "overturn-rate-by-month"), "month", "items") == [("2015-10", 1)]
    assert col(rows(handmade, "overturn-rate-by-month"), "month", "items", "overturned") == [
        ("2017-01", 3, 1), ("2017-02", 3, 1)]


def test_case_items(examples: GraphStore) -> None:
    got = rows(examples, "case-items", case=A)
    assert col(got, "index", "request", "outcome") == [(1, "IT Pain Pump Trial", "Upheld")]
    # The decision sentence, as the letter words it (not the ~2,200-character item block).
    assert got[0]["quote"] == "IT Pain Pump Trial: Upheld"
    for key in (A, B):  # every item's quote is its request and outcome, nothing more
        for row in rows(examples, "case-items", case=key):
            assert row["quote"].startswith(row["request"].split()[0])
            assert row["quote"].endswith(row["outcome"]) and len(row["quote"]) < 200
    assert got[0]["reviewer"].startswith("Decision based on MTUS Chronic Pain Medical")


def test_literature_cited(examples: GraphStore) -> None:
    # (Angel, 1998) (Kumar, 2002) (Hassenbusch, 2004) (Boswell, 2005) in the second example
    assert col(rows(examples, "literature-cited"), "author", "year", "items") == [
        ("Angel", 1998, 1), ("Boswell", 2005, 1), ("Hassenbusch", 2004, 1), ("Kumar", 2002, 1)]


def test_overturn_rate_by_diagnosis(examples: GraphStore, handmade: GraphStore) -> None:
    got = col(rows(examples, "overturn-rate-by-diagnosis"), "diagnosis", "items")
    assert ("post lumbar laminectomy syndrome", 1) in got and ("lumbar radiculopathy", 1) in got
    assert len(got) == 6
    assert col(rows(handmade, "overturn-rate-by-diagnosis", min_items="4"), "diagnosis",
               "items", "overturned") == [("lumbar radiculopathy", 5, 2),
                                          ("chronic pain syndrome", 4, 1)]


# -- parameters -----------------------------------------------------------------------------------


def test_overturn_rate_by_section(examples: GraphStore, handmade: GraphStore) -> None:
    assert col(rows(handmade, "overturn-rate-by-section"), "section", "family", "items",
               "overturned", "rate") == [("special studies", "MTUS", 3, 1, 0.333),
                                         ("opioids", "MTUS", 2, 1, 0.5),
                                         ("physical medicine", "MTUS", 2, 0, 0.0)]
    assert {r["section"] for r in rows(examples, "overturn-rate-by-section")} == {
        "implantable drug delivery systems (iddss)",
        "intrathecal drug delivery systems, medications", "implantable devices"}


def test_overturn_rate_by_service_category(handmade: GraphStore) -> None:
    # Without `imr-graph link` the category comes from the request wording.
    assert col(rows(handmade, "overturn-rate-by-service-category"), "category", "items",
               "overturned") == [("Imaging and testing", 3, 1), ("Medication", 2, 1),
                                 ("Therapy and rehabilitation", 2, 0)]


def test_summary(examples: GraphStore, handmade: GraphStore) -> None:
    assert rows(examples, "summary") == [
        {"system": "dwc", "cases": 2, "items": 2, "upheld": 2, "overturned": 0, "rate": 0.0,
         "ci_low": 0.0, "ci_high": 0.658, "partial": 0}]
    assert rows(handmade, "summary") == [
        {"system": "dwc", "cases": 4, "items": 7, "upheld": 5, "overturned": 2, "rate": 0.286,
         "ci_low": 0.082, "ci_high": 0.641, "partial": 1}]


def test_every_canned_query_has_a_test() -> None:
    tests = "".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    untested = [name for name in canned_queries() if f'"{name}"' not in tests]
    assert not untested, f"canned queries without a test: {untested}"


def test_injection_stays_a_literal(handmade: GraphStore) -> None:
    before = len(handmade)
    evil = 'x" } ; DROP ALL ; #'
    assert rows(handmade, "cases-citing-section", section=evil) == []
    q = parse_header("SELECT ?c ?v WHERE { ?c imr:caseKey ?v }")
    result = list(run_query(handmade, q, {"v": evil}))  # type: ignore[arg-type]
    assert result == []
    assert len(handmade) == before


def test_missing_and_unknown_parameters(handmade: GraphStore) -> None:
    with pytest.raises(QueryError, match=r"missing parameter section .*--param section=VALUE"):
        rows(handmade, "cases-citing-section")
    with pytest.raises(QueryError, match="unknown parameter nope"):
        rows(handmade, "cases-citing-section", section="x", nope="1")
    with pytest.raises(QueryError, match="does not occur"):
        run_query(handmade, parse_header("SELECT ?s WHERE { ?s ?p ?o }"), {"x": "1"})
    with pytest.raises(QueryError, match="projected by a SELECT"):
        run_query(handmade, parse_header("SELECT ?s WHERE { ?s ?p ?x }"), {"x": "1"})


def test_parse_value() -> None:
    assert parse_value("<http://example.org/a>") == ox.NamedNode("http://example.org/a")
    assert parse_value("12") == ox.Literal("12", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))
    assert parse_value("12", "string") == ox.Literal("12")
    assert parse_value('"5"^^xsd:decimal').datatype.value.endswith("#decimal")  # type: ignore[union-attr]
    assert parse_value('"hi"@en') == ox.Literal("hi", language="en")
    assert parse_value("2017-01-02", "date").datatype.value.endswith("#date")  # type: ignore[union-attr]
    with pytest.raises(QueryError):
        parse_value("abc", "integer")
    with pytest.raises(QueryError):
        parse_param_args(["novalue"])
    assert parse_param_args(["?a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}


def test_header_params_and_defaults() -> None:
    q = parse_header("# Things.\n# param: n integer = 3 - how many\n# param: who - a name\n"
                     "SELECT ?n ?who WHERE {}")
    assert q.description == "Things."
    assert [(p.name, p.type, p.default) for p in q.params] == [("n", "integer", "3"),
                                                               ("who", "string", None)]
    terms = bind_params(q, {"who": "me"})
    assert terms["n"].value == "3" and terms["who"] == ox.Literal("me")


# -- resolving, safety, errors --------------------------------------------------------------------


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(QueryError, match="did you mean: overturn-rate-by-service"):
        resolve_query("overturn-rate-by-servce")


def test_query_from_file(tmp_path: Path, examples: GraphStore) -> None:
    f = tmp_path / "count.rq"
    f.write_text("# Count cases.\nSELECT (COUNT(*) AS ?n) WHERE { ?c a imr:WorkersCompCase }\n")
    q = resolve_query(str(f))
    assert q.description == "Count cases."
    assert [int(s["n"].value) for s in run_query(examples, q)] == [2]  # type: ignore[union-attr]


def test_read_only_and_no_network() -> None:
    for text in ("DROP ALL", "PREFIX x: <http://x/> INSERT DATA { x:a x:b x:c }",
                 "# c\nDELETE WHERE { ?s ?p ?o }", "LOAD <http://example.org/x>"):
        with pytest.raises(QueryError, match="read-only"):
            check_read_only(text)
    with pytest.raises(QueryError, match="SERVICE"):
        check_read_only("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    check_read_only("SELECT ?service WHERE { ?i imr:service ?service } # SERVICE <x>")
    check_read_only('SELECT * WHERE { ?s ?p "DROP ALL" }')
    with pytest.raises(QueryError, match="LOAD"):
        check_update("LOAD <http://example.org/data.ttl>")
    check_update("DELETE WHERE { ?s imr:service ?o }")


def test_syntax_error_has_line_and_column(examples: GraphStore) -> None:
    with pytest.raises(QueryError, match=r"syntax error at line 2, column \d+"):
        run_query(examples, parse_header("SELECT ?s WHERE {\n ?s ?p }"))


def test_graph_narrows_to_one_case(examples: GraphStore) -> None:
    q = parse_header("SELECT (COUNT(DISTINCT ?i) AS ?n) WHERE { ?i a imr:DisputedItem }")
    assert int(next(iter(run_query(examples, q)))["n"].value) == 2  # type: ignore[call-overload]
    one = run_query(examples, q, graph=A)
    assert int(next(iter(one))["n"].value) == 1  # type: ignore[call-overload]
    states = run_query(examples, resolve_query("overturn-rate-by-state"), graph=A)
    assert [s["state"].value for s in states] == [  # type: ignore[union-attr]
        "california", "connecticut", "virginia"]  # labels come from the concepts graph
    # GRAPH ?g (how queries name a case) sees only that case too.
    services = list(run_query(examples, resolve_query("most-disputed-services"), graph=A))
    assert [int(s["cases"].value) for s in services] == [1]  # type: ignore[index]


# -- formats --------------------------------------------------------------------------------------


def test_formats(examples: GraphStore) -> None:
    q = resolve_query("most-disputed-services")
    table = format_result(run_query(examples, q), "table").decode()
    assert table.splitlines()[0].split() == ["service", "concept", "items", "cases", "upheld",
                                             "overturned", "rate", "ci_low", "ci_high"]
    assert table.rstrip().endswith("(2 rows)")
    data = json.loads(format_result(run_query(examples, q), "json"))
    assert len(data["results"]["bindings"]) == 2
    csv = format_result(run_query(examples, q), "csv").decode().splitlines()
    assert csv[0] == "service,concept,items,cases,upheld,overturned,rate,ci_low,ci_high"
    assert len(csv) == 3
    assert b"<sparql" in format_result(run_query(examples, q), "xml")
    assert format_result(run_query(examples, q), "tsv").startswith(b"?service\t")
    with pytest.raises(QueryError, match="tables"):
        format_result(run_query(examples, q), "ttl")
    ask = parse_header("ASK { ?i imr:outcome imr:Upheld }")
    assert format_result(run_query(examples, ask), "table") == b"true\n"
    construct = parse_header("CONSTRUCT { ?i imr:outcome ?o } WHERE { ?i imr:outcome ?o }")
    ttl = format_result(run_query(examples, construct), "table").decode()
    assert "@prefix imr:" in ttl and ttl.count("imr:Upheld") == 2
    nt = format_result(run_query(examples, construct), "nt").decode()
    assert len(nt.strip().splitlines()) == 2
    with pytest.raises(QueryError, match="graphs"):
        format_result(run_query(examples, construct), "csv")


def test_table_hides_parameter_columns(examples: GraphStore) -> None:
    q = resolve_query("case-items")
    table = format_result(run_query(examples, q, {"case": A}), "table", hide={"case"}).decode()
    assert "case" not in table.splitlines()[0].split()
