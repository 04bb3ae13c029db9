"""search: the FTS5 text index beside the store, its filters, and its consistency with the
store through ingest, re-ingest (replace), drop, a killed sync and a damaged index file."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import QueryError
from imr_graph.graph import textindex
from imr_graph.graph.store import GraphStore
from imr_graph.graph.textindex import fts_query, index_path, search, sync

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORPUS = ROOT.parent / "shared" / "corpus" / "dwc"
A = "000_456e8bcd7063d344.txt"  # CM15-0171547, intrathecal pump
runner = CliRunner()


def keys(store: Path, words: str, **filters: object) -> list[str]:
    with GraphStore(store, read_only=True) as gs:
        return [h["case"] for h in search(gs, words, **filters)[1]]  # type: ignore[arg-type]


def ingest(store: Path, *paths: Path) -> None:
    out = runner.invoke(app, ["ingest", *map(str, paths), "--store", str(store)])
    assert out.exit_code == 0, out.output


def test_fts_query() -> None:
    assert fts_query('pump "functional restoration"') == '"pump" AND "functional restoration"'
    assert fts_query("acupunct* -needle") == '"acupunct"* NOT "needle"'
    assert fts_query('x"); DROP TABLE items; --') == '"x" AND "DROP" AND "TABLE" AND "items"'
    with pytest.raises(QueryError):
        fts_query(' "" - ')


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_words_are_a_valid_query(words: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
    db.execute("INSERT INTO t VALUES ('pump refill and reprogramming')")
    try:
        query = fts_query(words)
    except QueryError:
        return
    db.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()


def test_search_follows_ingest_reingest_and_drop(tmp_path: Path) -> None:
    store = tmp_path / "store"
    letters = tmp_path / "letters"
    letters.mkdir()
    shutil.copy(EXAMPLES / A, letters / A)
    ingest(store, letters / A)
    assert not index_path(store).exists()  # no index until the first search
    assert keys(store, "intrathecal") == ["CM15-0171547"]
    assert keys(store, '"temporary trial"', outcome="upheld") == ["CM15-0171547"]
    assert keys(store, '"temporary trial"', outcome="overturned") == []
    assert keys(store, "pump", service="surgery/intrathecal-pump", year=2015,
                system="dwc") == ["CM15-0171547"]
    assert keys(store, "pump", year=2016) == [] and keys(store, "pump", system="dmhc") == []
    assert keys(store, "pump", service="surgery/") == ["CM15-0171547"]  # the category
    assert keys(store, "pump", service="medication/") == []
    # Ingest a second letter: the index follows (the ingest syncs an existing index).
    second = next(EXAMPLES.glob("001_*.txt"))
    ingest(store, second)
    assert keys(store, "reprogramming") == ["sha256-19c97d9bd2c2569c"]
    with GraphStore(store, read_only=True) as gs:
        assert sync(gs).checked is False  # already in step: no store scan
    # Re-ingest a changed letter of the same case: the old words go, the new ones come.
    text = (letters / A).read_text(encoding="utf-8")
    (letters / A).write_text(text.replace("psychiatric consultation", "zygomatic consultation"),
                             encoding="utf-8")
    ingest(store, letters / A)
    assert keys(store, "zygomatic") == ["CM15-0171547"]
    assert keys(store, "psychiatric") == []
    assert sorted(keys(store, "pump")) == ["CM15-0171547", "sha256-19c97d9bd2c2569c"]
    # Drop: gone from the index too.
    out = runner.invoke(app, ["drop", "CM15-0171547", "--store", str(store)])
    assert out.exit_code == 0, out.output
    assert keys(store, "zygomatic") == []
    with sqlite3.connect(index_path(store)) as db:
        assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 1


def test_killed_sync_leaves_the_old_index_and_is_caught_up(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    store = tmp_path / "store"
    ingest(store, EXAMPLES / A)
    assert keys(store, "intrathecal") == ["CM15-0171547"]
    from imr_graph.graph.ingest import ingest as library_ingest

    with GraphStore(store) as gs:  # the library: no index sync, written behind its back
        assert all(r.ok for r in library_ingest(gs, [next(EXAMPLES.glob("001_*.txt"))]))
    real = textindex._item_rows

    def dies(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        yield from real(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # killed after writing rows, before the commit

    monkeypatch.setattr(textindex, "_item_rows", dies)
    with GraphStore(store, read_only=True) as gs, pytest.raises(KeyboardInterrupt):
        sync(gs)
    with sqlite3.connect(index_path(store)) as db:  # the old index, whole
        assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
    monkeypatch.setattr(textindex, "_item_rows", real)
    assert keys(store, "reprogramming") == ["sha256-19c97d9bd2c2569c"]  # stale: caught up


def test_damaged_index_is_rebuilt_with_reindex(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(store, EXAMPLES / A)
    index_path(store).write_bytes(b"not a database at all" * 100)
    out = runner.invoke(app, ["search", "pump", "--store", str(store)])
    assert out.exit_code != 0 and "--reindex" in out.output
    # An ingest still stores its letters and warns about the index.
    again = runner.invoke(app, ["ingest", str(next(EXAMPLES.glob("001_*.txt"))),
                                "--store", str(store)])
    assert again.exit_code == 0 and "text index not updated" in again.output
    index_path(store).unlink()
    for extra in (index_path(store).with_name(index_path(store).name + s)
                  for s in ("-wal", "-shm")):
        extra.unlink(missing_ok=True)
    out = runner.invoke(app, ["search", "--reindex", "--store", str(store)])
    assert out.exit_code == 0 and "indexed 2 items of 2 cases" in out.output
    with GraphStore(store, read_only=True) as gs, pytest.raises(QueryError):
        search(gs, "   ")


def test_search_cli_formats(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ingest(store, EXAMPLES)
    base = ["search", "pump", "--store", str(store)]
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert "2 items match" in table.output and "[pump" in table.output.lower()
    data = json.loads(runner.invoke(app, [*base, "-f", "json"]).output)
    assert data["total"] == 2 and {r["case"] for r in data["rows"]} == {
        "CM15-0171547", "sha256-19c97d9bd2c2569c"}
    assert runner.invoke(app, [*base, "-f", "csv"]).output.startswith("case,item,decided")
    assert runner.invoke(app, [*base, "-f", "md"]).output.count("| CM15-0171547 |") == 1
    assert runner.invoke(app, ["search", "--store", str(store)]).exit_code == 2
    remote = runner.invoke(app, ["search", "pump", "--store", str(tmp_path / "none")])
    assert remote.exit_code != 0


def test_search_corpus(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip("corpus absent")
    store = tmp_path / "store"
    letters = sorted(CORPUS.glob("*.pdf"))[:40]
    out = runner.invoke(app, ["ingest", *map(str, letters), "--store", str(store), "-j", "1"])
    assert out.exit_code == 0, out.output
    with GraphStore(store, read_only=True) as gs:
        total, hits = search(gs, '"red flag"', service="lumbar MRI", limit=0)
        assert total == len(hits) > 0
        assert all(h["service"] == "imaging-mri/lumbar-spine" for h in hits)
        assert all("[red" in h["snippet"].lower() for h in hits)  # red flag(s), red-flag
        total_all, _ = search(gs, '"red flag"')
        assert total_all >= total


def test_commands_leave_the_index_in_step(tmp_path: Path) -> None:
    """ingest, link and drop bring the index in step after the store is closed, so the
    next question goes straight to the index (no check of every case: seconds at 100k)."""
    store = tmp_path / "store"
    ingest(store, next(EXAMPLES.glob("000_*.txt")))
    assert runner.invoke(app, ["search", "pump", "--store", str(store)]).exit_code == 0
    for args in (["ingest", str(EXAMPLES)], ["link"], ["drop", "CM15-0171547"]):
        out = runner.invoke(app, [*args, "--store", str(store)])
        assert out.exit_code == 0, out.output
        with GraphStore(store, read_only=True) as gs:
            assert not sync(gs).checked, args
