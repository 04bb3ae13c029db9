"""Full-text search over requests and rationales, and the decisions precedents rank: an
SQLite index (FTS5 for the text) kept next to the store.

Why SQLite FTS5: it ships with Python (``sqlite3``; nothing to install or start), ranks with
BM25, cuts snippets around hits, reads phrases, and answers from an inverted index, so a
search stays well under a second at 200k letters where ``FILTER(CONTAINS(...))`` over every
rationale in SPARQL reads all of them. One row per disputed item: ``request`` and
``rationale`` are indexed; the case key, outcome, service concept, the reviewer's cited
sections, decision date and system are stored beside them for filters and output. For
:func:`decision_counts` and :func:`ranked_decisions` (precedents), plain tables hold
every dated decision on a service, the service concepts (category, kind) and each case's
ICD-10-CM categories, so that counting and ranking thousands of decisions is an indexed
lookup and a sort, not a SPARQL join per decision.

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import QueryError, StoreError

SCHEMA_VERSION = "2"

_ITEMS = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?g ?i ?case ?type ?decided ?index ?request ?rationale ?outcome ?service ?quote ?letter
WHERE {
  %s
  ?g dcterms:subject ?c .
  ?c imr:caseKey ?case ; imr:item ?i .
  OPTIONAL { ?c a ?type FILTER(?type IN (imr:WorkersCompCase, imr:HealthPlanCase)) }
  OPTIONAL { ?c imr:decisionDate ?decided }
  OPTIONAL { ?c prov:wasDerivedFrom ?src OPTIONAL { ?src imr:filePath ?letter } }
  OPTIONAL { ?i imr:itemIndex ?index }
  OPTIONAL { ?i imr:request ?request }
  OPTIONAL { ?i imr:rationale ?rationale }
  OPTIONAL { ?i imr:outcome ?outcome }
  OPTIONAL { ?i imr:service ?s . ?s skos:notation ?service }
  OPTIONAL { ?i imr:decisionSpan ?span OPTIONAL { ?span imr:quote ?quote } }
}
"""
"""One row per item (no GROUP BY, so Oxigraph streams the rows instead of holding them all);
an item repeated by a second value of an optional part is kept once."""

_SECTIONS = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?g ?i ?label WHERE {
  %s
  ?g dcterms:subject ?c .
  ?c imr:item ?i .
  ?i imr:reviewerSection ?sec .
  OPTIONAL { ?sec skos:altLabel ?alt } OPTIONAL { ?sec skos:prefLabel ?pl }
  BIND(STR(COALESCE(?alt, ?pl)) AS ?label)
}
"""
"""The labels of the guideline sections the reviewer cited, per item."""

_CATEGORIES = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX imrv: <https://w3id.org/imr-graph/vocab#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?g (GROUP_CONCAT(DISTINCT ?cn; SEPARATOR=" ") AS ?categories) WHERE {
  %s
  ?g dcterms:subject ?c .
  ?c imr:diagnosis ?d .
  ?d skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?code .
  ?code imrv:icd10Category ?kat .
  ?kat a imrv:ICD10CMCategory ; skos:notation ?cn .
}
GROUP BY ?g
"""
"""The ICD-10-CM categories of each case's diagnoses (through the links of ``imr-graph
link``), as the canned query ``precedents`` finds them."""

