"""The emulator's own tests.
Records: fields, paging, page tokens, ids, If-Modified-Since, converted leads, sorting, deletions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests

from integration_tests.emulator_helpers import (
    INFO_KEYS,
    api,
    error,
    field_names,
    get,
    read_chain,
)
from zoho_crm_emulator import ZohoCrmEmulator


# ---------------------------------------------------------------------------- records
def test_fields_parameter(s: requests.Session) -> None:
    error(get(s, "/crm/v8/Leads"), 400, "REQUIRED_PARAM_MISSING")
    names = field_names(s, "Leads")
    assert len(names) > 50
    too_many = error(get(s, "/crm/v8/Leads", params={"fields": ",".join(names[:51])}), 400, "LIMIT_EXCEEDED")
    assert too_many["details"]["limit"] == 50
    error(get(s, "/crm/v8/Leads", params={"fields": "Last_Name,Not_A_Field"}), 400, "INVALID_DATA")
    body = get(s, "/crm/v8/Leads", params={"fields": "Last_Name,Email,Owner", "per_page": 5}).json()
    assert len(body["data"]) == 5 and all(
        set(r) == {"Last_Name", "Email", "Owner", "id"} for r in body["data"]
    )
    assert (
        set(body["info"]) == INFO_KEYS
        and body["info"]["sort_by"] == "id"
        and body["info"]["sort_order"] == "desc"
    )
    ids = [int(r["id"]) for r in body["data"]]
    assert ids == sorted(ids, reverse=True)


def test_discrete_pagination_wall(s: requests.Session) -> None:
    tenth = get(s, "/crm/v8/Leads", params={"fields": "Last_Name", "page": 10})
    assert tenth.status_code == 200 and tenth.json()["info"]["more_records"] is True
    assert tenth.json()["info"]["page"] == 10 and tenth.json()["info"]["next_page_token"]
    error(
        get(s, "/crm/v8/Leads", params={"fields": "Last_Name", "page": 11}),
        400,
        "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
    )


def test_page_token_chain_reads_all_leads(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    names = field_names(s, "Leads")
    expected = {
        r["id"]: {k: v for k, v in r.items() if not k.startswith("$")}
        for r in emu.records("Leads")
        if not r["$converted"]
    }
    assert len(expected) > 2000
    rows: dict[str, dict[str, Any]] = {}
    for chunk in (names[:50], names[50:]):  # a module with > 50 fields needs two chains merged by id
        data, infos = read_chain(
            s, "Leads", {"fields": ",".join(chunk), "sort_by": "Modified_Time", "sort_order": "asc"}
        )
        assert infos[0]["next_page_token"] and infos[0]["page_token_expiry"]
        assert [i["page"] for i in infos] == list(range(1, len(infos) + 1))
        assert infos[1]["previous_page_token"] is None and infos[2]["previous_page_token"]
        assert infos[-1]["next_page_token"] is None
        assert len(data) == len({r["id"] for r in data})
        for row in data:
            rows.setdefault(row["id"], {}).update(row)
    assert rows == expected
    count = get(s, "/crm/v8/Leads/actions/count").json()
    assert count == {"count": len(expected)}


def test_page_token_bound_to_query(s: requests.Session) -> None:
    params = {"fields": "Last_Name", "per_page": 50}
    headers = {"If-Modified-Since": "2025-02-01T00:00:00+05:30"}
    first = get(s, "/crm/v8/Leads", params=params, headers=headers).json()
    token = first["info"]["next_page_token"]
    assert get(s, "/crm/v8/Leads", params={**params, "page_token": token}, headers=headers).status_code == 200
    for changed_params, changed_headers in (
        ({**params, "per_page": 40}, headers),
        ({**params, "fields": "Last_Name,Email"}, headers),
        ({**params, "sort_order": "asc"}, headers),
        (params, {"If-Modified-Since": "2025-02-01T00:00:01+05:30"}),
        (params, None),
    ):
        response = get(
            s, "/crm/v8/Leads", params={**changed_params, "page_token": token}, headers=changed_headers
        )
        error(response, 400, "TOKEN_BOUND_DATA_MISMATCH")
    error(
        get(s, "/crm/v8/Contacts", params={**params, "page_token": token}, headers=headers),
        400,
        "TOKEN_BOUND_DATA_MISMATCH",
    )
    error(
        get(s, "/crm/v8/Leads", params={**params, "page_token": token, "page": 2}, headers=headers),
        400,
        "AMBIGUITY_DURING_PROCESSING",
    )


def test_page_token_expiry_and_chain_limit(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(page_token_ttl=1)
    session = api(emu)
    first = get(session, "/crm/v8/Leads", params={"fields": "Last_Name", "per_page": 5}).json()
    expiry = datetime.fromisoformat(first["info"]["page_token_expiry"])
    assert expiry.utcoffset() == timedelta(hours=5, minutes=30)
    time.sleep(1.1)
    expired = get(
        session,
        "/crm/v8/Leads",
        params={"fields": "Last_Name", "per_page": 5, "page_token": first["info"]["next_page_token"]},
    )
    assert error(expired, 400, "EXPIRED_VALUE")["message"] == "Page token expired"
    emu.update_settings(page_token_ttl=86400, page_token_chain_limit=10)
    rows, token = 0, None
    for _ in range(3):
        body = get(
            session,
            "/crm/v8/Leads",
            params={"fields": "Last_Name", "per_page": 4, **({"page_token": token} if token else {})},
        ).json()
        rows += len(body["data"])
        token = body["info"]["next_page_token"]
    assert rows == 10 and token
    error(
        get(session, "/crm/v8/Leads", params={"fields": "Last_Name", "per_page": 4, "page_token": token}),
        400,
        "PAGINATION_LIMIT_EXCEEDED",
    )


def test_keyset_and_offset_tokens_under_deletion(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    for mode, skipped in (("keyset", 0), ("offset", 1)):
        emu = make_emu(page_token_mode=mode)
        session = api(emu)
        params = {"fields": "Last_Name", "per_page": 5, "sort_order": "asc"}
        first = get(session, "/crm/v8/Contacts", params=params).json()
        emu.delete("Contacts", ids=[first["data"][0]["id"]])
        rest, _ = read_chain(session, "Contacts", params | {"page_token": first["info"]["next_page_token"]})
        remaining = sorted((r["id"] for r in emu.records("Contacts")), key=int)
        assert [r["id"] for r in rest] == remaining[4 + skipped :]


def test_ids_parameter(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    ids = [r["id"] for r in emu.records("Contacts")[:3]]
    body = get(s, "/crm/v8/Contacts", params={"fields": "Last_Name", "ids": ",".join(ids)}).json()
    assert sorted(r["id"] for r in body["data"]) == sorted(ids) and body["info"]["more_records"] is False
    many = ",".join(r["id"] for r in emu.records("Contacts")[:101])
    assert (
        error(get(s, "/crm/v8/Contacts", params={"fields": "Last_Name", "ids": many}), 400, "LIMIT_EXCEEDED")[
            "details"
        ]["limit"]
        == 100
    )


def test_if_modified_since(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    records = [r for r in emu.records("Contacts")]
    times = sorted({r["Modified_Time"] for r in records})
    pivot = times[len(times) // 2]
    inclusive = [r["id"] for r in records if r["Modified_Time"] >= pivot]
    rows, _ = read_chain(s, "Contacts", {"fields": "Modified_Time"}, {"If-Modified-Since": pivot})
    assert sorted(r["id"] for r in rows) == sorted(inclusive)
    as_utc = datetime.fromisoformat(pivot).astimezone(
        datetime.fromisoformat("2025-01-01T00:00:00+00:00").tzinfo
    )
    rows_utc, _ = read_chain(
        s,
        "Contacts",
        {"fields": "Modified_Time"},
        {"If-Modified-Since": as_utc.isoformat().replace("+00:00", "Z")},
    )
    assert sorted(r["id"] for r in rows_utc) == sorted(inclusive)
    after = (datetime.fromisoformat(times[-1]) + timedelta(seconds=1)).isoformat()
    nothing = get(s, "/crm/v8/Contacts", params={"fields": "Last_Name"}, headers={"If-Modified-Since": after})
    assert nothing.status_code == 304 and nothing.content == b""
    # several records share one Modified_Time second
    assert max(sum(1 for r in records if r["Modified_Time"] == t) for t in times) >= 3


def test_if_modified_since_exclusive_and_204(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(if_modified_since_inclusive=False)
    session = api(emu)
    records = emu.records("Accounts")
    pivot = sorted(r["Modified_Time"] for r in records)[5]
    rows, _ = read_chain(session, "Accounts", {"fields": "Account_Name"}, {"If-Modified-Since": pivot})
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in records if r["Modified_Time"] > pivot)
    emu.delete("Deals_X_Contacts", count=100)
    empty = get(
        session,
        "/crm/v8/Deals_X_Contacts",
        params={"fields": "Contact_Role"},
        headers={"If-Modified-Since": pivot},
    )
    assert empty.status_code == 204 and empty.content == b""


def test_converted_leads(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    counts = {
        c: get(s, "/crm/v8/Leads/actions/count", params={"converted": c}).json()["count"]
        for c in ("true", "false", "both")
    }
    assert counts["true"] + counts["false"] == counts["both"] == len(emu.records("Leads"))
    assert 0.05 < counts["true"] / counts["both"] < 0.15
    rows, _ = read_chain(
        s, "Leads", {"fields": "$converted,Converted_Deal,Converted_Date_Time", "converted": "true"}
    )
    assert len(rows) == counts["true"]
    assert all(r["$converted"] is True and r["Converted_Date_Time"] for r in rows)


def test_sorting(s: requests.Session) -> None:
    rows, _ = read_chain(
        s, "Deals", {"fields": "Modified_Time", "sort_by": "Modified_Time", "sort_order": "asc"}
    )
    keys = [(datetime.fromisoformat(r["Modified_Time"]), int(r["id"])) for r in rows]
    assert keys == sorted(keys) and len(rows) == 200
    error(
        get(s, "/crm/v8/Deals_X_Contacts", params={"fields": "Contact_Role", "sort_by": "Modified_Time"}),
        400,
        "INVALID_DATA",
    )


def test_permissions_and_bad_modules(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    modules = {m["api_name"]: m for m in get(s, "/crm/v8/settings/modules").json()["modules"]}
    assert modules["Campaigns"]["api_supported"] is True
    error(get(s, "/crm/v8/Campaigns", params={"fields": "Campaign_Name"}), 403, "NO_PERMISSION")
    error(get(s, "/crm/v8/settings/fields", params={"module": "Campaigns"}), 403, "NO_PERMISSION")
    error(get(s, "/crm/v8/Campaigns/actions/count"), 403, "NO_PERMISSION")
    error(get(s, "/crm/v8/Nope", params={"fields": "Name"}), 400, "INVALID_MODULE")
    error(get(s, "/crm/v8/Visits", params={"fields": "Name"}), 400, "INVALID_MODULE")
    error(get(s, "/crm/v8/settings/fields", params={"module": "Nope"}), 400, "INVALID_MODULE")
    error(get(s, "/crm/v8/settings/fields"), 400, "REQUIRED_PARAM_MISSING")
    error(get(s, "/crm/v2/Leads"), 404, "INVALID_URL_PATTERN")
    error(get(s, "/crm/v8/settings/unknown"), 404, "INVALID_URL_PATTERN")


def test_deleted_records(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    body = get(s, "/crm/v8/Leads/deleted").json()
    assert body["data"] and len(body["data"]) == len(emu.deleted_records("Leads"))
    assert all(
        set(d) == {"id", "display_name", "type", "deleted_time", "deleted_by", "created_by"}
        for d in body["data"]
    )
    recycle = get(s, "/crm/v8/Leads/deleted", params={"type": "recycle"}).json()["data"]
    assert recycle and all(d["type"] == "recycle" for d in recycle)
    assert get(s, "/crm/v8/Accounts/deleted").status_code == 204
    latest = max(d["deleted_time"] for d in body["data"])
    only = get(s, "/crm/v8/Leads/deleted", headers={"If-Modified-Since": latest}).json()["data"]
    assert [d["deleted_time"] for d in only] == [latest]
