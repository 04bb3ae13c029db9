"""Mapping: one :class:`~imr_graph.records.Record` (plus its letter text) -> RDF quads.

Pure functions, no I/O: the caller passes the record, the letter's extracted text (the text
that record spans point into) and the base IRI. The output is deterministic: no blank nodes,
every node has an IRI built by one of the ``*_iri`` functions below, so mapping the same
record twice gives the same quads and re-ingesting a letter leaves the triple count unchanged.

IRI scheme (``{base}`` defaults to :data:`DEFAULT_BASE`, see ``docs/graph.md``)::

    {base}case/{case_key}                       the case (case_key: case number or sha256-…)
    {base}graph/{case_key}                      the case's named graph
    {base}case/{case_key}/item/{index}          a disputed item
    {base}service/{concept slug}   {base}diagnosis/{slug}   {base}medication/{slug}
    {base}specialty/{slug} {base}state/{slug}
    {base}guideline/{family}/{doc-slug}         a guideline document (title + edition year)
    {base}section/{family}/{doc-slug}/{slug}    a section of a guideline document
    {base}source/{sha256}                       the letter file
    {base}source/{sha256}#char={start},{end}    a span of its text (RFC 5147 fragment)
    {base}graph/concepts                        shared concept nodes (labels, types)
    {base}graph/vocabulary                      the vocabularies' own triples

Other modules import these functions and never build IRIs themselves. Shared concepts take
their IRI from the normalised label (:func:`slug`), so two letters naming the same thing meet
at the same node. Triples ABOUT shared concepts (type, labels, document of a section) go to
the one concepts graph, not to the case graphs: Oxigraph's union default graph does not merge
duplicate triples across graphs, so a label repeated in every case graph would multiply query
rows. Storing them is idempotent (set semantics), so re-ingesting changes nothing. A text span
is the letter's source IRI with an RFC 5147 fragment (``#char=start,end``, the plain-text
fragment the W3C Web Annotation model names for text; see :func:`span_iri`): one triple per
span instead of a SpecificResource with a position selector (six): a letter maps to a third
fewer quads and loads a quarter faster. Resources without a text of their own give their span an
``imr:quote``, the exact substring of the text.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ..errors import MappingError, NotFoundError, UsageError
from ..letters.services import read_service
from ..records import (
    FAMILIES,
    Citation,
    Guideline,
    Item,
    RationaleReference,
    Record,
    Service,
    Span,
)

MAPPING_VERSION = "1.3.0"
"""The ontology version (``owl:versionInfo`` of ``ontology/imr.ttl``) this mapping writes;
bump both whenever the triples of a letter change. Recorded on each ingest activity
(``imr:mappingVersion``): ingest rewrites a stored letter with the same bytes only when it
differs."""

DEFAULT_BASE = "https://w3id.org/imr-graph/id/"
"""Default base IRI of data resources (override with ``--base`` or ``$IMR_GRAPH_BASE``)."""

IMR = "https://w3id.org/imr-graph/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
SERVICE_CATEGORY = "https://w3id.org/imr-graph/vocab/service-category/"
"""Namespace of the service category scheme (``ontology/services.ttl``)."""
OA = "http://www.w3.org/ns/oa#"

PREFIXES: dict[str, str] = {
    "imr": IMR,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "prov": PROV,
    "dcterms": DCTERMS,
    "oa": OA,
    "owl": "http://www.w3.org/2002/07/owl#",
}
"""Prefixes used in dumps and available to every query without a PREFIX declaration."""

Extra = Callable[[Record, NamedNode], Iterable[Quad | Triple]]
"""Hook type: extra quads (or triples, put into the case graph) for a record and its graph."""


@functools.cache
def imr(local: str) -> NamedNode:
    """A term of the imr ontology (cached: building and checking an IRI is not free)."""
    return NamedNode(IMR + local)


def _ns(ns: str) -> Callable[[str], NamedNode]:
    return functools.cache(lambda local: NamedNode(ns + local))


rdf, rdfs, xsd, skos, prov, dcterms = (
    _ns(n) for n in (RDF, RDFS, XSD, SKOS, PROV, DCTERMS)
)

A = rdf("type")
UPHELD = imr("Upheld")
OVERTURNED = imr("Overturned")
OUTCOMES = {"Upheld": UPHELD, "Overturned": OVERTURNED}
SEXES = {"female": imr("Female"), "male": imr("Male")}

# ----------------------------------------------------------------------------------------------
# Base IRI and labels
# ----------------------------------------------------------------------------------------------


def resolve_base(base: str | None = None) -> str:
    """The base IRI to use: ``base``, else ``$IMR_GRAPH_BASE``, else :data:`DEFAULT_BASE`.

    A base must be an absolute IRI; one not ending in ``/`` or ``#`` gets a ``/``.
    Raises :class:`~imr_graph.errors.UsageError` for an invalid IRI.
    """
    value = base or os.environ.get("IMR_GRAPH_BASE") or DEFAULT_BASE
    if not value.endswith(("/", "#")):
        value += "/"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
        raise UsageError(f"base IRI {value!r} is not absolute (e.g. {DEFAULT_BASE})")
    try:
        NamedNode(value)
    except ValueError as exc:
        raise UsageError(f"base IRI {value!r} is not a valid IRI: {exc}") from None
    return value


def normalise_label(label: str) -> str:
    """A label as concept nodes show it (``skos:prefLabel``): one per concept IRI.

    Lowercase and ascii-folded, with runs of spaces, hyphens, slashes and underscores (the
    separators wordings vary in most) turned into one space; other punctuation ("3.3",
    "5%", "(IDDSs)") stays readable: "lumbar sprain/strain", "Lumbar sprain-strain" and
    "lumbar sprain strain" share the IRI ``…/lumbar-sprain-strain`` and the label "lumbar
    sprain strain".
    The wording as written is kept as ``skos:altLabel``.
    """
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[\s/_\-\u2010-\u2015]+", " ", folded.lower())
    return " ".join(text.split()) or " ".join(label.split()).lower()


_SERIAL_COMMA = re.compile(r",\s+(?=(?:and|or)\s)")


def slug(label: str) -> str:
    """The IRI segment of a label: lowercase, ascii-folded, non-alphanumerics -> ``-``.

    Long labels are cut at 80 characters and get an 8-hex hash of the full slug so they stay
    distinct; a label with no letter or digit becomes ``x-`` + a hash of the label.
    """
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not s:
        return "x-" + hashlib.sha1(label.encode("utf-8")).hexdigest()[:12]
    if len(s) > 100:
        s = s[:80].rstrip("-") + "-" + hashlib.sha1(s.encode("ascii")).hexdigest()[:8]
    return s


def _key(case_key: str) -> str:
    return quote(case_key, safe="-._~")


# ----------------------------------------------------------------------------------------------
# IRIs: one function per kind. Everything else imports these.
# ----------------------------------------------------------------------------------------------


def case_iri(case_key: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{case_key}``."""
    return NamedNode(f"{base}case/{_key(case_key)}")


