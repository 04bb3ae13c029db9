"""Mapping: one DMHC health-plan IMR decision (:class:`~imr_graph.dmhc.reader.DmhcCase`) -> RDF quads.

Pure functions, no I/O, in the same ontology as the workers' compensation letters
(``ontology/imr.ttl`` plus the health-plan terms of ``ontology/dmhc.ttl``). Each decision
is one ``imr:HealthPlanCase`` in its own named graph (the same :func:`~imr_graph.graph.mapping.case_iri`
and :func:`~imr_graph.graph.mapping.case_graph_iri` as letters, keyed by the DMHC reference id) with
one ``imr:DisputedItem`` holding the shared outcome (``imr:Upheld``/``imr:Overturned``) and
the treatment (sub-)category, and an ``imr:HealthPlanMember`` with the shared sex individuals
and an age range.

IRIs (``{base}`` is the data base IRI; category concepts live in the fixed vocabulary
namespace ``https://w3id.org/imr-graph/vocab/`` like the service categories)::

    {base}case/{ref}                    the case          {base}graph/{ref}   its graph
    {base}case/{ref}/item/1             the disputed item {base}case/{ref}/patient
    {base}source/{sha256}               the CSV file the row came from
    vocab/dmhc-treatment/{cat}[/{sub}]  treatment category / sub-category ({cat} ``_`` if none)
    vocab/dmhc-diagnosis/{cat}[/{sub}]  diagnosis category / sub-category
    vocab/age-range/{label}             age band ("65+" -> ``65plus``)

The concepts cases point to are described once in the shared concepts graph
(``{base}graph/concepts``, merged, never replaced) by :func:`concept_quads`: type, label,
scheme, broader, and the SKOS mapping to a service category when it has one. ``mappings``
(from ``ontology/dmhc.ttl``, loaded by :mod:`imr_graph.dmhc.ingest`) also decides
``imr:comparableServiceCategory`` on the item: the sub-category's mapping wins over the
category's.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pyoxigraph import Literal, NamedNode, Quad

from ..graph.mapping import (
    DEFAULT_BASE,
    OUTCOMES,
    SEXES,
    A,
    case_graph_iri,
    case_iri,
    dcterms,
    imr,
    ingest_activity_iri,
    item_counts,
    item_iri,
    prov,
    rdfs,
    skos,
    slug,
    source_iri,
    xsd,
)
from .reader import LAYOUT, READER_VERSION, REVIEW_TYPE_LABELS, DmhcCase, age_bounds

VOCAB = "https://w3id.org/imr-graph/vocab/"
TREATMENT_SCHEME = NamedNode(f"{VOCAB}dmhc-treatment")
DIAGNOSIS_SCHEME = NamedNode(f"{VOCAB}dmhc-diagnosis")
AGE_SCHEME = NamedNode(f"{VOCAB}age-range")
NO_CATEGORY = "_"
"""The category segment of a sub-category IRI when the row has no category."""

REVIEW_TYPES: dict[str, NamedNode] = {
    "medical-necessity": imr("MedicalNecessity"),
    "experimental-investigational": imr("ExperimentalInvestigational"),
    "urgent-care": imr("UrgentCare"),
}

CategoryMappings = Mapping[str, tuple[str, str]]
"""Concept IRI -> (SKOS mapping property IRI, service category IRI)."""


@dataclass(frozen=True)
class CsvSource:
    """The CSV file a case was read from (for provenance)."""

    path: str
    sha256: str


def _concept_iri(scheme: NamedNode, category: str | None, sub: str | None) -> NamedNode | None:
    if category is None and sub is None:
        return None
    cat = slug(category) if category is not None else NO_CATEGORY
    return NamedNode(f"{scheme.value}/{cat}" + (f"/{slug(sub)}" if sub is not None else ""))


def treatment_iri(category: str | None, sub: str | None = None) -> NamedNode | None:
    """The treatment category concept, or the sub-category concept when ``sub`` is given."""
    return _concept_iri(TREATMENT_SCHEME, category, sub)


def diagnosis_category_iri(category: str | None, sub: str | None = None) -> NamedNode | None:
    """The diagnosis category concept, or the sub-category concept when ``sub`` is given."""
    return _concept_iri(DIAGNOSIS_SCHEME, category, sub)


def age_range_iri(label: str) -> NamedNode:
    """``vocab/age-range/{label}`` ("65+" -> ``65plus``)."""
    return NamedNode(f"{AGE_SCHEME.value}/{label.replace('+', 'plus')}")


def patient_iri(ref: str, base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}case/{ref}/patient``: the health-plan member of one case."""
    return NamedNode(f"{case_iri(ref, base).value}/patient")


