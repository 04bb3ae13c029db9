"""Precedents and one case at a glance: the questions users bring, answered from the store.

:func:`find_precedents` gives the earlier decisions on a service, widened to its category
and then its kind when there are fewer than ``least`` of them, ranked by closeness, with
the overturn rate and its Wilson 95% interval (:mod:`imr_graph.graph.rates`). On a local
store it reads the index kept beside it (:func:`imr_graph.graph.textindex.ranked_decisions`,
fast at any size); otherwise (``--endpoint``) it runs the canned query ``precedents``
(``queries/precedents.rq``), which gives the same answer.
Plain words name a service the way letters' requests are read
(:func:`imr_graph.letters.services.read_service`); diagnosis phrases become ICD-10-CM categories
through the linker (:func:`imr_graph.linking.icd10.link_phrase`).

:func:`case_page` gathers one case: header and dates, worker, diagnoses with codes, each
disputed item with outcome, both sides' guidelines and its rationale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal

from ..errors import QueryError, StoreError
from .queries import resolve_query, run_query, solutions_to_rows, term_text
from .rates import wilson

SCOPES = ("service", "category", "kind")
"""How far ``find_precedents`` widens, in order."""

_CODE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{0,4})?$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def service_id(text: str) -> str:
    """A service concept id for ``text``: an id as given (``imaging-mri/lumbar-spine``),
    else the concept its words are read as ("lumbar MRI" -> ``imaging-mri/lumbar-spine``)."""
    if not text.strip():
        raise QueryError("precedents: name a service (a concept id or words)")
    from ..letters.services import service_concept

    return service_concept(text)


def icd10_categories(diagnoses: list[str]) -> list[str]:
    """The three-character ICD-10-CM categories of codes (``M54.16`` -> ``M54``) and
    phrases ("lumbar radiculopathy" -> ``M54``), in order, each once."""
    out: list[str] = []
    for given in diagnoses:
        given = given.strip()
        if not given:
            continue
        if _CODE.match(given):
            codes = [given.upper()]
        else:
            from ..linking.icd10 import link_phrase

            codes = [m.code for m in link_phrase(given) if m.code]
            if not codes:
                raise QueryError(f"precedents: diagnosis {given!r} has no ICD-10-CM code; "
                                 "give a code (e.g. M54.16) or other words")
        for code in codes:
            if code[:3] not in out:
                out.append(code[:3])
    return out


@dataclass
class Precedents:
    """The answer of :func:`find_precedents`: the scope kept, the counts over every
    decision found and the first rows, best first."""

    service: str
    scope: str
    categories: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    """Rows found (every outcome), of which :attr:`rows` are the first."""
    items: int = 0
    """Decisions the rate rests on (upheld or overturned items)."""
    overturned: int = 0

    @classmethod
    def of_rows(cls, service: str, scope: str, categories: list[str],
                rows: list[dict[str, Any]]) -> Precedents:
        """An answer counted from all its rows."""
        return cls(service, scope, categories, rows, len(rows),
                   sum(1 for r in rows if r["outcome"] in ("Upheld", "Overturned")),
                   sum(1 for r in rows if r["outcome"] == "Overturned"))

    def rate(self) -> tuple[float, float, float] | None:
        """Overturn rate and its Wilson 95% interval, or None without decisions."""
        if not self.items:
            return None
        low, high = wilson(self.overturned, self.items)
        return self.overturned / self.items, low, high

    def summary(self) -> dict[str, Any]:
        rate = self.rate()
        return {"service": self.service, "scope": self.scope, "categories": self.categories,
                "items": self.items, "overturned": self.overturned, "rows_found": self.total,
                "rate": None if rate is None else round(rate[0], 3),
                "ci_low": None if rate is None else round(rate[1], 3),
                "ci_high": None if rate is None else round(rate[2], 3)}


COLUMNS = ("case", "decided", "outcome", "request", "concept", "match", "score", "why",
           "sections", "quote", "letter")
"""The columns of a precedent row, in order."""


def find_precedents(
    store: Any,
    service: str,
    *,
    diagnoses: list[str] | None = None,
    section: str | None = None,
    before: str | None = None,
    least: int = 5,
    scope: str | None = None,
    limit: int = 0,
    use_index: bool | None = None,
) -> Precedents:
    """Earlier decisions on ``service`` (see the module); ``scope`` fixes the level,
    otherwise it widens service -> category -> kind until at least ``least`` decisions.
    The counts (and the rate) are over every decision found; ``rows`` holds the first
    ``limit`` of them (0 = all).

    On a local store the answer comes from the index beside it (``use_index`` None: when
    it can be kept there; True: always; False: never; :mod:`imr_graph.graph.textindex`:
    milliseconds at 100k letters, where the SPARQL query reads every decision on the
    service); over an endpoint, or without the index, from the canned query
    ``precedents``. Both give the same answer."""
    if before is not None and not _DATE.match(before):
        raise QueryError(f"precedents: --before must be a date YYYY-MM-DD, not {before!r}")
    if scope is not None and scope not in SCOPES:
        raise QueryError(f"precedents: unknown scope {scope!r}; one of {', '.join(SCOPES)}")
    concept = service_id(service)
    cats = icd10_categories(diagnoses or [])
    section = (section or "").strip() or None
    levels = [scope] if scope else list(SCOPES)
    from .textindex import can_index

    if use_index is not False and can_index(store):
        try:
            return _from_index(store, concept, cats, section, before or "9999-12-31",
                               levels, least, limit)
        except StoreError:
            if use_index:
                raise
            # the index cannot be kept beside this store (e.g. a read-only folder): the
            # canned query gives the same answer, slower
    query = resolve_query("precedents")
    params = {"service": concept, "categories": " ".join(cats) or "-",
              "section": section or "-", "before": before or "9999-12-31"}
    found: dict[str, Precedents] = {}

    def count(level: str) -> tuple[int, int]:
        columns, rows = solutions_to_rows(
            run_query(store, query, {**params, "scope": level}))  # type: ignore[arg-type]
        found[level] = Precedents.of_rows(concept, level, cats, [
            {c: _value(row[columns.index(c)]) for c in COLUMNS} for row in rows])
        return found[level].total, found[level].items

    result = found[_widen(levels, least, count)]
    if limit > 0:
        result.rows = result.rows[:limit]
    return result


def _widen(levels: list[str], least: int, count: Callable[[str], tuple[int, int]]) -> str:
    """The level kept, trying ``levels`` in turn while fewer than ``least`` decisions:
    ``count(level)`` gives its (rows, decisions); a level adding no rows is not kept, and
    a single level always is."""
    kept, rows_kept, items_kept = levels[0], 0, 0
    for level in levels:
        rows, items = count(level)
        if len(levels) == 1 or rows > rows_kept:
            kept, rows_kept, items_kept = level, rows, items
        if items_kept >= least:
            break
    return kept


_WITHIN = {"service": ("service",), "category": ("service", "category"),
           "kind": ("service", "category", "kind")}
"""The matches a scope takes in."""


def _from_index(store: Any, concept: str, cats: list[str], section: str | None, before: str,
                levels: list[str], least: int, limit: int) -> Precedents:
    """:func:`find_precedents` from the index beside a local store."""
    from .textindex import decision_counts, ranked_decisions

    by_match = decision_counts(store, concept, before)

    def count(level: str) -> tuple[int, int, int]:
        got = [by_match.get(m, (0, 0, 0)) for m in _WITHIN[level]]
        return sum(g[0] for g in got), sum(g[1] for g in got), sum(g[2] for g in got)

    kept = _widen(levels, least, lambda level: count(level)[:2])
    rows = []
    for r in ranked_decisions(store, concept, kept, cats, section, before, limit):
        why = f"same {r['match']}"
        if r["shared"]:
            why += f"; ICD-10 {r['shared']}"
        if r["same_section"]:
            why += f"; section {section}"
        r["why"] = why
        rows.append({c: r[c] if c in ("decided", "outcome", "match", "score")
                     else term_text(Literal(r[c])) for c in COLUMNS})
    return Precedents(concept, kept, cats, rows, *count(kept))


def _value(term: Any) -> Any:
    text = term_text(term) if term is not None else ""
    if text.lstrip("-").isdigit():
        return int(text)
    return text


# ----------------------------------------------------------------------------------------------
# One case at a glance
# ----------------------------------------------------------------------------------------------

_PREFIXES = """PREFIX imr: <https://w3id.org/imr-graph/ontology#>
PREFIX imrv: <https://w3id.org/imr-graph/vocab#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""

