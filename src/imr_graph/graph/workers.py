"""Worker processes that read letters under limits, survive a letter that kills them, and
end with their parent.

Reading a letter runs untrusted input through native code (PDFium decodes page streams):
a 100 kB "PDF bomb" whose page inflates to hundreds of MB takes gigabytes and seconds, and
an allocation that fails inside PDFium aborts the whole process. So every letter is read in
a worker process (:class:`WorkerPool`, also for one job and for ``parse``), where:

* **memory is bounded**: the worker's address space may grow by at most
  :func:`letter_memory` MiB (``RLIMIT_AS``, default 1024; ``$IMR_GRAPH_LETTER_MEMORY_MB``)
  beyond what it had after start-up; a lower limit the caller already has stays;
* **time is bounded**: each letter gets :func:`letter_seconds` seconds (default 60;
  ``$IMR_GRAPH_LETTER_SECONDS``), enforced by ``SIGALRM`` with its default action, which
  ends the worker even inside native code;
* **a worker that dies** (limit, crash, ``kill``, the kernel's OOM killer) is noticed at once
  (its process sentinel), the letter it was on is reported as that letter's error (the
  worker answers letter by letter, so the parent knows which one), the rest of its chunk
  is sent again, and a new worker takes its place: never a traceback, never a stopped batch;
* **workers end with their parent**: ``PR_SET_PDEATHSIG`` (Linux) sends them ``SIGKILL``
  when the process that started them dies, even by ``kill -9``, and a worker whose parent
  is already gone when it starts exits at once; an idle worker also exits when its task
  pipe closes.

Results come back in input order.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import resource
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

R = TypeVar("R")

DEFAULT_LETTER_MEMORY_MB = 1024
DEFAULT_LETTER_SECONDS = 60.0


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def letter_memory() -> int:
    """MiB a worker may grow by while reading letters (``$IMR_GRAPH_LETTER_MEMORY_MB``)."""
    return int(_env_number("IMR_GRAPH_LETTER_MEMORY_MB", DEFAULT_LETTER_MEMORY_MB))


def letter_seconds() -> float:
    """Seconds one letter may take (``$IMR_GRAPH_LETTER_SECONDS``)."""
    return _env_number("IMR_GRAPH_LETTER_SECONDS", DEFAULT_LETTER_SECONDS)


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """In a child process: ask Linux to send it ``sig`` when its parent dies; exit at once
    if the parent (pid ``parent``) is already gone. Elsewhere: nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _address_space() -> int:
    """Bytes of address space this process uses now (``VmSize``)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def limit_memory(extra_mb: int) -> None:
    """Let this process's address space grow by at most ``extra_mb`` MiB from now."""
    used = _address_space()
    if not used:
        return
    want = used + extra_mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and soft <= want:
        return  # the caller's own limit is lower: keep it
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def death_reason(exitcode: int | None) -> str:
    """Why a worker ended, for the letter it was reading."""
    if exitcode is not None and exitcode < 0:
        sig = -exitcode
        if sig == signal.SIGALRM:
            return (f"took longer than {letter_seconds():g} s to read "
                    "(limit: $IMR_GRAPH_LETTER_SECONDS); not a normal letter")
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return (f"the worker reading it died ({name}): it needs more than "
                f"{letter_memory()} MiB (limit: $IMR_GRAPH_LETTER_MEMORY_MB) or crashed the "
                "PDF reader")
    return f"the worker reading it ended unexpectedly (exit status {exitcode})"


# ------------------------------------------------------------------------------------------
# Worker side
# ------------------------------------------------------------------------------------------


def _worker_main(conn: Connection, parent: int, task: Callable[[str], Any],
                 initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
                 memory_mb: int, seconds: float) -> None:
    die_with_parent(parent)
    import faulthandler

    faulthandler.disable()  # a worker that dies is reported in one line by the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)
    limit_memory(memory_mb)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        ticket, paths = message
        for i, path in enumerate(paths):
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                result = task(path)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            try:
                conn.send((ticket, i, result))
            except (BrokenPipeError, OSError):
                return


# ------------------------------------------------------------------------------------------
# Parent side
# ------------------------------------------------------------------------------------------


@dataclass
class _Chunk:
    ticket: int
    paths: list[str]
    results: list[Any] = field(default_factory=list)
    """Results of ``paths[:len(results)]``; both lists lose their heads as they are handed
    out."""

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.paths)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    chunk: _Chunk | None = None


