"""``imr-graph export|report``: the graph as files other tools open, and the visual report."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import ImrGraphError
from . import app, fail, say
from .options import BaseOpt, EndpointOpt, EngineOpt, StoreOpt, System

if TYPE_CHECKING:
    import networkx as nx


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
        typer.Option("--service", help="Neighbourhood of the services with this label "
                     "(or of the service concept of a request as written, e.g. 'Norco 10/325')."),
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
                     "3000 for dot, 20000 for cytoscape, none for html, which "
                     "aggregates large graphs, 250000 otherwise).",
                     show_default=False),
    ] = None,
    keep_spans: Annotated[
        bool,
        typer.Option("--keep-spans", help="Keep text-span annotations as nodes instead of "
                     "folding their quotes into node attributes."),
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Title of the html page.")] = None,
    system: Annotated[
        System | None,
        typer.Option("--system", help="Only the cases of one system: dwc (the letters) or "
                     "dmhc (the health-plan data); default both.", show_default=False),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Stop after this many seconds of querying "
                            "(exit 2); 0 = no limit.")
    ] = 300.0,
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
        from ..graph.queries import call_with_timeout, parse_param_args
        from ..graph.remote import open_backend
        from ..views.export import FORMATS, Selection, check_size, render, select
        from .progress import progress

        selection = Selection(
            case=case, service=service, section=section, query=query,
            params=parse_param_args(param or []), hops=hops,
            system=system.value if system else None,
        )
        what = selection.describe()

        def work() -> nx.MultiDiGraph:
            with open_backend(store, endpoint, read_only=True, base=base,
                              engine=engine) as gs:
                return select(gs, selection, fold_spans=not keep_spans)

        with progress(f"reading the {what}") as steps:
            graph = call_with_timeout(work, timeout, f"export of {what}")
            limit = FORMATS[fmt.value] if max_nodes is None else max_nodes
            check_size(graph, limit, fmt.value, what)
            steps.step(f"writing {graph.number_of_nodes()} nodes as {fmt.value}")
            if fmt is ExportFormat.html:
                from ..views.viewer import viewer_html

                text = viewer_html(graph, title=title or f"imr-graph: {what}")
            else:
                text = render(graph, fmt.value)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            from ..outputs import write_file

            write_file(out, text)
        where = out if out is not None else "stdout"
        say(f"exported {what}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} "
            f"edges as {fmt.value} -> {where}", err=True)
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
        from ..graph.remote import open_backend
        from ..views.report import write_report
        from .progress import progress

        with (open_backend(store, endpoint, read_only=True, base=base, engine=engine) as gs,
              progress("running the canned queries for the report")):
            path = write_report(gs, out, title=title)
        say(f"report -> {path}")
    except (ImrGraphError, OSError) as exc:
        fail(exc)
