"""Reading the clinical case summary: the worker's age and sex, diagnoses, medications.

The summary is free prose written by many reviewers, so each field is found by the
sentence patterns reviewers actually use ("The current diagnoses are ...", "diagnosed as
having ...", "Current medications include ..."), and the phrase list in that sentence is
split into items. When no such sentence exists the field is empty: nothing is guessed.
Part of the parsing stage: plain strings in, plain values out.
"""

from __future__ import annotations

import re

from .linking.drugs import match_drug
from .records import Service, Span
from .services import read_medication
from .textutil import dedupe, split_top_level, ws

_AGE_SEX = re.compile(
    r"\b(\d{1,3})\s*[- ]?\s*(?:year|yr)s?\s*[- ]?\s*old\s+"
    r"(?:(?:injured|industrially|Hispanic|Caucasian|African[- ]American|Asian|white|black|right|left)"
    r"[- ]?\w*\s+)*"
    r"(male|female|man|woman|gentleman|lady|boy|girl)\b",
    re.I,
)
_AGE = re.compile(r"\b(\d{1,3})\s*[- ]?\s*(?:year|yr)s?\s*[- ]?\s*old\b", re.I)
_SEX_WORD = re.compile(r"\b(male|female|man|woman|gentleman|lady)\b", re.I)
_SEX = {"male": "male", "man": "male", "gentleman": "male", "boy": "male",
        "female": "female", "woman": "female", "lady": "female", "girl": "female"}


def find_worker(text: str, start: int, end: int) -> tuple[int | None, str | None]:
    """Age (years) and sex ("male"/"female") of the injured worker from the summary."""
    region = text[start:end]
    m = _AGE_SEX.search(region)
    if m:
        age = int(m.group(1))
        return (age if 10 <= age <= 110 else None), _SEX[m.group(2).lower()]
    a = _AGE.search(region)
    age = int(a.group(1)) if a and 10 <= int(a.group(1)) <= 110 else None
    s = _SEX_WORD.search(region[a.end() : a.end() + 60]) if a else None
    return age, (_SEX[s.group(1).lower()] if s else None)


# ---------------------------------------------------------------------------------------
# Sentences

_SENT_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bDr)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)\.[\"\u201d']?(?=\s+[A-Z\"(]|\s*$)"
    r"|(?<=[a-z0-9])\.(?=[A-Z][a-z])"
)


def _sentence_from(text: str, pos: int, end: int) -> int:
    """Offset of the end of the sentence that contains ``pos``."""
    m = _SENT_END.search(text, pos, end)
    return m.start() if m else end


_DIAG_TRIGGERS = re.compile(
    r"(?:"
    r"(?:current\s+|working\s+|final\s+|primary\s+|admitting\s+)?diagnos(?:es|is)\s+"
    r"(?:(?:are|is|were|was|include[sd]?|included|have\s+included|has\s+included)\s+)"
    r"(?:(?:documented|noted|listed|reported)\s+)?(?:(?:as|is|to\s+be|to\s+include)\s*:?\s+)?"
    r"|diagnos(?:es|is)\s+(?:that\s+)?include[sd]?\s+"
    r"|(?:being\s+)?treated\s+for\s+(?:the\s+)?diagnos(?:es|is)\s+of\s+"
    r"|(?:currently\s+)?diagnosed\s+(?:as\s+having|with|as)\s+"
    r"|(?:has|had)\s+(?:had\s+)?diagnos(?:es|is)\s+(?:of\s+)?(?:that\s+include\s+)?"
    r"|(?:given|gave\s+\w+\s+\w+)\s+(?:a\s+)?diagnos(?:es|is)\s+of\s+"
    r"|reveals?\s+(?:the\s+)?diagnos(?:es|is)\s+of\s+"
    r"|diagnos(?:es|is)\s*:\s*"
    r")",
    re.I,
)
_MED_TRIGGERS = re.compile(
    r"(?:"
    r"(?:current|pump|oral|present|prescribed)\s+medications?\s+"
    r"(?:(?:are|is|were|was|include[sd]?|included|consist\s+of|consisted\s+of)\s+)"
    r"(?:(?:noted|stated|reported|listed)\s+(?:to\s+(?:be|include)\s+|as\s+))?"
    r"|medications?\s+(?:(?:were|are|was)\s+)?(?:noted\s+to\s+)?include[sd]?\s+"
    r"|medication\s+list\s+(?:included|includes|include|was|is)\s+"
    r"|medications?\s+(?:have|has)\s+included\s*:?\s+"
    r"|medication\s+regimen\s+(?:[^.]{0,40}?\s)?(?:included|includes|is|was|consists\s+of|listed)\s+"
    r"|medications?\s+(?:were\s+|are\s+)?listed\s+(?:as\s+)?"
    r"|medications\s+of\s+"
    r"|medications?\s+(?:therapy\s+)?including\s+"
    r"|medications?\s+(?:are|were)\s*:\s*"
    r"|medications?\s*:\s*"
    r")",
    re.I,
)
_SITE_WORDS = {
    "right", "left", "bilateral", "side", "region", "level", "unspecified", "subsequent",
    "initial", "encounter", "sequela", "of", "the", "spine", "shoulder", "knee", "hip",
    "lumbar", "cervical", "thoracic", "lumbosacral", "sacral", "wrist", "hand", "ankle",
    "foot", "elbow", "arm", "leg", "neck", "back", "upper", "lower", "extremity",
    "extremities", "joint", "area", "type", "without", "with", "site", "multiple", "sites",
    "and", "medial", "lateral", "anterior", "posterior", "hips", "knees", "feet", "wrists",
    "hands", "shoulders", "elbows", "ankles", "head", "finger", "fingers", "thumb", "toe",
    "toes", "pelvis", "groin", "buttock", "forearm", "thigh", "calf", "chest", "abdomen",
    "spines", "sacroiliac", "si", "facet", "rib", "ribs", "bilaterally",
}
_LEAD = re.compile(
    r"^(?:and|or|also|having|of|as|is|are|include[sd]?|the|a|an|to\s+include|were|was)\s+",
    re.I,
)


