"""Disputed service text -> service category, frequency/duration and body region.

The categories are the SKOS concept scheme ``ontology/services.ttl``; this module holds the
rules that place a request in it. Rules are ordered regular expressions (first match wins),
so "MRI of the lumbar spine" is imaging/MRI before "lumbar" could mean anything else, and a
request that names a drug ("Norco 10/325mg #120") is medication. A request no rule places
falls into ``other`` with a low confidence, so every service gets a category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .drugs import looks_like_medication

VOCAB = "https://w3id.org/imr-graph/vocab/"
SERVICE_SCHEME = f"{VOCAB}service-category"
"""IRI of the service category concept scheme; categories are ``{SERVICE_SCHEME}/{id}``."""


def category_iri(category: str) -> str:
    """IRI of a service category (the ids of ``ontology/services.ttl``)."""
    return f"{SERVICE_SCHEME}/{category}"


_RULES: tuple[tuple[str, str], ...] = (
    # (category id, pattern) - first match wins
    ("perioperative-care", r"\b(?:medical|pre-?op(?:erative)?|surgical)\s+clearance|\bassistant surgeon|\bpre-?op(?:erative)? (?:evaluation|consult)"),
    ("inpatient-care", r"\bhospitali[sz]ation|\binpatient|\badmission|\bskilled nursing facility|\brehabilitation facility|\bday treatment"),
    ("laboratory-testing", r"\bua\b|\burine\b|\burinalysis|\blab(?:s|oratory)?\b|\bblood (?:test|work)|\bcbc\b|\bpanel\b|\bgenetic test|\btoxicology|\bdrug (?:screen|test)"),
    ("electrodiagnostic-testing", r"\bemg\b|\bncv\b|\bncs\b|\belectromyogra|\bnerve conduction|\belectrodiagnostic|\bssep|\bsomatosensory evoked"),
    ("injection", r"\b(?:ultrasound|fluoroscop\w*|ct|image)[- ]guid\w* (?:[\w-]+ ){0,3}(?:injection|block)"),
    ("imaging-mri", r"\bmri\b|\bmr arthrogra|\bmagnetic resonance|\bmra\b"),
    ("imaging-ct", r"\bct\b|\bcat scan|\bcomput(?:ed|eri[sz]ed) (?:axial )?tomograph|\bmyelogra"),
    ("imaging-radiography", r"\bx-?rays?\b|\bradiograph|\bflexion[- /]extension (?:views|films)"),
    ("imaging-nuclear", r"\bbone scan|\bscintigra|\bpet\b|\bspect\b|\bdexa\b|\bdxa\b|\bbone density"),
    ("imaging-ultrasound", r"\b(?:diagnostic|musculoskeletal)?\s*ultrasound (?:of|guided)|\bsonogra|\bdoppler|\bechocardiogra"),
    ("acupuncture", r"acupunct"),
    ("chiropractic", r"\bchiro|\bspinal manipulat|\bmanipulation therapy|\bosteopathic manipulat"),
    ("injection", r"\binjection|\bepidural|\besi\b|\bfacet (?:block|joint|rhizotom)|\bnerve blocks?|\bblocks?\b|\bmedial branch|\bradiofrequency|\brhizotomy|\bablation|\bprp\b|\bplatelet[- ]rich|\bviscosupplement|\bsynvisc|\bcortisone|\bsteroid shot|\btrigger point|\bbotox"),
    ("psychological-care", r"\bpsych|\bcognitive behavio|\bcbt\b|\bbiofeedback|\bcounsel|\bmental health"),
    ("home-health", r"\b(?:rn|lvn|lpn|registered nurse)\b(?! (?:evaluation|consult))|\bnurse visits?|\bhome (?:health|care|aide|assist)|\bhomemaker|\bnursing care|\bskilled nursing|\bcaregiver|\battendant care"),
    ("transportation", r"\btransport|\bambulance|\btaxi|\bmileage"),
    ("functional-restoration", r"\bfunctional restoration|\bwork (?:hardening|conditioning)|\bhelp program|\bchronic pain program|\bmultidisciplinary"),
    ("surgery", r"\barthroscop"),  # "arthroscopic evaluation of the knee" is surgery
    ("evaluation", r"\bfunctional capacity|\bfce\b|\brange of motion (?:of )?test|\bmuscle test|\bevaluation\b|\bassessment\b"),
    ("physical-therapy", r"\bphysical therap|\bphysiotherap|\boccupational therap|\bpt\b|\bot\b|\bchirophysio|\btherapeutic exercise|\bmanual therapy|\bmyofascial release|\bmassage|\belectrical (?:muscle )?stimulation|\binfrared|\bpulsed ultrasound|\bultrasound therapy|\bshockwave|\beswt\b|\bhot/cold therapy$|\btraction\b|\baquatic|\bpool therapy|\bphysical medicine|\brehab"),
    ("durable-medical-equipment", r"\btens\b|\binterferential|\bunit\b|\bbrace|\bsplint|\bsupport\b|\bpillow|\bcane\b|\bwalker|\bwheelchair|\bscooter|\bcrutch|\bboot\b|\borthotic|\borthosis|\binsoles?\b|\bcollar|\bsling|\bwraps?\b|\bpad\b|\w*sling\b|\bworkstation|\bergonomic|\bcold therapy|\bheat therapy|\bhot/cold|\bcryotherapy|\bcompression|\bbed\b|\bmattress|\bchair\b|\bimmobilizer|\bgarment|\bdme\b|\bdevice|\bkit\b|\bcpm\b|\bcontinuous passive motion|\bhearing aid|\bcommode|\bshower chair|\bgrab bar|\btoilet|\braised seat"),
    ("surgery", r"\bsurgery|\bsurgical|\barthroscop|\brepair|\bfusion|\blaminectomy|\bdiscectomy|\bmicrodiscectomy|\bforaminotomy|\bdecompression|\bectomy\b|\w+ectomy\b|\w+plasty\b|\w+otomy\b|\brelease\b|\breconstruction|\breplacement\b|\bimplant|\bpump\b|\bstimulator trial|\bspinal cord stimulat|\barthroplasty|\bhardware removal|\borif\b|\bhernia"),
    ("consultation", r"\bconsult|\breferral|\bfollow[- ]?up|\bvisit|\boffice|\bspecialist|\bpain management|\bmedication management|\bsecond opinion"),
    ("fitness-program", r"\bgym\b|\bfitness|\bexercise program|\bweight loss program|\bmembership|\bpersonal train"),
    ("sleep-study", r"\bsleep study|\bpolysomnogra"),
    ("diagnostic-testing", r"\belectroencephalogra|\beeg\b|\bekg\b|\becg\b|\belectrocardiogra|\bgrip test|\bjamar|\btest(?:s|ing)?\b|\bstudy\b"),
    ("physical-therapy", r"\btherapy\b|\bmodalities\b"),
)
_RULES_RE = tuple((cat, re.compile(p, re.I)) for cat, p in _RULES)

CATEGORY_LABELS: dict[str, str] = {
    "imaging": "Imaging",
    "imaging-mri": "Magnetic resonance imaging",
    "imaging-ct": "Computed tomography",
    "imaging-radiography": "Radiography (X-ray)",
    "imaging-nuclear": "Nuclear medicine imaging",
    "imaging-ultrasound": "Diagnostic ultrasound",
    "diagnostic-testing": "Diagnostic testing",
    "electrodiagnostic-testing": "Electrodiagnostic testing (EMG/NCV)",
    "laboratory-testing": "Laboratory testing",
    "sleep-study": "Sleep study",
    "evaluation": "Evaluation and functional testing",
    "physical-therapy": "Physical therapy and physical medicine",
    "chiropractic": "Chiropractic care",
    "acupuncture": "Acupuncture",
    "injection": "Injections and nerve blocks",
    "surgery": "Surgery",
    "perioperative-care": "Perioperative care",
    "durable-medical-equipment": "Durable medical equipment",
    "medication": "Medication",
    "psychological-care": "Psychological care",
    "home-health": "Home health care",
    "transportation": "Transportation",
    "functional-restoration": "Functional restoration and work conditioning",
    "consultation": "Consultations and office visits",
    "fitness-program": "Fitness and exercise programs",
    "inpatient-care": "Inpatient and facility care",
    "other": "Other services",
}
BROADER: dict[str, str] = {
    "imaging-mri": "imaging",
    "imaging-ct": "imaging",
    "imaging-radiography": "imaging",
    "imaging-nuclear": "imaging",
    "imaging-ultrasound": "imaging",
    "electrodiagnostic-testing": "diagnostic-testing",
    "laboratory-testing": "diagnostic-testing",
    "sleep-study": "diagnostic-testing",
    "imaging": "diagnostic-testing",
}
MODALITIES = {
    "imaging-mri": "MRI",
    "imaging-ct": "CT",
    "imaging-radiography": "X-ray",
    "imaging-nuclear": "nuclear medicine",
    "imaging-ultrasound": "ultrasound",
}

_NUM = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "sixteen": 16,
    "eighteen": 18, "twenty": 20, "once": 1, "twice": 2, "single": 1,
}
_N = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|sixteen|eighteen|twenty)"
_RANGE = rf"{_N}(?:\s*(?:-|to|or)\s*{_N})?"
_PER_WEEK = re.compile(
    rf"(?:{_RANGE}\s*(?:x|times?|visits?|sessions?)|(once|twice))\s*(?:a|per|/|each)?\s*"
    rf"(?:weekly|week|wk)\b",
    re.I,
)
_WEEKS = re.compile(rf"(?:for|x|times|over)\s*{_RANGE}\s*weeks?\b|\b{_RANGE}\s*weeks?\b", re.I)
_SESSIONS = re.compile(
    rf"\b{_RANGE}\s*(?:\(\d+\)\s*)?(?:[a-z-]+\s+){{0,3}}(?:sessions?|visits?|treatments?)\b"
    rf"(?!\s*(?:a|per|/|each)?\s*week)"
    rf"|(?:sessions?|visits?)\s*(?:#|x)\s*(\d+)|#\s*(\d+)\b",
    re.I,
)

_REGIONS: tuple[tuple[str, str], ...] = (
    ("cervical spine", r"\bcervical\b|\bneck\b|\bc-?spine\b|\bc[-/]s\b"),
    ("thoracic spine", r"\bthoracic\b|\bupper back\b|\bmid[- ]back\b|\bt-?spine\b"),
    ("lumbar spine", r"\blumbar\b|\blso\b|\bl[-/]s\b|\blumbosacral\b|\blow(?:er)? back\b|\bl-?spine\b|\bl/?s[- ]spine\b|\bback\b"),
    ("head", r"\bhead\b|\bbrain\b|\bskull\b|\bface\b"),
    ("shoulder", r"\bshoulders?\b"),
    ("elbow", r"\belbows?\b"),
    ("wrist", r"\bwrists?\b"),
    ("hand", r"\bhands?\b|\bfingers?\b|\bthumb\b"),
    ("hip", r"\bhips?\b"),
    ("pelvis", r"\bpelvi[cs]\b|\bsacroiliac\b|\bsi joint\b"),
    ("knee", r"\bknees?\b"),
    ("ankle", r"\bankles?\b"),
    ("foot", r"\bfoot\b|\bfeet\b|\btoes?\b|\bheel\b"),
    ("upper extremities", r"\bupper (?:extremit|limb)"),
    ("lower extremities", r"\blower (?:extremit|limb)"),
    ("spine", r"\bspine\b"),
    ("chest", r"\bchest\b|\bribs?\b"),
    ("abdomen", r"\babdom"),
)
_REGIONS_RE = tuple((name, re.compile(p, re.I)) for name, p in _REGIONS)
_SIDE = re.compile(r"\b(right|left|bilateral|both|rt|lt)\b", re.I)


@dataclass(frozen=True)
class Frequency:
    """How often and how long: sessions per week, weeks, total sessions (ranges as min-max)."""

    per_week: tuple[int, int] | None = None
    weeks: tuple[int, int] | None = None
    sessions: tuple[int, int] | None = None

    @property
    def total(self) -> tuple[int, int] | None:
        """Total sessions: stated, or per week times weeks."""
        if self.sessions:
            return self.sessions
        if self.per_week and self.weeks:
            return (self.per_week[0] * self.weeks[0], self.per_week[1] * self.weeks[1])
        return None


@dataclass(frozen=True)
class ServiceMatch:
    """A request's place in the service category scheme plus what the request says."""

    text: str
    category: str
    confidence: float
    method: str
    modality: str | None
    regions: tuple[str, ...]
    frequency: Frequency

    @property
    def iri(self) -> str:
        """The category concept IRI."""
        return category_iri(self.category)

    @property
    def label(self) -> str:
        """The category's preferred label."""
        return CATEGORY_LABELS[self.category]


