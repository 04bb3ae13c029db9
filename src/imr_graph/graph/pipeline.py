"""The parallel ingest pipeline: many letters, all cores, bounded memory, resumable.

:func:`ingest_parallel` does what :func:`imr_graph.graph.ingest.ingest` does (file -> text ->
record -> quads -> case graph, one :class:`~imr_graph.graph.ingest.IngestResult` per file, a failed
file reported and skipped), but:

* reading, parsing and mapping run in worker processes (``jobs``, default one per core;
  :class:`~imr_graph.graph.workers.WorkerPool`, which bounds each letter's memory and time, turns
  a worker's death into that letter's error and ends the workers with their parent); files
  go out in chunks and a bounded number of chunks is in flight;
* memory does not grow with the corpus: the directories are walked lazily (twice: once to
  count for the progress bar), nothing is kept per letter or per stored case, and memory
  freed after each batch is given back to the system (:func:`release_freed_memory`);
* results come back in input order (so two files of the same case end as a serial ingest
  would: the later one wins) and are written in batches: the quads of a batch of NEW cases
  go in with one atomic ``Store.bulk_load`` call (all or nothing: each case is still its own
  named graph and is never half-written); a case already in the store is
  written as its difference to the stored graph
  (:meth:`~imr_graph.graph.store.GraphStore.difference`), up to :attr:`_Writer.CHANGED_BATCH`
  such cases in one SPARQL update (:meth:`~imr_graph.graph.store.GraphStore.write_changes`:
  one transaction, all of them or none);
* ``resume=True`` skips files whose sha256 is already recorded in the store
  (:func:`stored_sha256`: one index lookup per file), so an interrupted ingest continues
  where it stopped; without it, a letter stored already with the same bytes by the same
  parser version (:func:`unchanged`) is passed over too (``stats.unchanged``: writing it
  again would change its ingest time only), unless ``extra`` adds to what is stored; a
  changed letter of a stored case is written as the difference to the stored graph;
* :class:`Progress` prints a progress line with rate and ETA on a terminal, plain log
  lines otherwise.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from .. import errors as _errors
from ..errors import ImrGraphError, InputError, StoreError
from .ingest import IngestResult, letter_files
from .mapping import Extra
from .store import CaseChange, GraphStore, ntriples_lines
from .workers import WorkerPool

CHUNK = 16
"""Files per task sent to a worker (amortises inter-process overhead)."""

BATCH = 256
"""New cases written per atomic bulk load."""

def default_jobs() -> int:
    """One worker per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def use_pipeline(store: object, jobs: int | None, resume: bool, extra: Extra | None) -> bool:
    """True when :func:`ingest_parallel` should run: a local store and an ``extra`` hook
    that can be sent to worker processes (with one job too: letters are read in a worker,
    under its limits, either way)."""
    import pickle

    if not isinstance(store, GraphStore):
        return False
    try:
        pickle.dumps(extra)
    except Exception:
        return False
    return True


def stored_sha256(store: GraphStore, path: str | Path) -> str | None:
    """The sha256 of the file at ``path`` when a letter with these very bytes is already in
    the store (its source's ``imr:sha256``), else None (also when it cannot be read: the
    worker reports that). One index lookup: nothing is held per stored letter."""
    import hashlib

    from pyoxigraph import Literal

    from .mapping import imr

    try:
        with open(path, "rb") as fh:
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None
    found = store.store.quads_for_pattern(None, imr("sha256"), Literal(sha), None)
    return sha if next(found, None) is not None else None


def unchanged(store: GraphStore, path: str | Path) -> bool:
    """True when the letter at ``path`` is stored already with these very bytes, under this
    store's base, by this parser version and this mapping version: storing it again would
    change nothing but its ingest time, so ingest passes over it (a few index lookups, as
    ``--resume`` does)."""
    import hashlib

    from pyoxigraph import Literal, NamedNode

    from ..records import PARSER_VERSION
    from .mapping import MAPPING_VERSION, imr, source_iri

    wanted = {imr("parserVersion"): PARSER_VERSION, imr("mappingVersion"): MAPPING_VERSION}

    try:
        with open(path, "rb") as fh:
            sha = hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return False
    graphs = f"{store.base}graph/"
    for q in store.store.quads_for_pattern(source_iri(sha, store.base), imr("sha256"),
                                           Literal(sha), None):
        graph = q.graph_name
        if not isinstance(graph, NamedNode) or not graph.value.startswith(graphs):
            continue
        # its ingest activity, {base}case/{key}/ingest: every lookup has its subject bound,
        # so it costs the same however many cases the store holds
        activity = NamedNode(f"{store.base}case/{graph.value[len(graphs):]}/ingest")
        if all(next(store.store.quads_for_pattern(activity, p, Literal(value), graph), None)
               is not None for p, value in wanted.items()):
            return True
    return False