class WorkerPool(Generic[R]):
    """``jobs`` worker processes that run ``task(path)`` for each path, under the limits of
    the module docstring; a context manager that always ends its workers.

    ``on_death(path, reason)`` makes the result for a letter whose worker died.
    """

    def __init__(
        self,
        jobs: int,
        task: Callable[[str], R],
        on_death: Callable[[str, str], R],
        *,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.jobs = max(1, jobs)
        self.task = task
        self.on_death = on_death
        self.initializer = initializer
        self.initargs = initargs
        self.memory_mb = letter_memory()
        self.seconds = letter_seconds()
        self.deaths = 0
        self.workers: list[_Worker] = []
        methods = mp.get_all_start_methods()
        self._ctx = mp.get_context("fork" if "fork" in methods else None)

    def _spawn(self) -> _Worker:
        parent_end, child_end = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, name="imr-graph-worker", daemon=True,
            args=(child_end, os.getpid(), self.task, self.initializer, self.initargs,
                  self.memory_mb, self.seconds))
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        self.workers.append(worker)
        return worker

    def __enter__(self) -> WorkerPool[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End every worker (politely, then by force)."""
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in self.workers:
            w.process.join(timeout=2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
            w.conn.close()
        self.workers = []

    def map(self, paths: Iterable[str], *, chunk: int = 16, ahead: int = 8) -> Iterator[R]:
        """``task(path)`` for every path, in input order; at most ``ahead`` chunks of
        ``chunk`` paths are read ahead of the results handed out."""
        source = iter(paths)
        queue: deque[_Chunk] = deque()  # chunks waiting for a worker
        order: deque[_Chunk] = deque()  # every chunk not yet handed out, in input order
        tickets = 0
        exhausted = False

        def refill() -> None:
            nonlocal tickets, exhausted
            while not exhausted and len(order) < ahead:
                part = [p for _, p in zip(range(chunk), source, strict=False)]
                if not part:
                    exhausted = True
                    return
                tickets += 1
                c = _Chunk(tickets, part)
                queue.append(c)
                order.append(c)

        def dispatch() -> None:
            for w in self.workers:
                if w.chunk is None and queue:
                    c = queue.popleft()
                    w.chunk = c
                    with contextlib.suppress(OSError):  # a death is seen below
                        w.conn.send((c.ticket, c.paths[len(c.results):]))

        while len(self.workers) < self.jobs:
            self._spawn()
        refill()
        dispatch()
        while order:
            head = order[0]
            while head.results:  # hand out what is ready at the head, in order
                head.paths.pop(0)
                yield head.results.pop(0)
            if not head.paths:
                order.popleft()
                refill()
                dispatch()
                continue
            busy = [w for w in self.workers if w.chunk is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for w in busy:
                if w.process.sentinel in ready:
                    self._bury(w, queue)
                elif w.conn in ready:
                    self._receive(w)
            refill()
            dispatch()

    def _receive(self, w: _Worker) -> bool:
        """Take one result from ``w``; False when its pipe is closed (it died)."""
        try:
            _ticket, _i, result = w.conn.recv()
        except (EOFError, OSError):
            w.process.join(timeout=5)
            return False  # the sentinel reports the death
        assert w.chunk is not None
        w.chunk.results.append(result)
        if w.chunk.done:
            w.chunk = None
        return True

    def _bury(self, w: _Worker, queue: deque[_Chunk]) -> None:
        """A worker died: its current letter gets the error, the rest of its chunk goes
        back to the front of the queue, and a new worker takes its place."""
        with contextlib.suppress(OSError):
            while w.chunk is not None and w.conn.poll() and self._receive(w):
                pass  # results it sent before it died
        w.process.join(timeout=5)
        c = w.chunk
        self.workers.remove(w)
        w.conn.close()
        self.deaths += 1
        if c is not None and not c.done:
            path = c.paths[len(c.results)]
            c.results.append(self.on_death(path, death_reason(w.process.exitcode)))
            if not c.done:
                queue.appendleft(c)
        self._spawn()


# ------------------------------------------------------------------------------------------
# Reading letters in workers (``parse``, and ingest into a remote store)
# ------------------------------------------------------------------------------------------


@dataclass
class Parsed:
    """One letter read (and parsed, unless only its text was asked for) in a worker."""

    path: str
    text: str | None = None
    record: Any = None
    """The :class:`~imr_graph.records.Record`, or None for a text-only read or a failure."""
    error: tuple[str, str, str | None] | None = None
    """(error class name, message, path) of an :class:`~imr_graph.errors.ImrGraphError`."""

    def exception(self) -> Any:
        """The error as an :class:`~imr_graph.errors.ImrGraphError` (None when it worked)."""
        if self.error is None:
            return None
        from .. import errors

        name, message, path = self.error
        cls = getattr(errors, name, errors.ImrGraphError)
        if not (isinstance(cls, type) and issubclass(cls, errors.ImrGraphError)):
            cls = errors.ImrGraphError
        return cls(message, path=path)


def _read_letter(path: str, parse: bool) -> Parsed:
    from ..errors import ImrGraphError
    from ..letters.parsing import parse_document
    from ..letters.reading import read_document

    out = Parsed(path)
    try:
        doc = read_document(path)
        out.text = doc.text
        if parse:
            out.record = parse_document(doc)
    except ImrGraphError as exc:
        out.error = (type(exc).__name__, exc.message, exc.path or path)
    except Exception as exc:  # a parser bug must not stop the other files
        out.error = ("ImrGraphError", f"unexpected {type(exc).__name__}: {exc}", path)
    return out


def _read_text(path: str) -> Parsed:
    return _read_letter(path, False)


def _read_and_parse(path: str) -> Parsed:
    return _read_letter(path, True)


def _read_died(path: str, reason: str) -> Parsed:
    return Parsed(path, error=("InputError", reason, path))


def read_letters(paths: Iterable[str], *, parse: bool = True, jobs: int = 1) -> Iterator[Parsed]:
    """Read (and parse) each letter in ``jobs`` worker processes, under the limits above;
    one :class:`Parsed` per path, in order."""
    with WorkerPool(jobs, _read_and_parse if parse else _read_text, _read_died) as pool:
        yield from pool.map(paths, chunk=1, ahead=max(4, 2 * jobs))
