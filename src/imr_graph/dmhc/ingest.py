"""Loading a DMHC health-plan IMR CSV into the store: file -> cases -> quads -> case graphs.

:func:`ingest_dmhc` reads the file (:func:`imr_graph.dmhc.reader.read_dmhc`), maps every readable
row (:func:`imr_graph.dmhc.mapping.case_to_quads`) and writes one named graph per case:

1. ``ontology/dmhc.ttl`` replaces the DMHC vocabulary graph (``{base}vocabulary/dmhc``);
2. the concepts the rows use are added to the shared concepts graph in one transaction;
3. cases new to the store are written in batches, one transaction per batch (a failure
   leaves earlier batches stored and nothing of the failing one); a case already in the
   store is replaced atomically on its own (:meth:`~imr_graph.graph.store.GraphStore.replace_graph`);
   a case already written from the same file (same SHA-256) by the same reader and mappings
   is skipped unless ``force``.

So re-running the same file duplicates nothing. Unreadable rows are returned as
:class:`~imr_graph.dmhc.reader.RowError` and never reach the store. :func:`load_category_mappings`
reads the SKOS mappings from ``ontology/dmhc.ttl``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, parse, serialize

from ..errors import StoreError
from ..graph.mapping import PREFIXES, SKOS, case_graph_iri, concepts_graph_iri, source_iri
from ..graph.store import GraphStore
from ..resources import ontology_file
from .mapping import (
    CategoryMappings,
    CsvSource,
    case_to_quads,
    concept_quads,
    dmhc_vocabulary_graph_iri,
)
from .reader import READER_VERSION, DmhcFile, RowError, read_dmhc

BATCH = 500
"""Default number of new cases written per transaction."""

MAPPING_PROPERTIES = tuple(
    f"{SKOS}{p}" for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
)


@lru_cache(maxsize=4)
def load_category_mappings(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """Concept IRI -> (SKOS mapping property, service category IRI) from ``dmhc.ttl``.

    Only mappings into the service category scheme count. A concept with two such mappings
    is an error in the file (:class:`ValueError`), since the comparison needs one category.
    """
    file = path or ontology_file("dmhc.ttl")
    target_prefix = "https://w3id.org/imr-graph/vocab/service-category/"
    out: dict[str, tuple[str, str]] = {}
    with open(file, "rb") as fh:
        for t in parse(fh, format=RdfFormat.TURTLE):
            if t.predicate.value not in MAPPING_PROPERTIES:
                continue
            if not isinstance(t.object, NamedNode) or not t.object.value.startswith(target_prefix):
                continue
            subject = t.subject.value
            if subject in out and out[subject] != (t.predicate.value, t.object.value):
                raise ValueError(f"{file}: {subject} has two service category mappings")
            out[subject] = (t.predicate.value, t.object.value)
    return out


def mapping_version(mappings: CategoryMappings) -> str:
    """The reader version plus a fingerprint of ``mappings``: what a stored case was made by."""
    digest = hashlib.sha256(repr(sorted(mappings.items())).encode("utf-8")).hexdigest()[:12]
    return f"{READER_VERSION}+map.{digest}"


def vocabulary_quads(store: GraphStore) -> list[Quad]:
    """``ontology/dmhc.ttl`` (terms, schemes, every mapping) in the DMHC vocabulary graph."""
    graph = dmhc_vocabulary_graph_iri(store.base)
    with open(ontology_file("dmhc.ttl"), "rb") as fh:
        return [
            Quad(t.subject, t.predicate, t.object, graph)
            for t in parse(fh, format=RdfFormat.TURTLE)
        ]


def stored_versions(store: GraphStore, sha256: str) -> dict[str, str]:
    """Case graph IRI -> version of the ingest that wrote it, for cases from this file."""
    src = source_iri(sha256, store.base)  # an IRI built here, never user text
    text = (
        f"SELECT ?g ?v WHERE {{ GRAPH ?g {{ ?g prov:wasDerivedFrom {src} ;"
        " prov:wasGeneratedBy ?a . ?a imr:parserVersion ?v } }"
    )
    rows = store.store.query(text, prefixes=PREFIXES)
    return {row["g"].value: row["v"].value for row in rows}  # type: ignore[union-attr]


@dataclass
class DmhcIngestResult:
    """What one DMHC file ingest did."""

    path: str
    rows: int = 0
    cases: int = 0
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    triples: int = 0
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list)
    delimiter: str = ";"
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every row was loaded."""
        return not self.errors


