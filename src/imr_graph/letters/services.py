"""Reading a disputed request into a structured service: one concept, whatever the wording.

"MRI of the lumbar spine", "MRI Lumbosacral Spine without Contrast" and "Open MRI of the
lumbosacral spine" are one service; "Norco 10/325mg #60" and "Hydrocodone/APAP 10/325" are
one drug. :func:`read_service` reads a request into a :class:`~imr_graph.records.Service`:
the canonical concept (a stable id such as ``imaging-mri/lumbar-spine`` or
``medication/acetaminophen+hydrocodone/oral``), its label, its kind and category, and what
the wording adds (side, sessions, frequency, duration, quantity, strength, refills, date of
service, contrast, "additional/trial/post-op" ...), which never makes another concept.

The rules per kind (written down in docs/record.md, "Service concepts"):

* drug: the active ingredients (sorted) and the route (oral, topical, transdermal,
  injection); brands, generics and compounded products by their ingredients (alias table
  ``data/drugs.tsv``); a drug class named instead of a drug is ``medication/class/<class>``;
* imaging and electrodiagnostic tests: modality (MRI, CT, X-ray, bone scan, ultrasound;
  EMG/NCV, EMG, NCV, SSEP) and body regions, without the side;
* therapy (physical, occupational, chiropractic, acupuncture, a physical modality,
  psychological care ...): the therapy alone: body region and amounts are attributes;
* injections and surgery: the procedure and the body regions, except procedures that name
  their region themselves (rotator cuff repair, carpal tunnel release ...);
* durable medical equipment: the device; orthoses, wraps, pads and pillows keep the region;
* evaluations, consultations, labs, perioperative care, home health, inpatient care: the
  test, visit or service named (a chiropractic evaluation is an evaluation, not therapy).

Everything else falls back to its category and the request's content words (amounts,
sides, modifiers and stop words removed, sorted), so another wording of the same words
meets the same concept. Part of the parsing stage: plain strings in, record values out.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from functools import lru_cache

from ..linking.drugs import match_drug, parse_medication
from ..linking.services import (
    CATEGORY_LABELS,
    SESSION_CATEGORIES,
    find_regions,
    parse_frequency,
    service_category,
)
from ..records import Service

KINDS: dict[str, str] = {
    "medication": "drug",
    "imaging-mri": "imaging", "imaging-ct": "imaging", "imaging-radiography": "imaging",
    "imaging-nuclear": "imaging", "imaging-ultrasound": "imaging", "imaging": "imaging",
    "laboratory-testing": "lab", "electrodiagnostic-testing": "lab",
    "diagnostic-testing": "lab", "sleep-study": "lab",
    "physical-therapy": "therapy", "chiropractic": "therapy", "acupuncture": "therapy",
    "psychological-care": "therapy", "functional-restoration": "therapy",
    "fitness-program": "therapy", "home-health": "therapy",
    "injection": "procedure",
    "surgery": "surgery", "perioperative-care": "surgery",
    "durable-medical-equipment": "dme",
    "consultation": "evaluation", "evaluation": "evaluation",
    "inpatient-care": "other", "transportation": "other", "other": "other",
}
"""Service category (``ontology/services.ttl``) -> kind."""

KIND_LABELS: dict[str, str] = {
    "drug": "Drugs", "imaging": "Imaging", "lab": "Laboratory and diagnostic tests",
    "therapy": "Therapies", "procedure": "Procedures and injections", "surgery": "Surgery",
    "dme": "Durable medical equipment", "evaluation": "Consultations and evaluations",
    "other": "Other services",
}

# (concept part, label, pattern): first match wins within a category.
_Sub = tuple[tuple[str, str, str], ...]
_SUBTYPES: dict[str, _Sub] = {
    "electrodiagnostic-testing": (
        ("emg-ncv", "EMG/NCV", r"\b(?:emg|electromyogra\w*)\b.*\b(?:ncv|ncs|nerve conduction)|\b(?:ncv|ncs|nerve conduction)\b.*\b(?:emg|electromyogra)"),
        ("emg", "EMG", r"\bemg\b|\belectromyogra"),
        ("ncv", "Nerve conduction study", r"\bncv\b|\bncs\b|\bnerve conduction"),
        ("ssep", "Somatosensory evoked potentials", r"\bssep|\bsomatosensory"),
    ),
    "laboratory-testing": (
        ("urine-drug-test", "Urine drug test", r"\burine (?:drug|tox)|\bdrug (?:screen|test)|\btoxicology|\buds\b"),
        ("coagulation-panel", "Coagulation panel (PT/PTT)", r"\bpt\s*/\s*ptt\b|\bptt\b|\bpt/inr\b|\binr\b|\bprothrombin"),
        ("complete-blood-count", "Complete blood count", r"\bcbc\b|\bcomplete blood count"),
        ("chemistry-panel", "Chemistry panel", r"\bcmp\b|\bbmp\b|\bchem(?:istry)?(?:\s*\d+)?\s*panel|\bmetabolic panel|\bchem\s*\d+"),
        ("urinalysis", "Urinalysis", r"\bua\b|\burinalysis"),
        ("genetic-test", "Genetic test", r"\bgenetic|\bpharmacogen|\bcyp450"),
        ("hemoglobin-a1c", "Hemoglobin A1c", r"\ba1c\b"),
    ),
    "diagnostic-testing": (
        ("ecg", "Electrocardiogram (ECG)", r"\bekg\b|\becg\b|\belectrocardiogra"),
        ("eeg", "Electroencephalogram (EEG)", r"\beeg\b|\belectroencephalogra"),
        ("grip-strength-test", "Grip strength test", r"\bgrip\b|\bjamar"),
        ("range-of-motion-test", "Range of motion test", r"\brange of motion"),
    ),
    "physical-therapy": (
        ("physical-therapy", "Physical therapy", r"\bphysical therap|\bphysiotherap|\bpt\b|\bphysical medicine"),
        ("occupational-therapy", "Occupational therapy", r"\boccupational therap|\bot\b|\bhand therap"),
        ("aquatic-therapy", "Aquatic therapy", r"\baquatic|\bpool therap|\bwater therap"),
        ("infrared-therapy", "Infrared therapy", r"\binfrared"),
        ("electrical-stimulation", "Electrical stimulation", r"\belectrical (?:muscle )?stimulation|\be-?stim\b|\bems\b"),
        ("therapeutic-ultrasound", "Therapeutic ultrasound", r"\bultrasound"),
        ("shockwave-therapy", "Shockwave therapy", r"\bshock ?wave|\beswt\b"),
        ("manual-therapy", "Manual therapy", r"\bmanual therap"),
        ("myofascial-release", "Myofascial release", r"\bmyofascial"),
        ("massage-therapy", "Massage therapy", r"\bmassage"),
        ("therapeutic-exercise", "Therapeutic exercise", r"\btherapeutic exercise|\bhome exercise"),
        ("traction", "Traction", r"\btraction"),
        ("hot-cold-therapy", "Hot/cold therapy", r"\bhot/cold"),
    ),
    "psychological-care": (
        ("biofeedback", "Biofeedback", r"\bbiofeedback"),
        ("psychological-testing", "Psychological testing", r"\btest"),
        ("cognitive-behavioral-therapy", "Cognitive behavioural therapy", r"\bcognitive|\bcbt\b"),
        ("psychological-evaluation", "Psychological evaluation", r"\bevaluat|\bconsult|\bassessment"),
        ("psychotherapy", "Psychotherapy", r"\bpsychotherap|\bcounsel|\bsessions?\b|\btreatment|\bvisits?\b"),
    ),
    "functional-restoration": (
        ("work-conditioning", "Work hardening / conditioning", r"\bwork (?:hardening|conditioning)"),
        ("functional-restoration-program", "Functional restoration program", r"."),
    ),
    "injection": (
        ("epidural-steroid-injection", "Epidural steroid injection", r"\bepidural|\besi\b|\btransforaminal"),
        ("radiofrequency-ablation", "Radiofrequency ablation", r"\bradiofrequency|\brhizotomy|\bablation|\brfa\b"),
        ("medial-branch-block", "Medial branch block", r"\bmedial branch"),
        ("facet-injection", "Facet joint injection", r"\bfacet"),
        ("sacroiliac-joint-injection", "Sacroiliac joint injection", r"\bsacroiliac|\bsi joint"),
        ("prp-injection", "Platelet-rich plasma injection", r"\bprp\b|\bplatelet"),
        ("trigger-point-injection", "Trigger point injection", r"\btrigger point"),
        ("viscosupplementation", "Viscosupplementation", r"\bviscosupplement|\bsynvisc|\bhyalur|\beuflexxa|\borthovisc|\bsupartz|\bgel-?one|\bmonovisc"),
        ("botulinum-toxin-injection", "Botulinum toxin injection", r"\bbotox|\bbotulinum"),
        ("nerve-block", "Nerve block", r"\bblock"),
        ("steroid-injection", "Steroid injection", r"."),
    ),
    "surgery": (
        ("rotator-cuff-repair", "Rotator cuff repair", r"\brotator cuff|\brcr\b"),
        ("bankart-repair", "Bankart repair", r"\bbankart"),
        ("slap-repair", "SLAP repair", r"\bslap\b|\bsuperior labr"),
        ("carpal-tunnel-release", "Carpal tunnel release", r"\bcarpal tunnel|\bctr\b"),
        ("cubital-tunnel-release", "Cubital tunnel release", r"\bcubital tunnel|\bulnar nerve transposition"),
        ("trigger-finger-release", "Trigger finger release", r"\btrigger (?:finger|thumb)"),
        ("de-quervain-release", "De Quervain release", r"\bde ?quervain"),
        ("meniscus-surgery", "Meniscus surgery", r"\bmenisc"),
        ("acl-reconstruction", "ACL reconstruction", r"\bacl\b|\banterior cruciate"),
        ("spinal-cord-stimulator", "Spinal cord stimulator", r"\bspinal cord stimulat|\bscs\b|\bdorsal column"),
        ("intrathecal-pump-refill", "Intrathecal pump refill", r"\bpump\b.*\b(?:refill|reprogram)|\b(?:refill|reprogram)\w*\b.*\bpump\b"),
        ("intrathecal-pump", "Intrathecal pump", r"\bpump\b|\bintrathecal"),
        ("arthroplasty", "Joint replacement", r"\barthroplasty|\breplacement\b"),
        ("spinal-fusion", "Fusion", r"\bfusion|\barthrodesis"),
        ("discectomy", "Discectomy", r"\bdiscectomy|\bdiskectomy"),
        ("laminectomy", "Laminectomy / foraminotomy", r"\blaminectomy|\blaminotomy|\bforaminotomy|\bhemilaminectomy"),
        ("hardware-removal", "Hardware removal", r"\bhardware|\bremoval of (?:plate|screw)"),
        ("orif", "Open reduction internal fixation", r"\borif\b|\bopen reduction"),
        ("hernia-repair", "Hernia repair", r"\bhernia"),
        ("subacromial-decompression", "Subacromial decompression", r"\bsubacromial|\bacromioplasty"),
        ("decompression", "Decompression", r"\bdecompression"),
        ("arthroscopy", "Arthroscopy", r"\barthroscop"),
        ("debridement", "Debridement", r"\bdebridement"),
        ("release", "Release", r"\brelease"),
        ("repair", "Repair", r"\brepair"),
    ),
    "perioperative-care": (
        ("medical-clearance", "Preoperative medical clearance", r"\bclearance"),
        ("assistant-surgeon", "Assistant surgeon", r"\bassistant surgeon"),
        ("preoperative-evaluation", "Preoperative evaluation", r"\bevaluation|\bconsult"),
    ),
    "durable-medical-equipment": (
        ("tens-unit", "TENS unit", r"\btens\b"),
        ("interferential-unit", "Interferential stimulator", r"\binterferential"),
        ("electrical-stimulation-unit", "Electrical muscle stimulator", r"\bems\b|\bnmes\b|\bmuscle stimulat"),
        ("hot-cold-therapy-unit", "Hot/cold therapy unit", r"\bhot/cold|\bhot and cold|\bheat/cold"),
        ("heat-therapy", "Heat therapy", r"\bheat(?:ing)? (?:therapy|pad|wrap|unit)|\bheat\b"),
        ("cold-therapy-unit", "Cold therapy unit", r"\bcold\b|\bcryo|\bice\b|\bvascutherm|\bgame ?ready|\bpolar ?care|\bthermo ?cool|\bcool(?:ing)? unit"),
        ("continuous-passive-motion", "Continuous passive motion device", r"\bcpm\b|\bcontinuous passive motion"),
        ("sling", "Sling", r"sling\b"),
        ("orthosis", "Brace / orthosis", r"\bbraces?\b|\bsupport\b|\bsplints?\b|\borthosis|\bimmobilizer|\bcollar\b|\bcorset|\blso\b|\bbelt\b"),
        ("foot-orthotics", "Foot orthotics", r"\borthotics?\b|\binsoles?\b|\bshoe inserts?"),
        ("compression-garment", "Compression garment", r"\bcompression (?:garment|stocking|sleeve|hose)"),
        ("wheelchair", "Wheelchair", r"\bwheel ?chair"),
        ("scooter", "Scooter", r"\bscooter"),
        ("walker", "Walker", r"\bwalker|\brollator"),
        ("cane", "Cane", r"\bcane\b"),
        ("crutches", "Crutches", r"\bcrutch"),
        ("commode", "Commode", r"\bcommode"),
        ("toilet-seat", "Raised toilet seat", r"\btoilet|\braised seat"),
        ("shower-chair", "Shower chair", r"\bshower|\bbath\b"),
        ("hospital-bed", "Hospital bed", r"\bbed\b"),
        ("mattress", "Mattress", r"\bmattress"),
        ("hearing-aid", "Hearing aid", r"\bhearing aid"),
        ("ergonomic-workstation", "Ergonomic workstation", r"\bworkstation|\bdesk\b|\bergonomic"),
        ("pillow", "Pillow", r"\bpillow"),
        ("wrap", "Wrap", r"\bwraps?\b"),
        ("pad", "Pad", r"\bpads?\b"),
    ),
    "consultation": (
        ("medication-management", "Medication management", r"\bmedication management"),
        ("office-visit", "Office visit", r"\bfollow[- ]?ups?\b|\boffice visit|\bvisits?\b"),
    ),
    "evaluation": (
        ("functional-capacity-evaluation", "Functional capacity evaluation", r"\bfunctional capacity|\bfce\b"),
        ("range-of-motion-test", "Range of motion test", r"\brange of motion"),
        ("muscle-test", "Muscle test", r"\bmuscle test"),
        ("grip-strength-test", "Grip strength test", r"\bgrip\b|\bjamar"),
    ),
    "home-health": (
        ("home-nursing", "Home nursing", r"\brn\b|\blvn\b|\bnurs"),
        ("home-health-aide", "Home health aide", r"\baide\b|\bhomemaker|\bcaregiver|\battendant|\bassist"),
    ),
    "inpatient-care": (
        ("inpatient-rehabilitation", "Inpatient rehabilitation", r"\brehab"),
        ("partial-hospitalization", "Partial hospitalization", r"\bpartial hospital|\bday treatment"),
        ("skilled-nursing-facility", "Skilled nursing facility", r"\bskilled nursing"),
        ("detoxification", "Detoxification", r"\bdetox"),
        ("hospitalization", "Hospitalization", r"."),
    ),
    "fitness-program": (
        ("gym-membership", "Gym membership", r"\bgym\b|\bmembership|\bfitness"),
        ("weight-loss-program", "Weight loss program", r"\bweight loss"),
        ("personal-training", "Personal training", r"\bpersonal train"),
    ),
    "sleep-study": (("sleep-study", "Sleep study", r"."),),
    "transportation": (("transportation", "Transportation", r"."),),
    "acupuncture": (("acupuncture", "Acupuncture", r"."),),
    "chiropractic": (("chiropractic", "Chiropractic care", r"."),),
}
_SUBTYPES_RE = {cat: tuple((part, label, re.compile(p, re.I)) for part, label, p in subs)
                for cat, subs in _SUBTYPES.items()}
# Procedures that name their region themselves: the region is an attribute, not the concept.
_OWN_REGION = frozenset({
    "rotator-cuff-repair", "bankart-repair", "slap-repair", "carpal-tunnel-release",
    "cubital-tunnel-release", "trigger-finger-release", "de-quervain-release",
    "meniscus-surgery", "acl-reconstruction", "subacromial-decompression",
    "spinal-cord-stimulator", "intrathecal-pump", "intrathecal-pump-refill", "sling",
})
# Kinds and categories whose concept keeps the body region.
_REGION_KINDS = frozenset({"imaging", "procedure", "surgery"})
_REGION_CATEGORIES = frozenset({"electrodiagnostic-testing"})
_REGION_DEVICES = frozenset({"orthosis", "wrap", "pad", "pillow"})
_MODALITY = {
    "imaging-mri": ("MRI", None), "imaging-ct": ("CT", None),
    "imaging-radiography": ("X-ray", None), "imaging-ultrasound": ("Ultrasound", None),
}
_NUCLEAR = (("bone-scan", "Bone scan", re.compile(r"\bbone scan|\bscintigra", re.I)),
            ("pet", "PET scan", re.compile(r"\bpet\b", re.I)),
            ("dexa", "Bone density scan (DEXA)", re.compile(r"\bdexa\b|\bdxa\b|\bbone density", re.I)))
_EVALUATION = re.compile(
    r"\b(?:evaluation|eval|re-?exam(?:ination)?|exam(?:ination)?|consult(?:ation)?|assessment"
    r"|referral)\b", re.I)
_TREAT = re.compile(r"\btreat(?:ment|ments|ing)?\b", re.I)  # "evaluation and treatment"
_SPECIALTIES: tuple[tuple[str, str, str], ...] = (
    ("chiropractic", "chiropractic", r"\bchiro"),
    ("physical-therapy", "physical therapy", r"\bphysical therap|\bpt\b"),
    ("occupational-therapy", "occupational therapy", r"\boccupational"),
    ("psychology", "psychology", r"\bpsycholog"),
    ("psychiatry", "psychiatry", r"\bpsychiatr"),
    ("pain-management", "pain management", r"\bpain (?:management|medicine|specialist|interventionist)"),
    ("orthopedics", "orthopedics", r"\borthop(?:a)?edic|\bortho\b"),
    ("spine-surgery", "spine surgery", r"\bspine surg|\bspinal surg"),
    ("hand-surgery", "hand surgery", r"\bhand surg"),
    ("neurosurgery", "neurosurgery", r"\bneurosurg"),
    ("neurology", "neurology", r"\bneurolog"),
    ("physiatry", "physiatry", r"\bphysiatr|\bpm&r\b|\bphysical medicine and rehab"),
    ("podiatry", "podiatry", r"\bpodiatr"),
    ("rheumatology", "rheumatology", r"\brheumatolog"),
    ("internal-medicine", "internal medicine", r"\binternal medicine|\binternist"),
    ("gastroenterology", "gastroenterology", r"\bgastroenterolog|\bgi\b"),
    ("cardiology", "cardiology", r"\bcardiolog"),
    ("dentistry", "dentistry", r"\bdent(?:al|ist)"),
    ("ophthalmology", "ophthalmology", r"\bophthalm|\beye\b"),
    ("otolaryngology", "otolaryngology", r"\bent\b|\botolaryng"),
    ("sleep-medicine", "sleep medicine", r"\bsleep"),
    ("surgery", "surgery", r"\bsurg"),
)
_SPECIALTIES_RE = tuple((part, label, re.compile(p, re.I)) for part, label, p in _SPECIALTIES)

# ---------------------------------------------------------------------------------------
# Amounts and modifiers

_NUMWORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "eighteen": 18, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
    "single": 1, "a": 1, "an": 1,
}
_NW = r"(\d+|" + "|".join(k for k in _NUMWORDS if len(k) > 2) + r")"
_DAYS = re.compile(rf"(?<![#\d]){_NW}(?:\s*(?:-|to)\s*{_NW})?[- ]?days?\b", re.I)
_MONTHS = re.compile(rf"{_NW}(?:\s*(?:-|to)\s*{_NW})?[- ]?months?\b", re.I)
_REFILLS = re.compile(rf"{_NW}\s+refills?\b|\brefills?\s*(?:x|:|#)?\s*(\d+)", re.I)
_QTY = re.compile(r"#\s*(\d+)|\bqty\.?:?\s*(\d+)|\bquantity:?\s*(\d+)|\b(?:times|x)\s*(\d+)\s*$",
                  re.I)
_CONTRAST = re.compile(
    r"\b(with(?:out)?|w/o|w/)\s+(?:(?:iv|gadolinium)\s+)?(?:contrast|dye|gadolinium)"
    r"|\b(non-?contrast)|\bcontrast[- ]enhanced", re.I)
_DOS = re.compile(
    r"\b(?:dos|date of service|dates? of service|retro(?:spective)?|rendered|provided)\b"
    r"[^0-9]{0,30}(\d{1,2})/(\d{1,2})/(\d{2,4})", re.I)
_MODIFIERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(p, re.I)) for name, p in (
        ("continuation", r"\bcontinu(?:e|ed|ation|ing)\b"),
        ("additional", r"\badditional\b|\bmore\b|\bextra\b"),
        ("trial", r"\btrials?\b"),
        ("initial", r"\binitial\b"),
        ("pre-operative", r"\bpre-?op(?:erative)?\b"),
        ("post-operative", r"\bpost-?op(?:erative)?\b"),
        ("retrospective", r"\bretro(?:spective)?\b"),
        ("purchase", r"\bpurchase\b"),
        ("rental", r"\brent(?:al)?\b"),
        ("associated surgical service", r"\bassociated surgical services?\b"),
        ("open scanner", r"\bopen\s+mri\b"),
        ("positional", r"\b(?:positional|upright|standing|weight[- ]bearing)\b"),
        ("metal artifact reduction", r"\bmars\b"),
        ("custom", r"\bcustom\b"),
        ("image guidance", r"\b(?:ultrasound|fluoroscop\w*|ct|image)[- ]guid"),
    )
)
_FALLBACK_STOP = frozenset({
    "a", "an", "and", "or", "of", "the", "to", "for", "with", "without", "in", "on", "at",
    "by", "as", "per", "from", "x", "times", "time", "week", "weeks", "weekly", "day",
    "days", "daily", "month", "months", "session", "sessions", "visit", "visits",
    "treatment", "treatments", "unknown", "unspecified", "quantity", "qty", "right", "left",
    "bilateral", "both", "rt", "lt", "additional", "continue", "continued", "continuation",
    "trial", "initial", "pre", "post", "op", "operative", "preoperative", "postoperative",
    "retro", "retrospective", "purchase", "rental", "rent", "associated", "surgical",
    "service", "services", "contrast", "dye", "each", "one", "two", "three", "four", "five",
    "six", "seven", "eight", "nine", "ten", "twelve", "twice", "once", "request",
    "requested", "use", "using", "custom", "new", "follow", "vs",
})


def _num(v: str | None) -> int | None:
    if v is None:
        return None
    return int(v) if v.isdigit() else _NUMWORDS.get(v.lower())


def _span_range(m: re.Match[str] | None, a: int = 1, b: int = 2) -> list[int] | None:
    if m is None:
        return None
    lo, hi = _num(m.group(a)), _num(m.group(b))
    if lo is None:
        return None
    return [lo, hi if hi is not None else lo]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _fallback_words(text: str) -> list[str]:
    """Content words of a request: amounts, sides, modifiers and stop words removed."""
    words = []
    for w in re.findall(r"[a-z][a-z'/-]*", text.lower()):
        w = _slug(w.replace("'", ""))
        if not w or w in _FALLBACK_STOP or len(w) < 2:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "is", "us")):
            w = w[:-1]
        words.append(w)
    return sorted(dict.fromkeys(words))[:6]


def _date(m: re.Match[str] | None) -> str | None:
    if m is None:
        return None
    month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if year < 100:
        year += 2000
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


_SIDE_WORD = re.compile(r"\b(right|left|rt|lt)\b", re.I)


def _side(regions: list[tuple[str, str | None]], text: str) -> str | None:
    sides = {s for _r, s in regions if s}
    if re.search(r"\bbilateral|\bboth\b", text, re.I):
        sides.add("bilateral")
    if not sides:  # "Knee brace, left": a side away from its region
        sides = {{"rt": "right", "lt": "left"}.get(w.lower(), w.lower())
                 for w in _SIDE_WORD.findall(text)}
    if not sides:
        return None
    return sides.pop() if len(sides) == 1 else "bilateral"


def _region_part(regions: list[str]) -> str:
    return "+".join(_slug(r.replace("extremities", "extremity")) for r in regions)


def _region_label(regions: list[str]) -> str:
    return " and ".join(r.replace("extremities", "extremity") for r in regions)


# ---------------------------------------------------------------------------------------
# The concept


def _subtype(category: str, core: str) -> tuple[str, str] | None:
    for part, label, pattern in _SUBTYPES_RE.get(category, ()):
        if pattern.search(core):
            return part, label
    return None


def _specialty(core: str) -> tuple[str, str] | None:
    for part, label, pattern in _SPECIALTIES_RE:
        if pattern.search(core):
            return part, label
    return None


def _concept(category: str, core: str, regions: list[str]) -> tuple[str, str, str]:
    """(category, concept id, label) of a non-drug request."""
    evaluation = _EVALUATION.search(core) and not _TREAT.search(core)
    if evaluation and category in ("chiropractic", "physical-therapy", "acupuncture",
                                   "psychological-care", "consultation", "evaluation"):
        spec = _specialty(core)
        if spec and category != "psychological-care":
            kind_cat = "evaluation" if category != "consultation" else "consultation"
            word = "evaluation" if kind_cat == "evaluation" else "consultation"
            return kind_cat, f"{kind_cat}/{spec[0]}", f"{spec[1].capitalize()} {word}"
    if category == "consultation":
        sub = _subtype(category, core)
        if sub is None:
            spec = _specialty(core)
            if spec:
                return category, f"{category}/{spec[0]}", f"{spec[1].capitalize()} consultation"
    elif category in _MODALITY or category == "imaging-nuclear":
        name = _MODALITY[category][0] if category in _MODALITY else None
        sub_part = None
        if name is None:
            for part, label, pattern in _NUCLEAR:
                if pattern.search(core):
                    sub_part, name = part, label
                    break
            name = name or "Nuclear medicine imaging"
        base = f"{category}/{sub_part}" if sub_part else category
        if regions:
            return category, f"{base}/{_region_part(regions)}", f"{name} of the {_region_label(regions)}"
        # no region named: still '<category>/<what>' (the concept id's documented form)
        return category, base if sub_part else f"{base}/unspecified-region", name
    else:
        sub = _subtype(category, core)
    if sub is None:
        words = _fallback_words(core)
        part = "-".join(words) if words else "unspecified"
        label = " ".join(words).capitalize() if words else CATEGORY_LABELS[category]
        return category, f"{category}/{part}", label
    part, label = sub
    keeps_region = (KINDS[category] in _REGION_KINDS or category in _REGION_CATEGORIES
                    or part in _REGION_DEVICES) and part not in _OWN_REGION
    if keeps_region and regions:
        return (category, f"{category}/{part}/{_region_part(regions)}",
                f"{label}, {_region_label(regions)}")
    return category, f"{category}/{part}", label


def _drug_concept(core: str) -> tuple[str, str, dict[str, object]] | None:
    """(concept id, label, drug attributes) of a medication request, None for no drug."""
    m = match_drug(core, external=False)
    if m.generic is not None:
        ingredients = list(m.ingredients)
        route = m.route or "oral"
        label = f"{' + '.join(ingredients)} ({route})"
        return (f"medication/{'+'.join(_slug(i) for i in ingredients)}/{route}", label,
                {"ingredients": ingredients, "route": route, "drug_classes": list(m.classes)})
    if m.drug_class is not None:
        return (f"medication/class/{_slug(m.drug_class)}", f"{m.drug_class} (drug class)",
                {"drug_classes": [m.drug_class]})
    return None


_PLAIN_INJECTION = ("steroid-injection", "Steroid injection")
_LAB_PREFIX = re.compile(r"^\s*(?:pre-?op(?:erative)?\s+)?labs?\s*(?::|-|to include:?)\s*",
                         re.I)
_ASSOCIATED = re.compile(r"^\s*associated surgical services?\s*:\s*", re.I)


def service_concept(text: str) -> str:
    """A service concept id for ``text``: an id as given (``imaging-mri/lumbar-spine``),
    else the concept its words are read as ("lumbar MRI" -> ``imaging-mri/lumbar-spine``),
    else the words themselves (which then name no concept)."""
    text = text.strip()
    if "/" in text and " " not in text:
        return text.lower()
    return read_service(text).concept or text


def read_service(text: str) -> Service:
    """Read one request into its service concept and attributes (every request gets one)."""
    return _fresh(_read_service(re.sub(r"\s+", " ", text).strip()))


def _fresh(service: Service) -> Service:
    """A copy of a cached reading that its caller may change (lists copied)."""
    return replace(service, **{f.name: list(getattr(service, f.name)) for f in fields(service)
                               if isinstance(getattr(service, f.name), list)})


@lru_cache(maxsize=4096)
def _read_service(body: str) -> Service:
    """:func:`read_service` of a whitespace-normalised request (cached: wordings repeat)."""
    core = _ASSOCIATED.sub("", body)
    category = service_category(body)[0]
    lab = _LAB_PREFIX.match(core)
    if lab and category == "laboratory-testing":
        rest = core[lab.end():]
        other = service_category(rest)[0]
        if other not in ("other", "physical-therapy", "laboratory-testing"):
            category, core = other, rest
    if category == "evaluation" and _TREAT.search(core):  # "PT evaluation and treatment"
        other = service_category(_EVALUATION.sub(" ", core))[0]
        category = other if other not in ("other", "evaluation") else category
    found = find_regions(core)
    drug = None
    if category == "medication" or (category == "injection" and not found
                                    and _subtype(category, core) == _PLAIN_INJECTION):
        drug = _drug_concept(core)  # "Toradol 60mg IM injection" is a drug
        if drug is not None:
            category = "medication"
    if category == "medication":
        return _service(body, core, "medication", found, drug)
    category, concept, label = _concept(category, core, [r for r, _s in found])
    return _service(body, core, category, found, (concept, label, {}))


def read_medication(text: str) -> Service:
    """Read a medication named in the case summary ("Flexeril 5 mg", "Norco 10-325mg twice
    daily", "NSAIDs") with the same reader as a request: always a drug (or drug class)."""
    return _fresh(_read_medication(re.sub(r"\s+", " ", text).strip()))


@lru_cache(maxsize=1024)
def _read_medication(body: str) -> Service:
    return _service(body, body, "medication", find_regions(body), _drug_concept(body))


def _service(body: str, core: str, category: str, found: list[tuple[str, str | None]],
             concept: tuple[str, str, dict[str, object]] | None) -> Service:
    """The service record: the concept plus what the wording adds."""
    if concept is None:  # a medication no table names: its own words
        words = _fallback_words(parse_medication(core).name) or ["unspecified"]
        concept = (f"medication/{'-'.join(words)}", " ".join(words).capitalize(), {})
    concept_id, label, attrs = concept
    freq = parse_frequency(core)
    kind = KINDS[category]
    service = Service(
        concept=concept_id,
        label=label,
        kind=kind,
        category=category,
        regions=[r for r, _s in found],
        side=_side(found, core),
        sessions=list(freq.total) if freq.total and category in SESSION_CATEGORIES else None,
        per_week=list(freq.per_week) if freq.per_week else None,
        weeks=list(freq.weeks) if freq.weeks else None,
        days=_span_range(_DAYS.search(core)),
        months=_span_range(_MONTHS.search(core)),
        refills=_refills(core),
        date_of_service=_date(_DOS.search(core)),
        contrast=_contrast(core),
        modifiers=[name for name, p in _MODIFIERS if p.search(body)],
        **attrs,  # type: ignore[arg-type]
    )
    if kind == "drug":
        med = parse_medication(core)
        service.strength = list(med.strengths)
        service.form = med.form
        service.release = med.release
        service.quantity = med.quantity
    else:
        q = _QTY.search(core)
        service.quantity = int(next(g for g in q.groups() if g)) if q else None
    return service


def _refills(core: str) -> int | None:
    m = _REFILLS.search(core)
    if m is None:
        return None
    return _num(m.group(1)) if m.group(1) else _num(m.group(2))


def _contrast(core: str) -> str | None:
    m = _CONTRAST.search(core)
    if m is None:
        return None
    word = (m.group(1) or m.group(2) or "with").lower()
    return "without" if word in ("without", "w/o") or word.startswith("non") else "with"
