"""Rates with their evidence: the Wilson interval, the columns the query library adds to
every result with counts, and ``min_items`` on every such query."""

from __future__ import annotations

import csv
import io
import math

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imr_graph.errors import QueryError
from imr_graph.graph.queries import (
    canned_queries,
    format_result,
    parse_header,
    resolve_query,
    run_query,
)
from imr_graph.graph.rates import add_rates, rate_groups, wilson
from imr_graph.graph.store import GraphStore

XSD = "http://www.w3.org/2001/XMLSchema#"


def num(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def table(store: GraphStore, name: str, **params: str) -> list[dict[str, str]]:
    result = run_query(store, resolve_query(name), params)
    return list(csv.DictReader(io.StringIO(format_result(result, "csv").decode())))


def test_wilson_known_values() -> None:
    # Values from the closed form (Wilson 1927; e.g. Newcombe 1998, table I).
    assert wilson(0, 1) == pytest.approx((0.0, 0.7935), abs=1e-4)
    assert wilson(1, 1) == pytest.approx((0.2065, 1.0), abs=1e-4)
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)
    with pytest.raises(ValueError):
        wilson(0, 0)
    with pytest.raises(ValueError):
        wilson(3, 2)


@given(st.integers(1, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_brackets_the_rate(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert high - low <= 2 * 1.96 * math.sqrt(0.25 / n) + 1e-9  # never wider than Wald's worst


def test_columns_placed_after_overturned_and_old_rate_replaced() -> None:
    cols = ["service", "items", "overturned", "rate", "min_items"]
    rows = [[ox.Literal("a"), num(3), num(1), ox.Literal("0.333333333333333333"), num(1)],
            [ox.Literal("b"), num(0), num(0), None, num(1)]]
    out_cols, out_rows = add_rates(cols, rows)
    assert out_cols == ["service", "items", "overturned", "rate", "ci_low", "ci_high",
                        "min_items"]
    assert [t.value for t in out_rows[0][3:6]] == ["0.333", "0.061", "0.792"]
    assert out_rows[1][3:6] == [None, None, None]  # no items: no rate


def test_prefixed_groups_and_cases_as_count() -> None:
    assert [(g.prefix, g.count) for g in rate_groups(
        ["category", "wc_items", "wc_overturned", "wc_rate", "hp_items", "hp_overturned"])] == [
        ("wc_", "wc_items"), ("hp_", "hp_items")]
    assert [(g.count, g.overturned) for g in rate_groups(["year", "cases", "overturned"])] == [
        ("cases", "overturned")]
    assert rate_groups(["other", "upheld", "overturned"]) == []  # no count: no rate


def test_every_rate_query_returns_counts_rate_and_interval() -> None:
    """Every canned query that reports a rate has the counts the interval is made from."""
    for name, q in canned_queries().items():
        body = "\n".join(line for line in q.text.splitlines()
                         if not line.lstrip().startswith("#"))  # the header's prose aside
        head = body.split("WHERE", 1)[0]
        if "rate" not in head:
            continue
        m = [v for v in ("?items", "?cases", "?wc_items") if v in head]
        assert m and "overturned" in head, f"{name}: a rate without its counts"


def test_rates_are_rounded_with_intervals(handmade: GraphStore) -> None:
    # The query computes SUM/SUM (18 digits); the library rounds and adds the interval.
    for row in table(handmade, "overturn-rate-by-service-category"):
        items, over = int(row["items"]), int(row["overturned"])
        assert float(row["rate"]) == pytest.approx(round(over / items, 3))
        assert len(row["rate"].partition(".")[2]) <= 3
        low, high = wilson(over, items)
        assert (float(row["ci_low"]), float(row["ci_high"])) == pytest.approx(
            (round(low, 3), round(high, 3)))


def test_per_system_query_gets_both_intervals(handmade: GraphStore) -> None:
    rows = table(handmade, "overturn-trend-by-year-per-system")
    assert rows and {"wc_rate", "wc_ci_low", "wc_ci_high", "hp_rate", "hp_ci_low",
                     "hp_ci_high"} <= set(rows[0])
    for row in rows:
        assert row["hp_items"] == "0" and row["hp_rate"] == ""  # no DMHC: no rate, no interval
        assert float(row["wc_ci_low"]) <= float(row["wc_rate"]) <= float(row["wc_ci_high"])


def test_min_items_on_every_query_with_counts(handmade: GraphStore) -> None:
    # overturn-rate-by-specialty does not declare min_items: the library filters.
    every = table(handmade, "overturn-rate-by-specialty")
    some = table(handmade, "overturn-rate-by-specialty", min_items="2")
    assert some == [r for r in every if int(r["items"]) >= 2] and 0 < len(some) < len(every)
    # A query that declares it still binds it in SPARQL (same rows either way).
    drop = lambda rows: [{k: v for k, v in r.items() if k != "min_items"} for r in rows]  # noqa: E731
    assert drop(table(handmade, "overturn-rate-by-service", min_items="2")) == drop(
        [r for r in table(handmade, "overturn-rate-by-service") if int(r["items"]) >= 2])
    with pytest.raises(QueryError, match="items or cases column"):
        run_query(handmade, resolve_query("partial-authorizations"), {"min_items": "2"})
    with pytest.raises(QueryError, match="whole number"):
        run_query(handmade, resolve_query("overturn-rate-by-month"), {"min_items": "two"})
    inline = parse_header("SELECT ?x (1 AS ?items) WHERE { VALUES ?x { 1 2 } }")
    assert len(list(run_query(handmade, inline, {"min_items": "2"}))) == 0  # type: ignore[arg-type]


def test_a_result_without_counts_stays_lazy(handmade: GraphStore) -> None:
    q = parse_header("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")
    result = run_query(handmade, q)
    assert isinstance(result, ox.QuerySolutions) and len(list(result)) == 3
