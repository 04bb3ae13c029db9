"""Queries: canned SPARQL queries, parameter binding, safety checks and result formatting.

A query is given as a canned name (a ``.rq`` file in ``queries/``), a path to a ``.rq`` file,
inline SPARQL text, or ``-`` (stdin, read by the CLI). A ``.rq`` file starts with a comment
header::

    # Overturn rate by service: items, overturned and rate for each service.
    #
    # param: min_items integer = 1 - only services with at least this many items
    # example: imr-graph query overturn-rate-by-service --param min_items=2

The first comment line is the one-line description ``imr-graph queries`` lists; ``param:``
lines declare parameters (``name [type] [= default] - description``, types ``string``
(default), ``iri``, ``integer``, ``decimal``, ``date``, ``boolean``). Parameters are bound as
RDF terms through Oxigraph's ``substitutions`` (never spliced into the text), which requires a
SELECT query that projects them. Queries are read-only: SPARQL Update text is refused (use
``imr-graph update``), and ``SERVICE`` (federation) and ``LOAD`` are refused everywhere
because imr-graph never touches the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import io
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, TypeVar

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    serialize,
)

from ..errors import QueryError
from ..resources import queries_dir
from ..textutil import visible
from .mapping import PREFIXES, XSD, resolve_base
from .rates import add_rates, min_items_filter, rate_groups
from .sparqlguard import network_operations, syntax_message, tokens
from .store import GraphStore, QueryResult

Term = NamedNode | Literal | BlankNode
T = TypeVar("T")

DEFAULT_TABLE_LIMIT = 10000
"""Rows a ``table`` shows unless ``--limit`` says otherwise."""
DEFAULT_TIMEOUT = 300.0
"""Seconds ``imr-graph query`` lets a query run unless ``--timeout`` says otherwise."""

PARAM_TYPES = ("string", "iri", "integer", "decimal", "date", "boolean")
SELECT_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("ttl", "nt")
FORMATS = SELECT_FORMATS + GRAPH_FORMATS

_RESULT_FORMATS = {
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
}


@dataclass(frozen=True)
class Param:
    """A declared query parameter."""

    name: str
    type: str = "string"
    default: str | None = None
    description: str = ""
    choices: tuple[str, ...] = ()
    """The values allowed (a ``values:`` header line), matched case-insensitively."""


@dataclass
class Query:
    """A query text with what its header declares."""

    text: str
    name: str = "<inline>"
    description: str = ""
    params: list[Param] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    path: Path | None = None
    declared: bool = False
    """True when the header declares parameters (then only those are accepted)."""


_PARAM_RE = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\s+(?P<type>[a-z]+))?"
    r"(?:\s*=\s*(?P<default>\S+))?"
    r"(?:\s+-\s+(?P<desc>.*))?$"
)


def parse_header(text: str, name: str = "<inline>", path: Path | None = None) -> Query:
    """Read the comment header of a query (description, ``param:``, ``example:`` lines)."""
    query = Query(text=text, name=name, path=path)
    in_description = True
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        lower = body.lower()
        if in_description and body and not lower.startswith(("param:", "example:", "values:")):
            query.description = f"{query.description} {body}".strip()
            continue
        if query.description:
            in_description = False
        if lower.startswith("values:"):
            pname, _, listed = body[len("values:") :].strip().partition(" ")
            at = next((i for i, p in enumerate(query.params) if p.name == pname), None)
            if at is None:
                raise QueryError(f"{name}: values: for undeclared parameter {pname!r}")
            choices = tuple(v.strip() for v in listed.split(",") if v.strip())
            query.params[at] = dataclasses.replace(query.params[at], choices=choices)
        elif lower.startswith("param:"):
            spec = body[len("param:") :].strip()
            m = _PARAM_RE.match(spec)
            if not m:
                raise QueryError(f"{name}: cannot read parameter declaration {spec!r}")
            ptype = m["type"] or "string"
            if ptype not in PARAM_TYPES:
                raise QueryError(
                    f"{name}: parameter {m['name']} has unknown type {ptype!r} "
                    f"(one of {', '.join(PARAM_TYPES)})"
                )
            query.params.append(Param(m["name"], ptype, m["default"], (m["desc"] or "").strip()))
            query.declared = True
        elif lower.startswith("example:"):
            query.examples.append(body[len("example:") :].strip())
    return query


def canned_queries() -> dict[str, Query]:
    """All canned queries by name (file stem), sorted by name."""
    out: dict[str, Query] = {}
    for path in sorted(queries_dir().glob("*.rq")):
        query = parse_header(path.read_text(encoding="utf-8"), path.stem, path)
        query.declared = True  # a canned query's header is authoritative
        out[path.stem] = query
    return out


def close_matches(name: str, names: list[str]) -> list[str]:
    """Names close to ``name``: substring hits first, then fuzzy matches."""
    hits = [n for n in names if name.lower() in n]
    for n in difflib.get_close_matches(name.lower(), names, n=5, cutoff=0.5):
        if n not in hits:
            hits.append(n)
    return hits[:5]


def resolve_query(spec: str) -> Query:
    """A canned name, a ``.rq`` path or inline SPARQL text -> :class:`Query`.

    (``-`` for stdin is handled by the caller, which passes the text read.)
    """
    text = spec.strip()
    if not text:
        raise QueryError("empty query")
    looks_like_name = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) is not None
    path = Path(text) if "\n" not in text and len(text) < 4096 else None
    if path is not None and (text.endswith(".rq") or text.endswith(".sparql") or
                             (path.is_file() and not looks_like_name)):
        if not path.is_file():
            raise QueryError(f"query file not found: {text}")
        try:
            body = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"cannot read query file {text}: {exc}") from None
        return parse_header(body, path.name, path)
    if looks_like_name:
        canned = canned_queries()
        if text in canned:
            return canned[text]
        matches = close_matches(text, list(canned))
        hint = f"; did you mean: {', '.join(matches)}?" if matches else ""
        raise QueryError(
            f"unknown canned query {text!r}{hint} (`imr-graph queries` lists them)"
        )
    return parse_header(text)


# ----------------------------------------------------------------------------------------------
# Safety: read-only queries, no network
# ----------------------------------------------------------------------------------------------

_UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                    "COPY", "WITH")


@functools.lru_cache(maxsize=256)
def check_read_only(text: str, *, allow_service: bool = False) -> None:
    """Refuse SPARQL Update, and federated (``SERVICE``) queries unless ``allow_service``.

    Cached by text (a refused text raises again each time): a canned query is checked once
    per process, which matters for point lookups that run in well under a millisecond.
    """
    first = ""
    for kind, word in tokens(text):  # the first keyword after the PREFIX and BASE declarations
        if kind == "word" and word.upper() in ("PREFIX", "BASE"):
            continue
        if kind in ("pname", "iri"):
            continue
        first = word.upper() if kind == "word" else ""
        break
    if first in _UPDATE_KEYWORDS:
        raise QueryError(
            f"`query` is read-only and this is a SPARQL Update ({first}); "
            "use `imr-graph update` to change the store"
        )
    if not allow_service and network_operations(text, parse=not _is_canned(text)):
        raise QueryError("federated queries (SERVICE) are disabled: imr-graph never uses the "
                         "network (--allow-service lets this query call out)")


def _is_canned(text: str) -> bool:
    """True for the text of a canned query shipped with imr-graph (its tokens are judged
    alone; tests/test_safety_sparql.py parses each one)."""
    return any(q.text == text for q in canned_queries().values())


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------

_LITERAL_RE = re.compile(r'^"(?P<value>(?:[^"\\]|\\.)*)"(?:\^\^(?P<dt><[^>]+>|xsd:\w+)|@(?P<lang>[A-Za-z]+(?:-[A-Za-z0-9]+)*))?$')


def parse_value(value: str, ptype: str | None = None) -> Term:
    """A ``--param`` value as an RDF term.

    ``<iri>`` is an IRI; ``"text"``, ``"5"^^xsd:integer`` or ``"text"@en`` are literals as
    written; anything else follows the declared type (``string`` when none is declared;
    for undeclared parameters numbers become ``xsd:integer``/``xsd:decimal``).
    """
    try:
        if value.startswith("<") and value.endswith(">"):
            return NamedNode(value[1:-1])
        m = _LITERAL_RE.match(value)
        if m:
            text = re.sub(r"\\(.)", r"\1", m["value"])
            if m["dt"]:
                dt = m["dt"]
                iri = XSD + dt[4:] if dt.startswith("xsd:") else dt[1:-1]
                return Literal(text, datatype=NamedNode(iri))
            if m["lang"]:
                return Literal(text, language=m["lang"])
            return Literal(text)
        if ptype == "iri":
            return NamedNode(value)
        if ptype == "integer" or (ptype is None and re.fullmatch(r"[+-]?\d+", value)):
            if not re.fullmatch(r"[+-]?\d+", value):
                raise ValueError(f"{value!r} is not an integer")
            return Literal(value, datatype=NamedNode(XSD + "integer"))
        if ptype == "decimal" or (ptype is None and re.fullmatch(r"[+-]?\d*\.\d+", value)):
            if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", value):
                raise ValueError(f"{value!r} is not a decimal number")
            return Literal(value, datatype=NamedNode(XSD + "decimal"))
        if ptype == "date":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
            return Literal(value, datatype=NamedNode(XSD + "date"))
        if ptype == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(f"{value!r} is not true or false")
            return Literal(value.lower(), datatype=NamedNode(XSD + "boolean"))
        return Literal(value)
    except ValueError as exc:
        raise QueryError(f"bad parameter value {value!r}: {exc}") from None


def parse_param_args(args: list[str]) -> dict[str, str]:
    """``["name=value", ...]`` -> dict; a name may be written ``?name``."""
    out: dict[str, str] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        name = name.strip().lstrip("?$")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise QueryError(f"bad --param {arg!r}: expected name=value")
        out[name] = value
    return out


def bind_params(query: Query, given: dict[str, str]) -> dict[str, Term]:
    """Check ``given`` against the query's declared parameters and convert them to terms."""
    declared = {p.name: p for p in query.params}
    if query.declared:
        unknown = [n for n in given if n not in declared]
        if unknown:
            takes = ", ".join(declared) or "no parameters"
            raise QueryError(f"{query.name}: unknown parameter {', '.join(unknown)} "
                             f"(it takes: {takes})")
        missing = [p for p in query.params if p.name not in given and p.default is None]
        if missing:
            listing = "; ".join(f"{p.name} ({p.description or p.type})" for p in missing)
            flags = " ".join(f"--param {p.name}=VALUE" for p in missing)
            raise QueryError(f"{query.name}: missing parameter {listing}; pass {flags}")
    else:
        for name in given:
            if not re.search(rf"[?$]{re.escape(name)}\b", query.text):
                raise QueryError(f"{query.name}: parameter {name} does not occur in the query")
    out: dict[str, Term] = {}
    for name, p in declared.items():
        if name not in given and p.default is not None:
            out[name] = parse_value(p.default, p.type)
    for name, value in given.items():
        if name in declared and declared[name].choices:
            value = _choice(query.name, declared[name], value)
        out[name] = parse_value(value, declared[name].type if name in declared else None)
    return out


