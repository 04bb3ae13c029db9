"""The ingest loop: files -> text -> record -> quads -> case graph, one result per file.

:func:`ingest` yields an :class:`IngestResult` for every letter file it finds, so callers can
show progress, collect errors, or (later) run files in parallel and write to remote stores.
A file that fails yields a result with its error and the loop goes on; nothing of a failed
file reaches the store (each case is replaced in one transaction).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

from ..errors import ImrGraphError, InputError, StoreError
from .mapping import Extra
from .store import GraphStore

LETTER_SUFFIXES = (".pdf", ".txt", ".md", ".markdown")
"""File name endings picked up when a directory is given (files named explicitly are always read)."""


@dataclass
class IngestResult:
    """What happened to one file."""

    path: str
    case_key: str | None = None
    graph: str | None = None
    items: int = 0
    triples: int = 0
    error: ImrGraphError | None = None
    notes: list[str] | None = None
    """Warnings about a stored case, e.g. that it replaced another letter of the same case."""

    @property
    def ok(self) -> bool:
        """True when the case was written."""
        return self.error is None

    def error_record(self) -> dict[str, str]:
        """The failure as a JSON-ready dict (path, error, kind)."""
        assert self.error is not None
        return {"path": self.path, "error": self.error.message, "kind": type(self.error).__name__}


def letter_files(
    paths: Iterable[str | Path], on_skip: Callable[[Path], None] | None = None
) -> Iterator[Path | InputError]:
    """Files named, and letter files under directories (recursive, sorted).

    A path that does not exist yields an :class:`InputError` in its place. Directories are
    walked lazily, in the order of ``sorted(directory.rglob("*"))`` (each directory's
    entries by name, a subdirectory's files where its name falls), holding one directory
    listing at a time: the memory used does not grow with the number of letters. A file in
    a directory that is not a letter file (by its suffix, :data:`LETTER_SUFFIXES`) is passed
    to ``on_skip``, so that the caller can name it.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = False
            for f in _walk(p, on_skip):
                found = True
                yield f
            if not found:
                yield InputError("no letter files (.pdf, .txt, .md) in directory", path=p)
        elif p.exists():
            yield p
        elif p.is_symlink():
            yield InputError("symbolic link to nothing (broken or looping)", path=p)
        else:
            yield InputError("no such file or directory", path=p)


def _walk(directory: Path, on_skip: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Letter files under ``directory``, depth first, by name; like ``rglob``, symbolic links
    to directories are not followed, and unreadable directories and broken or looping links
    are passed over."""
    entries: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory) as listing:
            for e in listing:
                try:
                    if e.is_dir(follow_symlinks=False):
                        entries.append((e.name, True))
                    elif e.is_file() and PurePath(e.name).suffix.lower() in LETTER_SUFFIXES:
                        entries.append((e.name, False))
                    elif on_skip is not None and e.is_file():
                        on_skip(directory / e.name)
                except OSError:
                    continue
    except OSError:
        return
    for name, is_dir in sorted(entries):
        path = directory / name
        if is_dir:
            yield from _walk(path, on_skip)
        else:
            yield path


def ingest(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    ingest_time: datetime | None = None,
    extra: Extra | None = None,
    on_skip: Callable[[Path], None] | None = None,
) -> Iterator[IngestResult]:
    """Read, parse, map and store every letter under ``paths``; one result per file
    (``on_skip`` is told each file of a directory that is not a letter file).

    Store errors (disk full, lock lost) end the loop by raising
    :class:`~imr_graph.errors.StoreError`; input errors are reported per file. When the
    loop is done, concept nodes no case refers to any more are pruned.
    """
    from .workers import read_letters

    def files() -> Iterator[str]:
        for entry in letter_files(paths, on_skip):
            if isinstance(entry, InputError):
                failed.append(entry)
            else:
                yield str(entry)

    failed: list[InputError] = []
    # letters are read in a worker process, under memory and time limits (imr_graph.graph.workers)
    for done in read_letters(files()):
        while failed:
            error = failed.pop(0)
            yield IngestResult(path=error.path or "", error=error)
        result = IngestResult(path=done.path)
        exc = done.exception()
        if exc is not None:
            result.error = exc
            yield result
            continue
        record = done.record
        try:
            graph, triples = store.replace_case(record, done.text, ingest_time=ingest_time,
                                                extra=extra)
        except StoreError:
            raise
        except ImrGraphError as exc:
            result.error = exc if exc.path else type(exc)(exc.message, path=done.path)
            yield result
            continue
        except Exception as exc:  # a mapping bug must not stop the other files
            error = ImrGraphError(f"unexpected {type(exc).__name__}: {exc}", path=done.path)
            error.__cause__ = exc
            result.error = error
            yield result
            continue
        result.case_key = record.case_key
        result.graph = graph.value
        result.items = len(record.items)
        result.triples = triples
        result.notes = getattr(store, "take_conflicts", list)() or None  # remote stores: none
        yield result
    for error in failed:
        yield IngestResult(path=error.path or "", error=error)
    store.prune_concepts()
