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

import importlib
from typing import Any

# Names -> submodule. Imported on first use, so the parsing stage can use the pure matchers
# (``linking.drugs``, ``linking.services``) without loading the RDF side.
_WHERE = {
    "DrugMatch": "drugs", "match_drug": "drugs", "parse_medication": "drugs",
    "match_citation": "guidelines",
    "IcdMatch": "icd10", "match_diagnosis": "icd10",
    "Concepts": "links", "Link": "links", "apply_curated": "links",
    "concepts_from_records": "links", "coverage": "links", "link_concepts": "links",
    "diagnosis_code_summary": "links",
    "item_details": "rdf", "relink": "rdf", "store_concepts": "rdf", "store_links": "rdf",
    "ServiceMatch": "services", "classify_service": "services",
    "read_sssom": "sssom", "write_sssom": "sssom",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
