"""Links as data: one :class:`Link` per (subject, predicate, object), SSSOM-shaped.

The matchers (:mod:`.icd10`, :mod:`.drugs`, :mod:`.services`, :mod:`.guidelines`) say what a
phrase means; this module turns their answers for the graph's concept nodes into links with
a predicate (``skos:exactMatch`` / ``skos:closeMatch`` / ``skos:broadMatch`` /
``skos:relatedMatch``), a confidence, a mapping justification (SEMAPV) and the method that
produced them, and applies curated corrections (which always win over automatic links).
Automatic links are ``semapv:LexicalMatching`` (the method names the table or matcher used);
only rows of a curated SSSOM file are ``semapv:ManualMappingCuration``.
No RDF here: :mod:`.rdf` writes links as triples, :mod:`.sssom` as an SSSOM TSV.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from ..graph.mapping import (
    DEFAULT_BASE,
    diagnosis_iri,
    guideline_iri,
    medication_iri,
    section_iri,
    service_iri,
    slug,
)
from .drugs import DRUGBANK, MEDLINEPLUS, MESH, DrugMatch, match_drug
from .guidelines import GUIDELINE_SCHEME, match_citation, section_key, section_node
from .icd10 import ICD10CM_IRI, IcdMatch, match_diagnoses
from .services import CATEGORY_LABELS, SERVICE_SCHEME, VOCAB, category_iri

SEMAPV = "https://w3id.org/semapv/vocab/"
LEXICAL = "semapv:LexicalMatching"
CURATED = "semapv:ManualMappingCuration"
DRUG_SCHEME = f"{VOCAB}drug"
DRUG_CLASS_SCHEME = f"{VOCAB}drug-class"
ICD_CHAPTER = f"{VOCAB}icd10cm-chapter"

PREDICATES = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch",
              "skos:relatedMatch")


def curie_map(base: str = DEFAULT_BASE) -> dict[str, str]:
    """Prefixes of every identifier a link may use (the SSSOM ``curie_map``)."""
    return {
        "ICD10CM": ICD10CM_IRI,
        DRUGBANK[0]: DRUGBANK[1],
        MEDLINEPLUS[0]: MEDLINEPLUS[1],
        MESH[0]: MESH[1],
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "semapv": SEMAPV,
        "imrdx": f"{base}diagnosis/",
        "imrmed": f"{base}medication/",
        "imrsvc": f"{base}service/",
        "imrgl": f"{base}guideline/",
        "imrsec": f"{base}section/",
        "imrdrug": f"{DRUG_SCHEME}/",
        "imrsvccat": f"{SERVICE_SCHEME}/",
        "imrglv": f"{GUIDELINE_SCHEME}/",
    }


def expand(curie: str, prefixes: dict[str, str]) -> str:
    """A CURIE's IRI (an IRI is returned as is)."""
    if "://" in curie:
        return curie
    prefix, _, local = curie.partition(":")
    return prefixes[prefix] + local if prefix in prefixes else curie


def contract(iri: str, prefixes: dict[str, str]) -> str:
    """The shortest CURIE for an IRI (the IRI itself when no prefix fits)."""
    best = None
    for prefix, ns in prefixes.items():
        if iri.startswith(ns) and (best is None or len(ns) > len(prefixes[best])):
            best = prefix
    return f"{best}:{iri[len(prefixes[best]):]}" if best else iri


@dataclass(frozen=True)
class Link:
    """One mapping: subject concept -> object in another vocabulary (IRIs, not CURIEs)."""

    subject_id: str
    subject_label: str
    subject_category: str
    predicate_id: str
    object_id: str
    object_label: str
    object_source: str
    confidence: float
    justification: str
    method: str
    negated: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        """(subject, predicate, object): what makes a link the same link."""
        return (self.subject_id, self.predicate_id, self.object_id)


@dataclass(frozen=True)
class ServiceConcept:
    """A service concept as the graph holds it (see :mod:`imr_graph.letters.services`)."""

    concept: str
    label: str
    category: str
    ingredients: tuple[str, ...] = ()

    @classmethod
    def of(cls, service) -> ServiceConcept:
        """From a record's :class:`~imr_graph.records.Service`."""
        return cls(service.concept, service.label, service.category,
                   tuple(service.ingredients))


@dataclass(frozen=True)
class Concepts:
    """The concept labels a link run covers (what the store or a set of records holds)."""

    diagnoses: frozenset[str] = frozenset()
    medications: frozenset[str] = frozenset()
    services: frozenset[ServiceConcept] = frozenset()
    documents: frozenset[tuple[str, str, int | None]] = frozenset()
    sections: frozenset[tuple[str, str | None, int | None, str]] = frozenset()


