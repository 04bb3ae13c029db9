"""The visual report: one offline HTML page of charts made from the canned queries.

:func:`report_data` runs the canned queries (``queries/*.rq``, through
:mod:`imr_graph.graph.queries`) on a store and returns plain rows; :func:`report_html` draws them
as inline SVG bar charts (no JavaScript, nothing loaded from the network):

* headline cards per system, never mixed: the workers' compensation letters (DWC) and,
  when the store holds them, the health-plan decisions (DMHC open data);
* for the letters: overturn rate by service category, by guideline family, by guideline
  section, by reviewer specialty and by decision month (stacked bars: overturned / upheld),
  the most disputed services, partial authorizations (counts by outcome and a table);
* for DMHC (when loaded): overturn rate by report year and by treatment category.

Every row carries its rate's Wilson 95% interval (added by the query library,
:mod:`imr_graph.graph.rates`); each chart draws it beside the bars as a dot (the rate) on a line
(the interval) over a 0–100% axis.

:func:`write_report` writes ``index.html`` into a directory.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ..errors import StoreError
from .export import OUTCOME_COLOURS, literal_value

if TYPE_CHECKING:
    from ..graph.store import GraphStore

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
    count: str = "items"
    """The column the bars count (``cases`` for the DMHC queries: one item per case)."""


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

DMHC_CHARTS: tuple[Chart, ...] = (
    Chart("dmhc-year", "dmhc-overturn-by-year", "Health-plan decisions by report year",
          "year", "DMHC open data: one decision per case.", count="cases"),
    Chart("dmhc-treatment", "dmhc-overturn-by-treatment-category",
          "Health-plan overturn rate by treatment category", "treatment",
          "The data set's own treatment categories.", top=25, count="cases"),
)
"""Drawn only when the store holds DMHC cases."""

SUMMARY_QUERY = "summary"
PARTIAL_QUERY = "partial-authorizations"
SYSTEMS = {"dwc": "Workers' compensation letters (DWC IMR)",
           "dmhc": "Health plans (DMHC IMR open data)"}


def _value(term: Any) -> Any:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return literal_value(term)
    return term.value


def run_rows(store: GraphStore, name: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The rows of a canned SELECT query as dicts of Python values (None when unbound)."""
    from ..graph.queries import resolve_query, run_query

    result = run_query(store, resolve_query(name), params or {})
    if not isinstance(result, ox.QuerySolutions):
        raise StoreError(f"canned query {name} is not a SELECT query")
    names = [v.value for v in result.variables]
    return [{n: _value(sol[n]) for n in names} for sol in result]


def report_data(store: GraphStore) -> dict[str, Any]:
    """Everything the report shows: ``summary`` (the letters' row of the ``summary`` query),
    ``dmhc_summary`` (DMHC's, empty when none is loaded), one row list per chart key,
    ``partial``."""
    data: dict[str, Any] = {}
    systems = {r["system"]: r for r in run_rows(store, SUMMARY_QUERY)}
    data["summary"] = systems.get("dwc", {})
    data["dmhc_summary"] = systems.get("dmhc", {})
    for chart in CHARTS:
        data[chart.key] = run_rows(store, chart.query, dict(chart.params))
    data["partial"] = run_rows(store, PARTIAL_QUERY)
    if data["dmhc_summary"]:
        for chart in DMHC_CHARTS:
            data[chart.key] = run_rows(store, chart.query, dict(chart.params))
    return data


# ---------------------------------------------------------------------------------------------
# Drawing


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _ci_text(r: dict[str, Any]) -> str:
    """The 95% interval of a row as text (empty when the row has none)."""
    low, high = r.get("ci_low"), r.get("ci_high")
    if low is None or high is None:
        return ""
    return f"95% CI {100 * float(low):.0f}–{100 * float(high):.0f}%"


CI_W = 180
"""Width of the interval panel beside a chart (a 0–100% axis)."""


def _interval_axis(x0: float, y: float, length: float, *, vertical: bool = False) -> str:
    """The 0 / 50 / 100% axis of an interval panel, with faint grid lines."""
    out = []
    for frac, tick in ((0.0, "0%"), (0.5, "50%"), (1.0, "100%")):
        if vertical:
            yy = y - frac * length
            out.append(f'<text class="axis" x="{x0 - 4:.1f}" y="{yy + 4:.1f}" '
                       f'text-anchor="end">{tick}</text>')
        else:
            xx = x0 + frac * length
            out.append(f'<text class="axis" x="{xx:.1f}" y="{y:.1f}" '
                       f'text-anchor="middle">{tick}</text>')
    return "".join(out)


