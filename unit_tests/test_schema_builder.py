"""Tests of the stream schemas built from Zoho CRM field metadata."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, FormatChecker

from source_zoho_crm.schema_builder import build_stream_schema, field_schema

NULL_STRING = {"type": ["null", "string"]}
NULL_NUMBER = {"type": ["null", "number"]}
NULL_INTEGER = {"type": ["null", "integer"]}
NULL_BOOLEAN = {"type": ["null", "boolean"]}
DATE = {"type": ["null", "string"], "format": "date"}
DATETIME = {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
ANY_OBJECT = {"type": ["null", "object"], "additionalProperties": True}
LOOKUP = {**ANY_OBJECT, "properties": {"id": NULL_STRING, "name": NULL_STRING}}
USER = {**ANY_OBJECT, "properties": {"id": NULL_STRING, "name": NULL_STRING, "email": NULL_STRING}}
MODULE = {**ANY_OBJECT, "properties": {"api_name": NULL_STRING, "id": NULL_STRING}}
MULTI_MODULE_LOOKUP = {
    **ANY_OBJECT,
    "properties": {"id": NULL_STRING, "name": NULL_STRING, "module": MODULE},
}
ARRAY_OF_OBJECTS = {"type": ["null", "array"], "items": ANY_OBJECT}
TAGS = {
    "type": ["null", "array"],
    "items": {**ANY_OBJECT, "properties": {"name": NULL_STRING, "id": NULL_STRING}},
}

TEXT_TYPES = [
    "text",
    "textarea",
    "mediumtext",
    "phone",
    "picklist",
    "profileimage",
    "event_reminder",
    "autonumber",
    "bigint",
    "long",
]
NUMBER_TYPES = ["double", "currency", "percent", "decimal"]
ARRAY_OF_OBJECT_TYPES = ["subform", "multiselectlookup", "fileupload", "imageupload", "linetax"]

KNOWN_CASES: list[tuple[str, dict[str, Any]]] = [
    *((t, NULL_STRING) for t in TEXT_TYPES),
    ("email", {"type": ["null", "string"], "format": "email"}),
    ("website", {"type": ["null", "string"], "format": "uri-reference"}),
    ("date", DATE),
    ("datetime", DATETIME),
    ("integer", NULL_INTEGER),
    *((t, NULL_NUMBER) for t in NUMBER_TYPES),
    ("boolean", NULL_BOOLEAN),
    ("multiselectpicklist", {"type": ["null", "array"], "items": NULL_STRING}),
    ("lookup", LOOKUP),
    ("consent_lookup", LOOKUP),
    ("ownerlookup", USER),
    ("userlookup", USER),
    ("multiuserlookup", {"type": ["null", "array"], "items": USER}),
    ("multi_module_lookup", MULTI_MODULE_LOOKUP),
    *((t, ARRAY_OF_OBJECTS) for t in ARRAY_OF_OBJECT_TYPES),
]

RETURN_TYPE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("text", NULL_STRING),
    ("string", NULL_STRING),
    ("double", NULL_NUMBER),
    ("currency", NULL_NUMBER),
    ("decimal", NULL_NUMBER),
    ("percent", NULL_NUMBER),
    ("integer", NULL_INTEGER),
    ("boolean", NULL_BOOLEAN),
    ("date", DATE),
    ("datetime", DATETIME),
]

FALLBACK_CASES: list[tuple[str, dict[str, Any]]] = [
    ("string", NULL_STRING),
    ("integer", NULL_INTEGER),
    ("double", NULL_NUMBER),
    ("boolean", NULL_BOOLEAN),
    ("jsonobject", ANY_OBJECT),
    ("jsonarray", {"type": ["null", "array"]}),
]


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    """A draft-7 validator that also asserts `date`, `email` and offset-carrying `date-time` formats."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _is_datetime(value: object) -> bool:
        return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None

    return Draft7Validator(schema, format_checker=checker)


def _assert_nullable_everywhere(schema: dict[str, Any]) -> None:
    if schema:
        assert "null" in schema["type"]
    for sub in schema.get("properties", {}).values():
        _assert_nullable_everywhere(sub)
    if "items" in schema:
        _assert_nullable_everywhere(schema["items"])


# Mapping rules


@pytest.mark.parametrize(("data_type", "expected"), KNOWN_CASES)
def test_known_data_type(data_type: str, expected: dict[str, Any]) -> None:
    schema, warning = field_schema({"api_name": "F", "data_type": data_type, "json_type": "string"})
    assert schema == expected
    assert warning is None
    _assert_nullable_everywhere(schema)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [("TEXT", NULL_STRING), ("DateTime", DATETIME), ("Lookup", LOOKUP), (" Currency ", NULL_NUMBER)],
)
def test_data_type_is_case_insensitive(data_type: str, expected: dict[str, Any]) -> None:
    assert field_schema({"api_name": "F", "data_type": data_type}) == (expected, None)