def _site_only(phrase: str) -> bool:
    words = re.findall(r"[A-Za-z]+", phrase.lower())
    return bool(words) and all(w in _SITE_WORDS for w in words)


_QUALIFIER_AND = re.compile(
    r"^((?:subsequent|initial)\s+encounter|sequela)\s+and\s+(.+)$", re.I | re.S
)


def _merge_qualifiers(parts: list[str]) -> list[str]:
    """Glue ICD-style qualifiers and site lists to their phrase.

    "sprain of lumbar spine, subsequent encounter" and "strain in right hip, ankle, and
    foot" stay one phrase; leading site-only pieces ("lumbar, hip, and neck strain") join
    the phrase that follows them.
    """
    out: list[str] = []
    pending: list[str] = []
    for p in parts:
        q = _QUALIFIER_AND.match(p)
        if q and out:
            out[-1] = f"{out[-1]}, {q.group(1)}"
            p = q.group(2)
        if _site_only(p) and len(p.split()) <= 4:
            if out:
                out[-1] = f"{out[-1]}, {p}"
            else:
                pending.append(p)
            continue
        if pending:
            p = ", ".join([*pending, p])
            pending = []
        out.append(p)
    return out + pending


def _split_and(phrase: str) -> list[str]:
    """Split "A and B" when both sides are phrases of their own (not "neck and shoulder pain").

    With several "and"s the rightmost split that leaves phrases on both sides is taken, and
    the left side is split again: "contusion of elbow and contusion of knee and insomnia".
    """
    for m in reversed(list(re.finditer(r"\s+and\s+", phrase))):
        before, after = phrase[: m.start()], phrase[m.end() :]
        if not before.strip() or not after.strip() or _site_only(before) or _site_only(after):
            continue
        if re.search(r"sprains?$", before, re.I) and re.match(r"strains?\b", after, re.I):
            continue
        if re.match(r"(?:upper|lower)\s+(?:arm|leg|back)\s+level\b", after, re.I):
            continue
        return [*_split_and(before), after]
    return [phrase]


_PROTECT = re.compile(r"muscles?,\s*fascia,?\s*(?:and\s+)?tendons?|muscles?,\s*fascia", re.I)


def split_phrases(sentence: str, *, merge_qualifiers: bool) -> list[str]:
    """Split a list sentence ("A, B, and C" / "A; B; and C") into its phrases."""
    s = ws(sentence).strip(" .:;")
    s = re.sub(r"^(?:documented|noted|listed)\s+(?:as|is)\s+", "", s, flags=re.I)
    s = _PROTECT.sub(lambda m: m.group(0).replace(",", "\x00").replace(" ", "\x02"), s)
    if ";" in s and not merge_qualifiers:
        parts = [q for part in split_top_level(s, ";") for q in split_top_level(part, ",")]
    elif ";" in s:
        parts = split_top_level(s, ";")
    else:
        parts = split_top_level(s, ",")
        if merge_qualifiers:
            parts = _merge_qualifiers(parts)
    out: list[str] = []
    for i, p in enumerate(parts):
        p = _LEAD.sub("", _LEAD.sub("", p.strip())).strip(" .,:;\"'")
        if not p:
            continue
        out.extend(_split_and(p) if i == len(parts) - 1 or ";" not in s or not merge_qualifiers
                   else [p])
    out = [x.replace("\x00", ",").replace("\x02", " ").strip(" .,;:\"'\u201c\u201d") for x in out]
    return [x for x in out if x]


_PRESCRIBED = re.compile(r"\b(?:was|were|been|is|are)\s+(?:also\s+)?prescribed\s+(?!for\b|to\b|by\b)",
                         re.I)
_ANCHORS = {"diagnos": re.compile(r"diagnos", re.I), "medication": re.compile(r"medication", re.I),
            "prescribed": re.compile(r"prescribed", re.I)}


