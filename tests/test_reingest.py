"""Re-ingest: unchanged letters are passed over (as ``--resume`` would), changed letters of
stored cases are written as their difference, and the result is what a fresh ingest gives."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imr_graph.graph.mapping import MAPPING_VERSION
from imr_graph.graph.pipeline import PipelineStats, _Writer, ingest_parallel, unchanged
from imr_graph.graph.store import GraphStore
from imr_graph.resources import ontology_file

from .safety_letters import write_copies

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = datetime(2025, 6, 7, 8, 9, 10, tzinfo=UTC)


def _quads(store: Path) -> set[tuple[str, str, str, str]]:
    with GraphStore(store, read_only=True) as gs:
        return {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name))
                for q in gs.store}


def _ingest(store: Path, folder: Path, when: datetime) -> PipelineStats:
    stats = PipelineStats()
    with GraphStore(store) as gs:
        assert all(r.ok for r in ingest_parallel(gs, [folder], jobs=2, ingest_time=when,
                                                 stats=stats))
    return stats


def _change(folder: Path, out: Path) -> None:
    out.mkdir()
    for f in sorted(folder.iterdir()):
        text = f.read_text(encoding="utf-8")
        (out / f.name).write_text(text.replace("The injured worker is a",
                                               "(Amended.) The injured worker is a", 1),
                                  encoding="utf-8")


def test_mapping_version_is_the_ontology_version() -> None:
    m = re.search(r'owl:versionInfo "([^"]+)"', ontology_file().read_text(encoding="utf-8"))
    assert m is not None and m[1] == MAPPING_VERSION


def test_unchanged_letters_are_passed_over(tmp_path: Path) -> None:
    letters = tmp_path / "letters"
    write_copies(letters, 12)
    store = tmp_path / "store"
    first = _ingest(store, letters, WHEN)
    assert first.unchanged == 0
    before = _quads(store)
    again = _ingest(store, letters, LATER)
    assert again.unchanged == 12 and again.write_seconds < first.write_seconds
    assert _quads(store) == before  # not even the ingest time moved
    with GraphStore(store) as gs:
        assert all(unchanged(gs, p) for p in letters.iterdir())
        # a case written by another mapping version is not "unchanged"
        gs.update('DELETE { GRAPH ?g { ?a imr:mappingVersion ?v } } INSERT { GRAPH ?g { '
                  '?a imr:mappingVersion "0.9" } } WHERE { GRAPH ?g { ?a imr:mappingVersion ?v '
                  '} }')
        assert not any(unchanged(gs, p) for p in letters.iterdir())
    third = _ingest(store, letters, LATER)
    assert third.unchanged == 0
    with GraphStore(store, read_only=True) as gs:
        assert all(unchanged(gs, p) for p in letters.iterdir())


def test_changed_letters_end_as_a_fresh_ingest_would(tmp_path: Path) -> None:
    letters, changed = tmp_path / "letters", tmp_path / "changed"
    write_copies(letters, 12)
    _change(letters, changed)
    _ingest(tmp_path / "store", letters, WHEN)
    stats = _ingest(tmp_path / "store", changed, LATER)
    assert stats.unchanged == 0
    _ingest(tmp_path / "fresh", changed, LATER)
    assert _quads(tmp_path / "store") == _quads(tmp_path / "fresh")


def test_changed_cases_in_several_batches_mixed_with_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed cases are written a batch at a time (one update each): with batches of 5,
    17 changed letters of stored cases among 6 new letters end as a fresh ingest would,
    and so does a letter of a case already waiting in the batch (the later one wins)."""
    monkeypatch.setattr(_Writer, "CHANGED_BATCH", 5)
    letters, changed = tmp_path / "letters", tmp_path / "changed"
    write_copies(letters, 17)
    _change(letters, changed)
    for p in write_copies(tmp_path / "new", 6, start=9100000):  # new cases, in between
        p.rename(changed / p.name.replace("copy-", "copy-0010-"))
    (changed / "copy-0003b.txt").write_text(  # a second letter of copy-0003's case
        (changed / "copy-0003.txt").read_text(encoding="utf-8").replace(
            "(Amended.)", "(Amended twice.)"), encoding="utf-8")
    _ingest(tmp_path / "store", letters, WHEN)
    stats = _ingest(tmp_path / "store", changed, LATER)
    assert stats.unchanged == 0 and stats.files == 24
    _ingest(tmp_path / "fresh", changed, LATER)
    got = _quads(tmp_path / "store")
    assert got == _quads(tmp_path / "fresh")
    assert any("copy-0003b.txt" in q[2] for q in got)
    assert not any(q[2].endswith("copy-0003.txt\"") for q in got)
