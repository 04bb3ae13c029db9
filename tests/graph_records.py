"""Hand-made records with a matching letter text, for the graph tests.

:class:`LetterBuilder` writes text line by line and records the span of what it writes, so
every span of the records points at the exact words it stands for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from imr_graph.records import Citation, Guideline, Item, Record, Reviewer, Source, Worker


@dataclass
class ItemSpec:
    """A disputed item to write: request, outcome and what each side cited."""

    request: str
    outcome: str
    reviewer: list[tuple[str, str | None, int | None, list[str]]] = field(default_factory=list)
    claims: list[tuple[str, str | None, int | None, list[str]]] = field(default_factory=list)
    original: str | None = None
    authorized: str | None = None


class LetterBuilder:
    """Accumulates text and returns spans of the pieces written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, piece: str) -> tuple[int, int]:
        start = len(self.text)
        self.text += piece
        return (start, len(self.text))

    def line(self, prefix: str, piece: str) -> tuple[int, int]:
        self.text += prefix
        span = self.write(piece)
        self.text += "\n"
        return span


def _guideline(b: LetterBuilder, label: str,
               cites: list[tuple[str, str | None, int | None, list[str]]]) -> Guideline:
    b.text += f"{label}: Decision based on "
    start = len(b.text)
    citations = []
    for n, (family, title, year, sections) in enumerate(cites):
        if n:
            b.text += "; "
        words = " ".join(x for x in (family, title, str(year) if year else None) if x)
        if sections:
            words += ", Section(s): " + ", ".join(sections)
        span = b.write(words)
        citations.append(Citation(family=family, title=title, year=year, sections=sections,
                                  text=words, span=span))
    end = len(b.text)
    b.text += ".\n"
    return Guideline(text=b.text[start - len("Decision based on "):end + 1],
                     sources=sorted({c.family for c in citations}), citations=citations,
                     span=(start - len("Decision based on "), end + 1))


def make_record(
    case_number: str | None,
    items: list[ItemSpec],
    *,
    diagnoses: tuple[str, ...] = ("chronic pain syndrome",),
    medications: tuple[str, ...] = (),
    specialties: tuple[str, ...] = ("Occupational Medicine",),
    states: tuple[str, ...] = ("California",),
    decision_date: str | None = "2017-01-20",
    ur_denial_date: str | None = "2016-11-10",
    age: int | None = 50,
    sex: str | None = "male",
) -> tuple[Record, str]:
    """A record and its letter text; spans of items, citations and lists are exact."""
    b = LetterBuilder()
    b.text += f"Case Number: {case_number or 'none'}\n"
    dspan = b.line("Diagnoses: ", ", ".join(diagnoses)) if diagnoses else None
    mspan = b.line("Medications: ", ", ".join(medications)) if medications else None
    out_items = []
    for n, spec in enumerate(items, start=1):
        span = b.line("", f"{spec.request}: {spec.outcome}")
        claims = _guideline(b, "Claims Administrator guideline", spec.claims) if spec.claims else None
        reviewer = _guideline(b, "MAXIMUS guideline", spec.reviewer) if spec.reviewer else None
        rspan = b.line("Decision rationale: ", f"The request for {spec.request} is decided.")
        out_items.append(Item(
            index=n, request=spec.request, outcome=spec.outcome,
            original_request=spec.original, authorized=spec.authorized,
            claims_admin_guideline=claims, reviewer_guideline=reviewer,
            rationale=b.text[rspan[0]:rspan[1]], span=span, rationale_span=rspan,
            decision_span=span,
        ))
    sha = hashlib.sha256(b.text.encode("utf-8")).hexdigest()
    record = Record(
        case_number=case_number,
        date_assigned=None,
        date_of_injury="2010-05-01",
        decision_date=decision_date,
        ur_denial_date=ur_denial_date,
        application_received=None,
        priority="Standard",
        reviewer=Reviewer(licensure=list(states), specialties=list(specialties)),
        worker=Worker(age=age, sex=sex),  # type: ignore[arg-type]
        diagnoses=list(diagnoses),
        medications=list(medications),
        items=out_items,
        source=Source(path=f"/letters/{case_number or sha[:8]}.txt", sha256=sha, format="text"),
        diagnoses_span=dspan,
        medications_span=mspan,
    )
    return record, b.text


MTUS_CP = ("MTUS", "Chronic Pain Medical Treatment", 2016)
LOW_BACK = ("MTUS", "Low Back Complaints", 2004)


def handmade_cases() -> list[tuple[Record, str]]:
    """Four cases with shared services, sections, diagnoses and both outcomes.

    A: MRI lumbar (Upheld, MTUS low back 'Special Studies'), Norco (Overturned, MTUS CP
       'Opioids'; ODG by the claims administrator), PT partial authorization (Upheld).
    B: MRI lumbar (Overturned, same section), Norco (Upheld, MTUS CP 'Opioids').
    C: Acupuncture (Upheld, MTUS CP 'Physical Medicine').
    D: no case number (key from sha256), MRI lumbar (Upheld).
    """
    a = make_record("CM16-0000001", [
        ItemSpec("MRI of the lumbar spine", "Upheld",
                 reviewer=[(*LOW_BACK, ["Special Studies"])], claims=[(*LOW_BACK, [])]),
        ItemSpec("Norco 10/325mg #120", "Overturned",
                 reviewer=[(*MTUS_CP, ["Opioids"])], claims=[("ODG", "Pain", None, [])]),
        ItemSpec("Physical therapy 6 sessions", "Upheld",
                 reviewer=[(*MTUS_CP, ["Physical Medicine"])],
                 original="Physical therapy 12 sessions", authorized="Physical therapy 6 sessions"),
    ], diagnoses=("lumbar radiculopathy", "chronic pain syndrome"),
        medications=("Norco", "Soma"), specialties=("Pain Management",),
        states=("California", "Texas"), decision_date="2017-01-20", ur_denial_date="2016-11-10")
    b = make_record("CM16-0000002", [
        ItemSpec("MRI of the Lumbar  Spine", "Overturned",
                 reviewer=[(*LOW_BACK, ["Special Studies"])], claims=[(*LOW_BACK, [])]),
        ItemSpec("Norco 5/325mg #60", "Upheld", reviewer=[(*MTUS_CP, ["Opioids"])]),
    ], diagnoses=("lumbar radiculopathy",), medications=("Norco",),
        specialties=("Orthopedic Surgery",), states=("New York",),
        decision_date="2017-02-03", ur_denial_date="2016-12-01", sex="female")
    c = make_record("CM17-0000003", [
        ItemSpec("Acupuncture 6 sessions", "Upheld",
                 reviewer=[(*MTUS_CP, ["Physical Medicine"])], claims=[(*MTUS_CP, [])]),
    ], diagnoses=("neck pain",), specialties=("Pain Management",), states=("California",),
        decision_date="2017-02-10", ur_denial_date="2017-01-31")
    d = make_record(None, [
        ItemSpec("MRI of the lumbar spine", "Upheld", reviewer=[(*LOW_BACK, ["Special Studies"])]),
    ], diagnoses=("chronic pain syndrome",), decision_date=None, ur_denial_date=None, age=None,
        sex=None)
    return [a, b, c, d]