def case_graph_iri(case_key: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}graph/{case_key}``: the named graph holding one case."""
    return NamedNode(f"{base}graph/{_key(case_key)}")


def graph_for_name(name: str, base: str = DEFAULT_BASE) -> NamedNode:
    """The case graph IRI meant by ``name``: a case key, a case IRI, a graph IRI or ``<iri>``.

    Only builds the IRI; whether the graph exists is the store's question.
    """
    value = name.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    case_prefix = f"{base}case/"
    if value.startswith(case_prefix):
        return case_graph_iri(value[len(case_prefix) :].split("/")[0], base)
    if ":" in value and "/" in value:
        try:
            return NamedNode(value)
        except ValueError as exc:
            raise NotFoundError(f"not a graph IRI: {value!r} ({exc})") from None
    return case_graph_iri(value, base)


def concepts_graph_iri(base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}graph/concepts``: triples about shared concept nodes (merged, never replaced)."""
    return NamedNode(f"{base}graph/concepts")


def vocabulary_graph_iri(base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}graph/vocabulary``: the graph of concept schemes and external links."""
    return NamedNode(f"{base}graph/vocabulary")


def item_iri(case_key: str, index: int, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{case_key}/item/{index}``."""
    return NamedNode(f"{base}case/{_key(case_key)}/item/{index}")