def _choice(query: str, param: Param, value: str) -> str:
    """``value`` as one of the parameter's allowed values (case-insensitive), or an error
    naming them and the nearest one."""
    by_lower = {c.lower(): c for c in param.choices}
    if value.strip().lower() in by_lower:
        return by_lower[value.strip().lower()]
    near = close_matches(value.strip(), list(by_lower))
    hint = f"; did you mean {by_lower[near[0]]}?" if near else ""
    raise QueryError(f"{query}: unknown {param.name} {value!r}; one of: "
                     f"{', '.join(param.choices)}{hint}")


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


def run_query(
    store: GraphStore,
    query: Query,
    params: dict[str, str] | None = None,
    *,
    graph: str | None = None,
    allow_service: bool = False,
) -> QueryResult:
    """Check, bind and run ``query`` on ``store``; errors become :class:`QueryError`.

    ``SERVICE`` clauses are refused unless ``allow_service`` (the one way a query reaches
    the network). Evaluation is lazy: the work happens while the result is read, so wrap
    reading it in :func:`call_with_timeout` and cap rows with :func:`limit_rows`.

    A SELECT result with counts (``items`` or ``cases``, and ``overturned``) is read here
    and gets its rate rounded to 3 places and a Wilson 95% interval (``ci_low``,
    ``ci_high``; :mod:`imr_graph.graph.rates`). ``min_items`` is accepted by every query: one
    that declares it binds it in SPARQL; for the others rows with fewer items are dropped.
    """
    check_read_only(query.text, allow_service=allow_service)
    given = dict(params or {})
    least = _result_min_items(query, given)
    if query.declared and "case" in given and any(p.name == "case" for p in query.params):
        # A declared ``case`` parameter is a case key: matched case-insensitively, and an
        # unknown one is an error naming the nearest keys (not an empty result).
        given["case"] = store.key_of(store.resolve_graph(given["case"]))
    terms = bind_params(query, given)
    graph_node = store.resolve_graph(graph) if graph else None
    try:
        result = store.query(query.text, substitutions=terms, graph=graph_node)
        return _with_rates(result, least, query.name)
    except SyntaxError as exc:
        raise QueryError(f"{query.name}: {syntax_message(str(exc))}") from None
    except RuntimeError as exc:
        message = str(exc)
        m = re.search(r"variable \?(\w+) in its SELECT projection", message)
        if m:
            raise QueryError(
                f"{query.name}: parameter {m[1]} must be a variable projected by a SELECT "
                f"query (e.g. SELECT ... ?{m[1]} ...) to be bound"
            ) from None
        raise QueryError(f"{query.name}: query failed: {message}") from None
    except OSError as exc:
        raise QueryError(f"{query.name}: query failed: {exc}") from None