def _interval(r: dict[str, Any], at: float, lo_px: float, span: float, *,
              vertical: bool = False) -> str:
    """A row's rate as a dot on a line from ci_low to ci_high (``lo_px`` is 0%, ``span``
    pixels 100%; ``at`` the row's position across the axis)."""
    if r.get("rate") is None or r.get("ci_low") is None or r.get("ci_high") is None:
        return ""
    rate, low, high = (float(r[k]) for k in ("rate", "ci_low", "ci_high"))
    pos = (lambda v: lo_px - span * v) if vertical else (lambda v: lo_px + span * v)
    if vertical:
        line = (f'<line class="ci" x1="{at:.1f}" x2="{at:.1f}" y1="{pos(low):.1f}" '
                f'y2="{pos(high):.1f}" stroke="#333" stroke-width="2"/>')
        dot = f'<circle class="rate" cx="{at:.1f}" cy="{pos(rate):.1f}" r="3.5" fill="#111"/>'
    else:
        line = (f'<line class="ci" x1="{pos(low):.1f}" x2="{pos(high):.1f}" y1="{at:.1f}" '
                f'y2="{at:.1f}" stroke="#333" stroke-width="2"/>')
        dot = f'<circle class="rate" cx="{pos(rate):.1f}" cy="{at:.1f}" r="3.5" fill="#111"/>'
    return line + dot


def bar_chart(rows: list[dict[str, Any]], label: str, top: int, count: str = "items") -> str:
    """Horizontal stacked bars (overturned, upheld) per row with its count and rate, and
    beside them the rate with its 95% interval on a 0–100% axis."""
    rows = [r for r in rows if r.get(count)][:top]
    if not rows:
        return '<p class="empty">No data.</p>'
    biggest = max(int(r[count]) for r in rows)
    left, width, row_h, right, head = 290, 330, 22, 150, 18
    ci_x = left + width + right + 10
    total_w = ci_x + CI_W + 20
    height = head + row_h * len(rows) + 8
    out = [
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{total_w}" '
        f'height="{height}" viewBox="0 0 {total_w} {height}" role="img">',
        f'<rect class="ci-panel" x="{ci_x}" y="{head}" width="{CI_W}" '
        f'height="{row_h * len(rows) + 4}" fill="#f6f6f6"/>',
        f'<line x1="{ci_x + CI_W / 2}" x2="{ci_x + CI_W / 2}" y1="{head}" '
        f'y2="{height - 4}" stroke="#ddd"/>',
        _interval_axis(ci_x, head - 5, CI_W),
    ]
    for i, r in enumerate(rows):
        items = int(r[count])
        over = int(r.get("overturned") or 0)
        up = int(r["upheld"]) if r.get("upheld") is not None else items - over
        y = head + 4 + i * row_h
        name = str(r.get(label) or "(none)")
        w_over = width * over / biggest
        w_up = width * up / biggest
        ci = _ci_text(r)
        tip = f"{name}: {items} {count}, {over} overturned ({_pct(over, items)}; {ci})"
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
            f"{items} · {_pct(over, items)} overturned</text>"
        )
        out.append(_interval(r, y + row_h / 2, ci_x, CI_W) + "</g>")
    out.append("</svg>")
    return "".join(out)


