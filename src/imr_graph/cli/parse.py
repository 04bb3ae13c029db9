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
    from ..parsing import parse_document
    from ..reading import read_document

    failures: list[dict[str, str]] = []
    records: list[dict[str, object]] = []
    for path in files:
        try:
            doc = read_document(path)
            if text:
                sys.stdout.write(doc.text)
                if not doc.text.endswith("\n"):
                    sys.stdout.write("\n")
                continue
            record = parse_document(doc).to_dict()
        except ImrGraphError as exc:
            if _state["debug"]:
                raise
            warn(f"error: {exc}")
            failures.append({"path": str(path), "error": exc.message, "kind": type(exc).__name__})
            continue
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
    """Print the JSON Schema of the record that ``parse`` prints."""
    from ..resources import schema_file

    typer.echo(schema_file().read_text(encoding="utf-8").rstrip())
