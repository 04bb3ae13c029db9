"""Reading: turn a letter file (PDF, plain text or Markdown) into its canonical text.

The canonical text is what ``imr-graph parse --text`` prints and what every record ``span``
points into. It is built the same way for all three formats, so that the parser sees one
kind of input:

* line endings are ``\\n``; PDF pages (and ``pdftotext`` page breaks) are separated by ``\\f``;
* Markdown from PDF converters loses its markup: ``<b>`` tags, ``**bold**``, ``###`` heading
  marks, table pipes and separator rows, HTML entities;
* nothing else is changed: hard line wraps stay, so offsets match what a reader sees.

PDFs are read with pypdf (with ``cryptography`` for AES): the DWC letters are encrypted with
an empty user password and open without one; a PDF that needs a real password is an error.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import InputError, PdfError

Format = Literal["pdf", "text", "markdown"]

MAX_BYTES = 50 * 1024 * 1024
"""Largest file accepted as a letter; real letters are well under 1 MB."""


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
    if is_markdown(text):
        return Document(path, sha, "markdown", demarkdown(text))
    return Document(path, sha, "text", normalise_newlines(text))


def pdf_text(data: bytes, path: str) -> str:
    """Extract a PDF's text, pages joined by form feeds."""
    import io

    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # missing crypto backend, unknown algorithm
                raise PdfError(f"cannot decrypt PDF ({exc})", path=path) from exc
            if not ok:
                raise PdfError("PDF is protected by a password", path=path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise PdfError(f"broken PDF ({type(exc).__name__}: {exc})", path=path) from exc
    except Exception as exc:  # pypdf raises a wide range on corrupt files
        raise PdfError(f"broken PDF ({type(exc).__name__}: {exc})", path=path) from exc
    text = "\f".join(normalise_newlines(t) for t in pages)
    if not text.strip():
        raise PdfError("PDF has no extractable text (scanned image?)", path=path)
    return text


def decode_text(data: bytes, path: str) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1.

    Binary data (NUL bytes outside UTF-16, or many control characters) is an error.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError("undecodable UTF-16 text", path=path) from exc
    if b"\x00" in data:
        raise InputError("binary file, not a text or PDF letter", path=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:20000]) // 100):
        raise InputError("binary file, not a text or PDF letter", path=path)
    return text


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``; other characters are left alone."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


_MD_SIGNS = re.compile(r"<b>|</b>|\*\*[^*\n]+\*\*|^\s*\|.*\|\s*$|^#{1,6} ", re.M)


def is_markdown(text: str) -> bool:
    """True for Markdown produced by PDF converters (bold labels, tables, headings)."""
    return len(_MD_SIGNS.findall(text[:20000])) >= 3


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
