"""Medication text -> drug concept, drug classes and external identifiers, offline.

Two sources, both shipped with the install:

* the curated table ``imr_graph/data/drugs.tsv`` (brand -> generic, e.g. Norco ->
  hydrocodone/acetaminophen, Soma -> carisoprodol, Flector -> diclofenac epolamine patch;
  the compounded "medical food" kits seen in workers' comp; the drug classes);
* the ``drug-named-entity-recognition`` package's dictionary (DrugBank, MedlinePlus and MeSH
  identifiers for about 20,000 drugs; used with its network options off). Its ``mesh_id`` is
  the MeSH *pharmacological action* heading of the drug (e.g. D009294 Narcotics), so it is
  linked as a ``skos:broadMatch``; DrugBank and MedlinePlus ids are per ingredient.

:func:`parse_medication` reads strength, form, quantity and release type from requests such
as "Norco 10/325mg #120" or "Flector patch 1.3% #30"; :func:`match_drug` names the drug.
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..resources import data_file

_FORMS = {
    "patch": "patch", "patches": "patch", "cream": "cream", "gel": "gel",
    "ointment": "ointment", "lotion": "lotion", "spray": "spray", "solution": "solution",
    "suspension": "suspension", "tablet": "tablet", "tablets": "tablet", "tab": "tablet",
    "tabs": "tablet", "capsule": "capsule", "capsules": "capsule", "cap": "capsule",
    "caps": "capsule", "injection": "injection", "liquid": "solution", "powder": "powder",
    "transdermal": "patch", "suppository": "suppository", "drops": "drops", "pad": "patch",
    "pads": "patch",
}
_TOPICAL_FORMS = frozenset({"patch", "cream", "gel", "ointment", "lotion", "spray"})
_STRENGTH = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?(?:\s*[/-]\s*\d+(?:\.\d+)?)*)\s*"
    r"(mg/g|mg/ml|mcg/hr|mcg/h|mg|mcg|g|gm|grams?|ml|%|units?|iu)(?![a-z])",
    re.I,
)
_QUANTITY = re.compile(r"(?:#|qty\.?:?\s*|quantity:?\s*)\s*(\d+)|\((\d+)\)\s*$", re.I)
_RELEASE = re.compile(r"\b(ER|XR|CR|SR|DR|XL|ODT|IR)\b")
_PREFIX = re.compile(r"^\s*(?:post[- ]?op(?:erative)?|pre[- ]?op(?:erative)?|retro(?:spective)?)\s*:?\s*", re.I)
_PAREN = re.compile(r"\([^)]*\)")
_WORD = re.compile(r"[a-z][a-z0-9']*|#\d+|\d+", re.I)

# Prefixes of the identifier systems (SSSOM curie_map entries).
DRUGBANK = ("DRUGBANK", "https://go.drugbank.com/drugs/")
MEDLINEPLUS = ("MEDLINEPLUS", "https://medlineplus.gov/druginfo/meds/")
MESH = ("MESH", "http://id.nlm.nih.gov/mesh/")


@dataclass(frozen=True)
class Medication:
    """What a medication text says besides the drug: strength, form, quantity, release."""

    text: str
    name: str
    strengths: tuple[str, ...] = ()
    form: str | None = None
    quantity: int | None = None
    release: str | None = None


@dataclass(frozen=True)
class ExternalId:
    """An identifier in another vocabulary and how it relates to the drug concept."""

    curie: str
    label: str
    predicate: str


@dataclass(frozen=True)
class DrugMatch:
    """A medication text linked to a drug concept (``generic`` None when not recognised).

    ``generic`` is the drug concept: its active ingredients, sorted, joined by "/"
    ("acetaminophen/hydrocodone" for Norco, Vicodin and "hydrocodone/APAP 10/325" alike).
    ``route`` is oral, topical, transdermal or injection. A drug class named instead of a
    drug ("NSAIDs") has ``drug_class`` set and no ``generic``.
    """

    text: str
    generic: str | None
    ingredients: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    external: tuple[ExternalId, ...] = field(default_factory=tuple)
    matched: str | None = None
    method: str = "unsure"
    confidence: float = 0.0
    medication: Medication | None = None
    route: str | None = None
    drug_class: str | None = None


@dataclass(frozen=True)
class _Row:
    generic: str
    classes: tuple[str, ...]
    route: str = ""


def _rows() -> list[list[str]]:
    with data_file("drugs.tsv").open(encoding="utf-8") as fh:
        return [row for row in csv.reader(fh, delimiter="\t")
                if row and not row[0].startswith("#") and len(row) >= 2]


def _cell(row: list[str], i: int) -> str:
    return row[i].strip() if len(row) > i else ""


@lru_cache(maxsize=1)
def table() -> dict[str, _Row]:
    """The curated alias table: lower-cased name -> ingredients ("/"), classes and route."""
    by_generic = generic_classes()
    out: dict[str, _Row] = {}
    for row in _rows():
        generic = row[1].strip().lower()
        classes = tuple(c.strip() for c in _cell(row, 2).split(";") if c.strip())
        out[row[0].strip().lower()] = _Row(generic, classes or by_generic.get(generic, ()),
                                           _cell(row, 3).lower())
    return out


@lru_cache(maxsize=1)
def generic_classes() -> dict[str, tuple[str, ...]]:
    """Generic name -> drug classes, from the rows of the curated table that give classes."""
    out: dict[str, tuple[str, ...]] = {}
    for row in _rows():
        classes = tuple(c.strip() for c in _cell(row, 2).split(";") if c.strip())
        if classes:
            out.setdefault(row[1].strip().lower(), classes)
    return out


@lru_cache(maxsize=1)
def _package_dir() -> Path:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("drug-named-entity-recognition is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def _package() -> tuple[dict, dict]:
    """The drug-named-entity-recognition dictionaries (variant -> canonical, canonical -> data).

    Read from the package's own data file; its module is not imported, since that also
    builds the indexes of its fuzzy matcher (about 300 MB per process) that imr-graph never
    uses. Parsing workers load this once (about 50 MB).
    """
    with bz2.open(_package_dir() / "drug_ner_dictionary.pkl.bz2", "rb") as fh:
        data = pickle.load(fh)  # the package's shipped dictionary, as the package loads it
    return data["drug_variant_to_canonical"], data["drug_canonical_to_data"]


@lru_cache(maxsize=1)
def _package_stopwords() -> frozenset[str]:
    """The package's stop words (its ``util.py``, run on its own: a literal set)."""
    spec = importlib.util.spec_from_file_location("_drug_ner_util", _package_dir() / "util.py")
    if spec is None or spec.loader is None:
        return frozenset()
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.stopwords)