def worker_iri(case_key: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{case_key}/worker``: the injured worker of one case."""
    return NamedNode(f"{base}case/{_key(case_key)}/worker")


def reviewer_iri(case_key: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{case_key}/reviewer``: the expert reviewer of one case."""
    return NamedNode(f"{base}case/{_key(case_key)}/reviewer")


def ingest_activity_iri(case_key: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{case_key}/ingest``: the (latest) ingest activity of one case."""
    return NamedNode(f"{base}case/{_key(case_key)}/ingest")


def source_iri(sha256: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}source/{sha256}``: a letter file, by the hash of its bytes."""
    return NamedNode(f"{base}source/{sha256.lower()}")


def service_iri(label: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}service/{slug}``: a service concept, from its id (``imaging-mri/lumbar-spine``
    -> ``{base}service/imaging-mri-lumbar-spine``; see :mod:`imr_graph.letters.services`)."""
    return NamedNode(f"{base}service/{slug(label)}")


def diagnosis_iri(label: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}diagnosis/{slug}``."""
    return NamedNode(f"{base}diagnosis/{slug(label)}")


def medication_iri(label: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}medication/{slug}``."""
    return NamedNode(f"{base}medication/{slug(label)}")


def specialty_iri(label: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}specialty/{slug}``."""
    return NamedNode(f"{base}specialty/{slug(label)}")


def state_iri(label: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}state/{slug}``."""
    return NamedNode(f"{base}state/{slug(label)}")


def family_iri(family: str) -> NamedNode:
    """The ontology individual of a guideline family (imr:MTUS, imr:ODG, imr:ACOEM, imr:OTHER)."""
    fam = family.upper()
    return imr(fam if fam in FAMILIES else "OTHER")


def guideline_slug(title: str, year: int | None = None) -> str:
    """The document segment of guideline IRIs: slug of ``title`` plus the edition year."""
    return slug(f"{title} {year}" if year else title)


def guideline_iri(
    family: str, title: str, year: int | None = None, base: str = DEFAULT_BASE
) -> NamedNode:
    """``{base}guideline/{family}/{doc-slug}``, e.g. ``…/guideline/mtus/chronic-pain-medical-treatment-2016``."""
    return NamedNode(f"{base}guideline/{_family_segment(family)}/{guideline_slug(title, year)}")


def section_iri(
    family: str,
    title: str | None,
    year: int | None,
    section: str,
    base: str = DEFAULT_BASE,
) -> NamedNode:
    """``{base}section/{family}/{doc-slug}/{section-slug}``; doc-slug ``unspecified`` without a title."""
    doc = guideline_slug(title, year) if title else "unspecified"
    return NamedNode(f"{base}section/{_family_segment(family)}/{doc}/{slug(section)}")


def _family_segment(family: str) -> str:
    fam = family.upper()
    return (fam if fam in FAMILIES else "OTHER").lower()


# ----------------------------------------------------------------------------------------------
# Literals
# ----------------------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")


def date_literal(value: str) -> Literal:
    """An ``xsd:date`` from ISO or US (MM/DD/YYYY) dates; other text stays a plain string."""
    text = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            return Literal(datetime.strptime(text, fmt).date().isoformat(), datatype=xsd("date"))
        except ValueError:
            continue
    return Literal(text)


def days_between(start: str | None, end: str | None) -> int | None:
    """Days from ``start`` to ``end`` (negative when ``end`` comes first), or None unless
    both are dates :func:`date_literal` reads.

    The mapping states them as ``imr:daysToDecision`` (UR denial to IMR decision): SPARQL
    can subtract two ``xsd:date`` values, but doing it per case at query time, and turning
    the duration into a number, costs a join and a string function per case.
    """
    found = [date_literal(v) for v in (start, end) if v]
    if len(found) < 2 or any(d.datatype != xsd("date") for d in found):
        return None
    return (date.fromisoformat(found[1].value) - date.fromisoformat(found[0].value)).days


def span_iri(source: NamedNode, start: int, end: int) -> NamedNode:
    """``{source}#char={start},{end}``: characters ``start`` to ``end`` of the letter's text.

    An RFC 5147 fragment identifier, counted in the letter's extracted text (its plain-text
    representation, what ``imr-graph parse --text`` prints); the W3C Web Annotation model
    lists these as the fragment selector for plain text. :func:`span_offsets` reads the
    offsets back, SPARQL with ``STRAFTER(STR(?span), "#char=")``.
    """
    return NamedNode(f"{source.value}#char={int(start)},{int(end)}")


_SPAN_RE = re.compile(r"#char=(\d+),(\d+)$")


def span_offsets(iri: str) -> tuple[str, int, int] | None:
    """``(source IRI, start, end)`` of a :func:`span_iri`, or None for any other IRI."""
    m = _SPAN_RE.search(iri)
    return (iri[: m.start()], int(m.group(1)), int(m.group(2))) if m else None


def _int(value: int) -> Literal:
    return Literal(str(int(value)), datatype=xsd("integer"))


def _bool(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=xsd("boolean"))


def item_counts(outcomes: Iterable[str]) -> list[tuple[NamedNode, Literal]]:
    """The case's derived counts: ``imr:itemCount``, ``imr:upheldItemCount`` and
    ``imr:overturnedItemCount`` from its items' outcomes.

    They repeat what the items say, in the same case graph (so they are written and replaced
    with it, and ``imr-graph validate`` checks them against the items): aggregates over
    cases (by month, specialty, state, diagnosis) then read one value per case instead of
    joining every item, which is what keeps them fast on a large store.
    """
    outcomes = list(outcomes)
    return [
        (imr("itemCount"), _int(len(outcomes))),
        (imr("upheldItemCount"), _int(sum(o == "Upheld" for o in outcomes))),
        (imr("overturnedItemCount"), _int(sum(o == "Overturned" for o in outcomes))),
    ]


# ----------------------------------------------------------------------------------------------
# The mapping
# ----------------------------------------------------------------------------------------------


class _Builder:
    """Collects the quads of one case graph, without duplicates, in a stable order."""

    def __init__(self, record: Record, text: str, base: str) -> None:
        self.record = record
        self.text = text
        self.base = base
        self.key = record.case_key
        self.graph = case_graph_iri(self.key, base)
        self.concepts = concepts_graph_iri(base)
        self.source = source_iri(record.source.sha256, base)
        self.quads: dict[Quad, None] = {}

    def add(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        self.quads[Quad(s, p, o, self.graph)] = None

    def shared(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        self.quads[Quad(s, p, o, self.concepts)] = None

    def lit(self, s: NamedNode, p: NamedNode, value: str | None) -> None:
        if value is not None and value.strip():
            self.add(s, p, Literal(value))

    def concept(self, node: NamedNode, cls: str, label: str, pref: str | None = None) -> NamedNode:
        self.shared(node, A, imr(cls))
        self.shared(node, A, skos("Concept"))
        pref = pref or normalise_label(label)
        self.shared(node, skos("prefLabel"), Literal(pref))
        written = " ".join(label.split())
        if written != pref:
            self.shared(node, skos("altLabel"), Literal(written))
        return node

    def span(self, owner: NamedNode, prop: NamedNode, span: Span | None, what: str,
             *, own_text: str | None = None) -> None:
        """A text span: ``owner prop <source#char=start,end>`` (:func:`span_iri`) and, unless
        ``own_text`` (the owner's own text literal) is given, the span's ``imr:quote``.

        Resources that carry their own text (``imr:basisText``, ``imr:citationText``,
        ``imr:rationale``) get no quote: their text is the quote (unwrapped), and the offsets
        find it in the letter.
        """
        if span is None:
            return
        start, end = int(span[0]), int(span[1])
        if not 0 <= start <= end <= len(self.text):
            raise MappingError(
                f"case {self.key}: span {start}-{end} of {what} is outside the letter text "
                f"(length {len(self.text)})",
                path=self.record.source.path,
            )
        node = span_iri(self.source, start, end)
        self.add(owner, prop, node)
        if not (own_text and own_text.strip()):
            self.add(node, imr("quote"), Literal(self.text[start:end]))


def record_to_quads(
    record: Record,
    text: str,
    base: str = DEFAULT_BASE,
    *,
    ingest_time: datetime | None = None,
    extra: Extra | None = None,
) -> list[Quad]:
    """All quads of one case: its named graph (:func:`case_graph_iri`) plus the triples about
    the shared concepts it uses, in the concepts graph (:func:`concepts_graph_iri`).

    ``text`` is the letter's extracted text (what the record's spans point into);
    ``ingest_time`` defaults to now (UTC) and is the only thing that differs between two
    mappings of the same record. ``extra`` is the hook for other modules (vocabulary linking):
    it receives the record and the case graph IRI and yields quads in that graph or in the
    concepts graph (for triples about shared nodes, e.g. a diagnosis's ICD-10-CM link), or
    triples, which are put into the case graph. Raises :class:`~imr_graph.errors.MappingError` for a record that
    cannot be mapped (unknown outcome, span outside the text).
    """
    b = _Builder(record, text, base)
    key, g = b.key, b.graph
    case = case_iri(key, base)
    when = (ingest_time or datetime.now(UTC)).replace(microsecond=0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)

    # The case
    b.add(case, A, imr("WorkersCompCase"))
    b.add(case, imr("caseKey"), Literal(key))
    if record.case_number:
        b.add(case, imr("caseNumber"), Literal(record.case_number))
        b.add(case, dcterms("identifier"), Literal(record.case_number))
    b.add(case, rdfs("label"), Literal(f"IMR case {key}"))
    for prop, value in (
        ("dateAssigned", record.date_assigned),
        ("dateOfInjury", record.date_of_injury),
        ("decisionDate", record.decision_date),
        ("urDenialDate", record.ur_denial_date),
        ("applicationReceived", record.application_received),
    ):
        if value:
            b.add(case, imr(prop), date_literal(value))
    days = days_between(record.ur_denial_date, record.decision_date)
    if days is not None:
        b.add(case, imr("daysToDecision"), _int(days))
    b.lit(case, imr("priority"), record.priority)
    b.lit(case, imr("layout"), record.layout)
    b.lit(case, imr("parserVersion"), record.parser_version)

    # Patient and reviewer
    worker = worker_iri(key, base)
    b.add(case, imr("patient"), worker)
    b.add(worker, A, imr("InjuredWorker"))
    if record.worker.age is not None:
        b.add(worker, imr("age"), _int(record.worker.age))
    if record.worker.sex is not None:
        sex = SEXES.get(str(record.worker.sex).lower())
        if sex is None:
            raise MappingError(f"case {key}: unknown sex {record.worker.sex!r}",
                               path=record.source.path)
        b.add(worker, imr("sex"), sex)
    reviewer = reviewer_iri(key, base)
    b.add(case, imr("reviewer"), reviewer)
    b.add(reviewer, A, imr("ExpertReviewer"))
    for label in record.reviewer.specialties:
        if label.strip():
            b.add(reviewer, imr("specialty"),
                  b.concept(specialty_iri(label, base), "Specialty", label))
    for label in record.reviewer.licensure:
        if label.strip():
            b.add(reviewer, imr("licensedIn"), b.concept(state_iri(label, base), "State", label))

    # Diagnoses and medications
    for label in record.diagnoses:
        if label.strip():
            # "muscle, fascia, and tendon" and "muscle, fascia and tendon" share an IRI (the
            # slug drops commas), so they must share the label too: no serial comma
            pref = _SERIAL_COMMA.sub(" ", normalise_label(label))
            node = b.concept(diagnosis_iri(label, base), "Diagnosis", label, pref)
            b.add(case, imr("diagnosis"), node)
            status = record.diagnosis_status.get(label)
            if status:  # derived from the phrase's own words, so shared like its label
                b.shared(node, imr("diagnosisStatus"), Literal(status))
    b.span(case, imr("diagnosesSpan"), record.diagnoses_span, "the diagnoses")
    medications = [m for m in record.medications if m.strip()]
    drugs = dict(zip(record.medications, record.medication_services, strict=False))
    for label in medications:
        node = b.concept(medication_iri(label, base), "Medication", label)
        b.add(case, imr("medication"), node)
        if label in drugs:  # the drug the name stands for, the concept requests meet at
            b.shared(node, imr("drugConcept"), _service(b, drugs[label]))
    b.span(case, imr("medicationsSpan"), record.medications_span, "the medications")

    # Disputed items
    for item in record.items:
        _item(b, case, item, medications)
    for prop, value in item_counts(i.outcome for i in record.items):
        b.add(case, prop, value)

    # Provenance
    activity = ingest_activity_iri(key, base)
    stamp = Literal(when.isoformat().replace("+00:00", "Z"), datatype=xsd("dateTime"))
    b.add(case, prov("wasDerivedFrom"), b.source)
    b.add(case, prov("wasGeneratedBy"), activity)
    b.add(g, A, imr("CaseGraph"))
    b.add(g, dcterms("subject"), case)
    b.add(g, prov("wasDerivedFrom"), b.source)
    b.add(g, prov("wasGeneratedBy"), activity)
    b.add(g, prov("generatedAtTime"), stamp)
    b.add(activity, A, imr("IngestActivity"))
    b.add(activity, prov("used"), b.source)
    b.add(activity, prov("endedAtTime"), stamp)
    b.lit(activity, imr("parserVersion"), record.parser_version)
    b.lit(activity, imr("mappingVersion"), MAPPING_VERSION)
    b.add(b.source, A, imr("SourceDocument"))
    b.add(b.source, imr("sha256"), Literal(record.source.sha256.lower()))
    b.lit(b.source, imr("filePath"), record.source.path)
    b.add(b.source, dcterms("format"), Literal(_MEDIA_TYPES.get(record.source.format,
                                                                 "text/plain")))

    if extra is not None:
        for q in extra(record, g):
            if isinstance(q, Triple):
                q = Quad(q.subject, q.predicate, q.object, g)
            elif q.graph_name not in (g, b.concepts):
                raise MappingError(
                    f"case {key}: extra quad outside the case and concepts graphs "
                    f"({q.graph_name})",
                    path=record.source.path,
                )
            b.quads[q] = None
    return list(b.quads)


_MEDIA_TYPES = {"pdf": "application/pdf", "text": "text/plain", "markdown": "text/markdown"}


def _item(b: _Builder, case: NamedNode, item: Item, medications: list[str]) -> None:
    base, key = b.base, b.key
    node = item_iri(key, item.index, base)
    outcome = OUTCOMES.get(item.outcome)
    if outcome is None:
        raise MappingError(f"case {key}: item {item.index} has unknown outcome {item.outcome!r}",
                           path=b.record.source.path)
    b.add(case, imr("item"), node)
    b.add(node, imr("inCase"), case)
    b.add(node, A, imr("DisputedItem"))
    b.add(node, imr("itemIndex"), _int(item.index))
    b.add(node, imr("request"), Literal(item.request))
    b.add(node, rdfs("label"), Literal(f"{key} #{item.index}: {item.request}"))
    b.add(node, imr("outcome"), outcome)
    b.add(node, imr("service"), _service(b, item.service or read_service(item.request)))
    request_tokens = slug(item.request).split("-")
    for label in medications:
        if _contains(request_tokens, slug(label).split("-")):
            b.add(node, imr("requestedMedication"), medication_iri(label, base))
    if item.authorized is not None or item.original_request is not None:
        b.add(node, A, imr("PartiallyAuthorizedItem"))
        b.lit(node, imr("originalRequest"), item.original_request)
        b.lit(node, imr("authorized"), item.authorized)
    b.lit(node, imr("rationale"), item.rationale)
    b.span(node, imr("textSpan"), item.span, f"item {item.index}")
    b.span(node, imr("decisionSpan"), item.decision_span, f"item {item.index} decision")
    b.span(node, imr("rationaleSpan"), item.rationale_span, f"item {item.index} rationale",
           own_text=item.rationale)
    sides = [
        _basis(b, node, NamedNode(f"{node.value}/basis/{role}"), side, guideline,
               f"item {item.index} {role} basis") if guideline is not None else set()
        for role, side, guideline in (
            ("claims-administrator", "claimsAdministrator", item.claims_admin_guideline),
            ("reviewer", "reviewer", item.reviewer_guideline),
        )
    ]
    if sides[0] and sides[1]:
        b.add(node, imr("sidesShareFamily"), _bool(bool(sides[0] & sides[1])))
    for n, ref in enumerate(item.rationale_references, start=1):
        _reference(b, node, NamedNode(f"{node.value}/reference/{n}"), ref,
                   f"item {item.index} reference {n}")


def _service(b: _Builder, service: Service) -> NamedNode:
    """The shared service concept node of a request (its wording stays on the item): the
    concept id as ``skos:notation``, its kind and, as ``skos:broader``, its category in the
    service category scheme (``ontology/services.ttl``)."""
    node = b.concept(service_iri(service.concept, b.base), "Service", service.label)
    b.shared(node, skos("notation"), Literal(service.concept))
    b.shared(node, imr("serviceKind"), Literal(service.kind))
    b.shared(node, skos("broader"), NamedNode(SERVICE_CATEGORY + service.category))
    for ingredient in service.ingredients:
        b.shared(node, imr("activeIngredient"), Literal(ingredient))
    if service.route:
        b.shared(node, imr("route"), Literal(service.route))
    return node


def _contains(haystack: list[str], needle: list[str]) -> bool:
    k = len(needle)
    return k > 0 and any(haystack[i : i + k] == needle for i in range(len(haystack) - k + 1))


def _basis(b: _Builder, item: NamedNode, node: NamedNode, side: str, g: Guideline,
           what: str) -> set[NamedNode]:
    """``item imr:<side>Basis node`` with its citations; ``side`` is ``reviewer`` or
    ``claimsAdministrator``. Returns the guideline families the citations cite."""
    b.add(item, imr(f"{side}Basis"), node)
    b.add(node, A, imr("GuidelineBasis"))
    b.lit(node, imr("basisText"), g.text)
    for source in g.sources:
        b.lit(node, imr("source"), source)
    b.add(node, imr("noEvidence"), _bool(g.no_evidence))
    b.add(node, imr("outsideMtus"), _bool(g.outside_mtus))
    b.span(node, imr("textSpan"), g.span, what, own_text=g.text)
    return {
        _citation(b, item, side, node, NamedNode(f"{node.value}/citation/{n}"), citation,
                  f"{what} citation {n}")
        for n, citation in enumerate(g.citations, start=1)
    }


def _citation(b: _Builder, item: NamedNode, side: str, basis: NamedNode, node: NamedNode,
              c: Citation, what: str) -> NamedNode:
    """A citation of ``item``'s basis on ``side``, plus the item's shortcuts to what it
    cites (``imr:<side>Family``/``Document``/``Section``, see the ontology). Returns the
    citation's guideline family."""
    base = b.base
    family = family_iri(c.family)
    b.add(basis, imr("citation"), node)
    b.add(node, A, imr("Citation"))
    b.add(node, imr("guidelineFamily"), family)
    b.add(item, imr(f"{side}Family"), family)
    b.lit(node, imr("citationText"), c.text)
    if c.year is not None:
        b.add(node, imr("editionYear"), _int(c.year))
    for page in c.pages:
        b.lit(node, imr("page"), page)
    doc: NamedNode | None = None
    if c.title and c.title.strip():
        doc = guideline_iri(c.family, c.title, c.year, base)
        label = " ".join(c.title.split())
        b.concept(doc, "GuidelineDocument",
                  f"{family.value.rsplit('#', 1)[1]} {label}{f' {c.year}' if c.year else ''}")
        b.shared(doc, imr("guidelineFamily"), family)
        b.shared(doc, dcterms("title"), Literal(label))
        if c.year is not None:
            b.shared(doc, imr("editionYear"), _int(c.year))
        b.add(node, imr("citesDocument"), doc)
        b.add(item, imr(f"{side}Document"), doc)
    for section in c.sections:
        if not section.strip():
            continue
        sec = section_iri(c.family, c.title, c.year, section, base)
        b.concept(sec, "GuidelineSection", section)
        b.shared(sec, imr("guidelineFamily"), family)
        if doc is not None:
            b.shared(sec, dcterms("isPartOf"), doc)
        b.add(node, imr("citesSection"), sec)
        b.add(item, imr(f"{side}Section"), sec)
    b.span(node, imr("textSpan"), c.span, what, own_text=c.text)
    return family


def _reference(b: _Builder, item: NamedNode, node: NamedNode, r: RationaleReference,
               what: str) -> None:
    b.add(item, imr("rationaleReference"), node)
    b.add(node, A, imr("RationaleReference"))
    b.lit(node, imr("referenceKind"), r.kind)
    b.lit(node, imr("citationText"), r.text)
    if r.family:
        b.add(node, imr("guidelineFamily"), family_iri(r.family))
    for page in r.pages:
        b.lit(node, imr("page"), page)
    b.lit(node, imr("table"), r.table)
    b.lit(node, imr("author"), r.author)
    if r.year is not None:
        b.add(node, imr("publicationYear"), _int(r.year))
    b.span(node, imr("textSpan"), r.span, what, own_text=r.text)
