"""Validation: check case graphs against the SHACL shapes (``ontology/shapes.ttl``).

Two engines give the same report:

* ``sparql`` (the default for a store, :func:`validate_store`): the shapes compiled into SPARQL
  queries that Oxigraph runs on the store itself (:mod:`imr_graph.graph.shacl_sparql`): minutes
  for a 100k-letter store, memory flat;
* ``pyshacl``: the case graphs, the shared concepts graph and the ontology (for subclass
  relations) copied into rdflib and checked by pySHACL, the reference implementation; about
  0.2–0.4 s a case. :func:`validate_quads` (records checked in memory) always uses it.

Each violation is attributed to the case whose IRIs contain its focus node
(``{base}case/{key}/…`` or ``{base}graph/{key}``), or to ``concepts`` for a shared concept
node (those are counted apart: they belong to no case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

from pyoxigraph import NamedNode, Quad, RdfFormat, serialize

from ..errors import ShapesError, UsageError
from ..resources import ontology_file
from .store import GraphStore

SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True)
class Violation:
    """One SHACL result: which case, which node and property, and why."""

    case: str
    focus: str
    path: str | None
    message: str
    severity: str = "Violation"

    def line(self) -> str:
        """One line for the terminal."""
        where = f" {self.path}" if self.path else ""
        return f"{self.case}: {self.focus}{where}: {self.message}"


@dataclass
class Report:
    """The outcome of a validation run."""

    cases: int
    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        """True when nothing violates the shapes."""
        return not self.violations

    @property
    def failing_cases(self) -> int:
        """Number of distinct cases with at least one violation."""
        return len({v.case for v in self.violations if v.case != "concepts"})

    @property
    def concept_violations(self) -> int:
        """Violations on shared concept nodes (in no case)."""
        return sum(v.case == "concepts" for v in self.violations)

    def summary(self) -> str:
        """The closing line: cases, conforming and failing cases, violations (by where)."""
        line = (f"cases: {self.cases}  conforming: {self.cases - self.failing_cases}  "
                f"violations: {len(self.violations)}")
        if self.violations:
            line += (f" ({len(self.violations) - self.concept_violations} in "
                     f"{self.failing_cases} cases, {self.concept_violations} on shared "
                     "concepts)")
        return line


ENGINES = ("sparql", "pyshacl")


@lru_cache(maxsize=1)
def _shapes_and_ontology() -> tuple[object, object]:
    import rdflib

    shapes = rdflib.Graph().parse(ontology_file("shapes.ttl"), format="turtle")
    ontology = rdflib.Graph().parse(ontology_file("imr.ttl"), format="turtle")
    return shapes, ontology


def validate_quads(quads: Iterable[Quad], base: str, cases: int | None = None) -> Report:
    """Validate quads (any graphs, merged) against the shapes."""
    import pyshacl
    import rdflib

    triples = [q.triple for q in quads]
    data = rdflib.Graph()
    if triples:
        data.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    shapes, ontology = _shapes_and_ontology()
    _conforms, results, text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        allow_warnings=True,
    )
    if not isinstance(results, rdflib.Graph):  # pySHACL could not use the shapes
        first = str(text).strip().splitlines()[-1] if str(text).strip() else repr(results)
        raise ShapesError(f"{ontology_file('shapes.ttl')}: {first}")
    violations = sorted(_violations(results, base), key=lambda v: (v.case, v.focus, v.path or ""))
    if cases is None:
        cases = len({t.subject for t in triples if _is_case(t, base)})
    return Report(cases=cases, violations=violations)


def validate_store(
    store: GraphStore,
    graphs: list[NamedNode] | None = None,
    *,
    engine: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Validate the store's case graphs (or only ``graphs``) with the shared concepts.

    ``engine``: ``sparql`` or ``pyshacl``; None takes the remote server's profile's
    (:attr:`imr_graph.engines.EngineProfile.validator`), else ``sparql``.
    ``progress(done, total)`` is told after each compiled check (``sparql`` engine).
    """
    if engine is None:
        profile = getattr(store, "profile", None)
        engine = profile.validator if profile is not None else "sparql"
    if engine not in ENGINES:
        raise UsageError(f"unknown validation engine {engine!r}; one of: {', '.join(ENGINES)}")
    if engine == "pyshacl":
        case_graphs = graphs if graphs is not None else store.case_graphs()
        quads: list[Quad] = []
        for g in [*case_graphs, store.concepts_graph]:
            quads.extend(store.iter_quads(g))
        return validate_quads(quads, store.base, cases=len(case_graphs))
    from ..dmhc.mapping import dmhc_vocabulary_graph_iri
    from .shacl_sparql import Finding, compile_shapes, run_checks

    shapes, ontology = _shapes_and_ontology()
    excluded = (str(store.vocabulary_graph), str(dmhc_vocabulary_graph_iri(store.base)))
    checks = compile_shapes(shapes, ontology, excluded)
    findings: set[Finding] = set()
    for graph in graphs if graphs is not None else [None]:
        def select(text: str, graph: NamedNode | None = graph) -> Iterator[dict[str, str | None]]:
            try:
                result = store.query(text, graph=graph)
            except (SyntaxError, RuntimeError, OSError) as exc:
                raise ShapesError(f"{ontology_file('shapes.ttl')}: a compiled check failed: "
                                  f"{' '.join(str(exc).split())[:300]}") from None
            names = [v.value for v in result.variables]  # type: ignore[union-attr]
            for row in result:  # type: ignore[union-attr]
                yield {n: (row[n].value if row[n] is not None else None) for n in names}

        findings.update(run_checks(checks, select, progress))
    violations = sorted(
        (Violation(case_of(f.focus, store.base), _short(f.focus, store.base), f.path, f.message)
         for f in findings),
        key=lambda v: (v.case, v.focus, v.path or "", v.message))
    cases = len(graphs) if graphs is not None else store.case_count()
    return Report(cases=cases, violations=violations)