def _package_lookup(name: str) -> tuple[str, dict] | None:
    """An exact name of the package's dictionary (never a fuzzy match: a wrong drug is worse
    than none)."""
    variants, data = _package()
    canon = variants.get(name.lower())
    if not canon:
        return None
    return canon[0], data.get(canon[0], {})


def parse_medication(text: str) -> Medication:
    """Strength, form, quantity and release type of a medication request."""
    body = _PREFIX.sub("", text)
    strengths = tuple(
        (m.group(1).replace(" ", "") + m.group(2).lower().replace("gm", "g"))
        for m in _STRENGTH.finditer(body)
    )
    quantity = None
    qm = _QUANTITY.search(body)
    if qm:
        quantity = int(qm.group(1) or qm.group(2))
    form = None
    for w in re.findall(r"[a-z]+", body.lower()):
        if w in _FORMS:
            form = _FORMS[w]
            break
    rm = _RELEASE.search(body)
    name = _STRENGTH.split(_PAREN.sub("", body))[0]
    name = re.split(r"#|,|\bin\b", name)[0].strip(" -,.")
    return Medication(text, name or body.strip(), strengths, form, quantity,
                      rm.group(1) if rm else None)


def _ngrams(words: list[str], n: int) -> list[tuple[int, str]]:
    return [(i, " ".join(words[i : i + n])) for i in range(len(words) - n + 1)]


def _key(name: str) -> str:
    """A name as the matcher sees it: its words, lower-cased, joined by single spaces."""
    return " ".join(w.lstrip("#") for w in _WORD.findall(name.lower()))


@lru_cache(maxsize=1)
def _keyed() -> dict[str, _Row]:
    return {_key(name): row for name, row in table().items()}


_MAX_NAME = 4


