"""The one place that finds packaged assets: the ontology, shapes, canned queries, schema.

In a source checkout (editable install) the assets live at the repository top level
(``ontology/``, ``queries/``); in a wheel they are force-included under
``imr_graph/_assets/``. Nothing else in the package builds asset paths.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _asset_dir(name: str) -> Path:
    packaged = _PKG / "_assets" / name
    if packaged.is_dir():
        return packaged
    source = _PKG.parent.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"imr-graph asset directory {name!r} not found (broken install?)")


def ontology_dir() -> Path:
    """Directory holding ``imr.ttl``, ``shapes.ttl`` and the vocabulary files."""
    return _asset_dir("ontology")


def ontology_file(name: str = "imr.ttl") -> Path:
    """A Turtle file in the ontology directory."""
    return ontology_dir() / name


def queries_dir() -> Path:
    """Directory holding the canned ``.rq`` queries."""
    return _asset_dir("queries")


def schema_file() -> Path:
    """The JSON Schema of the parsed record (shipped inside the package)."""
    return _PKG / "record.schema.json"


def data_file(name: str) -> Path:
    """A data file shipped inside the package (``imr_graph/data/NAME``)."""
    return _PKG / "data" / name
