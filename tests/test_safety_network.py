"""No network unless asked: SERVICE and LOAD refused by meaning, whatever the spelling,
in the library, the CLI and ``serve``; ``serve`` checks the Host header.

A local TCP listener stands in for "the network": every refused spelling is run for real
(library, CLI, server) and the listener must not see a single connection. The same
spelling with ``--allow-service`` does reach it, which shows the listener would notice.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import QueryError
from imr_graph.graph.queries import canned_queries, check_read_only, parse_header, run_query
from imr_graph.graph.sparqlguard import _parsed_names, network_operations, tokens
from imr_graph.graph.store import GraphStore
from imr_graph.views.httpguard import host_allowed, sparql_texts
from imr_graph.views.server import OxigraphServer, free_port

from .safety_letters import examples_store

runner = CliRunner()


class Listener:
    """A TCP server on loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.hits += 1
            conn.close()

    def seen(self) -> int:
        time.sleep(0.2)  # a connection under way is counted
        return self.hits

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return examples_store(tmp_path_factory.mktemp("network") / "store")


def query_spellings(url: str) -> list[str]:
    """SERVICE written every way a SPARQL parser (Oxigraph's or rdflib's) accepts it."""
    base, _, name = url.rpartition("/")
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE<{url}> {{ ?s ?p ?o }} }}",  # no space
        f"SELECT * WHERE {{ SERVICE SILENT<{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",  # lower case
        f"SELECT * WHERE {{ SeRvIcE\tSiLeNt\n<{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE#comment\nSILENT#another\n<{url}>{{?s ?p ?o}} }}",
        f"PREFIX e: <{base}/> SELECT * WHERE {{ SERVICE SILENT e:{name} {{ ?s ?p ?o }} }}",
        f"PREFIX : <{base}/> SELECT * WHERE {{ SERVICE SILENT :{name} {{ ?s ?p ?o }} }}",
        f"BASE <{base}/> SELECT * WHERE {{ SERVICE SILENT <{name}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE SILENT <{url}> {{ ?s ?p ?x }} }} }}",
        f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE SILENT <{url}> {{ ?a ?b ?c }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE SILENT ?u {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?u {{ <{url}> }} SERVICE SILENT ?u {{ ?s ?p ?o }} }}",
        f"ASK {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
        # rdflib cannot parse LATERAL; Oxigraph can (the token stream decides)
        f"SELECT * WHERE {{ ?s ?p ?o LATERAL {{ SERVICE SILENT <{url}> {{ ?a ?b ?c }} }} }}",
        # \\u escapes: the specification expands them before parsing
        f"SELECT * WHERE {{ \\u0053ERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    ]


def update_spellings(url: str) -> list[str]:
    base, _, name = url.rpartition("/")
    return [
        f"LOAD <{url}>",
        f"LOAD<{url}>",
        f"load silent<{url}>",
        f"LOAD SILENT <{url}> INTO GRAPH <http://e/g>",
        f"#c\nLoAd#c\n<{url}>",
        f"PREFIX e: <{base}/> LOAD SILENT e:{name}",
        f"INSERT DATA {{ <http://e/s> <http://e/p> 1 }} ; LOAD SILENT <{url}>",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE SILENT<{url}> {{ ?s ?p ?o }} }}",
        f"DELETE {{ ?s ?p ?o }} WHERE {{ OPTIONAL {{ service <{url}> {{ ?s ?p ?o }} }} }}",
    ]


NOT_NETWORK = [
    "SELECT ?service WHERE { ?i imr:service ?service } # SERVICE <http://x/>",
    'SELECT * WHERE { ?s ?p "SERVICE <http://x/> { ?s ?p ?o }" }',
    "SELECT * WHERE { ?s ?p '''LOAD <http://x/>''' }",
    "SELECT ?load WHERE { ?s <http://x/SERVICE> ?load }",
    "PREFIX service: <http://x/> SELECT * WHERE { ?s service:load ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o = 'load') } # LOAD <http://x/>",
]


def test_tokens_read_sparql_terminals() -> None:
    got = tokens('PREFIX e: <http://x/> SELECT ?s#c\n{ ?s e:p "a\\"b" , 1.5 , _:b @en . }')
    assert got == [("word", "PREFIX"), ("pname", "e:"), ("iri", "<http://x/>"),
                   ("word", "SELECT"), ("var", "?s"), ("punct", "{"), ("var", "?s"),
                   ("pname", "e:p"), ("string", '"a\\"b"'), ("punct", ","),
                   ("number", "1.5"), ("punct", ","), ("bnode", "_:b"),
                   ("langtag", "@en"), ("punct", "."), ("punct", "}")]


