"""The store: an on-disk Oxigraph (``pyoxigraph.Store``) with one named graph per case.

Location: ``--store DIR``, else ``$IMR_GRAPH_STORE``, else
``${XDG_DATA_HOME:-~/.local/share}/imr-graph/store`` (:func:`default_store_path`).

* Writing: :meth:`GraphStore.replace_graph` replaces a named graph by its difference to
  the stored one (:meth:`GraphStore.difference`: the triples that go and those that come)
  in ONE SPARQL update, which Oxigraph runs as one transaction: readers see the old case or
  the new one, never a half-written case, and a failure leaves the old case in place.
  :meth:`GraphStore.write_changes` writes the differences of many graphs as one update (the
  parallel ingest's re-ingested cases).
  :meth:`GraphStore.replace_case` maps a record and replaces its case graph;
  :meth:`GraphStore.load_vocabulary` replaces ``{base}graph/vocabulary`` the same way.
* Reading: ``GraphStore(path, read_only=True)`` opens the store read-only (Oxigraph's
  RocksDB read-only mode, which does not take the write lock), so queries can run while an
  ingest holds the store. Queries see the union of all named graphs as their default graph;
  ``graph=`` narrows them to one graph.
"""

from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Self
from urllib.parse import unquote

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Variable,
)

from ..errors import (
    CaseConflictError,
    NotFoundError,
    QueryError,
    StoreError,
    StoreInUseError,
    UsageError,
)
from ..records import Record
from .mapping import (
    IMR,
    PREFIXES,
    Extra,
    case_graph_iri,
    concepts_graph_iri,
    graph_for_name,
    record_to_quads,
    resolve_base,
    vocabulary_graph_iri,
)
from .sparqlguard import check_update, syntax_message

QueryResult = QuerySolutions | QueryBoolean | QueryTriples

DUMP_FORMATS: dict[str, RdfFormat] = {
    "trig": RdfFormat.TRIG,
    "nq": RdfFormat.N_QUADS,
    "ttl": RdfFormat.TURTLE,
    "nt": RdfFormat.N_TRIPLES,
}


def default_store_path() -> Path:
    """``$IMR_GRAPH_STORE``, else ``${XDG_DATA_HOME:-~/.local/share}/imr-graph/store``."""
    env = os.environ.get("IMR_GRAPH_STORE")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "imr-graph" / "store"


FLUSH_EVERY = 200_000
"""Quads written between two flushes of the store's memtables (bounds ingest memory)."""


CASE_COUNT_QUERY = (
    "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?x a ?c } "
    "VALUES ?c { imr:WorkersCompCase imr:HealthPlanCase } }"
)
"""The number of case graphs (see :meth:`CaseStore.case_count`)."""

STATS_QUERIES: dict[str, str] = {
    "cases": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a ?c . "
    "VALUES ?c { imr:WorkersCompCase imr:HealthPlanCase imr:Case } }",
    **{
        f"{system}_{what}": f"SELECT ({agg} AS ?n) {{ ?c a imr:{cls} {pattern} }}"
        for system, cls in (("dwc", "WorkersCompCase"), ("dmhc", "HealthPlanCase"))
        for what, agg, pattern in (
            ("cases", "COUNT(?c)", ""),
            ("items", "SUM(?k)", "; imr:itemCount ?k"),
            ("overturned", "SUM(?k)", "; imr:overturnedItemCount ?k"),
        )
    },
    "items": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:DisputedItem }",
    "upheld": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x imr:outcome imr:Upheld }",
    "overturned": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x imr:outcome imr:Overturned }",
    "partial_authorizations": "SELECT (COUNT(DISTINCT ?x) AS ?n) "
    "{ ?x a imr:PartiallyAuthorizedItem }",
    "services": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:Service }",
    "diagnoses": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:Diagnosis }",
    "medications": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:Medication }",
    "guideline_documents": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:GuidelineDocument }",
    "guideline_sections": "SELECT (COUNT(DISTINCT ?x) AS ?n) { ?x a imr:GuidelineSection }",
}
"""The counts :meth:`GraphStore.stats` (and the remote store's) report, in order: all cases,
then each system apart (``dwc_``: the workers' compensation letters, ``dmhc_``: the DMHC
health-plan data), then the whole store."""

