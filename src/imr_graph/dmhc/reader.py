"""Reading the DMHC health-plan IMR open data (CSV) into typed records. Pure: no RDF here.

The California Department of Managed Health Care publishes its Independent Medical Review
decisions for health-plan members as one table ("Independent Medical Review (IMR)
Determinations, Trend"): one row per decision with a reference id, the report year,
diagnosis and treatment categories, the determination (upheld or overturned), the review
type, the patient's age range and gender, and in some exports a free-text ``Findings``
summary and the newer columns ``IMRType``, ``DaysToReview`` and ``DaysToAdopt``.

:func:`read_dmhc` accepts every shape of that export seen so far:

- the delimiter is sniffed (``;``, ``,``, tab or ``|``) from the header line;
- header names are matched case-, space- and punctuation-insensitively against known
  aliases ("Reference ID", "ReferenceID", "reference_id" ...);
- quoted fields may span lines (the Findings column does);
- UTF-8 (with or without BOM) and Windows-1252 files are read.

Rows that cannot be read (a missing id, an unknown determination, a year that is not a
year, a wrong number of fields, a repeated id ...) become :class:`RowError` entries naming
the line and the reason; every other row still becomes a :class:`DmhcCase`. A file whose
header lacks a required column raises :class:`~imr_graph.errors.InputError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InputError

Outcome = Literal["Upheld", "Overturned"]
ReviewType = Literal["medical-necessity", "experimental-investigational", "urgent-care"]
Sex = Literal["male", "female"]

#: The layout name recorded for DMHC cases (the WC letters use ``dwc-2015`` etc.).
LAYOUT = "dmhc-csv"
#: Version of this reader; recorded in provenance.
READER_VERSION = "1.0.0"

#: Canonical field name -> header aliases (compared after :func:`_norm_header`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference_id": ("referenceid", "referenceno", "referencenumber", "imrreferenceid", "id"),
    "year": ("reportyear", "year"),
    "diagnosis_category": ("diagnosiscategory",),
    "diagnosis_subcategory": ("diagnosissubcategory",),
    "treatment_category": ("treatmentcategory",),
    "treatment_subcategory": ("treatmentsubcategory",),
    "determination": ("determination", "decision", "outcome"),
    "review_type": ("type", "reviewtype", "casetype"),
    "age_range": ("agerange", "paientage", "patientage", "age"),
    "gender": ("patientgender", "gender", "sex"),
    "findings": ("findings", "finding"),
    "imr_type": ("imrtype",),
    "days_to_review": ("daystoreview",),
    "days_to_adopt": ("daystoadopt",),
}
REQUIRED: tuple[str, ...] = ("reference_id", "year", "determination")
DELIMITERS: tuple[str, ...] = (";", ",", "\t", "|")

#: The review types: value in the ``Type`` column (normalised) -> canonical key.
REVIEW_TYPES: dict[str, ReviewType] = {
    "medicalnecessity": "medical-necessity",
    "experimentalinvestigational": "experimental-investigational",
    "experimental": "experimental-investigational",
    "investigational": "experimental-investigational",
    "urgentcare": "urgent-care",
}
REVIEW_TYPE_LABELS: dict[str, str] = {
    "medical-necessity": "Medical Necessity",
    "experimental-investigational": "Experimental/Investigational",
    "urgent-care": "Urgent Care",
}
#: The age ranges the data set uses, as (label, min, max); max None means open-ended.
AGE_RANGES: tuple[tuple[str, int, int | None], ...] = (
    ("0-10", 0, 10),
    ("11-20", 11, 20),
    ("21-30", 21, 30),
    ("31-40", 31, 40),
    ("41-50", 41, 50),
    ("51-64", 51, 64),
    ("65+", 65, None),
)
_MISSING = {"", "notapplicable", "na", "n/a", "unknown", "null", "none", "notspecified"}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_YEAR_RE = re.compile(r"^(\d{4})(?:\.0+)?$")
_INT_RE = re.compile(r"^-?\d+(?:\.0+)?$")
_RANGE_RE = re.compile(r"^(\d{1,3})\s*[-_–]\s*(\d{1,3})$")
_OPEN_RE = re.compile(r"^(\d{1,3})\s*(?:\+|and\s*(?:over|older|up))$", re.IGNORECASE)


@dataclass(frozen=True)
class DmhcCase:
    """One DMHC IMR decision (one row of the open data set).

    Text fields are as written in the file with surrounding whitespace removed; empty
    cells are ``None``. ``outcome`` is ``Upheld`` or ``Overturned`` (the health plan's
    denial upheld or overturned), ``review_type`` a key of :data:`REVIEW_TYPE_LABELS`,
    ``age_range`` one of the labels in :data:`AGE_RANGES` (``"11_20"`` normalised to
    ``"11-20"``; a plain age is binned), ``sex`` ``male``/``female``. ``line`` is the
    line of the file the row starts on.
    """

    reference_id: str
    year: int
    outcome: Outcome
    line: int
    diagnosis_category: str | None = None
    diagnosis_subcategory: str | None = None
    treatment_category: str | None = None
    treatment_subcategory: str | None = None
    review_type: ReviewType | None = None
    age_range: str | None = None
    sex: Sex | None = None
    findings: str | None = None
    imr_type: str | None = None
    days_to_review: int | None = None
    days_to_adopt: int | None = None
    determination_text: str = ""

    @property
    def case_key(self) -> str:
        """The stable key of the case (its reference id)."""
        return self.reference_id


@dataclass(frozen=True)
class RowError:
    """A row that could not be read: the line it starts on, the reason, and its id if any."""

    line: int
    reason: str
    reference_id: str | None = None

    def __str__(self) -> str:
        ref = f" ({self.reference_id})" if self.reference_id else ""
        return f"line {self.line}{ref}: {self.reason}"


@dataclass
class DmhcFile:
    """The result of reading one DMHC CSV file: cases, row errors and what was detected."""

    path: str
    sha256: str
    delimiter: str
    encoding: str
    columns: dict[str, str]
    cases: list[DmhcCase] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Data rows seen (cases plus errors)."""
        return len(self.cases) + len(self.errors)


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_ALIASES: dict[str, str] = {alias: key for key, names in COLUMNS.items() for alias in names}


