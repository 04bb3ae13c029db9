"""Concurrent use: readers while an ingest writes; a second writer is refused clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import imr_graph.graph.store as store_module
from imr_graph.cli import app
from imr_graph.errors import StoreError, StoreInUseError
from imr_graph.graph.store import GraphStore

from .safety_letters import cli, env, seed_text, write_copies

runner = CliRunner()


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A store holding the seed letter."""
    f = tmp_path / "seed.txt"
    f.write_text(seed_text(), encoding="utf-8")
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", "--store", str(store), str(f)]).exit_code == 0
    return store


def start_ingest(store: Path, letters: Path, copies: int) -> subprocess.Popen[bytes]:
    """An ingest of ``copies`` letters in the background, returned once its first case is
    written (from then on the writer holds the store)."""
    write_copies(letters, copies)
    proc = subprocess.Popen([*cli(), "ingest", "-v", "--store", str(store), str(letters)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc

def test_queries_and_exports_run_while_an_ingest_writes(seeded: Path, tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    writer = start_ingest(seeded, letters, 60)
    reads = 0
    seen: list[int] = []
    try:
        while writer.poll() is None or reads < 3:
            for args in (["stats", "--format", "json"],
                         ["query", "most-disputed-services", "--format", "csv"],
                         ["dump", "--format", "nq", "--out", str(tmp_path / "all.nq")]):
                result = runner.invoke(app, [*args, "--store", str(seeded)])
                assert result.exit_code == 0, result.output
                reads += 1
                if args[0] == "stats":
                    seen.append(__import__("json").loads(result.stdout)["case_graphs"])
    finally:
        _out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err.decode()
    assert seen == sorted(seen) and seen[0] >= 1  # each reader sees a consistent snapshot
    with GraphStore(seeded, read_only=True) as gs:
        assert len(gs.case_graphs()) == 61


def test_a_second_writer_is_refused_with_one_line(seeded: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from imr_graph.graph.store import GraphStore; "
         f"g = GraphStore({str(seeded)!r}); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        f = seeded.parent / "seed.txt"
        for args in (["ingest", str(f)], ["drop", "CM15-0171547"],
                     ["update", "CLEAR GRAPH <http://example.org/g>"]):
            result = runner.invoke(app, [*args, "--store", str(seeded)])
            assert result.exit_code == 2, result.output
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and "in use by another process" in lines[0]
            assert str(seeded) in lines[0]
        with pytest.raises(StoreInUseError):
            GraphStore(seeded)
        # readers still work
        assert runner.invoke(app, ["stats", "--store", str(seeded)]).exit_code == 0
    finally:
        holder.communicate(b"", timeout=30)
    assert runner.invoke(app, ["drop", "CM15-0171547", "--store", str(seeded)]).exit_code == 0


def test_two_real_ingests_the_second_refuses(seeded: Path, tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    first = start_ingest(seeded, letters, 40)
    second = subprocess.run([*cli(), "ingest", "--store", str(seeded), str(letters)],
                            capture_output=True, env=env(), timeout=120)
    first.communicate(timeout=300)
    assert first.returncode == 0
    if second.returncode != 0:  # refused (unless the first had already finished)
        assert second.returncode == 2
        assert second.stderr.decode().strip().count("\n") == 0
        assert b"in use by another process" in second.stderr
    with GraphStore(seeded, read_only=True) as gs:
        assert len(gs.case_graphs()) == 41


class _FlakyStore:
    """Stands in for pyoxigraph.Store: read-only opening fails ``fails`` times first."""

    fails = 0
    calls = 0

    @classmethod
    def read_only(cls, path: str) -> object:
        cls.calls += 1
        if cls.calls <= cls.fails:
            raise OSError("Corruption: IO error: No such file or directory: 000123.sst")
        return _RealStore.read_only(path)


_RealStore = store_module.Store


def test_read_only_opening_retries_a_vanishing_file(seeded: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "Store", _FlakyStore)
    _FlakyStore.fails, _FlakyStore.calls = 3, 0
    with GraphStore(seeded, read_only=True) as gs:
        assert len(gs.case_graphs()) == 1
    assert _FlakyStore.calls == 4
    _FlakyStore.fails, _FlakyStore.calls = 100, 0
    with pytest.raises(StoreError) as info:
        GraphStore(seeded, read_only=True)
    assert "\n" not in str(info.value) and "cannot open store read-only" in str(info.value)
    assert _FlakyStore.calls == 8
