"""``imr-graph ingest|query|queries|update|stats|dump|drop|validate``: the graph commands."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ImrGraphError
from . import _state, app, fail, say, warn, write_failures
from .options import (
    BaseOpt,
    EndpointOpt,
    EngineOpt,
    GspEndpointOpt,
    StoreOpt,
    UpdateEndpointOpt,
)


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xml = "xml"
    ttl = "ttl"
    nt = "nt"


class DumpFormat(StrEnum):
    trig = "trig"
    nq = "nq"
    ttl = "ttl"
    nt = "nt"


class ValidateEngine(StrEnum):
    sparql = "sparql"
    pyshacl = "pyshacl"


class StatsFormat(StrEnum):
    table = "table"
    json = "json"


def _open(
    store: Path | None,
    base: str | None,
    endpoint: str | None = None,
    update_endpoint: str | None = None,
    gsp_endpoint: str | None = None,
    *,
    read_only: bool,
    engine: str | None = None,
):
    from ..graph.remote import open_backend

    return open_backend(store, endpoint, update_endpoint, gsp_endpoint=gsp_endpoint,
                        read_only=read_only, base=base, engine=engine)


def _follow_text_index(where: object) -> None:
    """Bring an existing text index (imr-graph search) in step with the local store at
    ``where``, once the writer has closed it (so the files it fingerprints are final and
    the next question does not check the store again); a damaged index is a warning (the
    store is written; the next search says to --reindex)."""
    from ..graph.store import GraphStore
    from ..graph.textindex import index_path, sync

    if isinstance(where, Path) and index_path(where).exists():
        try:
            with GraphStore(where, read_only=True) as gs:
                sync(gs)
        except ImrGraphError as exc:
            warn(f"text index not updated: {exc}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Letter files or directories (recursive).")],
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write failures as JSON lines to this file.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print one line per letter stored.")
    ] = False,
    link: Annotated[
        bool, typer.Option("--link", help="Also add request details to items and relink the "
                           "vocabularies (as `imr-graph link`; see docs/linking.md).")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, show_default=False,
                                 help="Worker processes for parsing (default: one per core; "
                                 "see docs/performance.md).")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip letters whose sha256 is "
                           "already in the store (continue an interrupted ingest).")
    ] = False,
) -> None:
    """Parse letters and store each as its own named graph (replacing an earlier version).

    A file that fails gives one line on stderr naming it; the others are still stored, and
    the exit status is 1 at the end. Ends with a summary: letters, items, triples, errors.
    """
    from ..dmhc.reader import looks_like_dmhc
    from ..errors import UsageError
    from ..graph.ingest import ingest as run_ingest

    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:  # before the store is opened: a mistyped path must not leave an empty store
        more = f" (and {len(missing) - 1} more missing)" if len(missing) > 1 else ""
        fail(UsageError(f"no such file or directory{more}", path=missing[0]))

    def skipped(path: Path) -> None:
        why = ("a table in a folder is not read; name a DMHC table on the command line"
               if path.suffix.lower() == ".csv" else "not a letter file (.pdf, .txt, .md)")
        warn(f"skipped {path}: {why}")

    # DMHC health-plan tables (CSV) named on the command line go to ingest-dmhc's loader.
    tables = [p for p in paths if p.is_file() and looks_like_dmhc(p)]
    paths = [p for p in paths if p not in tables]
    letters = items = triples = 0
    failures: list[dict[str, str]] = []
    try:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=False,
                   engine=engine) as gs:
            for table in tables:
                from .dmhc import run_dmhc_file

                failures.extend({"path": str(table), "error": str(e), "kind": "RowError"}
                                for e in run_dmhc_file(gs, table).errors)
            extra = None
            if link:
                from ..linking import item_details

                extra = item_details(gs.base)
            from ..graph.pipeline import PipelineStats, ingest_parallel, use_pipeline

            pstats = PipelineStats()
            results = (
                ingest_parallel(gs, paths, jobs=jobs, resume=resume, extra=extra,
                                progress=True, stats=pstats, on_skip=skipped)
                if paths and use_pipeline(gs, jobs, resume, extra)
                else run_ingest(gs, paths, extra=extra, on_skip=skipped) if paths else ()
            )
            for result in results:
                if result.error is not None:
                    if _state["debug"]:
                        raise result.error.__cause__ or result.error
                    warn(f"error: {result.error}")
                    failures.append(result.error_record())
                    continue
                for note in (result.notes or []) + getattr(gs, "take_conflicts", list)():
                    warn(f"conflict: {note}")
                letters += 1
                items += result.items
                triples += result.triples
                if verbose:
                    say(f"{result.path}: case {result.case_key}, {result.items} items, "
                        f"{result.triples} triples")
            if link:
                from ..linking import relink

                relink(gs)
            total = gs.case_count()  # counting triples would take seconds on a big store
            where = gs.path
        _follow_text_index(where)
    except ImrGraphError as exc:
        fail(exc)
    if pstats.skipped:
        warn(f"skipped {pstats.skipped} letters already in the store (--resume)")
    unchanged_note = f"  unchanged: {pstats.unchanged}" if pstats.unchanged else ""
    try:
        write_failures(errors, failures)
    except ImrGraphError as exc:
        fail(exc)
    say(
        f"letters: {letters}  items: {items}  triples: {triples}  errors: {len(failures)}  "
        f"(store {where}: {total} cases){unchanged_note}"
    )
    if failures:
        raise typer.Exit(1)


@app.command()
def query(
    query_spec: Annotated[
        str,
        typer.Argument(
            metavar="QUERY", help="Canned query name, .rq file, inline SPARQL, or - for stdin."
        ),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p",
            help="name=value: a literal; <iri> for an IRI; \"5\"^^xsd:integer for a typed value.",
        ),
    ] = None,
    fmt: Annotated[QueryFormat, typer.Option("--format", "-f", help="Output format.")] = (
        QueryFormat.table
    ),
    graph: Annotated[
        str | None,
        typer.Option("--graph", "-g", help="Only this graph: a case key or a graph IRI."),
    ] = None,
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Stop the query after this many seconds "
                            "(exit 2); 0 = no limit.")
    ] = 300.0,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many rows (default 10000 "
                                 "for table output, all otherwise); 0 = no limit.",
                                 show_default=False)
    ] = None,
    allow_service: Annotated[
        bool, typer.Option("--allow-service", help="Let SERVICE clauses call other SPARQL "
                           "endpoints (refused by default: imr-graph works offline).")
    ] = False,
) -> None:
    """Run a read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) over all cases.

    The default graph is the union of all case graphs; --graph narrows to one case.
    """
    from ..graph.queries import (
        DEFAULT_TABLE_LIMIT,
        call_with_timeout,
        limit_rows,
        parse_header,
        parse_param_args,
        resolve_query,
        run_query,
        write_result,
    )
    from . import RawStdout

    if limit is None:
        limit = DEFAULT_TABLE_LIMIT if fmt is QueryFormat.table else 0

    def work() -> bool:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=True,
                   engine=engine) as gs:
            result = run_query(gs, q, params, graph=graph, allow_service=allow_service)
            result, cut = limit_rows(result, limit, q.name)
            hidden = {p.name for p in q.params} | set(params)
            # rows are written as they come (a table holds at most TABLE_ROW_CAP)
            write_result(result, RawStdout(), fmt.value, base=gs.base, hide=hidden,
                         name=q.name)
            return cut

    try:
        q = parse_header(sys.stdin.read(), "<stdin>") if query_spec == "-" else resolve_query(
            query_spec
        )
        params = parse_param_args(param or [])
        truncated = call_with_timeout(work, timeout, q.name)
    except ImrGraphError as exc:
        fail(exc)
    if truncated:
        note = f"truncated at {limit} rows; --limit N shows more, --limit 0 all"
        if fmt is QueryFormat.table:
            typer.echo(f"({note})")
        else:
            warn(note)


@app.command()
def queries(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show parameters and examples.")
    ] = False,
) -> None:
    """List the canned queries with their one-line descriptions."""
    from ..graph.queries import canned_queries

    canned = canned_queries()
    width = max((len(n) for n in canned), default=0)
    for name, q in canned.items():
        params = " ".join(
            f"[{p.name}={p.default}]" if p.default is not None else f"{p.name}=…"
            for p in q.params
        )
        typer.echo(f"{name.ljust(width)}  {q.description}" + (f"  ({params})" if params else ""))
        if verbose:
            for p in q.params:
                typer.echo(f"{'':{width}}    param {p.name} ({p.type}): {p.description}")
            for ex in q.examples:
                typer.echo(f"{'':{width}}    e.g. {ex}")


@app.command()
def update(
    update_spec: Annotated[
        str, typer.Argument(metavar="UPDATE", help="SPARQL Update text, a .ru file, or -.")
    ],
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Change the store with SPARQL Update (explicit write path; LOAD is disabled)."""
    if update_spec == "-":
        text = sys.stdin.read()
    elif update_spec.endswith((".ru", ".rq")) and Path(update_spec).is_file():
        text = Path(update_spec).read_text(encoding="utf-8")
    else:
        text = update_spec
    try:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=False,
                   engine=engine) as gs:
            before = len(gs)
            gs.update(text)
            after = len(gs)
    except ImrGraphError as exc:
        fail(exc)
    typer.echo(f"triples: {before} -> {after}")