@lru_cache(maxsize=8192)
def _dx(label: str) -> tuple[IcdMatch, ...]:
    return tuple(match_diagnoses(label))


@lru_cache(maxsize=8192)
def _drug(label: str) -> DrugMatch:
    return match_drug(label)


def drug_concept_iri(generic: str) -> str:
    """IRI of a drug concept (a generic or a combination of generics)."""
    return f"{DRUG_SCHEME}/{slug(generic)}"


def drug_class_iri(name: str) -> str:
    """IRI of a drug class concept."""
    return f"{DRUG_CLASS_SCHEME}/{slug(name)}"


def diagnosis_links(label: str, base: str = DEFAULT_BASE) -> list[Link]:
    """Links of one diagnosis concept to ICD-10-CM (empty when the matcher is unsure)."""
    return [
        Link(diagnosis_iri(label, base).value, label, "diagnosis", m.predicate,
             ICD10CM_IRI + m.code, m.label or m.code, "ICD10CM", m.confidence,
             LEXICAL, m.method)
        for m in _dx(label) if m.code is not None and m.predicate is not None
    ]


def _drug_links(subject: str, label: str, category: str, m: DrugMatch) -> list[Link]:
    if m.generic is None:
        return []
    pred = "skos:exactMatch" if m.confidence >= 0.9 else "skos:closeMatch"
    if category == "service":
        pred = "skos:closeMatch"  # a request is a drug plus dose and quantity
    return [Link(subject, label, category, pred, drug_concept_iri(m.generic), m.generic,
                 "imr-graph drug concepts", m.confidence, LEXICAL, m.method)]


def drug_concept_links(m: DrugMatch) -> list[Link]:
    """Links of a drug concept to DrugBank, MedlinePlus and MeSH."""
    if m.generic is None:
        return []
    subject = drug_concept_iri(m.generic)
    prefixes = curie_map()
    return [
        Link(subject, m.generic, "drug", e.predicate, expand(e.curie, prefixes), e.label,
             e.curie.split(":")[0], 0.9 if e.predicate == "skos:exactMatch" else 0.8,
             LEXICAL, "drug-named-entity-recognition dictionary")
        for e in m.external
    ]


def medication_links(label: str, base: str = DEFAULT_BASE) -> list[Link]:
    """Links of one medication concept (a name in the letter's medication list)."""
    m = _drug(label)
    return _drug_links(medication_iri(label, base).value, label, "medication", m) + \
        drug_concept_links(m)


def service_links(service: ServiceConcept, base: str = DEFAULT_BASE) -> list[Link]:
    """Links of one service concept: its category, and its drug (the drug concept of its
    ingredients) for a medication."""
    subject = service_iri(service.concept, base).value
    out = [Link(subject, service.label, "service", "skos:broadMatch",
                category_iri(service.category), CATEGORY_LABELS[service.category],
                "imr-graph service categories", 0.9, LEXICAL, "service-concept")]
    if service.category == "medication" and service.ingredients:
        m = _drug("/".join(service.ingredients))
        out += _drug_links(subject, service.label, "service", m) + drug_concept_links(m)
    return out


def document_links(family: str, title: str, year: int | None,
                   base: str = DEFAULT_BASE) -> list[Link]:
    """Link of a cited guideline document node to the guideline scheme."""
    m = match_citation(family, title, year)
    if m.doc is None or m.predicate is None:
        return []
    subject = guideline_iri(family, title, year, base).value
    label = f"{family} {title}{f' {year}' if year else ''}"
    return [Link(subject, label, "guideline", m.predicate, m.doc.iri, m.doc.label,
                 "imr-graph guideline scheme", m.confidence, LEXICAL, m.method)]


def section_links(family: str, title: str | None, year: int | None, section: str,
                  base: str = DEFAULT_BASE) -> list[Link]:
    """Link of a cited section node to the canonical section node of its scheme document."""
    if not title or not section_key(section):
        return []
    m = match_citation(family, title, year)
    if m.doc is None:
        return []
    subject = section_iri(family, title, year, section, base).value
    pred = "skos:exactMatch" if m.predicate == "skos:exactMatch" else "skos:closeMatch"
    return [Link(subject, section, "section", pred, section_node(m.doc, section),
                 f"{m.doc.label}: {section_key(section)}", "imr-graph guideline scheme",
                 round(m.confidence * 0.98, 3), LEXICAL, f"{m.method}+section-key")]