_HEADER = _PREFIXES + """SELECT ?case ?type ?received ?denied ?decided ?days ?age ?sex ?specialty
       ?state ?letter ?item_count ?upheld_items ?overturned_items WHERE {
  ?c imr:caseKey ?case .
  OPTIONAL { ?c a ?t FILTER(?t IN (imr:WorkersCompCase, imr:HealthPlanCase)) }
  OPTIONAL { ?c imr:receivedDate ?received }
  OPTIONAL { ?c imr:urDenialDate ?denied }
  OPTIONAL { ?c imr:decisionDate ?decided }
  OPTIONAL { ?c imr:daysToDecision ?days }
  OPTIONAL { ?c imr:patient ?w OPTIONAL { ?w imr:age ?age } OPTIONAL { ?w imr:sex ?sx } }
  OPTIONAL { ?c imr:reviewer ?r OPTIONAL { ?r imr:specialty ?sp . ?sp skos:altLabel ?specialty }
             OPTIONAL { ?r imr:licensedIn ?st . ?st skos:altLabel ?state } }
  OPTIONAL { ?c prov:wasDerivedFrom ?src OPTIONAL { ?src imr:filePath ?letter } }
  OPTIONAL { ?c imr:itemCount ?item_count }
  OPTIONAL { ?c imr:upheldItemCount ?upheld_items }
  OPTIONAL { ?c imr:overturnedItemCount ?overturned_items }
  BIND(STRAFTER(STR(?t), "#") AS ?type)
  BIND(STRAFTER(STR(?sx), "#") AS ?sex)
} LIMIT 1"""

