"""Re-ingest: unchanged letters are passed over (as ``--resume`` would), changed letters of
stored cases are written as their difference, and the result is what a fresh ingest gives."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from imr_graph.graph.mapping import MAPPING_VERSION
from imr_graph.graph.pipeline import PipelineStats, ingest_parallel, unchanged
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
