"""The remote backend: a real `oxigraph serve` on a free loopback port against the embedded store."""

from __future__ import annotations

import http.server
import re
import shlex
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, QueryBoolean, QuerySolutions, QueryTriples

from imr_graph.errors import NotFoundError, RemoteWriteError, StoreError, UsageError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.queries import (
    canned_queries,
    parse_header,
    parse_param_args,
    run_query,
)
from imr_graph.graph.remote import RemoteStore, bind_values, derive_endpoints, open_backend
from imr_graph.graph.store import GraphStore
from imr_graph.views.server import OxigraphServer, free_port

# One ingest time for both stores: the provenance timestamps are part of what is compared.
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
CORPUS = REPO.parent / "shared" / "corpus" / "dwc"


def start_server(tmp: Path) -> OxigraphServer:
    return OxigraphServer(tmp, f"127.0.0.1:{free_port()}", read_write=True).start(timeout=30)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[OxigraphServer]:
    srv = start_server(tmp_path / "server-data")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[GraphStore]:
    with GraphStore(tmp_path / "embedded") as gs:
        results = list(ingest(gs, [EXAMPLES], ingest_time=WHEN))
        assert results and all(r.ok for r in results)
        yield gs


def _cell(term: object) -> str:
    return "_:b" if isinstance(term, BlankNode) else ("" if term is None else str(term))


def canonical(result: object) -> object:
    """A comparable form of a query result (blank node labels erased, rows sorted)."""
    if isinstance(result, QueryBoolean):
        return bool(result)
    if isinstance(result, QueryTriples):
        return sorted(" ".join(_cell(t) for t in (tr.subject, tr.predicate, tr.object))
                      for tr in result)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return names, sorted(tuple(_cell(sol[n]) for n in names) for sol in result)


def example_params(q_text: str) -> dict[str, str]:
    """The --param values of the first ``example:`` line of a canned query."""
    for line in q_text.splitlines():
        if line.lstrip("# ").lower().startswith("example:"):
            words = shlex.split(line.split(":", 1)[1])
            return parse_param_args([w for i, w in enumerate(words)
                                     if i > 0 and words[i - 1] in ("--param", "-p")])
    return {}


def compare_canned(local: GraphStore, remote: RemoteStore) -> int:
    """Run every canned query on both backends; return how many gave non-empty results."""
    non_empty = 0
    for name, q in canned_queries().items():
        params = example_params(q.text)
        if any(p.default is None and p.name not in params for p in q.params):
            params.update({p.name: "x" for p in q.params if p.name not in params})
        try:
            expected = canonical(run_query(local, q, params))
        except NotFoundError:  # the example's case is not in this store: both say so
            with pytest.raises(NotFoundError):
                run_query(remote, q, params)
            continue
        got = canonical(run_query(remote, q, params))
        assert got == expected, name
        if expected and (not isinstance(expected, tuple) or expected[1]):
            non_empty += 1
    return non_empty


def test_ingest_through_endpoint_matches_embedded(server: OxigraphServer,
                                                  embedded: GraphStore) -> None:
    remote = RemoteStore(server.url)
    results = list(ingest(remote, [EXAMPLES], ingest_time=WHEN))
    assert [r.ok for r in results] == [True] * len(results)
    assert remote.stats() == embedded.stats()
    assert [g.value for g in remote.case_graphs()] == [g.value for g in embedded.case_graphs()]
    assert remote.case_count() == embedded.case_count() == len(embedded.case_graphs())
    assert compare_canned(embedded, remote) >= 5
    # re-ingest: each case is replaced, not duplicated
    list(ingest(remote, [EXAMPLES], ingest_time=WHEN))
    assert len(remote) == len(embedded)


