"""The visual report: one offline HTML page of charts made from the canned queries.

:func:`report_data` runs the canned queries (``queries/*.rq``, through
:mod:`imr_graph.queries`) on a store and returns plain rows; :func:`report_html` draws them
as inline SVG bar charts (no JavaScript, nothing loaded from the network):

* overturn rate by service category, by guideline family, by guideline section, by reviewer
  specialty and by decision month (stacked bars: overturned / upheld, with the rate);
* the most disputed services;
* partial authorizations (counts by outcome and a table of what was requested and cut).

:func:`write_report` writes ``index.html`` into a directory.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from .errors import StoreError
from .export import OUTCOME_COLOURS, literal_value

if TYPE_CHECKING:
    from .store import GraphStore

UPHELD, OVERTURNED = OUTCOME_COLOURS["Upheld"], OUTCOME_COLOURS["Overturned"]


@dataclass(frozen=True)
class Chart:
    """One chart of the report: which canned query, which column labels the bars."""

    key: str
    query: str
    title: str
    label: str
    note: str = ""
    top: int = 25
    params: tuple[tuple[str, str], ...] = ()


CHARTS: tuple[Chart, ...] = (
    Chart("service-category", "overturn-rate-by-service-category",
          "Overturn rate by service category", "category",
          "Category from the request wording when the graph has none (see the query)."),
    Chart("guideline-family", "overturn-rate-by-guideline-family",
          "Overturn rate by guideline family the reviewer relied on", "family",
          "An item citing two families counts for both."),
    Chart("section", "overturn-rate-by-section",
          "Overturn rate by guideline section the reviewer cited", "section",
          "Most cited sections first.", top=20),
    Chart("specialty", "overturn-rate-by-specialty",
          "Overturn rate by reviewer specialty", "specialty",
          "A reviewer with two specialties counts for both.", top=20),
    Chart("month", "overturn-rate-by-month", "Decisions by month", "month"),
    Chart("services", "most-disputed-services", "Most disputed services",
          "service", "Services with the most disputed items.", top=20),
)

SUMMARY_QUERY = "summary"
PARTIAL_QUERY = "partial-authorizations"


def _value(term: Any) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return literal_value(term)
    return term.value


def run_rows(store: GraphStore, name: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of a canned SELECT query as dicts of Python values (None when unbound)."""
    from .queries import resolve_query, run_query

    result = run_query(store, resolve_query(name), params or {})
    if not isinstance(result, ox.QuerySolutions):
        raise StoreError(f"canned query {name} is not a SELECT query")
    names = [v.value for v in result.variables]
    return [{n: _value(sol[n]) for n in names} for sol in result]


def report_data(store: GraphStore) -> dict[str, Any]:
    """Everything the report shows: ``summary``, one row list per chart key, ``partial``."""
    data: dict[str, Any] = {}
    summary = run_rows(store, SUMMARY_QUERY)
    data["summary"] = summary[0] if summary else {}
    for chart in CHARTS:
        data[chart.key] = run_rows(store, chart.query, dict(chart.params))
    data["partial"] = run_rows(store, PARTIAL_QUERY)
    return data


