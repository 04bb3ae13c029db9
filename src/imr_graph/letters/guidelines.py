"""Reading guideline paragraphs and the references made inside decision rationales.

A guideline paragraph ("Claims Administrator guideline:" or "MAXIMUS guideline:") is a run
of statements such as::

    Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids,
    and Opioid Treatment 2016. Decision based on Non-MTUS Citation Official Disability
    Guidelines (ODG) Pain (Chronic), TCA's.

Each statement becomes one or more :class:`~imr_graph.records.Citation` objects with a
family (MTUS, ODG, ACOEM, OTHER), a title, an edition year, sections and pages. Statements
that cite nothing ("did not cite any medical evidence") give an empty ``sources`` list.
Part of the parsing stage: plain strings in, record objects out.
"""

from __future__ import annotations

import re

from ..records import Citation, Guideline, RationaleReference
from ..textutil import dedupe, split_top_level, ws

_STATEMENT = re.compile(r"(?:Decision\s+)?based\s+on\s+(?=MTUS\b|Non\s*-\s*MTUS\b)", re.I)
_NON_MTUS = re.compile(r"^Non\s*-\s*MTUS\s*(?:Citations?)?\s*:?\s*", re.I)
_MTUS = re.compile(r"^MTUS\s*:?\s*", re.I)
_YEAR = r"(?:19|20)\d{2}"
_MTUS_DOC = re.compile(
    rf"(?P<title>[A-Z][A-Za-z\s,&/'\-]*?)\s+(?P<year>{_YEAR})(?:\s+Guidelines)?"
    rf"(?:\s*,?\s*Section\(s\)\s*:\s*(?P<sections>.*?))?"
    rf"(?:\s*,?\s*Page\(?s?\)?\s*:?\s*(?P<pages>[\d\s,\-–]+))?"
    rf"(?=\s*,?\s+and\s+[A-Z][A-Za-z\s,&/'\-]*?\s+{_YEAR}\b|\s*\.?\s*$)",
    re.S,
)
_MTUS_TITLE = re.compile(
    r"(?P<title>Chronic\s+Pain(?:\s+Medical)?\s+Treatment|Acupuncture(?:\s+Medical)?\s+Treatment"
    r"|Postsurgical\s+Treatment|Opioids?\s+Treatment|General\s+Approach(?:es)?"
    r"|Stress[\s-]+Related\s+Conditions|[A-Z][A-Za-z]*(?:,?\s+(?:and\s+)?[A-Z][A-Za-z]*)*\s+Complaints"
    r"|Eye|Occupational\s+Interstitial\s+Lung\s+Disease)"
)
_ACOEM_IN_MTUS = re.compile(
    r"ACOEM|American\s+College\s+of\s+Occupational\s+and\s+Environmental\s+Medicine", re.I
)
_FAMILY_MARK = re.compile(
    r"Official\s+Disability\s+Guidelines(?:\s*\(ODG\))?|\bODG\b|"
    r"American\s+College\s+of\s+Occupational\s+and\s+Environmental\s+Medicine(?:\s*\(ACOEM\))?|"
    r"\bACOEM\b|\bHarris\s+J\.?|Other\s+Medical\s+Treatment\s+Guidelines?",
    re.I,
)
_KNOWN_COMMA_SECTIONS = ("NSAIDs, GI symptoms",)
_PAGES = re.compile(
    r"\b(?:Page\(?s?\)?|pages?|pgs?\.?|p\.?)\s*:?\s*(\d+(?:\s*[-–]\s*\d+)?(?:\s*(?:,|and)\s*\d+(?:\s*[-–]\s*\d+)?)*)",
    re.I,
)


def _family(mark: str) -> str:
    m = mark.lower()
    if "disability" in m or m == "odg":
        return "ODG"
    if "acoem" in m or "american college" in m or "harris" in m:
        return "ACOEM"
    return "OTHER"


def _pages(text: str) -> list[str]:
    out: list[str] = []
    for m in _PAGES.finditer(text):
        for piece in re.split(r"\s*(?:,|and)\s*", m.group(1)):
            piece = re.sub(r"\s*[-–]\s*", "-", piece.strip())
            if piece:
                out.append(piece)
    return dedupe(out)


