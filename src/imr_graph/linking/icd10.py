"""Diagnosis phrase -> ICD-10-CM code, offline, with a confidence and the method used.

The code set comes from the ``simple-icd-10-cm`` package (the CMS tabular list it ships).
Matching works in two steps:

1. **Curated aliases** (``imr_graph/data/icd10_aliases.tsv``): phrases whose wording does
   not share words with the ICD-10-CM title ("neck pain" -> M54.2 Cervicalgia, "failed back
   surgery syndrome" -> M96.1). A row either names a code or rewrites the phrase into ICD
   wording (``=cervicalgia``), in which case the lexical matcher below still picks the
   laterality. Keys are order-insensitive token sets, so "strain, lumbar" finds "lumbar strain".
2. **Lexical matching** against every ICD-10-CM category and subcategory title (7th-character
   extensions are left out: a letter seldom says whether an encounter was initial or
   subsequent, so "sprain of ligaments of lumbar spine, subsequent encounter" links to
   S33.5). Phrases and titles go through the same normalisation (abbreviations such as
   L/S, C/S, DDD, HNP, CTS, s/p expanded; "low back" = "lumbar"; "herniated" = "displacement";
   plurals folded), then candidates are scored by weighted recall (how much of the phrase the
   title explains) and precision (how much of the title the phrase states). Sides are
   checked: a "right" phrase never gets a "left" code; a phrase without a side prefers the
   side-free or "unspecified" code. Words after "without" count as negated words.

The predicate says how the code relates to the phrase: ``exactMatch`` when both say the
same thing; ``broadMatch`` when the code is broader (the phrase adds only a site or a
qualifier the code lacks, e.g. "post lumbar laminectomy syndrome" -> M96.1);
``closeMatch`` otherwise, with a lower confidence. Below a score threshold there is no
code at all: the matcher says it is unsure rather than guess.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from ..resources import data_file
from .text import SIDES, expand_abbreviations, tokens

ICD10CM_PREFIX = "ICD10CM"
ICD10CM_IRI = "http://purl.bioontology.org/ontology/ICD10CM/"

# Multi-word rewrites applied to phrases and ICD titles alike (lower-cased text).
_REWRITES: tuple[tuple[str, str], ...] = (
    (r"\b(?:sprain|strain)s?\s*(?:/|\s|and)\s*(?:sprain|strain)s?\b", "strain sprainstrain"),
    (r"\b(?:post|after|due to|from|secondary to)\s+(?:an?\s+)?(?:motor vehicle accident|fall)\b", ""),
    (r"\bwith (?:routine|delayed) healing\b", ""),
    (r"\bdegenerative joint disease\b", "osteoarthritis"),
    (r"\bnucleus pulposus\b", "disc"),
    (r"\bdegenerative disc disease\b", "disc degeneration"),
    (r"\b(?:lower|low)[ -]back\b", "lumbar"),
    (r"\bupper[ -]back\b", "thoracic"),
    (r"\bmid[ -]back\b", "thoracic"),
    (r"\bpost[ -]?laminectomy\b", "postlaminectomy"),
    (r"\bpost[ -]?concussi(?:on|ve|onal)\b", "postconcussional"),
    (r"\bpost[ -]?traumatic\b", "posttraumatic"),
    (r"\bupper extremit(?:y|ies)\b", "upper limb"),
    (r"\blower extremit(?:y|ies)\b", "lower limb"),
    (r"\bupper limbs?\b", "upperlimb"),
    (r"\blower limbs?\b", "lowerlimb"),
    (r"\blower legs?\b", "lowerleg"),
    (r"\bupper arms?\b", "upperarm"),
    (r"\bstatus post\b", "statuspost"),
    (r"\bnot elsewhere classified\b", ""),
    (r"\bnot specified as\b", "without"),
    (r"\b(?:initial|subsequent) encounter(?: for [a-z ]+)?\b", ""),
    (r"\bsequela\b", ""),
    (r",?\s*current injury\b", ""),
    (r",?\s*subsequent\s*$", ""),
)
_REWRITE_RES = tuple((re.compile(p), r) for p, r in _REWRITES)

_SYNONYMS: dict[str, str] = {
    "neck": "cervical",
    "disk": "disc",
    "herniation": "displacement",
    "herniated": "displacement",
    "herniate": "displacement",
    "protrusion": "displacement",
    "bulge": "displacement",
    "bulging": "displacement",
    "extrusion": "displacement",
    "degenerative": "degeneration",
    "radiculitis": "radiculopathy",
    "tendonitis": "tendinitis",
    "tendonosis": "tendinosis",
    "arthrosis": "osteoarthritis",
    "paresthesia": "paresthesia",
    "paraesthesia": "paresthesia",
    "ankles": "ankle",
    "knees": "knee",
    "feet": "foot",
    "tear": "tear",
    "torn": "tear",
    "bilaterally": "bilateral",
    "both": "bilateral",
    "lumbosacral": "lumbosacral",
    "extremity": "limb",
    "specific": "specified",
    "small": "little",
    "headache": "headache",
}
# Phrase words that, when the code does not express them, make the link a closeMatch at best.
_CLOSE_ONLY = frozenset({"sprainstrain"})

# Words that carry little meaning in a title or a phrase ("region", "other", ...).
_SOFT = frozenset(
    ["a", "an", "and", "or", "of", "the", "in", "at", "to", "on", "for", "with", "due", "type", "other", "unspecified", "region", "site", "part", "level", "specified", "nec", "elsewhere", "classified", "not", "spine", "ligament", "muscle", "fascia", "tendon", "intervertebral", "nucleus", "pulposus", "s", "disease", "condition", "closed", "joint"]
)
# Qualifiers a phrase may add that a code need not express.
_QUALIFIERS = frozenset(
    ["mild", "moderate", "severe", "possible", "probable", "symptomatic", "industrial", "work", "related", "persistent", "residual", "multilevel", "history", "statuspost", "complaint", "diagnosis", "chronic", "acute", "significant", "minimal", "likely", "suspected", "sprainstrain", "radicular"]
)
_SITES = frozenset(
    ["cervical", "thoracic", "lumbar", "lumbosacral", "sacral", "sacroiliac", "sacrococcygeal", "occipito", "atlanto", "coccyx", "shoulder", "elbow", "wrist", "hand", "finger", "thumb", "hip", "knee", "ankle", "foot", "toe", "leg", "arm", "forearm", "thigh", "head", "face", "scalp", "chest", "abdomen", "back", "upperlimb", "lowerlimb", "upperarm", "lowerleg", "girdle", "limb", "pelvis", "pelvic", "buttock", "groin", "heel", "trunk", "thorax", "wall", "abdominal", "eye", "ear", "nose", "jaw", "rib", "ribs", "spinal", "vertebra"]
)
_GENERIC_SITES = frozenset({"upperlimb", "lowerlimb", "limb"})
_UPPER = frozenset(["wrist", "hand", "finger", "thumb", "elbow", "forearm", "arm", "shoulder", "upperarm"])
_LOWER = frozenset(["knee", "ankle", "foot", "toe", "hip", "leg", "thigh", "lowerleg", "heel"])

EXACT_MIN = 0.95
EXACT_PRECISION = 0.9
UNSURE_BELOW = 0.6
MIN_PRECISION = 0.7


@dataclass(frozen=True)
class IcdMatch:
    """One diagnosis phrase's link to ICD-10-CM (``code`` is None when unsure)."""

    phrase: str
    code: str | None
    label: str | None
    predicate: str | None
    confidence: float
    method: str

    @property
    def curie(self) -> str | None:
        """``ICD10CM:M54.16`` style identifier, or None."""
        return f"{ICD10CM_PREFIX}:{self.code}" if self.code else None