def find_names(text: str, vocabulary: bool = True) -> list[tuple[str, str, str, str]]:
    """Drug names in ``text`` as (surface, ingredients, method, route), in text order.

    The curated alias table is tried first (longest name first); words it leaves are looked
    up among the exact names of the package's dictionary (only when they could be a name:
    four letters or more, no stop word). There is no fuzzy matching: a misspelling becomes a
    row of the table or stays unlinked. ``route`` is the table's ("" when the name does not
    fix it; "class" for a drug class such as "NSAIDs"). ``vocabulary=False`` uses the table
    only.
    """
    body = _PAREN.sub(lambda m: " " + m.group(0)[1:-1] + " ", _PREFIX.sub("", text)).lower()
    words = [w.lstrip("#") for w in _WORD.findall(body)]  # "Tylenol #3" = "tylenol 3"
    found: list[tuple[int, str, str, str, str]] = []
    used: set[int] = set()
    tab = _keyed()
    for n in range(_MAX_NAME, 0, -1):
        for i, gram in _ngrams(words, n):
            if used & set(range(i, i + n)):
                continue
            row = tab.get(gram)
            if row is not None:
                found.append((i, gram, row.generic, "curated-table", row.route))
                used.update(range(i, i + n))
    for n in (2, 1) if vocabulary else ():
        for i, gram in _ngrams(words, n):
            if used & set(range(i, i + n)) or len(gram) < 4 or _stopword(gram):
                continue
            hit = _package_lookup(gram)
            if hit is not None:
                canon = hit[0]
                row = tab.get(_key(canon))
                generic = row.generic if row else canon.lower()
                found.append((i, gram, generic, "package", row.route if row else ""))
                used.update(range(i, i + n))
    found.sort()
    return [(surface, generic, method, route) for _i, surface, generic, method, route in found]


_STOP = frozenset(
    ["patch", "cream", "gel", "ointment", "tablet", "tablets", "capsule", "oral", "topical",
     "base", "unknown", "quantity", "with", "and", "the", "for", "post", "pre", "daily",
     "twice", "three", "times", "tabs", "refill", "refills", "sodium", "hcl", "citrate",
     "transdermal", "solution", "supply", "unit", "units", "test", "testing", "screen",
     "panel", "therapy", "program", "compound", "compounded", "medication", "medications",
     "trial", "pump", "injection", "injections", "block", "steroid", "oxygen", "water"]
)


def _stopword(gram: str) -> bool:
    stopwords = _package_stopwords()
    return any(w in _STOP or w in stopwords or w.isdigit() for w in gram.split())


_FORM_WORDS = frozenset(["epolamine", "topical", "gel", "solution", "patch", "sodium", "potassium", "hcl", "citrate"])


def _lookup_ingredient(name: str) -> tuple[str, dict] | None:
    hit = _package_lookup(name)
    if hit is None:
        stripped = " ".join(w for w in name.split() if w not in _FORM_WORDS)
        hit = _package_lookup(stripped) if stripped and stripped != name else None
    return hit


def _classes(generic: str, route: str | None) -> tuple[str, ...]:
    known = generic_classes()
    ingredients = generic.split("/")
    classes: list[str] = list(known.get(generic, ()))
    for ing in ingredients:
        classes.extend(known.get(ing, ()))
    if route == "topical":
        classes = [c for c in classes if c not in ("topical analgesic", "topical compound")]
        classes.append("topical analgesic" if len(ingredients) == 1 else "topical compound")
    return tuple(dict.fromkeys(classes))


def _external(surface: str, ingredients: tuple[str, ...]) -> tuple[ExternalId, ...]:
    out: list[ExternalId] = []
    single = len(ingredients) == 1
    seen: set[str] = set()
    for ing in ingredients:
        hit = _lookup_ingredient(ing)
        if hit is None:
            continue
        _canon, data = hit
        label = str(data.get("name") or ing)
        pred = "skos:exactMatch" if single else "skos:relatedMatch"
        if data.get("drugbank_id"):
            out.append(ExternalId(f"{DRUGBANK[0]}:{data['drugbank_id']}", label, pred))
        if data.get("medline_plus_id"):
            out.append(ExternalId(f"{MEDLINEPLUS[0]}:{data['medline_plus_id']}", label, pred))
        if data.get("mesh_id") and data["mesh_id"] not in seen:
            seen.add(data["mesh_id"])
            out.append(ExternalId(f"{MESH[0]}:{data['mesh_id']}",
                                  f"MeSH pharmacological action of {label}", "skos:broadMatch"))
    # The package also knows some brand/form products (Flector -> Diclofenac Patch).
    hit = _package_lookup(surface) or _package_lookup(surface.split()[0])
    if len(ingredients) == 1 and " " in ingredients[0]:
        hit = hit or _package_lookup(ingredients[0].replace("epolamine ", "").replace("topical ", ""))
    if hit is not None and hit[1].get("medline_plus_id"):
        curie = f"{MEDLINEPLUS[0]}:{hit[1]['medline_plus_id']}"
        if all(e.curie != curie for e in out):
            out.append(ExternalId(curie, str(hit[1].get("name") or surface), "skos:closeMatch"))
    return tuple(out)


