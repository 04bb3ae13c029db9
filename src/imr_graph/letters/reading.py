"""Reading: turn a letter file (PDF, plain text or Markdown) into its canonical text.

The canonical text is what ``imr-graph parse --text`` prints and what every record ``span``
points into. It is built the same way for all three formats, so that the parser sees one
kind of input:

* line endings are ``\\n``; PDF pages (and ``pdftotext`` page breaks) are separated by ``\\f``;
* Markdown from PDF converters loses its markup: ``<b>`` tags, ``**bold**``, ``###`` heading
  marks, table pipes and separator rows, HTML entities;
* nothing else is changed: hard line wraps stay, so offsets match what a reader sees.

PDFs are read with PDFium (pypdfium2): the DWC letters are AES-encrypted with an empty user
password and open without one; a PDF that needs a real password is an error.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError, PdfError

Format = Literal["pdf", "text", "markdown"]

MAX_BYTES = 50 * 1024 * 1024
"""Largest file accepted as a letter; real letters are well under 1 MB."""

MAX_TEXT_CHARS = 2_000_000
"""Longest text accepted from a letter (PDF or text file; the corpus's longest has 27,000
characters): a PDF stops being read as soon as its pages pass it, so a page stream that
inflates to hundreds of MB of text never reaches the parser."""

MAX_PAGES = 500
"""Most pages a PDF letter may have (real letters have 3 to 10)."""


@dataclass(frozen=True)
class Document:
    """A letter's canonical text with where it came from."""

    path: str
    sha256: str
    format: Format
    text: str


def read_document(path: str | Path) -> Document:
    """Read one letter file and return its canonical text.

    Raises :class:`~imr_graph.errors.InputError` (or :class:`PdfError`) with a one-line
    message naming the file for missing, empty, oversized, binary or unreadable files.
    """
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError("is a directory, not a letter file", path=p)
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise InputError(
                f"file too large for an IMR letter ({size / 1048576:.0f} MB > "
                f"{MAX_BYTES // 1048576} MB)",
                path=p,
            )
        data = p.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", path=p) from exc
    return document_from_bytes(data, str(p))


def document_from_bytes(data: bytes, path: str) -> Document:
    """Build a :class:`Document` from raw bytes (``path`` is used for messages only)."""
    if not data.strip():
        raise InputError("empty file", path=path)
    sha = hashlib.sha256(data).hexdigest()
    if data.lstrip()[:5] == b"%PDF-":
        return Document(path, sha, "pdf", pdf_text(data, path))
    text = decode_text(data, path)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(_too_long(), path=path)
    if is_markdown(text):
        return Document(path, sha, "markdown", demarkdown(text))
    return Document(path, sha, "text", normalise_newlines(text))


def pdf_text(data: bytes, path: str) -> str:
    """Extract a PDF's text with PDFium (pypdfium2), pages joined by form feeds.

    PDFium opens the AES-encrypted DWC letters (empty user password) and is about ten times
    faster than pure-Python extraction. Its soft-hyphen marker (U+FFFE, a hyphen at a line
    break) becomes ``-``; every page ends with a newline so a page break never glues the
    last line of one page to the first of the next.
    """
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise PdfError("PDF is protected by a password", path=path) from exc
        raise PdfError(f"broken PDF ({reason})", path=path) from exc
    pages: list[str] = []
    size = 0
    try:
        if len(doc) > MAX_PAGES:
            raise PdfError(f"PDF has {len(doc)} pages, more than the {MAX_PAGES} a letter may "
                           "have", path=path)
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            try:
                text = normalise_newlines(textpage.get_text_range()).replace("\ufffe", "-")
            finally:
                textpage.close()
                page.close()
            pages.append(text if text.endswith("\n") or not text else text + "\n")
            size += len(pages[-1])
            if size > MAX_TEXT_CHARS:
                raise PdfError(_too_long(), path=path)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"broken PDF ({exc})", path=path) from exc
    finally:
        doc.close()
    text = "\f".join(pages)
    if not text.strip():
        raise PdfError("PDF has no extractable text (scanned image?)", path=path)
    return text


def _too_long() -> str:
    return f"more than {MAX_TEXT_CHARS:,} characters of text; not a normal letter"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
"""Control characters that do not occur in text (all below 32 but tab, LF, FF and CR)."""


def decode_text(data: bytes, path: str) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one when
    the text is mostly ASCII), else Latin-1.

    Binary data (NUL bytes outside UTF-16, or many control characters) is an error.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError("undecodable UTF-16 text", path=path) from exc
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise InputError("binary file, not a text or PDF letter", path=path)
        data = utf16.encode("utf-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:20000]
    if len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise InputError("binary file, not a text or PDF letter", path=path)
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark, or ``None`` when ``data`` is not that.

    ASCII-range text in UTF-16 has a NUL in every other byte (odd offsets for little-endian,
    even for big-endian); binary data does not look like that.
    """
    sample = data[:4000]
    if len(sample) < 4 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
    if not sample:
        return None
    half = len(sample) // 2
    odd = sample[1::2].count(0) / half
    even = sample[0::2].count(0) / half
    for share, other, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if share > 0.9 and other < 0.05:
            try:
                return data[: len(data) - len(data) % 2].decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``; other characters are left alone."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


_MD_SIGNS = re.compile(r"<b>|</b>|\*\*[^*\n]+\*\*|^\s*\|.*\|\s*$|^#{1,6} ", re.M)


def is_markdown(text: str) -> bool:
    """True for Markdown produced by PDF converters (bold labels, tables, headings)."""
    head = text[:20000]
    if not any(sign in head for sign in ("<b>", "</b>", "**", "|", "#")):
        return False  # the common case for text letters, without running the pattern
    return len(_MD_SIGNS.findall(head)) >= 3


_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def demarkdown(text: str) -> str:
    """Strip converter Markdown down to plain text lines (see the module docstring)."""
    out: list[str] = []
    for line in normalise_newlines(text).split("\n"):
        if _TABLE_SEP.match(line):
            continue
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            line = " ".join(c for c in cells if c)
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = re.sub(r"</?(b|strong|i|em|u|br|span|p)\s*/?>", "", line, flags=re.I)
        line = line.replace("**", "").replace("__", "")
        line = html.unescape(line)
        out.append(line.rstrip() if line.strip() else "")
    return "\n".join(out)