def split_sections(text: str) -> list[str]:
    """Split a ``Section(s):`` list into section names.

    Commas separate sections, except where the next piece starts in lower case (a
    continuation such as "TENS, chronic pain (...)") or forms a known section name.
    Numbered sections ("3.1 Opioids ...: ...") split only before the next number.
    """
    text = ws(text).rstrip(" .")
    if not text:
        return []
    if re.match(r"\d+(\.\d+)*\.?\s", text):
        parts = re.split(r",\s*(?=\d+(?:\.\d+)*\.?\s+[A-Z])", text)
        return [p.strip(" ,.") for p in parts if p.strip(" ,.")]
    out: list[str] = []
    for piece in split_top_level(text):
        piece = re.sub(r"^and\s+", "", piece).strip(" .")
        if not piece:
            continue
        joined = f"{out[-1]}, {piece}" if out else piece
        if out and (piece[0].islower() or joined.startswith(_KNOWN_COMMA_SECTIONS)):
            out[-1] = joined
        else:
            out.append(piece)
    return out


def _mtus_citations(body: str, offset: int, raw: str) -> list[Citation]:
    body = body.strip()
    cites: list[Citation] = []
    for m in _MTUS_DOC.finditer(body):
        title = re.sub(r"^(?:and|,)\s+", "", ws(m.group("title"))).strip(" ,")
        title = re.sub(r"\s+Guidelines?$", "", title)
        cites.append(
            Citation(
                family="MTUS",
                title=title,
                year=int(m.group("year")),
                sections=split_sections(m.group("sections") or ""),
                pages=_pages(m.group(0)),
                text=ws(m.group(0)).strip(" ,."),
                span=_sub_span(raw, offset, m.group(0)),
            )
        )
    if not cites and body:
        cites.append(_loose_mtus_citation(body, offset, raw))
    return cites


def _loose_mtus_citation(body: str, offset: int, raw: str) -> Citation:
    """An MTUS statement without the "Title Year, Section(s):" shape (2013-2015 letters).

    E.g. "Chronic Pain Treatment Guidelines Opioids Page(s): 74-96" or "ACOEM Practice
    Guidelines, 2nd Edition (2004), Chapter 8, Neck and Upper Back Complaints, Table 8-8".
    """
    text = ws(body).strip(" ,.")
    year_m = re.search(rf"\b({_YEAR})\b", text)
    title_m = _MTUS_TITLE.search(text)
    title = ws(title_m.group("title")) if title_m else None
    rest = text[title_m.end() :] if title_m else ""
    if _ACOEM_IN_MTUS.search(text):
        chapter = re.search(r"Chapter\s+(\d+)", text)
        title = title or (f"ACOEM Chapter {chapter.group(1)}" if chapter else "ACOEM")
        sections = [f"Table {t}" for t in re.findall(r"Table\s+(\d+\s*-\s*\d+)", text)]
    else:
        rest = _PAGES.sub("", rest)
        rest = re.sub(r"^\s*(?:Medical\s+)?(?:Treatment\s+)?Guidelines?\b", "", rest, flags=re.I)
        rest = re.sub(rf"\(?\b{_YEAR}\b\)?", "", rest)
        sections = split_sections(rest.strip(" ,.;:"))
    return Citation(
        family="MTUS",
        title=title,
        year=int(year_m.group(1)) if year_m else None,
        sections=sections,
        pages=_pages(text),
        text=text,
        span=_sub_span(raw, offset, body),
    )


