"""The store and endpoint options that several commands share (``--store``, ``--base``,
``--endpoint``, ``--update-endpoint``, ``--gsp-endpoint``, ``--engine``), and the choice
of system (``--system``).

They live apart from the commands so that a command module takes its options from here and
never from another command module (no import circles between the CLI's modules).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class System(StrEnum):
    """The two systems a store can hold: DWC letters and DMHC rows."""

    dwc = "dwc"
    dmhc = "dmhc"


StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Store directory (default: $IMR_GRAPH_STORE, else "
        "${XDG_DATA_HOME:-~/.local/share}/imr-graph/store).",
        show_default=False,
    ),
]
BaseOpt = Annotated[
    str | None,
    typer.Option(
        "--base",
        help="Base IRI of data resources (default: $IMR_GRAPH_BASE, else "
        "https://w3id.org/imr-graph/id/).",
        show_default=False,
    ),
]

EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Use this SPARQL 1.1 Protocol server instead of the embedded store (e.g. "
        "http://127.0.0.1:7878/query; default: $IMR_GRAPH_ENDPOINT). Credentials: "
        "$IMR_GRAPH_TOKEN or $IMR_GRAPH_USER/$IMR_GRAPH_PASSWORD.",
        show_default=False,
    ),
]
UpdateEndpointOpt = Annotated[
    str | None,
    typer.Option("--update-endpoint", help="SPARQL Update URL (default: …/update beside "
                 "--endpoint).", show_default=False),
]
GspEndpointOpt = Annotated[
    str | None,
    typer.Option("--gsp-endpoint", help="Graph Store Protocol URL (default: …/store beside "
                 "--endpoint).", show_default=False),
]

EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="The --endpoint server's kind: oxigraph, virtuoso, generic "
                 "(default: $IMR_GRAPH_ENGINE, else detected from its Server header).",
                 show_default=False),
]