def _result_min_items(query: Query, given: dict[str, str]) -> int | None:
    """Take ``min_items`` out of ``given`` when the query does not bind it itself."""
    if "min_items" not in given or any(p.name == "min_items" for p in query.params):
        return None
    if not query.declared and re.search(r"[?$]min_items\b", query.text):
        return None
    value = given.pop("min_items")
    if not re.fullmatch(r"\+?\d+", value.strip()):
        raise QueryError(f"{query.name}: min_items must be a whole number, not {value!r}")
    return int(value)


def _with_rates(result: QueryResult, least: int | None, name: str) -> QueryResult:
    """``result`` with rates and intervals added and ``min_items`` applied (when it has
    counts or ``least`` is given; otherwise unchanged and still lazy)."""
    if not isinstance(result, QuerySolutions):
        return result
    columns = [v.value for v in result.variables]
    if least is None and not rate_groups(columns):
        return result
    with query_errors(name):
        rows = [[solution[c] for c in columns] for solution in result]
    if least is not None:
        try:
            rows = min_items_filter(columns, rows, least, name)
        except ValueError as exc:
            raise QueryError(str(exc)) from None
    return rows_to_solutions(*add_rates(columns, rows))


def call_with_timeout(fn: Callable[[], T], seconds: float | None, what: str = "query") -> T:
    """``fn()``, but give up after ``seconds`` (None or 0: no limit) with a QueryError.

    ``fn`` runs in a daemon thread (Oxigraph releases the GIL while it evaluates, so the
    caller regains control on time). A thread cannot be killed: after a time-out it is
    abandoned, and it ends with the process (which is what the CLI does next).
    """
    if not seconds or seconds <= 0:
        return fn()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            # Drop the traceback here: its frames hold Oxigraph results, which must be freed
            # in the thread that made them (else a second error line at exit).
            exc.__traceback__ = None
            exc.__context__ = exc.__cause__ = None
            box["error"] = exc

    worker = threading.Thread(target=target, name="imr-graph-query", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise QueryError(f"{what} stopped after the --timeout of {seconds:g} s; narrow it, "
                         "add LIMIT, or raise --timeout (0 = no limit)")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def query_errors(name: str, sink: _Sink | None = None) -> Iterator[None]:
    """Errors of a running query (a failed ``SERVICE`` call, a store read error) as one
    :class:`QueryError` naming the query; a failed write to ``sink`` stays what it is."""
    try:
        yield
    except (OSError, RuntimeError, ValueError) as exc:
        if sink is not None and sink.failed:
            raise
        raise QueryError(f"{name}: query failed: {' '.join(str(exc).split())}") from None


def limit_rows(result: QueryResult, limit: int | None,
               name: str = "query") -> tuple[QueryResult, bool]:
    """At most ``limit`` rows of a SELECT result (None or 0: all); (result, truncated).

    Reads one row past the limit and stops there, so the rest is never computed (unless
    the query sorts or groups). The kept rows come back as a fresh ``QuerySolutions`` (the
    rows as a ``VALUES`` table, evaluated on an empty in-memory store), so every output
    format still works. Blank nodes become ``urn:x-blank:`` IRIs there (imr-graph data
    has none). Graphs and booleans are returned unchanged.
    """
    if not limit or limit <= 0 or not isinstance(result, QuerySolutions):
        return result, False
    columns = [v.value for v in result.variables]
    rows: list[list[Term | None]] = []
    truncated = False
    with query_errors(name):
        for solution in result:
            if len(rows) == limit:
                truncated = True
                break
            rows.append([solution[c] for c in columns])
    return rows_to_solutions(columns, rows), truncated


def rows_to_solutions(columns: list[str], rows: list[list[Term | None]]) -> QuerySolutions:
    """Rows of terms as a fresh ``QuerySolutions`` (a ``VALUES`` table evaluated on an empty
    in-memory store), so every output format works on them."""

    def cell(term: Term | None) -> str:
        if term is None:
            return "UNDEF"
        if isinstance(term, BlankNode):
            return f"<urn:x-blank:{term.value}>"
        return str(term)

    head = " ".join(f"?{c}" for c in columns)
    body = "\n".join("(" + " ".join(cell(t) for t in row) + ")" for row in rows)
    text = f"SELECT {head} WHERE {{ VALUES ({head}) {{\n{body}\n}} }}" if columns else (
        "SELECT * WHERE {}" + (" LIMIT 0" if not rows else "")
    )
    result = Store().query(text)
    assert isinstance(result, QuerySolutions)
    return result


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------


TABLE_ROW_CAP = 100_000
"""Most rows a ``table`` holds: it keeps every row to size its columns, so beyond this it
stops with an error; csv, tsv, json and xml (and ttl, nt) are streamed and have no cap."""


class _Sink:
    """The output of :func:`write_result`: remembers when writing itself failed (a closed
    pipe, a full disk), so that error is not mistaken for the query's."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.failed = False

    def write(self, data: bytes) -> int:
        try:
            return self.out.write(data)
        except BaseException:
            self.failed = True
            raise

    def flush(self) -> None:
        with contextlib.suppress(AttributeError):
            self.out.flush()


def write_result(
    result: QueryResult,
    out: IO[bytes],
    fmt: str = "table",
    *,
    base: str | None = None,
    hide: frozenset[str] | set[str] = frozenset(),
    name: str = "query",
) -> None:
    """Serialise a query result into ``out`` as it is computed (rows are written as they
    come, never held: memory stays flat however many rows there are), except ``table``,
    which holds at most :data:`TABLE_ROW_CAP` rows. SELECT/ASK as table/csv/tsv/json/xml,
    graphs as ttl/nt.

    ``hide`` names columns left out of tables (the bound parameters, which are constant);
    machine formats keep every column. An error while the query runs (a failed ``SERVICE``
    call, a store read error) is a :class:`QueryError` naming ``name``.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    sink = _Sink(out)
    with query_errors(name, sink):
        _write_result(result, sink, fmt, base, hide)
        sink.flush()


def _write_result(result: QueryResult, sink: _Sink, fmt: str, base: str | None,
                  hide: frozenset[str] | set[str]) -> None:
    if isinstance(result, QueryTriples):
        if fmt == "table":
            fmt = "ttl"
        if fmt not in GRAPH_FORMATS:
            raise QueryError(f"CONSTRUCT/DESCRIBE results are graphs: use --format "
                             f"{' or '.join(GRAPH_FORMATS)}, not {fmt}")
        rdf_format = RdfFormat.TURTLE if fmt == "ttl" else RdfFormat.N_TRIPLES
        serialize(result, sink, format=rdf_format, prefixes=PREFIXES if fmt == "ttl" else None)
        return
    if fmt in GRAPH_FORMATS:
        raise QueryError(f"SELECT/ASK results are tables: use --format "
                         f"{', '.join(SELECT_FORMATS)}, not {fmt}")
    if isinstance(result, QueryBoolean):
        if fmt == "table":
            sink.write(b"true\n" if bool(result) else b"false\n")
            return
        data = result.serialize(format=_RESULT_FORMATS[fmt]) or b""
        sink.write(data if data.endswith(b"\n") or fmt not in ("csv", "tsv") else data + b"\n")
        return
    assert isinstance(result, QuerySolutions)
    if fmt == "table":
        sink.write(render_table(result, base=base, hide=hide).encode("utf-8"))
        return
    result.serialize(sink, format=_RESULT_FORMATS[fmt])


def format_result(
    result: QueryResult,
    fmt: str = "table",
    *,
    base: str | None = None,
    hide: frozenset[str] | set[str] = frozenset(),
) -> bytes:
    """:func:`write_result` into bytes (for results known to be small)."""
    buf = io.BytesIO()
    write_result(result, buf, fmt, base=base, hide=hide)
    return buf.getvalue()


def solutions_to_rows(
    result: QuerySolutions, cap: int | None = None
) -> tuple[list[str], list[list[Term | None]]]:
    """Column names and rows of terms (None for unbound) of a SELECT result; more than
    ``cap`` rows is a :class:`QueryError`."""
    columns = [v.value for v in result.variables]
    rows = [[sol[c] for c in columns] for sol in islice(result, cap + 1 if cap else None)]
    if cap and len(rows) > cap:
        raise QueryError(f"more than {cap} rows for a table (which holds every row to size "
                         "its columns): use --format csv, tsv, json or xml (written as the rows "
                         "come), or --limit N")
    return columns, rows


def term_text(term: Term | None, base: str | None = None, width: int | None = None) -> str:
    """A term as a table cell: literal values, IRIs shortened with known prefixes."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        text = term.value
        if term.datatype.value in (XSD + "decimal", XSD + "double", XSD + "float"):
            with contextlib.suppress(ValueError):
                text = f"{float(text):.3f}".rstrip("0").rstrip(".")
    elif isinstance(term, NamedNode):
        text = _shorten(term.value, base or resolve_base(None))
    else:
        text = str(term)
    text = visible(" ".join(text.split()))  # letters are untrusted: no escape sequences
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _shorten(iri: str, base: str) -> str:
    if iri.startswith(base):
        return iri[len(base) :]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9_.-]*", iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def render_table(
    result: QuerySolutions,
    *,
    base: str | None = None,
    width: int = 80,
    hide: frozenset[str] | set[str] = frozenset(),
) -> str:
    """A plain-text table with a header line and a row count (at most
    :data:`TABLE_ROW_CAP` rows, else a :class:`QueryError`)."""
    columns, rows = solutions_to_rows(result, TABLE_ROW_CAP)
    keep = [i for i, c in enumerate(columns) if c not in hide] if len(hide) < len(columns) else (
        list(range(len(columns)))
    )
    columns = [columns[i] for i in keep]
    rows = [[row[i] for i in keep] for row in rows]
    cells = [[term_text(t, base, width) for t in row] for row in rows]
    numeric = [
        all(isinstance(r[i], Literal) and _is_number(r[i]) for r in rows if r[i] is not None)
        and any(r[i] is not None for r in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric,
                                                                          strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _is_number(term: Literal) -> bool:
    return term.datatype.value in {XSD + t for t in ("integer", "decimal", "double", "float",
                                                     "nonNegativeInteger", "long", "int")}