def map_header(header: list[str]) -> dict[str, int]:
    """Map canonical field names to column positions; unknown columns are ignored.

    Raises :class:`ValueError` naming a field given by two columns.
    """
    found: dict[str, int] = {}
    for pos, name in enumerate(header):
        key = _ALIASES.get(_norm_header(name))
        if key is None:
            continue
        if key in found:
            raise ValueError(f"columns {header[found[key]]!r} and {name!r} both give {key}")
        found[key] = pos
    return found


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _first_line(text: str) -> str:
    """The header line (the first non-blank line; headers never contain quoted newlines)."""
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits ``header_line`` into the most known DMHC column names."""
    best, best_score = DELIMITERS[0], -1
    for delim in DELIMITERS:
        fields = next(csv.reader([header_line], delimiter=delim), [])
        score = sum(1 for f in fields if _norm_header(f) in _ALIASES)
        if score > best_score:
            best, best_score = delim, score
    return best


def looks_like_dmhc(path: str | Path) -> bool:
    """True when ``path`` is a text file whose first line is a DMHC IMR header."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    text, _ = _decode(head)
    line = _first_line(text)
    fields = next(csv.reader([line], delimiter=sniff_delimiter(line)), [])
    try:
        found = map_header(fields)
    except ValueError:
        return False
    return all(k in found for k in REQUIRED) and (
        "treatment_category" in found or "diagnosis_category" in found
    )


def read_dmhc(path: str | Path) -> DmhcFile:
    """Read a DMHC IMR CSV file. Bad rows are collected in ``errors``; see the module doc.

    Raises :class:`InputError` when the file cannot be read, is empty, or lacks a required
    column (reference id, report year, determination).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", path=p) from exc
    return parse_dmhc_bytes(data, source=str(p))


def parse_dmhc_bytes(data: bytes, *, source: str = "<bytes>") -> DmhcFile:
    """Like :func:`read_dmhc` for the bytes of a file; ``source`` names it in errors."""
    if not data.strip():
        raise InputError("empty file", path=source)
    if b"\x00" in data[:4096]:
        raise InputError("binary file, not a CSV table", path=source)
    text, encoding = _decode(data)
    delimiter = sniff_delimiter(_first_line(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        while not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise InputError("empty file", path=source) from None
    except csv.Error as exc:
        raise InputError(f"unreadable header: {exc}", path=source) from None
    try:
        cols = map_header(header)
    except ValueError as exc:
        raise InputError(f"ambiguous header: {exc}", path=source) from None
    missing = [k for k in REQUIRED if k not in cols]
    if missing:
        raise InputError(
            "not a DMHC IMR table: header lacks "
            + ", ".join(COLUMNS[k][0] for k in missing)
            + f" (header: {delimiter.join(header)[:120]!r})",
            path=source,
        )
    result = DmhcFile(
        path=source,
        sha256=hashlib.sha256(data).hexdigest(),
        delimiter=delimiter,
        encoding=encoding,
        columns={k: header[i].strip() for k, i in cols.items()},
    )
    seen: dict[str, int] = {}
    for line, row in _rows(reader, reader.line_num, result):
        if not any(c.strip() for c in row):
            continue
        try:
            case = _case(row, cols, len(header), line)
        except _RowProblem as exc:
            result.errors.append(RowError(line, exc.reason, exc.reference_id))
            continue
        if case.reference_id in seen:
            result.errors.append(
                RowError(
                    line,
                    f"reference id repeats the row on line {seen[case.reference_id]}",
                    case.reference_id,
                )
            )
            continue
        seen[case.reference_id] = line
        result.cases.append(case)
    return result


def _rows(
    reader: Iterator[list[str]], start: int, result: DmhcFile
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first line, row)``; a csv syntax error becomes a row error and reading ends."""
    consumed = start
    while True:
        line = consumed + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            result.errors.append(RowError(line, f"CSV syntax error, rest of file skipped: {exc}"))
            return
        consumed = reader.line_num  # type: ignore[attr-defined]
        yield line, row