SYSTEMS: dict[str, str] = {"dwc": "WorkersCompCase", "dmhc": "HealthPlanCase"}
"""The two systems a store can hold, by the class of their case nodes (``imr:`` local name)."""


def prune_update(base: str) -> str:
    """The SPARQL Update that removes concepts no case graph refers to any more.

    Only case graphs keep a concept alive: the vocabulary graph's links point at concepts
    too, and must not keep a dropped case's services and diagnoses around.
    """
    c, v = concepts_graph_iri(base), vocabulary_graph_iri(base)
    return (
        f"DELETE {{ GRAPH {c} {{ ?x ?p ?o }} }} WHERE {{ GRAPH {c} {{ ?x ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?q ?x }} "
        f'FILTER(?g != {c} && ?g != {v} && STRSTARTS(STR(?g), "{base}graph/")) }} }}'
    )


def triple_lines(
    quads: Iterable[Quad], graph: NamedNode, concepts: NamedNode
) -> tuple[list[str], list[str]]:
    """N-Triples lines of a case's quads: those of ``graph`` and those of ``concepts``.

    Duplicates are dropped (first-seen order kept); a quad in any other graph is an error.
    """
    own: dict[str, None] = {}
    shared: dict[str, None] = {}
    for q in quads:
        line = f"{q.subject} {q.predicate} {q.object} ."
        if q.graph_name == graph:
            own[line] = None
        elif q.graph_name == concepts:
            shared[line] = None
        else:
            raise ValueError(f"quad outside graph {graph}: {q}")
    return list(own), list(shared)


_NEWER = tuple(NamedNode(f"{IMR}{name}") for name in ("decisionDate", "sha256", "filePath"))
"""The predicates of the three triples that tell two letters of a case apart."""
_NEWER_MARKS = tuple(f" {p} ".encode() for p in _NEWER)


def _lines_with(data: bytes, marks: tuple[bytes, ...]) -> Iterator[bytes]:
    """The lines of ``data`` holding one of ``marks`` (a few ``find`` calls, no regex)."""
    for mark in marks:
        at = data.find(mark)
        while at >= 0:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            yield data[start:end]
            at = data.find(mark, end)


def ntriples_lines(nquads: bytes, graph: NamedNode) -> list[bytes]:
    """Oxigraph's N-Quads of quads all in ``graph`` as N-Triples lines (without line ends);
    a quad in another graph is a ValueError."""
    suffix = b" " + str(graph).encode() + b" ."
    out = []
    for line in nquads.splitlines():
        if not line:
            continue
        if not line.endswith(suffix):
            raise ValueError(f"quad outside graph {graph}: {line.decode(errors='replace')}")
        out.append(line[: -len(suffix)] + b" .")
    return out


@dataclass
class CaseChange:
    """What writing a graph's new content changes (:meth:`GraphStore.difference`): stored
    N-Triples lines that go, new ones that come (both without their line end)."""

    graph: NamedNode
    gone: list[bytes]
    added: list[bytes]
    drop: bool
    """Drop the whole stored graph first (its blank nodes cannot be deleted by value)."""
    triples: int
    """Triples of the graph's new content."""


