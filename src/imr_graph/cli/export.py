"""``imr-graph export|report``: the graph as files other tools open, and the visual report."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ImrGraphError
from . import app, fail
from .graph import BaseOpt, EndpointOpt, EngineOpt, StoreOpt


class ExportFormat(StrEnum):
    graphml = "graphml"
    gexf = "gexf"
    json = "json"
    cytoscape = "cytoscape"
    dot = "dot"
    html = "html"


@app.command("export")
def export_cmd(
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format", "-f",
            help="graphml/gexf (Gephi, Cytoscape), json (networkx node-link), cytoscape "
            "(Cytoscape.js), dot (Graphviz), html (offline interactive viewer).",
        ),
    ] = ExportFormat.graphml,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (default: stdout).")
    ] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="Only this case (case number or IRI).")
    ] = None,
    service: Annotated[
        str | None,
        typer.Option("--service", help="Neighbourhood of the services with this label."),
    ] = None,
    section: Annotated[
        str | None,
        typer.Option("--section", help="Neighbourhood of the guideline sections with this label."),
    ] = None,
    hops: Annotated[
        int | None,
        typer.Option("--hops", help="Neighbourhood radius (default: 2 for --service, 4 for "
                     "--section).", show_default=False),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="A CONSTRUCT/DESCRIBE query: canned name, .rq file "
                     "or text."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Query parameter name=value (repeatable)."),
    ] = None,
    max_nodes: Annotated[
        int | None,
        typer.Option("--max-nodes", help="Refuse graphs with more nodes (0: no limit; default "
                     "3000 for html/dot, 20000 for cytoscape, 100000 otherwise).",
                     show_default=False),
    ] = None,
    keep_spans: Annotated[
        bool,
        typer.Option("--keep-spans", help="Keep text-span annotations as nodes instead of "
                     "folding their quotes into node attributes."),
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Title of the html page.")] = None,
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Export the graph (or part of it) as GraphML, GEXF, JSON, Cytoscape.js, DOT or HTML.

    Resources become nodes (with type and label), literals node attributes, predicates edge
    labels. Choose at most one of --case, --service, --section, --query.
    """
    try:
        from ..export import FORMATS, Selection, check_size, render, select
        from ..queries import parse_param_args
        from ..remote import open_backend

        selection = Selection(
            case=case, service=service, section=section, query=query,
            params=parse_param_args(param or []), hops=hops,
        )
        with open_backend(store, endpoint, read_only=True, base=base,
                          engine=engine) as gs:
            graph = select(gs, selection, fold_spans=not keep_spans)
        what = selection.describe()
        limit = FORMATS[fmt.value] if max_nodes is None else max_nodes
        check_size(graph, limit, fmt.value, what)
        text = render(graph, fmt.value, title=title or f"imr-graph: {what}")
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        where = out if out is not None else "stdout"
        typer.echo(
            f"exported {what}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} "
            f"edges as {fmt.value} -> {where}",
            err=True,
        )
    except (ImrGraphError, OSError) as exc:
        fail(exc)


@app.command("report")
def report_cmd(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write index.html into.")
    ] = Path("imr-graph-report"),
    title: Annotated[str | None, typer.Option("--title", help="Title of the report.")] = None,
    store: StoreOpt = None,
    base: BaseOpt = None,
    endpoint: EndpointOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Write an offline HTML report with charts made from the canned queries."""
    try:
        from ..remote import open_backend
        from ..report import write_report

        with open_backend(store, endpoint, read_only=True, base=base,
                          engine=engine) as gs:
            path = write_report(gs, out, title=title)
        typer.echo(f"report -> {path}")
    except (ImrGraphError, OSError) as exc:
        fail(exc)