def _non_mtus_citations(body: str, offset: int, raw: str) -> list[Citation]:
    marks = list(_FAMILY_MARK.finditer(body))
    pieces: list[tuple[str, str]] = []  # (family, text)
    if not marks or (marks[0].start() > 0 and body[: marks[0].start()].strip(" ,.;:")):
        end = marks[0].start() if marks else len(body)
        pieces.append(("OTHER", body[:end]))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        fam = _family(m.group(0))
        # "ODG" right after "Official Disability Guidelines (ODG)" or inside a chapter title
        # ("ODG Preface") continues the same citation.
        if pieces and fam == pieces[-1][0] and fam == "ODG" and m.group(0) == "ODG":
            pieces[-1] = (fam, pieces[-1][1] + body[m.start() : end])
            continue
        text = body[m.start() : end]
        if fam == "OTHER":
            text = body[m.end() : end]
        pieces.append((fam, text))
    cites: list[Citation] = []
    for fam, text in pieces:
        clean_text = ws(text).strip(" ,.;:")
        clean_text = re.sub(r"\s+(?:and|&)$", "", clean_text)
        if not clean_text or clean_text.lower() in {"and", "and the"}:
            continue
        title = _FAMILY_MARK.sub("", clean_text, count=1) if fam != "OTHER" else clean_text
        title = re.sub(r"^[\s,.:;\-–]*(?:(?:guidelines?|chapter)\b[\s,:\-–]*)?", "", title,
                       flags=re.I)
        title = ws(title).strip(" ,.;:-–")
        # "... and the Official Disability Guidelines": the joining words are no title; an
        # edition ("2016, Web Version,") before the chapter is not one either.
        title = re.sub(r"(?:^|\s+)(?:and|&)(?:\s+the)?$|^(?:and|the)\b\s*", "", title, flags=re.I)
        title = re.sub(rf"^(?:{_YEAR}\b|Web\s+Version\b|Online\s+Version\b)[\s,;:]*", "", title,
                       flags=re.I)
        title = re.sub(rf"^(?:{_YEAR}\b|Web\s+Version\b|Online\s+Version\b)[\s,;:]*", "", title,
                       flags=re.I)
        title = title.strip(" ,.;:-–") or None
        sections: list[str] = []
        if fam == "ODG" and title:
            head, sep, rest = _split_chapter(title)
            if sep:
                title, sections = head, [rest]
        year_m = re.search(rf"\b({_YEAR})\b", clean_text)
        cites.append(
            Citation(
                family=fam,
                title=title,
                year=int(year_m.group(1)) if year_m else None,
                sections=sections,
                pages=_pages(clean_text),
                text=clean_text,
                span=_sub_span(raw, offset, text),
            )
        )
    return cites


_ODG_CHAPTER_SEP = re.compile(r"\s*(?:,|:|\s-\s|/)\s*")


_COMMA_CHAPTER = re.compile(
    r"^(?:Forearm,\s*Wrist,?\s*(?:&|and)\s*Hand|Head,\s*Neck)(?:\s*\([^)]*\))?(?:\s+chapter)?",
    re.I,
)


def _split_chapter(title: str) -> tuple[str, str, str]:
    """Split "Low Back Chapter, MRI" into chapter and topic at the first separator.

    Chapter names with a comma of their own ("Forearm, Wrist & Hand") are kept whole.
    """
    known = _COMMA_CHAPTER.match(title)
    if known:
        rest = title[known.end() :]
        sep = _ODG_CHAPTER_SEP.match(rest)
        if not rest.strip(" ,.;:"):
            return title, "", ""
        if sep and sep.group(0).strip():
            return title[: known.end()].strip(), sep.group(0), rest[sep.end() :].strip(" ,.;:")
    depth = 0
    for i, ch in enumerate(title):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            m = _ODG_CHAPTER_SEP.match(title, i)
            if m and m.end() > i and i > 0 and m.group(0).strip():
                rest = title[m.end() :].strip(" ,.;:")
                if rest:
                    return title[:i].strip(), m.group(0), rest
    return title, "", ""


def _sub_span(raw: str, offset: int, piece: str) -> tuple[int, int] | None:
    """Span of ``piece`` (a substring of ``raw``) in the letter, ``raw`` starting at offset."""
    piece = piece.strip(" \t\n\f,.;:")
    if not piece:
        return None
    i = raw.find(piece)
    if i < 0:
        return None
    return (offset + i, offset + i + len(piece))


