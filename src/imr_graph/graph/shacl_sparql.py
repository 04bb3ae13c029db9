"""SHACL as SPARQL: the shapes (``ontology/shapes.ttl``) compiled into queries Oxigraph runs.

pySHACL reads the whole data into an rdflib graph and checks node by node: 0.2–0.4 s a case,
hours for a 100k-letter store, and memory that grows with it. Here each property shape of
the shapes graph becomes one or two SPARQL queries that return only the nodes violating it,
run on the store itself (no copy, memory flat): minutes at 100k letters (see
docs/performance.md). :mod:`imr_graph.graph.validate` uses it for ``imr-graph validate``; pySHACL
remains the reference (``--validator pyshacl``) and the tests check that both report the same.

The subset of SHACL compiled (what ``shapes.ttl`` uses; anything else is a
:class:`~imr_graph.errors.ShapesError`, never silently skipped):

* targets ``sh:targetClass`` (with the ontology's subclasses) and ``sh:targetSubjectsOf``;
  focus nodes are taken from the case graphs and the shared concepts graph, not from the
  vocabulary graphs (as pySHACL is given them);
* property paths: a predicate, a sequence, an inverse;
* ``sh:minCount``, ``sh:maxCount`` (one grouped query per property), ``sh:datatype``,
  ``sh:class``, ``sh:nodeKind`` (IRI, Literal), ``sh:in``, ``sh:pattern``, ``sh:minLength``,
  ``sh:minInclusive``, ``sh:maxInclusive`` (one query per property for all of them),
  ``sh:equals``, ``sh:node`` (the nested shape's checks on the values, reported on the
  outer node), ``sh:or`` (alternatives each checked, a node failing all reported), and
  SPARQL-based constraints (``sh:sparql`` with ``sh:select`` and ``sh:prefixes``; as the
  SHACL specification requires, refused when they use ``VALUES``, ``MINUS`` or ``SERVICE``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ShapesError
from ..resources import ontology_file

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass
class Check:
    """One query and how to read its rows into violations.

    ``kind`` says how: ``count`` rows carry ``?n`` (values counted), ``value`` rows carry a
    value and one boolean ``?ok_i`` per constraint, ``focus`` rows are violations as they
    are. ``report`` names the variable whose node the violation is reported on.
    """

    query: str
    kind: str
    path: str | None
    shape: str
    report: str = "this"
    bounds: tuple[int | None, int | None] = (None, None)
    tests: list[tuple[str, str]] = field(default_factory=list)
    """(constraint name, message) for each ``?ok_i`` of a ``value`` check."""
    message: str = ""
    nested: str | None = None
    """The nested shape (``sh:node``) whose failure this check reports."""
    counted: str | None = None
    """The path a ``count`` check counts (its message names it)."""
    counted_on: str = "this"
    """The variable of the node whose values a ``count`` check counts."""
    value: str = "this"
    """The variable holding the value a ``value`` check tests."""


@dataclass
class OrCheck:
    """An ``sh:or``: the focus nodes failing every alternative are violations."""

    alternatives: list[list[Check]]
    shape: str
    report: str = "this"


@dataclass(frozen=True)
class Finding:
    """A violation as found: the node, the path (text), the message."""

    focus: str
    path: str | None
    message: str
    value: str | None = None
    """The offending value, when the constraint is on values (one finding per value and
    constraint, as pySHACL reports them)."""


class _Compiler:
    """Walks the shapes graph (rdflib) and emits :class:`Check` objects."""

    def __init__(self, shapes: Any, ontology: Any, excluded_graphs: list[str]) -> None:
        import rdflib

        self.rdflib = rdflib
        self.g = shapes
        self.ont = ontology
        self.sh = rdflib.Namespace(SH)
        self.excluded = excluded_graphs
        self.fresh = itertools.count(1)

    # -- helpers -------------------------------------------------------------------------

    def one(self, node: Any, prop: str) -> Any:
        return self.g.value(node, self.sh[prop])

    def items(self, head: Any) -> list[Any]:
        from rdflib.collection import Collection

        return list(Collection(self.g, head))

    def name(self, node: Any) -> str:
        if isinstance(node, self.rdflib.BNode):
            return "anonymous shape"
        return self.g.namespace_manager.normalizeUri(node)

    def term(self, node: Any) -> str:
        return node.n3()

    def subclasses(self, cls: Any) -> list[str]:
        seen = {cls}
        todo = [cls]
        sub = self.rdflib.URIRef(RDFS_SUBCLASS)
        while todo:
            c = todo.pop()
            for s in itertools.chain(self.ont.subjects(sub, c), self.g.subjects(sub, c)):
                if s not in seen:
                    seen.add(s)
                    todo.append(s)
        return sorted(self.term(c) for c in seen)

    def path(self, node: Any) -> tuple[str, str]:
        """(SPARQL property path, display text) of a SHACL path."""
        rdflib = self.rdflib
        if isinstance(node, rdflib.URIRef):
            return self.term(node), self.g.namespace_manager.normalizeUri(node)
        if isinstance(node, rdflib.BNode):
            inverse = self.one(node, "inversePath")
            if inverse is not None:
                sparql, text = self.path(inverse)
                return f"^({sparql})", f"^{text}"
            if (node, rdflib.RDF.first, None) in self.g:
                parts = [self.path(p) for p in self.items(node)]
                return "/".join(p for p, _ in parts), "/".join(t for _, t in parts)
        raise ShapesError(f"{ontology_file('shapes.ttl')}: unsupported sh:path {node!r}")

    # -- shapes ----------------------------------------------------------------------------

    def targets(self, shape: Any) -> str | None:
        """The focus-node pattern of a shape's targets (binding ?this), or None."""
        parts = []
        graphs = ", ".join(self.excluded)
        for cls in self.g.objects(shape, self.sh.targetClass):
            parts.append(f"GRAPH ?tg {{ ?this a ?tc }} VALUES ?tc {{ {' '.join(self.subclasses(cls))} }}")
        for prop in self.g.objects(shape, self.sh.targetSubjectsOf):
            parts.append(f"GRAPH ?tg {{ ?this {self.term(prop)} ?tv }}")
        unknown = {"targetNode", "targetObjectsOf"} & {
            str(p).removeprefix(SH) for p in self.g.predicates(shape, None)}
        if unknown:
            raise ShapesError(f"{ontology_file('shapes.ttl')}: unsupported sh:{unknown.pop()}")
        if not parts:
            return None
        union = " UNION ".join(f"{{ {p} }}" for p in parts)
        keep = f"FILTER(?tg NOT IN ({graphs}))" if graphs else ""
        # DISTINCT first: a node typed in many graphs (the DMHC table is the source of every
        # DMHC case) is one focus node, not thousands of rows to join.
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} {keep} }} }}"

    def node_shape(self, shape: Any, focus: str, var: str, report: str,
                   via: tuple[str, str | None, str] | None = None) -> list[Check | OrCheck]:
        """Checks of a node shape on the nodes ``var`` bound by ``focus``.

        ``via`` = (outer variable, outer path text, nested shape name) when the shape is
        reached by ``sh:node``: violations are then reported on the outer node.
        """
        checks: list[Check | OrCheck] = []
        own = self.value_tests(shape, var)
        if own:
            checks.append(self.value_check(shape, focus, var, var, None, own, report, via))
        for prop in self.g.objects(shape, self.sh.property):
            checks.extend(self.property_shape(prop, shape, focus, var, report, via))
        for head in self.g.objects(shape, self.sh["or"]):
            alternatives = [
                [c for c in (self.property_shape(alt, shape, focus, var, var, None)
                             if self.one(alt, "path") is not None
                             else self.node_shape(alt, focus, var, var))
                 if isinstance(c, Check)]
                for alt in self.items(head)
            ]
            checks.append(OrCheck(alternatives, self.name(shape), report))
        for constraint in self.g.objects(shape, self.sh.sparql):
            checks.append(self.sparql_check(shape, constraint, focus, var, report, via))
        return checks

    def value_tests(self, shape: Any, v: str) -> list[tuple[str, str, str]]:
        """(constraint, SPARQL boolean that holds when ?v satisfies it, message)."""
        sh, out = self.sh, []
        dt = self.one(shape, "datatype")
        if dt is not None:
            out.append(("datatype", f"(isLiteral(?{v}) && DATATYPE(?{v}) = {self.term(dt)})",
                        f"Value is not Literal with datatype {self.name(dt)}"))
        for cls in self.g.objects(shape, sh["class"]):
            out.append(("class", f"EXISTS {{ ?{v} a ?cls_{v} VALUES ?cls_{v} "
                        f"{{ {' '.join(self.subclasses(cls))} }} }}",
                        f"Value does not have class {self.name(cls)}"))
        kind = self.one(shape, "nodeKind")
        if kind is not None:
            fn = {"IRI": "isIRI", "Literal": "isLiteral", "BlankNode": "isBlank"}.get(
                str(kind).removeprefix(SH))
            if fn is None:
                raise ShapesError(f"{ontology_file('shapes.ttl')}: unsupported sh:nodeKind {kind}")
            out.append(("nodeKind", f"{fn}(?{v})", f"Value is not of Node Kind {self.name(kind)}"))
        head = self.one(shape, "in")
        if head is not None:
            values = self.items(head)
            listed = ", ".join(self.term(x) for x in values)
            out.append(("in", f"(?{v} IN ({listed}))", f"Value not in list [{listed}]"))
        pattern = self.one(shape, "pattern")
        if pattern is not None:
            lit = self.rdflib.Literal(str(pattern)).n3()
            out.append(("pattern", f"(!isBlank(?{v}) && REGEX(STR(?{v}), {lit}))",
                        f"Value does not match pattern '{pattern}'"))
        length = self.one(shape, "minLength")
        if length is not None:
            out.append(("minLength", f"(!isBlank(?{v}) && STRLEN(STR(?{v})) >= {int(length)})",
                        f"String length not >= {int(length)}"))
        for name, op in (("minInclusive", ">="), ("maxInclusive", "<=")):
            bound = self.one(shape, name)
            if bound is not None:
                out.append((name, f"COALESCE(?{v} {op} {self.term(bound)}, false)",
                            f"Value is not {op} {bound}"))
        known = {"datatype", "class", "nodeKind", "in", "pattern", "minLength", "minInclusive",
                 "maxInclusive", "minCount", "maxCount", "path", "equals", "node", "property",
                 "or", "sparql", "targetClass", "targetSubjectsOf", "message", "name",
                 "description", "severity", "deactivated"}
        for p in self.g.predicates(shape, None):
            local = str(p).removeprefix(SH)
            if str(p).startswith(SH) and local not in known:
                raise ShapesError(f"{ontology_file('shapes.ttl')}: unsupported sh:{local}")
        return out

    def value_check(self, shape: Any, focus: str, var: str, v: str, path: tuple[str, str] | None,
                    tests: list[tuple[str, str, str]], report: str,
                    via: tuple[str, str | None, str] | None) -> Check:
        binds = " ".join(f"BIND(COALESCE({expr}, false) AS ?ok_{i})"
                         for i, (_, expr, _) in enumerate(tests))
        fails = " || ".join(f"!?ok_{i}" for i in range(len(tests)))
        step = f"?{var} {path[0]} ?{v} ." if path else ""
        outer = via[0] if via else report
        query = (f"SELECT DISTINCT ?{outer} ?{v} {' '.join(f'?ok_{i}' for i in range(len(tests)))} "
                 f"WHERE {{ {focus} {step} {binds} FILTER({fails}) }}")
        return Check(query, "value", via[1] if via else (path[1] if path else None),
                     self.name(shape), outer, tests=[(n, m) for n, _, m in tests],
                     nested=via[2] if via else None, message=str(self.one(shape, "message") or ""),
                     value=v)

    def property_shape(self, prop: Any, parent: Any, focus: str, var: str, report: str,
                       via: tuple[str, str | None, str] | None) -> list[Check | OrCheck]:
        sparql_path, text = self.path(self.one(prop, "path"))
        shape_name = self.name(parent)
        message = str(self.one(prop, "message") or "")
        outer = via[0] if via else report
        shown = via[1] if via else text
        checks: list[Check | OrCheck] = []
        low, high = self.one(prop, "minCount"), self.one(prop, "maxCount")
        if low is not None or high is not None:
            lo = int(low) if low is not None else None
            hi = int(high) if high is not None else None
            cond = " || ".join(c for c in (f"?n < {lo}" if lo else "",
                                           f"?n > {hi}" if hi is not None else "") if c)
            if cond:
                v = f"c{next(self.fresh)}"
                keys = f"?{outer}" + (f" ?{var}" if outer != var else "")
                query = (f"SELECT {keys} (COUNT(DISTINCT ?{v}) AS ?n) WHERE {{ {focus} "
                         f"OPTIONAL {{ ?{var} {sparql_path} ?{v} }} }} GROUP BY {keys} "
                         f"HAVING ({cond.replace('?n', f'COUNT(DISTINCT ?{v})')})")
                checks.append(Check(query, "count", shown, shape_name, outer, (lo, hi),
                                    message=message, nested=via[2] if via else None,
                                    counted=text, counted_on=var))
        v = f"v{next(self.fresh)}"
        tests = self.value_tests(prop, v)
        if tests:
            checks.append(self.value_check(prop, focus, var, v, (sparql_path, text), tests,
                                           report, via))
        other = self.one(prop, "equals")
        if other is not None:
            o = self.term(other)
            # MINUS (a hash anti-join of two scans), not FILTER NOT EXISTS (a lookup of
            # the path per row): over 30 s against 25 s a check at 100k letters.
            query = (f"SELECT DISTINCT ?{outer} WHERE {{ {focus} {{ {{ ?{var} {sparql_path} "
                     f"?{v} MINUS {{ ?{var} {o} ?{v} }} }} UNION {{ ?{var} {o} ?{v} "
                     f"MINUS {{ ?{var} {sparql_path} ?{v} }} }} }} }}")
            checks.append(Check(query, "focus", shown, shape_name, outer,
                                message=message or f"Value of {text} != {self.name(other)}"))
        for nested in self.g.objects(prop, self.sh.node):
            w = f"n{next(self.fresh)}"
            inner_focus = f"{focus} ?{var} {sparql_path} ?{w} ."
            inner = self.node_shape(nested, inner_focus, w, w,
                                    via=(outer, shown, self.name(nested)))
            checks.extend(inner)
        return checks

    def sparql_check(self, shape: Any, constraint: Any, focus: str, var: str, report: str,
                     via: tuple[str, str | None, str] | None) -> Check:
        select = str(self.one(constraint, "select") or "")
        if not select:
            raise ShapesError(f"{ontology_file('shapes.ttl')}: sh:sparql without sh:select")
        code = re.sub(r'"""[\s\S]*?"""|"[^"\n]*"|#[^\n]*', " ", select)
        for word in ("VALUES", "MINUS", "SERVICE"):
            if re.search(rf"(?i)\b{word}\b", code):
                raise ShapesError(f"{ontology_file('shapes.ttl')}: a SPARQL constraint of "
                                  f"{self.name(shape)} uses {word}, which SHACL does not allow "
                                  "in a pre-bound query")
        prefixes = []
        for decl_owner in self.g.objects(constraint, self.sh.prefixes):
            for decl in self.g.objects(decl_owner, self.sh.declare):
                prefixes.append(f"PREFIX {self.one(decl, 'prefix')}: <{self.one(decl, 'namespace')}>")
        if via is not None:
            raise ShapesError(f"{ontology_file('shapes.ttl')}: a SPARQL constraint in a shape "
                              f"reached by sh:node ({self.name(shape)}) is not supported")
        # Pre-binding: the focus pattern goes first in the query's own WHERE group, so $this
        # is bound before the query's patterns (a query starting with OPTIONAL, as a
        # sub-select, would miss the nodes the OPTIONAL does not match).
        where = re.search(r"(?i)\bWHERE\s*\{", select)
        if where is None:
            raise ShapesError(f"{ontology_file('shapes.ttl')}: cannot read the SPARQL "
                              f"constraint of {self.name(shape)}")
        inner = select[: where.end()] + f" {focus} " + select[where.end() :]
        query = " ".join(prefixes) + " " + inner.replace("$this", f"?{var}")
        outer = report
        message = str(self.one(constraint, "message") or self.one(shape, "message") or
                      f"SPARQL constraint of {self.name(shape)} not met")
        return Check(query, "focus", via[1] if via else None, self.name(shape), outer,
                     message=message, nested=via[2] if via else None)

    def compile(self) -> list[Check | OrCheck]:
        checks: list[Check | OrCheck] = []
        for shape in sorted(set(self.g.subjects(self.rdflib.RDF.type, self.sh.NodeShape)),
                            key=str):
            focus = self.targets(shape)
            if focus is not None:
                checks.extend(self.node_shape(shape, focus, "this", "this"))
        return checks


