"""Links and vocabularies as RDF, and the two hooks into the graph.

* :func:`item_details` is the per-record hook (``mapping.record_to_quads(extra=...)``): for
  each disputed item it adds what the request text says (body regions, sessions per week,
  weeks, total sessions, imaging modality, drug strength, form and quantity) to the item node
  in the case graph.
* :func:`relink` computes the links of every diagnosis, medication, service and guideline
  node in the store and replaces the vocabulary graph (``{base}graph/vocabulary``, through
  ``GraphStore.load_vocabulary``) with: the service category and guideline schemes
  (``ontology/services.ttl``, ``ontology/guidelines.ttl``), the drug concepts and drug class
  scheme, the ICD-10-CM codes used with their parents up to the chapter, and every link as a
  SKOS triple plus a reified SSSOM-style mapping resource (``owl:Axiom`` with
  ``owl:annotatedSource/Property/Target``, ``sssom:confidence``,
  ``sssom:mapping_justification`` and ``sssom:mapping_tool``).

Curated corrections (an SSSOM TSV, see :mod:`.sssom`) replace automatic links before they are
written, so they win in the store as in the export.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad, Triple

from ..graph.mapping import DEFAULT_BASE, Extra, item_iri
from ..records import Record, Service
from ..resources import ontology_file
from .drugs import table as drug_table
from .guidelines import GUIDELINE_SCHEME
from .icd10 import ICD10CM_IRI, index
from .links import (
    DRUG_CLASS_SCHEME,
    DRUG_SCHEME,
    ICD_CHAPTER,
    Concepts,
    Link,
    ServiceConcept,
    apply_curated,
    drug_class_iri,
    link_concepts,
)
from .services import MODALITIES

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SSSOM = "https://w3id.org/sssom/"
IMRV = "https://w3id.org/imr-graph/vocab#"
IMR = "https://w3id.org/imr-graph/ontology#"
TOOL = "imr-graph linking"


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _skos(local: str) -> NamedNode:
    return NamedNode(SKOS + local)


def _v(local: str) -> NamedNode:
    return NamedNode(IMRV + local)


def _int(v: int) -> Literal:
    return Literal(str(v), datatype=NamedNode(XSD + "integer"))


class _ItemDetails:
    """The per-record hook as an object, so the parallel ingest can send it to its workers."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, record: Record, graph: NamedNode) -> Iterator[Triple]:
        from ..letters.services import read_service

        for item in record.items:
            node = item_iri(record.case_key, item.index, self.base)
            yield from _details(node, item.service or read_service(item.request))


def item_details(base: str = DEFAULT_BASE) -> Extra:
    """The per-record hook: request details on each item node of the case graph."""
    return _ItemDetails(base)


def _details(node: NamedNode, s: Service) -> Iterator[Triple]:
    """What the request adds to its service (the record's ``service`` attributes)."""
    for region in s.regions:
        yield Triple(node, _v("bodyRegion"), Literal(region))
    if s.side:
        yield Triple(node, _v("side"), Literal(s.side))
    if s.category in MODALITIES:
        yield Triple(node, _v("imagingModality"), Literal(MODALITIES[s.category]))
    for name, value in (("sessionsPerWeek", s.per_week), ("weeks", s.weeks),
                        ("totalSessions", s.sessions)):
        if value:
            yield Triple(node, _v(f"{name}Min"), _int(value[0]))
            yield Triple(node, _v(f"{name}Max"), _int(value[1]))
    if s.kind == "drug":
        for strength in s.strength:
            yield Triple(node, _v("strength"), Literal(strength))
        if s.form:
            yield Triple(node, _v("dosageForm"), Literal(s.form))
        if s.quantity is not None:
            yield Triple(node, _v("quantity"), _int(s.quantity))
        if s.release:
            yield Triple(node, _v("releaseType"), Literal(s.release))


def mapping_node(link: Link) -> NamedNode:
    """IRI of the reified mapping resource of a link (stable across runs)."""
    digest = hashlib.sha1("|".join(link.key).encode("utf-8")).hexdigest()[:16]
    return NamedNode(f"{link.subject_id}/mapping/{digest}")