class CaseStore:
    """What every backend shares (:class:`GraphStore` here, ``RemoteStore`` for a server).

    A subclass sets ``base`` and provides ``close``, ``named_graphs``, ``replace_graph``,
    ``update`` and ``graph_size``; this class adds the context manager, the well-known
    graphs, case writing, the pruning of orphan concepts and the vocabulary graph on top
    of them.
    """

    base: str
    CASE_WRITE: ClassVar[dict[str, Any]] = {}
    """Keyword arguments ``replace_case`` passes to ``replace_graph``."""

    def close(self) -> None:
        """Release what the backend holds."""

    def named_graphs(self) -> list[NamedNode]:
        raise NotImplementedError

    def replace_graph(self, graph: NamedNode, quads: Iterable[Quad], **options: Any) -> int:
        raise NotImplementedError

    def update(self, text: str) -> None:
        raise NotImplementedError

    def graph_size(self, graph: NamedNode) -> int:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def concepts_graph(self) -> NamedNode:
        """``{base}graph/concepts``."""
        return concepts_graph_iri(self.base)

    @property
    def vocabulary_graph(self) -> NamedNode:
        """``{base}graph/vocabulary``."""
        return vocabulary_graph_iri(self.base)

    def query_graphs(self, graph: NamedNode) -> list[NamedNode]:
        """The graphs a query narrowed to ``graph`` sees, as its default graph and as the
        graphs ``GRAPH ?g`` ranges over: the concepts or vocabulary graph alone, or a case
        with them (so the labels of the concepts it points to are there)."""
        if graph in (self.concepts_graph, self.vocabulary_graph):
            return [graph]
        return [graph, self.concepts_graph, self.vocabulary_graph]

    def case_graphs(self) -> list[NamedNode]:
        """The named graphs holding cases (not the concepts or vocabulary graph), sorted."""
        return self.only_case_graphs(self.named_graphs())

    def case_count(self) -> int:
        """How many case graphs the store holds (letters' and DMHC cases), counted by the
        typed case node each one has (:data:`CASE_COUNT_QUERY`): one index scan, without
        reading every graph's name (on a 200k store 0.2 s and 14 MiB, against 2.2 s and
        157 MiB for ``len(case_graphs())``)."""
        return self._count(CASE_COUNT_QUERY)

    def _count(self, text: str) -> int:
        """The ``?n`` of a one-row ``SELECT (COUNT(…) AS ?n)`` query (0 when unbound)."""
        raise NotImplementedError

    def has_graph(self, graph: NamedNode) -> bool:
        raise NotImplementedError

    def location(self) -> str:
        raise NotImplementedError

    def resolve_graph(self, name: str) -> NamedNode:
        """A graph IRI from a case key, a case IRI, a graph IRI or ``<iri>``; must exist.

        Case keys are matched case-insensitively (``cm15-0171547`` is ``CM15-0171547``). An
        unknown one is a :class:`~imr_graph.errors.NotFoundError` naming the nearest keys.
        """
        graph = graph_for_name(name, self.base)
        if self.has_graph(graph):
            return graph
        key = name.strip()
        if re.fullmatch(r"[^\s<>:/]+", key):
            for variant in dict.fromkeys((key.upper(), key.lower())):
                other = graph_for_name(variant, self.base)
                if other != graph and self.has_graph(other):
                    return other
        keys = self.case_keys()
        if not keys:
            hint = " (the store has no cases)"
        else:
            near = difflib.get_close_matches(key.upper(), [k.upper() for k in keys], n=3,
                                             cutoff=0.6)
            spelled = {k.upper(): k for k in keys}
            hint = (f"; nearest: {', '.join(spelled[n] for n in near)}" if near
                    else f"; e.g. {', '.join(sorted(keys)[:3])}")
        raise NotFoundError(f"no case {key}: no graph {graph.value} in {self.location()}{hint}")

    def system_graphs(self, system: str) -> list[NamedNode]:
        """The case graphs of one system (``dwc`` or ``dmhc``, see :data:`SYSTEMS`), sorted."""
        if system not in SYSTEMS:
            raise UsageError(f"unknown system {system!r}; one of: {', '.join(SYSTEMS)}")
        rows = self.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?c a imr:{SYSTEMS[system]} }} }}")
        return sorted((r["g"] for r in rows), key=lambda g: g.value)  # type: ignore[union-attr]

    def case_keys(self) -> list[str]:
        """The case keys of the case graphs."""
        return [self.key_of(g) for g in self.case_graphs()]

    def key_of(self, graph: NamedNode) -> str:
        """The case key of a case graph (``{base}graph/{key}``)."""
        return unquote(graph.value.removeprefix(f"{self.base}graph/"))

    def only_case_graphs(self, graphs: list[NamedNode]) -> list[NamedNode]:
        """The case graphs among ``graphs``."""
        skip = (self.vocabulary_graph, self.concepts_graph)
        prefix = f"{self.base}graph/"
        return [g for g in graphs if g not in skip and g.value.startswith(prefix)]

    def replace_case(
        self,
        record: Record,
        text: str,
        *,
        ingest_time: datetime | None = None,
        extra: Extra | None = None,
    ) -> tuple[NamedNode, int]:
        """Map ``record`` and replace its case graph; returns (graph IRI, triple count)."""
        quads = record_to_quads(record, text, self.base, ingest_time=ingest_time, extra=extra)
        graph = case_graph_iri(record.case_key, self.base)
        return graph, self.replace_graph(graph, quads, **self.CASE_WRITE)

    def prune_concepts(self) -> int:
        """Remove concept nodes no case refers to any more; returns triples removed.

        Only the concepts graph changes, so only it is counted (counting the whole store
        takes seconds on a large one).
        """
        before = self.graph_size(self.concepts_graph)
        self._prune(prune_update(self.base))
        return before - self.graph_size(self.concepts_graph)

    def _prune(self, update: str) -> None:
        self.update(update)

    def load_vocabulary(self, quads: Iterable[Quad]) -> int:
        """Replace the vocabulary graph (``{base}graph/vocabulary``) atomically.

        Quads may be given in any graph (or the default graph): they are all put into the
        vocabulary graph. Returns the number of triples stored.
        """
        graph = self.vocabulary_graph
        moved = (Quad(q.subject, q.predicate, q.object, graph) for q in quads)
        return self.replace_graph(graph, moved)