# ------------------------------------------------------------------------------------------
# Worker side
# ------------------------------------------------------------------------------------------


@dataclass
class _Done:
    """A worker's answer for one file (plain data: cheap and safe to pickle)."""

    path: str
    case_key: str | None = None
    graph: str | None = None
    items: int = 0
    nquads: bytes = b""
    """The case graph's quads, as N-Quads."""
    shared: bytes = b""
    """The quads about shared concepts (the concepts graph), as N-Quads, one per line."""
    triples: int = 0
    error: tuple[str, str, str | None] | None = None  # (class name, message, path)


_base: str = ""
_ingest_time: datetime | None = None
_extra: Extra | None = None


def _init_worker(base: str, ingest_time: datetime | None, extra: Extra | None) -> None:
    global _base, _ingest_time, _extra
    _base, _ingest_time, _extra = base, ingest_time, extra


def _process_one(path: str) -> _Done:
    from pyoxigraph import RdfFormat, serialize

    from ..letters.parsing import parse_document
    from ..letters.reading import MAX_BYTES, document_from_bytes
    from .mapping import case_graph_iri, concepts_graph_iri, record_to_quads

    done = _Done(path=path)
    try:
        p = Path(path)
        try:
            if p.stat().st_size > MAX_BYTES:
                from ..letters.reading import read_document

                read_document(p)  # raises the same "too large" error as the serial path
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror or exc})", path=p) from exc
        doc = document_from_bytes(data, path)
        record = parse_document(doc)
        quads = record_to_quads(record, doc.text, _base, ingest_time=_ingest_time, extra=_extra)
        graph = case_graph_iri(record.case_key, _base)
        concepts = concepts_graph_iri(_base)
        own, shared = [], []
        for q in quads:
            if q.graph_name == graph:
                own.append(q)
            elif q.graph_name == concepts:
                shared.append(q)
            else:
                raise ImrGraphError(f"quad outside graph {graph}: {q}", path=path)
        done.case_key = record.case_key
        done.graph = graph.value
        done.items = len(record.items)
        done.triples = len(own)
        done.nquads = serialize(own, format=RdfFormat.N_QUADS) or b""
        done.shared = serialize(shared, format=RdfFormat.N_QUADS) or b""
    except ImrGraphError as exc:
        done.error = (type(exc).__name__, exc.message, exc.path or path)
    except Exception as exc:  # a parser bug must not stop the other files
        done.error = ("ImrGraphError", f"unexpected {type(exc).__name__}: {exc}", path)
    return done


def _died(path: str, reason: str) -> _Done:
    """The answer for a letter whose worker died reading it (see :mod:`imr_graph.graph.workers`)."""
    return _Done(path=path, error=("InputError", reason, path))


def _error_of(done: _Done) -> ImrGraphError:
    assert done.error is not None
    name, message, path = done.error
    cls = getattr(_errors, name, ImrGraphError)
    if not (isinstance(cls, type) and issubclass(cls, ImrGraphError)):
        cls = ImrGraphError
    return cls(message, path=path)


# ------------------------------------------------------------------------------------------
# Progress
# ------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Progress with rate and ETA: one rewritten line on a tty, log lines otherwise."""

    total: int
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    every: float = 10.0
    """Seconds between log lines when not on a terminal."""
    done: int = 0
    errors: int = 0
    skipped: int = 0
    start: float = field(default_factory=time.monotonic)
    _last: float = 0.0

    def __post_init__(self) -> None:
        if not self.tty:
            self._last = 0.0
            self._next = self.start + self.every

    @property
    def tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def line(self) -> str:
        """``done/total letters (pct) rate/s ETA mm:ss, errors, skipped``."""
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.done / elapsed
        left = self.total - self.done
        eta = f"{int(left / rate) // 60:d}:{int(left / rate) % 60:02d}" if rate > 0 else "?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.done}/{self.total} letters ({pct:.0f}%)  {rate:.0f}/s  ETA {eta}  "
                f"errors {self.errors}  skipped {self.skipped}")

    def update(self, *, ok: bool = True, skipped: bool = False) -> None:
        """Count one file and redraw when due."""
        self.done += 1
        self.errors += 0 if ok else 1
        self.skipped += 1 if skipped else 0
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.2 or self.done == self.total:
                self.stream.write("\r" + self.line() + "\x1b[K")
                self.stream.flush()
                self._last = now
        elif now >= self._next:
            self.stream.write("ingest: " + self.line() + "\n")
            self.stream.flush()
            self._last = now
            self._next = now + self.every

    def close(self) -> None:
        """Final line (newline on a tty; in a log only when earlier lines were written)."""
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
        elif self._last or self.every <= 0:
            self.stream.write("ingest: " + self.line() + "\n")
        self.stream.flush()