@app.command()
def stats(
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
    fmt: Annotated[StatsFormat, typer.Option("--format", "-f")] = StatsFormat.table,
) -> None:
    """Counts of cases, items, outcomes, shared concepts, graphs and triples."""
    try:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=True,
                   engine=engine) as gs:
            counts = gs.stats()
            where = str(gs.path)
    except ImrGraphError as exc:
        fail(exc)
    if fmt is StatsFormat.json:
        typer.echo(json.dumps({"store": where, **counts}, indent=2))
        return
    say(f"store: {where}")
    width = max(len(k) for k in counts)
    for key, value in counts.items():
        typer.echo(f"{key.replace('_', ' ').ljust(width)}  {value:>9}")


@app.command()
def dump(
    fmt: Annotated[DumpFormat, typer.Option("--format", "-f", help="trig/nq keep graphs.")] = (
        DumpFormat.trig
    ),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout.")] = (
        None
    ),
    graph: Annotated[
        str | None, typer.Option("--graph", "-g", help="Only this graph (case key or IRI).")
    ] = None,
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Serialise the store (trig, nq: all named graphs; ttl, nt: the merged union)."""
    from .progress import progress

    try:
        with (_open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=True,
                    engine=engine) as gs,
              progress(f"serialising as {fmt.value}")):
            g = gs.resolve_graph(graph) if graph else None
            if out is not None:
                from ..outputs import atomic_output

                with atomic_output(out) as fh:
                    gs.dump(fmt.value, fh, graph=g)
                data = None
            else:
                data = gs.dump(fmt.value, graph=g)
    except ImrGraphError as exc:
        fail(exc)
    if data is not None:
        typer.echo(data, nl=False)
    else:
        warn(f"wrote {out}")


@app.command()
def drop(
    case: Annotated[str, typer.Argument(help="Case key (e.g. CM16-0213037) or graph IRI.")],
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Remove one case (its named graph) from the store."""
    try:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=False,
                   engine=engine) as gs:
            graph = gs.resolve_graph(case)
            removed = gs.drop_case(case)
            where = getattr(gs, "path", None)
        _follow_text_index(where)
    except ImrGraphError as exc:
        fail(exc)
    say(f"dropped {graph.value} ({removed} triples)")


