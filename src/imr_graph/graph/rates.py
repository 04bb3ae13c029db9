"""Rates with their evidence: every overturn rate comes with its counts and a 95% interval.

A rate computed from one item reads 0% or 100%; what it can say is only as good as the
number of items behind it. So any SELECT result that has a count column and an
``overturned`` column gets, from the query library (:func:`imr_graph.graph.queries.run_query`),
whatever the query's own SPARQL says about rates:

* ``rate``: overturned / items rounded to 3 places (replacing a ``rate`` column the query
  computed itself, so every query rounds the same way);
* ``ci_low``, ``ci_high``: the Wilson score interval at 95% (z = 1.96), rounded to 3 places.

The count is the ``items`` column, else ``cases`` (the DMHC queries: one item per case).
Side-by-side columns of two systems follow the same rule with a prefix: ``wc_items`` and
``wc_overturned`` give ``wc_rate``, ``wc_ci_low``, ``wc_ci_high``. The three columns are
placed right after the ``overturned`` column; a row whose count is 0 or unbound leaves them
unbound.

``--param min_items=N`` works on every such result (see :func:`min_items_filter`): a query
that declares ``min_items`` itself binds it in SPARQL; for the others the rows whose count is
below N are left out here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode

Term = NamedNode | Literal | BlankNode

Z95 = 1.959963984540054
"""The 97.5th percentile of the standard normal distribution (two-sided 95%)."""

DENOMINATORS = ("items", "cases")
"""Count columns a rate is taken over, in order of preference."""

_DECIMAL = NamedNode("http://www.w3.org/2001/XMLSchema#decimal")


def wilson(overturned: int, items: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``overturned`` successes in ``items`` trials."""
    if items <= 0:
        raise ValueError("the interval of a rate needs at least one item")
    if not 0 <= overturned <= items:
        raise ValueError(f"{overturned} overturned of {items} items is not a proportion")
    p = overturned / items
    z2 = z * z
    centre = (p + z2 / (2 * items)) / (1 + z2 / items)
    half = z / (1 + z2 / items) * math.sqrt(p * (1 - p) / items + z2 / (4 * items * items))
    low = 0.0 if overturned == 0 else min(p, centre - half)
    high = 1.0 if overturned == items else max(p, centre + half)
    return max(0.0, low), min(1.0, high)


def round3(value: float) -> str:
    """``value`` with 3 decimal places, as the lexical form of an ``xsd:decimal``."""
    return f"{value:.3f}"


@dataclass(frozen=True)
class RateGroup:
    """One rate a result carries: its column prefix and the columns it is computed from."""

    prefix: str
    count: str
    overturned: str

    @property
    def added(self) -> tuple[str, str, str]:
        """The names of the columns this group adds (or fills): rate, ci_low, ci_high."""
        return (f"{self.prefix}rate", f"{self.prefix}ci_low", f"{self.prefix}ci_high")


def rate_groups(columns: Sequence[str]) -> list[RateGroup]:
    """The rates a result with these columns carries (none when it has no counts)."""
    groups = []
    for col in columns:
        if not col.endswith("overturned"):
            continue
        prefix = col[: -len("overturned")]
        count = next((prefix + d for d in DENOMINATORS if prefix + d in columns), None)
        if count is not None:
            groups.append(RateGroup(prefix, count, col))
    return groups


def _int(term: Term | None) -> int | None:
    if not isinstance(term, Literal):
        return None
    try:
        return int(float(term.value))
    except ValueError:
        return None


def add_rates(
    columns: list[str], rows: list[list[Term | None]]
) -> tuple[list[str], list[list[Term | None]]]:
    """``columns`` and ``rows`` with each group's rate and 95% interval (see the module)."""
    groups = rate_groups(columns)
    if not groups:
        return columns, rows
    added = {name for g in groups for name in g.added}
    out_cols: list[str] = []
    for col in columns:
        if col in added:
            continue
        out_cols.append(col)
        out_cols.extend(name for g in groups if g.overturned == col for name in g.added)
    index = {c: i for i, c in enumerate(columns)}
    out_rows = []
    for row in rows:
        values: dict[str, Term | None] = {c: row[i] for c, i in index.items()}
        for g in groups:
            n, k = _int(values.get(g.count)), _int(values.get(g.overturned))
            if n and n > 0 and k is not None and 0 <= k <= n:
                low, high = wilson(k, n)
                values.update(zip(g.added, (Literal(round3(v), datatype=_DECIMAL)
                                            for v in (k / n, low, high)), strict=True))
            else:
                values.update(dict.fromkeys(g.added))
        out_rows.append([values.get(c) for c in out_cols])
    return out_cols, out_rows


def min_items_filter(
    columns: list[str], rows: list[list[Term | None]], least: int, query: str
) -> list[list[Term | None]]:
    """The rows whose count (``items``, else ``cases``, else the sum of the ``*_items``
    columns) is at least ``least``; a ValueError names the query when it has no count."""
    if (count := next((c for c in DENOMINATORS if c in columns), None)) is not None:
        picks = [columns.index(count)]
    else:
        picks = [i for i, c in enumerate(columns) if c.endswith("_items")]
    if not picks:
        raise ValueError(f"{query}: min_items needs a result with an items or cases column "
                         f"(its columns: {', '.join(columns) or 'none'})")
    return [r for r in rows if sum(_int(r[i]) or 0 for i in picks) >= least]
