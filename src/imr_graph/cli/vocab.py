"""``imr-graph link|mappings|link-report``: vocabulary links (ICD-10-CM, drugs, services, guidelines)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ImrGraphError
from . import app, fail, say
from .options import BaseOpt, StoreOpt

CuratedOpt = Annotated[
    Path | None,
    typer.Option("--curated", help="SSSOM TSV of curated mappings; they win over automatic links.",
                 exists=False, dir_okay=False),
]


class MappingFormat(StrEnum):
    sssom = "sssom"


def _open(store: Path | None, base: str | None, *, read_only: bool):
    from ..graph.store import GraphStore

    return GraphStore(store, read_only=read_only, base=base)


def _curated(path: Path | None, base: str):
    if path is None:
        return None
    from ..linking import read_sssom

    return read_sssom(path, base)


@app.command()
def link(
    store: StoreOpt = None,
    base: BaseOpt = None,
    curated: CuratedOpt = None,
) -> None:
    """Link every diagnosis, medication, service and cited guideline in the store to the
    external vocabularies and rewrite the vocabulary graph (offline)."""
    from ..linking import relink
    from .graph import _follow_text_index
    from .progress import progress

    try:
        with _open(store, base, read_only=False) as gs, progress("linking the vocabularies"):
            links, triples = relink(gs, _curated(curated, gs.base))
            where = gs.path
        _follow_text_index(where)  # precedents' ICD-10 categories follow the links
    except ImrGraphError as exc:
        fail(exc)
    typer.echo(f"links: {len(links)}  vocabulary triples: {triples}")


@app.command()
def mappings(
    store: StoreOpt = None,
    base: BaseOpt = None,
    fmt: Annotated[MappingFormat, typer.Option("--format", help="Output format.")] = MappingFormat.sssom,
    curated: CuratedOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Export the links of the store's concepts as an SSSOM TSV (with a metadata header)."""
    from ..linking import store_links, write_sssom
    from .progress import progress

    try:
        with _open(store, base, read_only=True) as gs, progress("reading the links") as steps:
            links = store_links(gs, _curated(curated, gs.base))
            steps.step("writing SSSOM")
            text = write_sssom(links, gs.base)
    except ImrGraphError as exc:
        fail(exc)
    if output is None:
        typer.echo(text, nl=False)
    else:
        from ..outputs import write_file

        try:
            write_file(output, text)
        except ImrGraphError as exc:
            fail(exc)
        say(f"{len(links)} mappings -> {output}", err=True)


@app.command("link-report")
def link_report(
    store: StoreOpt = None,
    base: BaseOpt = None,
    curated: CuratedOpt = None,
) -> None:
    """Coverage of the links: share of diagnoses, medications and services linked."""
    from ..linking import coverage, diagnosis_code_summary, store_concepts, store_links
    from .progress import progress

    try:
        with _open(store, base, read_only=True) as gs, progress("reading the concepts") as steps:
            concepts = store_concepts(gs)
            steps.step("reading the links")
            links = store_links(gs, _curated(curated, gs.base))
            cov = coverage(concepts, links, gs.base)
    except ImrGraphError as exc:
        fail(exc)
    typer.echo(f"{'kind':<22}{'linked':>8}{'total':>8}{'share':>9}")
    for kind, (linked, total) in cov.items():
        share = f"{100 * linked / total:.1f}%" if total else "-"
        typer.echo(f"{kind:<22}{linked:>8}{total:>8}{share:>9}")
    by_pred: dict[str, int] = {}
    for lk in links:
        by_pred[lk.predicate_id] = by_pred.get(lk.predicate_id, 0) + 1
    typer.echo("links: " + ", ".join(f"{p} {n}" for p, n in sorted(by_pred.items())))
    dx = diagnosis_code_summary(links)
    if dx:
        typer.echo("diagnosis codes: " + ", ".join(f"{k} {v}" for k, v in sorted(dx.items())))