# ------------------------------------------------------------------------------------------
# Main side
# ------------------------------------------------------------------------------------------


@dataclass
class PipelineStats:
    """Counters of one run (the CLI prints ``skipped``; benchmarks read the timings)."""

    files: int = 0
    skipped: int = 0
    unchanged: int = 0
    """Letters passed over because the store has them already, same bytes and parser."""
    write_seconds: float = 0.0
    """Time spent writing to the store (the load path, without parsing)."""


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library, or not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Give memory the process has freed back to the operating system (glibc only).

    A bulk load allocates its buffers in Oxigraph's threads and frees them; glibc keeps such
    memory in per-thread arenas, so without this the writer's resident size creeps up batch
    after batch (165 MiB after 20,000 letters, against 99–124 MiB with it). Well under 1 ms
    a call.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class _Writer:
    """Collects finished cases and writes new ones in batches, one atomic bulk load each.

    Every case repeats the triples about the shared concepts it uses (labels, types); each
    such line is written once per run (a fifth of all quads, and of the load time, saved).
    The set of lines written is bounded by the number of distinct concepts; it is cleared
    if it ever grows past :attr:`MAX_SHARED` lines or a write fails (writing a line again is
    harmless: the store is a set).
    """

    MAX_SHARED = 1_000_000
    CHANGED_BATCH = 64
    """Changed cases written together (one update: about a third of the time per case of
    one update each)."""

    def __init__(self, store: GraphStore, stats: PipelineStats, batch: int) -> None:
        self.store = store
        self.stats = stats
        self.batch = batch
        self.pending: list[bytes] = []
        self.pending_graphs: set[str] = set()
        self.shared_written: set[bytes] = set()
        self.changes: list[CaseChange] = []
        self.changed_graphs: set[str] = set()
        self.changed_shared: list[bytes] = []

    def _new_shared(self, shared: bytes) -> bytes:
        if len(self.shared_written) > self.MAX_SHARED:
            self.shared_written.clear()
        seen = self.shared_written
        new = [line for line in shared.splitlines(keepends=True) if line not in seen]
        seen.update(new)
        return b"".join(new)

    @property
    def waiting(self) -> bool:
        """True while cases wait to be written (new ones or changed ones)."""
        return bool(self.pending or self.changes)

    def add(self, done: _Done) -> list[str] | None:
        """Write (or queue) one case; returns conflict notes. Raises ImrGraphError for
        a case the store refuses (an older letter of a stored case)."""
        from pyoxigraph import NamedNode

        assert done.graph is not None
        graph = NamedNode(done.graph)
        if done.graph in self.pending_graphs or done.graph in self.changed_graphs:
            self.flush()  # a second letter of a case waiting: the first one is written first
        t0 = time.perf_counter()
        try:
            if self.store.store.contains_named_graph(graph):
                # a stored case: its difference to the stored graph (older letters refused),
                # written with other changed cases in one transaction
                self.changes.append(self.store.difference(graph, done.nquads, newer_only=True))
                self.changed_graphs.add(done.graph)
                self.changed_shared.append(self._new_shared(done.shared))
                notes = self.store.take_conflicts() or None
            else:
                self.pending.append(done.nquads)
                self.pending.append(self._new_shared(done.shared))
                self.pending_graphs.add(done.graph)
                notes = None
        finally:
            self.stats.write_seconds += time.perf_counter() - t0
        if len(self.pending_graphs) >= self.batch or len(self.changes) >= self.CHANGED_BATCH:
            self.flush()
        return notes

    def flush(self) -> None:
        """Write what waits: new cases by one bulk load, changed cases by one update."""
        try:
            self._flush_new()
        finally:
            self._flush_changed()

    def _flush_changed(self) -> None:
        if not self.changes:
            return
        t0 = time.perf_counter()
        try:
            self.store.write_changes(self.changes, ntriples_lines(
                b"".join(self.changed_shared), self.store.concepts_graph))
        except BaseException:
            self.shared_written.clear()  # its shared lines may not have been written
            raise
        finally:
            self.changes, self.changed_graphs, self.changed_shared = [], set(), []
            self.stats.write_seconds += time.perf_counter() - t0

    def _flush_new(self) -> None:
        from pyoxigraph import RdfFormat

        if not self.pending:
            return
        t0 = time.perf_counter()
        data = b"".join(self.pending)
        try:
            # Oxigraph's bulk loader is atomic unless told otherwise: it writes sorted files
            # and ingests them all at commit, so a kill leaves the whole batch of new cases
            # or none of it (checked by killing bulk loads at random moments). It is about
            # twice as fast as a transaction and keeps no memtables growing.
            self.store._writable().bulk_load(data, format=RdfFormat.N_QUADS, lenient=True)
        except (OSError, SyntaxError, ValueError) as exc:
            self.shared_written.clear()
            raise StoreError(f"cannot write {len(self.pending_graphs)} cases: {exc}",
                             path=self.store.path) from None
        finally:
            self.pending = []
            self.pending_graphs = set()
            del data
            release_freed_memory()
            self.stats.write_seconds += time.perf_counter() - t0