def test_picklist_has_no_enum() -> None:
    field = {
        "api_name": "Lead_Source",
        "data_type": "picklist",
        "pick_list_values": [{"display_value": "Web", "actual_value": "Web"}],
    }
    schema, _ = field_schema(field)
    assert "enum" not in schema
    assert _validator(schema).is_valid("A value added after discovery")


@pytest.mark.parametrize("data_type", ["text", "jsonarray", None, "tag"])
def test_tag_field_is_array_of_named_objects(data_type: str | None) -> None:
    field = {"api_name": "Tag", "data_type": data_type, "json_type": "jsonarray"}
    assert field_schema(field) == (TAGS, None)


def test_wizard_field_takes_the_object_its_records_carry() -> None:
    """`Wizard` is `bigint` in Zoho's field metadata but `{"id", "name"}` in records (v8 OAS)."""
    schema, warning = field_schema({"api_name": "Wizard", "data_type": "bigint", "json_type": "jsonobject"})
    assert warning is None
    assert _validator(schema).is_valid({"name": "Lead Wizard", "id": "100000000000000039"})
    assert _validator(schema).is_valid(None)


@pytest.mark.parametrize(("return_type", "expected"), RETURN_TYPE_CASES)
def test_formula_follows_return_type(return_type: str, expected: dict[str, Any]) -> None:
    field = {"api_name": "F", "data_type": "formula", "formula": {"return_type": return_type}}
    assert field_schema(field) == (expected, None)


@pytest.mark.parametrize(("return_type", "expected"), RETURN_TYPE_CASES)
def test_rollup_summary_follows_return_type(return_type: str, expected: dict[str, Any]) -> None:
    field = {"api_name": "R", "data_type": "rollup_summary", "rollup_summary": {"return_type": return_type}}
    assert field_schema(field) == (expected, None)


@pytest.mark.parametrize("data_type", ["formula", "rollup_summary"])
@pytest.mark.parametrize("details", [None, {}, {"return_type": "hologram"}, "double", [1]])
def test_computed_field_without_usable_return_type_falls_back(data_type: str, details: Any) -> None:
    field = {"api_name": "C", "data_type": data_type, "json_type": "double", data_type: details}
    schema, warning = field_schema(field)
    assert schema == NULL_NUMBER
    assert warning and "'C'" in warning and data_type in warning


@pytest.mark.parametrize(("json_type", "expected"), FALLBACK_CASES)
@pytest.mark.parametrize("data_type", ["ALARM", "RRULE", "multireminder", "time_range", None, 42])
def test_unknown_data_type_uses_widest_json_type_schema(
    data_type: Any, json_type: str, expected: dict[str, Any]
) -> None:
    schema, warning = field_schema({"api_name": "Remind_At", "data_type": data_type, "json_type": json_type})
    assert schema == expected
    assert warning and "'Remind_At'" in warning and repr(data_type) in warning and json_type in warning


@pytest.mark.parametrize("json_type", [None, "", "hologram", 7, ["string"]])
def test_unknown_data_type_without_json_type_accepts_anything(json_type: Any) -> None:
    schema, warning = field_schema({"api_name": "Layout", "data_type": "layout", "json_type": json_type})
    assert schema == {}
    assert warning and "'Layout'" in warning and "'layout'" in warning


def test_field_without_any_type_accepts_anything() -> None:
    schema, warning = field_schema({"api_name": "Odd"})
    assert schema == {}
    assert warning and "'Odd'" in warning


@pytest.mark.parametrize("field", [None, "text", 3, ["data_type"]])
def test_non_mapping_field_accepts_anything(field: Any) -> None:
    schema, warning = field_schema(field)
    assert schema == {} and warning


def test_schemas_are_independent_copies() -> None:
    first, _ = field_schema({"data_type": "lookup"})
    first["properties"]["id"]["type"].append("integer")
    second, _ = field_schema({"data_type": "lookup"})
    assert second == LOOKUP


# Stream schema


def test_stream_schema_envelope() -> None:
    schema, warnings = build_stream_schema([{"api_name": "Last_Name", "data_type": "text"}])
    assert schema == {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": {"id": NULL_STRING, "Last_Name": NULL_STRING},
    }
    assert warnings == []


