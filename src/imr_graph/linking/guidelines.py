"""Guideline citations -> nodes of the guideline concept scheme (``ontology/guidelines.ttl``).

Letters name the same guideline document in many ways ("ODG Low Back", "Low Back Chapter",
"Low Back - Lumbar & Thoracic (Acute & Chronic)"); the graph's document and section nodes
(built by :mod:`imr_graph.graph.mapping` from the words of each letter) are linked here to one
scheme node per document edition or chapter, and each section to a canonical section node
under it, so that citations from all letters meet. The scheme stores identifiers, titles,
edition years and effective dates only, never guideline text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..graph.mapping import slug
from ..resources import ontology_file
from .services import VOCAB

GUIDELINE_SCHEME = f"{VOCAB}guideline"
"""IRI of the guideline concept scheme; documents are ``{GUIDELINE_SCHEME}/{family}/{id}``."""


@dataclass(frozen=True)
class SchemeDoc:
    """One document (edition) or chapter of the guideline scheme."""

    iri: str
    family: str
    label: str
    year: int | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class GuidelineMatch:
    """A cited document linked to the scheme (``doc`` None when not recognised)."""

    doc: SchemeDoc | None
    predicate: str | None
    confidence: float
    method: str


def _norm(text: str) -> str:
    t = text.lower().replace("&", " and ")
    t = re.sub(r"\(.*?\)", " ", t)
    t = re.sub(r"\b(?:guidelines?|chapter|chap|ch|section|medical|the|odg|mtus|acoem|updated.*)\b", " ", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(t.split())


@lru_cache(maxsize=1)
def scheme() -> tuple[SchemeDoc, ...]:
    """The documents of ``ontology/guidelines.ttl`` (read with pyoxigraph)."""
    import pyoxigraph as ox

    skos = "http://www.w3.org/2004/02/skos/core#"
    imrv = f"{VOCAB.rstrip('/')}#"
    with ontology_file("guidelines.ttl").open("rb") as fh:
        triples = list(ox.parse(fh, format=ox.RdfFormat.TURTLE))
    by_subject: dict[str, dict[str, list[str]]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(
            t.object.value
        )
    docs: list[SchemeDoc] = []
    for iri, props in sorted(by_subject.items()):
        fam = props.get(f"{imrv}family")
        if not fam or not iri.startswith(GUIDELINE_SCHEME + "/"):
            continue
        label = props.get(f"{skos}prefLabel", [iri])[0]
        year = props.get(f"{imrv}editionYear")
        keys = {_norm(x) for x in props.get(f"{skos}altLabel", []) + props.get(f"{imrv}matchKey", [])}
        keys.add(_norm(props.get(f"{imrv}title", [label])[0]))
        docs.append(SchemeDoc(iri, fam[0], label, int(year[0]) if year else None,
                              tuple(sorted(k for k in keys if k))))
    return tuple(docs)


def match_citation(family: str, title: str | None, year: int | None) -> GuidelineMatch:
    """The scheme document a citation's (family, title, year) names."""
    fam = (family or "OTHER").upper()
    if not title:
        return GuidelineMatch(None, None, 0.0, "unsure")
    key = _norm(title)
    if not key:
        return GuidelineMatch(None, None, 0.0, "unsure")
    candidates = [d for d in scheme() if d.family == fam]
    exact = [d for d in candidates if key in d.keys]
    if exact:
        same_year = [d for d in exact if d.year == year]
        if same_year:
            return GuidelineMatch(same_year[0], "skos:exactMatch", 0.98, "title-and-year")
        if year is None or all(d.year is None for d in exact):
            # ODG chapters and ACOEM chapters carry no edition in the letters.
            return GuidelineMatch(exact[0], "skos:exactMatch" if exact[0].year is None
                                  else "skos:closeMatch", 0.9, "title")
        nearest = min(exact, key=lambda d: abs((d.year or 0) - year))
        return GuidelineMatch(nearest, "skos:closeMatch", 0.7, "title-other-edition")
    # Keyword containment: "Low Back - Lumbar and Thoracic" contains the key "low back".
    contained = [
        (len(k), d) for d in candidates for k in d.keys if k and re.search(rf"\b{re.escape(k)}\b", key)
    ]
    if contained:
        contained.sort(key=lambda x: -x[0])
        doc = contained[0][1]
        if year is not None and doc.year is not None and doc.year != year:
            return GuidelineMatch(doc, "skos:closeMatch", 0.6, "title-keyword-other-edition")
        return GuidelineMatch(doc, "skos:closeMatch", 0.85, "title-keyword")
    return GuidelineMatch(None, None, 0.0, "unsure")


def section_key(section: str) -> str:
    """The canonical form of a section title: lower-cased words, punctuation dropped."""
    t = section.lower().replace("&", " and ")
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return " ".join(t.split())


def section_node(doc: SchemeDoc, section: str) -> str:
    """IRI of the canonical section node of ``section`` within a scheme document."""
    return f"{doc.iri}/section/{slug(section_key(section))}"