def ingest_parallel(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    jobs: int | None = None,
    resume: bool = False,
    ingest_time: datetime | None = None,
    extra: Extra | None = None,
    progress: Progress | bool | None = None,
    stats: PipelineStats | None = None,
    batch: int = BATCH,
    chunk: int = CHUNK,
    on_total: Callable[[int], None] | None = None,
    on_skip: Callable[[Path], None] | None = None,
) -> Iterator[IngestResult]:
    """Like :func:`imr_graph.graph.ingest.ingest`, in ``jobs`` worker processes; one result per file.

    Files skipped by ``resume`` (sha256 already stored) yield no result; they are counted in
    ``stats.skipped``. ``progress=True`` draws a :class:`Progress` on stderr. Store errors
    end the run by raising :class:`~imr_graph.errors.StoreError`. A case is in the store
    once its batch is written: when the generator is closed early, pending cases are flushed.
    """
    jobs = jobs or default_jobs()
    stats = stats if stats is not None else PipelineStats()
    # Two walks of the directories (about 15 µs a file): one to count, for the progress
    # bar, one to go; no list of all files is kept.
    paths = list(paths)
    bad: list[InputError] = []
    for e in letter_files(paths, on_skip):
        if isinstance(e, InputError):
            bad.append(e)
        else:
            stats.files += 1
    if on_total is not None:
        on_total(stats.files)
    bar = Progress(stats.files + len(bad)) if progress is True else (progress or None)
    writer = _Writer(store, stats, batch)

    def files() -> Iterator[str]:
        """The letter files to process (those stored already are counted and passed over
        when resuming)."""
        for e in letter_files(paths):
            if isinstance(e, InputError):
                continue
            if resume and stored_sha256(store, e) is not None:
                stats.skipped += 1
                if bar:
                    bar.update(skipped=True)
                continue
            if extra is None and unchanged(store, e):
                stats.unchanged += 1
                if bar:
                    bar.update(skipped=True)
                continue
            yield str(e)

    held: list[IngestResult] = []

    def release(result: IngestResult) -> list[IngestResult]:
        """Results in input order, each only once its case is really in the store.

        While a batch of new cases waits in the writer, every result (even a failure) is held
        so the order stays the input order; a flush releases them all.
        """
        held.append(result)
        if writer.waiting:
            return []
        out = held[:]
        held.clear()
        return out

    def handle(done: _Done) -> list[IngestResult]:
        result = IngestResult(path=done.path)
        if done.error is not None:
            result.error = _error_of(done)
        else:
            try:
                result.notes = writer.add(done)
            except StoreError:
                raise
            except ImrGraphError as exc:
                result.error = exc if exc.path else type(exc)(exc.message, path=done.path)
            else:
                result.case_key, result.graph = done.case_key, done.graph
                result.items, result.triples = done.items, done.triples
        if bar:
            bar.update(ok=result.ok)
        return release(result)

    try:
        for e in bad:
            if bar:
                bar.update(ok=False)
            yield IngestResult(path=e.path or "", error=e)
        jobs = max(1, min(jobs, stats.files))
        chunk = max(1, min(chunk, stats.files // (8 * jobs)))
        # Enough chunks in flight that the workers keep going while a batch is written
        # (a bulk load of 256 cases takes about as long as parsing 350 letters here).
        ahead = max(4 * jobs, 2 * batch // chunk + 1)
        with WorkerPool(jobs, _process_one, _died, initializer=_init_worker,
                        initargs=(store.base, ingest_time, extra)) as pool:
            for done in pool.map(files(), chunk=chunk, ahead=ahead):
                yield from handle(done)
        writer.flush()
        yield from held
        held.clear()
        store.prune_concepts()
    finally:
        try:
            writer.flush()
        finally:
            if bar:
                bar.close()
