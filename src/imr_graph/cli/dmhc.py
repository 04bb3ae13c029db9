"""``imr-graph ingest-dmhc``: the DMHC health-plan IMR open data (CSV) into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ImrGraphError, UsageError
from . import _state, app, fail, say, warn, write_failures
from .options import BaseOpt, StoreOpt

MAX_ROW_WARNINGS = 20
"""Row errors printed on stderr before the rest are only counted (all go to --errors)."""


def run_dmhc_file(gs: Any, path: Path, *, force: bool = False, verbose: bool = False) -> Any:
    """Ingest one DMHC file into an open store, printing its row errors and summary line.

    Returns the :class:`~imr_graph.dmhc.ingest.DmhcIngestResult`. Shared by ``ingest-dmhc``
    and by ``ingest`` when it recognises a DMHC table among its inputs.
    """
    from ..dmhc.ingest import ingest_dmhc
    from ..graph.store import GraphStore

    if not isinstance(gs, GraphStore):
        raise UsageError("DMHC tables can only be loaded into the embedded store (--store)")
    from .progress import progress

    with progress(f"{path.name}: loading cases") as steps:

        def report(done: int, total: int) -> None:
            steps.advance(done, total)
            if verbose:
                say(f"{path}: {done}/{total} cases", err=True)

        result = ingest_dmhc(gs, path, force=force, progress=report)
    for n, err in enumerate(result.errors):
        if n == MAX_ROW_WARNINGS:
            warn(f"error: {path}: ... and {len(result.errors) - n} more bad rows")
            break
        warn(f"error: {path}: {err}")
    typer.echo(
        f"{path}: rows: {result.rows}  cases: {result.cases} (new {result.new}, replaced "
        f"{result.replaced}, unchanged {result.unchanged})  triples written: {result.triples}  "
        f"bad rows: {len(result.errors)}  ({result.seconds:.1f} s)"
    )
    return result


@app.command("ingest-dmhc")
def ingest_dmhc_command(
    files: Annotated[
        list[Path], typer.Argument(help="DMHC IMR determinations CSV files (any export shape).")
    ],
    store: StoreOpt = None,
    base: BaseOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Rewrite cases already stored from the same file and mappings."
        ),
    ] = False,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write bad rows as JSON lines to this file.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show progress.")] = False,
) -> None:
    """Load DMHC health-plan IMR decisions: one case (own named graph) per CSV row.

    The delimiter and header names are detected (semicolon re-save, official comma export
    with Findings, newer IMRType/DaysToReview/DaysToAdopt columns). Rows that cannot be read
    are reported with their line number and the rest are loaded; the exit status is then 1.
    Re-running a file replaces its cases and duplicates nothing.
    """
    from ..graph.store import GraphStore

    bad: list[dict[str, Any]] = []
    try:
        with GraphStore(store, base=base) as gs:
            for path in files:
                try:
                    result = run_dmhc_file(gs, path, force=force, verbose=verbose)
                except ImrGraphError as exc:
                    if _state["debug"] or exc.exit_code == 2:
                        raise
                    warn(f"error: {exc}")
                    bad.append({"path": str(path), "line": None, "error": exc.message})
                    continue
                bad.extend(
                    {"path": str(path), "line": e.line, "reference_id": e.reference_id,
                     "error": e.reason}
                    for e in result.errors
                )
            total, where = len(gs), gs.path
    except ImrGraphError as exc:
        fail(exc)
    try:
        write_failures(errors, bad)
    except ImrGraphError as exc:
        fail(exc)
    say(f"store {where}: {total} triples")
    if bad:
        raise typer.Exit(1)
