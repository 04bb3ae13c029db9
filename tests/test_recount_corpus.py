"""Every canned query recounted on the real corpus by an independent script.

The letters are parsed to records (plain Python objects, no RDF) and the DMHC table is read
with the ``csv`` module; the counts each canned query should give are computed from those
with dictionaries and compared with what the query returns on a store holding both (the
letters ingested, the table loaded). Every rate is checked against the counts it comes
with, and its interval against the Wilson formula. Skipped when the corpus is absent.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from imr_graph.dmhc.ingest import ingest_dmhc
from imr_graph.graph.ingest import ingest
from imr_graph.graph.queries import canned_queries, run_query
from imr_graph.graph.rates import wilson
from imr_graph.graph.store import GraphStore
from imr_graph.letters.parsing import parse_file
from imr_graph.records import Record

from .conftest import CORPUS, corpus_pdfs

CSV_FILE = CORPUS / "dmhc" / "Independent_Medical_Review__IMR__Determinations__Trend.csv"

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def letters() -> list[Path]:
    seeds = sorted((CORPUS / "seeds").glob("*")) if (CORPUS / "seeds").is_dir() else []
    return corpus_pdfs() + [p for p in seeds if p.suffix.lower() in (".pdf", ".txt", ".md")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphStore, list[Record],
                                                                         list[dict[str, str]]]]:
    paths = letters()
    if not paths or not CSV_FILE.is_file():
        pytest.skip("../shared/corpus (letters and DMHC table) is absent")
    records = [parse_file(p) for p in paths]
    with CSV_FILE.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    with GraphStore(tmp_path_factory.mktemp("recount") / "store") as gs:
        assert all(r.ok for r in ingest(gs, paths))
        assert ingest_dmhc(gs, CSV_FILE).errors == []
        yield gs, records, rows


def run(gs: GraphStore, name: str, **params: str) -> list[dict[str, Any]]:
    result = run_query(gs, canned_queries()[name], params)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    out = []
    for sol in result:
        row: dict[str, Any] = {}
        for n in names:
            t = sol[n]
            if isinstance(t, ox.Literal) and t.datatype.value.endswith(("#integer", "#long")):
                row[n] = int(t.value)
            elif isinstance(t, ox.Literal) and t.datatype.value.endswith(("#decimal", "#double")):
                row[n] = float(t.value)
            else:
                row[n] = None if t is None else t.value
        out.append(row)
    return out


def by(rows: list[dict[str, Any]], key: str, *cols: str) -> dict[Any, tuple[Any, ...]]:
    return {r[key]: tuple(r[c] for c in cols) for r in rows}


def over(items: list[Any]) -> int:
    return sum(i.outcome == "Overturned" for i in items)


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def check_rates(rows: list[dict[str, Any]], prefix: str = "", count: str = "items") -> None:
    for r in rows:
        n, k = r[prefix + count], r[prefix + "overturned"]
        if not n:
            assert r[prefix + "rate"] is None
            continue
        low, high = wilson(k, n)
        assert r[prefix + "rate"] == pytest.approx(round(k / n, 3), abs=1e-9)
        assert (r[prefix + "ci_low"], r[prefix + "ci_high"]) == pytest.approx(
            (round(low, 3), round(high, 3)), abs=1e-9)


def test_summary_per_system(corpus: Any) -> None:
    gs, records, rows = corpus
    items = [i for r in records for i in r.items]
    got = {r["system"]: r for r in run(gs, "summary")}
    partial = sum(i.original_request is not None or i.authorized is not None for i in items)
    assert (got["dwc"]["cases"], got["dwc"]["items"], got["dwc"]["overturned"],
            got["dwc"]["upheld"], got["dwc"]["partial"]) == (
        len(records), len(items), over(items), len(items) - over(items), partial)
    dets = Counter(r["Determination"] for r in rows)
    assert (got["dmhc"]["cases"], got["dmhc"]["items"], got["dmhc"]["overturned"]) == (
        len(rows), len(rows), dets["Overturned Decision of Health Plan"])
    check_rates(list(got.values()))


def test_month_year_and_days(corpus: Any) -> None:
    gs, records, rows = corpus
    month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    days: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    wc_year: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in records:
        if r.decision_date:
            d = dt.date.fromisoformat(r.decision_date)
            for acc in (month[r.decision_date[:7]], wc_year[d.year]):
                acc[0] += len(r.items)
                acc[1] += over(r.items)
            if r.ur_denial_date:
                n = (d - dt.date.fromisoformat(r.ur_denial_date)).days
                days[n][0] += 1
                days[n][1] += len(r.items)
                days[n][2] += over(r.items)
    got = run(gs, "overturn-rate-by-month")
    assert by(got, "month", "items", "overturned") == {k: tuple(v) for k, v in month.items()}
    check_rates(got)
    got = run(gs, "days-to-decision")
    assert by(got, "days", "cases", "items", "overturned") == {k: tuple(v) for k, v in days.items()}
    check_rates(got)
    hp_year: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        hp_year[int(row["Report Year"])][0] += 1
        hp_year[int(row["Report Year"])][1] += row["Determination"].startswith("Overturned")
    got = run(gs, "overturn-trend-by-year-per-system")
    assert {r["year"]: (r["wc_items"], r["wc_overturned"]) for r in got if r["wc_items"]} == {
        k: tuple(v) for k, v in wc_year.items()}
    assert {r["year"]: (r["hp_items"], r["hp_overturned"]) for r in got if r["hp_items"]} == {
        k: tuple(v) for k, v in hp_year.items()}
    check_rates(got, "wc_")
    check_rates(got, "hp_")


def test_reviewer_specialty_and_state(corpus: Any) -> None:
    gs, records, _ = corpus
    for query, field, attr in (("overturn-rate-by-specialty", "specialty", "specialties"),
                               ("overturn-rate-by-state", "state", "licensure")):
        want: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in records:
            for value in {norm(v) for v in getattr(r.reviewer, attr)}:
                want[value][0] += len(r.items)
                want[value][1] += over(r.items)
        got = run(gs, query)
        assert {norm(r[field]): (r["items"], r["overturned"]) for r in got} == {
            k: tuple(v) for k, v in want.items()}, query
        check_rates(got)


def test_guideline_family_and_literature(corpus: Any) -> None:
    gs, records, _ = corpus
    fam: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    lit: Counter[tuple[str, int | None]] = Counter()
    for r in records:
        for i in r.items:
            g = i.reviewer_guideline
            for f in {c.family for c in g.citations} if g else set():
                fam[f][0] += 1
                fam[f][1] += i.outcome == "Overturned"
            for a in {(x.author, x.year) for x in i.rationale_references if x.kind == "literature"}:
                lit[a] += 1  # type: ignore[index]
    got = run(gs, "overturn-rate-by-guideline-family")
    assert by(got, "family", "items", "overturned") == {k: tuple(v) for k, v in fam.items()}
    check_rates(got)
    got = run(gs, "literature-cited")  # the 30 most cited
    assert len(got) == min(30, len(lit))
    for r in got:
        assert r["items"] == lit[(r["author"], r["year"])]


def test_services_and_partials(corpus: Any) -> None:
    gs, records, _ = corpus
    svc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    partial = []
    for r in records:
        for i in r.items:
            concept = i.service.concept if i.service else None  # one node per concept
            svc[concept][0] += 1
            svc[concept][1] += i.outcome == "Overturned"
            if i.original_request is not None or i.authorized is not None:
                partial.append((r.case_key, i.outcome))
    got = run(gs, "overturn-rate-by-service")
    assert {r["concept"]: (r["items"], r["overturned"]) for r in got} == {
        k: tuple(v) for k, v in svc.items()}
    check_rates(got)
    top = run(gs, "most-disputed-services")
    for r in top:
        assert (r["items"], r["overturned"]) == tuple(svc[r["concept"]])
    assert [r["items"] for r in top] == sorted((v[0] for v in svc.values()), reverse=True)[:20]
    got = run(gs, "partial-authorizations")
    assert Counter((r["case"], r["outcome"]) for r in got) == Counter(partial)


def test_case_items_quote_the_decision_sentence(corpus: Any) -> None:
    gs, records, _ = corpus
    for r in records[:40]:
        got = run(gs, "case-items", case=r.case_key.lower())
        assert [(x["index"], x["outcome"]) for x in got] == [
            (i.index, i.outcome) for i in r.items]
        for x, i in zip(got, r.items, strict=True):
            # The request and its outcome (a partial authorization's sentence also names
            # the original request and what was authorized), never the rationale.
            words = len(i.request) + len(i.original_request or "") + len(i.authorized or "")
            assert x["quote"].endswith(i.outcome) and len(x["quote"]) <= words + 200
            assert not i.rationale or i.rationale not in " ".join(x["quote"].split())


def test_dmhc_queries(corpus: Any) -> None:
    gs, _, rows = corpus
    year: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        o = row["Determination"].startswith("Overturned")
        y = year[int(row["Report Year"])]
        y[0] += 1
        y[1] += not o
        y[2] += o
        c = cat[(row["Treatment Category"] or "(none)").strip().lower()]
        c[0] += 1
        c[1] += o
    got = run(gs, "dmhc-overturn-by-year")
    assert by(got, "year", "cases", "upheld", "overturned") == {k: tuple(v) for k, v in year.items()}
    check_rates(got, count="cases")
    urgent = run(gs, "dmhc-overturn-by-year", review_type="urgent-care")
    assert sum(r["cases"] for r in urgent) == sum(row["Type"] == "Urgent Care" for row in rows)
    got = run(gs, "dmhc-overturn-by-treatment-category")
    assert {r["treatment"].lower(): (r["cases"], r["overturned"]) for r in got} == {
        k: tuple(v) for k, v in cat.items()}
    check_rates(got, count="cases")
    mapped = {r["treatment"] for r in got if r["comparable"]}
    assert len(mapped) >= 25  # one unmapped item no longer blanks a category's list


def test_every_rate_query_has_its_interval(corpus: Any) -> None:
    gs, _, _ = corpus
    for name, q in canned_queries().items():
        if any(p.default is None for p in q.params):
            continue
        result = run(gs, name)
        if result and "rate" in result[0]:
            count = "items" if "items" in result[0] else "cases"
            check_rates(result, count=count)