class _RowProblem(Exception):
    def __init__(self, reason: str, reference_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reference_id = reference_id


def _cell(row: list[str], cols: dict[str, int], key: str) -> str | None:
    pos = cols.get(key)
    if pos is None or pos >= len(row):
        return None
    value = " ".join(row[pos].split())
    return value or None


def _case(row: list[str], cols: dict[str, int], width: int, line: int) -> DmhcCase:
    ref = _cell(row, cols, "reference_id")
    if len(row) != width:
        raise _RowProblem(f"{len(row)} fields where the header has {width}", ref)
    if ref is None:
        raise _RowProblem("no reference id")
    if not _ID_RE.match(ref):
        raise _RowProblem(f"malformed reference id {ref!r}", ref)
    year_text = _cell(row, cols, "year")
    m = _YEAR_RE.match(year_text or "")
    if not m or not 1990 <= int(m.group(1)) <= 2100:
        raise _RowProblem(f"report year {year_text!r} is not a year", ref)
    det = _cell(row, cols, "determination") or ""
    outcome = parse_determination(det)
    if outcome is None:
        raise _RowProblem(f"unknown determination {det!r}", ref)
    review_type: ReviewType | None = None
    type_text = _cell(row, cols, "review_type")
    if type_text is not None and _norm_header(type_text) not in _MISSING:
        review_type = REVIEW_TYPES.get(_norm_header(type_text))
        if review_type is None:
            raise _RowProblem(f"unknown review type {type_text!r}", ref)
    age_text = _cell(row, cols, "age_range")
    age_range = parse_age_range(age_text)
    if age_range is False:
        raise _RowProblem(f"unreadable age range {age_text!r}", ref)
    sex_text = _cell(row, cols, "gender")
    sex = parse_sex(sex_text)
    if sex is False:
        raise _RowProblem(f"unknown gender {sex_text!r}", ref)
    days: dict[str, int | None] = {}
    for key in ("days_to_review", "days_to_adopt"):
        text = _cell(row, cols, key)
        if text is None or _norm_header(text) in _MISSING:
            days[key] = None
        elif _INT_RE.match(text) and float(text) >= 0:
            days[key] = int(float(text))
        else:
            raise _RowProblem(f"{COLUMNS[key][0]} {text!r} is not a number of days", ref)
    findings = row[cols["findings"]].strip() if "findings" in cols else ""
    return DmhcCase(
        reference_id=ref,
        year=int(m.group(1)),
        outcome=outcome,
        line=line,
        diagnosis_category=_cell(row, cols, "diagnosis_category"),
        diagnosis_subcategory=_cell(row, cols, "diagnosis_subcategory"),
        treatment_category=_cell(row, cols, "treatment_category"),
        treatment_subcategory=_cell(row, cols, "treatment_subcategory"),
        review_type=review_type,
        age_range=age_range,  # type: ignore[arg-type]
        sex=sex,  # type: ignore[arg-type]
        findings=findings or None,
        imr_type=_cell(row, cols, "imr_type"),
        days_to_review=days["days_to_review"],
        days_to_adopt=days["days_to_adopt"],
        determination_text=det,
    )


def parse_determination(text: str) -> Outcome | None:
    """``Upheld``/``Overturned`` from "Overturned Decision of Health Plan" etc.; else None."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    up = bool(words & {"upheld", "uphold", "upholds"})
    over = bool(words & {"overturned", "overturn", "overturns", "reversed"})
    if up == over:
        return None
    return "Upheld" if up else "Overturned"


def parse_age_range(text: str | None) -> str | Literal[False] | None:
    """The age-range label for a cell ("11_20" -> "11-20", "37" -> "31-40"); False if bad."""
    if text is None or _norm_header(text) in _MISSING:
        return None
    value = text.strip()
    if _INT_RE.match(value):
        age = int(float(value))
        for label, low, high in AGE_RANGES:
            if age >= low and (high is None or age <= high):
                return label
        return False
    m = _RANGE_RE.match(value)
    if m:
        label = f"{int(m.group(1))}-{int(m.group(2))}"
        return label if any(label == r[0] for r in AGE_RANGES) else False
    m = _OPEN_RE.match(value)
    if m:
        label = f"{int(m.group(1))}+"
        return label if any(label == r[0] for r in AGE_RANGES) else False
    return False


def parse_sex(text: str | None) -> Sex | Literal[False] | None:
    """``male``/``female`` from the gender cell; None when empty/unknown; False if unreadable."""
    if text is None or _norm_header(text) in _MISSING:
        return None
    key = _norm_header(text)
    if key in {"female", "f", "woman"}:
        return "female"
    if key in {"male", "m", "man"}:
        return "male"
    return False


def age_bounds(label: str) -> tuple[int, int | None]:
    """``(min, max)`` of an age-range label from :data:`AGE_RANGES` (max None: open)."""
    for name, low, high in AGE_RANGES:
        if name == label:
            return low, high
    raise KeyError(label)
