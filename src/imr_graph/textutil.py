"""Small text helpers shared by the parsing modules and the CLI (no I/O, no RDF)."""

from __future__ import annotations

import re

_HYPHEN_WRAP = re.compile(r"(?<=[A-Za-z])-[ \t]*\n[ \t]*(?=[a-z])")


def ws(text: str) -> str:
    """Undo hard line wraps: join words hyphenated across lines, collapse whitespace.

    The result is the same whether a paragraph came wrapped (PDF, ``pdftotext``) or on one
    line (Markdown), which is what makes the three input formats give the same record.
    """
    if "-" in text and "\n" in text:
        text = _HYPHEN_WRAP.sub("-", text)
    return " ".join(text.split())  # str.split() splits where \s+ matches, and is faster


def clean(text: str) -> str:
    """:func:`ws` plus stripping of table pipes, bold marks and stray punctuation."""
    return ws(text.replace("|", " ").replace("*", " ")).strip(" :;,")


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses and brackets; parts are stripped."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def dedupe(values: list[str]) -> list[str]:
    """Unique values in first-seen order (case-insensitive)."""
    seen: set[str] = set()
    out: list[str] = []
    for v in values:
        key = v.lower()
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


# C0 and C1 controls, DEL, and the invisible characters that reorder or hide text on a
# terminal (bidirectional overrides and isolates, zero-width marks, line/paragraph separators),
# and lone surrogates (the undecodable bytes of a file name).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e"
                     "\u2060-\u2069\ud800-\udfff\ufeff\ufff9-\ufffb]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


def visible(text: str) -> str:
    """``text`` safe to print on a terminal as one line: every control or invisible
    formatting character is shown as an escape (``\\n``, ``\\r``, ``\\t``, ``\\e`` for ESC,
    else ``\\xHH`` / ``\\uHHHH``), so a file name cannot forge a second line, move the
    cursor, recolour or retitle the terminal, or hide part of itself."""
    if _UNSAFE.search(text) is None:
        return text

    def one(m: re.Match[str]) -> str:
        ch = m[0]
        if ch in _NAMED:
            return _NAMED[ch]
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(one, text)

