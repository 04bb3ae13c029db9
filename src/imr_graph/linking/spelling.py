"""Spelling slips in a phrase corrected against a vocabulary of word counts.

A word of five letters or more that the vocabulary does not know (nor its plural-free
form, nor a caller's list of known words) is replaced by the commonest vocabulary word one
edit away (a letter dropped, added, changed, or two swapped), provided that word is common
(``minimum`` uses); otherwise it is left as it is. Half of a word broken by a hyphen is
never touched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection

from .text import stem

_LONG_WORD = re.compile(r"(?<![-A-Za-z])[A-Za-z]{5,}(?![-A-Za-z])")  # not half of "radicul-opathy"
MINIMUM = 30  # a correction must be a word the vocabulary uses often ("strain", not "rejection")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def edits1(word: str) -> set[str]:
    """Every string one edit from ``word`` (delete, swap, replace, insert)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
            | {a + c + b for a, b in splits for c in _ALPHABET})


def correct_spelling(text: str, counts: Counter[str], known: Collection[str] = (),
                     minimum: int = MINIMUM) -> str:
    """``text`` with its unknown long words corrected (see the module docstring)."""
    def fix(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if word in counts or stem(word) in counts or word in known:
            return m.group(0)
        near = [w for w in edits1(word) if counts.get(w, 0) >= minimum]
        return max(near, key=lambda w: (counts[w], w)) if near else m.group(0)

    return _LONG_WORD.sub(fix, text)