_ROUTE_FORMS = {
    "patch": "topical", "cream": "topical", "gel": "topical", "ointment": "topical",
    "lotion": "topical", "spray": "topical", "pad": "topical", "topical": "topical",
    "transdermal": "topical", "injection": "injection",
}
_ROUTE_WORDS = re.compile(
    r"\b(?:topical(?:ly)?|transdermal|patch(?:es)?|creams?|gels?|ointments?|lotions?|sprays?"
    r"|pads?|(?:in\s+)?(?:cream|lipoderm|versapro)\s+base|roll[- ]on|liniment)\b"
    r"|\d\s*%"
    r"|\b(?:injections?|injectable|intramuscular|intravenous|IM|IV|subcutaneous)\b",
    re.I,
)
# Opioid strengths written "10/325" name acetaminophen without saying so (Norco,
# Percocet, Ultracet, Tylenol #3 are all x/300-x/500 tablets with acetaminophen).
_APAP_STRENGTH = re.compile(r"\d+(?:\.\d+)?\s*[/-]\s*(?:300|325|500)(?!\d)")
_APAP_PARTNERS = frozenset({"hydrocodone", "oxycodone", "tramadol", "codeine"})


def _route(text: str, table_routes: list[str]) -> str:
    for r in table_routes:
        if r and r != "class":
            return r
    m = _ROUTE_WORDS.search(_PREFIX.sub("", text))
    if m is None:
        return "oral"
    word = m.group(0).lower()
    if re.match(r"inj|intra|im$|iv$|sub", word):
        return "injection"
    return "topical"


def match_drug(text: str, external: bool = True) -> DrugMatch:
    """Link a medication text (a list entry or a request) to a drug concept.

    ``external=False`` leaves out the DrugBank / MedlinePlus / MeSH identifiers (the parsing
    stage needs only the ingredients, route and classes).

    Every ingredient of a combination is looked up ("diclofenac/misoprostol", a compounded
    cream naming five) and the drug is the set of them; an opioid written with an
    acetaminophen strength ("Tramadol 37.5/325mg") gains acetaminophen.
    """
    med = parse_medication(text)
    names = find_names(text)
    drugs = [(s, g, m, r) for s, g, m, r in names if r != "class"]
    if not drugs:
        if names:
            cls = _keyed()[names[0][0]].classes[0]
            return DrugMatch(text, None, classes=(cls,), matched=names[0][0],
                             method="curated-table", confidence=0.9, medication=med,
                             drug_class=cls)
        return DrugMatch(text, None, medication=med)
    ingredients = sorted({i for _s, g, _m, _r in drugs for i in g.split("/")})
    if (len(ingredients) == 1 and ingredients[0] in _APAP_PARTNERS
            and _APAP_STRENGTH.search(text)):
        ingredients = sorted([*ingredients, "acetaminophen"])
    generic = "/".join(ingredients)
    route = _route(text, [r for _s, _g, _m, r in drugs])
    methods = {m for _s, _g, m, _r in drugs}
    confidence = 0.95 if methods <= {"curated-table"} else 0.9
    return DrugMatch(
        text=text,
        generic=generic,
        ingredients=tuple(ingredients),
        classes=_classes(generic, route),
        external=_external(drugs[0][0], tuple(ingredients)) if external else (),
        matched=", ".join(s for s, _g, _m, _r in drugs),
        method="+".join(sorted(methods)),
        confidence=confidence,
        medication=med,
        route=route,
    )


# What a drug request looks like besides its name: a strength, a count, a dosage form.
_DRUG_SHAPE = re.compile(
    r"\d\s*(?:mg|mcg|g|gm|ml|%|units?)\b|#\s*\d|\b(?:tablets?|tabs?|capsules?|caps|creams?|gels?"
    r"|patch(?:es)?|ointments?|lotions?|solution|suspension|sprays?|oral|topical"
    r"|transdermal|po|bid|tid|qid|prn)\b",
    re.I,
)


def looks_like_medication(text: str) -> bool:
    """Whether a request names a drug or a drug class (puts medication requests in their
    category). A name of the alias table is enough; a name only the drug vocabulary knows
    counts when the request also looks like a prescription (strength, count or form), so
    that "Physical therapy" can never become a drug through a vocabulary synonym."""
    return bool(find_names(text, vocabulary=_DRUG_SHAPE.search(text) is not None))
