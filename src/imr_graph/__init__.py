"""imr-graph: a knowledge graph of California workers' compensation IMR decisions.

The package is a library first; the ``imr-graph`` command is a thin layer over it.
Data flows one way: letter file -> text (:mod:`imr_graph.letters.reading`) -> record
(:mod:`imr_graph.letters.parsing`, :mod:`imr_graph.records`) -> triples (:mod:`imr_graph.graph.mapping`)
-> store (:mod:`imr_graph.graph.store`) -> queries and exports.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imr-graph")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
