"""`imr-graph serve`: read-only by default, refuses a store an ingest is writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imr_graph.cli import app
from imr_graph.errors import StoreInUseError, UsageError
from imr_graph.graph.ingest import ingest
from imr_graph.graph.remote import RemoteStore
from imr_graph.graph.store import GraphStore
from imr_graph.views.server import OxigraphServer, free_port, parse_bind

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    with GraphStore(tmp_path / "store") as gs:
        assert all(r.ok for r in ingest(gs, [EXAMPLES]))
    return tmp_path / "store"


def test_read_only_server_answers_like_the_store_and_refuses_writes(store: Path) -> None:
    with GraphStore(store, read_only=True) as gs:
        expected = gs.stats()
    with OxigraphServer(store, f"127.0.0.1:{free_port()}") as srv:
        remote = RemoteStore(srv.url)
        assert remote.stats() == expected
        with pytest.raises(Exception, match=r"HTTP|rejected|read"):
            remote.update("INSERT DATA { GRAPH <http://e/g> { <http://e/s> <http://e/p> 1 } }")
        assert remote.stats() == expected


def test_refuses_store_being_written(store: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from imr_graph.graph.store import GraphStore; "
         f"g = GraphStore({str(store)!r}); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(StoreInUseError):
            OxigraphServer(store, f"127.0.0.1:{free_port()}").start()
        result = CliRunner().invoke(app, ["serve", "--store", str(store), "--bind",
                                          f"127.0.0.1:{free_port()}"])
        assert result.exit_code == 2
        assert "being written by another process" in result.output
    finally:
        holder.communicate(b"", timeout=30)


def test_bind_is_checked() -> None:
    assert parse_bind("127.0.0.1:7878") == ("127.0.0.1", 7878)
    for bad in ("7878", "host:", "h:99999"):
        with pytest.raises(UsageError):
            parse_bind(bad)
