"""Parsing: a letter's canonical text -> :class:`~imr_graph.records.Record`.

Works on the text built by :mod:`imr_graph.letters.reading`, so PDF, ``pdftotext``-style text and
converter Markdown all meet the same code. The supported layout is the DWC letter used
since 2015 ("dwc-2015"): a header table (case number, dates, priority), HOW THE IMR FINAL
DETERMINATION WAS MADE with the reviewer's credentials, CLINICAL CASE SUMMARY, and IMR
ISSUES, DECISIONS AND RATIONALES with one block per disputed item. Older layouts are
recognised by their headings and refused with :class:`UnsupportedLayoutError`.

Everything here is plain string work: parsing never touches RDF. Fields the letter does not
state are ``None``; nothing is guessed. Guideline paragraphs are read by
:mod:`imr_graph.letters.guidelines`; case-summary phrases by :mod:`imr_graph.letters.summary`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..errors import NotALetterError, ParseError, UnsupportedLayoutError
from ..records import Item, Record, Reviewer, Source, Span, Worker
from ..textutil import clean, ws
from .guidelines import parse_guideline, rationale_references
from .reading import Document, read_document
from .services import read_service
from .summary import diagnosis_status, find_diagnoses, find_medications, find_worker

# ---------------------------------------------------------------------------------------
# Layout detection


def _heading(words: str) -> re.Pattern[str]:
    """A heading regex that tolerates any whitespace (line wraps) between its words."""
    return re.compile(r"\s+".join(re.escape(w) for w in words.split()))


H_HOW = _heading("HOW THE IMR FINAL DETERMINATION WAS MADE")
H_SUMMARY = _heading("CLINICAL CASE SUMMARY")
H_ISSUES = _heading("IMR ISSUES, DECISIONS AND RATIONALES")
H_CREDENTIALS = re.compile(r"The\s+Expert\s+Reviewer\s+has\s+the\s+following\s+credentials\s*:?")

_OLD_LAYOUTS: list[tuple[str, list[re.Pattern[str]]]] = [
    (
        "2013-2014 'MEDICAL PROFESSIONAL REVIEW' letter",
        [
            _heading("MEDICAL PROFESSIONAL REVIEW"),
            _heading("ISSUE AT DISPUTE"),
            _heading("DOCUMENTS REVIEWED FOR DETERMINATION"),
            re.compile(r"RATIONALE\s+FOR\s+WHY\s+THE\s+REQUESTED"),
            _heading("MEDICAL REVIEWER QUALIFICATIONS"),
        ],
    ),
    (
        "2013-2014 'MAXIMUS FEDERAL SERVICES, INC. / Independent Medical Review' letter",
        [
            re.compile(r"MAXIMUS\s+FEDERAL\s+SERVICES,?\s+INC"),
            _heading("DOCUMENTS REVIEWED"),
            re.compile(r"IMR\s+DECISION\(S\)\s+AND\s+RATIONALE\(S\)"),
        ],
    ),
]


def detect_layout(text: str, path: str) -> None:
    """Raise unless ``text`` is a letter in the supported layout."""
    current = [bool(h.search(text)) for h in (H_HOW, H_SUMMARY, H_ISSUES)]
    if current[2] and (current[0] or current[1]):
        return
    for name, marks in _OLD_LAYOUTS:
        if sum(1 for m in marks if m.search(text)) >= 2:
            raise UnsupportedLayoutError(f"layout not supported yet: {name}", path=path)
    if any(current) or "Decision rationale" in text:
        missing = [
            n
            for n, ok in zip(
                ("HOW THE IMR FINAL DETERMINATION WAS MADE", "CLINICAL CASE SUMMARY",
                 "IMR ISSUES, DECISIONS AND RATIONALES"),
                current,
                strict=True,
            )
            if not ok
        ]
        raise ParseError(f"IMR letter is missing section(s): {'; '.join(missing)}", path=path)
    raise NotALetterError(
        "not an IMR determination letter (none of its section headings found)", path=path
    )


# ---------------------------------------------------------------------------------------
# Header


_HEADER_LABELS: dict[str, str] = {
    "case_number": "Case Number",
    "date_assigned": "Date Assigned",
    "date_of_injury": "Date of Injury",
    "decision_date": "Decision Date",
    "ur_denial_date": "UR Denial Date",
    "priority": "Priority",
    "application_received": "Application Received",
}
_LABEL_GAP = r"[\s|*]+"
_LABEL_RE = re.compile(
    "|".join(
        f"(?P<{key}>" + _LABEL_GAP.join(re.escape(w) for w in label.split()) + r"\s*:)"
        for key, label in _HEADER_LABELS.items()
    )
)
_DATE_RE = re.compile(
    r"\b(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})\b"
    r"|\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+(\d{1,2}),?\s+(\d{4})\b",
    re.I,
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
CASE_NUMBER_RE = re.compile(r"(?<![A-Za-z])(CM\d{2}\s*-\s*\d{7})(?!\d)")


def parse_date(value: str) -> str | None:
    """The first date in ``value`` as ISO ``YYYY-MM-DD``; ``None`` if none or invalid."""
    m = _DATE_RE.search(value)
    if not m:
        return None
    try:
        if m.group(1):
            month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if len(m.group(3)) == 2:
                year += 2000 if year < 50 else 1900
        else:
            month = _MONTHS[m.group(4)[:3].lower()]
            day, year = int(m.group(5)), int(m.group(6))
        return date(year, month, day).isoformat()
    except (ValueError, KeyError):
        return None


def parse_header(text: str) -> dict[str, str | None]:
    """Read the header table: each label's value runs up to the next label."""
    how = H_HOW.search(text)
    head = text[: how.start()] if how else text[:2000]
    fields: dict[str, str | None] = dict.fromkeys(_HEADER_LABELS)
    matches = list(_LABEL_RE.finditer(head))
    for i, m in enumerate(matches):
        key = m.lastgroup
        if key is None or fields[key] is not None:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(head)
        value = clean(head[m.end() : end])
        if key == "case_number":
            cm = CASE_NUMBER_RE.search(value)
            fields[key] = re.sub(r"\s+", "", cm.group(1)) if cm else None
        elif key == "priority":
            fields[key] = value.split()[0].strip(".,;") if value.split() else None
        else:
            fields[key] = parse_date(value)
    if fields["case_number"] is None:
        cm = CASE_NUMBER_RE.search(head)
        if cm:
            fields["case_number"] = re.sub(r"\s+", "", cm.group(1))
    return fields