def ingest_dmhc(
    store: GraphStore,
    path: str | Path,
    *,
    batch: int = BATCH,
    force: bool = False,
    ingest_time: datetime | None = None,
    mappings: CategoryMappings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DmhcIngestResult:
    """Load every readable row of a DMHC CSV as its own case graph; see the module doc.

    Raises :class:`~imr_graph.errors.InputError` when the file is not a usable DMHC table
    and :class:`~imr_graph.errors.StoreError` when the store cannot be written.
    ``progress(done, total)`` is called after each write.
    """
    t0 = time.perf_counter()
    table: DmhcFile = read_dmhc(path)
    return store_cases(
        store,
        table,
        batch=batch,
        force=force,
        ingest_time=ingest_time,
        mappings=mappings,
        progress=progress,
        started=t0,
    )


def store_cases(
    store: GraphStore,
    table: DmhcFile,
    *,
    batch: int = BATCH,
    force: bool = False,
    ingest_time: datetime | None = None,
    mappings: CategoryMappings | None = None,
    progress: Callable[[int, int], None] | None = None,
    started: float | None = None,
) -> DmhcIngestResult:
    """Write the cases of an already read :class:`~imr_graph.dmhc.reader.DmhcFile` to ``store``.

    A case whose graph was written from the same file (same SHA-256) by the same reader
    and mappings is left as it is unless ``force``.
    """
    t0 = started if started is not None else time.perf_counter()
    if store.read_only:
        raise StoreError("store is open read-only", path=store.path)
    maps = load_category_mappings() if mappings is None else mappings
    version = mapping_version(maps)
    when = ingest_time or datetime.now(UTC)
    source = CsvSource(path=table.path, sha256=table.sha256)
    result = DmhcIngestResult(
        path=table.path,
        rows=table.rows,
        errors=list(table.errors),
        delimiter=table.delimiter,
        columns=dict(table.columns),
    )
    raw = store.store
    store.replace_graph(dmhc_vocabulary_graph_iri(store.base), vocabulary_quads(store))
    # The concepts the cases use, added to the shared concepts graph in one transaction.
    concepts = concept_quads(table.cases, concepts_graph_iri(store.base), maps,
                             stored_labels=_stored_labels(store))
    try:
        raw.load(serialize(concepts, format=RdfFormat.N_QUADS), format=RdfFormat.N_QUADS)
    except (OSError, SyntaxError, ValueError) as exc:
        raise StoreError(f"cannot write concepts: {exc}", path=store.path) from None
    done_before = {} if force else stored_versions(store, table.sha256)
    pending: list[Quad] = []
    pending_cases = 0
    total = len(table.cases)

    def report() -> None:
        if progress is not None:
            progress(result.new + result.replaced + result.unchanged, total)

    def flush() -> None:
        nonlocal pending, pending_cases
        if not pending:
            return
        data = serialize(pending, format=RdfFormat.N_QUADS)
        try:
            # One load() is one transaction: the whole batch of new cases or none of it.
            raw.load(data, format=RdfFormat.N_QUADS)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(
                f"cannot write {pending_cases} cases: {exc}", path=store.path
            ) from None
        result.new += pending_cases
        pending, pending_cases = [], 0
        report()

    for n, case in enumerate(table.cases, start=1):
        graph = case_graph_iri(case.reference_id, store.base)
        result.cases += 1
        if done_before.get(graph.value) == version:
            result.unchanged += 1
            if n % batch == 0:
                report()
            continue
        quads = case_to_quads(
            case, source, store.base, mappings=maps, ingest_time=when, version=version
        )
        result.triples += len(quads)
        if raw.contains_named_graph(graph):
            store.replace_graph(graph, quads)
            result.replaced += 1
            if n % batch == 0:
                report()
        else:
            pending.extend(quads)
            pending_cases += 1
            if pending_cases >= batch:
                flush()
    flush()
    report()
    result.seconds = time.perf_counter() - t0
    return result


def _stored_labels(store: GraphStore) -> dict[str, str]:
    """The preferred labels of the DMHC concepts already in the concepts graph (by IRI), so
    that a later table spelling one differently keeps the label chosen first."""
    rows = store.query(
        "SELECT ?c ?l WHERE { GRAPH " + str(concepts_graph_iri(store.base)) + " { "
        "?c skos:prefLabel ?l . VALUES ?t { imr:HealthPlanTreatmentCategory "
        "imr:HealthPlanDiagnosisCategory imr:AgeRange } ?c a ?t } }"
    )
    return {r["c"].value: r["l"].value for r in rows}  # type: ignore[union-attr,index]
