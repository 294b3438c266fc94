"""The emulator as strict as Zoho: single-record-only values, refusals, real shapes, switches, the pessimistic
setting. Zoho's own example bodies (integration_tests/fixtures/zoho_examples/) are replayed against it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, real_org
from zoho_crm_emulator.projection import cut_rich_text
from zoho_crm_emulator.settings import PESSIMISTIC

EXAMPLES = Path(__file__).parent / "fixtures" / "zoho_examples"
# Zoho's 68-module list (v7 docs) is package data: the real_org_shapes setting serves it.
REAL_MODULES = json.loads((Path(real_org.__file__).parent / "data" / "modules_v7.json").read_text("utf-8"))


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def real() -> Iterator[ZohoCrmEmulator]:
    """The realistic org shaped like Zoho's examples, in the pessimistic setting; not mutated by tests."""
    with ZohoCrmEmulator(EmulatorSettings(seed=7, preset="realistic", strictness="pessimistic")) as emulator:
        yield emulator


class Api:
    def __init__(self, emu: ZohoCrmEmulator):
        creds = emu.credentials
        form = {"grant_type": "refresh_token", **{k: creds[k] for k in ("client_id", "client_secret")}}
        form["refresh_token"] = creds["refresh_token"]
        token = requests.post(f"{emu.url}/oauth/v2/token", data=form, timeout=10).json()["access_token"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        self.url = emu.url

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(f"{self.url}/crm/v8/{path}", timeout=30, **kwargs)


@pytest.fixture(scope="module")
def rapi(real: ZohoCrmEmulator) -> Api:
    return Api(real)


def fields_of(api: Api, module: str) -> dict[str, dict[str, Any]]:
    return {f["api_name"]: f for f in api.get("settings/fields", params={"module": module}).json()["fields"]}


# ---------------------------------------------------------------------------- settings
def test_pessimistic_setting_turns_every_switch_to_its_worst_reading() -> None:
    default, worst = EmulatorSettings(), EmulatorSettings(strictness="pessimistic")
    for name, value in PESSIMISTIC.items():
        assert getattr(default, name) != value, name
        assert getattr(worst, name) == value, name
    # A setting given explicitly (not at its default) wins over the pessimistic value.
    assert EmulatorSettings(strictness="pessimistic", page_token_mode="keyset").page_token_mode == "offset"
    assert EmulatorSettings(strictness="pessimistic", throttle_locale="en").throttle_locale == "zh"
    assert EmulatorSettings(strictness="pessimistic", deleted_retention_days=5).deleted_retention_days == 5
    with pytest.raises(ValueError, match="strictness"):
        EmulatorSettings(strictness="harsh")
    names = {f.name for f in dataclasses.fields(EmulatorSettings)}
    assert set(PESSIMISTIC) <= names


# ---------------------------------------------------------------------------- single-record-only values
def test_subform_multi_lookup_and_line_items_only_on_single_record_gets(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = make_emu(preset="realistic", related_values_in_lists=False)
    api = Api(emu)
    hidden = ["Related_Products", "Assigned_Team", "Lead_Contacts"]
    rows = api.get("Leads", params={"fields": ",".join([*hidden, "Last_Name"])}).json()["data"]
    assert rows and all(row[name] is None for row in rows for name in hidden)
    assert all(row["Last_Name"] for row in rows)
    full = {r["id"]: r for r in emu.records("Leads")}
    one = api.get(f"Leads/{rows[0]['id']}").json()["data"][0]
    assert [one[name] for name in hidden] == [full[rows[0]["id"]][name] for name in hidden]
    assert any(full[r["id"]]["Related_Products"] for r in rows)  # there were values to hide
    quotes = api.get("Quotes", params={"fields": "Quoted_Items,Subject"}).json()["data"]
    assert all(q["Quoted_Items"] is None for q in quotes)
    with_lines = next(q["id"] for q in emu.records("Quotes") if q["Quoted_Items"])
    assert api.get(f"Quotes/{with_lines}").json()["data"][0]["Quoted_Items"]
    by_ids = api.get("Leads", params={"fields": "Related_Products", "ids": rows[0]["id"]}).json()["data"]
    assert by_ids[0]["Related_Products"] is None
    # The default keeps them in list GETs (until the connector reads them elsewhere).
    kind = make_emu(preset="realistic", seed=7)
    listed = Api(kind).get("Quotes", params={"fields": "Quoted_Items"}).json()["data"]
    assert any(q["Quoted_Items"] for q in listed)


def test_line_item_modules_and_subform_page_tokens_switches(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(preset="realistic", line_item_module_reads=False, subform_module_paging="page_only")
    api = Api(emu)
    refused = api.get("Quoted_Items", params={"fields": "Quantity"})
    assert refused.status_code == 400 and refused.json()["code"] == "INVALID_MODULE"
    assert refused.json()["message"] == "The given module is not supported in API"
    lines = api.get("Branch_Offices", params={"fields": "Office_Name", "per_page": 5})
    assert lines.status_code == 200 and lines.json()["info"]["more_records"]
    token = lines.json()["info"]["next_page_token"]
    again = api.get("Branch_Offices", params={"fields": "Office_Name", "per_page": 5, "page_token": token})
    assert again.status_code == 400 and again.json()["details"]["param"] == "page_token"
    future = {"If-Modified-Since": "2030-01-01T00:00:00+00:00"}
    ignored = api.get("Branch_Offices", params={"fields": "Office_Name"}, headers=future)
    assert ignored.status_code == 200  # the header is ignored: every line again
    assert api.get("Leads", params={"fields": "Last_Name"}, headers=future).status_code == 304


def test_if_modified_since_on_modules_without_modified_time(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    old = {"If-Modified-Since": "2000-01-01T00:00:00+00:00"}
    params = {"fields": "Name"}
    ignoring = Api(make_emu(preset="realistic"))
    assert ignoring.get("Price_Books_Archive", params=params, headers=old).status_code == 200
    worst = Api(make_emu(preset="realistic", ims_without_modified_time="304"))
    assert worst.get("Price_Books_Archive", params=params, headers=old).status_code == 304
    assert worst.get("Price_Books_Archive", params=params).status_code == 200


# ---------------------------------------------------------------------------- Zoho's real module list
def test_module_kinds_of_zohos_real_list(rapi: Api) -> None:
    modules = {m["api_name"]: m for m in rapi.get("settings/modules").json()["modules"]}
    kinds = {m["generated_type"] for m in modules.values()}
    assert {"default", "custom", "linking", "subform", "static_subform", "field_tracker"} <= kinds
    assert {"picklisttracker", "webtab_link"} <= kinds
    assert any(not m["viewable"] for m in modules.values())
    assert any(name.endswith("__s") and m["api_supported"] for name, m in modules.items())
    for name in ("Approvals", "Attachments", "Email_Analytics", "Notes", "LeadsXProducts", "Leads_X_Users"):
        assert modules[name]["api_supported"], name
    assert modules["DealHistory"]["parent_module"]["api_name"] == "Deals"
    assert modules["Purchase_Items"]["parent_module"]["api_name"] == "Purchase_Orders"
    assert "Purchased_Items" not in modules
    real_names = {m["api_name"] for m in REAL_MODULES["modules"]}
    missing = real_names - set(modules)
    # Only subform/linking modules of fields this org lacks are left out.
    assert missing == {"Alternate_Address", "Contact_details", "Contacts_X_Accounts", "Contacts_X_Leads"}
    keys = set(REAL_MODULES["modules"][2])
    assert keys - set(modules["Leads"]) <= {
        "access_type",
        "actual_plural_label",
        "actual_singular_label",
        "private_profile",
    }


def test_refused_modules(rapi: Api) -> None:
    fields = rapi.get("settings/fields", params={"module": "Email_Analytics"})
    assert fields.status_code == 204 and fields.content == b""
    invalid = rapi.get("settings/fields", params={"module": "Approvals"})
    assert (invalid.status_code, invalid.json()["code"]) == (400, "INVALID_MODULE")
    assert invalid.json()["message"] == "The given module is not supported in API"
    not_supported = rapi.get("settings/fields", params={"module": "Data_Subject_Requests"})
    assert (not_supported.status_code, not_supported.json()["code"]) == (403, "NOT_SUPPORTED")
    no_permission = rapi.get("Locking_Information__s", params={"fields": "Name"})
    assert (no_permission.status_code, no_permission.json()["code"]) == (403, "NO_PERMISSION")
    assert set(no_permission.json()) == set(example("crmoas_v8_getDeletedRecords_403-nopermission.json"))
    refused = rapi.get("Data_Enrichment_Stats__s", params={"fields": "Name"})
    assert (refused.status_code, refused.json()["code"]) == (400, "AUTHORIZATION_FAILED")
    deleted = rapi.get("Data_Enrichment_Stats__s/deleted")
    assert deleted.status_code == 400 and deleted.json()["data"][0]["code"] == "AUTHORIZATION_FAILED"
    readable = rapi.get("Tasks", params={"fields": "Name,Modified_Time"})
    assert readable.status_code == 200 and readable.json()["data"]


def test_linking_module_rows_agree_with_the_parents_values(real: ZohoCrmEmulator, rapi: Api) -> None:
    leads = real.records("Leads")
    expected_products = {
        (lead["id"], v["Products"]["id"], v["id"]) for lead in leads for v in lead["Related_Products"] or []
    }
    expected_users = {
        (lead["id"], v["Users"]["id"], v["id"]) for lead in leads for v in lead["Assigned_Team"] or []
    }
    assert expected_products and expected_users
    products = {(r["Leads"]["id"], r["Products"]["id"], r["id"]) for r in real.records("LeadsXProducts")}
    users = {(r["Leads"]["id"], r["Users"]["id"], r["id"]) for r in real.records("Leads_X_Users")}
    assert (products, users) == (expected_products, expected_users)
    page = rapi.get("LeadsXProducts", params={"fields": "Leads,Products", "per_page": 3}).json()["data"]
    assert {(r["Leads"]["id"], r["Products"]["id"], r["id"]) for r in page} <= expected_products
    history = rapi.get("DealHistory", params={"fields": "Stage,Parent_Id,Duration_Days,Modified_Time"})
    assert history.status_code == 200
    deals = {d["id"] for d in real.records("Deals")}
    assert all(row["Parent_Id"]["id"] in deals for row in history.json()["data"])


def test_field_metadata_in_zohos_real_shapes(real: ZohoCrmEmulator, rapi: Api) -> None:
    zoho = {f["api_name"]: f for f in example("v7doc_settings_fields_Leads.json")["fields"]}
    leads = fields_of(rapi, "Leads")
    subform = leads["Lead_Contacts"]
    assert subform["subform"] is None and set(subform["associated_module"]) == {"module", "id"}
    assert set(subform["associated_module"]) == set(zoho["Alternate_Address"]["associated_module"])
    orders = fields_of(rapi, "Purchase_Orders")["Purchased_Items"]
    assert orders["associated_module"]["module"] == "Purchase_Items"  # not the field's name
    msl = leads["Related_Products"]
    assert msl["multiselectlookup"]["linking_module"]["api_name"] == "LeadsXProducts"
    assert set(zoho["Products"]["multiselectlookup"]) <= set(msl["multiselectlookup"]) | {"api_name"}
    assert msl["linking_details"]["module"]["api_name"] == "LeadsXProducts"
    assert leads["Assigned_Team"]["linking_details"]["module"]["api_name"] == "Leads_X_Users"
    for name, data_type in (("Wizard", "bigint"), ("Layout", "layout"), ("Territories", "territories")):
        assert (leads[name]["data_type"], zoho[name]["data_type"]) == (data_type, data_type)
        assert leads[name]["json_type"] == zoho[name]["json_type"], name
    assert leads["Rich_Notes"]["textarea"] == zoho["Name1"]["textarea"] == {"type": "rich_text"}
    wizards = [r["Wizard"] for r in real.records("Leads") if r["Wizard"] is not None]
    assert wizards and all(set(w) == {"id", "name"} for w in wizards)


def test_rich_text_cut_in_lists_and_whole_from_fetch_full_data(real: ZohoCrmEmulator, rapi: Api) -> None:
    full = {r["id"]: r["Rich_Notes"] for r in real.records("Leads") if r["Rich_Notes"]}
    rows = rapi.get("Leads", params={"fields": "Rich_Notes", "per_page": 200}).json()["data"]
    long = [r for r in rows if r["id"] in full and len(full[r["id"]]) > 500]
    # The pessimistic setting counts the 500 in UTF-8 bytes: values with multi-byte characters come
    # back shorter than 500 characters, yet cut.
    assert real.settings.rich_text_cut_unit == "bytes"
    assert long and all(r["Rich_Notes"] == cut_rich_text(full[r["id"]], 500, "bytes") for r in long)
    assert any(len(r["Rich_Notes"]) < 500 for r in long)
    assert any(len(full[r["id"]]) < 500 and r["Rich_Notes"] == full[r["id"]] for r in rows if r["id"] in full)
    ids = [r["id"] for r in long[:3]]
    whole = rapi.get("Leads/actions/fetch_full_data", params={"ids": ",".join(ids), "fields": "Rich_Notes"})
    assert {r["id"]: r["Rich_Notes"] for r in whole.json()["data"]} == {i: full[i] for i in ids}
    one = rapi.get(f"Leads/{ids[0]}/actions/fetch_full_data", params={"fields": "Rich_Notes"}).json()
    assert one["data"] == [{"id": ids[0], "Rich_Notes": full[ids[0]]}]
    assert rapi.get(f"Leads/{ids[0]}").json()["data"][0]["Rich_Notes"] == full[ids[0]]
    not_rich = rapi.get("Leads/actions/fetch_full_data", params={"ids": ids[0], "fields": "Last_Name"})
    assert not_rich.status_code == 400 and not_rich.json()["code"] == "INVALID_DATA"
    assert rapi.get("Leads/actions/fetch_full_data", params={"fields": "Rich_Notes"}).status_code == 400


# ---------------------------------------------------------------------------- deleted records
def test_deleted_records_errors_come_wrapped_like_zohos(rapi: Api) -> None:
    unknown = rapi.get("Nope/deleted")
    assert unknown.status_code == 400
    assert unknown.json() == example("crmoas_v8_getDeletedRecords_400-invalidmodule_wrapped.json")
    pattern = rapi.get("Leads/deleted", params={"type": "everything"})
    assert pattern.status_code == 400
    assert pattern.json() == example("crmoas_v8_getDeletedRecords_400-patternnotmatched_wrapped.json")
    forbidden = rapi.get("Campaigns/deleted")  # 403s are not wrapped
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "NO_PERMISSION"
    # The generated deletions lie months back, beyond the pessimistic setting's 60 days.
    assert rapi.get("Contacts/deleted").status_code == 204


def test_deleted_entries_are_kept_for_the_retention_days(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(deleted_retention_days=60)
    api = Api(emu)
    now = datetime.now(timezone.utc)
    old = emu.delete("Leads", count=2, deleted_time=(now - timedelta(days=61)).isoformat())
    recent = emu.delete("Leads", count=2, deleted_time=(now - timedelta(days=59)).isoformat())
    data = api.get("Leads/deleted").json()["data"]
    listed = {d["id"] for d in data}
    assert set(recent["ids"]) <= listed and not set(old["ids"]) & listed
    assert set(data[0]) == set(example("v7doc_Leads_deleted.json")["data"][0])
    keep_all = make_emu()
    gone = keep_all.delete("Leads", count=1, deleted_time=(now - timedelta(days=400)).isoformat())
    assert set(gone["ids"]) <= {d["id"] for d in Api(keep_all).get("Leads/deleted").json()["data"]}


# ---------------------------------------------------------------------------- clock and OAuth
def test_date_header_and_now_follow_zohos_clock(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(clock_offset_seconds=-7200)
    response = Api(emu).get("Leads", params={"fields": "Last_Name"})
    zoho_now = parsedate_to_datetime(response.headers["Date"])
    local = datetime.now(timezone.utc)
    assert timedelta(hours=1) < local - zoho_now < timedelta(hours=3)
    created = datetime.fromisoformat(emu.create("Leads", count=1)["modified_time"])
    assert abs(created - zoho_now) < timedelta(minutes=30)
    emu.update_settings(clock_offset_seconds=0)
    later = parsedate_to_datetime(Api(emu).get("Leads", params={"fields": "Last_Name"}).headers["Date"])
    assert abs(later - datetime.now(timezone.utc)) < timedelta(minutes=30)


def test_wrong_client_secret_and_localised_throttle(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(strictness="pessimistic", token_throttle=1)
    creds = emu.credentials
    url = f"{emu.url}/oauth/v2/token"
    form = {"grant_type": "refresh_token", **creds}
    assert requests.post(url, data={**form, "client_secret": "bad"}, timeout=10).json() == {
        "error": "invalid_client_secret"
    }
    assert requests.post(url, data={**form, "client_id": "bad"}, timeout=10).json() == {
        "error": "invalid_client"
    }
    assert "access_token" in requests.post(url, data=form, timeout=10).json()
    throttled = requests.post(url, data=form, timeout=10).json()
    assert throttled["status"] == "failure" and set(throttled) == {"status", "error", "error_description"}
    assert not throttled["error_description"].isascii()
    kind = make_emu()
    assert requests.post(
        f"{kind.url}/oauth/v2/token",
        data={"grant_type": "refresh_token", **kind.credentials, "client_secret": "x"},
        timeout=10,
    ).json() == {"error": "invalid_client"}


def test_api_credits_per_call_header_from_half_used_and_429_when_spent(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = make_emu(api_credits=6)
    api = Api(emu)
    first = api.get("Leads", params={"fields": "Last_Name", "per_page": 200})
    second = api.get("Leads", params={"fields": "Last_Name", "per_page": 1})
    assert "X-API-CREDITS-REMAINING" not in first.headers and "X-API-CREDITS-REMAINING" not in second.headers
    third = api.get("settings/modules")
    assert third.headers["X-API-CREDITS-REMAINING"] == "3"  # one credit per call, whatever per_page
    for left in ("2", "1", "0"):
        assert api.get("org").headers["X-API-CREDITS-REMAINING"] == left
    spent = api.get("Leads", params={"fields": "Last_Name"})
    assert (spent.status_code, spent.json()["code"]) == (429, "TOO_MANY_REQUESTS")
    emu.update_settings(api_credits=None)  # the edition's allowance: Enterprise, 50,000 + 1,000 per user
    assert "X-API-CREDITS-REMAINING" not in api.get("org").headers


def test_the_pessimistic_setting_at_run_time_leaves_the_built_org_alone(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = make_emu()
    emu.update_settings(strictness="pessimistic")
    assert emu.settings.page_token_mode == "offset" and emu.settings.related_values_in_lists is False
    assert emu.settings.real_org_shapes is False  # build-only: the module list does not change under a test
    with pytest.raises(ValueError, match="real_org_shapes"):
        emu.settings.update({"real_org_shapes": True})