def test_every_spelling_is_found_and_nothing_else(listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    for text in query_spellings(url):
        assert network_operations(text) == ("SERVICE",), text
        with pytest.raises(QueryError, match="SERVICE"):
            check_read_only(text)
    for text in update_spellings(url):
        assert network_operations(text), text
    for text in NOT_NETWORK:
        assert network_operations(text) == (), text
        check_read_only(text)


def test_the_parse_tree_finds_what_the_tokens_find() -> None:
    # the second, independent reading: rdflib's syntax tree, where rdflib can parse
    url = "http://127.0.0.1:9/sparql"
    for text in query_spellings(url) + update_spellings(url):
        names = _parsed_names(text)
        if "LATERAL" in text:
            assert names is None
            continue
        assert names is not None, text
        assert {"ServiceGraphPattern", "Load"} & names, text
    for text in NOT_NETWORK[1:]:
        names = _parsed_names(text)
        assert names is not None and not {"ServiceGraphPattern", "Load"} & names, text


def test_canned_queries_parse_and_stay_offline() -> None:
    for name, q in canned_queries().items():
        names = _parsed_names(q.text)
        assert names is not None, name
        assert not {"ServiceGraphPattern", "Load"} & names, name
        assert network_operations(q.text) == (), name


def test_library_refuses_and_the_listener_sees_nothing(store: Path, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    before = listener.seen()
    with GraphStore(store) as gs:
        for text in query_spellings(url):
            with pytest.raises(QueryError, match="SERVICE"):
                run_query(gs, parse_header(text))
        for text in update_spellings(url):
            with pytest.raises(QueryError, match="disabled"):
                gs.update(text)
    assert listener.seen() == before
    # opting in does reach the listener: the test would notice a call
    with GraphStore(store, read_only=True) as gs:
        text = f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"
        list(run_query(gs, parse_header(text), allow_service=True))  # type: ignore[call-overload]
    assert listener.seen() > before


def test_cli_refuses_with_one_line(store: Path, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    before = listener.seen()
    for text in query_spellings(url):
        result = runner.invoke(app, ["query", text, "--store", str(store)])
        assert result.exit_code == 2, (text, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "SERVICE" in result.stderr
        if "CONSTRUCT" in text:
            result = runner.invoke(app, ["export", "--query", text, "--store", str(store)])
            assert result.exit_code == 2 and "SERVICE" in result.stderr
    for text in update_spellings(url):
        result = runner.invoke(app, ["update", text, "--store", str(store)])
        assert result.exit_code == 2, (text, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "disabled" in result.stderr
    assert listener.seen() == before


def test_allowed_service_without_silent_fails_in_one_line(store: Path,
                                                         listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    result = runner.invoke(app, ["query", f"SELECT * WHERE {{ SERVICE<{url}> {{ ?s ?p ?o }} }}",
                                 "--allow-service", "--store", str(store)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("imr-graph: error: ")


def _post(url: str, data: bytes, ctype: str, host: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype})
    if host is not None:
        req.add_unredirected_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_refuses_service_and_foreign_hosts(store: Path, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/sparql"
    before = listener.seen()
    with OxigraphServer(store, f"127.0.0.1:{free_port()}") as srv:
        endpoint = f"{srv.url}/query"
        for text in query_spellings(url):
            code, body = _post(endpoint, text.encode(), "application/sparql-query")
            assert code == 403 and b"SERVICE" in body, (text, code, body)
            form = urllib.parse.urlencode({"query": text}).encode()
            code, _ = _post(endpoint, form, "application/x-www-form-urlencoded")
            assert code == 403
            get = f"{endpoint}?{urllib.parse.urlencode({'query': text})}"
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(get, timeout=30)
            assert err.value.code == 403
        for text in update_spellings(url):
            code, _ = _post(f"{srv.url}/update", text.encode(), "application/sparql-update")
            assert code == 403, text
        assert listener.seen() == before
        # a plain query goes through; a rebinding page's Host gets nothing
        ask = b"ASK { ?s ?p ?o }"
        code, body = _post(endpoint, ask, "application/sparql-query")
        assert code == 200 and b"true" in body
        code, body = _post(endpoint, ask, "application/sparql-query", host=f"localhost:{srv.port}")
        assert code == 200
        for host in (f"evil.example:{srv.port}", "evil.example", f"127.0.0.1.evil.example:{srv.port}"):
            code, body = _post(endpoint, ask, "application/sparql-query", host=host)
            assert code == 403 and b"Host" in body and b"true" not in body
    with OxigraphServer(store, f"127.0.0.1:{free_port()}", allow_service=True,
                        allow_hosts=("graph.internal",)) as srv:
        code, _ = _post(f"{srv.url}/query", b"ASK { ?s ?p ?o }", "application/sparql-query",
                        host="graph.internal:80")
        assert code == 200
        text = f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"
        code, _ = _post(f"{srv.url}/query", text.encode(), "application/sparql-query")
        assert code == 200
        assert listener.seen() > before


def test_host_rules() -> None:
    assert host_allowed("127.0.0.1:7878") and host_allowed("[::1]:7878")
    assert host_allowed("localhost:7878") and host_allowed("10.1.2.3")
    assert host_allowed("Graph.Internal:8080", ("graph.internal",))
    assert not host_allowed(None) and not host_allowed("")
    assert not host_allowed("evil.example:7878") and not host_allowed("localhost.evil.example")
    assert sparql_texts("GET", "/query?query=ASK%7B%7D", "", b"") == ["ASK{}"]
    assert sparql_texts("POST", "/update", "application/x-www-form-urlencoded",
                        b"update=LOAD+%3Chttp%3A%2F%2Fx%3E") == ["LOAD <http://x>"]
