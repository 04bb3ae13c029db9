"""Full-text search over requests and rationales: an SQLite FTS5 index kept next to the store.

Why SQLite FTS5: it ships with Python (``sqlite3``; nothing to install or start), ranks with
BM25, cuts snippets around hits, reads phrases, and answers from an inverted index, so a
search stays well under a second at 200k letters where ``FILTER(CONTAINS(...))`` over every
rationale in SPARQL reads all of them. One row per disputed item: ``request`` and
``rationale`` are indexed; the case key, outcome, service concept, the reviewer's cited
sections, decision date and system are stored beside them for filters and output.

The index is derived data, never the source of truth: the file ``<store>.search.sqlite``
beside the store directory can be deleted at any time and is rebuilt from the store
(``imr-graph search --reindex``). It is kept consistent with the store by
:func:`sync`, which every search runs first:

* a *fingerprint* of the store's files (names, sizes and times of RocksDB's table, log
  and manifest files) is kept in the index; when it is unchanged the store has not been
  written since the last sync and the search goes straight to the index;
* otherwise the store's case graphs and their stamps (the case graph's
  ``prov:generatedAtTime``, which every ingest writes anew, with the letter's sha256 and
  the parser version, so that a re-ingest within the same second is seen too) are compared
  with the index's: new and replaced cases are (re)indexed, dropped ones removed.

Each sync is one SQLite transaction that also records the new fingerprint, so a process
killed in the middle leaves the previous, consistent index (and an old fingerprint, so the
next search syncs again). ``imr-graph ingest`` and ``imr-graph drop`` sync an existing
index at their end, so that the next search does not pay for it.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import QueryError, StoreError

SCHEMA_VERSION = "1"

_ITEMS = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?g ?case ?type ?decided ?index ?request ?rationale ?outcome ?service
       (GROUP_CONCAT(DISTINCT ?sl; SEPARATOR="; ") AS ?sections)
WHERE {
  %s
  ?g dcterms:subject ?c .
  ?c imr:caseKey ?case ; imr:item ?i .
  OPTIONAL { ?c a ?type FILTER(?type IN (imr:WorkersCompCase, imr:HealthPlanCase)) }
  OPTIONAL { ?c imr:decisionDate ?decided }
  OPTIONAL { ?i imr:itemIndex ?index }
  OPTIONAL { ?i imr:request ?request }
  OPTIONAL { ?i imr:rationale ?rationale }
  OPTIONAL { ?i imr:outcome ?outcome }
  OPTIONAL { ?i imr:service ?s . ?s skos:notation ?service }
  OPTIONAL { ?i imr:reviewerSection ?sec .
             OPTIONAL { ?sec skos:altLabel ?alt } OPTIONAL { ?sec skos:prefLabel ?pl }
             BIND(STR(COALESCE(?alt, ?pl)) AS ?sl) }
}
GROUP BY ?g ?case ?type ?decided ?index ?request ?rationale ?outcome ?service
"""

_STAMPS = """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX imr: <https://w3id.org/imr-graph/ontology#>
SELECT ?g ?stamp WHERE {
  GRAPH ?g {
    ?g dcterms:subject ?c ; prov:generatedAtTime ?t .
    OPTIONAL { ?g prov:wasDerivedFrom ?src OPTIONAL { ?src imr:sha256 ?sha } }
    OPTIONAL { ?c imr:parserVersion ?v }
  }
  BIND(CONCAT(STR(?t), " ", COALESCE(?sha, ""), " ", COALESCE(?v, "")) AS ?stamp)
}
"""

COLUMNS = ("case", "item", "decided", "outcome", "service", "request", "sections", "snippet",
           "system", "score")
"""The columns of a search hit, in order."""


def index_path(store_path: Path) -> Path:
    """Where the index of the store at ``store_path`` lives (beside it)."""
    return store_path.with_name(store_path.name + ".search.sqlite")