_COMPILED: dict[tuple[int, int, tuple[str, ...]], list[Check | OrCheck]] = {}


def compile_shapes(shapes: Any, ontology: Any,
                   excluded_graphs: tuple[str, ...] = ()) -> list[Check | OrCheck]:
    """The checks of a shapes graph (rdflib; subclasses from ``ontology``), with focus nodes
    outside ``excluded_graphs`` (N-Triples IRIs); compiled once per graphs."""
    key = (id(shapes), id(ontology), excluded_graphs)
    if key not in _COMPILED:
        _COMPILED[key] = _Compiler(shapes, ontology, list(excluded_graphs)).compile()
    return _COMPILED[key]


def run_checks(
    checks: list[Check | OrCheck],
    select: Callable[[str], Iterator[dict[str, str | None]]],
    progress: Callable[[int, int], None] | None = None,
) -> list[Finding]:
    """Run ``checks`` through ``select`` (a query → rows of term values, None when unbound)."""
    found: list[Finding] = []
    for done, check in enumerate(checks, start=1):
        if isinstance(check, OrCheck):
            failing: set[str] | None = None
            for alternative in check.alternatives:
                nodes = {f.focus for f in run_checks(alternative, select)}  # type: ignore[arg-type]
                failing = nodes if failing is None else failing & nodes
            found.extend(Finding(n, None, f"Node does not conform to any shape of sh:or in "
                                          f"{check.shape}") for n in sorted(failing or ()))
        else:
            found.extend(_read(check, select))
        if progress is not None:
            progress(done, len(checks))
    return found


def _read(check: Check, select: Callable[[str], Iterator[dict[str, str | None]]]) -> Iterator[Finding]:
    for row in select(check.query):
        focus = row[check.report]
        if focus is None:
            continue
        if check.kind == "count":
            n = int(row["n"] or 0)
            lo, hi = check.bounds
            where = row.get(check.counted_on) or focus
            message = (f"Less than {lo} values on <{where}>" if lo is not None and n < lo
                       else f"More than {hi} values on <{where}>") + f"->{check.counted}"
        elif check.kind == "value":
            value = row.get(check.value)
            for i, (_, text) in enumerate(check.tests):
                if row.get(f"ok_{i}") != "true":
                    yield _finding(check, focus, check.message or text, value)
            continue
        else:
            message = check.message
        if check.kind != "focus" and check.message:
            message = check.message
        yield _finding(check, focus, message)


def _finding(check: Check, focus: str, message: str, value: str | None = None) -> Finding:
    if check.nested:
        message = f"Value does not conform to Shape {check.nested}: {message}"
    return Finding(focus, check.path, message, value)
