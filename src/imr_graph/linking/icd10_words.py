"""Wording tables of the ICD-10-CM matcher (:mod:`imr_graph.linking.icd10`).

Rewrites and synonyms are applied to diagnosis phrases and ICD-10-CM titles alike, so both
sides say a thing the same way ("low back" = "lumbar", "herniated" = "displacement"); the
word classes tell the scorer how much a word counts (a site, a qualifier a code need not
express, a soft word).
"""

from __future__ import annotations

import re

# Multi-word rewrites applied to phrases and ICD titles alike (lower-cased text).
_REWRITES: tuple[tuple[str, str], ...] = (
    (r"\b(?:sprain|strain)s?\s*(?:/|\s|and)\s*(?:sprain|strain)s?\b", "strain sprainstrain"),
    (r"\b(?:post|after|due to|from|secondary to)\s+(?:an?\s+)?(?:motor vehicle accident|fall)\b", ""),
    (r"\bwith (?:routine|delayed) healing\b", ""),
    (r"\bdegenerative joint disease\b", "osteoarthritis"),
    # "myoligamentous injury" (muscles and ligaments): a sprain/strain, coded as the strain
    (r"\b(?:myo|musculo)[ -]?ligamentous (?:injury|injuries|sprain|strain)s?\b", "strain sprainstrain"),
    # "strains and sprains injuries sustained": the injury is the strain or sprain
    (r"\b(sprain|strain|contusion)(s?) injur(?:y|ies)(?: sustained)?\b", r"\1\2"),
    # a plural paired part names both sides: "shoulders and elbows"
    (r"\b(?<!bilateral )(shoulders|elbows|wrists|knees|hips|ankles)\b", r"bilateral \1"),
    (r"\bnucleus pulposus\b", "disc"),
    (r"\bdegenerative disc disease\b", "disc degeneration"),
    (r"\b(?:lower|low)[ -]back\b", "lumbar"),
    (r"\b(thoracic|lumbar|cervical|lumbosacral)(?: spine)? back\b", r"\1"),
    (r"\bsciatic pain\b", "sciatica"),
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
    "heel": "foot",
    "tear": "tear",
    "torn": "tear",
    "bilaterally": "bilateral",
    "both": "bilateral",
    "lumbosacral": "lumbosacral",
    "extremity": "limb",
    "specific": "specified",
    "small": "little",
    "headache": "headache",
    "infarct": "infarction",
    "thought": "ideation",  # "suicidal thoughts": R45.851 Suicidal ideations
    "generalize": "generalized",  # a dropped "d" is a common slip
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