_SERVICES = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?service (MIN(STR(?cat)) AS ?category) (MIN(STR(?k)) AS ?kind) WHERE {
  ?s a imr:Service ; skos:notation ?service ; skos:broader ?cat ; imr:serviceKind ?k .
}
GROUP BY ?service
"""
"""Every service concept with its category (``skos:broader``) and kind."""

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
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if schema is None or schema[0] != SCHEMA_VERSION:  # another layout: start afresh
        with db:
            db.executescript("""
                DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS cases;
                DROP TABLE IF EXISTS decisions; DROP TABLE IF EXISTS services;
                DELETE FROM meta;""")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS cases (graph TEXT PRIMARY KEY, stamp TEXT NOT NULL,
                                          categories TEXT NOT NULL DEFAULT '');
        CREATE VIRTUAL TABLE IF NOT EXISTS items USING fts5(
            request, rationale,
            graph UNINDEXED, case_key UNINDEXED, item UNINDEXED, decided UNINDEXED,
            outcome UNINDEXED, service UNINDEXED, sections UNINDEXED, system UNINDEXED,
            tokenize = 'porter unicode61 remove_diacritics 2');
        CREATE TABLE IF NOT EXISTS decisions (
            graph TEXT NOT NULL, case_key TEXT NOT NULL, item INTEGER, decided TEXT NOT NULL,
            outcome TEXT NOT NULL, request TEXT NOT NULL, service TEXT NOT NULL,
            sections TEXT NOT NULL, quote TEXT NOT NULL, letter TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS decisions_service ON decisions (service, decided);
        CREATE INDEX IF NOT EXISTS decisions_graph ON decisions (graph);
        CREATE TABLE IF NOT EXISTS services (service TEXT PRIMARY KEY, category TEXT NOT NULL,
                                             kind TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS services_category ON services (category);
        CREATE INDEX IF NOT EXISTS services_kind ON services (kind);
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


def can_index(store: Any) -> bool:
    """True when ``store`` is a local store that can keep an index beside it."""
    where = getattr(store, "path", None)
    return where is not None and Path(where).is_dir() and _has_fts5()


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
        if not rebuild and meta.get("fingerprint") == print_:
            return stats
        stats.checked = True
        with db:  # one transaction: all of it or none of it
            if rebuild:
                for table in ("items", "cases", "decisions", "services"):
                    db.execute(f"DELETE FROM {table}")
            known = dict(db.execute("SELECT graph, stamp FROM cases"))
            current = {s["g"].value: s["stamp"].value for s in store.query(_STAMPS)}
            gone = [g for g in known if g not in current]
            changed = [g for g, stamp in current.items() if known.get(g) != stamp]
            # one pass over each table for all the cases that go (the text table has no
            # index on its graph column)
            db.execute("CREATE TEMP TABLE IF NOT EXISTS going (graph TEXT PRIMARY KEY)")
            db.execute("DELETE FROM going")
            db.executemany("INSERT OR IGNORE INTO going VALUES (?)",
                           [(g,) for g in gone + [g for g in changed if g in known]])
            for table in ("items", "decisions", "cases"):
                db.execute(f"DELETE FROM {table} WHERE graph IN (SELECT graph FROM going)")
            stats.removed = len(gone)
            stats.added = len(changed)
            for row in _item_rows(store, changed, len(current)):
                db.execute("INSERT INTO items (request, rationale, graph, case_key, item, "
                           "decided, outcome, service, sections, system) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row[:10])
                request, _, graph, case, item, decided, outcome, service, sections = row[:9]
                if service and decided:
                    db.execute("INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (graph, case, int(item) if item.isdigit() else None, decided,
                                outcome, request, service, sections, row[10], row[11]))
                stats.items += 1
            vocabulary = _vocabulary_stamp(store)
            relink = vocabulary != meta.get("vocabulary")
            # the categories hang on the links: all cases again when the links changed
            cats = _categories(store, list(current) if relink else changed, len(current))
            db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?, ?)",
                           [(g, current[g], cats.get(g, "")) for g in changed])
            if relink:
                db.executemany("UPDATE cases SET categories = ? WHERE graph = ?",
                               [(cats.get(g, ""), g) for g in current if g not in changed])
            db.execute("DELETE FROM services")
            db.executemany("INSERT INTO services VALUES (?, ?, ?)",
                           [(s["service"].value, s["category"].value, s["kind"].value)
                            for s in store.query(_SERVICES)])
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("fingerprint", print_), ("schema", SCHEMA_VERSION),
                            ("vocabulary", vocabulary)])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"text index: {exc}; run `imr-graph search --reindex`",
                         path=path) from None
    finally:
        db.close()
    return stats


def _vocabulary_stamp(store: Any) -> str:
    """A digest of the vocabulary graph (the links of ``imr-graph link``)."""
    from pyoxigraph import RdfFormat

    data = store.store.dump(format=RdfFormat.N_TRIPLES, from_graph=store.vocabulary_graph)
    return hashlib.sha256(data or b"").hexdigest()


def _per_graph(template: str, graphs: list[str], total: int) -> list[str]:
    """``template`` bound to each of ``graphs`` when they are few, else once for the whole
    store (its rows then filtered to ``graphs``)."""
    if len(graphs) * 20 < total or len(graphs) <= 50:
        return [template % f"BIND(<{g}> AS ?g)" for g in graphs]
    return [template % ""]


def _categories(store: Any, graphs: list[str], total: int) -> dict[str, str]:
    """The ICD-10-CM categories of the cases of ``graphs`` (space separated)."""
    if not graphs:
        return {}
    wanted = set(graphs)
    out: dict[str, str] = {}
    for text in _per_graph(_CATEGORIES, graphs, total):
        for s in store.query(text):
            if s["g"].value in wanted:
                out[s["g"].value] = s["categories"].value
    return out


def _item_rows(store: Any, graphs: list[str], total: int) -> Iterator[tuple[Any, ...]]:
    """Index rows of the items of ``graphs``: one query per case for a few, one scan of
    the store for many. (request, rationale, graph, case, item, decided, outcome, service,
    sections, system, quote, letter)."""
    if not graphs:
        return
    wanted = set(graphs)
    sections: dict[str, dict[str, None]] = {}
    for text in _per_graph(_SECTIONS, graphs, total):
        for s in store.query(text):
            if s["g"].value in wanted and s["label"] is not None:
                sections.setdefault(s["i"].value, {})[s["label"].value] = None
    seen: set[str] = set()
    for text in _per_graph(_ITEMS, graphs, total):
        for s in store.query(text):
            graph, item = s["g"].value, s["i"].value
            if graph not in wanted or item in seen:
                continue
            seen.add(item)

            def v(name: str, sol: Any = s) -> str:
                term = sol[name]
                return "" if term is None else term.value

            system = "dmhc" if v("type").endswith("HealthPlanCase") else "dwc"
            yield (v("request"), v("rationale"), graph, v("case"), v("index"), v("decided"),
                   v("outcome").rsplit("#", 1)[-1], v("service"),
                   "; ".join(sections.pop(item, {})), system, v("quote"), v("letter"))


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
        from ..letters.services import service_concept

        concept = service_concept(service).rstrip("/")  # "medication/": the whole category
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


# ----------------------------------------------------------------------------------------------
# Precedents from the index
# ----------------------------------------------------------------------------------------------

_MATCH = ("CASE WHEN d.service = :service THEN 'service' WHEN s.category = :category "
          "THEN 'category' ELSE 'kind' END")
"""How a decision's service relates to the one asked about: itself, its category, its kind."""
_IN_SCOPE = ("s.kind = :kind AND d.decided < :before AND (d.service = :service OR "
             "(:scope != 'service' AND s.category = :category) OR :scope = 'kind')")


