"""The emulator's own tests.
Subform modules (Zoho's Subform API) and line items."""

from __future__ import annotations

from collections.abc import Callable

import jsonschema
import pytest
import requests

from integration_tests.emulator_helpers import (
    INFO_KEYS,
    api,
    error,
    get,
    read_chain,
)
from source_zoho_crm.schema_builder import build_stream_schema
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator
from zoho_crm_emulator.fields import JSON_TYPES

# ---------------------------------------------------------------------------- subform modules
# Subform module -> (parent module, the parent's subform field), per preset (the benchmark has none).
SUBFORMS = {
    "realistic": {
        "Branch_Offices": ("Accounts", "Branch_Offices"),
        "Lead_Contacts": ("Leads", "Lead_Contacts"),
        "Quoted_Items": ("Quotes", "Quoted_Items"),
        "Ordered_Items": ("Sales_Orders", "Ordered_Items"),
        "Invoiced_Items": ("Invoices", "Invoiced_Items"),
        "Purchased_Items": ("Purchase_Orders", "Purchased_Items"),
    },
    "small": {
        "Branch_Offices": ("Accounts", "Branch_Offices"),
        "Lead_Contacts": ("Leads", "Lead_Contacts"),
    },
}
LINE_ITEM_FIELDS = {
    "Product_Name": "lookup",
    "Quantity": "double",
    "List_Price": "currency",
    "Discount": "currency",
    "Total": "currency",
    "Total_After_Discount": "currency",
    "Line_Tax": "linetax",
    "Tax": "currency",
    "Net_Total": "currency",
    "Description": "textarea",
    "Sequence_Number": "integer",
    "Parent_Id": "lookup",
    "Created_Time": "datetime",
    "Modified_Time": "datetime",
}
PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "double": float,
    "boolean": bool,
    "jsonobject": dict,
    "jsonarray": list,
}


@pytest.fixture(params=["realistic", "small"])
def preset_emu(
    request: pytest.FixtureRequest, emu: ZohoCrmEmulator, make_emu: Callable[..., ZohoCrmEmulator]
) -> tuple[str, ZohoCrmEmulator]:
    if request.param == "realistic":
        return "realistic", emu
    return "small", make_emu(preset="small", seed=3)


def test_subform_modules_are_listed_with_their_parent(preset_emu: tuple[str, ZohoCrmEmulator]) -> None:
    preset, emulator = preset_emu
    session = api(emulator)
    modules = {m["api_name"]: m for m in get(session, "/crm/v8/settings/modules").json()["modules"]}
    subforms = {name for name, m in modules.items() if m["generated_type"] == "subform"}
    assert subforms == set(SUBFORMS[preset])
    for name, (parent, field_name) in SUBFORMS[preset].items():
        meta = modules[name]
        assert meta["api_supported"] is True and meta["show_as_tab"] is False
        assert meta["parent_module"] == {"api_name": parent, "id": modules[parent]["id"]}
        assert get(session, f"/crm/v8/settings/modules/{name}").json()["modules"] == [meta]
        # The subform field on the parent names the subform module (Zoho's `subform` and `associated_module`).
        parent_fields = get(session, "/crm/v8/settings/fields", params={"module": parent}).json()["fields"]
        field = next(f for f in parent_fields if f["api_name"] == field_name)
        assert field["data_type"] == "subform" and field["json_type"] == "jsonarray"
        assert field["subform"] == {"module": name, "id": meta["id"]}
        assert field["associated_module"] == {"api_name": name, "module": name}
    assert not {m["parent_module"].get("api_name") for m in modules.values()} - {None, *modules}


def test_benchmark_preset_has_no_subform_modules() -> None:
    bench = ZohoCrmEmulator(EmulatorSettings(preset="benchmark", bench_modules=3, bench_records=5))
    assert not [ms for ms in bench.state.modules.values() if ms.definition.generated_type == "subform"]