def fingerprint(store_path: Path) -> str:
    """A digest of the store's data files: it changes whenever the store is written."""
    digest = hashlib.sha256()
    try:
        entries = sorted(store_path.iterdir())
    except OSError as exc:
        raise StoreError(f"cannot read the store directory: {exc.strerror}",
                         path=store_path) from None
    for entry in entries:
        name = entry.name
        if name == "CURRENT" or name.startswith("MANIFEST-") or name.endswith((".sst", ".log")):
            try:
                st = entry.stat()
            except FileNotFoundError:  # compacted away while we looked: changed anyway
                continue
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE IF NOT EXISTS cases (graph TEXT PRIMARY KEY, stamp TEXT NOT NULL);
        CREATE VIRTUAL TABLE IF NOT EXISTS items USING fts5(
            request, rationale,
            graph UNINDEXED, case_key UNINDEXED, item UNINDEXED, decided UNINDEXED,
            outcome UNINDEXED, service UNINDEXED, sections UNINDEXED, system UNINDEXED,
            tokenize = 'porter unicode61 remove_diacritics 2');
    """)
    return db


def _has_fts5() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


@dataclass
class SyncStats:
    """What one :func:`sync` did."""

    added: int = 0
    removed: int = 0
    items: int = 0
    checked: bool = False
    """True when the store was compared case by case (its files had changed)."""


def open_index(store: Any) -> tuple[sqlite3.Connection, Path]:
    """The index of a local ``store`` (a GraphStore), created when missing."""
    if getattr(store, "path", None) is None or not Path(store.path).is_dir():
        raise QueryError("search needs a local store (--store); it keeps its text index "
                         "beside the store directory")
    if not _has_fts5():
        raise StoreError("this Python's sqlite3 has no FTS5; search needs it")
    path = index_path(Path(store.path))
    try:
        return _connect(path), path
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the text index ({exc}); delete it or run "
                         "`imr-graph search --reindex`", path=path) from None


def sync(store: Any, *, rebuild: bool = False) -> SyncStats:
    """Bring the index of ``store`` in step with it (see the module); ``rebuild`` starts
    from an empty index."""
    db, path = open_index(store)
    stats = SyncStats()
    try:
        print_ = fingerprint(Path(store.path))
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if (not rebuild and meta.get("fingerprint") == print_
                and meta.get("schema") == SCHEMA_VERSION):
            return stats
        stats.checked = True
        with db:  # one transaction: all of it or none of it
            if rebuild or meta.get("schema") != SCHEMA_VERSION:
                db.execute("DELETE FROM items")
                db.execute("DELETE FROM cases")
            known = dict(db.execute("SELECT graph, stamp FROM cases"))
            current = {s["g"].value: s["stamp"].value for s in store.query(_STAMPS)}
            gone = [g for g in known if g not in current]
            changed = [g for g, stamp in current.items() if known.get(g) != stamp]
            for graph in gone + [g for g in changed if g in known]:
                db.execute("DELETE FROM items WHERE graph = ?", (graph,))
                db.execute("DELETE FROM cases WHERE graph = ?", (graph,))
            stats.removed = len(gone)
            stats.added = len(changed)
            for row in _item_rows(store, changed, len(current)):
                db.execute("INSERT INTO items (request, rationale, graph, case_key, item, "
                           "decided, outcome, service, sections, system) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                stats.items += 1
            db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?)",
                           [(g, current[g]) for g in changed])
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("fingerprint", print_), ("schema", SCHEMA_VERSION)])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"text index: {exc}; run `imr-graph search --reindex`",
                         path=path) from None
    finally:
        db.close()
    return stats


def _item_rows(store: Any, graphs: list[str], total: int) -> Iterator[tuple[Any, ...]]:
    """Index rows of the items of ``graphs``: one query per case for a few, one scan of
    the store for many."""
    if not graphs:
        return
    wanted = set(graphs)
    if len(graphs) * 20 < total or len(graphs) <= 50:
        queries: Iterable[str] = (_ITEMS % f"BIND(<{g}> AS ?g)" for g in graphs)
    else:
        queries = [_ITEMS % ""]
    for text in queries:
        for s in store.query(text):
            graph = s["g"].value
            if graph not in wanted:
                continue

            def v(name: str, sol: Any = s) -> str:
                term = sol[name]
                return "" if term is None else term.value

            system = "dmhc" if v("type").endswith("HealthPlanCase") else "dwc"
            yield (v("request"), v("rationale"), graph, v("case"), v("index"), v("decided"),
                   v("outcome").rsplit("#", 1)[-1], v("service"), v("sections"), system)


# ----------------------------------------------------------------------------------------------
# Searching
# ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def fts_query(words: str) -> str:
    """User words -> an FTS5 query: every word and "quoted phrase" must occur; a leading
    ``-`` excludes one; ``word*`` is a prefix. Anything else is taken literally."""
    must: list[str] = []
    never: list[str] = []
    for m in _TOKEN.finditer(words):
        neg = m.group(1) or m.group(3)
        body = m.group(2) if m.group(2) is not None else m.group(4)
        prefix = body.endswith("*") and m.group(2) is None
        terms = re.findall(r"\w+", body)
        if not terms:
            continue
        part = '"' + " ".join(terms) + '"' + ("*" if prefix else "")
        (never if neg else must).append(part)
    if not must:
        raise QueryError("search: give at least one word to look for")
    query = " AND ".join(must)
    for part in never:
        query += f" NOT {part}"
    return query


def search(
    store: Any,
    words: str,
    *,
    outcome: str | None = None,
    service: str | None = None,
    section: str | None = None,
    year: int | None = None,
    system: str | None = None,
    limit: int = 20,
) -> tuple[int, list[dict[str, Any]]]:
    """Items whose request or rationale holds ``words``, best first (BM25, the request
    weighted twice), with filters; returns (how many match, the first ``limit`` rows)."""
    sync(store)
    match = fts_query(words)
    where = ["items MATCH ?"]
    args: list[Any] = [match]
    if outcome:
        where.append("lower(outcome) = lower(?)")
        args.append(outcome.strip())
    if service:
        from .precedents import service_id

        concept = service_id(service).rstrip("/")  # "medication/": the whole category
        where.append("(service = ? OR service LIKE ?)")
        args += [concept, concept + "/%"]
    if section:
        where.append("sections LIKE ?")
        args.append(f"%{section.strip()}%")
    if year is not None:
        where.append("decided LIKE ?")
        args.append(f"{year:04d}-%")
    if system:
        where.append("system = ?")
        args.append(system.strip().lower())
    clause = " AND ".join(where)
    db, _ = open_index(store)
    try:
        total = db.execute(f"SELECT count(*) FROM items WHERE {clause}", args).fetchone()[0]
        rows = db.execute(
            "SELECT case_key, item, decided, outcome, service, request, sections, "
            "snippet(items, -1, '[', ']', '…', 24), system, bm25(items, 2.0, 1.0) AS rank "
            f"FROM items WHERE {clause} ORDER BY rank, decided DESC LIMIT ?",
            [*args, limit if limit > 0 else -1]).fetchall()
    except sqlite3.OperationalError as exc:
        raise QueryError(f"search: {exc}") from None
    finally:
        db.close()
    hits = [dict(zip(COLUMNS, (*r[:9], round(-r[9], 3)), strict=True)) for r in rows]
    for hit in hits:
        if hit["item"].isdigit():
            hit["item"] = int(hit["item"])
    return total, hits