def _rewrite(text: str) -> str:
    text = expand_abbreviations(text).lower().replace("-", " ")
    for pattern, repl in _REWRITE_RES:
        text = pattern.sub(repl, text)
    return text


def analyse(text: str) -> tuple[list[str], frozenset[str]]:
    """Canonical tokens of a phrase or title, with its side words split off.

    Words after "without" become ``no_<word>`` up to the next comma.
    """
    out: list[str] = []
    sides: set[str] = set()
    for clause in _rewrite(text).split(","):
        negated = False
        for tok in tokens(clause):
            tok = _SYNONYMS.get(tok, tok)
            if tok in ("without", "no"):
                negated = True
                continue
            if tok in ("of", "at", "in", "with", "due"):
                negated = False  # "without foreign body of right hand": the site is not negated
            if tok in ("right", "left", "bilateral"):
                sides.add(tok)
                continue
            out.append(f"no_{tok}" if negated and tok not in _SOFT else tok)
    if {"right", "left"} <= sides:
        sides = {"bilateral"}
    return out, frozenset(sides)


def _kind(tok: str) -> str:
    if tok in _SOFT or tok.startswith("no_"):
        return "soft"
    if tok in _QUALIFIERS or any(ch.isdigit() for ch in tok):
        return "qualifier"  # includes spinal levels and dates: "L4-5", "T9-10"
    if tok in _SITES:
        return "site"
    return "condition"


