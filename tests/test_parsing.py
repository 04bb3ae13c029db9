"""Parser tests: golden records, the three input forms, invariants over the corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from imr_graph.errors import NotALetterError, ParseError, UnsupportedLayoutError
from imr_graph.letters.parsing import parse_date, parse_file, parse_text
from imr_graph.letters.reading import document_from_bytes, read_document
from imr_graph.records import Record

from .conftest import REPO, corpus_pdfs, example_letters
from .letter_forms import rewrap, to_markdown, without_spans


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@pytest.mark.parametrize("letter", example_letters(), ids=lambda p: p.name)
def test_example_matches_golden_record(letter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    golden = json.loads(letter.with_suffix(".json").read_text(encoding="utf-8"))
    assert parse_file(_rel(letter)).to_dict() == golden


@pytest.mark.parametrize("letter", example_letters(), ids=lambda p: p.name)
def test_record_round_trips_through_dict(letter: Path) -> None:
    record = parse_file(letter)
    assert Record.from_dict(record.to_dict()) == record


def test_seed_markdown_letter_fields() -> None:
    record = parse_file(example_letters()[0])
    assert record.source.format == "markdown"
    assert record.case_number == "CM15-0171547"
    assert (record.date_of_injury, record.ur_denial_date) == ("2000-06-27", "2015-08-05")
    assert (record.date_assigned, record.decision_date) == ("2015-09-11", "2015-10-13")
    assert record.reviewer.licensure == ["Connecticut", "California", "Virginia"]
    assert record.worker.age == 58 and record.worker.sex == "female"
    assert "chronic pain syndrome" in record.diagnoses
    assert "Norco" in record.medications and "Flector patch" in record.medications
    [item] = record.items
    assert item.request == "IT Pain Pump Trial" and item.outcome == "Upheld"
    assert item.reviewer_guideline is not None
    assert item.reviewer_guideline.mtus_titles == ["Chronic Pain Medical Treatment 2009"]
    assert "Implantable drug-delivery systems (IDDSs)" in item.reviewer_guideline.sections


def test_seed_text_letter_has_no_header_and_says_so() -> None:
    record = parse_file(example_letters()[1])
    assert record.source.format == "text"
    assert record.case_number is None and record.decision_date is None  # not guessed
    assert record.case_key.startswith("sha256-")
    [item] = record.items
    assert item.request == "Pump refill and reprogramming every 60 days"
    cite = item.claims_admin_guideline.citations[0]  # type: ignore[union-attr]
    assert (cite.family, cite.pages) == ("MTUS", ["52-54"])
    authors = [r.author for r in item.rationale_references if r.kind == "literature"]
    assert authors == ["Angel", "Kumar", "Hassenbusch", "Boswell"]


def test_spans_point_at_the_text_they_describe() -> None:
    for letter in example_letters():
        doc = read_document(letter)
        record = parse_text(doc.text, path=doc.path)
        for item in record.items:
            assert item.span is not None
            assert doc.text[item.span[0] : item.span[1]].split()[0] in item.request.split()[0]
            assert item.reviewer_guideline and item.reviewer_guideline.span
            s, e = item.reviewer_guideline.span
            assert " ".join(doc.text[s:e].split()) == item.reviewer_guideline.text
            for c in item.reviewer_guideline.citations:
                assert c.span and " ".join(doc.text[c.span[0] : c.span[1]].split()) == c.text


@pytest.mark.parametrize("letter", example_letters(), ids=lambda p: p.name)
@pytest.mark.parametrize("width", [60, 95, 130])
def test_rewrapped_and_markdown_forms_give_the_same_record(letter: Path, width: int) -> None:
    text = read_document(letter).text
    base = without_spans(parse_text(text).to_dict())
    wrapped = document_from_bytes(rewrap(text, width, page_every=4).encode(), "wrapped.txt")
    assert wrapped.format == "text"
    assert without_spans(parse_text(wrapped.text).to_dict()) == base
    md = document_from_bytes(to_markdown(text).encode(), "letter.md")
    assert md.format == "markdown"
    assert without_spans(parse_text(md.text).to_dict()) == base


def test_partial_authorisation_is_split_into_its_parts() -> None:
    text = read_document(example_letters()[1]).text
    text = text.replace(
        "Pump refill and reprogramming every 60 days: Upheld",
        "Acupuncture 12 sessions was the original request. Acupuncture 6 sessions was\n"
        "authorized by the Claims Administrator. The remaining IMR eligible portion of the\n"
        "original request, Acupuncture 6 sessions is:\nOverturned",
    )
    [item] = parse_text(text).items
    assert item.original_request == "Acupuncture 12 sessions"
    assert item.authorized == "Acupuncture 6 sessions"
    assert item.request == "Acupuncture 6 sessions"
    assert item.outcome == "Overturned"


def test_several_items_and_outcome_on_its_own_line() -> None:
    text = read_document(example_letters()[1]).text
    start = text.index("Pump refill")
    block = text[start:]
    second = block.replace("Pump refill and reprogramming every 60 days: Upheld",
                           "Norco 10/325mg #120, for\nchronic low back pain:\nOverturned")
    record = parse_text(text.rstrip() + "\n\n" + second)
    assert [(i.request, i.outcome) for i in record.items] == [
        ("Pump refill and reprogramming every 60 days", "Upheld"),
        ("Norco 10/325mg #120, for chronic low back pain", "Overturned"),
    ]


def test_guideline_with_several_citations() -> None:
    from imr_graph.letters.guidelines import parse_guideline

    para = (
        "Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Opioids,\n"
        "specific drug list, NSAIDs, GI symptoms & cardiovascular risk, and Opioid Treatment 2016,\n"
        "Section(s): 3.1 Opioids for Chronic Pain: Assessment, 3.2 Opioids: Alternatives. Decision\n"
        "based on Non-MTUS Citation Official Disability Guidelines (ODG) Pain (Chronic), TCA's and\n"
        "Other Medical Treatment Guidelines ACOEM Occupational Medicine Practice Guidelines, 3rd ed.,\n"
        "Low Back Disorders, pg. 607."
    )
    g = parse_guideline(para, 0, len(para))
    assert g.sources == ["MTUS", "ODG", "ACOEM"]
    assert g.mtus_titles == ["Chronic Pain Medical Treatment 2016", "Opioid Treatment 2016"]
    assert g.sections == [
        "Opioids, specific drug list",
        "NSAIDs, GI symptoms & cardiovascular risk",
        "3.1 Opioids for Chronic Pain: Assessment",
        "3.2 Opioids: Alternatives",
    ]
    odg = g.citations[2]
    assert (odg.family, odg.title, odg.sections) == ("ODG", "Pain (Chronic)", ["TCA's"])
    assert g.citations[3].pages == ["607"]


@pytest.mark.parametrize(
    "para, no_evidence, outside",
    [
        ("The Claims Administrator did not cite any medical evidence for its decision.", True, False),
        ("The Expert Reviewer based their decision on recommendation(s) outside of the MTUS "
         "Guidelines.", False, True),
    ],
)
def test_guideline_without_citations(para: str, no_evidence: bool, outside: bool) -> None:
    from imr_graph.letters.guidelines import parse_guideline

    g = parse_guideline(para, 0, len(para))
    assert g.sources == [] and g.citations == []
    assert (g.no_evidence, g.outside_mtus) == (no_evidence, outside)


def test_rationale_references_pages_tables_literature() -> None:
    from imr_graph.letters.guidelines import rationale_references

    text = ("Per page 82 of the MTUS Chronic Pain Guidelines, and ACOEM Chapter 12, Table 12-8, "
            "opioids are not advised (Kumar, 2002; Smith et al., 2004).")
    refs = rationale_references(text, 0, len(text))
    kinds = {(r.kind, r.family, tuple(r.pages), r.table, r.author) for r in refs}
    assert ("page", "MTUS", ("82",), None, None) in kinds
    assert ("table", "ACOEM", (), "12-8", None) in kinds
    assert ("literature", None, (), None, "Kumar") in kinds
    assert ("literature", None, (), None, "Smith et al.") in kinds


@pytest.mark.parametrize(
    "value, iso",
    [("06/27/2000", "2000-06-27"), ("6-27-00", "2000-06-27"), ("02/30/2016", None),
     ("November 28, 2016", "2016-11-28"), ("n/a", None)],
)
def test_parse_date(value: str, iso: str | None) -> None:
    assert parse_date(value) == iso


def test_old_layouts_are_refused_clearly() -> None:
    old = ("MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE\nLumbar MRI\nCASE SUMMARY\n...\n"
           "DOCUMENTS REVIEWED FOR DETERMINATION\n...\nMEDICAL REVIEWER QUALIFICATIONS\n")
    with pytest.raises(UnsupportedLayoutError, match="layout not supported yet"):
        parse_text(old, path="old.txt")
    older = ("MAXIMUS FEDERAL SERVICES, INC.\nIndependent Medical Review\nDOCUMENTS REVIEWED\n"
             "IMR DECISION(S) AND RATIONALE(S)\n")
    with pytest.raises(UnsupportedLayoutError, match=r"old2\.txt: layout not supported"):
        parse_text(older, path="old2.txt")


def test_not_a_letter_and_missing_section() -> None:
    with pytest.raises(NotALetterError, match=r"notes\.txt: not an IMR determination letter"):
        parse_text("Shopping list\nmilk\neggs\n", path="notes.txt")
    text = read_document(example_letters()[1]).text
    cut = text[: text.index("IMR ISSUES")]
    with pytest.raises(ParseError, match="missing section"):
        parse_text(cut, path="cut.txt")


# ---------------------------------------------------------------------------------------
# The development corpus (skipped when ../shared/corpus is absent)


def _decisions(text: str) -> int:
    return len(re.findall(r":\s*(?:Upheld|Overturned)\b", text))


@pytest.mark.corpus
def test_every_corpus_letter_parses_with_its_invariants(dwc_pdfs: list[Path]) -> None:
    problems: list[str] = []
    for pdf in dwc_pdfs:
        doc = read_document(pdf)
        r = parse_text(doc.text, path=doc.path, sha256=doc.sha256, fmt=doc.format)
        name = pdf.name
        if len(r.items) != _decisions(doc.text):
            problems.append(f"{name}: {len(r.items)} items, {_decisions(doc.text)} decisions")
        dates = [r.date_of_injury, r.ur_denial_date, r.date_assigned, r.decision_date]
        if None in dates or dates != sorted(dates):  # type: ignore[type-var]
            problems.append(f"{name}: dates not valid and ordered: {dates}")
        if not r.case_number or pdf.stem != r.case_number:
            problems.append(f"{name}: case number {r.case_number}")
        for item in r.items:
            if item.outcome not in ("Upheld", "Overturned") or item.reviewer_guideline is None:
                problems.append(f"{name}: item {item.index} lacks outcome or reviewer guideline")
            if not item.request or len(item.request) > 250:
                problems.append(f"{name}: item {item.index} request {item.request[:80]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.corpus
def test_corpus_pdf_and_text_forms_agree(dwc_pdfs: list[Path]) -> None:
    for pdf in dwc_pdfs[::10]:
        text = read_document(pdf).text
        base = without_spans(parse_text(text).to_dict())
        for width in (70, 110):
            assert without_spans(parse_text(rewrap(text, width, 5)).to_dict()) == base, pdf.name
        md = document_from_bytes(to_markdown(text).encode(), "x.md").text
        assert without_spans(parse_text(md).to_dict()) == base, pdf.name


def test_corpus_helper_is_empty_or_pdfs() -> None:
    assert all(p.suffix == ".pdf" for p in corpus_pdfs())


@pytest.mark.parametrize(
    "para, expected",
    [
        ("Decision based on Non-MTUS Citation ACOEM guidelines and the Official Disability "
         "Guidelines.", [("ACOEM", None), ("ODG", None)]),
        ("Decision based on Non-MTUS Citation Official Disability Guidelines, Forearm, Wrist & "
         "Hand - Open reduction internal fixation.", [("ODG", "Forearm, Wrist & Hand")]),
        ("Decision based on Non-MTUS Citation Official Disability Guidelines, 2016, Web Version, "
         "Criteria for skilled nursing facility.",
         [("ODG", "Criteria for skilled nursing facility")]),
    ],
)
def test_odg_titles_without_joining_words_editions_or_split_chapters(
    para: str, expected: list[tuple[str, str | None]]
) -> None:
    from imr_graph.letters.guidelines import parse_guideline

    g = parse_guideline(para, 0, len(para))
    assert [(c.family, c.title) for c in g.citations] == expected