def test_query_shapes_graph_narrowing_and_dump(server: OxigraphServer,
                                               embedded: GraphStore) -> None:
    remote = RemoteStore(server.url)
    list(ingest(remote, [EXAMPLES], ingest_time=WHEN))
    graph = embedded.case_graphs()[0]
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert canonical(remote.query(text, graph=graph)) == canonical(
        embedded.query(text, graph=graph))
    ask = "ASK { ?i imr:outcome imr:Upheld }"
    assert isinstance(remote.query(ask), QueryBoolean)
    construct = "CONSTRUCT { ?c imr:caseKey ?k } WHERE { ?c imr:caseKey ?k }"
    got = remote.query(construct)
    assert isinstance(got, QueryTriples)
    assert canonical(got) == canonical(embedded.query(construct))
    for fmt in ("nq", "trig", "ttl"):
        import rdflib
        from rdflib.compare import isomorphic

        kind = rdflib.Dataset if fmt in ("nq", "trig") else rdflib.Graph
        mine = kind().parse(data=remote.dump(fmt), format={"nq": "nquads", "ttl": "turtle"}
                            .get(fmt, fmt))
        theirs = kind().parse(data=embedded.dump(fmt), format={"nq": "nquads", "ttl": "turtle"}
                              .get(fmt, fmt))
        assert len(mine) == len(theirs)
        if fmt == "ttl":
            assert isomorphic(mine, theirs)
    removed = remote.drop_case(graph.value)
    assert removed == embedded.graph_size(graph)
    assert graph not in remote.case_graphs()


def test_parameters_stay_literals(server: OxigraphServer, embedded: GraphStore) -> None:
    remote = RemoteStore(server.url)
    list(ingest(remote, [EXAMPLES], ingest_time=WHEN))
    evil = 'x" } ; DROP ALL ; #'
    q = parse_header("SELECT ?v (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?v")
    for store in (embedded, remote):
        rows = canonical(run_query(store, q, {"v": evil}))
        assert rows == (["v", "n"], [('"x\\" } ; DROP ALL ; #"', str(len(embedded)).join(
            ['"', '"^^<http://www.w3.org/2001/XMLSchema#integer>']))])
    assert len(remote) == len(embedded)


def test_bind_values_places_block_in_outer_where() -> None:
    from pyoxigraph import Literal

    text = 'PREFIX ex: <http://e/#where{>\nSELECT ?a WHERE { # WHERE {\n ?a ?b "WHERE {" }'
    out = bind_values(text, {"a": Literal('q"')})
    assert out.count("VALUES") == 1
    assert re.search(r'SELECT \?a WHERE \{ VALUES \(\?a\) \{ \("q\\""\) \}', out)


def test_endpoint_defaults_and_backend_choice(tmp_path: Path) -> None:
    assert derive_endpoints("http://h:7878") == (
        "http://h:7878/query", "http://h:7878/update", "http://h:7878/store")
    assert derive_endpoints("http://h/ds/query", "http://h/ds/update", "http://h/ds/data")[2] \
        == "http://h/ds/data"
    with pytest.raises(UsageError):
        derive_endpoints("ftp://h/x")
    with pytest.raises(UsageError):
        open_backend(tmp_path, "http://127.0.0.1:1/query")
    with pytest.raises(StoreError, match="cannot reach"):
        open_backend(None, f"http://127.0.0.1:{free_port()}")
    assert isinstance(open_backend(tmp_path / "s", None), GraphStore)