def _num(value: str | None) -> int | None:
    if value is None:
        return None
    v = value.lower()
    return int(v) if v.isdigit() else _NUM.get(v)


def _range(a: str | None, b: str | None) -> tuple[int, int] | None:
    lo = _num(a)
    if lo is None:
        return None
    hi = _num(b)
    return (lo, hi if hi is not None else lo)


_COMPACT = re.compile(r"\b(\d)\s*x\s*(\d{1,2})\b(?!\s*(?:mg|mcg|ml|g|%|/))", re.I)
_TIMES_N = re.compile(
    r"(?:\bx|\btimes)\s*(\d{1,2})\b(?!\s*(?:mg|mcg|%|weeks?|days?|months?|hours?|(?:a|per)\s+week))",
    re.I,
)


def parse_frequency(text: str) -> Frequency:
    """Sessions per week, weeks and total sessions from a request text.

    Besides the written forms ("3 times a week for 4 weeks", "12 visits") the shorthand of
    the letters is read: "2x4" is twice a week for four weeks, a trailing "x 12" twelve
    sessions.
    """
    per_week = weeks = sessions = None
    cm = _COMPACT.search(text)
    if cm and not _PER_WEEK.search(text):
        per_week = (int(cm.group(1)),) * 2
        weeks = (int(cm.group(2)),) * 2
        text = text[: cm.start()] + " " + text[cm.end() :]
    tm = _TIMES_N.search(text)
    if tm and not _SESSIONS.search(text):
        sessions = (int(tm.group(1)),) * 2
    pm = _PER_WEEK.search(text)
    if pm:
        per_week = _range(pm.group(1), pm.group(2)) or _range(pm.group(3), None)
    rest = text[: pm.start()] + " " + text[pm.end() :] if pm else text
    wm = _WEEKS.search(rest)
    if wm and weeks is None:
        weeks = _range(wm.group(1), wm.group(2)) or _range(wm.group(3), wm.group(4))
    sm = _SESSIONS.search(text)
    if sm:
        sessions = _range(sm.group(1), sm.group(2)) or _range(sm.group(3) or sm.group(4), None)
    return Frequency(per_week, weeks, sessions)


