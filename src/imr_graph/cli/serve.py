"""``imr-graph serve``: the store over the SPARQL 1.1 Protocol with the Oxigraph server."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ImrGraphError
from . import app, fail, say, warn


@app.command()
def serve(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Store directory (default: $IMR_GRAPH_STORE, else "
                     "${XDG_DATA_HOME:-~/.local/share}/imr-graph/store).", show_default=False),
    ] = None,
    bind: Annotated[str, typer.Option("--bind", help="HOST:PORT to listen on.")] = (
        "127.0.0.1:7878"
    ),
    read_write: Annotated[
        bool,
        typer.Option("--read-write", help="Allow SPARQL Update and Graph Store writes "
                     "(needed for `ingest --endpoint`)."),
    ] = False,
    allow_service: Annotated[
        bool,
        typer.Option("--allow-service", help="Let queries use SERVICE (outbound requests "
                     "from the server; refused by default)."),
    ] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="Also accept requests whose Host header is this "
                     "name (IP addresses and localhost always are; others are refused "
                     "against DNS rebinding). Repeatable."),
    ] = None,
) -> None:
    """Serve the store over SPARQL (query UI at /, /query, /update, /store) until Ctrl-C.

    Read-only and bound to loopback by default; the default graph is the union of all
    case graphs. Refuses a store that an ingest is writing.
    """
    from ..graph.store import default_store_path
    from ..views.server import OxigraphServer, is_loopback

    try:
        server = OxigraphServer(store or default_store_path(), bind, read_write=read_write,
                                allow_service=allow_service,
                                allow_hosts=tuple(allow_host or ()))
        if not is_loopback(server.host):
            warn(f"warning: listening on {server.host}, not loopback: anyone who can reach it "
                 "can " + ("change" if read_write else "read") + " the graph")
        server.start()
    except ImrGraphError as exc:
        fail(exc)
    mode = "read-write" if read_write else "read-only"
    say(f"serving {server.store} ({mode}) at {server.url}/  "
               f"(SPARQL: {server.url}/query; Ctrl-C stops)")
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        assert server.process is not None
        code = server.process.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    if code:
        fail(ImrGraphError(f"oxigraph server exited with code {code}", path=server.store))
