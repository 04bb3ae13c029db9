"""A remote triple store: the graph kept in a SPARQL 1.1 Protocol + Graph Store Protocol server.

:class:`RemoteStore` has the public methods of :class:`~imr_graph.graph.store.GraphStore` that the
commands use (``replace_case``, ``replace_graph``, ``load_vocabulary``, ``drop_case``,
``query``, ``stats``, ``case_graphs``, ``resolve_graph``, ``iter_quads``, ``dump``) and returns
the same Python shapes (``pyoxigraph`` ``QuerySolutions``/``QueryBoolean``/``QueryTriples``),
so ``queries.run_query`` and ``queries.format_result`` work on either backend.
:func:`open_backend` picks one from the command line options.

* Writing: each case graph is sent with one Graph Store Protocol ``PUT ?graph=IRI``
  (N-Triples body). A PUT replaces the graph as a whole, so re-ingesting stays idempotent and
  (on servers that run a request in one transaction, as Oxigraph, Fuseki and GraphDB do)
  atomic per case. Transient failures (HTTP 429, 5xx, refused or reset connections) are
  retried with exponential backoff; a case that still fails raises
  :class:`~imr_graph.errors.RemoteWriteError`, which the ingest loop reports for that file
  while the other files go on.
* Reading: SPARQL 1.1 Protocol ``POST``, results read back as SPARQL JSON (SELECT/ASK) or
  N-Triples (CONSTRUCT/DESCRIBE). The default graph is the union of the named graphs:
  Oxigraph is asked with its ``union-default-graph`` parameter; other servers have it as
  their default (Virtuoso, GraphDB) or must be configured so (Fuseki
  ``tdb2:unionDefaultGraph``). ``$IMR_GRAPH_UNION_PARAM=0``/``1`` overrides the profile.
* Engines: what the protocols leave open (endpoint layout, direct or form-encoded requests,
  basic or digest authentication, the server's own graphs, query rewrites) is an
  :class:`~imr_graph.graph.engines.EngineProfile`, named with ``engine`` (``--engine``) or
  detected from the server's ``Server`` header.
* Parameters (``substitutions``) cannot travel separately over the protocol; they are sent as
  a ``VALUES`` block of N-Triples-escaped terms at the head of the outermost ``WHERE`` group,
  so a value is still one RDF term and never becomes query syntax.
* Credentials come from the environment only: ``IMR_GRAPH_TOKEN`` (bearer) or
  ``IMR_GRAPH_USER`` + ``IMR_GRAPH_PASSWORD`` (basic, or digest for Virtuoso).
"""

from __future__ import annotations

