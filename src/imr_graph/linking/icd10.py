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
from .icd10_words import (
    _CLOSE_ONLY,
    _GENERIC_SITES,
    _LOWER,
    _QUALIFIERS,
    _REWRITE_RES,
    _SITES,
    _SOFT,
    _SYNONYMS,
    _UPPER,
)
from .spelling import correct_spelling
from .text import SIDES, expand_abbreviations, tokens

ICD10CM_PREFIX = "ICD10CM"
ICD10CM_IRI = "http://purl.bioontology.org/ontology/ICD10CM/"


_NOS = re.compile(r"\bNOS\b")
_BROKEN = re.compile(r"\b([A-Za-z]{3,})-([a-z]{3,})\b")
_NOTE_CODE = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)-?\)\s*$")
_PAREN = re.compile(r"\([^)]*\)")
_NOTE_REFS = re.compile(r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)-?\)")
_NOTE_STOP = frozenset({"a", "an", "the", "of", "and", "or", "in", "with", "to", "for", "nos"})

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
        self.words: Counter[str] = Counter()  # raw title words, for spelling slips
        for code in cm.get_all_codes(with_dots=True):
            if cm.is_chapter_or_block(code) or cm.is_extended_subcategory(code):
                continue
            label = cm.get_description(code)
            # The title and the tabular list's inclusion terms ("Frozen shoulder" under
            # M75.0, "Lumbago NOS" under M54.50) are all ways to say the code.
            for text in (label, *cm.get_inclusion_term(code)):
                self.words.update(_LETTERS.findall(text.lower()))
                toks, sides = analyse(_NOS.sub("", text))
                tokset = frozenset(toks)
                i = len(self.codes)
                self.codes.append(code)
                self.labels.append(label)
                self.tokens.append(tokset)
                self.sides.append(sides)
                self.lengths.append(len(label) if text is label else len(label) + 1)
                for tok in tokset:
                    df[tok] += 1
                    if _kind(tok) in ("condition", "qualifier", "site"):
                        postings[tok].append(i)
        self.postings = dict(postings)
        n = len(self.codes)
        self.weights = {t: max(0.5, math.log10(n / c)) for t, c in df.items()}
        self._by_code: dict[str, int] = {}
        for i, c in enumerate(self.codes):
            self._by_code.setdefault(c, i)
        self._wcache: dict[str, float] = {}
        self.dweights = [math.fsum(self.weight(t) for t in toks) or 1.0 for toks in self.tokens]

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

    def is_billable(self, code: str) -> bool:
        """Whether ``code`` is a leaf of the code set, its 7th-character extensions aside."""
        cm = self._cm
        return cm.is_valid_item(code) and (cm.is_extended_subcategory(code) or all(
            cm.is_extended_subcategory(k) for k in cm.get_children(code)))

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
        # math.fsum: a sum over a set must not depend on the set's order (hash seed), or
        # two equally good codes swap places from one run to the next
        pweight = math.fsum(self.weight(t) for t in ptoks) or 1.0
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
            recall = math.fsum(self.weight(t) for t in matched) / pweight
            dweight = self.dweights[i]
            dmatched = {
                t for t in dtoks
                if t in ptoks or _covers(t, ptoks)
                or (t in _GENERIC_SITES and sides and sides == dsides)  # "right CTS": right upper limb
            }
            precision = math.fsum(self.weight(t) for t in dmatched) / dweight
            score = (recall**0.6) * (precision**0.4) * side_factor
            if precision < MIN_PRECISION:
                continue
            if any(t not in ptoks and _kind(t) == "site" for t in dmatched):
                score *= 0.97  # a site the title names only by a neighbour ("arm" for shoulder)
            extra_sites = {t for t in dtoks - dmatched if _kind(t) == "site"} - _GENERIC_SITES
            if extra_sites:  # the code names a site the phrase does not: it is narrower
                score *= 0.9 if any(_kind(t) == "site" for t in ptoks) else 0.7
            only_sites = not missing & _CLOSE_ONLY and all(
                _kind(t) in ("site", "qualifier", "soft") for t in missing
            )
            results.append((score, self.codes[i], recall, precision, only_sites))
        results.sort(key=lambda r: (-r[0], self.lengths[self._by_code[r[1]]], r[1]))
        seen: set[str] = set()
        return [r for r in results if not (r[1] in seen or seen.add(r[1]))]

    def billable(self, code: str, sides: frozenset[str]) -> list[str]:
        """The codes a coder bills for ``code`` when the phrase says ``sides``.

        A header category is never the answer when a child fits: the child of the same
        side ("right" -> "..., right shoulder"); for "bilateral" the bilateral child, or
        else the right and the left child (two codes); without a side the side-free or
        "unspecified" child. Among fitting children the "unspecified" one is taken, then
        an "other" one (ICD-10-CM's rule for NOS), then the plainest title (a fracture
        not said to be nondisplaced is coded displaced). 7th-character extensions are not
        children here (see :func:`encounter_code`).
        """
        cm = self._cm
        if not cm.is_valid_item(code):
            return [code]
        kids = [k for k in cm.get_children(code) if not cm.is_extended_subcategory(k)]
        if not kids:
            if sides == {"bilateral"} and not analyse(cm.get_description(code))[1]:
                # "bilateral elbow lateral epicondylitis" found M77.10 (unspecified elbow):
                # both sides are the right and the left sibling, never the unspecified one
                parent = cm.get_parent(code)
                sibs = [k for k in cm.get_children(parent) if not cm.is_extended_subcategory(k)]
                named = {analyse(cm.get_description(k))[1] for k in sibs}
                if {frozenset({"right"}), frozenset({"left"})} <= named or \
                        frozenset({"bilateral"}) in named:
                    return self.billable(parent, sides)
            return [code]
        side_of = {k: analyse(cm.get_description(k))[1] for k in kids}
        if sides == {"bilateral"}:
            both = [k for k in kids if side_of[k] == {"bilateral"}]
            if both:
                return self.billable(self._plainest(both), sides)
            right = [k for k in kids if side_of[k] == {"right"}]
            left = [k for k in kids if side_of[k] == {"left"}]
            if right and left:
                return (self.billable(self._plainest(right), frozenset({"right"}))
                        + self.billable(self._plainest(left), frozenset({"left"})))
        if sides:
            same = [k for k in kids if side_of[k] == sides]
            if same:
                return self.billable(self._plainest(same), sides)
        free = [k for k in kids if not side_of[k]]
        return self.billable(self._plainest(free or kids), sides)

    def _plainest(self, codes: list[str]) -> str:
        def key(code: str) -> tuple[int, int, int, bool, int, str]:
            title = self._cm.get_description(code).lower()
            vague = len(re.findall(r"unspecified|unknown", title))
            rank = -vague if vague else 1 if re.search(r"\bother\b", title) else 2
            # NOS is the uncomplicated case: "without obstruction", "not intractable", and
            # "not intractable, without status migrainosus" before "..., with status ..."
            plain = len(re.findall(r"\bwithout\b|\bnot intractable\b", title))
            return (rank, -plain, len(re.findall(r"\bwith\b", title)), "nondisplaced" in title,
                    len(title), code)

        return min(codes, key=key)

    def excluded_for(self, code: str, phrase_tokens: set[str]) -> str | None:
        """The code an Excludes1 note of ``code`` (or its category) sends this phrase to.

        "R53.1 Weakness" excludes "muscle weakness (generalized) (M62.81)": a phrase that
        says every word of the note (nonessential words in parentheses aside) gets M62.81.
        """
        cm = self._cm
        if not cm.is_valid_item(code):
            return None
        chain = [code, *cm.get_ancestors(code)]
        for c in chain:
            if cm.is_chapter_or_block(c):
                break
            for note in cm.get_excludes1(c):
                m = _NOTE_CODE.search(note)
                if m is None or _NOS.search(note):  # "pain NOS (R52)": the unqualified term
                    continue
                target = m.group(1)
                if not cm.is_valid_item(target):
                    continue
                words = {t for t in analyse(_PAREN.sub(" ", note[: m.start()]))[0]
                         if t not in _NOTE_STOP}
                if words and words <= phrase_tokens:
                    return target
        return None

    def join_broken(self, m: re.Match[str]) -> str:
        """ "radicul-opathy" (a word hyphenated across a line) as one word when the index
        knows the joined word and not its halves."""
        joined = (m.group(1) + m.group(2)).lower()
        halves = (m.group(1).lower(), m.group(2).lower())
        if joined in self.postings and not any(h in self.postings for h in halves):
            return m.group(1) + m.group(2)
        return m.group(0)

    def correct_spelling(self, text: str) -> str:
        """ "stain of neck muscle" -> "strain of neck muscle": a word of five letters or more
        that no ICD-10-CM title, synonym or abbreviation knows is replaced by the commonest
        title word one edit away (a letter dropped, added, changed or two swapped); a word
        with no such neighbour is left as it is."""
        return correct_spelling(text, self.words, _known_words())


    def excludes_any(self, code: str, others: list[str]) -> bool:
        """Whether an Excludes1 note of ``code`` or its category names one of ``others``."""
        cm = self._cm
        if not cm.is_valid_item(code):
            return False
        for c in [code, *cm.get_ancestors(code)]:
            if cm.is_chapter_or_block(c):
                break
            for note in cm.get_excludes1(c):
                for ref in _NOTE_REFS.findall(note):
                    if any(o.startswith(ref) for o in others):
                        return True
        return False

    def encounter_code(self, code: str, phrase: str) -> str:
        """``code`` with the 7th character the phrase states, else ``code`` unchanged.

        Policy: letters seldom say which encounter a diagnosis belongs to, so an injury
        code keeps six characters unless the phrase says "initial encounter" (A),
        "subsequent (encounter)" or "... with routine/delayed healing" (D/G for fractures)
        or "sequela" (S).
        """
        cm = self._cm
        text = phrase.lower()
        want = ("initial" if "initial" in text else "sequela" if "sequela" in text
                else "subsequent" if re.search(r"subsequent|routine healing|delayed healing",
                                               text) else None)
        if want is None or not cm.is_valid_item(code):
            return code
        exts = [k for k in cm.get_children(code) if cm.is_extended_subcategory(k)]
        if not exts:
            return code
        defs: dict[str, str] = {}
        for c in [code, *cm.get_ancestors(code)]:
            defs = cm.get_seven_chr_def(c) or {}
            if defs:
                break
        fitting = [k for k in exts if want in defs.get(k[-1], "").lower()]
        if "delayed healing" in text:
            fitting = [k for k in fitting if "delayed" in defs[k[-1]].lower()] or fitting
        elif want != "sequela":
            plain = [k for k in fitting if re.search(r"routine healing|closed fracture|^initial encounter$|^subsequent encounter$",
                                                     defs[k[-1]].lower())]
            fitting = plain or fitting
        return fitting[0] if fitting else code


