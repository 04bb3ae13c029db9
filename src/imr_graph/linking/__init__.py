"""Linking: diagnoses, medications, services and guideline citations -> external vocabularies.

Offline only: ICD-10-CM from the ``simple-icd-10-cm`` package, drug identifiers from the
``drug-named-entity-recognition`` package, curated tables in ``imr_graph/data``, and the SKOS
schemes in ``ontology/services.ttl`` and ``ontology/guidelines.ttl``.

* pure matchers: :func:`match_diagnosis`, :func:`match_drug`, :func:`parse_medication`,
  :func:`classify_service`, :func:`match_citation`;
* links as data (SSSOM-shaped :class:`Link`): :func:`link_concepts`, :func:`apply_curated`;
* RDF and the graph hooks: :func:`item_details` (per-record hook), :func:`relink` (the
  vocabulary graph);
* SSSOM TSV: :func:`write_sssom`, :func:`read_sssom`.

See ``docs/linking.md``.
"""

from __future__ import annotations

from .drugs import DrugMatch, match_drug, parse_medication
from .guidelines import match_citation
from .icd10 import IcdMatch, match_diagnosis
from .links import (
    Concepts,
    Link,
    apply_curated,
    concepts_from_records,
    coverage,
    diagnosis_code_summary,
    link_concepts,
)
from .rdf import item_details, relink, store_concepts, store_links
from .services import ServiceMatch, classify_service
from .sssom import read_sssom, write_sssom

__all__ = [
    "Concepts",
    "DrugMatch",
    "IcdMatch",
    "Link",
    "ServiceMatch",
    "apply_curated",
    "classify_service",
    "concepts_from_records",
    "coverage",
    "diagnosis_code_summary",
    "item_details",
    "link_concepts",
    "match_citation",
    "match_diagnosis",
    "match_drug",
    "parse_medication",
    "read_sssom",
    "relink",
    "store_concepts",
    "store_links",
    "write_sssom",
]