# ---------------------------------------------------------------------------------------
# Credentials


_LICENSURE_RE = re.compile(r"State\(?s?\)?\s+of\s+Licensure\s*:")
_SPECIALTY_RE = re.compile(r"Certification\(?s?\)?\s*/\s*Specialt(?:y|ies)\s*:")


def parse_reviewer(text: str) -> Reviewer:
    """Licensure states and specialties from the credentials paragraph."""
    lic = _LICENSURE_RE.search(text)
    spec = _SPECIALTY_RE.search(text)
    stop = H_SUMMARY.search(text)
    states: list[str] = []
    specialties: list[str] = []
    if lic:
        end = spec.start() if spec and spec.start() > lic.end() else _para_end(text, lic.end())
        states = _split_list(text[lic.end() : end], split_and=True)
    if spec:
        end = _para_end(text, spec.end())
        if stop and stop.start() > spec.end():
            end = min(end, stop.start())
        specialties = _split_list(text[spec.end() : end], split_and=False)
    return Reviewer(licensure=states, specialties=specialties)


def _para_end(text: str, start: int) -> int:
    """End of the paragraph starting at ``start``: a blank line, a heading or a page break."""
    m = re.compile(r"\n[ \t]*\n|\f|CLINICAL\s+CASE\s+SUMMARY").search(text, start)
    return m.start() if m else len(text)


def _split_list(value: str, *, split_and: bool) -> list[str]:
    parts = re.split(r"\s*[,;]\s*|\s+and\s+" if split_and else r"\s*[,;]\s*", ws(value))
    return [p.strip(" .") for p in parts if p.strip(" .")]


# ---------------------------------------------------------------------------------------
# Items