@pytest.mark.parametrize(
    "fields",
    [[], [{"api_name": "id", "data_type": "bigint"}], [{"api_name": "id", "data_type": "integer"}]],
)
def test_id_is_always_a_nullable_string(fields: list[dict[str, Any]]) -> None:
    schema, _ = build_stream_schema(fields)
    assert schema["properties"]["id"] == NULL_STRING
    assert _validator(schema).is_valid({"id": "5725767000000002595"})


def test_extra_properties_are_added_as_given() -> None:
    extra = {"_ab_cdc_deleted_at": DATETIME}
    schema, _ = build_stream_schema([{"api_name": "Email", "data_type": "email"}], extra_properties=extra)
    assert schema["properties"]["_ab_cdc_deleted_at"] == DATETIME
    assert set(schema["properties"]) == {"id", "Email", "_ab_cdc_deleted_at"}


def test_fields_without_api_name_are_skipped_with_a_warning() -> None:
    fields = [{"data_type": "text"}, {"api_name": "", "data_type": "text"}, {"api_name": None}, "junk"]
    schema, warnings = build_stream_schema(fields)  # type: ignore[list-item]
    assert set(schema["properties"]) == {"id"}
    assert len(warnings) == 4


def test_duplicate_api_names_first_wins() -> None:
    fields = [
        {"api_name": "Amount", "data_type": "currency"},
        {"api_name": "Amount", "data_type": "text"},
        {"api_name": "Amount", "data_type": "hologram"},
    ]
    schema, warnings = build_stream_schema(fields)
    assert schema["properties"]["Amount"] == NULL_NUMBER
    assert warnings == []


def test_one_warning_per_unknown_or_untyped_field() -> None:
    fields = [
        {"api_name": "Remind_At", "data_type": "ALARM", "json_type": "jsonobject"},
        {"api_name": "Mystery"},
        {"api_name": "Name", "data_type": "text"},
    ]
    schema, warnings = build_stream_schema(fields)
    assert schema["properties"]["Remind_At"] == ANY_OBJECT
    assert schema["properties"]["Mystery"] == {}
    assert len(warnings) == 2
    assert "'Remind_At'" in warnings[0] and "'ALARM'" in warnings[0]
    assert "'Mystery'" in warnings[1]


@pytest.mark.parametrize("fields", [None, "text", 5, {"api_name": "x"}])
def test_malformed_fields_list_gives_the_minimal_schema(fields: Any) -> None:
    schema, _ = build_stream_schema(fields)
    assert schema["properties"] == {"id": NULL_STRING}


# Property tests

TYPE_NAMES = (
    [t for t, _ in KNOWN_CASES]
    + ["formula", "rollup_summary", "ALARM", "RRULE", "layout", "module", "address", "Text", "DATETIME"]
    + [t for t, _ in FALLBACK_CASES]
)
json_leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_junk = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
type_like = st.sampled_from(TYPE_NAMES) | json_junk
field_values = (
    type_like
    | st.fixed_dictionaries({"return_type": type_like})
    | st.dictionaries(st.sampled_from(["return_type", "module", "id"]), type_like, max_size=2)
)
field_keys = st.sampled_from(["api_name", "data_type", "json_type", "formula", "rollup_summary"]) | st.text(
    max_size=8
)
garbage_fields = st.dictionaries(field_keys, field_values, max_size=6) | json_junk


@settings(max_examples=400)
@given(garbage_fields)
def test_field_schema_never_raises_and_is_valid(field: Any) -> None:
    schema, warning = field_schema(field)
    Draft7Validator.check_schema(schema)
    assert warning is None or isinstance(warning, str)
    _assert_nullable_everywhere(schema)
    assert _validator(schema).is_valid(None)


ids = st.from_regex(r"\A[1-9][0-9]{17,18}\Z")
names = st.text(max_size=20)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
iso_datetimes = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz).isoformat(timespec="seconds"),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    offsets,
)
iso_dates = st.dates().map(lambda d: d.isoformat())
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers()
lookups = st.fixed_dictionaries({"id": ids, "name": names | st.none()})
users = st.fixed_dictionaries({"id": ids, "name": names, "email": st.emails()})
objects = st.dictionaries(st.text(max_size=8), json_junk, max_size=4)

