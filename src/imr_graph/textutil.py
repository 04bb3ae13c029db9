"""Small text helpers shared by the parsing modules (no I/O, no RDF)."""

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
