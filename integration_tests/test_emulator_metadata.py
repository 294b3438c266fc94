"""The emulator's own tests.
Metadata and data shapes: modules, fields, layouts, data types, values, presets."""

from __future__ import annotations

from collections.abc import Callable

import requests

from integration_tests.emulator_helpers import (
    REQUIRED_TYPES,
    api,
    error,
    field_names,
    get,
)
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator
from zoho_crm_emulator.fields import JSON_TYPES


# ---------------------------------------------------------------------------- metadata and data shapes
def test_metadata_endpoints(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    modules = get(s, "/crm/v8/settings/modules").json()["modules"]
    by_name = {m["api_name"]: m for m in modules}
    assert by_name["Projects"]["generated_type"] == "custom"
    assert by_name["Deals_X_Contacts"]["generated_type"] == "linking"
    assert {"Home", "Analytics", "Feeds", "Visits"} <= {
        m["api_name"] for m in modules if not m["api_supported"]
    }
    for key in (
        "api_name",
        "module_name",
        "plural_label",
        "singular_label",
        "id",
        "generated_type",
        "api_supported",
        "creatable",
        "viewable",
        "status",
        "visibility",
        "parent_module",
        "profiles",
        "modified_time",
    ):
        assert key in by_name["Leads"]
    org = get(s, "/crm/v8/org").json()["org"][0]
    assert org["license_details"]["paid_type"] == "enterprise" and org["time_zone"] == "Asia/Kolkata"
    page = get(s, "/crm/v8/users", params={"type": "AllUsers", "per_page": 5}).json()
    assert len(page["users"]) == 5 and page["info"]["more_records"] is True
    active = get(s, "/crm/v8/users", params={"type": "ActiveUsers"}).json()["users"]
    assert active and all(u["status"] == "active" for u in active)
    assert len(get(s, "/crm/v8/settings/roles").json()["roles"]) >= 3
    assert len(get(s, "/crm/v8/settings/profiles").json()["profiles"]) >= 2
    assert len(get(s, "/crm/v8/org/currencies").json()["currencies"]) == 3
    assert len(get(s, "/crm/v8/settings/territories").json()["territories"]) == 2
    layouts = get(s, "/crm/v8/settings/layouts", params={"module": "Leads"}).json()["layouts"]
    assert layouts[0]["sections"][0]["fields"]


def test_territories_disabled(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(territories_enabled=False, edition="Standard")
    session = api(emu)
    error(get(session, "/crm/v8/settings/territories"), 400, "TERRITORY_NOT_ENABLED")
    assert get(session, "/crm/v8/org").json()["org"][0]["license_details"]["paid_type"] == "standard"


def test_leads_fields_cover_every_data_type(s: requests.Session) -> None:
    fields = get(s, "/crm/v8/settings/fields", params={"module": "Leads"}).json()["fields"]
    types = {f["data_type"] for f in fields}
    assert types >= REQUIRED_TYPES and "hologram" in types
    assert any("json_type" not in f for f in fields)
    assert {f["formula"]["return_type"] for f in fields if f["data_type"] == "formula"} >= {
        "text",
        "double",
        "date",
    }
    tag = next(f for f in fields if f["api_name"] == "Tag")
    assert tag["json_type"] == "jsonarray"
    for f in fields:
        for key in (
            "api_name",
            "display_label",
            "field_label",
            "data_type",
            "length",
            "decimal_place",
            "system_mandatory",
            "custom_field",
            "read_only",
            "visible",
            "lookup",
            "pick_list_values",
        ):
            assert key in f
    lookup = next(f for f in fields if f["api_name"] == "Converted_Account")
    assert lookup["lookup"]["module"]["api_name"] == "Accounts"
    picklist = next(f for f in fields if f["api_name"] == "Lead_Source")
    assert {"display_value", "actual_value"} <= set(picklist["pick_list_values"][0])


def test_record_values_are_well_formed(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    fields = {
        f["api_name"]: f
        for f in get(s, "/crm/v8/settings/fields", params={"module": "Leads"}).json()["fields"]
    }
    account_ids = {r["id"] for r in emu.records("Accounts")}
    records = emu.records("Leads")
    assert len(records) == 2450
    for rec in records:
        assert len(rec["id"]) == 19 and rec["id"].isdigit()
        assert rec["Modified_Time"] >= rec["Created_Time"] and rec["Created_Time"].endswith("+05:30")
        for name, value in rec.items():
            if value is None or name.startswith("$") or name == "id":
                continue
            json_type = fields[name].get("json_type") or JSON_TYPES.get(fields[name]["data_type"], "integer")
            expected = {
                "string": str,
                "integer": int,
                "double": float,
                "boolean": bool,
                "jsonobject": dict,
                "jsonarray": list,
            }[json_type]
            assert isinstance(value, expected), (name, value)
        if rec["Converted_Account"]:
            assert rec["Converted_Account"]["id"] in account_ids
    assert isinstance(records[0]["Employee_Count_Big"] or "", str)
    assert any(r["Lead_Contacts"] and r["Lead_Contacts"][0]["id"] for r in records)


def test_special_modules(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    def names(module: str) -> set[str]:
        return set(field_names(s, module))

    assert "Created_Time" in names("Deals_X_Contacts") and "Modified_Time" not in names("Deals_X_Contacts")
    assert {"Action_Performed_Time"} <= names("Actions_Performed")
    assert not {"Created_Time", "Modified_Time"} & names("Actions_Performed")
    pba = get(s, "/crm/v8/settings/fields", params={"module": "Price_Books_Archive"}).json()["fields"]
    assert not [f for f in pba if f["data_type"] == "datetime"]
    items = emu.records("Quotes")
    assert any(q["Quoted_Items"] and q["Quoted_Items"][0]["Product_Name"]["id"] for q in items)
    assert "Branch_Offices" in names("Accounts")


def test_determinism() -> None:
    a = ZohoCrmEmulator(EmulatorSettings(seed=11, preset="small"))
    b = ZohoCrmEmulator(EmulatorSettings(seed=11, preset="small"))
    c = ZohoCrmEmulator(EmulatorSettings(seed=12, preset="small"))
    assert a.records("Leads") == b.records("Leads") and a.credentials == b.credentials
    assert a.records("Leads") != c.records("Leads")
    assert a.deleted_records("Contacts") == b.deleted_records("Contacts")


def test_benchmark_preset() -> None:
    emu = ZohoCrmEmulator(
        EmulatorSettings(preset="benchmark", bench_modules=5, bench_records=40, bench_fields=15)
    )
    names = list(emu.state.modules)
    assert names == ["Leads", "Contacts", "Accounts", "Deals", "Module_5"]
    assert all(len(emu.records(n)) == 40 and len(emu.state.modules[n].definition.fields) == 15 for n in names)