VALUE_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    **{t: st.text() for t in TEXT_TYPES},
    "bigint": st.integers(min_value=0).map(str),
    "autonumber": st.builds(lambda n: f"INV-{n}", st.integers(min_value=0)),
    "email": st.emails(),
    "website": st.sampled_from(["www.zoho.com", "https://www.zoho.com/crm/", "zoho.com/path?q=1"]),
    "date": iso_dates,
    "datetime": iso_datetimes,
    "integer": st.integers(),
    **{t: numbers for t in NUMBER_TYPES},
    "boolean": st.booleans(),
    "multiselectpicklist": st.lists(names),
    "lookup": lookups,
    "consent_lookup": lookups,
    "ownerlookup": users,
    "userlookup": users,
    "multiuserlookup": st.lists(users, max_size=3),
    "multi_module_lookup": st.fixed_dictionaries(
        {"id": ids, "name": names, "module": st.fixed_dictionaries({"api_name": names, "id": ids})}
    ),
    **{t: st.lists(objects, max_size=3) for t in ARRAY_OF_OBJECT_TYPES},
}
RETURN_VALUES = {
    "text": st.text(),
    "string": st.text(),
    "double": numbers,
    "currency": numbers,
    "decimal": numbers,
    "percent": numbers,
    "integer": st.integers(),
    "boolean": st.booleans(),
    "date": iso_dates,
    "datetime": iso_datetimes,
}
JSON_TYPE_VALUES = {
    "string": st.text(),
    "integer": st.integers(),
    "double": numbers,
    "boolean": st.booleans(),
    "jsonobject": objects,
    "jsonarray": st.lists(json_junk, max_size=3),
}


@st.composite
def fields_with_values(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A well-formed field of any known kind, and a value Zoho could send for it (sometimes null)."""
    kind = draw(st.sampled_from(["data_type", "formula", "rollup_summary", "fallback", "tag"]))
    if kind == "data_type":
        data_type = draw(st.sampled_from(sorted(VALUE_STRATEGIES)))
        field, values = {"data_type": data_type}, VALUE_STRATEGIES[data_type]
    elif kind in ("formula", "rollup_summary"):
        return_type = draw(st.sampled_from(sorted(RETURN_VALUES)))
        field, values = {"data_type": kind, kind: {"return_type": return_type}}, RETURN_VALUES[return_type]
    elif kind == "fallback":
        json_type = draw(st.sampled_from(sorted(JSON_TYPE_VALUES)))
        field, values = {"data_type": "ALARM", "json_type": json_type}, JSON_TYPE_VALUES[json_type]
    else:
        field = {"data_type": "text", "json_type": "jsonarray"}
        values = st.lists(st.fixed_dictionaries({"name": names, "id": ids}), max_size=3)
    field["api_name"] = "Tag" if kind == "tag" else "Field"
    return field, draw(values | st.none())


@settings(max_examples=500)
@given(fields_with_values())
def test_well_formed_values_validate(field_and_value: tuple[dict[str, Any], Any]) -> None:
    field, value = field_and_value
    schema, _ = field_schema(field)
    errors = list(_validator(schema).iter_errors(value))
    assert not errors, (field, value, errors)


@given(st.sampled_from(KNOWN_CASES))
def test_none_validates_against_every_known_schema(case: tuple[str, dict[str, Any]]) -> None:
    schema, _ = field_schema({"api_name": "F", "data_type": case[0]})
    assert _validator(schema).is_valid(None)


@settings(max_examples=200)
@given(st.lists(garbage_fields, max_size=8), st.lists(st.sampled_from(TYPE_NAMES), max_size=8))
def test_stream_schema_is_valid_and_has_every_api_name(garbage: list[Any], types: list[str]) -> None:
    typed = [{"api_name": f"Field_{i}", "data_type": t} for i, t in enumerate(types)]
    fields = typed + garbage
    schema, warnings = build_stream_schema(fields, extra_properties={"_ab_cdc_deleted_at": DATETIME})
    Draft7Validator.check_schema(schema)
    api_names = {f["api_name"] for f in fields if isinstance(f, dict) and isinstance(f.get("api_name"), str)}
    assert {name for name in api_names if name} | {"id", "_ab_cdc_deleted_at"} <= set(schema["properties"])
    assert all(isinstance(w, str) for w in warnings)
    assert _validator(schema).is_valid({name: None for name in schema["properties"]})


def test_json_type_object_or_array_wins_over_a_scalar_data_type() -> None:
    """Zoho sends event_reminder values like {"ALARM": "FREQ=NONE;..."} with json_type jsonobject."""
    schema, warning = field_schema(
        {"api_name": "Remind_At", "data_type": "event_reminder", "json_type": "jsonobject"}
    )
    assert warning is None and "object" in schema["type"]
    schema, _ = field_schema({"api_name": "X", "data_type": "text", "json_type": "jsonarray"})
    assert "array" in schema["type"]