_SIDE_NAMES = {"rt": "right", "lt": "left", "both": "bilateral", "r": "right", "l": "left"}
_LIMB_ABBREV = re.compile(r"\b([rl]|b/?l)(ue|le)\b", re.I)
_LEVEL = re.compile(r"\b([CTL])\d{1,2}\s*(?:-|/|to)\s*(?:[CTLS]?\d)|\bL5\s*-\s*S1\b", re.I)


def find_regions(text: str) -> list[tuple[str, str | None]]:
    """Body regions named in a request with their side, in the order of ``_REGIONS``.

    "RUE"/"LLE" are the right upper / left lower extremity; a spinal level ("L4-5",
    "C5-C6") names its part of the spine. A region given once with two sides is
    "bilateral".
    """
    found: dict[str, str | None] = {}
    low = text.lower()
    for name, pattern in _REGIONS_RE:
        for m in pattern.finditer(low):
            if name == "spine" and any(r.endswith("spine") for r in found):
                continue
            if name == "lumbar spine" and m.group(0) == "back" and any(
                r.endswith("spine") for r in found
            ):
                continue
            window = low[max(0, m.start() - 14) : m.start()]
            sides = _SIDE.findall(window)
            side = _SIDE_NAMES.get(sides[-1].lower(), sides[-1].lower()) if sides else None
            if name in found and side and found[name] and found[name] != side:
                found[name] = "bilateral"
            elif name not in found or found[name] is None:
                found[name] = side
    for m in _LIMB_ABBREV.finditer(text):
        name = "upper extremities" if m.group(2).lower() == "ue" else "lower extremities"
        s = m.group(1).lower()
        found.setdefault(name, "bilateral" if s.startswith("b") else _SIDE_NAMES[s])
    for m in _LEVEL.finditer(text):
        letter = (m.group(1) or "L").upper()
        found.setdefault({"C": "cervical spine", "T": "thoracic spine"}.get(letter, "lumbar spine"),
                         None)
    order = {name: i for i, (name, _p) in enumerate(_REGIONS)}
    return sorted(found.items(), key=lambda kv: order[kv[0]])