_DIAGNOSES = _PREFIXES + """SELECT ?case ?diagnosis ?status (GROUP_CONCAT(DISTINCT ?code; SEPARATOR=" ")
       AS ?codes) (GROUP_CONCAT(DISTINCT ?title; SEPARATOR="; ") AS ?titles) WHERE {
  ?c imr:caseKey ?case ; imr:diagnosis ?d .
  OPTIONAL { ?d skos:altLabel ?alt }
  OPTIONAL { ?d skos:prefLabel ?pl }
  OPTIONAL { ?d imr:diagnosisStatus ?status }
  OPTIONAL { ?d skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?k .
             ?k skos:notation ?code OPTIONAL { ?k skos:prefLabel ?title } }
  BIND(STR(COALESCE(?alt, ?pl)) AS ?diagnosis)
} GROUP BY ?case ?diagnosis ?status ORDER BY ?diagnosis"""

_ITEMS = _PREFIXES + """SELECT ?case ?index ?request ?outcome ?service ?claims_administrator ?reviewer
       ?rationale WHERE {
  ?c imr:caseKey ?case ; imr:item ?i .
  ?i imr:itemIndex ?index .
  OPTIONAL { ?i imr:request ?request }
  OPTIONAL { ?i imr:outcome ?o }
  OPTIONAL { ?i imr:service ?s . ?s skos:notation ?service }
  OPTIONAL { ?i imr:claimsAdministratorBasis ?cb . ?cb imr:basisText ?claims_administrator }
  OPTIONAL { ?i imr:reviewerBasis ?rb . ?rb imr:basisText ?reviewer }
  OPTIONAL { ?i imr:rationale ?rationale }
  BIND(STRAFTER(STR(?o), "#") AS ?outcome)
} ORDER BY ?index"""


def _select(store: Any, text: str, case: str) -> list[dict[str, Any]]:
    from .queries import parse_header

    columns, rows = solutions_to_rows(
        run_query(store, parse_header(text, "show"), {"case": case}))  # type: ignore[arg-type]
    return [{c: _value(r[i]) for i, c in enumerate(columns)}
            for r in rows]


def case_page(store: Any, case: str, *, excerpt: int = 400) -> dict[str, Any]:
    """One case as a dict: header, worker, diagnoses with codes, items (see the module).
    An unknown key is an error naming the nearest ones. Rationales are cut to ``excerpt``
    characters at a word boundary (0 = whole)."""
    key = store.key_of(store.resolve_graph(case))
    header = _select(store, _HEADER, key)
    page: dict[str, Any] = {k: (v if v != "" else None)
                            for k, v in (header[0] if header else {}).items()}
    page["case"] = key
    page["diagnoses"] = [
        {"diagnosis": d["diagnosis"], "status": d["status"] or None,
         "codes": str(d["codes"]).split() if d["codes"] else [],
         "titles": str(d["titles"]).split("; ") if d["titles"] else []}
        for d in _select(store, _DIAGNOSES, key)]
    items = _select(store, _ITEMS, key)
    for item in items:
        del item["case"]
        item["rationale"] = shorten(str(item["rationale"]), excerpt)
    page["items"] = items
    return page


def shorten(text: str, width: int) -> str:
    """``text`` cut at a word boundary to at most ``width`` characters, with "…"."""
    text = " ".join(text.split())
    if width <= 0 or len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return cut + " …"
