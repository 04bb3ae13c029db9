"""Record types: the typed, complete description of one IMR determination letter.

The record is the contract between parsing and everything downstream (RDF mapping, JSON
output, tests). Field names are public: they are documented in ``docs/record.md`` and in the
JSON Schema ``record.schema.json`` shipped with the package. Missing values are ``None``
(JSON ``null``), never guessed. Spans are ``(start, end)`` character offsets into the
letter's extracted text (``imr-graph parse --text`` prints that text).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Span = tuple[int, int]
Outcome = Literal["Upheld", "Overturned"]
Family = Literal["MTUS", "ODG", "ACOEM", "OTHER"]

PARSER_VERSION = "1.1.0"
FAMILIES: tuple[str, ...] = ("MTUS", "ODG", "ACOEM", "OTHER")


@dataclass
class Citation:
    """One cited guideline document (or other source) with the sections/pages cited in it.

    ``family`` is MTUS, ODG, ACOEM or OTHER. For MTUS, ``title`` is the MTUS document title
    ("Chronic Pain Medical Treatment") and ``year`` its edition; for other families ``title``
    is the chapter/topic text as written.
    """

    family: str
    title: str | None = None
    year: int | None = None
    sections: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    text: str = ""
    span: Span | None = None


@dataclass
class Guideline:
    """A guideline paragraph: what the claims administrator or the reviewer relied on."""

    text: str
    sources: list[str] = field(default_factory=list)
    mtus_titles: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    no_evidence: bool = False
    outside_mtus: bool = False
    span: Span | None = None


@dataclass
class RationaleReference:
    """A reference made inside a decision rationale: a page, a table or a literature cite."""

    kind: Literal["page", "table", "literature", "chapter"]
    text: str
    family: str | None = None
    pages: list[str] = field(default_factory=list)
    table: str | None = None
    author: str | None = None
    year: int | None = None
    span: Span | None = None


@dataclass
class Service:
    """What a request asks for, read into a canonical service concept and its attributes.

    ``concept`` is a stable id (``imaging-mri/lumbar-spine``,
    ``medication/acetaminophen+hydrocodone/oral``, ``physical-therapy/physical-therapy``):
    the same service whatever the wording. Everything else is what this request adds:
    ranges are ``[min, max]``; sessions are the total (stated, or per week times weeks).
    """

    concept: str
    label: str
    kind: str
    category: str
    regions: list[str] = field(default_factory=list)
    side: str | None = None
    ingredients: list[str] = field(default_factory=list)
    route: str | None = None
    drug_classes: list[str] = field(default_factory=list)
    strength: list[str] = field(default_factory=list)
    form: str | None = None
    release: str | None = None
    quantity: int | None = None
    refills: int | None = None
    sessions: list[int] | None = None
    per_week: list[int] | None = None
    weeks: list[int] | None = None
    days: list[int] | None = None
    months: list[int] | None = None
    contrast: str | None = None
    date_of_service: str | None = None
    modifiers: list[str] = field(default_factory=list)


@dataclass
class Item:
    """One disputed item (one request) and its decision."""

    index: int
    request: str
    outcome: str
    original_request: str | None = None
    authorized: str | None = None
    claims_admin_guideline: Guideline | None = None
    reviewer_guideline: Guideline | None = None
    rationale: str | None = None
    rationale_references: list[RationaleReference] = field(default_factory=list)
    span: Span | None = None
    rationale_span: Span | None = None
    service: Service | None = None
    decision_span: Span | None = None
    """The decision sentence: the request and its outcome ("**MRI of the knee:** Upheld")."""


@dataclass
class Reviewer:
    """The expert reviewer's credentials as the letter states them (never a name)."""

    licensure: list[str] = field(default_factory=list)
    specialties: list[str] = field(default_factory=list)


@dataclass
class Worker:
    """The injured worker as the letter describes them (age at review, sex)."""

    age: int | None = None
    sex: Literal["male", "female"] | None = None


@dataclass
class Source:
    """Where the record came from."""

    path: str
    sha256: str
    format: Literal["pdf", "text", "markdown"]


@dataclass
class Record:
    """One IMR final determination letter."""

    case_number: str | None
    date_assigned: str | None
    date_of_injury: str | None
    decision_date: str | None
    ur_denial_date: str | None
    application_received: str | None
    priority: str | None
    reviewer: Reviewer
    worker: Worker
    diagnoses: list[str]
    medications: list[str]
    items: list[Item]
    source: Source
    layout: str = "dwc-2015"
    parser_version: str = PARSER_VERSION
    diagnoses_span: Span | None = None
    medications_span: Span | None = None
    diagnosis_status: dict[str, str] = field(default_factory=dict)
    medication_services: list[Service] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (spans as two-element lists)."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record from :meth:`to_dict` output (e.g. a golden JSON file)."""
        d = dict(data)
        d["reviewer"] = Reviewer(**d["reviewer"])
        d["worker"] = Worker(**d["worker"])
        d["source"] = Source(**d["source"])
        d["items"] = [_item_from_dict(i) for i in d["items"]]
        d["medication_services"] = [Service(**m) for m in d.get("medication_services", [])]
        for key in ("diagnoses_span", "medications_span"):
            d[key] = _span(d.get(key))
        return cls(**d)

    @property
    def case_key(self) -> str:
        """A stable key for the case: the case number, or ``sha256-<16 hex>`` without one."""
        return self.case_number or f"sha256-{self.source.sha256[:16]}"


def _span(value: Any) -> Span | None:
    return (int(value[0]), int(value[1])) if value is not None else None


def _guideline_from_dict(d: dict[str, Any] | None) -> Guideline | None:
    if d is None:
        return None
    g = dict(d)
    g["citations"] = [Citation(**{**c, "span": _span(c.get("span"))}) for c in g["citations"]]
    g["span"] = _span(g.get("span"))
    return Guideline(**g)


def _item_from_dict(d: dict[str, Any]) -> Item:
    i = dict(d)
    i["claims_admin_guideline"] = _guideline_from_dict(i.get("claims_admin_guideline"))
    i["reviewer_guideline"] = _guideline_from_dict(i.get("reviewer_guideline"))
    i["rationale_references"] = [
        RationaleReference(**{**r, "span": _span(r.get("span"))})
        for r in i.get("rationale_references", [])
    ]
    i["span"] = _span(i.get("span"))
    i["rationale_span"] = _span(i.get("rationale_span"))
    i["service"] = Service(**i["service"]) if i.get("service") else None
    i["decision_span"] = _span(i.get("decision_span"))
    return Item(**i)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
