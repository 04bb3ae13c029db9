"""Parsing: canonical letter text -> :class:`~imr_graph.records.Record` (work in progress)."""

from __future__ import annotations

from pathlib import Path

from .reading import Document, read_document
from .records import Record


def parse_document(doc: Document) -> Record:
    """Parse one letter's canonical text into a record."""
    raise NotImplementedError


def parse_file(path: str | Path) -> Record:
    """Read and parse one letter file."""
    return parse_document(read_document(path))