class IcdIndex:
    """An inverted index over ICD-10-CM category and subcategory titles."""

    def __init__(self) -> None:
        import simple_icd_10_cm as cm

        self._cm = cm
        self.codes: list[str] = []
        self.labels: list[str] = []
        self.tokens: list[frozenset[str]] = []
        self.sides: list[frozenset[str]] = []
        self.lengths: list[int] = []
        postings: dict[str, list[int]] = defaultdict(list)
        df: Counter[str] = Counter()
        for code in cm.get_all_codes(with_dots=True):
            if cm.is_chapter_or_block(code) or cm.is_extended_subcategory(code):
                continue
            label = cm.get_description(code)
            toks, sides = analyse(label)
            tokset = frozenset(toks)
            i = len(self.codes)
            self.codes.append(code)
            self.labels.append(label)
            self.tokens.append(tokset)
            self.sides.append(sides)
            self.lengths.append(len(label))
            for tok in tokset:
                df[tok] += 1
                if _kind(tok) in ("condition", "qualifier", "site"):
                    postings[tok].append(i)
        self.postings = dict(postings)
        n = len(self.codes)
        self.weights = {t: max(0.5, math.log10(n / c)) for t, c in df.items()}
        self._by_code = {c: i for i, c in enumerate(self.codes)}
        self._wcache: dict[str, float] = {}
        self.dweights = [sum(self.weight(t) for t in toks) or 1.0 for toks in self.tokens]

    def weight(self, tok: str) -> float:
        """How much a token counts: rare words more, soft words hardly."""
        w = self._wcache.get(tok)
        if w is None:
            w = self._wcache[tok] = self._weight(tok)
        return w

    def _weight(self, tok: str) -> float:
        kind = _kind(tok)
        if tok == "unspecified":
            return 0.02
        if tok == "other":
            return 0.2
        if tok.startswith("no_"):
            return 0.05
        if kind == "soft":
            return 0.1
        if kind == "qualifier":
            return 0.3
        return self.weights.get(tok, 3.0)

    def label(self, code: str) -> str | None:
        """The ICD-10-CM title of a code (any valid code, with or without dot)."""
        cm = self._cm
        return cm.get_description(code) if cm.is_valid_item(code) else None

    def is_valid(self, code: str) -> bool:
        """Whether ``code`` is in the installed ICD-10-CM code set."""
        return bool(self._cm.is_valid_item(code))

    def chapter(self, code: str) -> str | None:
        """The chapter number ("13") of a code, or None."""
        cm = self._cm
        if not cm.is_valid_item(code):
            return None
        anc = cm.get_ancestors(code)
        return anc[-1] if anc else None

    def ancestors(self, code: str) -> list[str]:
        """Parents of a code up to its chapter (nearest first)."""
        return list(self._cm.get_ancestors(code)) if self._cm.is_valid_item(code) else []

    def search(self, phrase: str) -> list[tuple[float, str, float, float, bool]]:
        """Scored candidates: (score, code, recall, precision, only_sites_missing)."""
        toks, sides = analyse(phrase)
        ptoks = set(toks)
        conditions = [t for t in ptoks if _kind(t) == "condition"]
        if not conditions:
            return []
        counts: Counter[int] = Counter()
        for tok in conditions:
            for i in self.postings.get(tok, ()):
                counts[i] += 1
        pweight = sum(self.weight(t) for t in ptoks) or 1.0
        results: list[tuple[float, str, float, float, bool]] = []
        floor = max(1, max(counts.values(), default=0) - 1)
        for i, hits in counts.items():
            if hits < floor:
                continue
            dtoks = self.tokens[i]
            dsides = self.sides[i]
            side_factor = _side_factor(sides, dsides)
            if side_factor == 0.0:
                continue
            matched = {t for t in ptoks if t in dtoks or _coarser(t, dtoks)}
            missing = ptoks - matched
            if any(_kind(t) == "condition" for t in missing) and not matched & set(conditions):
                continue
            recall = sum(self.weight(t) for t in matched) / pweight
            dweight = self.dweights[i]
            dmatched = {
                t for t in dtoks
                if t in ptoks or _covers(t, ptoks)
                or (t in _GENERIC_SITES and sides and sides == dsides)  # "right CTS": right upper limb
            }
            precision = sum(self.weight(t) for t in dmatched) / dweight
            score = (recall**0.6) * (precision**0.4) * side_factor
            if precision < MIN_PRECISION:
                continue
            extra_sites = {t for t in dtoks - dmatched if _kind(t) == "site"} - _GENERIC_SITES
            if extra_sites:  # the code names a site the phrase does not: it is narrower
                score *= 0.9 if any(_kind(t) == "site" for t in ptoks) else 0.7
            only_sites = not missing & _CLOSE_ONLY and all(
                _kind(t) in ("site", "qualifier", "soft") for t in missing
            )
            results.append((score, self.codes[i], recall, precision, only_sites))
        results.sort(key=lambda r: (-r[0], self.lengths[self._by_code[r[1]]], r[1]))
        return results