def parse_guideline(text: str, start: int, end: int) -> Guideline:
    """Parse the guideline paragraph ``text[start:end]`` (offsets are into the letter)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    raw = text[start:end]
    norm = ws(raw)
    no_evidence = bool(re.search(r"did\s+not\s+cite\s+any\s+medical\s+evidence", norm, re.I))
    outside = bool(re.search(r"outside\s+of\s+the\s+MTUS", norm, re.I))
    citations: list[Citation] = []
    marks = list(_STATEMENT.finditer(raw))
    for i, m in enumerate(marks):
        s_end = marks[i + 1].start() if i + 1 < len(marks) else len(raw)
        body = raw[m.end() : s_end]
        if _NON_MTUS.match(body):
            skip = _NON_MTUS.match(body)
            assert skip is not None
            citations += _non_mtus_citations(body[skip.end() :], start + m.end() + skip.end(),
                                             body[skip.end() :])
        else:
            skip = _MTUS.match(body)
            assert skip is not None
            citations += _mtus_citations(body[skip.end() :], start + m.end() + skip.end(),
                                         body[skip.end() :])
    sources = dedupe([c.family for c in citations])
    mtus_titles = dedupe(
        [f"{c.title} {c.year}" if c.year else str(c.title) for c in citations
         if c.family == "MTUS" and c.title]
    )
    sections = dedupe([s for c in citations if c.family == "MTUS" for s in c.sections])
    return Guideline(
        text=norm,
        sources=sources,
        mtus_titles=mtus_titles,
        sections=sections,
        citations=citations,
        no_evidence=no_evidence,
        outside_mtus=outside,
        span=(start, end) if end > start else None,
    )


# ---------------------------------------------------------------------------------------
# References inside rationales

_REF_FAMILY = re.compile(r"\b(MTUS|ACOEM|ODG|Official\s+Disability\s+Guidelines)\b")
_PAGE_REF = re.compile(
    r"\b(?:on\s+)?(?:pages?|pgs?\.|pg)\s+(\d+(?:\s*(?:-|–|to|and|,)\s*\d+)*)"
    r"(?:\s+of\s+(?:the\s+)?(?P<doc>[^,.;()]{2,80}))?",
    re.I,
)
_TABLE_REF = re.compile(
    r"\b(?:(?P<fam>MTUS|ACOEM|ODG)(?:\s*/\s*ACOEM)?(?:(?!MTUS|ACOEM|ODG)[^.;]){0,40}?)?"
    r"(?:Chapter\s+(?P<chapter>\d+)\s*,?\s*)?Table\s+(?P<table>\d+(?:\s*-\s*\d+)?)",
    re.I,
)
_CHAPTER_REF = re.compile(r"\b(?P<fam>MTUS|ACOEM|ODG)[^.;]{0,30}?\bChapter\s+(?P<chapter>\d+)\b(?!\s*,?\s*Table)")
_LIT_GROUP = re.compile(r"\(([^()]{3,200}?\b(?:19|20)\d{2}[a-z]?)\)")
_LIT_ONE = re.compile(
    r"^\s*(?P<author>[A-Z][A-Za-z'\-]+(?:\s+(?:et\s+al\.?|(?:and|&)\s+[A-Z][A-Za-z'\-]+))?)"
    r"\s*,?\s+(?P<year>(?:19|20)\d{2})[a-z]?\s*$"
)


def _context_family(text: str, start: int, end: int) -> str | None:
    window = text[max(0, start - 120) : min(len(text), end + 80)]
    m = _REF_FAMILY.search(text, start, end) or _REF_FAMILY.search(window)
    if not m:
        return None
    return "ODG" if m.group(1).lower().startswith(("official", "odg")) else m.group(1).upper()


def rationale_references(text: str, start: int, end: int) -> list[RationaleReference]:
    """Pages, tables, chapters and literature cited in the rationale ``text[start:end]``."""
    refs: list[RationaleReference] = []
    for m in _PAGE_REF.finditer(text, start, end):
        pages = [re.sub(r"\s*(?:-|–|to)\s*", "-", p.strip())
                 for p in re.split(r"\s*(?:and|,)\s*", m.group(1)) if p.strip()]
        fam_src = m.group("doc") or ""
        fm = _REF_FAMILY.search(fam_src)
        family = (
            ("ODG" if fm.group(1).lower().startswith(("official", "odg")) else fm.group(1).upper())
            if fm
            else _context_family(text, m.start(), m.end())
        )
        refs.append(RationaleReference(kind="page", text=ws(m.group(0)), family=family,
                                       pages=pages, span=(m.start(), m.end())))
    for m in _TABLE_REF.finditer(text, start, end):
        fam = m.group("fam").upper() if m.group("fam") else _context_family(text, m.start(), m.end())
        refs.append(RationaleReference(kind="table", text=ws(m.group(0)), family=fam,
                                       table=re.sub(r"\s+", "", m.group("table")),
                                       span=(m.start(), m.end())))
    for m in _CHAPTER_REF.finditer(text, start, end):
        refs.append(RationaleReference(kind="chapter", text=ws(m.group(0)),
                                       family=m.group("fam").upper(),
                                       table=None, pages=[], span=(m.start(), m.end())))
    for g in _LIT_GROUP.finditer(text, start, end):
        offset = g.start(1)
        for piece in re.split(r";", g.group(1)):
            lm = _LIT_ONE.match(ws(piece))
            if lm:
                p_start = offset + g.group(1).find(piece)
                refs.append(RationaleReference(kind="literature", text=ws(piece),
                                               author=lm.group("author"),
                                               year=int(lm.group("year")),
                                               span=(p_start, p_start + len(piece))))
    refs.sort(key=lambda r: r.span or (0, 0))
    return refs