_OUTCOME_RE = re.compile(r":[ \t]*(?:\n[ \t]*)?(Upheld|Overturned)[ \t]*(?=\n|\f|$|[A-Z][a-z])")
_CA_RE = re.compile(r"Claims\s+Administrator\s+guideline\s*:")
_MAX_RE = re.compile(r"MAXIMUS\s+guideline\s*:")
_RAT_RE = re.compile(r"Decision\s+rationale\s*:")
_INTRO_RE = re.compile(
    r"The\s+Final\s+Determination\s+was\s+based\s+on\s+decisions\s+for\s+the\s+disputed\s+"
    r"items\s*/\s*services\s+set\s+forth\s+below\s*:?"
)
_PARTIAL_RE = re.compile(
    r"(?P<orig>.+?)\s+was\s+the\s+original\s+request\.\s*"
    r"(?:(?P<auth>.+?)\s+(?:was|were)\s+authorized\s+by\s+the\s+Claims\s+Administrator\.\s*"
    r"|The\s+Claims\s+Administrator\s+authorized\s+(?P<auth2>.+?)"
    r"(?:,?\s+leaving\s+the\s+original\s+request\s+IMR\s+eligible)?\.\s*)?"
    r"(?:The\s+remaining\s+IMR\s+eligible\s+portion\s+of\s+the\s+original\s+request"
    r"|The\s+original\s+request),?\s*(?:is\s+)?"
    r"(?P<rest>.+?)\s*(?:\bis)?\s*$",
    re.S | re.I,
)
_PARTIAL_TAIL = re.compile(
    r"remaining\s+IMR\s+eligible\s+portion|^\s*(?:IMR\s+eligible\.\s*)?The\s+original\s+request"
    r"|leaving\s+the\s+original\s+request", re.I
)
_ORIGINAL_SENTENCE = re.compile(r"was\s+the\s+original\s+request\.", re.I)
_SENTENCE_END_LINE = re.compile(r"[.!?][\"')\]]*[ \t\f]*$")


def _label_start(text: str, lo: int, hi: int) -> int:
    """Where the item label that ends at ``hi`` begins (``lo`` is the earliest it can).

    Labels start on a new line after a blank line, a line ending a sentence
    (the previous rationale's last line), or at ``lo``. A label that states a partial
    authorization ("X was the original request. ...") contains sentences of its own, so
    it is started at the sentence that opens with the original request.
    """
    region = text[lo:hi]
    starts = [0]
    pos = 0
    for line in region.split("\n")[:-1]:
        pos += len(line) + 1
        if not line.strip() or _SENTENCE_END_LINE.search(line):
            starts.append(pos)
    start = lo + starts[-1]
    label = text[start:hi]
    if _PARTIAL_TAIL.search(label) and not _ORIGINAL_SENTENCE.search(label):
        # A partial authorization: its sentences wrap over lines ending with a period, so
        # the label starts at the sentence that names the original request.
        orig = list(_ORIGINAL_SENTENCE.finditer(region))
        if orig:
            before = region[: orig[-1].start()]
            cut = max(before.rfind("\n\n"), _last_sentence_break(before))
            start = lo + (cut if cut >= 0 else 0)
    while start < hi and text[start] in " \t\n\f":
        start += 1
    return start


def _last_sentence_break(s: str) -> int:
    """Offset just after the last line of ``s`` that ends a sentence (or -1)."""
    best = -1
    pos = 0
    for line in s.split("\n")[:-1]:
        pos += len(line) + 1
        if _SENTENCE_END_LINE.search(line) or not line.strip():
            best = pos
    return best


def _strip_span(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end)


def parse_items(text: str, path: str) -> list[Item]:
    """Every disputed item in the IMR ISSUES section, in letter order."""
    issues = H_ISSUES.search(text)
    if not issues:
        raise ParseError("no 'IMR ISSUES, DECISIONS AND RATIONALES' section", path=path)
    begin = issues.end()
    intro = _INTRO_RE.search(text, begin)
    if intro and intro.start() - begin < 400:
        begin = intro.end()
    outcomes = [m for m in _OUTCOME_RE.finditer(text, begin)]
    # An outcome only counts where a guideline or rationale block follows it.
    outcomes = [m for m in outcomes if _block_follows(text, m.end())]
    if not outcomes:
        raise ParseError("no disputed item with an Upheld/Overturned decision found", path=path)
    # A label starts after the previous item's rationale heading (never after its own outcome).
    prev_end = begin
    kept: list[tuple[int, re.Match[str]]] = []
    for i, m in enumerate(outcomes):
        start = _label_start(text, min(prev_end, m.start()), m.start())
        if ws(text[start : m.start()]).strip(" :"):
            kept.append((start, m))
        nxt = outcomes[i + 1].start() if i + 1 < len(outcomes) else len(text)
        rat = _RAT_RE.search(text, m.end(), nxt)
        prev_end = rat.end() if rat else m.end()
    if not kept:
        raise ParseError("no disputed item with a named request found", path=path)
    items: list[Item] = []
    for n, (start, m) in enumerate(kept):
        block_end = kept[n + 1][0] if n + 1 < len(kept) else len(text)
        items.append(_item(text, n + 1, start, m, block_end))
    return items


