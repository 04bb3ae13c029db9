"""SPARQL safety: parameters never change a query, time-outs, row limits, no SERVICE."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import NotFoundError, QueryError
from imr_graph.graph.queries import (
    call_with_timeout,
    check_read_only,
    format_result,
    limit_rows,
    parse_header,
    resolve_query,
    run_query,
)
from imr_graph.graph.sparqlguard import check_update
from imr_graph.graph.store import GraphStore

from .safety_letters import cli, env, examples_store

runner = CliRunner()

INJECTIONS = [
    'x" } ; DROP ALL ; #',
    "x' } DELETE WHERE { ?s ?p ?o } #",
    '"} UNION { ?s ?p ?o } FILTER("1"="1',
    '\\" ) } } INSERT DATA { <http://e/s> <http://e/p> 1 } #',
    "x\n} SERVICE <http://evil.example/sparql> { ?s ?p ?o } #",
    '""" } ; CLEAR ALL ; """',
    "?case ?p ?o",
    "<http://e/x> } ; DROP ALL ; #",
    "\u0000\u202e} ; LOAD <http://evil.example/x> #",
]

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return examples_store(tmp_path_factory.mktemp("sparql") / "store")


def query_cli(store: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["query", *args, "--store", str(store)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injected_parameters_stay_one_term(store: Path, evil: str) -> None:
    with GraphStore(store, read_only=True) as gs:
        before = len(gs)
        assert list(run_query(gs, resolve_query("cases-citing-section"),  # type: ignore[call-overload]
                              {"section": evil})) == []
        with pytest.raises(NotFoundError):  # a case key is looked up: no such case, by name
            run_query(gs, resolve_query("case-items"), {"case": evil})
        q = parse_header("SELECT ?v ?s WHERE { ?s ?p ?v }")
        assert list(run_query(gs, q, {"v": evil})) == []  # type: ignore[call-overload]
        # the same query finds a real value, and a value with the evil text around it is
        # still one literal
        assert len(list(run_query(gs, q, {"v": "CM15-0171547"}))) >= 2  # type: ignore[call-overload]
        assert list(run_query(gs, q, {"v": f"CM15-0171547{evil}"})) == []  # type: ignore[call-overload]
        assert len(gs) == before
    code, out, err = query_cli(store, "cases-citing-section", "--param", f"section={evil}")
    assert code == 0 and out.rstrip().endswith("(0 rows)"), err


def test_an_iri_parameter_cannot_break_out(store: Path) -> None:
    code, _, err = query_cli(store, "case-items", "--param",
                             "case=<http://e/x> } ; DROP ALL ; #>")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    "PREFIX e: <http://example.org/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE\n<http://x/> { ?s ?p ?q } } }",
])
def test_service_is_refused_unless_allowed(store: Path, text: str) -> None:
    with pytest.raises(QueryError, match="SERVICE"):
        check_read_only(text)
    check_read_only(text, allow_service=True)
    with pytest.raises(QueryError, match="SERVICE"):
        check_update(f"INSERT {{ ?s ?p ?o }} WHERE {{ {text[text.index('{') + 1:]}")
    code, _, err = query_cli(store, text)
    assert code == 2 and "--allow-service" in err and len(err.strip().splitlines()) == 1


def test_allowed_service_reaches_oxigraph(store: Path) -> None:
    # Only loopback port 1 (closed): SILENT turns the failed call into an empty result.
    code, _out, err = query_cli(store, "--allow-service", "SELECT * WHERE { SERVICE SILENT "
                               "<http://127.0.0.1:1/sparql> { ?s ?p ?o } }")
    assert "disabled" not in err
    assert code in (0, 2)


def test_call_with_timeout() -> None:
    assert call_with_timeout(lambda: 42, 5) == 42
    assert call_with_timeout(lambda: 42, 0) == 42
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 // 0, 5)
    start = time.monotonic()
    with pytest.raises(QueryError, match=r"--timeout of 0\.2 s"):
        call_with_timeout(lambda: time.sleep(3), 0.2)
    assert time.monotonic() - start < 2.5


def test_query_timeout_stops_a_runaway_query(store: Path) -> None:
    done = subprocess.run([*cli(), "query", HEAVY, "--timeout", "1", "--store", str(store)],
                          capture_output=True, env=env(), timeout=120)
    assert done.returncode == 2
    err = done.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "--timeout of 1 s" in err
    assert done.stdout == b""


def test_row_limit(store: Path) -> None:
    q = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    code, out, err = query_cli(store, q)
    lines = out.splitlines()
    with GraphStore(store, read_only=True) as gs:
        total = len(gs)
    assert code == 0 and total < 10000 and f"({total} rows)" in lines[-1]
    code, out, _ = query_cli(store, q, "--limit", "5")
    assert code == 0
    assert out.splitlines()[-2:] == ["(5 rows)", "(truncated at 5 rows; --limit N shows more, "
                                     "--limit 0 all)"]
    code, out, err = query_cli(store, q, "--limit", "7", "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 8 and "truncated at 7" in err
    code, out, err = query_cli(store, q, "--limit", "0", "--format", "tsv")
    assert code == 0 and len(out.strip().splitlines()) == total + 1 and err == ""
    code, out, err = query_cli(store, q, "--limit", str(total), "--format", "json")
    assert code == 0 and "truncated" not in err


def test_limit_rows_keeps_terms_and_unbound_cells() -> None:
    s = ox.Store()
    e = "http://example.org/"
    s.add(ox.Quad(ox.NamedNode(e + "a"), ox.NamedNode(e + "p"), ox.Literal("x\"y\nz", language="en")))
    s.add(ox.Quad(ox.NamedNode(e + "b"), ox.NamedNode(e + "p"),
                  ox.Literal("5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
    s.add(ox.Quad(ox.BlankNode("n1"), ox.NamedNode(e + "p"), ox.Literal("b")))
    text = "SELECT ?s ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?s <http://e/nothing> ?none } } ORDER BY ?o"
    full = [[r[c] for c in ("s", "o", "none")] for r in s.query(text)]  # type: ignore[union-attr]
    kept, cut = limit_rows(s.query(text), 2)
    assert cut
    rows = [[r[c] for c in ("s", "o", "none")] for r in kept]  # type: ignore[union-attr]
    blank = ox.NamedNode("urn:x-blank:n1")
    assert rows == [[blank if isinstance(t, ox.BlankNode) else t for t in row]
                    for row in full[:2]]
    again, cut = limit_rows(s.query(text), 3)
    assert not cut and len(list(again)) == 3  # type: ignore[arg-type]
    assert b"urn:x-blank:" in format_result(limit_rows(s.query(text), 3)[0], "csv")
    ask = s.query("ASK { ?s ?p ?o }")
    assert limit_rows(ask, 1) == (ask, False)


def test_serve_is_read_only_unless_asked() -> None:
    from imr_graph.views.server import OxigraphServer

    result = runner.invoke(app, ["serve", "--help"])
    assert "--read-write" in result.stdout
    import inspect

    default = inspect.signature(OxigraphServer).parameters["read_write"].default
    assert default is False
    bind = next(p for p in app.registered_commands if p.name == "serve" or
                (p.callback and p.callback.__name__ == "serve"))
    assert bind.callback is not None
    params = inspect.signature(bind.callback).parameters
    assert "127.0.0.1" in str(params["bind"].default)
    assert params["read_write"].default is False
