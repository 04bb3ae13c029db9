"""What a SPARQL text would do on the network: ``SERVICE`` and ``LOAD`` found by meaning.

imr-graph never reaches the network on its own, so federated queries (``SERVICE``) and
``LOAD`` are refused unless the user opts in. The decision is taken on what the text means
to a SPARQL parser, never on its spelling, by two independent readings that must both find
nothing:

* **the token stream**: :func:`tokens` is a lexer for the terminals of the SPARQL 1.1
  grammar (IRIs, prefixed names, variables, the four kinds of string, comments, numbers,
  language tags, blank nodes, punctuation, keywords). ``SERVICE`` and ``LOAD`` are reserved
  words that only ever start a federated pattern or a load, so one such keyword token (any
  case, with or without whitespace, comments or ``SILENT`` around it) is enough. A prefixed
  name (``imr:service``), a variable (``?load``), an IRI or a string containing the word is
  not a keyword. The text is read twice: as written (what Oxigraph parses) and with
  ``\\uXXXX``/``\\UXXXXXXXX`` escapes expanded first (what the SPARQL specification says a
  parser should see), and a keyword in either reading counts.
* **the parse tree**: rdflib's SPARQL 1.1 parser (:func:`rdflib.plugins.sparql.parser.
  parseQuery` / ``parseUpdate``) builds the query's syntax tree, and a
  ``ServiceGraphPattern`` or ``Load`` node anywhere in it (inside ``OPTIONAL``, ``UNION``,
  ``MINUS``, ``FILTER EXISTS``, sub-selects, update ``WHERE`` clauses ...) counts. rdflib
  rejects some syntax Oxigraph accepts (``LATERAL``, triple terms); for those the token
  stream decides alone. The parser costs a fraction of a second, so it only runs when the
  word ``service`` or ``load`` occurs in the text at all (without it no spelling can mean
  either), and each text is judged once per process.

:func:`check_update` (the guard every store backend runs before a SPARQL Update) and
:func:`syntax_message` (a parser error in one line) live here too, beside the lexer, so the
stores need nothing from the query library (:mod:`imr_graph.graph.queries` builds on the
store, never the other way round).
"""

from __future__ import annotations

import functools
import re

from ..errors import QueryError

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# The terminals of the SPARQL 1.1 grammar (section 19.8), tried in this order at each
# position; what matches none of them is a single character of punctuation.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
                |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
                |'(?:[^'\\\n\r]|\\.)*'
                |"(?:[^"\\\n\r]|\\.)*")
    | (?P<var>[?$]\w+)
    | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<bnode>_:[\w.-]*)
    | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%.-]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
    | (?P<number>[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
    | (?P<word>[^\W\d]\w*)
    """,
    re.X | re.S,
)

NETWORK_KEYWORDS = ("SERVICE", "LOAD")
"""The SPARQL keywords that make the engine fetch something from another address."""


def expand_escapes(text: str) -> str:
    """``text`` with SPARQL's ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes replaced (spec 19.2)."""

    def one(m: re.Match[str]) -> str:
        code = int(m[1] or m[2], 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else m[0]

    return _ESCAPE.sub(one, text)


def tokens(text: str) -> list[tuple[str, str]]:
    """The SPARQL tokens of ``text`` as (kind, text) pairs, without whitespace and comments.

    Kinds: ``iri``, ``string``, ``var``, ``langtag``, ``bnode``, ``pname``, ``number``,
    ``word`` (a keyword or function name) and ``punct`` (any other single character). The
    lexer never fails: text that is not SPARQL still comes out as tokens.
    """
    out: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            out.append(("punct", text[pos]))
            pos += 1
            continue
        kind = m.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            out.append((kind, m[0]))
        pos = m.end()
    return out


def keywords(text: str) -> set[str]:
    """The bare words of ``text`` (keywords, upper-cased) in either reading (see above)."""
    found: set[str] = set()
    for reading in {text, expand_escapes(text)}:
        found.update(word.upper() for kind, word in tokens(reading) if kind == "word")
    return found


def _tree_names(node: object, out: set[str]) -> None:
    """Add the names of every rdflib ``CompValue`` in a parse tree to ``out``."""
    stack = [node]
    while stack:
        item = stack.pop()
        name = getattr(item, "name", None)
        if isinstance(name, str) and hasattr(item, "items"):
            out.add(name)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "asList") and not isinstance(item, str):  # pyparsing results
            stack.extend(list(item))  # type: ignore[call-overload]


def _parsed_names(text: str) -> set[str] | None:
    """Node names of rdflib's parse tree of ``text`` (query, else update); None when rdflib
    cannot parse it."""
    try:
        from rdflib.plugins.sparql import parser
    except ImportError:  # rdflib is a dependency; without it the tokens decide
        return None
    names: set[str] = set()
    for parse in (parser.parseQuery, parser.parseUpdate):
        try:
            tree = parse(text)
        except Exception:  # a ParseException, or anything rdflib trips over
            continue
        _tree_names(tree, names)
        return names
    return None


_TREE_NODES = {"SERVICE": "ServiceGraphPattern", "LOAD": "Load"}


@functools.lru_cache(maxsize=512)
def network_operations(text: str, *, parse: bool = True) -> tuple[str, ...]:
    """Which of ``SERVICE``/``LOAD`` the SPARQL ``text`` uses (empty: neither).

    ``parse=False`` skips the parse tree (for texts shipped with imr-graph, which a test
    parses once). Cached by text: a canned query is judged once per process.
    """
    words = keywords(text)
    found = {k for k in NETWORK_KEYWORDS if k in words}
    if parse and len(found) < len(NETWORK_KEYWORDS):
        lowered = expand_escapes(text).lower()
        if any(k.lower() in lowered for k in NETWORK_KEYWORDS if k not in found):
            names = _parsed_names(text)
            if names is not None:
                found.update(k for k, node in _TREE_NODES.items() if node in names)
    return tuple(k for k in NETWORK_KEYWORDS if k in found)


def check_update(text: str) -> None:
    """Refuse updates that would reach the network (``LOAD``, ``SERVICE``), by meaning
    (:func:`network_operations`), whatever the spelling."""
    found = network_operations(text)
    if found:
        raise QueryError(f"{' and '.join(found)} is disabled: imr-graph never uses the network")


def syntax_message(message: str) -> str:
    """A SPARQL parser's error message (Oxigraph's ``error at LINE:COL: ...``) in one short
    line: ``syntax error at line L, column C: ...``."""
    m = re.match(r"error at (\d+):(\d+):\s*(.*)", message, flags=re.S)
    detail = " ".join((m[3] if m else message).split())
    if len(detail) > 120:  # the parser lists every character class it expected
        detail = detail[: detail.find("[")].rstrip(", ") + ", …" if "[" in detail else (
            detail[:117] + "…"
        )
    if m:
        return f"syntax error at line {m[1]}, column {m[2]}: {detail}"
    return f"syntax error: {detail}"