def link_triples(links: Iterable[Link]) -> Iterator[Triple]:
    """Each link as its SKOS triple plus a reified mapping resource."""
    for lk in links:
        s, o = _n(lk.subject_id), _n(lk.object_id)
        p = _skos(lk.predicate_id.split(":", 1)[1])
        yield Triple(s, p, o)
        if lk.subject_category == "service" and lk.object_source == "imr-graph service categories":
            yield Triple(s, NamedNode(IMR + "serviceCategory"), o)
        m = mapping_node(lk)
        yield Triple(m, RDF_TYPE, NamedNode(OWL + "Axiom"))
        yield Triple(m, RDF_TYPE, _v("Mapping"))
        yield Triple(m, NamedNode(OWL + "annotatedSource"), s)
        yield Triple(m, NamedNode(OWL + "annotatedProperty"), p)
        yield Triple(m, NamedNode(OWL + "annotatedTarget"), o)
        yield Triple(m, NamedNode(SSSOM + "confidence"),
                     Literal(f"{lk.confidence:.3f}", datatype=NamedNode(XSD + "double")))
        yield Triple(m, NamedNode(SSSOM + "mapping_justification"),
                     NamedNode("https://w3id.org/semapv/vocab/" + lk.justification.split(":")[1]))
        yield Triple(m, NamedNode(SSSOM + "mapping_tool"), Literal(f"{TOOL}: {lk.method}"))
        yield Triple(m, NamedNode(SSSOM + "subject_label"), Literal(lk.subject_label))
        yield Triple(m, NamedNode(SSSOM + "object_label"), Literal(lk.object_label))
        yield Triple(m, _v("subjectCategory"), Literal(lk.subject_category))
        if lk.object_source in ("DRUGBANK", "MEDLINEPLUS", "MESH"):
            yield Triple(o, _skos("prefLabel"), Literal(lk.object_label))
        elif lk.subject_category == "section" and "/section/" in lk.object_id:
            # canonical section nodes are made here, under their scheme document
            yield Triple(o, RDF_TYPE, _skos("Concept"))
            yield Triple(o, _skos("prefLabel"), Literal(lk.object_label))
            yield Triple(o, _skos("inScheme"), _n(GUIDELINE_SCHEME))
            yield Triple(o, _skos("broader"), _n(lk.object_id.split("/section/", 1)[0]))


def _icd_triples(codes: set[str]) -> Iterator[Triple]:
    idx = index()
    scheme = _n(ICD10CM_IRI)
    yield Triple(scheme, RDF_TYPE, _skos("ConceptScheme"))
    yield Triple(scheme, _skos("prefLabel"), Literal("ICD-10-CM"))
    seen: set[str] = set()
    for code in sorted(codes):
        # dict.fromkeys: a one-category block has the category's name ("M96")
        chain = list(dict.fromkeys([code, *idx.ancestors(code)]))
        for child, parent in zip(chain, [*chain[1:], None], strict=True):
            if child in seen:
                break
            seen.add(child)
            node = _node(child, parent is None)
            yield Triple(node, RDF_TYPE, _skos("Concept"))
            yield Triple(node, _skos("inScheme"), scheme)
            yield Triple(node, _skos("notation"), Literal(child))
            yield Triple(node, _skos("prefLabel"), Literal(idx.label(child) or child))
            if parent is None:
                yield Triple(node, RDF_TYPE, _v("ICD10CMChapter"))
                yield Triple(scheme, _skos("hasTopConcept"), node)
            else:
                yield Triple(node, _skos("broader"), _node(parent, parent == chain[-1]))
                category = _category(child)
                if category is not None:  # one hop from any code to its 3-character category
                    yield Triple(node, _v("icd10Category"), _node(category, False))
                    yield Triple(node, _v("icd10Chapter"), _node(chain[-1], True))
                    if category == child:
                        yield Triple(node, RDF_TYPE, _v("ICD10CMCategory"))


def _category(code: str) -> str | None:
    """The 3-character category of a code ("M54.50" -> "M54"); None for a block."""
    return code[:3] if "-" not in code and len(code) >= 3 and code[1:3].isalnum() else None


def _node(code: str, chapter: bool) -> NamedNode:
    return _n(f"{ICD_CHAPTER}/{code}") if chapter else _n(ICD10CM_IRI + code)


def _drug_triples(links: list[Link]) -> Iterator[Triple]:
    from .drugs import _classes

    yield Triple(_n(DRUG_SCHEME), RDF_TYPE, _skos("ConceptScheme"))
    yield Triple(_n(DRUG_SCHEME), _skos("prefLabel"), Literal("Drug concepts"))
    yield Triple(_n(DRUG_CLASS_SCHEME), RDF_TYPE, _skos("ConceptScheme"))
    yield Triple(_n(DRUG_CLASS_SCHEME), _skos("prefLabel"), Literal("Drug classes"))
    drugs = {lk.object_id: lk.object_label for lk in links
             if lk.object_source == "imr-graph drug concepts"}
    drug_table()
    for iri, generic in sorted(drugs.items()):
        node = _n(iri)
        yield Triple(node, RDF_TYPE, _skos("Concept"))
        yield Triple(node, RDF_TYPE, _v("DrugConcept"))
        yield Triple(node, _skos("inScheme"), _n(DRUG_SCHEME))
        yield Triple(node, _skos("prefLabel"), Literal(generic))
        for ingredient in generic.split("/"):
            yield Triple(node, _v("ingredient"), Literal(ingredient))
        route = "topical" if "/" in generic and _is_topical_compound(links, iri) else None
        for cls in _classes(generic, route):
            c = _n(drug_class_iri(cls))
            yield Triple(node, _skos("broader"), c)
            yield Triple(node, _v("drugClass"), c)
            yield Triple(c, RDF_TYPE, _skos("Concept"))
            yield Triple(c, RDF_TYPE, _v("DrugClass"))
            yield Triple(c, _skos("inScheme"), _n(DRUG_CLASS_SCHEME))
            yield Triple(c, _skos("prefLabel"), Literal(cls))