# ---------------------------------------------------------------------------------------------
# Drawing


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def bar_chart(rows: list[dict[str, Any]], label: str, top: int) -> str:
    """Horizontal stacked bars (overturned, upheld) per row, with item count and rate."""
    rows = [r for r in rows if r.get("items")][:top]
    if not rows:
        return '<p class="empty">No data.</p>'
    biggest = max(int(r["items"]) for r in rows)
    left, width, row_h, right = 290, 380, 22, 170
    height = row_h * len(rows) + 8
    out = [
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{left + width + right}" '
        f'height="{height}" viewBox="0 0 {left + width + right} {height}" role="img">'
    ]
    for i, r in enumerate(rows):
        items = int(r["items"])
        over = int(r.get("overturned") or 0)
        up = int(r["upheld"]) if r.get("upheld") is not None else items - over
        y = 4 + i * row_h
        name = str(r.get(label) or "(none)")
        w_over = width * over / biggest
        w_up = width * up / biggest
        tip = f"{name}: {items} items, {over} overturned ({_pct(over, items)})"
        out.append(f'<g class="row"><title>{_e(tip)}</title>')
        out.append(
            f'<text class="name" x="{left - 8}" y="{y + 15}" text-anchor="end">'
            f"{_e(_short(name, 44))}</text>"
        )
        out.append(
            f'<rect class="bar overturned" x="{left}" y="{y + 3}" width="{w_over:.1f}" '
            f'height="{row_h - 6}" fill="{OVERTURNED}"/>'
        )
        out.append(
            f'<rect class="bar upheld" x="{left + w_over:.1f}" y="{y + 3}" width="{w_up:.1f}" '
            f'height="{row_h - 6}" fill="{UPHELD}"/>'
        )
        out.append(
            f'<text class="value" x="{left + w_over + w_up + 6:.1f}" y="{y + 15}">'
            f"{items} · {_pct(over, items)} overturned</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def column_chart(rows: list[dict[str, Any]], label: str) -> str:
    """Vertical stacked columns (overturned, upheld) per row, e.g. per month."""
    rows = [r for r in rows if r.get("items")]
    if not rows:
        return '<p class="empty">No data.</p>'
    biggest = max(int(r["items"]) for r in rows)
    col_w = max(18, min(60, 760 // len(rows)))
    plot_h, top_pad, bottom = 200, 24, 48
    width = col_w * len(rows) + 40
    height = plot_h + top_pad + bottom
    out = [
        f'<svg class="columns" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, r in enumerate(rows):
        items = int(r["items"])
        over = int(r.get("overturned") or 0)
        x = 20 + i * col_w
        h_all = plot_h * items / biggest
        h_over = plot_h * over / biggest
        base = top_pad + plot_h
        name = str(r.get(label))
        tip = f"{name}: {items} items, {over} overturned ({_pct(over, items)})"
        out.append(f'<g class="col"><title>{_e(tip)}</title>')
        out.append(
            f'<rect class="bar upheld" x="{x + 3}" y="{base - h_all:.1f}" width="{col_w - 6}" '
            f'height="{h_all - h_over:.1f}" fill="{UPHELD}"/>'
        )
        out.append(
            f'<rect class="bar overturned" x="{x + 3}" y="{base - h_over:.1f}" '
            f'width="{col_w - 6}" height="{h_over:.1f}" fill="{OVERTURNED}"/>'
        )
        out.append(
            f'<text class="value" x="{x + col_w / 2:.1f}" y="{base - h_all - 5:.1f}" '
            f'text-anchor="middle">{items}</text>'
        )
        out.append(
            f'<text class="name" transform="translate({x + col_w / 2:.1f},{base + 12}) '
            f'rotate(40)">{_e(name)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _partial_section(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">No partial authorizations.</p>'
    counts = {"Upheld": 0, "Overturned": 0}
    for r in rows:
        if r.get("outcome") in counts:
            counts[r["outcome"]] += 1
    summary = bar_chart(
        [{"outcome": "partial authorizations", "items": len(rows),
          "overturned": counts["Overturned"], "upheld": counts["Upheld"]}],
        "outcome", 1,
    )
    body = "".join(
        f"<tr><td>{_e(r.get('case'))}</td><td>{_e(r.get('original'))}</td>"
        f"<td>{_e(r.get('authorized'))}</td><td>{_e(r.get('disputed'))}</td>"
        f'<td class="{_e(str(r.get("outcome", "")).lower())}">{_e(r.get("outcome"))}</td></tr>'
        for r in rows
    )
    return (
        f"{summary}<table class='partial'><thead><tr><th>case</th><th>originally requested</th>"
        f"<th>authorized by UR</th><th>disputed at IMR</th><th>IMR outcome</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #222; max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
.meta, .note, .empty { color: #666; } .note { margin: 0 0 6px; font-size: 13px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px;
               vertical-align: -1px; }
svg text { font-size: 12px; fill: #333; } svg .value { fill: #555; }
figure { margin: 0; overflow-x: auto; }
table.partial { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
table.partial th, table.partial td { border-bottom: 1px solid #eee; padding: 4px 6px;
                                     text-align: left; vertical-align: top; }
td.upheld { color: #d62728; } td.overturned { color: #2ca02c; }
"""


def report_html(data: dict[str, Any], title: str = "IMR decisions: a visual report",
                source: str = "") -> str:
    """The complete report page (self-contained: inline CSS and SVG, no scripts)."""
    s = data.get("summary") or {}
    items, over = int(s.get("items") or 0), int(s.get("overturned") or 0)
    cards = "".join(
        f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>'
        for k, v in (
            ("cases", s.get("cases", 0)),
            ("disputed items", items),
            ("upheld", s.get("upheld", 0)),
            ("overturned", over),
            ("overturn rate", _pct(over, items)),
            ("partial authorizations", s.get("partial", 0)),
        )
    )
    sections = []
    for chart in CHARTS:
        rows = data.get(chart.key) or []
        drawing = column_chart(rows, chart.label) if chart.key == "month" else bar_chart(
            rows, chart.label, chart.top
        )
        shown = min(len(rows), chart.top)
        more = f" Showing {shown} of {len(rows)}." if len(rows) > chart.top else ""
        sections.append(
            f'<section><h2>{_e(chart.title)}</h2><p class="note">{_e(chart.note)}{more} '
            f"Query: <code>{_e(chart.query)}</code>.</p>"
            f'<figure class="chart" id="{chart.key}" data-query="{chart.query}" '
            f'data-rows="{len(rows)}">{drawing}</figure></section>'
        )
    partial = data.get("partial") or []
    sections.append(
        f"<section><h2>Partial authorizations</h2><p class=\"note\">Items where utilization "
        f"review authorized part of the request; query <code>{PARTIAL_QUERY}</code>.</p>"
        f'<figure class="chart" id="partial" data-query="{PARTIAL_QUERY}" '
        f'data-rows="{len(partial)}">{_partial_section(partial)}</figure></section>'
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    legend = (
        f'<p class="legend">Bars:<span style="background:{OVERTURNED}"></span>overturned'
        f'<span style="background:{UPHELD}"></span>upheld</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="imr-graph">
<title>{_e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{_e(title)}</h1>
<p class="meta">Made by imr-graph on {when}{(" from " + _e(source)) if source else ""}.</p>
<div class="cards">{cards}</div>
{legend}
{"".join(sections)}
</body>
</html>
"""


def write_report(store: GraphStore, out_dir: str | Path, *, title: str | None = None) -> Path:
    """Run the report queries on ``store`` and write ``out_dir/index.html``; returns its path."""
    data = report_data(store)
    from .outputs import write_file

    page = report_html(data, title or "IMR decisions: a visual report", str(store.path))
    return write_file(Path(out_dir) / "index.html", page)