import base64
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pyoxigraph import (
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ..errors import RemoteWriteError, StoreError, UsageError
from .engines import OXIGRAPH, EngineProfile, engine_profile, masked
from .mapping import (
    PREFIXES,
    resolve_base,
)
from .sparqlguard import check_update
from .store import (
    DUMP_FORMATS,
    STATS_QUERIES,
    CaseStore,
    GraphStore,
    QueryResult,
    triple_lines,
)

TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses retried with backoff."""

def derive_endpoints(
    endpoint: str,
    update_endpoint: str | None = None,
    gsp_endpoint: str | None = None,
    profile: EngineProfile = OXIGRAPH,
    *,
    credentials: bool = False,
) -> tuple[str, str, str]:
    """(query, update, graph store) URLs; the defaults follow the engine profile's layout.

    Oxigraph: ``http://host:7878`` or ``http://host:7878/query`` both give ``.../query``,
    ``.../update`` and ``.../store``; Virtuoso: ``/sparql`` and ``/sparql-graph-crud``
    (their ``-auth`` forms when ``credentials``).
    """
    urls = profile.endpoints(endpoint, credentials=credentials)
    return urls["query"], update_endpoint or urls["update"], gsp_endpoint or urls["gsp"]


def has_credentials() -> bool:
    """True when ``$IMR_GRAPH_TOKEN`` or ``$IMR_GRAPH_USER`` is set."""
    return bool(os.environ.get("IMR_GRAPH_TOKEN") or os.environ.get("IMR_GRAPH_USER"))


def _authentication(profile: EngineProfile, url: str) -> tuple[dict[str, str], Callable[..., Any]]:
    """(headers, urlopen) for the profile: digest authentication is answered by an opener
    (it needs the server's challenge); a token or basic credentials are a header."""
    user = os.environ.get("IMR_GRAPH_USER")
    if profile.auth == "digest" and user and not os.environ.get("IMR_GRAPH_TOKEN"):
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        parts = urllib.parse.urlsplit(url)
        passwords.add_password(None, f"{parts.scheme}://{parts.netloc}/", user,
                               os.environ.get("IMR_GRAPH_PASSWORD", ""))

        def digest_open(req: urllib.request.Request, timeout: float) -> Any:
            # A handler per request: urllib's keeps a retry count that an error answer
            # (HTTP 500 after the challenge) leaves set, failing every later request.
            handler = urllib.request.HTTPDigestAuthHandler(passwords)
            return urllib.request.build_opener(handler).open(req, timeout=timeout)

        return {}, digest_open
    return auth_header(), urllib.request.urlopen


def auth_header() -> dict[str, str]:
    """The Authorization header from ``IMR_GRAPH_TOKEN`` or ``IMR_GRAPH_USER``/``_PASSWORD``."""
    token = os.environ.get("IMR_GRAPH_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("IMR_GRAPH_USER")
    if user:
        secret = f"{user}:{os.environ.get('IMR_GRAPH_PASSWORD', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(secret).decode("ascii")}
    return {}


# ----------------------------------------------------------------------------------------------
# Parameter binding over the protocol
# ----------------------------------------------------------------------------------------------

def bind_values(text: str, substitutions: dict[str, Any]) -> str:
    """Put ``VALUES (?a ?b) { (t1 t2) }`` at the head of the outermost WHERE group, and of
    every group that uses one of the variables itself.

    Oxigraph's ``substitutions`` replace the variable everywhere (SEP-0007); a single VALUES
    block at the top would be joined only after the inner groups are evaluated, so a
    ``FILTER`` on the parameter inside a nested group (the fast form of
    ``cases-citing-section``) would see it unbound and match nothing. The same block in
    each group that mentions the variable gives the substitution's answer. Terms are
    written with pyoxigraph's N-Triples serialisation (escaped), so a value cannot change
    the structure of the query.
    """
    if not substitutions:
        return text
    masked_text = masked(text)
    m = re.search(r"(?i)\bWHERE\s*\{", masked_text)
    if m is None:
        m = re.search(r"(?i)\b(SELECT|ASK|DESCRIBE)\b[^{]*\{", masked_text)
    if m is None:
        raise SyntaxError("cannot bind parameters: the query has no WHERE clause")
    names = " ".join(f"?{name}" for name in substitutions)
    terms = " ".join(str(term) for term in substitutions.values())
    block = f" VALUES ({names}) {{ ({terms}) }}\n"
    at = {m.end()} | _groups_using(masked_text, m.end(), set(substitutions))
    out, last = [], 0
    for i in sorted(at):
        out += [text[last:i], block]
        last = i
    return "".join(out) + text[last:]


_SUBSELECT_RE = re.compile(r"(?i)\s*SELECT\b")
_VALUES_HEAD_RE = re.compile(r"(?i)\bVALUES\s*(\?\w+|\$\w+|\([^()]*\))\s*$")
_VARIABLE_RE = re.compile(r"[?$]([A-Za-z0-9_]+)")


def _groups_using(masked: str, start: int, names: set[str]) -> set[int]:
    """Offsets just after the ``{`` of each group pattern from ``start`` on that mentions
    one of ``names`` (``?x`` or ``$x``) directly, not only in a group nested in it.
    VALUES data blocks are not group patterns, and a sub-select's group must hold the
    sub-select alone (its own WHERE group is a group pattern): both are skipped."""
    found: set[int] = set()
    stack: list[int | None] = [start]
    i = start
    while i < len(masked) and stack:
        c = masked[i]
        if c == "{":
            data = _VALUES_HEAD_RE.search(masked[max(0, i - 300):i])
            sub = _SUBSELECT_RE.match(masked, i + 1)
            stack.append(None if data or sub else i + 1)
        elif c == "}":
            stack.pop()
        elif c in "?$" and stack[-1] is not None:
            v = _VARIABLE_RE.match(masked, i)
            if v and v.group(1) in names:
                found.add(stack[-1])
        i += 1
    return found


def _with_prefixes(text: str) -> str:
    """Declare the project prefixes the query uses but does not declare itself."""
    declared = {p.lower() for p in re.findall(r"(?i)\bPREFIX\s+([A-Za-z0-9_.-]*):", text)}
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items()
                   if p.lower() not in declared)
    return head + text


# ----------------------------------------------------------------------------------------------
# The store
# ----------------------------------------------------------------------------------------------


class RemoteStore(CaseStore):
    """A SPARQL 1.1 Protocol + Graph Store Protocol server holding one named graph per case."""

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str | None = None,
        gsp_endpoint: str | None = None,
        read_only: bool = False,
        base: str | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        union_param: bool | None = None,
        engine: str | EngineProfile | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.profile = (engine if isinstance(engine, EngineProfile)
                        else engine_profile(engine, endpoint, timeout))
        self.query_url, self.update_url, self.gsp_url = derive_endpoints(
            endpoint, update_endpoint, gsp_endpoint, self.profile,
            credentials=has_credentials(),
        )
        self.path = self.query_url  # where the data lives, for messages ("store ...")
        self.read_only = read_only
        self.base = resolve_base(base)
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        if union_param is None:
            env = os.environ.get("IMR_GRAPH_UNION_PARAM")
            union_param = (self.profile.union_param if env is None
                           else env not in ("0", "false", ""))
        self.union_param = union_param
        self._sleep = sleep
        self._headers, self._open = _authentication(self.profile, self.query_url)
        self.ping()

    # -- HTTP -----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
    ) -> tuple[int, bytes]:
        """One request with retries on transient errors; returns (status, body).

        Non-transient HTTP errors return their status and body; transient errors that
        persist raise :class:`OSError` (connection) or return the last status.
        """
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            req = urllib.request.Request(url, data=body, method=method,
                                         headers={**self._headers, **(headers or {})})
            try:
                with self._open(req, timeout=self.timeout) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, data = exc.code, exc.read()
                if (status not in TRANSIENT_STATUS or attempt == attempts - 1
                        or self.profile.permanent(data)):
                    return status, data
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if attempt == attempts - 1:
                    reason = getattr(exc, "reason", exc)
                    raise OSError(f"{method} {url}: {reason}") from None
            self._sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def ping(self) -> None:
        """Check that the query endpoint answers (a clear error instead of one per case)."""
        try:
            body, headers = self._sparql("query", "ASK {}")
            status, data = self._request("POST", self.query_url, body=body, headers=headers,
                                         retry=False)
        except OSError as exc:
            raise StoreError(f"cannot reach SPARQL endpoint: {exc}", path=self.query_url) \
                from None
        if status in (401, 403):
            raise StoreError(f"endpoint refused access (HTTP {status}); set IMR_GRAPH_TOKEN "
                             "or IMR_GRAPH_USER/IMR_GRAPH_PASSWORD", path=self.query_url)
        if status >= 400:
            raise StoreError(f"endpoint answered HTTP {status}: {_snippet(data)}",
                             path=self.query_url)

    def _sparql(self, kind: str, text: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a ``query`` or ``update`` request, in the profile's form."""
        headers = {"Accept": "application/sparql-results+json, application/n-triples;q=0.9"}
        if self.profile.body == "form":
            body = urllib.parse.urlencode({kind: text}).encode("ascii")
            return body, {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        return text.encode("utf-8"), {**headers, "Content-Type": f"application/sparql-{kind}"}

    def _query_url(self, graph: NamedNode | None) -> str:
        params: list[tuple[str, str]] = []
        if graph is not None:
            graphs = self.query_graphs(graph)
            for kind in ("default-graph-uri", "named-graph-uri"):
                params += [(kind, g.value) for g in graphs]
        elif self.union_param:
            params.append(("union-default-graph", ""))
        if not params:
            return self.query_url
        sep = "&" if "?" in self.query_url else "?"
        return self.query_url + sep + urllib.parse.urlencode(params)

    def _gsp_url(self, graph: NamedNode) -> str:
        sep = "&" if "?" in self.gsp_url else "?"
        return self.gsp_url + sep + urllib.parse.urlencode({"graph": graph.value})

    # -- writing --------------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.read_only:
            raise StoreError("store is open read-only", path=self.query_url)

    def replace_graph(self, graph: NamedNode, quads: Iterable[Quad]) -> int:
        """Replace ``graph`` with ``quads`` by one Graph Store Protocol PUT; returns triples.

        Raises :class:`RemoteWriteError` when the server still fails after the retries.
        """
        self._writable()
        concepts = self.concepts_graph
        lines, shared = triple_lines(quads, graph, concepts)
        body = ("\n".join(lines) + "\n").encode("utf-8")
        try:
            if shared:  # concepts first (additive), so a case written has its concepts
                self._post_update(f"INSERT DATA {{ GRAPH {concepts} {{\n"
                                  + "\n".join(shared) + "\n} }", graph)
            status, data = self._request("PUT", self._gsp_url(graph), body=body,
                                         headers={"Content-Type": "application/n-triples"})
        except OSError as exc:
            raise RemoteWriteError(f"cannot write graph {graph.value}: {exc}") from None
        if status >= 300:
            raise RemoteWriteError(f"cannot write graph {graph.value}: HTTP {status} "
                                   f"{_snippet(data)}")
        return len(lines)

    def _post_update(self, text: str, graph: NamedNode) -> None:
        body, headers = self._sparql("update", text)
        status, data = self._request("POST", self.update_url, body=body, headers=headers)
        if status >= 300:
            raise RemoteWriteError(f"cannot write graph {graph.value}: HTTP {status} "
                                   f"{_snippet(data)}")

    def drop_case(self, case: str) -> int:
        """Remove one case graph (Graph Store Protocol DELETE); returns triples removed."""
        self._writable()
        graph = self.resolve_graph(case)
        size = self.graph_size(graph)
        try:
            status, data = self._request("DELETE", self._gsp_url(graph))
        except OSError as exc:
            raise StoreError(f"cannot drop {graph.value}: {exc}", path=self.gsp_url) from None
        if status >= 300 and status != 404:
            raise StoreError(f"cannot drop {graph.value}: HTTP {status} {_snippet(data)}",
                             path=self.gsp_url)
        self.prune_concepts()
        return size

    def update(self, text: str) -> None:
        """Run a SPARQL Update at the update endpoint (``LOAD``/``SERVICE`` refused)."""
        from ..errors import QueryError

        self._writable()
        check_update(text)
        body, headers = self._sparql("update", _with_prefixes(text))
        try:
            status, data = self._request("POST", self.update_url, body=body, headers=headers)
        except OSError as exc:
            raise StoreError(f"update failed: {exc}", path=self.update_url) from None
        if status == 400:
            raise QueryError(f"update rejected: {_snippet(data)}")
        if status >= 300:
            raise StoreError(f"update failed: HTTP {status} {_snippet(data)}",
                             path=self.update_url)

    # -- reading --------------------------------------------------------------------------------

    def query(
        self,
        text: str,
        *,
        substitutions: dict[str, Any] | None = None,
        graph: NamedNode | None = None,
    ) -> QueryResult:
        """Run a SPARQL query on the server; same result types as :meth:`GraphStore.query`.

        Raises ``SyntaxError`` when the server rejects the query (HTTP 400), ``RuntimeError``
        for other failures and ``OSError`` when the server cannot be reached, like pyoxigraph.
        """
        text = self.profile.rewrite(_with_prefixes(bind_values(text, substitutions or {})))
        body, headers = self._sparql("query", text)
        status, data = self._request("POST", self._query_url(graph), body=body, headers=headers)
        if status == 400:
            raise SyntaxError(_snippet(data, 400))
        if status >= 300:
            raise RuntimeError(f"HTTP {status} from {self.query_url}: {_snippet(data)}")
        return _parse_result(data)

    def _select(self, text: str) -> list[dict[str, Any]]:
        try:
            result = self.query(text)
        except (OSError, RuntimeError, SyntaxError) as exc:
            raise StoreError(f"query failed: {exc}", path=self.query_url) from None
        if not isinstance(result, QuerySolutions):
            raise StoreError("expected a SELECT result", path=self.query_url)
        names = [v.value for v in result.variables]
        return [{n: sol[n] for n in names} for sol in result]

    def _count(self, text: str) -> int:
        rows = self._select(text)
        return int(rows[0]["n"].value) if rows and rows[0]["n"] is not None else 0

    def named_graphs(self) -> list[NamedNode]:
        """All named graphs holding triples, sorted by IRI."""
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f"{self.profile.graph_filter()} }}")
        graphs = [r["g"] for r in rows if isinstance(r["g"], NamedNode)]
        return sorted(graphs, key=lambda g: g.value)

    def contains_graph(self, graph: NamedNode) -> bool:
        """True when ``graph`` holds at least one triple."""
        result = self.query(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        return bool(result)

    def has_graph(self, graph: NamedNode) -> bool:
        """True when the server holds this named graph."""
        return self.contains_graph(graph)

    def location(self) -> str:
        """Where the store is, for messages."""
        return str(self.query_url)

    def graph_size(self, graph: NamedNode) -> int:
        """Number of triples in one graph."""
        return self._count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")

    def __len__(self) -> int:
        return self._count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                           f"{self.profile.graph_filter()} }}")

    def stats(self) -> dict[str, int]:
        """The same counts as :meth:`GraphStore.stats`."""
        out: dict[str, int] = {}
        for name, text in STATS_QUERIES.items():
            out[name] = self._count(text)
        graphs = self.named_graphs()
        out["case_graphs"] = len(self.only_case_graphs(graphs))
        out["concept_triples"] = self.graph_size(self.concepts_graph)
        out["vocabulary_triples"] = self.graph_size(self.vocabulary_graph)
        out["named_graphs"] = len(graphs)
        out["triples"] = len(self)
        return out

    def iter_quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """All quads in named graphs, or of one graph."""
        if graph is not None:
            result = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
            assert isinstance(result, QuerySolutions)
            return iter([Quad(s["s"], s["p"], s["o"], graph) for s in result])
        result = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f"{self.profile.graph_filter()} }}")
        assert isinstance(result, QuerySolutions)
        return iter([Quad(s["s"], s["p"], s["o"], s["g"]) for s in result])

    def dump(
        self,
        fmt: str,
        output: IO[bytes] | str | Path | None = None,
        *,
        graph: NamedNode | None = None,
    ) -> bytes | None:
        """Serialise the server's data like :meth:`GraphStore.dump` (through SPARQL)."""
        if fmt not in DUMP_FORMATS:
            raise UsageError(
                f"unknown dump format {fmt!r}; choose one of {', '.join(DUMP_FORMATS)}"
            )
        local = Store()
        local.extend(self.iter_quads(graph))
        target = str(output) if isinstance(output, Path) else output
        rdf_format = DUMP_FORMATS[fmt]
        prefixes = dict(PREFIXES) if rdf_format in (RdfFormat.TRIG, RdfFormat.TURTLE) else None
        if rdf_format.supports_datasets and graph is None:
            return local.dump(target, rdf_format, prefixes=prefixes)
        if graph is not None:
            return local.dump(target, rdf_format, from_graph=graph, prefixes=prefixes)
        triples = local.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                              use_default_graph_as_union=True)
        return serialize(triples, target, rdf_format, prefixes=prefixes)  # type: ignore[arg-type]





