"""Property-based robustness: whatever the text, the parser gives a record or one clear error."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_graph.errors import ImrGraphError
from imr_graph.letters.parsing import parse_text
from imr_graph.letters.reading import document_from_bytes, read_document
from imr_graph.records import Record

from .conftest import corpus_pdfs, example_letters
from .letter_forms import rewrap, without_spans

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def letters() -> tuple[str, ...]:
    texts = [read_document(p).text for p in example_letters()]
    texts += [read_document(p).text for p in corpus_pdfs()[:6]]
    return tuple(texts)


def _parse_or_error(text: str) -> Record | None:
    try:
        record = parse_text(text, path="fuzz.txt")
    except ImrGraphError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.txt: ") and "\n" not in msg
        return None
    assert all(i.outcome in ("Upheld", "Overturned") for i in record.items)
    assert [i.index for i in record.items] == list(range(1, len(record.items) + 1))
    for i in record.items:
        if i.span:
            assert 0 <= i.span[0] <= i.span[1] <= len(text)
    return record


@SETTINGS
@given(st.text(max_size=3000))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _parse_or_error(text)


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        doc = document_from_bytes(data, "fuzz.bin")
    except ImrGraphError as exc:
        assert "fuzz.bin" in str(exc)
        return
    _parse_or_error(doc.text)


@SETTINGS
@given(st.data())
def test_truncated_letters_never_crash(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(letters()))
    cut = data.draw(st.integers(0, len(text)))
    _parse_or_error(text[:cut])


@SETTINGS
@given(st.data())
def test_mutated_letters_never_crash(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(letters()))
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(1, 6))):
        op = data.draw(st.sampled_from(["delete", "double", "swap", "noise"]))
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "double":
            j = data.draw(st.integers(i, min(len(lines), i + 12)))
            lines[i:i] = lines[i:j]
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            noise = data.draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
            pos = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + noise + lines[i][pos:]
    _parse_or_error("\n".join(lines))


@SETTINGS
@given(st.data())
def test_rewrapped_letters_give_the_same_record(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(letters()))
    width = data.draw(st.integers(50, 160))
    every = data.draw(st.integers(0, 8))
    base = without_spans(parse_text(text).to_dict())
    assert without_spans(parse_text(rewrap(text, width, every)).to_dict()) == base