class _Flaky(http.server.BaseHTTPRequestHandler):
    """PUT fails with 503 twice, then 204; graphs named ...bad fail with 500 for ever."""

    calls: list[str] = []  # noqa: RUF012
    auth: list[str | None] = []  # noqa: RUF012

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.auth.append(self.headers.get("Authorization"))
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"head":{},"boolean":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.calls.append(self.path)
        bad = "bad" in self.path
        status = 500 if bad else (503 if self.calls.count(self.path) <= 2 else 204)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_retry_with_backoff_and_failed_case(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyoxigraph import NamedNode, Quad

    monkeypatch.setenv("IMR_GRAPH_TOKEN", "s3cret")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        sleeps: list[float] = []
        remote = RemoteStore(f"http://127.0.0.1:{httpd.server_port}", retries=3,
                             backoff=0.1, sleep=sleeps.append)
        assert _Flaky.auth[-1] == "Bearer s3cret"
        good = NamedNode("https://w3id.org/imr-graph/id/graph/good")
        quad = Quad(NamedNode("http://e/s"), NamedNode("http://e/p"), NamedNode("http://e/o"),
                    good)
        assert remote.replace_graph(good, [quad, quad]) == 1
        assert sleeps == [0.1, 0.2]
        bad = NamedNode("https://w3id.org/imr-graph/id/graph/bad")
        with pytest.raises(RemoteWriteError, match="HTTP 500"):
            remote.replace_graph(bad, [Quad(quad.subject, quad.predicate, quad.object, bad)])
        assert sleeps[2:] == [0.1, 0.2, 0.4]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_killed_server_loses_no_reported_case(tmp_path: Path) -> None:
    data = tmp_path / "server-data"
    srv = start_server(data)
    written: dict[str, int] = {}
    try:
        remote = RemoteStore(srv.url, retries=1, backoff=0.01)
        results = []
        with pytest.raises(StoreError, match="Connection refused"):  # the final prune
            for result in ingest(remote, [EXAMPLES], ingest_time=WHEN):
                results.append(result)
                if result.ok:
                    written[result.graph] = result.triples  # type: ignore[index]
                if len(results) == 1:
                    srv.kill()  # crash after the first case was reported written
        assert written and len(results) == 2
        assert not results[1].ok and isinstance(results[1].error, RemoteWriteError)
    finally:
        srv.stop()
    srv = start_server(data)
    try:
        remote = RemoteStore(srv.url)
        from pyoxigraph import NamedNode

        for graph, triples in written.items():
            assert remote.graph_size(NamedNode(graph)) == triples
    finally:
        srv.stop()


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_same_answers_on_both_backends(server: OxigraphServer, tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("corpus absent (../shared/corpus/dwc)")
    from imr_graph.letters.parsing import parse_document
    from imr_graph.letters.reading import read_document

    remote = RemoteStore(server.url)
    with GraphStore(tmp_path / "embedded-corpus") as local:
        for path in sorted(CORPUS.glob("*.pdf")):
            try:
                doc = read_document(path)
                record = parse_document(doc)
            except Exception:  # letters the parser refuses are not part of this comparison
                continue
            local.replace_case(record, doc.text)
            remote.replace_case(record, doc.text)
        assert local.stats()["cases"] > 50
        assert remote.stats() == local.stats()
        assert compare_canned(local, remote) >= 10


def test_export_and_report_through_endpoint(server: OxigraphServer, embedded: GraphStore,
                                            tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from imr_graph.cli import app
    from imr_graph.views.export import Selection, select
    from imr_graph.views.report import report_data

    remote = RemoteStore(server.url)
    assert all(r.ok for r in ingest(remote, [EXAMPLES], ingest_time=WHEN))
    for selection in (Selection(), Selection(case="CM15-0171547")):
        here, there = select(embedded, selection), select(remote, selection)
        assert (there.number_of_nodes(), there.number_of_edges()) == (
            here.number_of_nodes(), here.number_of_edges())
    assert report_data(remote)["summary"] == report_data(embedded)["summary"]
    runner = CliRunner()
    out = tmp_path / "case.graphml"
    run = runner.invoke(app, ["export", "--endpoint", server.url, "--case", "CM15-0171547",
                              "--format", "graphml", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert out.read_text().startswith("<graphml")
    run = runner.invoke(app, ["report", "--endpoint", server.url, "--out", str(tmp_path / "r")])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "r" / "index.html").is_file()


def test_bind_values_reaches_a_filter_in_a_nested_group() -> None:
    from pyoxigraph import Literal, NamedNode, Quad, Store, Variable

    text = ("SELECT ?s ?n WHERE { { { SELECT ?s ?l WHERE { ?s <http://e/l> ?l } } "
            "FILTER(CONTAINS(?l, ?n)) } VALUES ?k { 1 2 } }")
    out = bind_values(text, {"n": Literal("b")})
    assert out.count("VALUES (?n)") == 2  # the outer WHERE and the filter's group
    st = Store()
    for s, label in (("a", "abc"), ("x", "xyz")):
        st.add(Quad(NamedNode(f"http://e/{s}"), NamedNode("http://e/l"), Literal(label)))
    rows = lambda r: sorted((x["s"].value, x["n"].value) for x in r)  # noqa: E731
    assert rows(st.query(out)) == rows(st.query(text, substitutions={
        Variable("n"): Literal("b")})) == [("http://e/a", "b")] * 2