def test_subform_fields_metadata(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    for name, (parent, _) in SUBFORMS["realistic"].items():
        fields = get(s, "/crm/v8/settings/fields", params={"module": name}).json()["fields"]
        by_name = {f["api_name"]: f for f in fields}
        assert len(by_name) == len(fields)
        assert by_name["Parent_Id"]["data_type"] == "lookup"
        assert by_name["Parent_Id"]["lookup"]["module"]["api_name"] == parent
        assert by_name["Created_Time"]["data_type"] == by_name["Modified_Time"]["data_type"] == "datetime"
        assert len({f["id"] for f in fields}) == len(fields) and all(f["id"] for f in fields)
        for f in fields:
            assert f.get("json_type") == JSON_TYPES[f["data_type"]], f
    for name in ("Quoted_Items", "Ordered_Items", "Invoiced_Items", "Purchased_Items"):
        fields = get(s, "/crm/v8/settings/fields", params={"module": name}).json()["fields"]
        assert {f["api_name"]: f["data_type"] for f in fields} == LINE_ITEM_FIELDS
        product = next(f for f in fields if f["api_name"] == "Product_Name")
        assert product["lookup"]["module"]["api_name"] == "Products"
    offices = get(s, "/crm/v8/settings/fields", params={"module": "Branch_Offices"}).json()["fields"]
    assert {f["api_name"] for f in offices if f["custom_field"]} == {
        "Office_Name",
        "Office_City",
        "Headcount",
        "Opened_On",
    }
    error(get(s, "/crm/v8/settings/fields", params={"module": "Quoted_Itemz"}), 400, "INVALID_MODULE")


def test_subform_lines_match_their_modules_fields(preset_emu: tuple[str, ZohoCrmEmulator]) -> None:
    """The contract the connector relies on: a line's keys are fields of its subform module, and each line
    validates against the stream schema the connector builds from those fields."""
    preset, emulator = preset_emu
    session = api(emulator)
    for name, (parent, field_name) in SUBFORMS[preset].items():
        fields = get(session, "/crm/v8/settings/fields", params={"module": name}).json()["fields"]
        by_name = {f["api_name"]: f for f in fields}
        schema, warnings = build_stream_schema(fields)
        assert not warnings, (name, warnings)
        validator = jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        parents = emulator.records(parent)
        lines = [line for rec in parents for line in rec[field_name]]
        assert lines, name
        for rec in parents:
            for line in rec[field_name]:
                assert line["Parent_Id"] == {
                    "name": rec[emulator.state.module(parent).definition.name_field],
                    "id": rec["id"],
                }
        for line in lines:
            assert len(line["id"]) == 19 and line["id"].isdigit()
            unknown = {k for k in line if k != "id" and not k.startswith("$")} - set(by_name)
            assert not unknown, (name, unknown)
            errors = list(validator.iter_errors(line))
            assert not errors, (name, errors[0].message)
            for key, value in line.items():
                if key != "id" and value is not None:
                    assert isinstance(value, PYTHON_TYPES[by_name[key]["json_type"]]), (name, key, value)
        assert sorted(line["id"] for line in lines) == sorted(r["id"] for r in emulator.records(name))


def test_line_items_are_priced_consistently(emu: ZohoCrmEmulator) -> None:
    for parent, field_name in (("Quotes", "Quoted_Items"), ("Invoices", "Invoiced_Items")):
        for rec in emu.records(parent):
            for n, line in enumerate(rec[field_name], start=1):
                assert line["Sequence_Number"] == n and line["Quantity"] >= 1
                assert line["Total"] == round(line["Quantity"] * line["List_Price"], 2)
                assert line["Total_After_Discount"] == round(line["Total"] - line["Discount"], 2)
                assert line["Tax"] == round(sum(t["value"] for t in line["Line_Tax"]), 2)
                assert line["Net_Total"] == round(line["Total_After_Discount"] + line["Tax"], 2)
                for tax in line["Line_Tax"]:
                    assert set(tax) == {"name", "id", "percentage", "value"}
                    assert tax["value"] == round(line["Total_After_Discount"] * tax["percentage"] / 100, 2)


def test_get_subform_data(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    expected = {line["id"]: line for line in emu.records("Quoted_Items")}
    quotes = {q["id"]: q["Subject"] for q in emu.records("Quotes")}
    rows, infos = read_chain(s, "Quoted_Items", {"fields": "Product_Name,Quantity,Net_Total"})
    assert {r["id"] for r in rows} == set(expected) and len(rows) == len(expected)
    for row in rows:
        assert set(row) == {"Parent_Id", "Product_Name", "Quantity", "Net_Total", "id"}
        assert row["Parent_Id"] == {"name": quotes[row["Parent_Id"]["id"]], "id": row["Parent_Id"]["id"]}
        assert row == {k: expected[row["id"]][k] for k in row}
    assert set(infos[0]) == INFO_KEYS
    page = get(s, "/crm/v8/Quoted_Items", params={"fields": "Tax", "per_page": 5, "page": 2}).json()
    assert page["info"]["page"] == 2 and len(page["data"]) == 5 and page["info"]["more_records"] is True
    assert set(page["data"][0]) == {"Parent_Id", "Tax", "id"}
    branch = get(s, "/crm/v8/Branch_Offices", params={"fields": "Office_Name,Parent_Id"}).json()["data"]
    assert branch and all(set(r) == {"Parent_Id", "Office_Name", "id"} for r in branch)
    error(get(s, "/crm/v8/Quoted_Items"), 400, "REQUIRED_PARAM_MISSING")
    error(get(s, "/crm/v8/Quoted_Items", params={"fields": "Nope"}), 400, "INVALID_DATA")
    too_many = ",".join(["Quantity"] + [f"F{i}" for i in range(50)])
    error(get(s, "/crm/v8/Quoted_Items", params={"fields": too_many}), 400, "LIMIT_EXCEEDED")
    error(get(s, "/crm/v8/Quoted_Items", params={"fields": "Tax", "per_page": 201}), 400, "INVALID_DATA")


def test_subform_data_needs_the_parent_modules_scope(emu: ZohoCrmEmulator) -> None:
    params = {"fields": "Quantity"}
    quotes = api(emu, ["ZohoCRM.modules.quotes.READ"])
    assert get(quotes, "/crm/v8/Quoted_Items", params=params).status_code == 200
    leads = api(emu, ["ZohoCRM.modules.leads.READ"])
    error(get(leads, "/crm/v8/Quoted_Items", params=params), 401, "OAUTH_SCOPE_MISMATCH")
    assert get(leads, "/crm/v8/Lead_Contacts", params={"fields": "Role"}).status_code == 200


def test_subform_lines_follow_their_records(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emulator = make_emu()
    before = {line["id"] for line in emulator.records("Branch_Offices")}
    created = emulator.create("Accounts", count=6)["ids"]
    new_lines = [
        line for rec in emulator.records("Accounts") if rec["id"] in created for line in rec["Branch_Offices"]
    ]
    assert new_lines
    after = {line["id"] for line in emulator.records("Branch_Offices")}
    assert after == before | {line["id"] for line in new_lines}
    emulator.delete("Accounts", ids=created, type="permanent")
    assert {line["id"] for line in emulator.records("Branch_Offices")} == before
    session = api(emulator)
    rows, _ = read_chain(session, "Branch_Offices", {"fields": "Office_Name", "per_page": 3})
    assert {r["id"] for r in rows} == before
    control = requests.post(f"{emulator.url}/__emulator__/modules/Branch_Offices/modify", json={}, timeout=10)
    assert control.status_code == 400 and "subform" in control.json()["error"]
