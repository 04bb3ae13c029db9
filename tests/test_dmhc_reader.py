"""The DMHC CSV reader: every supported shape of the export, bad rows, and robustness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_graph.dmhc.reader import (
    DmhcCase,
    looks_like_dmhc,
    parse_age_range,
    parse_determination,
    parse_dmhc_bytes,
    parse_sex,
    read_dmhc,
    sniff_delimiter,
)
from imr_graph.errors import InputError

FIX = Path(__file__).parent / "fixtures" / "dmhc"


def test_semicolon_resave() -> None:
    f = read_dmhc(FIX / "semicolon.csv")
    assert f.delimiter == ";"
    assert f.errors == []
    assert [c.reference_id for c in f.cases] == [
        "MN15-00001",
        "MN15-00002",
        "EI14-00003",
        "UR14-00004",
        "MN13-00005",
        "MN13-00006",
    ]
    first = f.cases[0]
    assert first == DmhcCase(
        reference_id="MN15-00001",
        year=2015,
        outcome="Overturned",
        line=2,
        diagnosis_category="Orthopedic/ Musculoskeletal",
        diagnosis_subcategory="Back Pain",
        treatment_category="Diagnostic Imaging, Screening and Testing",
        treatment_subcategory="MRI",
        review_type="medical-necessity",
        age_range="41-50",
        sex="female",
        determination_text="Overturned Decision of Health Plan",
    )
    by_id = {c.reference_id: c for c in f.cases}
    assert by_id["EI14-00003"].review_type == "experimental-investigational"
    assert by_id["EI14-00003"].outcome == "Upheld"
    assert by_id["UR14-00004"].review_type == "urgent-care"
    assert by_id["UR14-00004"].age_range == "11-20"  # "11_20" in the file
    empty = by_id["MN13-00005"]
    assert empty.treatment_category is None
    assert empty.treatment_subcategory == "Speech Therapy"
    assert empty.diagnosis_subcategory is None
    assert empty.age_range is None and empty.sex is None
    assert by_id["MN13-00006"].age_range == "65+"
    assert f.columns["reference_id"] == "Reference ID"
    assert len(f.sha256) == 64


def test_official_comma_with_quoted_multiline_findings() -> None:
    f = read_dmhc(FIX / "official_comma.csv")
    assert f.delimiter == ","
    assert f.errors == []
    assert [c.line for c in f.cases] == [2, 4, 5]  # the first row's Findings spans two lines
    a, b, c = f.cases
    assert a.treatment_category == "Diagnostic Imaging, Screening and Testing"
    assert a.findings is not None
    assert '"not medically necessary"' in a.findings and "\n" in a.findings
    assert (a.outcome, b.outcome, c.outcome) == ("Upheld", "Overturned", "Overturned")
    assert c.findings is None
    assert c.review_type == "experimental-investigational"


def test_newer_columns() -> None:
    f = read_dmhc(FIX / "newer_columns.csv")
    assert f.errors == []
    a, b, c = f.cases
    assert (a.imr_type, a.days_to_review, a.days_to_adopt) == ("Standard", 27, 3)
    assert (b.imr_type, b.days_to_review, b.days_to_adopt) == ("Expedited", 4, 1)
    assert (c.days_to_review, c.days_to_adopt) == (None, None)
    assert a.findings is not None and a.findings.startswith("The reviewer found")
    assert a.year == 2019 and c.year == 2018


def test_bad_rows_are_reported_and_the_rest_load() -> None:
    f = read_dmhc(FIX / "bad_rows.csv")
    assert [c.reference_id for c in f.cases] == ["MN16-00301", "MN16-00310"]
    assert f.cases[1].line == 12  # the blank line 11 is counted, not reported
    errors = {e.line: e for e in f.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "no reference id" in errors[3].reason
    assert "not a year" in errors[4].reason and errors[4].reference_id == "MN16-00303"
    assert "determination 'Withdrawn'" in errors[5].reason
    assert "8 fields where the header has 10" in errors[6].reason
    assert "repeats the row on line 2" in errors[7].reason
    assert "review type 'Second Opinion'" in errors[8].reason
    assert "age range 'ninety'" in errors[9].reason
    assert "gender 'Robot'" in errors[10].reason
    assert str(errors[4]).startswith("line 4 (MN16-00303): ")
    assert f.rows == 10


def test_tab_separated_lowercase_headers_and_cp1252() -> None:
    text = (
        "reference_id\treport_year\ttreatment category\tdetermination\ttype\tpatient age\tgender\n"
        "MN10-1\t2010\tOrthopédic\tUpheld\tMedical Necessity\t37\tF\n"
        "MN10-2\t2010.0\tChiropractic\toverturned\turgent care\t70\tM\n"
    )
    f = parse_dmhc_bytes(text.encode("cp1252"), source="x.tsv")
    assert f.delimiter == "\t" and f.encoding == "cp1252"
    assert f.errors == []
    a, b = f.cases
    assert a.treatment_category == "Orthopédic"
    assert (a.outcome, a.age_range, a.sex) == ("Upheld", "31-40", "female")
    assert (b.year, b.outcome, b.review_type, b.age_range, b.sex) == (
        2010,
        "Overturned",
        "urgent-care",
        "65+",
        "male",
    )


def test_utf8_bom_header() -> None:
    data = (
        "\ufeffReferenceID,ReportYear,Determination,TreatmentCategory\nA-1,2005,Upheld,Orthopedic\n"
    )
    f = parse_dmhc_bytes(data.encode("utf-8"))
    assert f.columns["reference_id"] == "ReferenceID"
    assert [c.reference_id for c in f.cases] == ["A-1"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"\x00\x01\x02binary", "binary"),
        (b"Case Number,Outcome\nCM1,Upheld\n", "header lacks referenceid, reportyear"),
        (b"ReferenceID;ReportYear;Determination;Decision\n", "ambiguous header"),
    ],
)
def test_unusable_files_raise_input_error(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        parse_dmhc_bytes(data, source="table.csv")
    assert str(info.value).startswith("table.csv: ")


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read file"):
        read_dmhc(tmp_path / "nope.csv")


def test_unterminated_quote_reports_the_line() -> None:
    data = b'ReferenceID,ReportYear,Determination\nA-1,2001,Upheld\nA-2,2001,"Upheld\n'
    f = parse_dmhc_bytes(data)
    assert [c.reference_id for c in f.cases] == ["A-1"]
    assert [e.line for e in f.errors] == [3]
    assert "CSV syntax error" in f.errors[0].reason


def test_looks_like_dmhc(tmp_path: Path) -> None:
    for name in ("semicolon.csv", "official_comma.csv", "newer_columns.csv", "bad_rows.csv"):
        assert looks_like_dmhc(FIX / name)
    other = tmp_path / "letter.txt"
    other.write_text("DWC Independent Medical Review\nFinal Determination Letter\n")
    assert not looks_like_dmhc(other)
    assert not looks_like_dmhc(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Overturned Decision of Health Plan", "Overturned"),
        ("Upheld Decision of Health Plan", "Upheld"),
        ("UPHELD", "Upheld"),
        ("Withdrawn", None),
        ("", None),
        ("Upheld / Overturned", None),
    ],
)
def test_parse_determination(text: str, expected: str | None) -> None:
    assert parse_determination(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-10", "0-10"),
        ("11_20", "11-20"),
        ("51 - 64", "51-64"),
        ("65+", "65+"),
        ("65 and over", "65+"),
        ("10", "0-10"),
        ("64", "51-64"),
        ("65", "65+"),
        ("", None),
        (None, None),
        ("Unknown", None),
        ("12-19", False),
        ("-3", False),
        ("old", False),
    ],
)
def test_parse_age_range(text: str | None, expected: object) -> None:
    assert parse_age_range(text) == expected


def test_parse_sex() -> None:
    assert parse_sex("Female") == "female"
    assert parse_sex(" male ") == "male"
    assert parse_sex("") is None
    assert parse_sex("Other") is False


def test_sniff_delimiter_prefers_known_columns() -> None:
    assert sniff_delimiter("Reference ID;Report Year;Type, kind") == ";"
    assert sniff_delimiter('"ReferenceID","ReportYear","Determination"') == ","
    assert sniff_delimiter("ReferenceID|ReportYear|Determination") == "|"


_cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=12), max_size=8))
def test_arbitrary_rows_never_crash(rows: list[list[str]]) -> None:
    """Whatever the cells hold, every non-blank row is either a case or a reported error."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(["Reference ID", "Report Year", "Determination", "Type", "Age Range"])
    writer.writerows(rows)
    f = parse_dmhc_bytes(buf.getvalue().encode("utf-8"))
    nonblank = sum(1 for r in rows if any(c.strip() for c in r))
    assert len(f.cases) + len(f.errors) == nonblank
    assert all(e.line >= 2 for e in f.errors)
    assert len({c.reference_id for c in f.cases}) == len(f.cases)