def parse_regions(text: str) -> tuple[str, ...]:
    """Body regions named in a request, with the side when one is given ("right knee")."""
    return tuple(f"{side} {name}" if side else name for name, side in find_regions(text))


_ASSOCIATED = re.compile(r"^\s*(?:associated surgical services?|labs? to include)\s*:\s*", re.I)
# Categories whose requests count sessions or visits (elsewhere "#12" is a quantity).
SESSION_CATEGORIES = frozenset(
    {"physical-therapy", "chiropractic", "acupuncture", "psychological-care", "home-health",
     "functional-restoration", "consultation", "injection", "fitness-program"}
)


def service_category(text: str) -> tuple[str, float, str]:
    """(category, confidence, method) of one request: the ordered rules, then a drug name."""
    body = re.sub(r"\s+", " ", text).strip()
    associated = bool(_ASSOCIATED.match(body))
    core = _ASSOCIATED.sub("", body)
    category, confidence, method = "other", 0.3, "default"
    for cat, pattern in _RULES_RE:
        if pattern.search(core):
            category, confidence, method = cat, 0.9, "keyword-rule"
            break
    if category == "other" and associated:
        category, confidence, method = "perioperative-care", 0.8, "keyword-rule"
    if category in ("other", "durable-medical-equipment", "physical-therapy", "surgery") and \
            looks_like_medication(core) and not _DEVICE.search(core):
        category, confidence, method = "medication", 0.95, "drug-name"
    return category, confidence, method


_DEVICE = re.compile(r"\bunit\b|\bdevice\b", re.I)


def classify_service(text: str) -> ServiceMatch:
    """Place one request in the service category scheme; every request gets a category."""
    body = re.sub(r"\s+", " ", text).strip()
    core = _ASSOCIATED.sub("", body)
    freq = parse_frequency(core)
    regions = parse_regions(core)
    category, confidence, method = service_category(body)
    if category not in SESSION_CATEGORIES and freq.sessions:
        freq = Frequency(freq.per_week, freq.weeks, None)
    return ServiceMatch(body, category, confidence, method, MODALITIES.get(category), regions,
                        freq)
