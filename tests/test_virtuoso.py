"""Cross-engine: the remote store on Virtuoso gives the embedded store's answers.

Each test starts a private Virtuoso (Debian ``virtuoso-opensource``, installed by
scripts/ensure-virtuoso.sh from ``make test``) on free loopback ports in a temp dir and stops
it afterwards. Every canned query (queries/*.rq, with its documented example parameters) is
compared row for row with the embedded store, on the examples and on the corpus.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from imr_graph.graph.engines import (
    ENGINES,
    VIRTUOSO,
    decimal_division,
    engine_profile,
    plain_case_keys,
)
from imr_graph.graph.ingest import ingest
from imr_graph.graph.queries import canned_queries, run_query
from imr_graph.graph.remote import RemoteStore, derive_endpoints
from imr_graph.graph.store import GraphStore
from imr_graph.graph.virtuoso import PASSWORD, USER, VirtuosoServer, installed
from imr_graph.views.server import free_port

from .test_remote import CORPUS, EXAMPLES, WHEN, canonical, example_params

DECIMAL = "^^<http://www.w3.org/2001/XMLSchema#decimal>"
# Virtuoso hands back a boolean value (a parameter echoed in a result) as the integer 0 or 1
BOOLEANS = {'"false"^^<http://www.w3.org/2001/XMLSchema#boolean>':
            '"0"^^<http://www.w3.org/2001/XMLSchema#integer>',
            '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>':
            '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'}

needs_virtuoso = pytest.mark.skipif(
    not installed(),
    reason="Virtuoso not installed: Debian package virtuoso-opensource "
    "(`bash scripts/ensure-virtuoso.sh` as root installs it; `make test` runs it)",
)


def comparable(result: object, q_text: str, places: int | None) -> object:
    """:func:`canonical`, and what SPARQL leaves to the engine made alike: decimals to the
    engine's fraction digits (``places``), booleans as the integers Virtuoso returns for
    them, and the parts of a ``GROUP_CONCAT`` (whose order SPARQL does not define) sorted,
    for each ``SEPARATOR`` the query uses."""
    found = canonical(result)
    if not isinstance(found, tuple):
        return found
    seps = re.findall(r'SEPARATOR\s*=\s*"([^"]+)"', q_text, re.I)

    def cell(v: str) -> str:
        v = BOOLEANS.get(v, v)
        if places is not None and v.endswith(DECIMAL):
            return f'"{round(Decimal(v[1:-len(DECIMAL) - 1]), places)}"{DECIMAL}'
        for sep in seps:
            if sep in v and v.startswith('"'):
                return sep.join(sorted(v[1:-1].split(sep)))
        return v

    names, rows = found
    return names, sorted(tuple(cell(v) for v in row) for row in rows)


def compare_canned(local: GraphStore, remote: RemoteStore) -> int:
    """Every canned query on both stores, with its documented example parameters: the same
    rows (:func:`comparable`), or for the profile's known differences the same number of
    rows; returns how many gave rows."""
    places = remote.profile.decimal_places
    non_empty = 0
    for name, q in canned_queries().items():
        params = example_params(q.text)
        params.update({p.name: "x" for p in q.params
                       if p.default is None and p.name not in params})
        expected = comparable(run_query(local, q, params), q.text, places)
        got = comparable(run_query(remote, q, params), q.text, places)
        if name in remote.profile.known_differences:
            assert isinstance(got, tuple) and isinstance(expected, tuple)
            assert len(got[1]) == len(expected[1]), name
        else:
            assert got == expected, name
        non_empty += bool(expected and (not isinstance(expected, tuple) or expected[1]))
    return non_empty


@pytest.fixture
def virtuoso(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtuosoServer]:
    monkeypatch.setenv("IMR_GRAPH_USER", USER)
    monkeypatch.setenv("IMR_GRAPH_PASSWORD", PASSWORD)
    monkeypatch.delenv("IMR_GRAPH_ENGINE", raising=False)
    srv = VirtuosoServer(tmp_path / "virtuoso", free_port(), free_port(), buffers=10000)
    try:
        yield srv.start()
    finally:
        srv.stop()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[GraphStore]:
    with GraphStore(tmp_path / "embedded") as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES], ingest_time=WHEN))
        yield gs


@needs_virtuoso
def test_examples_same_answers_on_virtuoso(virtuoso: VirtuosoServer,
                                           embedded: GraphStore) -> None:
    remote = RemoteStore(virtuoso.url)  # the engine is detected from the Server header
    assert remote.profile is VIRTUOSO
    assert remote.gsp_url.endswith("/sparql-graph-crud-auth")  # credentials: -auth endpoints
    results = list(ingest(remote, [EXAMPLES], ingest_time=WHEN))
    assert [r.ok for r in results] == [True] * len(results)
    assert remote.stats() == embedded.stats()  # Virtuoso's own graphs are hidden
    assert remote.case_graphs() == embedded.case_graphs()
    assert compare_canned(embedded, remote) >= 5
    list(ingest(remote, [EXAMPLES], ingest_time=WHEN))  # re-ingest replaces, never adds
    assert len(remote) == len(embedded)
    graph = embedded.case_graphs()[0]
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert canonical(remote.query(text, graph=graph)) == canonical(
        embedded.query(text, graph=graph))
    import rdflib

    mine = rdflib.Dataset().parse(data=remote.dump("nq"), format="nquads")
    theirs = rdflib.Dataset().parse(data=embedded.dump("nq"), format="nquads")
    assert len(mine) == len(theirs)
    assert remote.drop_case(graph.value) == embedded.graph_size(graph)
    assert graph not in remote.case_graphs()
    # Without the division rewrite Virtuoso fails the query (HTTP 500, SR084): reported at
    # once, no retries.
    sleeps: list[float] = []
    bare = RemoteStore(virtuoso.url, engine=dataclasses.replace(VIRTUOSO, rewrites=()),
                       sleep=sleeps.append)
    with pytest.raises(RuntimeError, match="SR08"):
        bare.query("SELECT (1 / 0 AS ?x) WHERE {}")
    assert sleeps == []
    assert canonical(remote.query("SELECT (1 / 0 AS ?x) (1 / 2 AS ?h) WHERE {}")) == (
        ["x", "h"], [("", '"0.5"^^<http://www.w3.org/2001/XMLSchema#decimal>')])


@needs_virtuoso
def test_cli_against_virtuoso(virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from imr_graph.cli import app

    runner = CliRunner()
    url = virtuoso.url
    run = runner.invoke(app, ["ingest", str(EXAMPLES), "--endpoint", url])
    assert run.exit_code == 0, run.output
    run = runner.invoke(app, ["stats", "--endpoint", url, "--engine", "neptune"])
    assert run.exit_code == 2 and "unknown engine" in run.output
    for args in (["stats", "--format", "json", "--engine", "virtuoso"], ["validate"],
                 ["query", "summary", "--format", "csv"],
                 ["query", "cases-citing-section", "--param", "section=implantable"],
                 ["dump", "--format", "nq", "--out", str(tmp_path / "all.nq")],
                 ["export", "--format", "graphml", "--out", str(tmp_path / "g.graphml")],
                 ["report", "--out", str(tmp_path / "report")]):
        run = runner.invoke(app, [*args, "--endpoint", url])
        assert run.exit_code == 0, (args, run.output)
    assert (tmp_path / "report" / "index.html").is_file()
    assert (tmp_path / "all.nq").read_text().count("\n") > 300
    run = runner.invoke(app, ["drop", "CM15-0171547", "--endpoint", url])
    assert run.exit_code == 0, run.output
    note = "INSERT DATA { GRAPH <https://w3id.org/imr-graph/id/graph/note> { " \
           '<https://w3id.org/imr-graph/id/note> rdfs:comment "Virtuoso" } }'
    run = runner.invoke(app, ["update", note, "--endpoint", url])
    assert run.exit_code == 0, run.output
    run = runner.invoke(app, ["query", "ASK { ?n rdfs:comment \"Virtuoso\" }", "--endpoint", url])
    assert run.exit_code == 0 and "true" in run.output.lower(), run.output


@needs_virtuoso
def test_bulk_load_of_a_dump(virtuoso: VirtuosoServer, embedded: GraphStore) -> None:
    dump = virtuoso.directory / "examples.nq"
    embedded.dump("nq", dump)
    virtuoso.bulk_load(dump)
    remote = RemoteStore(virtuoso.url, engine="virtuoso")
    assert remote.stats() == embedded.stats()
    assert compare_canned(embedded, remote) >= 5


@needs_virtuoso
@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_same_answers_on_virtuoso(virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("corpus absent (../shared/corpus/dwc)")
    with GraphStore(tmp_path / "embedded-corpus") as local:
        # the seed letters too: the canned queries' examples name their cases
        results = list(ingest(local, [CORPUS, CORPUS.parent / "seeds"], ingest_time=WHEN))
        assert sum(r.ok for r in results) > 50
        # the bulk path: the embedded store's dump through Virtuoso's own loader
        dump = virtuoso.directory / "corpus.nq"
        local.dump("nq", dump)
        virtuoso.bulk_load(dump)
        remote = RemoteStore(virtuoso.url)
        assert local.stats()["cases"] > 50
        assert remote.stats() == local.stats()
        assert compare_canned(local, remote) >= 10
        for name in remote.profile.known_differences:  # still different: else drop it
            q = canned_queries()[name]
            params = example_params(q.text)
            assert comparable(run_query(remote, q, params), q.text, 15) != comparable(
                run_query(local, q, params), q.text, 15), f"{name} now agrees"


def test_decimal_division_rewrite() -> None:
    dec = "<http://www.w3.org/2001/XMLSchema#decimal>"
    out = decimal_division("SELECT (ROUND(1000 * ?o / SUM(?n)) / 1000 AS ?r) "
                           '{ ?a imr:x/imr:y ?b . BIND(?a / 0 AS ?z) FILTER(?s != "a/b") } # x/y')
    assert f'/ {dec}(REPLACE(STR(SUM(?n)), "^[-+]?[0.]+$", "x"))' in out
    assert "/ 1000.0 AS ?r" in out and f'?a / {dec}("x") AS ?z' in out  # zero: unbound
    assert "imr:x/imr:y" in out and '"a/b"' in out and "# x/y" in out
    assert decimal_division("SELECT * { ?s ex:p1/ex:p2 ?o }") == "SELECT * { ?s ex:p1/ex:p2 ?o }"


def test_plain_case_keys_rewrite() -> None:
    text = 'BIND (LCASE(STR(?l)) AS ?s) BIND (UCASE(?x) AS ?y) FILTER (?s != "LCASE(STR(")'
    assert plain_case_keys(text) == ('BIND (STR(LCASE(STR(?l))) AS ?s) BIND (UCASE(?x) AS ?y) '
                                     'FILTER (?s != "LCASE(STR(")')
    assert VIRTUOSO.rewrite(text).count("STR(LCASE(STR(?l)))") == 1


def test_profiles_and_endpoint_layout() -> None:
    assert set(ENGINES) == {"oxigraph", "virtuoso", "generic"}
    assert derive_endpoints("http://h:8890/sparql", profile=VIRTUOSO) == (
        "http://h:8890/sparql", "http://h:8890/sparql", "http://h:8890/sparql-graph-crud")
    assert derive_endpoints("http://h:8890", profile=VIRTUOSO, credentials=True) == (
        "http://h:8890/sparql-auth", "http://h:8890/sparql-auth",
        "http://h:8890/sparql-graph-crud-auth")
    assert engine_profile("virtuoso", "http://unused") is VIRTUOSO
    assert VIRTUOSO.permanent(b"Virtuoso 22012 Error SR084: Division by 0.")
    assert not VIRTUOSO.permanent(b"Virtuoso 40001 Error SR172: Transaction deadlocked")
    assert not VIRTUOSO.permanent(b"<html>Service Unavailable</html>")
    assert not ENGINES["oxigraph"].permanent(b"Virtuoso 22012 Error")
    assert VIRTUOSO.hides("http://www.openlinksw.com/schemas/virtrdf#")
    assert not VIRTUOSO.hides(NamedNode("https://w3id.org/imr-graph/id/graph/x").value)
    from imr_graph.errors import UsageError

    with pytest.raises(UsageError, match="unknown engine"):
        engine_profile("neptune", "http://unused")
