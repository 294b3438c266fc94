"""Bulk Read CSV cells become the values and shapes the REST path emits, for every data type."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from source_zoho_crm.bulk_csv import RowConverter, converter_for, org_zone

IST = timezone(timedelta(hours=5, minutes=30))


def field(data_type: str, json_type: str | None = None, **extra: Any) -> dict[str, Any]:
    meta = {"api_name": "F", "data_type": data_type, **extra}
    if json_type:
        meta["json_type"] = json_type
    return meta


@pytest.mark.parametrize(
    ("meta", "cell", "value"),
    [
        (field("text", "string"), "Hello, world", "Hello, world"),
        (field("textarea", "string"), "line 1\nline 2", "line 1\nline 2"),
        (field("email", "string"), "a@b.example", "a@b.example"),
        (field("phone", "string"), "+1-555-0100", "+1-555-0100"),
        (field("website", "string"), "https://x.example", "https://x.example"),
        (field("picklist", "string"), "Hot", "Hot"),
        (field("autonumber", "string"), "LD-17", "LD-17"),
        (field("bigint", "string"), "9007199254740993", "9007199254740993"),
        (field("profileimage", "string"), "ab12", "ab12"),
        (field("date", "string"), "2026-03-04", "2026-03-04"),
        (field("integer", "integer"), "42", 42),
        (field("integer", "integer"), "-3", -3),
        (field("double", "double"), "12.5", 12.5),
        (field("currency", "double"), "1000.00", 1000.0),
        (field("percent", "double"), "7", 7),
        (field("decimal", "double"), "0.25", 0.25),
        (field("boolean", "boolean"), "true", True),
        (field("boolean", "boolean"), "FALSE", False),
        (field("datetime", "string"), "2026-03-04T17:29:00+05:30", "2026-03-04T17:29:00+05:30"),
        (field("datetime", "string"), "2026-03-04T11:59:00Z", "2026-03-04T17:29:00+05:30"),
        (field("datetime", "string"), "2026-03-04T06:29:00-05:00", "2026-03-04T16:59:00+05:30"),
        (field("datetime", "string"), "2026-03-04 17:29:00", "2026-03-04T17:29:00+05:30"),
        (field("multiselectpicklist", "jsonarray"), "Email;Phone", ["Email", "Phone"]),
        (field("multiselectpicklist", "jsonarray"), "", []),
        (field("lookup", "jsonobject"), "6765362002000001675", {"id": "6765362002000001675"}),
        (field("ownerlookup", "jsonobject"), "6765362000000000004", {"id": "6765362000000000004"}),
        (field("userlookup", "jsonobject"), "17", {"id": "17"}),
        (field("consent_lookup", "jsonobject"), "18", {"id": "18"}),
        (field("multi_module_lookup", "jsonobject"), "19", {"id": "19"}),
        (field("layout", "jsonobject"), "20", {"id": "20"}),
        (field("lookup", "jsonobject"), "", None),
        (field("event_reminder", "jsonobject"), '{"ALARM": "FREQ=NONE"}', {"ALARM": "FREQ=NONE"}),
        (field("event_reminder", "jsonobject"), "FREQ=NONE", None),
        (field("formula", "double", formula={"return_type": "double"}), "3.5", 3.5),
        (
            field("formula", "string", formula={"return_type": "datetime"}),
            "2026-03-04T11:59:00Z",
            "2026-03-04T17:29:00+05:30",
        ),
        (field("formula", "boolean", formula={"return_type": "boolean"}), "true", True),
        (field("formula", "string", formula={"return_type": "text"}), "Warm", "Warm"),
        (field("rollup_summary", "double", rollup_summary={"return_type": "integer"}), "40", 40),
        (field("rollup_summary", "double"), "4.0", 4.0),
        (field("hologram", "string"), "holo:1", "holo:1"),
        (field("hologram"), "x", "x"),
        (field("text", "string"), "", None),
        (field("integer", "integer"), "", None),
        (field("boolean", "boolean"), "", None),
        (field("integer", "integer"), "n/a", "n/a"),  # never lose a value Zoho wrote
    ],
)
def test_each_data_type(meta: dict[str, Any], cell: str, value: Any) -> None:
    converted = converter_for(meta, IST)(cell)
    assert converted == value and type(converted) is type(value)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ('[{"name": "VIP", "id": "1"}]', [{"name": "VIP", "id": "1"}]),
        ("VIP;Partner", [{"name": "VIP"}, {"name": "Partner"}]),
        ("VIP,Partner", [{"name": "VIP"}, {"name": "Partner"}]),
        ("", []),
    ],
)
def test_tags(cell: str, value: Any) -> None:
    assert (
        converter_for({"api_name": "Tag", "data_type": "text", "json_type": "jsonarray"}, IST)(cell) == value
    )


def test_a_row_becomes_a_record_keyed_by_api_name_with_the_id_column_as_id() -> None:
    fields = [
        {"api_name": "Score", "data_type": "integer", "json_type": "integer"},
        {"api_name": "Account_Name", "data_type": "lookup", "json_type": "jsonobject"},
    ]
    convert = RowConverter(["\ufeffId", "Score", "Account_Name.id", "Unknown"], fields, IST)
    assert convert(["1", "5", "99", "raw"]) == {
        "id": "1",
        "Score": 5,
        "Account_Name": {"id": "99"},
        "Unknown": "raw",
    }


def test_a_csv_without_an_id_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no id column"):
        RowConverter(["Score"], [], IST)


def test_the_org_zone_comes_from_the_org_time_zone() -> None:
    zone = org_zone({"time_zone": "Asia/Kolkata"})
    assert (
        converter_for(field("datetime", "string"), zone)("2026-03-04T11:59:00Z")
        == "2026-03-04T17:29:00+05:30"
    )
    assert org_zone({"time_zone": "Not/AZone"}) is timezone.utc
    assert org_zone(None) is timezone.utc
