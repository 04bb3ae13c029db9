"""Test helpers: the same letter in other shapes (re-wrapped text, converter Markdown).

These rebuild what real inputs look like: ``pdftotext`` output wraps lines at another width
and breaks pages; PDF-to-Markdown converters put the header in an HTML-ish table with
``<b>`` labels, bold the item labels and join paragraphs onto one line.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

HEADINGS = (
    "HOW THE IMR FINAL DETERMINATION WAS MADE",
    "CLINICAL CASE SUMMARY",
    "IMR ISSUES, DECISIONS AND RATIONALES",
)


def _mark_item_starts(text: str) -> str:
    """Put a blank line before each item block (PDFium text has no blank lines)."""
    from imr_graph.errors import ImrGraphError
    from imr_graph.letters.parsing import parse_text

    try:
        starts = [i.span[0] for i in parse_text(text).items if i.span]
    except ImrGraphError:
        return text
    for start in sorted(starts, reverse=True):
        text = text[:start] + "\n\n" + text[start:]
    return text


def paragraphs(text: str) -> list[str]:
    """Split canonical text into paragraphs (blank lines, headings, item blocks), unwrapped."""
    text = _mark_item_starts(text)
    text = text.replace("\n\f", "\n").replace("\f", "\n")  # breaks can fall mid-paragraph
    for h in HEADINGS:
        text = re.sub(r"\s*" + r"\s+".join(map(re.escape, h.split())) + r"\s*", f"\n\n{h}\n\n", text)
    for label in ("Claims Administrator guideline:", "MAXIMUS guideline:", "Decision rationale:",
                  "State(s) of Licensure:", "Certification(s)/Specialty:"):
        text = text.replace(label, f"\n\n{label}")
    text = re.sub(r"(:[ \t]*\n?[ \t]*(?:Upheld|Overturned))[ \t]*\n", r"\1\n\n", text)
    paras = [re.sub(r"-\n(?=[a-z])", "-", p) for p in re.split(r"\n[ \t]*\n", text)]
    return [" ".join(p.split()) for p in paras if p.strip()]


def rewrap(text: str, width: int, page_every: int = 0) -> str:
    """The letter re-wrapped at ``width`` columns, with a page break every N paragraphs."""
    out: list[str] = []
    for i, p in enumerate(paragraphs(text)):
        if page_every and i and i % page_every == 0:
            out.append("\f")
        out.append(textwrap.fill(p, width=width, break_on_hyphens=False, break_long_words=False))
        out.append("")
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """The letter as a PDF converter's Markdown: header table, bold labels, headings."""
    paras = paragraphs(text)
    out: list[str] = []
    for p in paras:
        if p in HEADINGS:
            out += [f"### {p}", ""]
            continue
        m = re.match(r"(.*?)(Upheld|Overturned)$", p)
        label = re.match(r"(Claims Administrator guideline:|MAXIMUS guideline:|Decision rationale:)",
                         p)
        if p.startswith("Case Number:"):
            cells = re.split(r"\s*(?=(?:Date Assigned|Date of Injury|Decision Date|UR Denial Date|"
                             r"Priority|Application Received):)", p)
            out.append("| | | | |")
            out.append("|---|---|---|---|")
            for c in cells:
                k, _, v = c.partition(":")
                out.append(f"| <b>{k.strip()}:</b> | {v.strip()} |")
            out.append("")
        elif label:
            out += [f"**{label.group(1)}**{p[len(label.group(1)):]}", ""]
        elif m and m.group(1).rstrip().endswith(":"):
            out += [f"**{m.group(1).strip()}** {m.group(2)}", ""]
        else:
            out += [p, ""]
    return "\n".join(out)


def without_spans(value: Any) -> Any:
    """A record dict with offsets, source and exact-text fields removed, for comparing forms."""
    if isinstance(value, dict):
        return {
            k: without_spans(v)
            for k, v in value.items()
            if k not in {"span", "rationale_span", "decision_span", "diagnoses_span",
                         "medications_span", "source"}
        }
    if isinstance(value, list):
        return [without_spans(v) for v in value]
    return value
