"""The parallel ingest pipeline: same store as the serial ingest, resume, per-file errors."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_graph.errors import InputError
from imr_graph.graph.ingest import LETTER_SUFFIXES, ingest, letter_files
from imr_graph.graph.pipeline import PipelineStats, Progress, ingest_parallel, stored_sha256
from imr_graph.graph.store import GraphStore
from imr_graph.letters.parsing import CASE_NUMBER_RE

from .conftest import example_letters

WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def _letters(tmp_path: Path, copies: int = 6) -> list[Path]:
    """``copies`` letters per example, each with its own case number (enough for chunks)."""
    out = tmp_path / "letters"
    out.mkdir()
    paths = []
    for i, src in enumerate(example_letters()):
        text = src.read_text(encoding="utf-8")
        for j in range(copies):
            p = out / f"{i}-{j:02d}.txt"
            # a new case number (or, for a letter without one, new bytes: a new sha256 key)
            new = CASE_NUMBER_RE.sub(f"CM15-{9000000 + 100 * i + j:07d}", text, count=1)
            p.write_text(new + "\n" * j, encoding="utf-8")
            paths.append(p)
    return paths


def _quads(path: Path) -> set:
    with GraphStore(path, read_only=True) as gs:
        return set(gs.iter_quads())


def _cases(path: Path) -> list[str]:
    with GraphStore(path, read_only=True) as gs:
        return [g.value for g in gs.case_graphs()]


def test_parallel_gives_the_same_store_as_serial(tmp_path: Path) -> None:
    letters = _letters(tmp_path)
    with GraphStore(tmp_path / "serial") as gs:
        serial = list(ingest(gs, [tmp_path / "letters"], ingest_time=WHEN))
    with GraphStore(tmp_path / "parallel") as gs:
        parallel = list(ingest_parallel(gs, [tmp_path / "letters"], jobs=2, ingest_time=WHEN))
    assert all(r.ok for r in serial) and all(r.ok for r in parallel)
    assert [(r.path, r.case_key, r.graph, r.items, r.triples) for r in parallel] == [
        (r.path, r.case_key, r.graph, r.items, r.triples) for r in serial
    ]
    assert len(_cases(tmp_path / "parallel")) == len(letters)
    assert _cases(tmp_path / "parallel") == _cases(tmp_path / "serial")
    assert _quads(tmp_path / "parallel") == _quads(tmp_path / "serial")


def test_reingest_replaces_cases_and_keeps_the_triple_count(tmp_path: Path) -> None:
    _letters(tmp_path)
    store = tmp_path / "store"
    with GraphStore(store) as gs:
        list(ingest_parallel(gs, [tmp_path / "letters"], jobs=2, ingest_time=WHEN))
        before = len(gs)
        again = list(ingest_parallel(gs, [tmp_path / "letters"], jobs=2))
        assert all(r.ok for r in again)
        assert len(gs) == before


def test_same_case_twice_later_file_wins_as_in_serial(tmp_path: Path) -> None:
    letters = _letters(tmp_path)
    dup = letters[0].with_name("zz-dup.txt")
    dup.write_text(letters[0].read_text(encoding="utf-8").replace("Standard", "Expedited", 1),
                   encoding="utf-8")
    with GraphStore(tmp_path / "serial") as gs:
        list(ingest(gs, [tmp_path / "letters"], ingest_time=WHEN))
    with GraphStore(tmp_path / "parallel") as gs:
        list(ingest_parallel(gs, [tmp_path / "letters"], jobs=2, ingest_time=WHEN, batch=4))
    assert _quads(tmp_path / "parallel") == _quads(tmp_path / "serial")
    assert len(_cases(tmp_path / "parallel")) == len(letters)


def test_resume_skips_letters_already_stored(tmp_path: Path) -> None:
    letters = _letters(tmp_path)
    half = letters[: len(letters) // 2]
    store = tmp_path / "store"
    with GraphStore(store) as gs:
        first = list(ingest_parallel(gs, half, jobs=2, ingest_time=WHEN))
        assert len(first) == len(half)
        assert [stored_sha256(gs, p) for p in half] == [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in half]
        assert [stored_sha256(gs, p) for p in letters[len(half):]] == [None] * (
            len(letters) - len(half))
        assert stored_sha256(gs, tmp_path / "missing.txt") is None
    stats = PipelineStats()
    with GraphStore(store) as gs:
        rest = list(ingest_parallel(gs, [tmp_path / "letters"], jobs=2, resume=True,
                                    ingest_time=WHEN, stats=stats))
    assert stats.skipped == len(half)
    assert sorted(r.path for r in rest) == sorted(str(p) for p in letters[len(half) :])
    with GraphStore(tmp_path / "full") as gs:
        list(ingest(gs, [tmp_path / "letters"], ingest_time=WHEN))
    assert _quads(store) == _quads(tmp_path / "full")


def test_bad_files_are_reported_and_the_rest_go_on(tmp_path: Path) -> None:
    letters = _letters(tmp_path)
    (tmp_path / "letters" / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "letters" / "recipe.txt").write_text("Pancakes: flour, eggs, milk.\n" * 20,
                                                     encoding="utf-8")
    missing = tmp_path / "nope.pdf"
    with GraphStore(tmp_path / "serial") as gs:
        serial = list(ingest(gs, [tmp_path / "letters", missing], ingest_time=WHEN))
    with GraphStore(tmp_path / "parallel") as gs:
        results = list(ingest_parallel(gs, [tmp_path / "letters", missing], jobs=2,
                                       ingest_time=WHEN))
    failed = {r.path: r.error for r in results if not r.ok}
    assert set(failed) == {str(tmp_path / "letters" / n) for n in ("empty.txt", "recipe.txt")} | {
        str(missing)}
    expected = {r.path: (type(r.error).__name__, str(r.error)) for r in serial if not r.ok}
    assert {p: (type(e).__name__, str(e)) for p, e in failed.items()} == expected
    assert sum(r.ok for r in results) == len(letters)
    assert len(_cases(tmp_path / "parallel")) == len(letters)


def test_progress_writes_log_lines_when_not_a_tty() -> None:
    out = io.StringIO()
    bar = Progress(3, stream=out, every=0.0)
    bar.update()
    bar.update(ok=False)
    bar.update(skipped=True)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("ingest: 3/3 letters (100%)")
    assert "errors 1" in lines[-1] and "skipped 1" in lines[-1]
    assert "\r" not in out.getvalue()


@pytest.mark.parametrize("jobs", [1, 2])
def test_cli_ingest_jobs_and_resume(tmp_path: Path, jobs: int) -> None:
    from typer.testing import CliRunner

    from imr_graph.cli import app

    letters = _letters(tmp_path, copies=5)
    runner = CliRunner()
    store = str(tmp_path / "store")
    res = runner.invoke(app, ["ingest", str(tmp_path / "letters"), "--store", store,
                              "--jobs", str(jobs)])
    assert res.exit_code == 0, res.output
    assert f"letters: {len(letters)}  " in res.stdout
    res = runner.invoke(app, ["ingest", str(tmp_path / "letters"), "--store", store,
                              "--jobs", str(jobs), "--resume"])
    assert res.exit_code == 0, res.output
    assert "letters: 0  " in res.stdout


def test_link_hook_goes_to_the_workers(tmp_path: Path) -> None:
    """`ingest --link` keeps the parallel path: its hook can be sent to worker processes."""
    import pickle

    from imr_graph.graph.pipeline import use_pipeline
    from imr_graph.linking import item_details

    hook = item_details()
    assert pickle.loads(pickle.dumps(hook)) is not None
    with GraphStore(tmp_path / "store") as gs:
        assert use_pipeline(gs, 2, False, hook)


_NAMES = st.text(alphabet="aAb-_.0", min_size=1, max_size=4).filter(lambda n: n not in (".", ".."))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=st.lists(st.tuples(st.lists(_NAMES, max_size=2), _NAMES,
                               st.sampled_from([".txt", ".PDF", ".md", ".csv", ""])),
                     max_size=12))
def test_letter_files_walk_lazily_in_sorted_rglob_order(
    tmp_path_factory: pytest.TempPathFactory, tree: list[tuple[list[str], str, str]]
) -> None:
    root = tmp_path_factory.mktemp("tree")
    for dirs, name, suffix in tree:
        folder = root.joinpath(*dirs)
        if any(p.is_file() for p in [folder, *folder.parents] if p != root and p.exists()):
            continue  # a file already has this name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (name + suffix)
        if not target.exists():
            target.write_text("x", encoding="utf-8")
    (root / "loop").symlink_to(root, target_is_directory=True)  # not followed, as rglob
    expected = sorted(f for f in root.rglob("*")
                      if f.is_file() and f.suffix.lower() in LETTER_SUFFIXES)
    found = list(letter_files([root]))
    if expected:
        assert found == expected
    else:
        assert [type(e) for e in found] == [InputError]
