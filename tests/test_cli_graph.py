"""The graph commands end to end through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from typer.testing import CliRunner

from imr_graph.cli import app

from .conftest import EXAMPLES

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    result = runner.invoke(app, ["ingest", str(EXAMPLES), "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "letters: 2  items: 2" in result.output and "errors: 0" in result.output
    return path


def test_ingest_bad_file_is_named_and_the_rest_go_on(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not a letter at all\n")
    errors = tmp_path / "errors.jsonl"
    result = runner.invoke(app, ["ingest", str(bad), *map(str, sorted(EXAMPLES.glob("*.txt"))),
                                 "--store", str(tmp_path / "s"), "--errors", str(errors)])
    assert result.exit_code == 1
    assert "bad.txt" in result.stderr
    assert "letters: 2" in result.stdout and "errors: 1" in result.stdout
    failures = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [Path(f["path"]).name for f in failures] == ["bad.txt"]


def test_reingest_keeps_the_triple_count(store: Path) -> None:
    before = runner.invoke(app, ["stats", "--store", str(store), "--format", "json"])
    runner.invoke(app, ["ingest", str(EXAMPLES), "--store", str(store)])
    after = runner.invoke(app, ["stats", "--store", str(store), "--format", "json"])
    b, a = json.loads(before.stdout), json.loads(after.stdout)
    assert a["triples"] == b["triples"] and a["cases"] == 2 and a["upheld"] == 2


def test_query_canned_and_inline(store: Path) -> None:
    result = runner.invoke(app, ["query", "most-disputed-services", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "intrathecal pump" in result.stdout and "(2 rows)" in result.stdout
    result = runner.invoke(app, ["query", "case-items", "-p", "case=CM15-0171547",
                                 "--store", str(store), "--format", "csv"])
    assert result.exit_code == 0 and "IT Pain Pump Trial" in result.stdout
    result = runner.invoke(app, ["query", "-", "--store", str(store), "-f", "json"],
                           input="SELECT (COUNT(*) AS ?n) WHERE { ?i imr:outcome imr:Upheld }")
    assert json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"] == "2"


def test_query_errors(store: Path) -> None:
    cases = [
        (["query", "overturn-rate-by-servce"], "did you mean"),
        (["query", "cases-citing-section"], "missing parameter section"),
        (["query", "SELECT ?s WHERE { ?s ?p }"], "syntax error at line 1"),
        (["query", "DROP ALL"], "read-only"),
    ]
    for args, message in cases:
        result = runner.invoke(app, [*args, "--store", str(store)])
        assert result.exit_code == 2, args
        assert message in result.stderr and "Traceback" not in result.output


def test_query_graph_option(store: Path) -> None:
    result = runner.invoke(app, ["query", "SELECT ?i WHERE { ?i a imr:DisputedItem }",
                                 "--graph", "CM15-0171547", "--store", str(store)])
    assert result.exit_code == 0 and "(1 row)" in result.stdout
    result = runner.invoke(app, ["query", "SELECT ?i WHERE { ?i a imr:DisputedItem }",
                                 "--graph", "CM00-0000000", "--store", str(store)])
    assert result.exit_code == 2 and "no graph" in result.stderr


def test_queries_lists_descriptions() -> None:
    result = runner.invoke(app, ["queries"])
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("cases-citing-section"))
    assert "Cases citing a guideline section" in line and "section=" in line


def test_dump_drop_validate_update(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.trig"
    result = runner.invoke(app, ["dump", "--format", "trig", "--out", str(out),
                                 "--store", str(store)])
    assert result.exit_code == 0, result.output
    ds = rdflib.Dataset()
    ds.parse(out, format="trig")
    stats = json.loads(runner.invoke(app, ["stats", "--store", str(store), "-f", "json"]).stdout)
    assert len(ds) == stats["triples"]

    result = runner.invoke(app, ["validate", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "cases: 2  conforming: 2  violations: 0" in result.stdout

    result = runner.invoke(app, ["update", "DELETE WHERE { GRAPH ?g { ?i imr:outcome ?o } }",
                                 "--store", str(store)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["validate", "--store", str(store)])
    assert result.exit_code == 1
    assert "CM15-0171547: case/CM15-0171547/item/1 imr:outcome" in result.stdout

    result = runner.invoke(app, ["drop", "CM15-0171547", "--store", str(store)])
    assert result.exit_code == 0 and "dropped" in result.stdout
    result = runner.invoke(app, ["drop", "CM15-0171547", "--store", str(store)])
    assert result.exit_code == 2 and "no graph" in result.stderr
    result = runner.invoke(app, ["update", "LOAD <http://example.org/x>", "--store", str(store)])
    assert result.exit_code == 2 and "LOAD is disabled" in result.stderr


def test_store_from_environment(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMR_GRAPH_STORE", str(store))
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0 and str(store) in result.stdout


def test_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "most-disputed-services", "--store",
                                 str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "no store here" in result.stderr
