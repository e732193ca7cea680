"""The typed results contract mirrors the JSON Schema key by key, and every schema key is documented."""

from __future__ import annotations

from typing import Any, get_type_hints

import pytest

from spotfake.harness.results import load_schema, validate_results
from spotfake.harness.results_contract import CONTRACT

TOP_LEVEL_KEYS_WITHOUT_OWN_OBJECT = {"ci", "metrics", "per_category", "breakdowns"}


def schema_object(path: str) -> dict[str, Any]:
    node: dict[str, Any] = load_schema()
    for part in filter(None, path.split("/")):
        node = node["properties"][part]
    return node


@pytest.mark.parametrize("path", sorted(CONTRACT))
def test_typed_dict_has_exactly_the_schema_properties(path: str) -> None:
    node = schema_object(path)
    typed = CONTRACT[path]
    hints = get_type_hints(typed)
    assert set(hints) == set(node["properties"]), path
    required = set(node.get("required", []))
    assert set(typed.__required_keys__) == required, path  # type: ignore[attr-defined]


def _walk(node: dict[str, Any], where: str) -> list[str]:
    missing = []
    for key, child in node.get("properties", {}).items():
        here = f"{where}/{key}"
        if "description" not in child:
            missing.append(here)
        missing += _walk(child, here)
    return missing


def test_every_schema_key_has_a_description() -> None:
    missing = _walk(load_schema(), "")
    assert missing == []


def test_a_minimal_results_document_validates_and_a_wrong_one_does_not() -> None:
    from spotfake.harness.errors import SpotfakeError

    doc = {
        "schema_version": 1,
        "spotfake_version": "0",
        "source": "reproduced",
        "model": {"name": "m", "kind": "expert"},
        "task": {"name": "t", "version": "1"},
        "metrics": {"acc": 0.5, "n": 2},
        "ci": {},
        "per_category": {},
        "breakdowns": {},
        "null_reasons": {"auc": "the model gives verdicts only, no p(fake) score"},
        "created": "2026-01-01T00:00:00+00:00",
    }
    validate_results(doc)
    doc["null_reasons"] = {"auc": 3}
    with pytest.raises(SpotfakeError, match="null_reasons"):
        validate_results(doc)


def test_record_schema_names_every_record_field_and_documents_it() -> None:
    import dataclasses
    import json

    from spotfake.harness.results import SCHEMA_PATH
    from spotfake.harness.types import Record

    schema = json.loads((SCHEMA_PATH.parent / "record.schema.json").read_text())
    assert list(schema["properties"]) == [f.name for f in dataclasses.fields(Record)]
    assert all("description" in v for v in schema["properties"].values())


def test_records_written_by_the_engine_validate_against_the_record_schema() -> None:
    import json

    import jsonschema

    from spotfake.harness.results import SCHEMA_PATH
    from spotfake.harness.types import Record

    schema = json.loads((SCHEMA_PATH.parent / "record.schema.json").read_text())
    record = Record(id="a.png", label="fake", metadata={"generator": "gan"}, response="fake", score=0.9)
    record.bleu_stats = [1.0] * 10
    jsonschema.validate(record.to_json(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**record.to_json(), "score": 1.5}, schema)