def comparable_category(case: DmhcCase, mappings: CategoryMappings) -> NamedNode | None:
    """The service category of ``case``'s treatment: its sub-category's mapping, else its
    category's, else None."""
    sub = (
        treatment_iri(case.treatment_category, case.treatment_subcategory)
        if case.treatment_subcategory is not None
        else None
    )
    cat = treatment_iri(case.treatment_category) if case.treatment_category else None
    for concept in (sub, cat):
        if concept is not None and concept.value in mappings:
            return NamedNode(mappings[concept.value][1])
    return None


def _int(value: int, datatype: str = "integer") -> Literal:
    return Literal(str(int(value)), datatype=xsd(datatype))


def case_to_quads(
    case: DmhcCase,
    source: CsvSource,
    base: str = DEFAULT_BASE,
    *,
    mappings: CategoryMappings | None = None,
    ingest_time: datetime | None = None,
    version: str = READER_VERSION,
) -> list[Quad]:
    """All quads of one health-plan case, in its named graph; deterministic but for the time.

    The concepts the case points to are described by :func:`concept_quads` (they go into the
    DMHC vocabulary graph once, not into every case graph). ``version`` is recorded as the
    ``imr:parserVersion`` of the ingest activity.
    """
    ref = case.reference_id
    g = case_graph_iri(ref, base)
    quads: dict[Quad, None] = {}

    def add(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        quads[Quad(s, p, o, g)] = None

    node = case_iri(ref, base)
    add(node, A, imr("HealthPlanCase"))
    add(node, imr("caseKey"), Literal(ref))
    add(node, imr("caseNumber"), Literal(ref))
    add(node, dcterms("identifier"), Literal(ref))
    add(node, rdfs("label"), Literal(f"DMHC IMR case {ref}"))
    add(node, imr("reportYear"), _int(case.year))
    add(node, imr("layout"), Literal(LAYOUT))
    if case.review_type is not None:
        add(node, imr("reviewType"), REVIEW_TYPES[case.review_type])
    if case.diagnosis_category is not None:
        add(node, imr("diagnosisCategory"), _req(diagnosis_category_iri(case.diagnosis_category)))
    if case.diagnosis_subcategory is not None:
        sub = diagnosis_category_iri(case.diagnosis_category, case.diagnosis_subcategory)
        add(node, imr("diagnosisSubCategory"), _req(sub))
    if case.findings:
        add(node, imr("findings"), Literal(case.findings))
    if case.imr_type:
        add(node, imr("imrType"), Literal(case.imr_type))
    if case.days_to_review is not None:
        add(node, imr("daysToReview"), _int(case.days_to_review, "nonNegativeInteger"))
    if case.days_to_adopt is not None:
        add(node, imr("daysToAdopt"), _int(case.days_to_adopt, "nonNegativeInteger"))

    # The patient
    patient = patient_iri(ref, base)
    add(node, imr("patient"), patient)
    add(patient, A, imr("HealthPlanMember"))
    if case.sex is not None:
        add(patient, imr("sex"), SEXES[case.sex])
    if case.age_range is not None:
        add(patient, imr("ageRange"), age_range_iri(case.age_range))

    # The disputed item: the treatment and the decision on it
    item = item_iri(ref, 1, base)
    add(node, imr("item"), item)
    add(item, imr("inCase"), node)
    add(item, A, imr("DisputedItem"))
    add(item, imr("itemIndex"), _int(1))
    add(item, imr("outcome"), OUTCOMES[case.outcome])
    for prop, value in item_counts([case.outcome]):
        add(node, prop, value)
    add(item, imr("request"), Literal(treatment_text(case)))
    add(item, rdfs("label"), Literal(f"{ref} #1: {treatment_text(case)}"))
    if case.treatment_category is not None:
        add(item, imr("treatmentCategory"), _req(treatment_iri(case.treatment_category)))
    if case.treatment_subcategory is not None:
        sub = treatment_iri(case.treatment_category, case.treatment_subcategory)
        add(item, imr("treatmentSubCategory"), _req(sub))
    comparable = comparable_category(case, mappings or {})
    if comparable is not None:
        add(item, imr("comparableServiceCategory"), comparable)

    # Provenance
    when = (ingest_time or datetime.now(UTC)).replace(microsecond=0)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    stamp = Literal(when.isoformat().replace("+00:00", "Z"), datatype=xsd("dateTime"))
    src = source_iri(source.sha256, base)
    activity = ingest_activity_iri(ref, base)
    add(node, prov("wasDerivedFrom"), src)
    add(node, prov("wasGeneratedBy"), activity)
    add(g, A, imr("CaseGraph"))
    add(g, dcterms("subject"), node)
    add(g, prov("wasDerivedFrom"), src)
    add(g, prov("wasGeneratedBy"), activity)
    add(g, prov("generatedAtTime"), stamp)
    add(activity, A, imr("IngestActivity"))
    add(activity, prov("used"), src)
    add(activity, prov("endedAtTime"), stamp)
    add(activity, imr("parserVersion"), Literal(version))
    add(src, A, imr("SourceDocument"))
    add(src, imr("sha256"), Literal(source.sha256.lower()))
    add(src, imr("filePath"), Literal(source.path))
    add(src, dcterms("format"), Literal("text/csv"))
    return list(quads)


def treatment_text(case: DmhcCase) -> str:
    """The disputed treatment as the data set names it: "Category / Sub-category"."""
    parts = [t for t in (case.treatment_category, case.treatment_subcategory) if t]
    return " / ".join(parts) or "treatment not categorised"


def _req(node: NamedNode | None) -> NamedNode:
    assert node is not None
    return node


def concept_quads(
    cases: Iterable[DmhcCase],
    graph: NamedNode,
    mappings: CategoryMappings | None = None,
    stored_labels: Mapping[str, str] | None = None,
) -> list[Quad]:
    """SKOS descriptions (type, label, scheme, broader) of every concept ``cases`` use.

    Category concepts are ``skos:topConceptOf`` their scheme; sub-categories are
    ``skos:broader`` their category (a sub-category of a row without category has neither).
    A concept with a mapping in ``mappings`` gets that SKOS mapping triple; age bands get
    their bounds; review types their label. All quads are in ``graph`` (the shared concepts
    graph, :func:`~imr_graph.graph.mapping.concepts_graph_iri`).

    Rows spell some concepts in more than one way ("H-Wave Device", "H-wave Device": one
    IRI): a concept gets one ``skos:prefLabel`` (:func:`fold_labels`) and the other
    spellings as ``skos:altLabel``. ``stored_labels`` (concept IRI → the preferred label the
    store has already) keeps an earlier load's choice.
    """
    maps = mappings or {}
    quads: dict[Quad, None] = {}
    spellings: dict[NamedNode, collections.Counter[str]] = {}

    def add(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        quads[Quad(s, p, o, graph)] = None

    def concept(node: NamedNode, cls: str, label: str, scheme: NamedNode) -> None:
        add(node, A, skos("Concept"))
        add(node, A, imr(cls))
        spellings.setdefault(node, collections.Counter())[label] += 1
        add(node, skos("inScheme"), scheme)
        if node.value in maps:
            relation, target = maps[node.value]
            add(node, NamedNode(relation), NamedNode(target))

    for case in cases:
        if case.review_type is not None:
            label = REVIEW_TYPE_LABELS[case.review_type]
            add(REVIEW_TYPES[case.review_type], rdfs("label"), Literal(label, language="en"))
        for scheme, cls, cat, sub in (
            (
                TREATMENT_SCHEME,
                "HealthPlanTreatmentCategory",
                case.treatment_category,
                case.treatment_subcategory,
            ),
            (
                DIAGNOSIS_SCHEME,
                "HealthPlanDiagnosisCategory",
                case.diagnosis_category,
                case.diagnosis_subcategory,
            ),
        ):
            top = _concept_iri(scheme, cat, None) if cat is not None else None
            if top is not None and cat is not None:
                concept(top, cls, cat, scheme)
                add(top, skos("topConceptOf"), scheme)
            if sub is not None:
                low = _req(_concept_iri(scheme, cat, sub))
                concept(low, cls, sub, scheme)
                if top is not None:
                    add(low, skos("broader"), top)
        if case.age_range is not None:
            band = age_range_iri(case.age_range)
            concept(band, "AgeRange", case.age_range, AGE_SCHEME)
            low_age, high_age = age_bounds(case.age_range)
            add(band, imr("minAge"), _int(low_age))
            if high_age is not None:
                add(band, imr("maxAge"), _int(high_age))
    stored = stored_labels or {}
    for node, counts in spellings.items():
        preferred = stored.get(node.value) or fold_labels(counts)
        add(node, skos("prefLabel"), Literal(preferred))
        for other in sorted(set(counts) - {preferred}):
            add(node, skos("altLabel"), Literal(other))
    return list(quads)


def fold_labels(spellings: Mapping[str, int]) -> str:
    """The preferred label among the spellings of one concept: the most used, then the one
    with the most capitals ("H-Wave Device" over "H-wave Device"), then the first in order,
    so the choice does not depend on the order of the rows."""
    return min(spellings, key=lambda s: (-spellings[s], -sum(c.isupper() for c in s), s))


def dmhc_vocabulary_graph_iri(base: str = DEFAULT_BASE) -> NamedNode:
    """``{base}vocabulary/dmhc``: ``ontology/dmhc.ttl`` plus the DMHC concepts in use.

    Outside ``{base}graph/`` on purpose, so it never counts as a case graph.
    """
    return NamedNode(f"{base}vocabulary/dmhc")