def _is_case(t: object, base: str) -> bool:
    from pyoxigraph import Triple

    assert isinstance(t, Triple)
    return (
        t.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        and isinstance(t.object, NamedNode)
        and t.object.value.endswith(("#WorkersCompCase", "#HealthPlanCase"))
    )


def case_of(iri: str, base: str) -> str:
    """The case key a node IRI belongs to, or ``concepts`` for shared nodes."""
    for prefix in (f"{base}case/", f"{base}graph/"):
        if iri.startswith(prefix):
            return unquote(iri[len(prefix) :].split("/")[0])
    return "concepts"


def _path(results: object, path: object, base: str) -> str | None:
    """A result path as text: a property, or a sequence path (an RDF list) as ``a/b/c``."""
    import rdflib
    from rdflib.collection import Collection

    if path is None:
        return None
    if isinstance(path, rdflib.BNode) and isinstance(results, rdflib.Graph):
        steps = list(Collection(results, path))
        if steps:
            return "/".join(_short(str(s), base) for s in steps)
    return _short(str(path), base)


def _violations(results: object, base: str) -> list[Violation]:
    import rdflib

    assert isinstance(results, rdflib.Graph)
    sh = rdflib.Namespace(SH)
    out: list[Violation] = []
    details = set(results.objects(None, sh.detail))
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        if result in details:
            continue  # told as part of the result it details (a value's own shape)
        focus = str(results.value(result, sh.focusNode))
        path = results.value(result, sh.resultPath)
        message = str(results.value(result, sh.resultMessage) or "does not conform")
        why = sorted(str(m) for d in results.objects(result, sh.detail)
                     if (m := results.value(d, sh.resultMessage)))
        if why:
            message = f"{message.split('. See details')[0]}: {'; '.join(why)}"
        severity = results.value(result, sh.resultSeverity)
        out.append(
            Violation(
                case=case_of(focus, base),
                focus=_short(focus, base),
                path=_path(results, path, base),
                message=" ".join(message.split()),
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            )
        )
    return out


def _short(iri: str, base: str) -> str:
    from .mapping import PREFIXES

    if iri.startswith(base):
        return iri[len(base) :]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri
