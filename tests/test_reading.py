"""Reading tests: formats, encodings and hostile input, each with a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from imr_graph.errors import ImrGraphError, InputError, PdfError
from imr_graph.letters.reading import (
    MAX_BYTES,
    decode_text,
    demarkdown,
    document_from_bytes,
    read_document,
)

from .conftest import example_letters


def _one_line(exc: BaseException, name: str) -> None:
    msg = str(exc)
    assert "\n" not in msg and name in msg


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"   \n\t\n", "empty file"),
        (b"\x00\x01\x02\x03garbage\x00" * 50, "binary file"),
        (bytes(range(256)) * 20, "binary file"),
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\ntrailer\n%%EOF", "broken PDF"),
        (b"%PDF-1.4\n" + b"\x8f" * 300, "broken PDF"),
    ],
)
def test_bad_input_gives_one_line_error(tmp_path: Path, data: bytes, reason: str) -> None:
    p = tmp_path / "bad input ü.pdf"
    p.write_bytes(data)
    with pytest.raises(InputError, match=reason) as info:
        read_document(p)
    _one_line(info.value, "bad input ü.pdf")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_document(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_document(tmp_path)


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(InputError, match="too large"):
        read_document(big)


def test_truncated_real_pdf_is_a_pdf_error(tmp_path: Path, dwc_pdfs: list[Path]) -> None:
    data = dwc_pdfs[0].read_bytes()
    p = tmp_path / "truncated.pdf"
    p.write_bytes(data[: len(data) // 3])
    try:
        doc = read_document(p)
    except PdfError as exc:
        _one_line(exc, "truncated.pdf")
    else:  # pypdf may recover the first pages of a truncated file: then it must be text
        assert doc.format == "pdf" and doc.text.strip()


def test_pdf_with_a_real_password_is_refused(tmp_path: Path) -> None:
    import io

    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    p = tmp_path / "locked.pdf"
    p.write_bytes(buf.getvalue())
    with pytest.raises(PdfError, match="password") as info:
        read_document(p)
    _one_line(info.value, "locked.pdf")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "latin-1"])
def test_text_encodings_decode_to_the_same_letter(encoding: str) -> None:
    text = example_letters()[1].read_text(encoding="utf-8").replace("is a 66", "is a 66 (café)")
    assert decode_text(text.encode(encoding), "x.txt") == text


def test_crlf_and_cr_line_endings_are_normalised() -> None:
    text = example_letters()[1].read_text(encoding="utf-8")
    a = document_from_bytes(text.encode(), "a.txt").text
    b = document_from_bytes(text.replace("\n", "\r\n").encode(), "b.txt").text
    c = document_from_bytes(text.replace("\n", "\r").encode(), "c.txt").text
    assert a == b == c


def test_markdown_is_detected_and_stripped() -> None:
    doc = read_document(example_letters()[0])
    assert doc.format == "markdown"
    assert "<b>" not in doc.text and "**" not in doc.text and "|" not in doc.text
    assert "Case Number: CM15-0171547" in doc.text
    assert demarkdown("| <b>A:</b> | 1 &amp; 2 |\n|---|---|\n### Head") == "A: 1 & 2\nHead"


def test_corpus_pdfs_open_without_a_password(dwc_pdfs: list[Path]) -> None:
    doc = read_document(dwc_pdfs[0])
    assert doc.format == "pdf" and "CLINICAL CASE SUMMARY" in doc.text
    assert len(doc.sha256) == 64


def test_every_error_is_an_imr_graph_error() -> None:
    assert issubclass(PdfError, ImrGraphError)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark(codec: str) -> None:
    text = example_letters()[1].read_text(encoding="utf-8")
    doc = document_from_bytes(text.encode(codec), "no-bom.txt")
    assert doc.format == "text" and doc.text == text