@app.command()
def validate(
    graph: Annotated[
        str | None, typer.Option("--graph", "-g", help="Only this case (key or graph IRI).")
    ] = None,
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    update_endpoint: UpdateEndpointOpt = None,
    gsp_endpoint: GspEndpointOpt = None,
    engine: EngineOpt = None,
    validator: Annotated[
        ValidateEngine | None, typer.Option("--validator", help="sparql: the shapes compiled "
                                            "into queries the store runs (minutes at 100k "
                                            "letters; the default); pyshacl: the reference "
                                            "engine (about 0.3 s a case; the default on "
                                            "Virtuoso).", show_default=False)
    ] = None,
    show_progress: Annotated[
        bool, typer.Option("--progress", help="Print the checks done on stderr as plain "
                           "lines, also in a pipe or a log (a terminal shows a progress bar "
                           "anyway).")
    ] = False,
) -> None:
    """Check every case graph against the SHACL shapes; exit 1 when one does not conform.

    Violations on shared concept nodes (in no case) are counted apart in the closing line.
    """
    import time

    from ..graph.validate import validate_store
    from .progress import progress

    started = time.monotonic()

    def tell(done: int, total: int) -> None:
        typer.echo(f"validate: {done}/{total} checks, {time.monotonic() - started:.0f} s",
                   err=True)

    try:
        with _open(store, base, endpoint, update_endpoint, gsp_endpoint, read_only=True,
                   engine=engine) as gs:
            graphs = [gs.resolve_graph(graph)] if graph else None
            with progress("validating against the SHACL shapes") as steps:
                report = validate_store(gs, graphs, engine=validator.value if validator else None,
                                        progress=tell if show_progress else steps.advance)
    except ImrGraphError as exc:
        fail(exc)
    for v in report.violations:
        say(v.line())
    typer.echo(report.summary())
    if report.violations:
        raise typer.Exit(1)
