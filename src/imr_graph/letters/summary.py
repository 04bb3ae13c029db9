"""Reading the clinical case summary: the worker's age and sex, diagnoses, medications.

The summary is free prose written by many reviewers, so each field is found by the
sentence patterns reviewers actually use ("The current diagnoses are ...", "diagnosed as
having ...", "Current medications include ..."), and the phrase list in that sentence is
split into items. When no such sentence exists the field is empty: nothing is guessed.
Part of the parsing stage: plain strings in, plain values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..linking.drugs import match_drug
from ..records import Service, Span
from ..textutil import dedupe, split_top_level, ws
from .services import read_medication

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


# "The injured worker is a female who ...", "This is a 52 year old male", "the applicant,
# a male, ...": the worker described as a man or woman without an age.
_IS_SEX = re.compile(
    r"\b(?:(?:injured\s+)?worker|applicant|patient|claimant|employee|this|IW)\s*(?:\(IW\)\s*)?,?\s*"
    r"(?:is|was|,)\s+an?\s+(?:(?!year|yr)[\w()-]+\s+){0,3}?"
    r"(male|female|man|woman|gentleman|lady)\b",
    re.I,
)


def find_worker(text: str, start: int, end: int) -> tuple[int | None, str | None]:
    """Age (years) and sex ("male"/"female") of the injured worker from the summary.

    The sex is read when the summary describes the worker as a male/female (with or
    without an age); it is never inferred from pronouns.
    """
    region = text[start:end]
    m = _AGE_SEX.search(region)
    if m:
        age = int(m.group(1))
        return (age if 10 <= age <= 110 else None), _SEX[m.group(2).lower()]
    a = _AGE.search(region)
    age = int(a.group(1)) if a and 10 <= int(a.group(1)) <= 110 else None
    s = _SEX_WORD.search(region[a.end() : a.end() + 60]) if a else None
    if s is None:
        s = _IS_SEX.search(region)
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
    r"|(?:has|had)\s+(?:had\s+)?(?:an?\s+)?(?:comorbid\s+|prior\s+|additional\s+)?"
    r"diagnos(?:es|is)\s+(?:of\s+)?(?:that\s+include\s+)?"
    r"|(?:given|gave\s+\w+\s+\w+)\s+(?:a\s+)?diagnos(?:es|is)\s+of\s+"
    r"|reveals?\s+(?:the\s+)?diagnos(?:es|is)\s+of\s+"
    r"|diagnos(?:es|is)\s*:\s*"
    r")",
    re.I,
)
# Sentences that name conditions without the word "diagnosis": "is being treated for",
# "is undergoing treatment for", "has been treated for", "has filed a claim for".
_TREATED_TRIGGERS = re.compile(
    r"(?:"
    r"(?<!not\s)(?:being\s+|been\s+|is\s+|was\s+|currently\s+)treated\s+for\s*:?\s+"
    r"(?!(?:the\s+)?diagnos)"
    r"|undergoing\s+(?:\w+\s+)?treatments?\s+for\s*:?\s+"
    r"|(?:has|had)\s+filed\s+(?:a\s+)?claim\s+for\s+"
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
    "spines", "sacroiliac", "si", "facet", "rib", "ribs", "bilaterally", "mid", "high",
    "thoracolumbar", "cervicothoracic", "low", "scalp", "face", "jaw",
    "trapezius", "paraspinal", "arms", "legs", "thighs", "heel",
    "heels", "scapula", "flank", "spinal", "parascapular", "palm", "coccyx", "in", "to",
    "at", "ligament", "ligaments", "joints", "muscle", "muscles", "tendon", "tendons",
    "fascia", "disc", "discs", "nerve", "nerves", "girdle", "wall", "limb", "limbs",
}
_STATUS_LEAD = re.compile(r"^(?:rule\s+out|r/o|possible|probable|suspected|status\s+post|s/p"
                          r"|history\s+of)\s+", re.I)
_LEAD = re.compile(
    r"^(?:and|or|also|having|of|as|is|are|include[sd]?|the|a|an|to\s+include|were|was)\s+",
    re.I,
)


def _site_only(phrase: str) -> bool:
    words = re.findall(r"[A-Za-z]+", _STATUS_LEAD.sub("", phrase.strip()).lower())
    return bool(words) and all(w in _SITE_WORDS for w in words)


_QUALIFIER_AND = re.compile(
    r"^((?:subsequent|initial)\s+encounter|sequela)\s+and\s+(.+)$", re.I | re.S
)


# A comma part that finishes the previous part's site list, then starts a new condition:
# "scalp and neck and acute cervical sprain" after "contusion of face".
_SITES_AND = re.compile(r"^((?:[A-Za-z]+\s+)*?[A-Za-z]+\s+and\s+[A-Za-z]+)\s+and\s+(.+)$", re.S)


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
        s = _SITES_AND.match(p)
        if s and out and _site_only(s.group(1)) and not _site_only(out[-1]) \
                and not _site_only(s.group(2)):  # "contusion of face, | scalp and neck and sprain"
            out[-1] = f"{out[-1]}, {s.group(1)}"
            p = s.group(2)
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


# Words that share a site named after them: "numbness and weakness of both arms".
_SYMPTOM = re.compile(
    r"^(?:numbness|weakness|tingling|pain|stiffness|swelling|tenderness|spasms?|paresthesias?"
    r"|burning|instability|synovitis|tendinitis|tendonitis|bursitis|sprains?|strains?"
    r"|contusions?|abrasions?|lacerations?)$"
)
_BARE = re.compile(r"^(?:injury|injuries|pain|sprain|strain|sprains|strains|disorder)$", re.I)
_CONNECTOR_END = re.compile(r"\b(?:right|left|bilateral|of|the|with|to|and|or|a|an|in|at)$", re.I)


def _split_and(phrase: str) -> list[str]:
    """Split "A and B" when both sides are phrases of their own (not "neck and shoulder pain").

    With several "and"s the rightmost split that leaves phrases on both sides is taken, and
    the left side is split again: "contusion of elbow and contusion of knee and insomnia".
    A split that would leave a side or a connector at the end of the left part ("right and
    left shoulder sprain"), a bare "injury"/"pain" on the right ("foot pain and injury"),
    or one symptom word whose site follows ("numbness and weakness of both arms") is not a
    split.
    """
    for m in reversed(list(re.finditer(r"\s+and\s+", phrase))):
        before, after = phrase[: m.start()], phrase[m.end() :]
        if not before.strip() or not after.strip() or _site_only(before) or _site_only(after):
            continue
        if _CONNECTOR_END.search(before) or _BARE.match(after.strip()):
            continue
        if re.search(r"[a-z](?:al|ic)$", before):
            continue  # "homicidal and suicidal thoughts": two adjectives of one noun
        if re.search(r"\baffecting\b", before, re.I):
            continue  # "psychological factors affecting GI disturbances and headaches": F54
        if re.search(r"(?:sprain|strain)s?$", before, re.I) and re.match(r"(?:strain|sprain)s?\b",
                                                                        after, re.I):
            continue
        if re.match(r"(?:upper|lower)\s+(?:arm|leg|back)\s+level\b", after, re.I):
            continue
        words = after.lower().split()
        head = [w for w in before.lower().split() if w not in ("other", "unspecified")]
        if (len(head) == 1 and _SYMPTOM.match(head[0]) and words[0] not in _SITE_WORDS
                and any(w in _SITE_WORDS - {"of", "the", "and", "with", "without"} for w in words)):
            continue
        return [*_split_and(before), after]
    return [phrase]


_PROTECT = re.compile(
    r"muscles?,?\s*(?:fascia,?\s*)?(?:and(?:[-/ ]or)?\s+)?tendons?|muscles?,\s*fascia", re.I
)
_AND_OR = re.compile(r"\band[-/ ]or\b", re.I)


def split_phrases(sentence: str, *, merge_qualifiers: bool) -> list[str]:
    """Split a list sentence ("A, B, and C" / "A; B; and C") into its phrases."""
    s = ws(sentence).strip(" .:;")
    s = re.sub(r"^(?:documented|noted|listed)\s+(?:as|is)\s+", "", s, flags=re.I)
    s = _PROTECT.sub(lambda m: m.group(0).replace(",", "\x00").replace(" ", "\x02"), s)
    if merge_qualifiers:
        s = _AND_OR.sub("and/or", s)
        if s.count("[") != s.count("]") or s.count("(") != s.count(")"):
            s = re.sub(r"[\[\]()]", " ", s)
    if ";" in s and not merge_qualifiers:
        parts = [q for part in split_top_level(s, ";") for q in split_top_level(part, ",")]
    elif ";" in s:  # "A, subsequent encounter; B; C": commas inside a part split too
        parts = [q for part in split_top_level(s, ";")
                 for q in _merge_qualifiers(split_top_level(part, ","))]
    else:
        parts = split_top_level(s, ",")
        if merge_qualifiers:
            parts = _merge_qualifiers(parts)
    out: list[str] = []
    for p in parts:
        p = _LEAD.sub("", _LEAD.sub("", p.strip())).strip(" .,:;\"'")
        if not p:
            continue
        out.extend(_split_and(p))
    out = [x.replace("\x00", ",").replace("\x02", " ").strip(" .,;:\"'\u201c\u201d") for x in out]
    return [x for x in out if x]


_PRESCRIBED = re.compile(r"\b(?:was|were|been|is|are)\s+(?:also\s+)?prescribed\s+(?!for\b|to\b|by\b)",
                         re.I)
_ANCHORS = {
    "diagnos": re.compile(r"diagnos", re.I),
    "medication": re.compile(r"medication", re.I),
    "treated": re.compile(r"treat|claim", re.I),
    "prescribed": re.compile(r"prescribed", re.I),
}


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
    text: str, start: int, end: int, triggers: list[tuple[re.Pattern[str], re.Pattern[str]]],
    *, merge: bool, prepare: Callable[[str], str] = lambda chunk: chunk,
) -> tuple[list[str], Span | None]:
    """Phrases of every list sentence a trigger opens (a sentence is read once)."""
    matches = sorted((m for t, a in triggers for m in _triggers(text, start, end, t, a)),
                     key=lambda m: m.start())
    phrases: list[str] = []
    first: Span | None = None
    done = start
    for m in matches:
        if m.start() < done:
            continue
        s_end = _sentence_from(text, m.end(), end)
        chunk = prepare(text[m.end() : s_end][:600])
        found = split_phrases(chunk, merge_qualifiers=merge)
        if found:
            phrases += found
            done = s_end
            if first is None:
                first = (m.start(), s_end)
    return phrases, first


_GENERIC_DIAG = re.compile(
    r"^(?:not\s+|no\s+|unknown|none|pending|unclear|documented|noted|listed|as\s+follows"
    r"|his\b|her\b|their\b|this\b|that\b|these\b|it\b|symptoms?\b|same\b|several\b"
    r"|multiple\s+(?:body\s+parts|injuries)$|injur(?:y|ies)$|pain$|conditions?$)",
    re.I,
)
# A mechanism of injury, a procedure or a visit is not a condition the worker has.
_NOT_A_CONDITION = re.compile(
    r"^(?:(?:a|an|the)\s+)?(?:(?:work|industrial|job)[- ]related\s+|industrial\s+)?"
    r"(?:(?:slip|trip)(?:\s+and\s+fall)?|falls?(?:\s+from\s+[\w ]+)?|motor\s+vehicle\s+accident"
    r"|mva|cumulative\s+trauma|repetitive\s+(?:motion|activity|activities|trauma)|lifting"
    r"|accident|(?:industrial\s+)?injury)$"
    r"|\bunknown\s+intent\b"
    r"|^(?:(?:open|closed)\s+)?(?:repair|surgery|surgical\s+\w+|resection|arthroscopy"
    r"|laminectomy|discectomy|physical\s+therapy|medications?|injections?|follow[- ]up|evaluation)\b",
    re.I,
)
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November"
          r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_DATE = re.compile(
    r"\s*,?\s*\b(?:(?:on|in|from|dated|since)\s+)?(?:" + _MONTH + r"\s+(?:\d{1,2},?\s+)?\d{4,5}"
    r"|\d{1,2}[-/]\s?\d{1,2}[-/]\s?\d{2,4}|\d{1,2}/\d{4})\b",
    re.I,
)
_STATUS_POST = re.compile(r"(?<=[a-z])\s+(status\s+post)(?:-|\s+)", re.I)  # "X status post Y": two
_RULE_OUT = re.compile(r"\s*,?\s*\b(?:and\s+)?(?:to\s+)?(rule\s+out|r/o)\b\s*", re.I)
_CLAUSE_END = re.compile(
    r"\s+(?:reportedly|allegedly|(?:which|who|that)\s+(?:was|were|is|are|has|have|had)\b"
    r"|(?:and\s+)?(?:was|is|were)\s+(?:seen|evaluated|treated|referred|prescribed|placed)\b"
    r"|with\s+(?:medications?|physical\s+therapy|chiropractic|acupuncture|injections?|surgery"
    r"|conservative|a\s+course|rest|ice)\b|now\s+(?:recovering|doing|improving)\b|by\s+(?:Dr\b|the\s+(?:treating|primary))"
    r"|(?:associated|related)\s+(?:to|with)\s+(?:an?\s+|the\s+|his\s+|her\s+)?"
    r"(?:industrial|work|occupational))",
    re.I,
)


def _prepare_diagnoses(chunk: str) -> str:
    """Cut a diagnosis sentence to its list: no dates, no trailing clause, "rule out" a part."""
    cut = _CLAUSE_END.search(chunk)
    if cut:
        chunk = chunk[: cut.start()]
    chunk = _DATE.sub("", chunk)
    chunk = _STATUS_POST.sub(lambda m: f", {m.group(1)} ", chunk)
    return _RULE_OUT.sub(lambda m: f", {m.group(1)} ", chunk)


_SIDE_LAST = re.compile(r"\s*,?\s+(right|left|bilateral|bilaterally)$", re.I)
_TRAILING = re.compile(r"(?:\s+(?:and|or|of|with|the|to|a|an|in|at|and\s+(?:right|left)))+$", re.I)


def _tidy_end(phrase: str) -> str:
    """No phrase ends in a connector or a side: "lumbar strain, left" reads "left lumbar strain"."""
    side: str | None = None
    prev = None
    while phrase != prev:
        prev = phrase
        phrase = _TRAILING.sub("", phrase).strip(" .,;:")
        m = _SIDE_LAST.search(phrase)
        if m:
            side = side or m.group(1).lower()
            phrase = phrase[: m.start()]
    if side and phrase and not phrase.lower().startswith(side):
        phrase = f"{side} {phrase}"
    return phrase


def find_diagnoses(text: str, start: int, end: int) -> tuple[list[str], Span | None]:
    """Diagnosis phrases named in the case summary, in order, without duplicates.

    Read from every sentence that names the worker's conditions: "The diagnoses are ...",
    "diagnosed with ...", "is being treated for ...", "is undergoing treatment for ...",
    "has filed a claim for ...". A mechanism of injury, a body part alone, a date or a
    procedure is left out; "possible"/"status post"/"history of" phrases are kept (see
    :func:`diagnosis_status`).
    """
    phrases, span = _find_list(
        text, start, end,
        [(_DIAG_TRIGGERS, _ANCHORS["diagnos"]), (_TREATED_TRIGGERS, _ANCHORS["treated"])],
        merge=True, prepare=_prepare_diagnoses,
    )
    keep: list[str] = []
    for p in phrases:
        p = _tidy_end(p)
        if (_GENERIC_DIAG.match(p) or _NOT_A_CONDITION.search(p) or len(p) > 200
                or not re.search(r"[A-Za-z]{3}", p) or _site_only(p)):
            continue
        keep.append(p)
    return dedupe(keep), span


_STATUS = (
    ("possible", re.compile(r"^(?:possible|probable|possibly|suspected|suspect|suspicion\s+of"
                            r"|questionable|likely|rule\s+out|r/o)\b", re.I)),
    ("status-post", re.compile(r"^(?:status\s+post|s/p|post[- ]?(?:operative|surgical)|postop)\b",
                               re.I)),
    ("history", re.compile(r"^(?:(?:a\s+)?(?:past\s+|prior\s+)?history\s+of|hx\s+of)\b", re.I)),
)


def diagnosis_status(phrase: str) -> str | None:
    """"possible", "status-post" or "history" when the phrase says so, else None.

    "possible/suspected/rule out X" is not (yet) a diagnosis; "status post X" names a past
    procedure or injury; "history of X" a past condition. Queries can leave them out.
    """
    for status, pattern in _STATUS:
        if pattern.match(phrase.strip()):
            return status
    return None


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

    Each is read with the request reader (:func:`~imr_graph.letters.services.read_medication`): the
    name keeps the wording of the drug ("Flexeril"), its dose and frequency ("5 mg twice
    daily") are attributes of its service, and a drug class ("NSAIDs") is a class.
    "The patient was prescribed Cyclobenzaprine and Naproxen" adds the phrases the drug
    reader recognises. Returns (names, services, span of the first list sentence).
    """
    phrases, span = _find_list(text, start, end, [(_MED_TRIGGERS, _ANCHORS["medication"])],
                               merge=False)
    prescribed, p_span = _find_list(text, start, end, [(_PRESCRIBED, _ANCHORS["prescribed"])],
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
