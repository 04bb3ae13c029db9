"""``imr-graph parse``: letters to JSON records."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ImrGraphError
from . import _state, app, fail, warn, write_failures


class ParseFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="Letter files (PDF, text, Markdown).")],
    fmt: Annotated[
        ParseFormat, typer.Option("--format", "-f", help="json: one array; jsonl: a line each.")
    ] = ParseFormat.json,
    text: Annotated[
        bool, typer.Option("--text", help="Print the extracted text that spans point into.")
    ] = False,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Write failures as JSON lines to this file.")
    ] = None,
) -> None:
    """Parse letters and print one record per letter.

    A file that fails gives one line on stderr naming it; the others are still parsed, and
    the exit status is 1 at the end.
    """
    from ..graph.workers import read_letters

    failures: list[dict[str, str]] = []
    records: list[dict[str, object]] = []
    # each letter is read in a worker process, under memory and time limits
    for done in read_letters([str(p) for p in files], parse=not text):
        exc = done.exception()
        if exc is not None:
            if _state["debug"]:
                raise exc
            warn(f"error: {exc}")
            failures.append({"path": done.path, "error": exc.message,
                             "kind": type(exc).__name__})
            continue
        if text:
            assert done.text is not None
            sys.stdout.write(done.text)
            if not done.text.endswith("\n"):
                sys.stdout.write("\n")
            continue
        record = done.record.to_dict()
        if fmt is ParseFormat.jsonl:
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            records.append(record)
    if fmt is ParseFormat.json and not text:
        typer.echo(json.dumps(records, indent=2, ensure_ascii=False))
    try:
        write_failures(errors, failures)
    except ImrGraphError as exc:
        fail(exc)
    if failures:
        raise typer.Exit(1)




@app.command()
def schema() -> None:
    """Print the JSON Schema of the record that `imr-graph parse` prints."""
    from ..resources import schema_file

    typer.echo(schema_file().read_text(encoding="utf-8").rstrip())
