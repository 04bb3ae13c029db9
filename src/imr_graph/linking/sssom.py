"""SSSOM TSV: write links for curators, read their corrections back.

The file is a TSV with a ``#``-commented YAML metadata block (``curie_map``,
``mapping_set_id``, ``license``, ...), one mapping per row, in the SSSOM columns
``subject_id subject_label subject_category predicate_id predicate_modifier object_id
object_label object_source mapping_justification confidence mapping_tool``. A curated file
uses the same columns; ``predicate_modifier`` ``Not`` marks a link that is wrong (it removes
that automatic link); any other curated row replaces the automatic links of its subject to
the same vocabulary (``object_source``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import InputError
from ..graph.mapping import (
    DEFAULT_BASE,
    diagnosis_iri,
    medication_iri,
    service_iri,
)
from .drugs import DRUGBANK, MEDLINEPLUS, MESH
from .guidelines import GUIDELINE_SCHEME
from .icd10 import ICD10CM_IRI
from .links import CURATED, DRUG_SCHEME, PREDICATES, Link, contract, curie_map, expand
from .services import SERVICE_SCHEME

COLUMNS = (
    "subject_id", "subject_label", "subject_category", "predicate_id", "predicate_modifier",
    "object_id", "object_label", "object_source", "mapping_justification", "confidence",
    "mapping_tool",
)
MAPPING_SET_ID = "https://w3id.org/imr-graph/mappings/imr-graph-links.sssom.tsv"
LICENSE = "https://creativecommons.org/publicdomain/zero/1.0/"

SOURCES: dict[str, str] = {
    "ICD10CM": ICD10CM_IRI,
    DRUGBANK[0]: DRUGBANK[1],
    MEDLINEPLUS[0]: MEDLINEPLUS[1],
    MESH[0]: MESH[1],
    "imr-graph drug concepts": f"{DRUG_SCHEME}/",
    "imr-graph service categories": f"{SERVICE_SCHEME}/",
    "imr-graph guideline scheme": f"{GUIDELINE_SCHEME}/",
}
_SOURCE_BY_IRI = {v: k for k, v in SOURCES.items()}


def write_sssom(links: list[Link], base: str = DEFAULT_BASE) -> str:
    """The links as an SSSOM TSV document (metadata header + rows)."""
    prefixes = curie_map(base)
    out = io.StringIO()
    out.write("# curie_map:\n")
    for prefix, ns in prefixes.items():
        out.write(f"#   {prefix}: {ns}\n")
    out.write(f"# mapping_set_id: {MAPPING_SET_ID}\n")
    out.write("# mapping_set_description: Links from the diagnoses, medications, services and "
              "guideline citations of IMR determination letters to ICD-10-CM, DrugBank, "
              "MedlinePlus, MeSH and the imr-graph schemes, made offline by imr-graph.\n")
    out.write(f"# license: {LICENSE}\n")
    out.write("# mapping_tool: imr-graph linking\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for lk in links:
        writer.writerow([
            contract(lk.subject_id, prefixes), _one_line(lk.subject_label), lk.subject_category,
            lk.predicate_id, "Not" if lk.negated else "", contract(lk.object_id, prefixes),
            _one_line(lk.object_label), SOURCES.get(lk.object_source, lk.object_source),
            lk.justification, f"{lk.confidence:.3f}", f"imr-graph linking: {lk.method}",
        ])
    return out.getvalue()


def _one_line(text: str) -> str:
    """Labels go on one TSV line: whitespace runs (tabs, newlines) become one space."""
    return " ".join(text.split())


_PREFIX_LINE = re.compile(r"^#\s+([A-Za-z_][\w.-]*):\s+(\S+)\s*$")


def read_sssom(path: str | Path, base: str = DEFAULT_BASE) -> list[Link]:
    """Curated links from an SSSOM TSV file (rows keep the file's confidence, default 1.0).

    Raises :class:`~imr_graph.errors.InputError` naming the file and line for a row that
    cannot be used (no subject, unknown predicate, bad confidence).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read curated mappings: {exc}", path=p) from None
    prefixes = dict(curie_map(base))
    in_map = False
    body: list[str] = []
    header_lines = 0
    for line in text.splitlines():
        if line.startswith("#"):
            header_lines += 1
            if re.match(r"^#\s*curie_map\s*:", line):
                in_map = True
                continue
            m = _PREFIX_LINE.match(line)
            if in_map and m:
                prefixes[m.group(1)] = m.group(2)
            else:
                in_map = False
            continue
        body.append(line)
    rows = list(csv.DictReader(body, delimiter="\t"))
    if rows and "predicate_id" not in rows[0]:
        raise InputError("not an SSSOM TSV (no predicate_id column)", path=p)
    links: list[Link] = []
    for n, row in enumerate(rows, start=header_lines + 2):
        links.append(_row_link(row, prefixes, base, p, n))
    return links


def _row_link(row: dict[str, str], prefixes: dict[str, str], base: str, path: Path,
              line: int) -> Link:
    def bad(msg: str) -> InputError:
        return InputError(f"line {line}: {msg}", path=path)

    category = (row.get("subject_category") or "").strip()
    label = (row.get("subject_label") or "").strip()
    subject = (row.get("subject_id") or "").strip()
    if subject:
        subject = expand(subject, prefixes)
    elif label and category in ("diagnosis", "medication", "service"):
        if category == "service":  # a request as written, or a concept id
            from ..letters.services import read_service

            concept = label if re.fullmatch(r"[a-z0-9-]+(?:/[a-z0-9+-]+)+", label) else \
                read_service(label).concept
            subject = service_iri(concept, base).value
        else:
            fn = {"diagnosis": diagnosis_iri, "medication": medication_iri}[category]
            subject = fn(label, base).value
    else:
        raise bad("no subject_id (or subject_label with subject_category)")
    predicate = (row.get("predicate_id") or "").strip()
    if predicate.startswith("http://www.w3.org/2004/02/skos/core#"):
        predicate = "skos:" + predicate.rsplit("#", 1)[1]
    if predicate not in PREDICATES:
        raise bad(f"unknown predicate_id {predicate!r} (use one of {', '.join(PREDICATES)})")
    obj = expand((row.get("object_id") or "").strip(), prefixes)
    if not obj or "://" not in obj:
        raise bad(f"object_id {row.get('object_id')!r} is not an IRI or known CURIE")
    source = (row.get("object_source") or "").strip()
    source = _SOURCE_BY_IRI.get(source, source) or _guess_source(obj)
    try:
        confidence = float(row.get("confidence") or 1.0)
    except ValueError:
        raise bad(f"confidence {row.get('confidence')!r} is not a number") from None
    if not 0.0 <= confidence <= 1.0:
        raise bad(f"confidence {confidence} is outside 0-1")
    return Link(
        subject_id=subject, subject_label=label, subject_category=category or "curated",
        predicate_id=predicate, object_id=obj,
        object_label=(row.get("object_label") or "").strip(), object_source=source,
        confidence=confidence, justification=CURATED,
        method=(row.get("mapping_tool") or "curated").strip() or "curated",
        negated=(row.get("predicate_modifier") or "").strip().lower() == "not",
    )


def _guess_source(iri: str) -> str:
    for name, ns in SOURCES.items():
        if iri.startswith(ns):
            return name
    return "*"