def _parse_result(data: bytes) -> QueryResult:
    """SPARQL JSON results -> QuerySolutions/QueryBoolean; N-Triples -> QueryTriples."""
    head = data.lstrip()[:1]
    if head == b"{":
        return parse_query_results(data, QueryResultsFormat.JSON)
    # A graph result: load it into a scratch store so callers get a real QueryTriples.
    local = Store()
    local.extend(Quad(t.subject, t.predicate, t.object)
                 for t in parse(data, RdfFormat.N_TRIPLES) if isinstance(t, Triple | Quad))
    return local.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


def _snippet(data: bytes, limit: int = 200) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def open_backend(
    store: Path | str | None = None,
    endpoint: str | None = None,
    update_endpoint: str | None = None,
    *,
    gsp_endpoint: str | None = None,
    read_only: bool = False,
    base: str | None = None,
    engine: str | None = None,
) -> GraphStore | RemoteStore:
    """The embedded store at ``store``, or the server at ``endpoint`` when one is given.

    ``$IMR_GRAPH_ENDPOINT`` stands in for ``endpoint`` when no ``--store`` is given either;
    ``engine`` names the server's profile (:data:`~imr_graph.graph.engines.ENGINES`; default
    ``$IMR_GRAPH_ENGINE``, else detected).
    """
    if endpoint is None and store is None:
        endpoint = os.environ.get("IMR_GRAPH_ENDPOINT") or None
    if endpoint is not None:
        if store is not None:
            raise UsageError("give --store or --endpoint, not both")
        return RemoteStore(endpoint, update_endpoint=update_endpoint, gsp_endpoint=gsp_endpoint,
                           read_only=read_only, base=base, engine=engine)
    if update_endpoint is not None or gsp_endpoint is not None or engine is not None:
        raise UsageError("--update-endpoint, --gsp-endpoint and --engine need --endpoint")
    return GraphStore(store, read_only=read_only, base=base)


__all__ = ["QueryBoolean", "RemoteStore", "derive_endpoints", "open_backend"]