def link_concepts(concepts: Concepts, base: str = DEFAULT_BASE) -> list[Link]:
    """Automatic links of every concept, deduplicated, in a stable order."""
    out: dict[tuple[str, str, str], Link] = {}
    groups: list[Iterable[Link]] = []
    groups += [diagnosis_links(x, base) for x in sorted(concepts.diagnoses)]
    groups += [medication_links(x, base) for x in sorted(concepts.medications)]
    groups += [service_links(x, base)
               for x in sorted(concepts.services, key=lambda c: c.concept)]
    groups += [document_links(f, t, y, base) for f, t, y in sorted(concepts.documents, key=str)]
    groups += [section_links(f, t, y, s, base) for f, t, y, s in sorted(concepts.sections, key=str)]
    for group in groups:
        for link in group:
            out.setdefault(link.key, link)
    return sorted(out.values(), key=lambda lk: (lk.subject_category, lk.subject_id, lk.object_id))


def apply_curated(links: list[Link], curated: list[Link]) -> list[Link]:
    """Curated links win: for each curated (subject, object vocabulary), automatic links of
    that subject to that vocabulary are dropped; a negated curated row only removes."""
    replaced = {(c.subject_id, c.object_source) for c in curated}
    replaced |= {(c.subject_id, "*") for c in curated if c.object_source == "*"}
    removed = {(c.subject_id, c.object_id) for c in curated if c.negated}
    kept = [
        lk for lk in links
        if (lk.subject_id, lk.object_source) not in replaced
        and (lk.subject_id, "*") not in replaced
        and (lk.subject_id, lk.object_id) not in removed
    ]
    extra = [replace(c, justification=CURATED) for c in curated if not c.negated]
    merged = {lk.key: lk for lk in kept}
    for c in extra:
        merged[c.key] = c
    return sorted(merged.values(), key=lambda lk: (lk.subject_category, lk.subject_id, lk.object_id))


def concepts_from_records(records: Iterable) -> Concepts:
    """The concept labels of parsed records (what ingesting them would put in the store)."""
    from ..letters.services import read_service

    dx: set[str] = set()
    meds: set[str] = set()
    svcs: set[ServiceConcept] = set()
    docs: set[tuple[str, str, int | None]] = set()
    secs: set[tuple[str, str | None, int | None, str]] = set()
    for r in records:
        dx.update(x for x in r.diagnoses if x.strip())
        meds.update(x for x in r.medications if x.strip())
        for item in r.items:
            svcs.add(ServiceConcept.of(item.service or read_service(item.request)))
            for g in (item.claims_admin_guideline, item.reviewer_guideline):
                if g is None:
                    continue
                for c in g.citations:
                    if c.title and c.title.strip():
                        docs.add((c.family, c.title, c.year))
                    for s in c.sections:
                        if s.strip():
                            secs.add((c.family, c.title, c.year, s))
    return Concepts(frozenset(dx), frozenset(meds), frozenset(svcs), frozenset(docs),
                    frozenset(secs))


def coverage(concepts: Concepts, links: list[Link], base: str = DEFAULT_BASE) -> dict[str, tuple[int, int]]:
    """(linked, total) per kind: diagnoses to ICD-10-CM, medications to a drug, services to a
    category, drug service concepts to a drug concept, guideline documents to the scheme."""
    by_subject: dict[str, set[str]] = {}
    for lk in links:
        by_subject.setdefault(lk.subject_id, set()).add(lk.object_source)

    def count(iris: list[str], source: str) -> tuple[int, int]:
        return (sum(1 for i in iris if source in by_subject.get(i, set())), len(iris))

    med_requests = [s.concept for s in concepts.services
                    if s.category == "medication" and s.ingredients]
    return {
        "diagnoses": count([diagnosis_iri(x, base).value for x in concepts.diagnoses], "ICD10CM"),
        "medications": count([medication_iri(x, base).value for x in concepts.medications],
                             "imr-graph drug concepts"),
        "medication requests": count([service_iri(x, base).value for x in med_requests],
                                     "imr-graph drug concepts"),
        "services": count([service_iri(x.concept, base).value for x in concepts.services],
                          "imr-graph service categories"),
        "guideline documents": count(
            [guideline_iri(f, t, y, base).value for f, t, y in concepts.documents],
            "imr-graph guideline scheme"),
    }


def diagnosis_code_summary(links: list[Link]) -> dict[str, int]:
    """Diagnosis -> ICD-10-CM links by predicate, and how many codes are header categories.

    A header category (a code with children other than 7th-character extensions) should
    never be linked: the matcher takes the child that fits (see docs/linking.md).
    """
    from .icd10 import index

    idx = index()
    out: dict[str, int] = {}
    for lk in links:
        if lk.subject_category != "diagnosis" or lk.object_source != "ICD10CM":
            continue
        key = lk.predicate_id.split(":", 1)[1]
        out[key] = out.get(key, 0) + 1
        code = lk.object_id[len(ICD10CM_IRI):]
        out["header categories"] = out.get("header categories", 0) + (not idx.is_billable(code))
    return out