def _coarser(tok: str, dtoks: frozenset[str]) -> bool:
    """A phrase site word covered by a coarser title site ("wrist" by "upper limb")."""
    if tok in _UPPER:
        return "upperlimb" in dtoks
    if tok in _LOWER:
        return "lowerlimb" in dtoks
    return False


_SITE_PAIRS: dict[str, frozenset[str]] = {
    # ICD-10-CM names some sites in pairs ("ankle and foot level", "shoulder and upper arm")
    "foot": frozenset({"ankle"}), "ankle": frozenset({"foot"}),
    "upperarm": frozenset({"shoulder"}), "thigh": frozenset({"hip"}),
    "hand": frozenset({"wrist"}), "wrist": frozenset({"hand"}),
    "lowerleg": frozenset({"knee"}), "arm": frozenset({"shoulder"}),
}


def _covers(dtok: str, ptoks: set[str]) -> bool:
    if ptoks & _SITE_PAIRS.get(dtok, frozenset()):
        return True
    if dtok == "upperlimb":
        return bool(ptoks & _UPPER)
    if dtok == "lowerlimb":
        return bool(ptoks & _LOWER)
    return False


def _side_factor(phrase: frozenset[str], title: frozenset[str]) -> float:
    if not phrase:
        return 1.0 if not title else 0.6
    if not title:
        return 0.97 if phrase != {"bilateral"} else 0.9
    return 1.0 if phrase == title else 0.0


@lru_cache(maxsize=1)
def index() -> IcdIndex:
    """The ICD-10-CM index (built once per process, about two seconds)."""
    return IcdIndex()


@dataclass(frozen=True)
class _Alias:
    target: str
    predicate: str
    confidence: float


def _alias_key(text: str) -> tuple[frozenset[str], frozenset[str]]:
    toks, sides = analyse(text)
    return frozenset(t for t in toks if _kind(t) not in ("soft", "qualifier")), sides


@lru_cache(maxsize=1)
def aliases() -> dict[frozenset[str], _Alias]:
    """The curated alias table keyed by order-insensitive token sets."""
    table: dict[frozenset[str], _Alias] = {}
    with data_file("icd10_aliases.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            phrase, target = row[0].strip(), row[1].strip()
            predicate = row[2].strip() if len(row) > 2 and row[2].strip() else "skos:exactMatch"
            conf = float(row[3]) if len(row) > 3 and row[3].strip() else 0.95
            table[_alias_key(phrase)[0]] = _Alias(target, predicate, conf)
    return table


_LEADING = re.compile(
    r"^\s*(?:(?:a|an|the|and|with|of|history of|hx of|likely|possible|probable|rule out|r/o)\s+)+",
    re.I,
)


def clean_phrase(phrase: str) -> str:
    """Strip quotes, trailing punctuation and leading fillers ("a", "history of")."""
    text = phrase.strip().strip("\"'“”‘’").strip().rstrip(".;:,")
    return _LEADING.sub("", text).strip()


_POSITIONS = frozenset(
    ["medial", "lateral", "anterior", "posterior", "superior", "inferior", "proximal", "distal", "upper", "lower"]
)
_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+)?|;\s*|\s+and\s+|\s*/\s*)\s*", re.I)
_SPRAIN_STRAIN = re.compile(r"\b(?:sprain|strain)s?\s*[/-]\s*(?:sprain|strain)s?\b", re.I)


