"""Fuzzing the mapping: mutated real letters either fail cleanly or map to valid graphs.

Each example mutates a real letter (deleted lines, shuffled sections, doubled items,
unicode noise), reads and parses it, and every record that comes out is mapped to RDF and
validated against ``ontology/shapes.ttl`` in memory (``validate.validate_quads``).
"""

from __future__ import annotations

import random
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_graph.errors import ImrGraphError
from imr_graph.graph.mapping import DEFAULT_BASE, record_to_quads
from imr_graph.graph.validate import validate_quads
from imr_graph.letters.parsing import parse_document
from imr_graph.letters.reading import document_from_bytes, read_document

from .conftest import corpus_pdfs, example_letters

SETTINGS = settings(max_examples=8, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10)


@cache
def letters() -> tuple[tuple[str, str], ...]:
    """(text, suffix) of real letters: the examples as files, a few corpus PDFs as text."""
    out = [(p.read_text(encoding="utf-8"), ".txt") for p in example_letters()]
    out += [(read_document(p).text, ".txt") for p in corpus_pdfs()[:4]]
    return tuple(out)


def sections(text: str) -> list[str]:
    """Blocks separated by blank lines."""
    return text.split("\n\n")


def check(text: str, name: str) -> None:
    """Read, parse, map, validate: a clean one-line error, or a valid graph."""
    try:
        doc = document_from_bytes(text.encode("utf-8"), name)
        record = parse_document(doc)
    except ImrGraphError as exc:
        assert "\n" not in str(exc) and name in str(exc)
        return
    try:
        quads = record_to_quads(record, doc.text, DEFAULT_BASE)
    except ImrGraphError as exc:  # a mapping refusal must also be a clean error
        assert "\n" not in str(exc)
        return
    report = validate_quads(quads, DEFAULT_BASE)
    violations = report.violations
    assert not violations, [v.line() for v in violations[:5]]
    assert report.cases == 1


@SETTINGS
@given(st.data())
def test_mutated_letters_map_to_valid_graphs(data: st.DataObject) -> None:
    text, suffix = data.draw(st.sampled_from(letters()))
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 5))):
        if not lines:
            break
        op = data.draw(st.sampled_from(["delete", "double", "noise"]))
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i : i + data.draw(st.integers(1, 3))]
        elif op == "double":
            j = data.draw(st.integers(i, min(len(lines), i + 10)))
            lines[i:i] = lines[i:j]
        else:
            pos = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + data.draw(NOISE) + lines[i][pos:]
    check("\n".join(lines), f"mutated{suffix}")


@SETTINGS
@given(st.data())
def test_shuffled_sections_map_to_valid_graphs(data: st.DataObject) -> None:
    text, suffix = data.draw(st.sampled_from(letters()))
    blocks = sections(text)
    random.Random(data.draw(st.integers(0, 2**32))).shuffle(blocks)
    check("\n\n".join(blocks), f"shuffled{suffix}")


@SETTINGS
@given(st.data())
def test_doubled_items_map_to_valid_graphs(data: st.DataObject) -> None:
    text, suffix = data.draw(st.sampled_from(letters()))
    blocks = sections(text)
    # an item starts with a bold label and its decision (the "**X:** Upheld" lines)
    items = [i for i, b in enumerate(blocks) if b.lstrip().startswith("**")
             and ("Upheld" in b or "Overturned" in b)] or list(range(len(blocks)))
    i = data.draw(st.sampled_from(items))
    n = data.draw(st.integers(1, 6))
    blocks[i:i] = blocks[i : i + n] * data.draw(st.integers(1, 3))
    check("\n\n".join(blocks), f"doubled{suffix}")


def test_doubled_heading_gives_no_empty_item() -> None:
    lines = example_letters()[1].read_text(encoding="utf-8").split("\n")
    start = next(i for i, x in enumerate(lines) if "IMR ISSUES, DECISIONS" in x) - 4
    lines[start:start] = lines[start : start + 10]
    doc = document_from_bytes("\n".join(lines).encode(), "doubled.txt")
    record = parse_document(doc)
    assert all(i.request.strip() for i in record.items)
    assert validate_quads(record_to_quads(record, doc.text), DEFAULT_BASE).conforms


def test_noise_before_the_case_number_is_not_kept() -> None:
    text = example_letters()[0].read_text(encoding="utf-8")
    doc = document_from_bytes(text.replace("| CM15-0171547 |", "| 0CM15-0171547 |").encode(),
                              "noise.txt")
    record = parse_document(doc)
    assert validate_quads(record_to_quads(record, doc.text), DEFAULT_BASE).conforms


@settings(max_examples=3, deadline=None)
@given(st.sampled_from(range(8)))
def test_unchanged_letters_validate(index: int) -> None:
    texts = letters()
    text, suffix = texts[index % len(texts)]
    check(text, f"letter{suffix}")