def _block_follows(text: str, pos: int) -> bool:
    window = text[pos : pos + 600]
    return bool(_CA_RE.search(window) or _MAX_RE.search(window) or _RAT_RE.search(window))


def _item(text: str, index: int, start: int, outcome: re.Match[str], end: int) -> Item:
    label = ws(text[start : outcome.start()])
    request, original, authorized = label, None, None
    partial = _PARTIAL_RE.match(label)
    if partial:
        original = partial.group("orig").strip(" ,.")
        authorized = (partial.group("auth") or partial.group("auth2") or "").strip(" ,.") or None
        request = partial.group("rest").strip(" ,.")
    request = re.sub(r"\s+is$", "", request).strip(" :")
    body_start = outcome.end()
    ca = _CA_RE.search(text, body_start, end)
    mx = _MAX_RE.search(text, body_start, end)
    rat = _RAT_RE.search(text, body_start, end)
    ca_g = mx_g = None
    if ca:
        ca_end = min(x.start() for x in (mx, rat) if x) if (mx or rat) else end
        ca_g = parse_guideline(text, ca.end(), ca_end)
    if mx:
        mx_end = rat.start() if rat and rat.start() > mx.end() else end
        mx_g = parse_guideline(text, mx.end(), mx_end)
    rationale = None
    rationale_span = None
    refs = []
    if rat:
        rationale_span = _strip_span(text, rat.end(), end)
        rationale = ws(text[rationale_span[0] : rationale_span[1]]) or None
        refs = rationale_references(text, *rationale_span)
    return Item(
        index=index,
        request=request,
        outcome=outcome.group(1),
        original_request=original,
        authorized=authorized,
        claims_admin_guideline=ca_g,
        reviewer_guideline=mx_g,
        rationale=rationale,
        rationale_references=refs,
        span=_strip_span(text, start, end),
        rationale_span=rationale_span,
        service=read_service(request),
        decision_span=_strip_span(text, start, outcome.end()),
    )


# ---------------------------------------------------------------------------------------
# Whole letter


def parse_text(text: str, *, path: str = "<text>", sha256: str = "", fmt: str = "text") -> Record:
    """Parse canonical letter text (see :mod:`imr_graph.letters.reading`) into a record."""
    detect_layout(text, path)
    header = parse_header(text)
    summary_m = H_SUMMARY.search(text)
    issues_m = H_ISSUES.search(text)
    s_start = summary_m.end() if summary_m else 0
    s_end = issues_m.start() if issues_m and issues_m.start() > s_start else len(text)
    age, sex = find_worker(text, s_start, s_end)
    diagnoses, d_span = find_diagnoses(text, s_start, s_end)
    medications, medication_services, m_span = find_medications(text, s_start, s_end)
    cred_m = H_CREDENTIALS.search(text)
    reviewer = parse_reviewer(text[cred_m.start() : s_end] if cred_m else text[:s_start])
    return Record(
        case_number=header["case_number"],
        date_assigned=header["date_assigned"],
        date_of_injury=header["date_of_injury"],
        decision_date=header["decision_date"],
        ur_denial_date=header["ur_denial_date"],
        application_received=header["application_received"],
        priority=header["priority"],
        reviewer=reviewer,
        worker=Worker(age=age, sex=sex),
        diagnoses=diagnoses,
        medications=medications,
        items=parse_items(text, path),
        source=Source(path=path, sha256=sha256, format=fmt),  # type: ignore[arg-type]
        diagnoses_span=d_span,
        medications_span=m_span,
        diagnosis_status={d: st for d in diagnoses if (st := diagnosis_status(d))},
        medication_services=medication_services,
    )


def parse_document(doc: Document) -> Record:
    """Parse one letter's canonical text into a record."""
    return parse_text(doc.text, path=doc.path, sha256=doc.sha256, fmt=doc.format)


def parse_file(path: str | Path) -> Record:
    """Read and parse one letter file."""
    return parse_document(read_document(path))