def match_diagnoses(phrase: str) -> list[IcdMatch]:
    """All ICD-10-CM links of a diagnosis phrase; several for a compound phrase.

    A phrase naming several conditions or sites ("neck and shoulder strain", "right hand
    contusion/laceration") is split; parts without a condition borrow it from the next part
    and parts without a site borrow the previous part's site. Each part's code is then only
    part of what the phrase says, so it is linked with ``skos:narrowMatch``. An empty list
    means the matcher is unsure.
    """
    whole = match_diagnosis(phrase)
    if whole.code is not None and (whole.predicate == "skos:exactMatch" or whole.confidence >= 0.85):
        return [whole]
    text = _SPRAIN_STRAIN.sub("sprainstrain", clean_phrase(phrase))
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    if len(parts) < 2:
        return [whole] if whole.code else []
    analysed = [analyse(p) for p in parts]
    conds = [[t for t in toks if _kind(t) == "condition" and t not in _POSITIONS]
             for toks, _s in analysed]
    sites = [[t for t in toks if _kind(t) == "site"] for toks, _s in analysed]
    rebuilt: list[str] = []
    for i, part in enumerate(parts):
        extra: list[str] = []
        if not conds[i]:
            donor = next((conds[j] for j in range(i + 1, len(parts)) if conds[j]), None)
            donor = donor or next((conds[j] for j in range(i - 1, -1, -1) if conds[j]), [])
            extra += donor
        if not sites[i] and i > 0 and sites[i - 1]:
            extra += sites[i - 1]
        if not analysed[i][1] and i > 0:
            extra += sorted(analysed[i - 1][1])
        rebuilt.append(" ".join([part.replace("sprainstrain", "sprain/strain"), *extra]))
    out: dict[str, IcdMatch] = {}
    for part in rebuilt:
        m = match_diagnosis(part)
        if m.code is not None and m.code not in out:
            out[m.code] = IcdMatch(phrase, m.code, m.label, "skos:narrowMatch",
                                   round(m.confidence * 0.9, 3), f"{m.method}+split")
    if not out:
        return [whole] if whole.code else []
    # Keep the most specific codes: drop a code that is a parent of another one kept.
    codes = list(out)
    return [out[c] for c in codes
            if not any(o != c and o.replace(".", "").startswith(c.replace(".", "")) for o in codes)]


def match_diagnosis(phrase: str) -> IcdMatch:
    """Link one diagnosis phrase to ICD-10-CM, or say it is unsure (``code`` None)."""
    text = clean_phrase(phrase)
    if not text:
        return IcdMatch(phrase, None, None, None, 0.0, "unsure")
    idx = index()
    key, sides = _alias_key(text)
    alias = aliases().get(key)
    if alias is not None:
        if alias.target.startswith("="):
            rewritten = alias.target[1:] + "".join(f" {s}" for s in sorted(sides))
            best = _best(idx, rewritten)
            if best is not None:
                code, _pred, conf = best
                return IcdMatch(
                    phrase, code, idx.label(code), alias.predicate,
                    round(min(conf, alias.confidence), 3), "curated-alias+lexical",
                )
        elif idx.is_valid(alias.target):
            return IcdMatch(
                phrase, alias.target, idx.label(alias.target), alias.predicate,
                alias.confidence, "curated-alias",
            )
    best = _best(idx, text)
    if best is None:
        return IcdMatch(phrase, None, None, None, 0.0, "unsure")
    code, predicate, conf = best
    return IcdMatch(phrase, code, idx.label(code), predicate, conf, "lexical")


def _best(idx: IcdIndex, text: str) -> tuple[str, str, float] | None:
    results = idx.search(text)
    if not results:
        return None
    score, code, recall, precision, only_sites = results[0]
    if score < UNSURE_BELOW:
        return None
    if recall >= EXACT_MIN and precision >= EXACT_PRECISION:
        predicate = "skos:exactMatch"
    elif only_sites and precision >= EXACT_PRECISION:
        predicate = "skos:broadMatch"
    else:
        predicate = "skos:closeMatch"
    return code, predicate, round(score, 3)


def split_sides(phrase: str) -> frozenset[str]:
    """The side words of a phrase (right, left, bilateral)."""
    return analyse(phrase)[1]


__all__ = [
    "ICD10CM_IRI", "ICD10CM_PREFIX", "SIDES", "IcdMatch", "index", "match_diagnoses",
    "match_diagnosis",
]
