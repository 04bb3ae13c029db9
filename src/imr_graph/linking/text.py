"""Text helpers shared by the matchers: tokenising, light stemming, abbreviations, sides.

Everything here is pure string work: no vocabulary, no RDF. The abbreviation table is the
curated file ``imr_graph/data/abbreviations.tsv`` (``ABBR<TAB>expansion``), matched as whole
tokens, case-insensitively ("L/S", "C/S", "DDD", "HNP", "CTS", "s/p", ...).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from ..resources import data_file

_TOKEN = re.compile(r"[a-z0-9]+(?:'s)?")
SIDES = ("right", "left", "bilateral")


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    """The curated abbreviation table, keys lower-cased."""
    table: dict[str, str] = {}
    with data_file("abbreviations.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            table[row[0].strip().lower()] = row[1].strip()
    return table


@lru_cache(maxsize=1)
def _abbr_pattern() -> re.Pattern[str]:
    keys = sorted(abbreviations(), key=len, reverse=True)
    alt = "|".join(re.escape(k) for k in keys)
    return re.compile(rf"(?<![A-Za-z0-9/])(?:{alt})(?![A-Za-z0-9/])", re.I)


def expand_abbreviations(text: str) -> str:
    """Replace known abbreviations (whole tokens) by their expansion."""
    table = abbreviations()
    return _abbr_pattern().sub(lambda m: f" {table[m.group(0).lower()]} ", text)


def stem(token: str) -> str:
    """A very light English stemmer: plurals and possessives only."""
    if token.endswith("'s"):
        token = token[:-2]
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("aches"):
        return token[:-1]
    if len(token) > 4 and token.endswith(("ses", "xes", "ches", "shes")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is", "sis")):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens of ``text`` (no abbreviation expansion)."""
    return [stem(t) for t in _TOKEN.findall(text.lower())]


def normalise(text: str) -> str:
    """Collapse whitespace and lower-case: the key under which labels are compared."""
    return " ".join(text.lower().split())