def _coarser(tok: str, dtoks: frozenset[str]) -> bool:
    """A phrase site word covered by a coarser title site ("wrist" by "upper limb")."""
    if tok in _UPPER:
        return "upperlimb" in dtoks
    if tok in _LOWER:
        return "lowerlimb" in dtoks
    return False


_SITE_PAIRS: dict[str, frozenset[str]] = {
    # ICD-10-CM names some sites in pairs ("ankle and foot level", "shoulder and upper arm")
    "foot": frozenset({"ankle", "heel"}), "ankle": frozenset({"foot"}),
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


_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Words the matcher understands beyond the code set's titles."""
    from .text import abbreviations

    known = set(_SYNONYMS) | _SITES | _QUALIFIERS | _SOFT | set(abbreviations())
    for phrase in aliases():
        known |= phrase
    return frozenset(known)


@lru_cache(maxsize=1)
def index() -> IcdIndex:
    """The ICD-10-CM index (built once per process, about two seconds)."""
    return IcdIndex()


@dataclass(frozen=True)
class _Alias:
    target: str
    predicate: str
    confidence: float


def _alias_key(text: str, *, qualifiers: bool = False) -> tuple[frozenset[str], frozenset[str]]:
    """Order-insensitive key of a phrase: its words but soft ones (and qualifiers unless asked)."""
    toks, sides = analyse(text)
    drop = ("soft",) if qualifiers else ("soft", "qualifier")
    return frozenset(t for t in toks if _kind(t) not in drop), sides


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
            # Keyed with its qualifiers: "radicular pain" is not "pain", and a phrase finds
            # a row either by all its words or by its words without qualifiers.
            table[_alias_key(phrase, qualifiers=True)[0]] = _Alias(target, predicate, conf)
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
_BOTH_SPRAIN_STRAIN = re.compile(r"\b(?:sprains?\s+and\s+strains?|strains?\s+and\s+sprains?)\b",
                                 re.I)
_SPRAIN_STRAIN = re.compile(r"\b(?:sprain|strain)s?\s*[/-]\s*(?:sprain|strain)s?\b", re.I)


def match_diagnoses(phrase: str) -> list[IcdMatch]:
    """All ICD-10-CM links of a diagnosis phrase; several for a compound phrase.

    A phrase naming several conditions or sites ("neck and shoulder strain", "right hand
    contusion/laceration") is split; parts without a condition borrow it from the next part
    and parts without a site borrow the previous part's site. Each part's code is then only
    part of what the phrase says, so it is linked with ``skos:narrowMatch``. An empty list
    means the matcher is unsure.
    """
    insomnia = _INSOMNIA_DUE.match(clean_phrase(phrase))
    if insomnia:
        return _insomnia_due_to(phrase, insomnia.group(1))
    if _BOTH_SPRAIN_STRAIN.search(phrase):  # "strains and sprains": two conditions, both coded
        out: dict[str, IcdMatch] = {}
        for word in ("sprain", "strain"):
            for m in match_diagnoses(_BOTH_SPRAIN_STRAIN.sub(word, phrase)):
                if m.code and m.code not in out:
                    out[m.code] = IcdMatch(phrase, m.code, m.label, "skos:narrowMatch",
                                           m.confidence, m.method)
        return list(out.values())
    links = link_phrase(phrase)
    whole = links[0] if links else IcdMatch(phrase, None, None, None, 0.0, "unsure")
    pair = _two_conditions(phrase, whole) if links else None
    shared = _link_shared_head(phrase, pair) if pair else []
    if shared:
        return shared
    if links and whole.predicate == "skos:exactMatch":
        return links
    both = _link_both_sides(phrase)
    if both:
        return both
    if links and (whole.confidence >= 0.85 or len(links) > 1) and pair is None:
        return links
    text = _SPRAIN_STRAIN.sub("sprainstrain", clean_phrase(phrase))
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    if len(parts) < 2:
        return links
    analysed = [analyse(p) for p in parts]
    conds = [[t for t in toks if _kind(t) == "condition" and t not in _POSITIONS]
             for toks, _s in analysed]
    sites = [[t for t in toks if _kind(t) == "site"] for toks, _s in analysed]
    rebuilt: list[str] = []
    last_sites: list[str] = []
    last_sides: list[str] = []
    for i, part in enumerate(parts):
        extra: list[str] = []
        if not conds[i]:
            donor = next((conds[j] for j in range(i + 1, len(parts)) if conds[j]), None)
            donor = donor or next((conds[j] for j in range(i - 1, -1, -1) if conds[j]), [])
            extra += donor
        # a part without a site or side takes the last one named before it
        last_sites = sites[i] or last_sites
        if not sites[i]:
            extra += last_sites
        last_sides = sorted(analysed[i][1]) or last_sides
        if not analysed[i][1]:
            extra += last_sides
        rebuilt.append(" ".join([part.replace("sprainstrain", "sprain/strain"), *extra]))
    out: dict[str, IcdMatch] = {}
    for part in rebuilt:
        for m in link_phrase(part):
            if m.code is not None and m.code not in out:
                out[m.code] = IcdMatch(phrase, m.code, m.label, "skos:narrowMatch",
                                       round(m.confidence * 0.9, 3), f"{m.method}+split")
    if not out:
        return links
    # Keep the most specific codes: drop a code that is a parent of another one kept.
    codes = list(out)
    return [out[c] for c in codes
            if not any(o != c and o.replace(".", "").startswith(c.replace(".", "")) for o in codes)]


_INSOMNIA_DUE = re.compile(
    r"^(?:[a-z ]*\s)?insomnia\s+(?:related\s+to|due\s+to|secondary\s+to|caused\s+by|"
    r"associated\s+with|from)\s+(.+)$", re.I)
_AFFECTING = re.compile(r"^.*?\baffecting\b", re.I)


def _insomnia_due_to(phrase: str, cause: str) -> list[IcdMatch]:
    """ "insomnia related to generalized anxiety disorder": ICD-10-CM codes insomnia by its
    cause, F51.05 (insomnia due to other mental disorder) for a mental disorder, G47.01
    (insomnia due to medical condition) otherwise, and the cause beside it ("code also")."""
    causes = [m for m in match_diagnoses(cause) if m.code]
    if not causes:
        return []
    mental = all(m.code.startswith("F") for m in causes if m.code)
    code = "F51.05" if mental else "G47.01"
    conf = round(min(m.confidence for m in causes) * 0.95, 3)
    first = IcdMatch(phrase, code, index().label(code), "skos:narrowMatch", conf,
                     "insomnia-due-to")
    return [first, *(IcdMatch(phrase, m.code, m.label, "skos:narrowMatch",
                              round(m.confidence * 0.9, 3), f"{m.method}+cause")
                     for m in causes)]


_PAIR = re.compile(r"\b([a-z]+)\s+and\s+([a-z]+)\b", re.I)


def _two_conditions(phrase: str, whole: IcdMatch) -> re.Match[str] | None:
    """ "A and B" in the phrase joining two condition words of which the whole phrase's code
    explains only one ("homicidal and suicidal thoughts" is not just R45.851)."""
    title = set(analyse(whole.label or "")[0])
    for m in _PAIR.finditer(phrase):
        pair = [t for w in m.groups() for t in analyse(w)[0]]
        if len(pair) == 2 and all(_kind(t) == "condition" for t in pair) and (
                (pair[0] in title) != (pair[1] in title)):
            return m
    return None


def _link_shared_head(phrase: str, pair: re.Match[str]) -> list[IcdMatch]:
    """ "fleeting homicidal and suicidal thoughts": each word of the pair with the words
    around it ("fleeting homicidal thoughts", "fleeting suicidal thoughts"), each coded; both
    must code, else nothing."""
    before, after = phrase[: pair.start()], phrase[pair.end():]
    out: dict[str, IcdMatch] = {}
    for word in pair.groups():
        links = [m for m in link_phrase(f"{before}{word}{after}") if m.code]
        if not links:
            return []
        for m in links:
            out.setdefault(m.code or "", IcdMatch(phrase, m.code, m.label, "skos:narrowMatch",
                                                  round(m.confidence * 0.9, 3),
                                                  f"{m.method}+split"))
    return list(out.values())


def match_diagnosis(phrase: str) -> IcdMatch:
    """Link one diagnosis phrase to ICD-10-CM, or say it is unsure (``code`` None).

    For a "bilateral" phrase whose code has only right and left children this is the
    right-side code; :func:`match_diagnoses` gives both.
    """
    links = link_phrase(phrase)
    return links[0] if links else IcdMatch(phrase, None, None, None, 0.0, "unsure")


def link_phrase(phrase: str) -> list[IcdMatch]:
    """The billable code(s) of one phrase: alias or lexical match, then Excludes1, then the
    child that fits (:meth:`IcdIndex.billable`), then the stated 7th character."""
    text = clean_phrase(phrase)
    if not text:
        return []
    idx = index()
    text = idx.correct_spelling(_BROKEN.sub(lambda m: idx.join_broken(m), text))
    full, sides = _alias_key(text, qualifiers=True)
    alias = aliases().get(full)
    if alias is None:
        alias = aliases().get(_alias_key(text)[0])
        if alias is not None and full & _CLOSE_ONLY and alias.predicate == "skos:exactMatch":
            alias = _Alias(alias.target, "skos:closeMatch", alias.confidence)  # "sprain/strain"
    head = _AFFECTING.match(text)
    if alias is None and head:  # "psychological factors affecting <a condition>": F54
        alias = aliases().get(_alias_key(head.group(0), qualifiers=True)[0])
    found: tuple[str, str, float, str] | None = None
    if alias is not None:
        if alias.target.startswith("="):
            rewritten = alias.target[1:] + "".join(f" {s}" for s in sorted(sides))
            best = _best(idx, rewritten)
            if best is not None:
                found = (best[0], alias.predicate, round(min(best[2], alias.confidence), 3),
                         "curated-alias+lexical")
        elif idx.is_valid(alias.target):
            found = (alias.target, alias.predicate, alias.confidence, "curated-alias")
    if found is None:
        best = _best(idx, text)
        if best is None:
            return _link_main_condition(phrase, text)
        found = (*best, "lexical")
        target = idx.excluded_for(best[0], set(analyse(text)[0]))
        if target is not None:
            found = (target, best[1], best[2], "lexical+excludes1")
    code, predicate, conf, method = found
    codes = idx.billable(code, sides)
    out: list[IcdMatch] = []
    for c in codes:
        pred = predicate
        title = (idx.label(c) or "").lower()
        if len(codes) > 1:
            pred = "skos:narrowMatch"  # one side of a "bilateral" phrase
        elif (c != code and pred == "skos:exactMatch" and "unspecified" not in title
              and re.search(r"\bother\b", title)):
            pred = "skos:closeMatch"  # NOS coded to an "other" child
        c = idx.encounter_code(c, phrase)
        out.append(IcdMatch(phrase, c, idx.label(c), pred, conf, method))
    return out


def _link_both_sides(phrase: str) -> list[IcdMatch]:
    """ "A due to B" coded B (a coder codes the cause the symptom is integral to); "A with
    B" / "A secondary to B" coded A and B, less any code an Excludes1 note of the other
    forbids ("low back pain with back strain": M54.5 excludes low back strain, S39.012)."""
    text = clean_phrase(phrase)
    cause = _CAUSE.split(text, maxsplit=1)
    if len(cause) == 2 and all(p.strip() for p in cause):
        links = link_phrase(cause[1])
        return [IcdMatch(phrase, m.code, m.label, "skos:broadMatch",
                         round(m.confidence * 0.9, 3), f"{m.method}+cause") for m in links]
    sides = _WITH.split(text, maxsplit=1)
    if len(sides) != 2 or not all(p.strip() for p in sides):
        return []
    head_toks, head_sides = analyse(sides[0])
    tail_toks, tail_sides = analyse(sides[1])
    if not any(_kind(t) == "site" for t in tail_toks):  # "lumbar pain with radiculopathy"
        sides[1] = " ".join([sides[1], *(t for t in head_toks if _kind(t) == "site"),
                             *(() if tail_sides else sorted(head_sides))])
    first, second = link_phrase(sides[0]), link_phrase(sides[1])
    if not first or not second:
        return []
    kept = [m for m in first + second if not index().excludes_any(
        m.code or "", [o.code for o in first + second if o.code and o.code != m.code])]
    return [IcdMatch(phrase, m.code, m.label, "skos:narrowMatch", round(m.confidence * 0.9, 3),
                     f"{m.method}+split") for m in kept]


_CAUSE = re.compile(r"\s+(?:due\s+to|caused\s+by)\s+", re.I)
_WITH = re.compile(r"\s+(?:with|and\s+associated|secondary\s+to)\s+", re.I)


def _link_main_condition(phrase: str, text: str) -> list[IcdMatch]:
    """A phrase the matcher cannot code whole, coded by its main condition.

    "chest pain due to chest contusion": the cause is what a coder codes (the pain is
    integral to it); "blunt head trauma with headaches": the condition before "with". The
    code then says less than the phrase: ``skos:broadMatch``, lower confidence.
    """
    for pattern, pick in ((_CAUSE, 1), (_WITH, 0)):
        parts = pattern.split(text, maxsplit=1)
        if len(parts) == 2 and all(p.strip() for p in parts):
            links = link_phrase(parts[pick])
            if links:
                return [IcdMatch(phrase, m.code, m.label, "skos:broadMatch",
                                 round(m.confidence * 0.9, 3), f"{m.method}+main-condition")
                        for m in links]
    return []


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