class GraphStore(CaseStore):
    """An on-disk Oxigraph store holding one named graph per case.

    Use as a context manager so the store is flushed and its lock released::

        with GraphStore("build/demo-store") as store:
            store.replace_case(record, text)
    """

    CASE_WRITE: ClassVar[dict[str, Any]] = {"newer_only": True}

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        base: str | None = None,
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.read_only = read_only
        self.base = resolve_base(base)
        self._unflushed = 0
        self.conflicts: list[str] = []
        """Messages about cases replaced by another letter of the same case (see
        :meth:`replace_graph`'s ``newer_only``); :meth:`take_conflicts` empties it."""
        self._store: Store | None = self._open()

    def _open(self) -> Store:
        if self.read_only:
            if not self.path.is_dir():
                raise StoreError(
                    "no store here; run `imr-graph ingest` first or pass --store",
                    path=self.path,
                )
            # A writer compacting files while we open may make RocksDB see a file vanish
            # ("Corruption: ... No such file"): that race is transient, so retry a little.
            error: Exception | None = None
            for attempt in range(8):
                try:
                    return Store.read_only(str(self.path))
                except (OSError, RuntimeError) as exc:
                    error = exc
                    time.sleep(0.05 * (attempt + 1))
            message = " ".join(str(error).split())
            raise StoreError(f"cannot open store read-only: {message}", path=self.path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            return Store(str(self.path))
        except OSError as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreInUseError(
                    "store is in use by another process (an ingest running?); "
                    "queries can still read it",
                    path=self.path,
                ) from None
            raise StoreError(f"cannot open store: {text}", path=self.path) from None

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The underlying ``pyoxigraph.Store`` (raises if closed)."""
        if self._store is None:
            raise StoreError("store is closed", path=self.path)
        return self._store

    def close(self) -> None:
        """Flush (when writable) and release the store and its lock."""
        if self._store is not None:
            if not self.read_only:
                self._store.flush()
            self._store = None

    def _writable(self) -> Store:
        if self.read_only:
            raise StoreError("store is open read-only", path=self.path)
        return self.store

    # -- writing ------------------------------------------------------------------------------

    def replace_graph(
        self, graph: NamedNode, quads: Iterable[Quad], *, newer_only: bool = False
    ) -> int:
        """Replace the content of ``graph`` with ``quads`` atomically; returns its triple count.

        Quads must be in ``graph`` or in the concepts graph (``{base}graph/concepts``), whose
        quads are added (set semantics: adding a triple twice stores it once). The removal
        of the old triples and the inserts are one SPARQL update, i.e. one Oxigraph
        transaction: on any error the old graph stays as it was. A graph already stored is
        changed by its difference only (:meth:`difference`, :meth:`write_changes`).

        ``newer_only`` (case graphs): when the stored graph comes from a different letter
        (another ``imr:sha256``), the later ``imr:decisionDate`` wins: an older letter raises
        :class:`~imr_graph.errors.CaseConflictError` and the stored case stays; a newer (or
        equally dated) one replaces it and a message is added to :attr:`conflicts`.
        """
        from pyoxigraph import serialize

        concepts = self.concepts_graph
        own: list[Quad] = []
        shared: list[Any] = []
        for q in quads:
            if q.graph_name == graph:
                own.append(q)
            elif q.graph_name == concepts:
                shared.append(q.triple)
            else:
                raise ValueError(f"quad outside graph {graph}: {q}")
        change = self.difference(graph, serialize(own, format=RdfFormat.N_QUADS) or b"",
                                 newer_only=newer_only)
        lines = (serialize(shared, format=RdfFormat.N_TRIPLES) or b"").splitlines()
        self.write_changes([change], lines)
        return change.triples

    def difference(self, graph: NamedNode, nquads: bytes, *,
                   newer_only: bool = False) -> CaseChange:
        """What writing ``nquads`` (Oxigraph's N-Quads of ``graph`` alone) as the new content
        of ``graph`` changes: the stored triples that go and the new ones that come, as
        N-Triples lines (Oxigraph serialises both sides the same way, so equal triples are
        equal lines). Nothing is written; ``newer_only`` as in :meth:`replace_graph`."""
        store = self._writable()
        new = dict.fromkeys(ntriples_lines(nquads, graph))
        added = list(new)
        if not store.contains_named_graph(graph):
            return CaseChange(graph, [], added, False, len(added))
        stored = store.dump(format=RdfFormat.N_TRIPLES, from_graph=graph) or b""
        old = stored.splitlines()
        if newer_only:
            self._check_newer(graph, stored, b"\n".join(added))
        if b"_:" in stored or any(b"_:" in line for line in added):
            # blank nodes cannot be deleted by value: the whole graph is dropped instead
            return CaseChange(graph, [], added, True, len(added))
        before = set(old)
        return CaseChange(graph, [line for line in old if line not in new],
                          [line for line in added if line not in before], False, len(added))

    def write_changes(self, changes: list[CaseChange], shared: Iterable[bytes] = ()) -> int:
        """Write the :meth:`difference` of each of several graphs, and ``shared`` N-Triples
        lines into the concepts graph, as ONE SPARQL update (one transaction: all of it or
        none of it). Returns the number of lines written."""
        store = self._writable()
        shared = [line for line in shared if line.strip()]
        parts = [b"DROP SILENT GRAPH " + str(c.graph).encode() for c in changes if c.drop]

        def blocks(graph_lines: Iterable[tuple[NamedNode, list[bytes]]]) -> bytes:
            return b"\n".join(b"GRAPH " + str(g).encode() + b" {\n" + b"\n".join(lines) + b"\n}"
                              for g, lines in graph_lines if lines)

        gone = blocks((c.graph, c.gone) for c in changes)
        if gone:
            parts.append(b"DELETE DATA {\n" + gone + b"\n}")
        added = blocks([*((c.graph, c.added) for c in changes), (self.concepts_graph, shared)])
        if added:
            parts.append(b"INSERT DATA {\n" + added + b"\n}")
        written = sum(len(c.gone) + len(c.added) for c in changes) + len(shared)
        try:
            if parts:
                store.update(b" ;\n".join(parts).decode())
            self._unflushed += written
            if self._unflushed >= FLUSH_EVERY:
                # RocksDB keeps written data in memtables until a flush: without one, memory
                # grows with every case of a long ingest.
                store.flush()
                self._unflushed = 0
        except (OSError, SyntaxError, RuntimeError) as exc:
            which = changes[0].graph.value if len(changes) == 1 else f"{len(changes)} graphs"
            raise StoreError(f"cannot write {which}: {exc}", path=self.path) from None
        return written

    def _check_newer(self, graph: NamedNode, old: bytes, new: bytes) -> None:
        """Refuse an older letter of a stored case; note a newer one (see replace_graph).
        ``old`` and ``new`` are the N-Triples of the stored and the new graph."""
        from pyoxigraph import parse

        date_p, sha_p, path_p = _NEWER

        def values(ntriples: bytes) -> dict[NamedNode, str]:
            found: dict[NamedNode, list[str]] = {}
            picked = b"\n".join(_lines_with(ntriples, _NEWER_MARKS))
            for t in parse(picked, format=RdfFormat.N_TRIPLES):
                if t.predicate not in _NEWER:
                    continue  # the mark was inside a literal
                found.setdefault(t.predicate, []).append(t.object.value)
            return {p: max(v) for p, v in found.items()}

        was, now = values(old), values(new)
        old_sha, new_sha = was.get(sha_p), now.get(sha_p)
        if old_sha is None or new_sha is None or old_sha == new_sha:
            return
        old_date, new_date = was.get(date_p, ""), now.get(date_p, "")
        old_path = was.get(path_p) or "another letter"
        key = graph.value.rsplit("/", 1)[-1]
        if old_date > new_date:
            raise CaseConflictError(
                f"case {key}: not stored, the store holds a later letter of this case "
                f"({old_path}, decided {old_date}; this one {new_date or 'undated'})",
                path=now.get(path_p),
            )
        self.conflicts.append(
            f"{now.get(path_p) or key}: case {key} replaced the letter {old_path} "
            f"(decided {old_date or 'undated'}; this one {new_date or 'undated'})"
        )

    def take_conflicts(self) -> list[str]:
        """The conflict messages collected since the last call (and forget them)."""
        out, self.conflicts = self.conflicts, []
        return out

    def drop_case(self, case: str) -> int:
        """Remove one case graph (case key, case IRI or graph IRI); returns triples removed.

        Raises :class:`~imr_graph.errors.NotFoundError` when the store has no such case.
        """
        store = self._writable()
        graph = self.resolve_graph(case)
        size = self.graph_size(graph)
        try:
            store.update(f"DROP GRAPH {graph} ;\n{prune_update(self.base)}")
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot drop {graph.value}: {exc}", path=self.path) from None
        return size

    def _prune(self, update: str) -> None:
        try:
            self._writable().update(update)
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"cannot prune concepts: {exc}", path=self.path) from None

    def update(self, text: str) -> None:
        """Run a SPARQL Update (the explicit write path; never reaches the network)."""
        check_update(text)
        try:
            self._writable().update(text, prefixes=PREFIXES)
        except SyntaxError as exc:
            raise QueryError(f"update: {syntax_message(str(exc))}") from None
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"update failed: {exc}", path=self.path) from None

    # -- reading ------------------------------------------------------------------------------

    def named_graphs(self) -> list[NamedNode]:
        """All named graphs, sorted by IRI."""
        graphs = [g for g in self.store.named_graphs() if isinstance(g, NamedNode)]
        return sorted(graphs, key=lambda g: g.value)

    def has_graph(self, graph: NamedNode) -> bool:
        """True when the store holds this named graph."""
        return bool(self.store.contains_named_graph(graph))

    def location(self) -> str:
        """Where the store is, for messages."""
        return f"store {self.path}"

    def graph_size(self, graph: NamedNode | DefaultGraph) -> int:
        """Number of triples in one graph."""
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, graph))

    def __len__(self) -> int:
        return len(self.store)

    def query(
        self,
        text: str,
        *,
        substitutions: dict[str, Any] | None = None,
        graph: NamedNode | None = None,
    ) -> QueryResult:
        """Run a SPARQL query: union default graph, or ``graph`` when given.

        A narrowed query sees :meth:`query_graphs`, also in ``GRAPH ?g`` (queries name a
        case by its graph).

        ``substitutions`` binds variables (by name, without ``?``) to RDF terms; the
        query text is never edited. Errors propagate as pyoxigraph raises them
        (``SyntaxError``, ``RuntimeError``, ``OSError``); :mod:`imr_graph.graph.queries` turns
        them into :class:`~imr_graph.errors.QueryError`.
        """
        subs = {Variable(k): v for k, v in (substitutions or {}).items()}
        kwargs: dict[str, Any] = {"prefixes": PREFIXES, "substitutions": subs or None}
        if graph is None:
            kwargs["use_default_graph_as_union"] = True
        else:
            kwargs["default_graph"] = kwargs["named_graphs"] = self.query_graphs(graph)
        return self.store.query(text, **kwargs)

    def _count(self, text: str) -> int:
        rows = list(self.query(text))  # type: ignore[arg-type]
        return int(rows[0]["n"].value) if rows and rows[0]["n"] is not None else 0

    def stats(self) -> dict[str, int]:
        """Counts: cases, items by outcome, shared concepts, graphs and triples."""
        out: dict[str, int] = {name: self._count(text) for name, text in STATS_QUERIES.items()}
        out["case_graphs"] = len(self.case_graphs())
        out["concept_triples"] = self.graph_size(self.concepts_graph)
        out["vocabulary_triples"] = self.graph_size(self.vocabulary_graph)
        out["named_graphs"] = len(self.named_graphs())
        out["triples"] = len(self.store)
        return out

    def dump(
        self,
        fmt: str,
        output: IO[bytes] | str | Path | None = None,
        *,
        graph: NamedNode | None = None,
    ) -> bytes | None:
        """Serialise the store (``trig``/``nq``: all graphs; ``ttl``/``nt``: one graph).

        Triple formats write ``graph`` when given, else the union of all graphs (named
        graphs merged). Returns bytes when ``output`` is None.
        """
        try:
            rdf_format = DUMP_FORMATS[fmt]
        except KeyError:
            from ..errors import UsageError

            raise UsageError(
                f"unknown dump format {fmt!r}; choose one of {', '.join(DUMP_FORMATS)}"
            ) from None
        target = str(output) if isinstance(output, Path) else output
        prefixes = dict(PREFIXES)
        if rdf_format.supports_datasets and graph is None:
            return self.store.dump(target, rdf_format, prefixes=_prefixes_for(rdf_format,
                                                                              prefixes))
        if graph is not None:
            return self.store.dump(target, rdf_format, from_graph=graph,
                                   prefixes=_prefixes_for(rdf_format, prefixes))
        from pyoxigraph import serialize

        triples = self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return serialize(triples, target, rdf_format,  # type: ignore[arg-type]
                         prefixes=_prefixes_for(rdf_format, prefixes))

    def iter_quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """All quads of the store, or of one graph."""
        return iter(self.store.quads_for_pattern(None, None, None, graph))


def _prefixes_for(fmt: RdfFormat, prefixes: dict[str, str]) -> dict[str, str] | None:
    return prefixes if fmt in (RdfFormat.TRIG, RdfFormat.TURTLE) else None