def _triggers(text: str, start: int, end: int, trigger: re.Pattern[str],
              anchor: re.Pattern[str]) -> list[re.Match[str]]:
    """``trigger.finditer`` over ``text[start:end]``, tried only around ``anchor`` words.

    Every trigger phrase contains its anchor word ("diagnos…", "medication…"), so looking
    near those words finds the same matches far faster than trying the long alternation
    at every position of the summary.
    """
    found: list[re.Match[str]] = []
    pos = start
    for a in anchor.finditer(text, start, end):
        if a.end() <= pos:
            continue
        m = trigger.search(text, max(pos, a.start() - 60), min(end, a.end() + 120))
        if m is not None and m.end() > pos:
            found.append(m)
            pos = m.end()
    return found


def _find_list(
    text: str, start: int, end: int, trigger: re.Pattern[str], anchor: re.Pattern[str],
    *, merge: bool,
) -> tuple[list[str], Span | None]:
    phrases: list[str] = []
    first: Span | None = None
    for m in _triggers(text, start, end, trigger, anchor):
        s_end = _sentence_from(text, m.end(), end)
        chunk = text[m.end() : s_end]
        if len(chunk) > 600:
            chunk = chunk[:600]
        found = split_phrases(chunk, merge_qualifiers=merge)
        if found:
            phrases += found
            if first is None:
                first = (m.start(), s_end)
    return phrases, first


_GENERIC_DIAG = re.compile(
    r"^(?:not\s+|no\s+|unknown|none|pending|unclear|documented|noted|listed|as\s+follows)", re.I
)


def find_diagnoses(text: str, start: int, end: int) -> tuple[list[str], Span | None]:
    """Diagnosis phrases named in the case summary, in order, without duplicates."""
    phrases, span = _find_list(text, start, end, _DIAG_TRIGGERS, _ANCHORS["diagnos"],
                               merge=True)
    keep = [p for p in phrases if not _GENERIC_DIAG.match(p) and len(p) <= 200 and
            re.search(r"[A-Za-z]{3}", p)]
    return dedupe(keep), span


_GENERIC_MED = re.compile(
    r"\b(?:medications?|management|regimen|unspecified|none|not\s+(?:provided|listed|documented)"
    r"|unknown|therapy|treatment|drugs?|agents?|analgesics?|pills?|for\s+pain|modifications?"
    r"|exercises?|injections?|surgery|braces?|splints?|physical|chiropractic|acupuncture)\b",
    re.I,
)
_NOT_A_DRUG = re.compile(r"^(?:several|some|all|both|which|each|other|these|those|one|two)\b", re.I)
_MED_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9'\-/ .%]*$")


def find_medications(text: str, start: int, end: int) -> tuple[list[str], list[Service],
                                                           Span | None]:
    """Medications named as current (or listed, or prescribed) in the case summary.

    Each is read with the request reader (:func:`~imr_graph.services.read_medication`): the
    name keeps the wording of the drug ("Flexeril"), its dose and frequency ("5 mg twice
    daily") are attributes of its service, and a drug class ("NSAIDs") is a class.
    "The patient was prescribed Cyclobenzaprine and Naproxen" adds the phrases the drug
    reader recognises. Returns (names, services, span of the first list sentence).
    """
    phrases, span = _find_list(text, start, end, _MED_TRIGGERS, _ANCHORS["medication"],
                               merge=False)
    prescribed, p_span = _find_list(text, start, end, _PRESCRIBED, _ANCHORS["prescribed"],
                                    merge=False)
    phrases += [p for p in prescribed if _names_a_drug(p)]
    keep: dict[str, Service] = {}
    for phrase in phrases:
        p = _MED_TAIL.sub("", phrase).strip()
        if (not p or _GENERIC_MED.search(p) or not _MED_SHAPE.match(p) or len(p.split()) > 6
                or _NOT_A_DRUG.match(p)):
            continue
        name = _STRENGTH_TAIL.split(p)[0].strip(" -,") or p
        keep.setdefault(name, read_medication(phrase))
    names = dedupe(list(keep))
    return names, [keep[n] for n in names], span or (p_span if keep else None)


def _names_a_drug(phrase: str) -> bool:
    m = match_drug(phrase, external=False)
    return m.generic is not None or m.drug_class is not None


_MED_TAIL = re.compile(
    r"\s+(?:at\s+bedtime|as\s+needed|daily|since\b.*|which\b.*|for\s+\w+.*"
    r"|(?:one|two|three|four|five|six|\d+)\s+times?\s+(?:a|per)\s+day|twice\s+(?:a\s+)?daily"
    r"|(?:BID|TID|QID|PRN|QHS|q\d+h)\b.*)$",
    re.I,
)
# A dose written after the name: "Flexeril 5 mg", "Norco 10-325mg", "Lidoderm 5% patch".
_STRENGTH_TAIL = re.compile(r"\s+\d+(?:\.\d+)?(?:\s*[-/]\s*\d+(?:\.\d+)?)*\s*"
                            r"(?:mg|mcg|g|gm|ml|%|units?)\b.*$", re.I)
