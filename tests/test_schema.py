"""Every record the parser produces validates against the shipped JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from imr_graph.letters.parsing import parse_file
from imr_graph.resources import schema_file

from .conftest import example_letters


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_file().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("letter", example_letters(), ids=lambda p: p.name)
def test_examples_validate(letter: Path, validator: jsonschema.Draft202012Validator) -> None:
    validator.validate(parse_file(letter).to_dict())


def test_schema_rejects_a_bad_record(validator: jsonschema.Draft202012Validator) -> None:
    record = parse_file(example_letters()[0]).to_dict()
    record["items"][0]["outcome"] = "Maybe"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(record)


@pytest.mark.corpus
def test_corpus_records_validate(dwc_pdfs: list[Path], validator: jsonschema.Draft202012Validator) -> None:
    for pdf in dwc_pdfs:
        validator.validate(parse_file(pdf).to_dict())
