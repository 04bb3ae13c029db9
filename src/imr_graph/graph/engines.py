"""Engine profiles: what a SPARQL server needs that the protocols leave open.

The remote backend (:mod:`imr_graph.graph.remote`) speaks the SPARQL 1.1 Protocol and the Graph
Store Protocol; servers differ in the rest. Every such difference lives in one
:class:`EngineProfile` here, chosen with ``--engine`` (``$IMR_GRAPH_ENGINE``) or detected
from the server's ``Server`` response header, never as a special case elsewhere:

* where the query, update and Graph Store endpoints are beside the ``--endpoint`` URL (and
  where they are when credentials are given: Virtuoso has separate ``-auth`` endpoints);
* how a query or update is sent (``direct``: ``POST`` with ``application/sparql-query``;
  ``form``: ``POST`` of ``query=``/``update=`` form fields, for servers that do not take
  the direct form, as Virtuoso 7);
* whether the union default graph is asked for with a request parameter (Oxigraph) or is
  the server's own default (Virtuoso, GraphDB; Fuseki when configured so);
* how credentials are sent (``basic`` or HTTP ``digest``);
* graphs the server keeps for itself (Virtuoso's system graphs), hidden from the graph
  list, the triple count and dumps;
* rewrites of the query text where the engine departs from SPARQL 1.1 semantics
  (:func:`decimal_division` for Virtuoso, whose ``/`` of two integers is an integer
  division and whose division by zero fails the whole query; :func:`plain_case_keys`, for
  its joins on case-folded strings).

Tested engines: ``oxigraph`` and ``virtuoso`` (tests/test_virtuoso.py runs every canned
query on both). ``generic`` is the plain SPARQL 1.1 protocols with the server's own default
graph, for Fuseki, GraphDB and other servers configured with a union default graph.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import UsageError

_MASK_RE = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
    r"|<[^<>\"{}|^`\\\s]*>|#[^\n]*",
    re.S,
)


def masked(text: str) -> str:
    """``text`` with strings, IRIs and comments blanked out (same length, for searching)."""
    return _MASK_RE.sub(lambda m: " " * len(m.group(0)), text)


XSD = "http://www.w3.org/2001/XMLSchema#"
_DIV_LEFT_RE = re.compile(r"(?:[?$]\w+|\d|\))\s*$")
_DIV_RIGHT_RE = re.compile(r"\s*(?:([?$]\w+)|(\d[\d.]*(?:[eE][+-]?\d+)?)|(\()"
                           r"|([A-Za-z_][\w]*(?::[\w-]*)?\s*\())")


def _balanced(masked_text: str, open_at: int) -> int:
    """The offset just after the ``)`` closing the ``(`` at ``open_at``."""
    depth = 0
    for i in range(open_at, len(masked_text)):
        depth += {"(": 1, ")": -1}.get(masked_text[i], 0)
        if depth == 0:
            return i + 1
    raise SyntaxError("unbalanced parentheses in the query")


def decimal_division(text: str) -> str:
    """Each numeric division ``X / Y`` as SPARQL 1.1 means it, for Virtuoso.

    SPARQL divides two integers into a decimal and makes a division by zero an error that
    leaves the expression unbound; Virtuoso divides integers into an integer (``1 / 2`` is
    ``0``) and fails the whole query on a zero divisor. ``Y`` becomes
    ``xsd:decimal(REPLACE(STR(Y), "^[-+]?[0.]+$", "x"))``: a decimal, and for zero a failed
    cast, which is Virtuoso's unbound value (an ``IF`` on an aggregate breaks Virtuoso 7's
    compiler in queries with sub-selects, so none is used); a number divisor becomes a
    decimal literal. A ``double`` divisor is made a decimal too: a known difference (no
    canned query divides by one). A ``/`` is taken for a division when
    a variable, number or ``)`` is on its left and a variable, number, ``(`` or function
    call on its right; property paths (``imr:a/imr:b``) are left alone.
    """
    m = masked(text)
    out, last, i = [], 0, 0
    while (i := m.find("/", i)) >= 0:
        right = _DIV_RIGHT_RE.match(m, i + 1)
        if right is None or not _DIV_LEFT_RE.search(m, 0, i):
            i += 1
            continue
        start = right.start() + len(right.group(0)) - len(right.group(0).lstrip())
        end = right.end() if right.group(1) or right.group(2) else _balanced(m, right.end() - 1)
        y = decimal_division(text[start:end])
        if right.group(2):  # a number: a decimal literal (an IF of constants breaks Virtuoso)
            if float(y) == 0:
                new = f' <{XSD}decimal>("x")'
            else:
                new = " " + (y if "." in y or "e" in y.lower() else y + ".0")
        else:
            new = f' <{XSD}decimal>(REPLACE(STR({y}), "^[-+]?[0.]+$", "x"))'
        out += [text[last:i + 1], new]
        last = i = end
    return "".join(out) + text[last:]


_CASE_OF_STR_RE = re.compile(r"(?i)\b[LU]CASE\s*\(\s*STR\s*\(")


def plain_case_keys(text: str) -> str:
    """Each ``LCASE(STR(x))`` / ``UCASE(STR(x))`` wrapped in ``STR( )``, for Virtuoso.

    In SPARQL the wrapper changes nothing (the value is already a simple literal). Virtuoso
    7.2 gives the case-folded value another internal type, and a join on it with a group
    that computed it the same way (the ``OPTIONAL`` sub-select of
    ``overturn-rate-by-section``) matches nothing; through ``STR`` it joins.
    """
    m = masked(text)
    out, last = [], 0
    for found in _CASE_OF_STR_RE.finditer(m):
        start = found.start()
        if start < last:
            continue
        end = _balanced(m, m.index("(", start))
        out += [text[last:start], "STR(", text[start:end], ")"]
        last = end
    return "".join(out) + text[last:]


@dataclass(frozen=True)
class EngineProfile:
    """How one kind of SPARQL server is spoken to (see the module docstring)."""

    name: str
    paths: dict[str, str]
    """``query``/``update``/``gsp`` endpoint paths beside the ``--endpoint`` URL."""
    auth_paths: dict[str, str] = field(default_factory=dict)
    """Paths used instead of :attr:`paths` when credentials are given."""
    body: str = "direct"
    """``direct`` (``application/sparql-query`` body) or ``form`` (``query=`` fields)."""
    union_param: bool = False
    """Ask for the union default graph with Oxigraph's ``union-default-graph`` parameter."""
    auth: str = "basic"
    """``basic`` or ``digest`` for ``$IMR_GRAPH_USER``/``$IMR_GRAPH_PASSWORD``."""
    hidden_graphs: tuple[str, ...] = ()
    """IRI prefixes of the server's own graphs, left out of graph lists, counts and dumps."""
    rewrites: tuple[Callable[[str], str], ...] = ()
    """Query text rewrites applied, in order, before a query is sent."""
    decimal_places: int | None = None
    """Fraction digits the engine keeps in a decimal division (None: as Oxigraph, 18)."""
    permanent_errors: str | None = None
    """A regular expression: an HTTP 5xx answer whose body matches it is the query's own
    error (reported at once), not a transient failure (retried with backoff)."""
    validator: str = "sparql"
    """``validate``'s default engine on this server: ``sparql`` (the shapes compiled into
    queries the server runs) or ``pyshacl`` (the case graphs fetched and checked here)."""
    known_differences: dict[str, str] = field(default_factory=dict)
    """Canned queries whose values differ from the embedded store's on this engine (same
    rows, other numbers), with the reason; tests/test_virtuoso.py checks this list."""

    def rewrite(self, text: str) -> str:
        """``text`` after this profile's :attr:`rewrites`."""
        for step in self.rewrites:
            text = step(text)
        return text

    def endpoints(self, endpoint: str, *, credentials: bool = False) -> dict[str, str]:
        """The query, update and Graph Store URLs beside ``endpoint``.

        ``endpoint`` is the server's root (``http://host:port``) or its query URL; a path
        that is not one of this profile's query paths is kept as the query URL and the
        others are taken as its siblings.
        """
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--endpoint must be an http(s) URL, not {endpoint!r}")
        paths = {**self.paths, **(self.auth_paths if credentials else {})}
        path = parts.path.rstrip("/")
        if path in (self.paths["query"], self.auth_paths.get("query")):
            path = ""
        root = path.rsplit("/", 1)[0] if path else ""
        query = path or paths["query"]

        def url(p: str, q: str = "") -> str:
            return urllib.parse.urlunsplit((parts.scheme, parts.netloc, p, q, ""))

        return {"query": url(query, parts.query),
                "update": url(root + paths["update"]),
                "gsp": url(root + paths["gsp"])}

    def permanent(self, body: bytes) -> bool:
        """True when a 5xx answer with ``body`` is not worth retrying."""
        return bool(self.permanent_errors and re.match(self.permanent_errors,
                                                       body[:200].decode("utf-8", "replace")))

    def graph_filter(self, var: str = "?g") -> str:
        """A ``FILTER`` leaving out :attr:`hidden_graphs` (empty when there are none)."""
        if not self.hidden_graphs:
            return ""
        tests = " && ".join(f'!STRSTARTS(STR({var}), "{p}")' for p in self.hidden_graphs)
        return f" FILTER({tests})"

    def hides(self, iri: str) -> bool:
        """True when ``iri`` is one of the server's own graphs."""
        return iri.startswith(self.hidden_graphs) if self.hidden_graphs else False


OXIGRAPH = EngineProfile(
    name="oxigraph",
    paths={"query": "/query", "update": "/update", "gsp": "/store"},
    union_param=True,
)
VIRTUOSO = EngineProfile(
    name="virtuoso",
    paths={"query": "/sparql", "update": "/sparql", "gsp": "/sparql-graph-crud"},
    auth_paths={"query": "/sparql-auth", "update": "/sparql-auth",
                "gsp": "/sparql-graph-crud-auth"},
    body="form",
    auth="digest",
    hidden_graphs=(
        "http://www.openlinksw.com/",  # virtrdf#: the RDF views' own metadata
        "http://www.w3.org/ns/ldp#",  # LDP container triples of the WebDAV server
        "http://localhost:8890/",  # the server's /sparql service description, DAV/
    ),
    rewrites=(decimal_division, plain_case_keys),
    decimal_places=15,
    # Virtuoso answers a failing query (e.g. SR084 division by zero) with HTTP 500 and its
    # SQL state; only 40001 (deadlock, a concurrent write) is worth a retry.
    permanent_errors=r"\s*Virtuoso (?!40001)\w+ Error",
    # The compiled shapes compare xsd:date differences as xsd:dayTimeDuration strings,
    # which Virtuoso's date arithmetic does not give: pySHACL checks the fetched graphs.
    validator="pyshacl",
)
GENERIC = EngineProfile(
    name="generic",
    paths={"query": "/query", "update": "/update", "gsp": "/store"},
)

ENGINES: dict[str, EngineProfile] = {p.name: p for p in (OXIGRAPH, VIRTUOSO, GENERIC)}
"""The profiles ``--engine`` accepts (plus ``auto``)."""

SERVER_HEADERS = {"virtuoso": VIRTUOSO, "oxigraph": OXIGRAPH}
"""``Server`` header words that identify an engine (case-insensitive)."""


def engine_profile(name: str | None, endpoint: str, timeout: float = 10.0) -> EngineProfile:
    """The profile called ``name``; ``auto`` (the default, or ``$IMR_GRAPH_ENGINE``)
    asks the server once and reads its ``Server`` header; Oxigraph when nothing is known.
    """
    name = (name or os.environ.get("IMR_GRAPH_ENGINE") or "auto").lower()
    if name == "auto":
        return detect_engine(endpoint, timeout) or OXIGRAPH
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}; choose auto or one of {', '.join(ENGINES)}")
    return ENGINES[name]


def detect_engine(endpoint: str, timeout: float = 10.0) -> EngineProfile | None:
    """The profile named by the ``Server`` header of a ``GET`` on ``endpoint`` (any status),
    or None when the server cannot be reached or does not say."""
    try:
        with urllib.request.urlopen(urllib.request.Request(endpoint, method="GET"),
                                    timeout=timeout) as resp:
            server = resp.headers.get("Server", "")
    except urllib.error.HTTPError as exc:
        server = exc.headers.get("Server", "") if exc.headers else ""
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None
    for word, profile in SERVER_HEADERS.items():
        if word in server.lower():
            return profile
    return None


__all__ = ["ENGINES", "EngineProfile", "detect_engine", "engine_profile"]
