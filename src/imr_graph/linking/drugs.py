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

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..resources import data_file

_FORMS = {
    "patch": "patch", "patches": "patch", "cream": "cream", "gel": "gel",
    "ointment": "ointment", "lotion": "lotion", "spray": "spray", "solution": "solution",
    "suspension": "suspension", "tablet": "tablet", "tablets": "tablet", "tab": "tablet",
    "tabs": "tablet", "capsule": "capsule", "capsules": "capsule", "cap": "capsule",
    "caps": "capsule", "injection": "injection", "liquid": "solution", "powder": "powder",
    "transdermal": "patch", "suppository": "suppository", "drops": "drops",
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
    """A medication text linked to a drug concept (``generic`` None when not recognised)."""

    text: str
    generic: str | None
    ingredients: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    external: tuple[ExternalId, ...] = field(default_factory=tuple)
    matched: str | None = None
    method: str = "unsure"
    confidence: float = 0.0
    medication: Medication | None = None


@dataclass(frozen=True)
class _Row:
    generic: str
    classes: tuple[str, ...]


@lru_cache(maxsize=1)
def table() -> dict[str, _Row]:
    """The curated drug table: lower-cased name -> generic and classes."""
    raw: list[tuple[str, str, tuple[str, ...]]] = []
    with data_file("drugs.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            classes = tuple(c.strip() for c in row[2].split(";") if c.strip()) if len(row) > 2 else ()
            raw.append((row[0].strip().lower(), row[1].strip().lower(), classes))
    by_generic = generic_classes()
    out: dict[str, _Row] = {}
    for name, generic, classes in raw:
        out[name] = _Row(generic, classes or by_generic.get(generic, ()))
    return out


@lru_cache(maxsize=1)
def generic_classes() -> dict[str, tuple[str, ...]]:
    """Generic name -> drug classes, from the rows of the curated table that give classes."""
    out: dict[str, tuple[str, ...]] = {}
    with data_file("drugs.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 3 or not row[2].strip():
                continue
            classes = tuple(c.strip() for c in row[2].split(";") if c.strip())
            out.setdefault(row[1].strip().lower(), classes)
    return out


@lru_cache(maxsize=1)
def _package() -> tuple[dict, dict, object]:
    """The drug-named-entity-recognition dictionaries (variant -> canonical, canonical -> data)."""
    from drug_named_entity_recognition import drugs_finder as f

    return f.drug_variant_to_canonical, f.drug_canonical_to_data, f.get_fuzzy_match


def _package_lookup(name: str, fuzzy: bool = False) -> tuple[str, dict] | None:
    variants, data, get_fuzzy = _package()
    key = name.lower()
    canon = variants.get(key)
    if not canon and fuzzy and len(key) > 4:
        hit, _sim = get_fuzzy(key)  # type: ignore[operator]
        canon = variants.get(hit) if hit else None
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


def find_names(text: str, allow_fuzzy: bool = True) -> list[tuple[str, str, str]]:
    """Drug names in ``text`` as (surface, generic, method), in text order.

    The curated table is tried first (longest n-gram first); the package's dictionary only
    when the table finds nothing, and its fuzzy matcher (for misspellings) only after that,
    on single words of six letters or more.
    """
    body = _PAREN.sub(" ", _PREFIX.sub("", text)).lower()
    words = [w for w in _WORD.findall(body) if not w.startswith("#")]
    found: list[tuple[int, str, str, str]] = []
    used: set[int] = set()
    tab = table()
    for n in (3, 2, 1):
        for i, gram in _ngrams(words, n):
            if used & set(range(i, i + n)):
                continue
            row = tab.get(gram)
            if row is not None:
                found.append((i, gram, row.generic, "curated-table"))
                used.update(range(i, i + n))
    for fuzzy in (False, True):
        if found or (fuzzy and not allow_fuzzy):
            break
        for n in (2, 1):
            for i, gram in _ngrams(words, n):
                if used & set(range(i, i + n)) or len(gram) < (6 if fuzzy else 4):
                    continue
                if fuzzy and n > 1:
                    continue
                hit = _package_lookup(gram, fuzzy=fuzzy)
                if hit is not None and not _stopword(gram):
                    canon = hit[0]
                    generic = tab[canon].generic if canon in tab else canon
                    found.append((i, gram, generic, "package-fuzzy" if fuzzy else "package"))
                    used.update(range(i, i + n))
    found.sort()
    return [(surface, generic, method) for _i, surface, generic, method in found]


_STOP = frozenset(
    ["patch", "cream", "gel", "ointment", "tablet", "tablets", "capsule", "oral", "topical", "base", "unknown", "quantity", "with", "and", "the", "for", "post", "pre", "daily", "twice", "three", "times", "tabs", "refill", "refills", "sodium", "hcl", "citrate", "transdermal", "solution"]
)


def _stopword(gram: str) -> bool:
    from drug_named_entity_recognition.util import stopwords

    return any(w in _STOP or w in stopwords or w.isdigit() for w in gram.split())


_FORM_WORDS = frozenset(["epolamine", "topical", "gel", "solution", "patch", "sodium", "potassium", "hcl", "citrate"])


def _lookup_ingredient(name: str) -> tuple[str, dict] | None:
    hit = _package_lookup(name)
    if hit is None:
        stripped = " ".join(w for w in name.split() if w not in _FORM_WORDS)
        hit = _package_lookup(stripped) if stripped and stripped != name else None
    return hit


def _classes(generic: str, form: str | None, n_ingredients: int) -> tuple[str, ...]:
    known = generic_classes()
    classes: list[str] = list(known.get(generic, ()))
    if not classes:
        for ing in generic.split("/"):
            classes.extend(known.get(ing, ()))
    if form in _TOPICAL_FORMS:
        classes.append("topical analgesic" if n_ingredients == 1 else "topical compound")
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


def match_drug(text: str) -> DrugMatch:
    """Link a medication text (a list entry or a request) to a drug concept."""
    med = parse_medication(text)
    # Fuzzy matching (misspellings) only for a one-word name: "Hydrocodne 10mg", "ophenadrine".
    names = find_names(text, allow_fuzzy=len(med.name.split()) == 1)
    if not names:
        return DrugMatch(text, None, medication=med)
    generics: list[str] = []
    for _surface, generic, _method in names:
        if generic not in generics:
            generics.append(generic)
    methods = {m for _s, _g, m in names}
    if len(generics) == 1:
        generic = generics[0]
    else:  # a compound: several active ingredients in one request
        generic = "/".join(sorted({i for g in generics for i in g.split("/")}))
    ingredients = tuple(generic.split("/"))
    classes = _classes(generic, med.form, len(ingredients))
    if len(generics) > 1 and "topical compound" not in classes and med.form in _TOPICAL_FORMS | {None}:
        classes = (*classes, "topical compound") if med.form else classes
    confidence = 0.95 if methods <= {"curated-table"} else (0.9 if "package-fuzzy" not in methods else 0.75)
    return DrugMatch(
        text=text,
        generic=generic,
        ingredients=ingredients,
        classes=classes,
        external=_external(names[0][0], ingredients),
        matched=", ".join(s for s, _g, _m in names),
        method="+".join(sorted(methods)),
        confidence=confidence,
        medication=med,
    )


def looks_like_medication(text: str) -> bool:
    """Whether a request names a drug (used to put medication requests in their category)."""
    return bool(find_names(text, allow_fuzzy=False))