def _target(db: sqlite3.Connection, service: str, before: str) -> dict[str, str] | None:
    """The query arguments for ``service`` (its category and kind), or None when the store
    has no such service concept."""
    found = db.execute("SELECT category, kind FROM services WHERE service = ?",
                       (service,)).fetchone()
    if found is None:
        return None
    return {"service": service, "category": found[0], "kind": found[1], "before": before}


def decision_counts(store: Any, service: str, before: str) -> dict[str, tuple[int, int, int]]:
    """The dated decisions before ``before`` on ``service``, on other services of its
    category and on other services of its kind: per match (``service``, ``category``,
    ``kind``), (rows, upheld or overturned items, overturned items). Empty when the store
    does not know the service."""
    sync(store)
    db, _ = open_index(store)
    try:
        args = _target(db, service, before)
        if args is None:
            return {}
        return {match: (n, items or 0, over or 0) for match, n, items, over in db.execute(
            f"SELECT {_MATCH} AS match, count(*), sum(d.outcome IN ('Upheld', 'Overturned')), "
            "sum(d.outcome = 'Overturned') FROM decisions d JOIN services s USING (service) "
            f"WHERE {_IN_SCOPE} GROUP BY match", {**args, "scope": "kind"})}
    except sqlite3.OperationalError as exc:
        raise QueryError(f"precedents: {exc}") from None
    finally:
        db.close()


def ranked_decisions(
    store: Any, service: str, scope: str, categories: list[str], section: str | None,
    before: str, limit: int,
) -> list[dict[str, Any]]:
    """The decisions at ``scope`` (``service``, ``category`` or ``kind``), ranked as the
    canned query ``precedents`` ranks them (score = 3 same service, 1 same category, 0
    same kind, + 2 per ICD-10-CM category of ``categories`` the case has, + 2 when a cited
    section's label holds ``section``; then newer, case key, request); the first ``limit``
    (0 = all), each with its ``match``, ``score``, ``shared`` categories and
    ``same_section`` flag."""
    wanted = list(dict.fromkeys(c.upper() for c in categories))
    words = (section or "").strip().lower()

    def shared(cats: str) -> str:
        have = set(cats.split())
        return " ".join(c for c in wanted if c in have)

    def same_section(sections: str) -> int:
        return int(bool(words) and any(words in label.lower()
                                       for label in sections.split("; ")))

    sync(store)
    db, _ = open_index(store)
    try:
        args = _target(db, service, before)
        if args is None:
            return []
        db.create_function("nshared", 1, lambda cats: len(shared(cats).split()),
                           deterministic=True)
        db.create_function("same_section", 1, same_section, deterministic=True)
        rows = db.execute(
            "SELECT case_key AS 'case', decided, outcome, request, service AS concept, match, "
            "(CASE match WHEN 'service' THEN 3 WHEN 'category' THEN 1 ELSE 0 END) "
            "+ 2 * nshared + 2 * same_section AS score, categories, same_section, sections, "
            f"quote, letter FROM (SELECT d.*, {_MATCH} AS match, "
            "COALESCE(c.categories, '') AS categories, nshared(COALESCE(c.categories, '')) "
            "AS nshared, same_section(d.sections) AS same_section "
            "FROM decisions d JOIN services s USING (service) "
            f"LEFT JOIN cases c ON c.graph = d.graph WHERE {_IN_SCOPE}) "
            "ORDER BY score DESC, decided DESC, case_key, request LIMIT :limit",
            {**args, "scope": scope, "limit": limit if limit > 0 else -1})
        columns = [d[0] for d in rows.description]
        found = [dict(zip(columns, row, strict=True)) for row in rows]
        for row in found:
            row["shared"] = shared(row.pop("categories"))
        return found
    except sqlite3.OperationalError as exc:
        raise QueryError(f"precedents: {exc}") from None
    finally:
        db.close()
