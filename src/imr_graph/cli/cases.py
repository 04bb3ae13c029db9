"""``imr-graph precedents|show|search``: the questions users bring, as readable answers."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from ..errors import ImrGraphError
from . import app, fail, warn
from .graph import _open
from .options import EndpointOpt, StoreOpt, System


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class PageFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


def render_rows(rows: list[dict[str, Any]], columns: list[str], fmt: str,
                width: int = 60, whole: tuple[str, ...] = ()) -> str:
    """``rows`` as a table (cells cut to ``width``, except the ``whole`` columns), CSV, a
    JSON array or Markdown."""
    if fmt == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    from ..graph.precedents import shorten

    cells = [[shorten(str(r.get(c, "")), width if fmt == "table" and c not in whole else 0)
              for c in columns] for r in rows]
    if fmt == "md":
        lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        lines += ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |"
                  for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines) + "\n"


def _note_first_index(gs: Any) -> None:
    """Say on stderr that the index beside a local store is built now (once: about 1.5 s
    per 1,000 letters), so a first question on a big store is not a silent wait."""
    from ..graph.textindex import can_index, index_path

    if can_index(gs) and not index_path(gs.path).exists():
        warn(f"building the index beside the store (once, for {gs.case_count()} cases): "
             f"{index_path(gs.path)}")


@app.command()
def precedents(
    service: Annotated[str, typer.Argument(help="A service concept id (imaging-mri/lumbar-"
                                           "spine) or words (\"lumbar MRI\", Norco).")],
    diagnosis: Annotated[
        list[str] | None, typer.Option("--diagnosis", "-d", help="A diagnosis phrase or "
                                       "ICD-10-CM code of the worker (repeatable).")
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Words of a guideline section label "
                                 "(e.g. opioids).", show_default=False)
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", help="Only decisions before this date "
                                 "(YYYY-MM-DD).", show_default=False)
    ] = None,
    least: Annotated[
        int, typer.Option("--least", min=1, help="Widen to the service's category, then "
                          "kind, while fewer decisions than this.")
    ] = 5,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows shown; 0 = all.")] = 20,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ListFormat.table
    ),
    store: StoreOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """Earlier IMR decisions on a service, ranked by closeness, with the overturn rate.

    Same service first (then its category, then its kind when there are fewer than
    --least); shared ICD-10-CM categories and the cited section raise a row; recency
    breaks ties. Each row says why it matched. Also `imr-graph query precedents`.
    """
    from ..graph.precedents import COLUMNS, find_precedents

    try:
        with _open(store, None, endpoint, read_only=True) as gs:
            _note_first_index(gs)
            found = find_precedents(gs, service, diagnoses=diagnosis, section=section,
                                    before=before, least=least, limit=limit)
    except ImrGraphError as exc:
        fail(exc)
    rows = found.rows
    summary = found.summary()
    if fmt is ListFormat.json:
        typer.echo(json.dumps({**summary, "rows": rows}, indent=1, ensure_ascii=False))
        return
    if fmt is ListFormat.csv:
        typer.echo(render_rows(rows, list(COLUMNS), "csv"), nl=False)
        return
    rate = found.rate()
    head = (f"{summary['service']} ({summary['scope']}): {found.items} decisions, "
            f"{found.overturned} overturned")
    if rate is not None:
        head += f", rate {rate[0]:.3f} (95% CI {rate[1]:.3f}-{rate[2]:.3f})"
    if found.categories:
        head += f"; ICD-10 {' '.join(found.categories)}"
    shown = ["case", "decided", "outcome", "request", "why", "sections"]
    if fmt is ListFormat.md:
        shown = [*shown, "quote", "letter"]
    typer.echo(head + "\n")
    typer.echo(render_rows(rows, shown, fmt.value), nl=False)
    if found.total > len(rows):
        typer.echo(f"({found.total - len(rows)} more; --limit 0 shows all)")


@app.command()
def show(
    case: Annotated[str, typer.Argument(help="A case key, e.g. CM16-0248471.")],
    fmt: Annotated[PageFormat, typer.Option("--format", "-f", help="Output format.")] = (
        PageFormat.text
    ),
    excerpt: Annotated[
        int, typer.Option("--excerpt", min=0, help="Rationale characters shown; 0 = all.")
    ] = 400,
    store: StoreOpt = None,
    endpoint: EndpointOpt = None,
) -> None:
    """One case as a readable page: dates, worker, diagnoses, items and rationales."""
    from ..graph.precedents import case_page

    try:
        with _open(store, None, endpoint, read_only=True) as gs:
            page = case_page(gs, case, excerpt=excerpt)
    except ImrGraphError as exc:
        fail(exc)
    if fmt is PageFormat.json:
        typer.echo(json.dumps(page, indent=1, ensure_ascii=False))
        return
    typer.echo(render_page(page, md=fmt is PageFormat.md), nl=False)


def render_page(page: dict[str, Any], *, md: bool = False) -> str:
    """A case page (:func:`imr_graph.graph.precedents.case_page`) as text or Markdown."""
    h = "# " if md else ""
    sub = "## " if md else ""
    bullet = "- " if md else "  "
    out = [f"{h}{page['case']} ({page.get('type') or 'case'})", ""]

    def line(label: str, value: Any) -> None:
        if value not in (None, ""):
            out.append(f"{bullet}{label}: {value}")

    line("UR denial", page.get("denied"))
    line("decided", page.get("decided"))
    line("days to decision", page.get("days"))
    line("worker", ", ".join(v for v in (page.get("age") and f"age {page['age']}",
                                         page.get("sex")) if v))
    reviewer = ", licensed in ".join(str(v) for v in (page.get("specialty"),
                                                       page.get("state")) if v)
    line("reviewer", reviewer)
    line("items", page.get("item_count") and (
        f"{page['item_count']} ({page.get('upheld_items', 0)} upheld, "
        f"{page.get('overturned_items', 0)} overturned)"))
    line("letter", page.get("letter"))
    out += ["", f"{sub}Diagnoses"]
    for d in page["diagnoses"]:
        codes = ", ".join(f"{c} {t}" for c, t in zip(d["codes"], d["titles"], strict=False))
        status = f" [{d['status']}]" if d["status"] else ""
        out.append(f"{bullet}{d['diagnosis']}{status}" + (f" -> {codes}" if codes else ""))
    for item in page["items"]:
        out += ["", f"{sub}Item {item['index']}: {item['request']} -- {item['outcome']}"]
        line("service", item.get("service"))
        line("claims administrator", item.get("claims_administrator"))
        line("reviewer", item.get("reviewer"))
        line("rationale", item.get("rationale"))
    return "\n".join(out) + "\n"


class Outcome(StrEnum):
    upheld = "upheld"
    overturned = "overturned"


@app.command()
def search(
    words: Annotated[list[str] | None, typer.Argument(
        help='Words and "quoted phrases" that must all occur; -word excludes, word* is a '
        "prefix.", show_default=False)] = None,
    outcome: Annotated[Outcome | None, typer.Option("--outcome", help="Only this outcome.",
                                                    show_default=False)] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service (concept id, or "
                                 "words such as \"lumbar MRI\").", show_default=False)
    ] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="Only items whose reviewer cited a "
                                 "section with these words in its label.", show_default=False)
    ] = None,
    year: Annotated[int | None, typer.Option("--year", min=1990, max=2100, help="Only "
                                             "decisions of this year.", show_default=False)
                    ] = None,
    system: Annotated[System | None, typer.Option("--system", help="Only DWC letters or "
                                                  "DMHC rows.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Hits shown; 0 = all.")] = 20,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ListFormat.table
    ),
    reindex: Annotated[bool, typer.Option("--reindex", help="Rebuild the text index from "
                                          "the store first.")] = False,
    store: StoreOpt = None,
) -> None:
    """Full-text search over requests and rationales, best first, with a snippet per hit.

    The text index (SQLite FTS5) lives beside the store and follows it: a search first
    brings it in step with ingests, re-ingests and drops (see docs/search.md).
    """
    from ..errors import UsageError
    from ..graph.textindex import COLUMNS, sync
    from ..graph.textindex import search as run_search

    text = " ".join(words or []).strip()
    if not text and not reindex:
        fail(UsageError("give words to search for (or --reindex)"))
    try:
        with _open(store, None, read_only=True) as gs:
            _note_first_index(gs)
            if reindex:
                done = sync(gs, rebuild=True)
                if not text:
                    typer.echo(f"indexed {done.items} items of {done.added} cases")
                    return
            total, hits = run_search(gs, text, outcome=outcome and outcome.value,
                                     service=service, section=section, year=year,
                                     system=system and system.value, limit=limit)
    except ImrGraphError as exc:
        fail(exc)
    if fmt is ListFormat.json:
        typer.echo(json.dumps({"query": text, "total": total, "rows": hits}, indent=1,
                              ensure_ascii=False))
        return
    if fmt is ListFormat.csv:
        typer.echo(render_rows(hits, list(COLUMNS), "csv"), nl=False)
        return
    typer.echo(f"{total} items match\n")
    shown = ["case", "item", "decided", "outcome", "request", "snippet"]
    typer.echo(render_rows(hits, shown, fmt.value, width=40, whole=("snippet",)), nl=False)
    if limit and total > limit:
        typer.echo(f"({total - limit} more; --limit 0 shows all)")