def column_chart(rows: list[dict[str, Any]], label: str, count: str = "items") -> str:
    """Vertical stacked columns (overturned, upheld) per row, e.g. per month, and below
    them each column's rate with its 95% interval on a 0–100% axis."""
    rows = [r for r in rows if r.get(count)]
    if not rows:
        return '<p class="empty">No data.</p>'
    biggest = max(int(r[count]) for r in rows)
    col_w = max(18, min(60, 760 // len(rows)))
    plot_h, top_pad, bottom, band = 200, 24, 52, 110
    left = 40
    width = left + col_w * len(rows) + 20
    height = plot_h + top_pad + bottom + band
    band_base = plot_h + top_pad + bottom + band - 10
    band_h = band - 24
    out = [
        f'<svg class="columns" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f'<rect class="ci-panel" x="{left}" y="{band_base - band_h}" '
        f'width="{col_w * len(rows)}" height="{band_h}" fill="#f6f6f6"/>',
        _interval_axis(left, band_base, band_h, vertical=True),
    ]
    for i, r in enumerate(rows):
        items = int(r[count])
        over = int(r.get("overturned") or 0)
        x = left + i * col_w
        h_all = plot_h * items / biggest
        h_over = plot_h * over / biggest
        base = top_pad + plot_h
        name = str(r.get(label))
        tip = (f"{name}: {items} {count}, {over} overturned ({_pct(over, items)}; "
               f"{_ci_text(r)})")
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
            f'rotate(40)">{_e(name)}</text>'
        )
        out.append(_interval(r, x + col_w / 2, band_base, band_h, vertical=True) + "</g>")
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
svg text { font-size: 12px; fill: #333; } svg .value, svg .axis { fill: #555; }
svg .axis { font-size: 10px; }
h2.system { font-size: 19px; margin-top: 36px; border-bottom: 2px solid #333; }
figure { margin: 0; overflow-x: auto; }
table.partial { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
table.partial th, table.partial td { border-bottom: 1px solid #eee; padding: 4px 6px;
                                     text-align: left; vertical-align: top; }
td.upheld { color: #d62728; } td.overturned { color: #2ca02c; }
"""


def _cards(system: str, s: dict[str, Any]) -> str:
    """The headline cards of one system (its row of the ``summary`` query)."""
    items, over = int(s.get("items") or 0), int(s.get("overturned") or 0)
    rate = _pct(over, items)
    if s.get("ci_low") is not None:
        rate += f" ({_ci_text(s)})"
    pairs = [("cases", s.get("cases", 0)), ("disputed items", items),
             ("upheld", s.get("upheld", 0)), ("overturned", over), ("overturn rate", rate)]
    if system == "dwc":
        pairs.append(("partial authorizations", s.get("partial", 0)))
    cards = "".join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in pairs)
    return (f'<section class="system" id="system-{system}"><h2 class="system">'
            f'{_e(SYSTEMS[system])}</h2><div class="cards">{cards}</div></section>')


def _chart_section(chart: Chart, data: dict[str, Any]) -> str:
    """One chart with its title and note."""
    rows = data.get(chart.key) or []
    columns = chart.key in ("month", "dmhc-year")
    drawing = (column_chart(rows, chart.label, chart.count) if columns
               else bar_chart(rows, chart.label, chart.top, chart.count))
    shown = len(rows) if columns else min(len(rows), chart.top)
    more = f" Showing {shown} of {len(rows)}." if len(rows) > shown else ""
    return (
        f'<section><h2>{_e(chart.title)}</h2><p class="note">{_e(chart.note)}{more} '
        f"Query: <code>{_e(chart.query)}</code>.</p>"
        f'<figure class="chart" id="{chart.key}" data-query="{chart.query}" '
        f'data-rows="{len(rows)}">{drawing}</figure></section>'
    )


def report_html(data: dict[str, Any], title: str = "IMR decisions: a visual report",
                source: str = "") -> str:
    """The complete report page (self-contained: inline CSS and SVG, no scripts).

    The letters (DWC) and the health-plan data (DMHC) are reported apart: each has its own
    headline cards and charts; the DMHC part appears only when ``data`` has its summary.
    """
    sections = [_cards("dwc", data.get("summary") or {})]
    sections += [_chart_section(chart, data) for chart in CHARTS]
    partial = data.get("partial") or []
    sections.append(
        f"<section><h2>Partial authorizations</h2><p class=\"note\">Items where utilization "
        f"review authorized part of the request; query <code>{PARTIAL_QUERY}</code>.</p>"
        f'<figure class="chart" id="partial" data-query="{PARTIAL_QUERY}" '
        f'data-rows="{len(partial)}">{_partial_section(partial)}</figure></section>'
    )
    if data.get("dmhc_summary"):
        sections.append(_cards("dmhc", data["dmhc_summary"]))
        sections += [_chart_section(chart, data) for chart in DMHC_CHARTS]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    legend = (
        f'<p class="legend">Bars:<span style="background:{OVERTURNED}"></span>overturned'
        f'<span style="background:{UPHELD}"></span>upheld; beside them the overturn rate '
        f'(dot) and its 95% interval (line, Wilson) on a 0–100% axis. A rate over few items '
        f'has a wide interval: read it as such.</p>'
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
{legend}
{"".join(sections)}
</body>
</html>
"""


def write_report(store: GraphStore, out_dir: str | Path, *, title: str | None = None) -> Path:
    """Run the report queries on ``store`` and write ``out_dir/index.html``; returns its path."""
    data = report_data(store)
    from ..outputs import write_file

    page = report_html(data, title or "IMR decisions: a visual report", str(store.path))
    return write_file(Path(out_dir) / "index.html", page)