def _is_topical_compound(links: list[Link], drug: str) -> bool:
    from .drugs import parse_medication

    return any(
        lk.object_id == drug and (lk.subject_label.endswith("(topical)") or
                                  parse_medication(lk.subject_label).form in
                                  {"cream", "gel", "ointment", "patch", "lotion", "spray"})
        for lk in links
    )


def _turtle(name: str) -> Iterator[Triple]:
    import pyoxigraph as ox

    with ontology_file(name).open("rb") as fh:
        yield from ox.parse(fh, format=ox.RdfFormat.TURTLE)


def vocabulary_triples(links: list[Link]) -> Iterator[Triple]:
    """Everything the vocabulary graph holds for a set of links."""
    yield from _turtle("services.ttl")
    yield from _turtle("guidelines.ttl")
    yield from link_triples(links)
    codes = {lk.object_id[len(ICD10CM_IRI):] for lk in links if lk.object_source == "ICD10CM"}
    yield from _icd_triples(codes)
    yield from _drug_triples(links)


_PREFIXES = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
_CONCEPT_QUERIES = {
    "d": "SELECT DISTINCT ?label WHERE { ?c a imr:Diagnosis ; skos:prefLabel ?p . "
         "OPTIONAL { ?c skos:altLabel ?a } BIND(COALESCE(?a, ?p) AS ?label) }",
    "m": "SELECT DISTINCT ?label WHERE { ?c a imr:Medication ; skos:prefLabel ?p . "
         "OPTIONAL { ?c skos:altLabel ?a } BIND(COALESCE(?a, ?p) AS ?label) }",
    "s": "SELECT ?id (SAMPLE(?p) AS ?label) (SAMPLE(?cat) AS ?category) "
         "(GROUP_CONCAT(DISTINCT ?ing; SEPARATOR='|') AS ?ingredients) WHERE { "
         "?c a imr:Service ; skos:notation ?id ; skos:prefLabel ?p ; skos:broader ?cat . "
         "OPTIONAL { ?c imr:activeIngredient ?ing } } GROUP BY ?id",
    "g": "SELECT DISTINCT ?f ?title ?year WHERE { ?c a imr:GuidelineDocument ; "
         "imr:guidelineFamily ?f ; dcterms:title ?title . OPTIONAL { ?c imr:editionYear ?year } }",
    "x": "SELECT DISTINCT ?f ?title ?year ?label WHERE { ?cit imr:citesSection ?c ; "
         "imr:guidelineFamily ?f . ?c skos:prefLabel ?p . OPTIONAL { ?c skos:altLabel ?a } "
         "BIND(COALESCE(?a, ?p) AS ?label) "
         "OPTIONAL { ?cit imr:citesDocument ?doc . ?doc dcterms:title ?title . "
         "OPTIONAL { ?doc imr:editionYear ?year } } }",
}


def store_concepts(store) -> Concepts:
    """The concept labels in a store (diagnoses, medications, services, cited documents)."""

    def rows(kind: str) -> list[dict[str, str | None]]:
        result = store.query(_PREFIXES + _CONCEPT_QUERIES[kind])
        names = [v.value for v in result.variables]
        return [{n: (sol[n].value if sol[n] is not None else None) for n in names}
                for sol in result]

    def fam(value: str | None) -> str:
        return value.rsplit("#", 1)[-1] if value else "OTHER"

    def year(value: str | None) -> int | None:
        return int(value) if value else None

    return Concepts(
        frozenset(r["label"] for r in rows("d") if r["label"]),
        frozenset(r["label"] for r in rows("m") if r["label"]),
        frozenset(ServiceConcept(r["id"], r["label"] or r["id"],
                                 (r["category"] or "other").rsplit("/", 1)[-1],
                                 tuple(sorted(i for i in (r["ingredients"] or "").split("|") if i)))
                  for r in rows("s") if r["id"]),
        frozenset((fam(r["f"]), r["title"], year(r["year"])) for r in rows("g") if r["title"]),
        frozenset((fam(r["f"]), r["title"], year(r["year"]), r["label"])
                  for r in rows("x") if r["label"]),
    )


def relink(store, curated: list[Link] | None = None) -> tuple[list[Link], int]:
    """Recompute all links of a store and replace its vocabulary graph; (links, triples)."""
    links = store_links(store, curated)
    graph = store.vocabulary_graph
    triples = store.load_vocabulary(
        Quad(t.subject, t.predicate, t.object, graph) for t in vocabulary_triples(links)
    )
    return links, triples


def store_links(store, curated: list[Link] | None = None) -> list[Link]:
    """The links of every concept in a store, curated corrections applied."""
    links = link_concepts(store_concepts(store), store.base)
    return apply_curated(links, curated) if curated else links
