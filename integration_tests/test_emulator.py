"""Tests of the Zoho CRM emulator itself: the Zoho behaviours the connector's end-to-end tests rely on."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests

from source_zoho_crm.schema_builder import build_stream_schema
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator
from zoho_crm_emulator.fields import JSON_TYPES

REPO = Path(__file__).resolve().parents[1]
INFO_KEYS = {
    "call",
    "per_page",
    "count",
    "page",
    "more_records",
    "next_page_token",
    "previous_page_token",
    "page_token_expiry",
    "email",
    "sort_by",
    "sort_order",
}
REQUIRED_TYPES = {
    "text",
    "textarea",
    "mediumtext",
    "email",
    "phone",
    "website",
    "profileimage",
    "autonumber",
    "picklist",
    "multiselectpicklist",
    "integer",
    "bigint",
    "double",
    "decimal",
    "currency",
    "percent",
    "boolean",
    "date",
    "datetime",
    "event_reminder",
    "lookup",
    "ownerlookup",
    "userlookup",
    "multiuserlookup",
    "multiselectlookup",
    "multi_module_lookup",
    "formula",
    "rollup_summary",
    "subform",
    "fileupload",
    "imageupload",
    "consent_lookup",
}


# ---------------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    """The realistic org; tests must not mutate it (use `make_emu` for that)."""
    with ZohoCrmEmulator(EmulatorSettings(seed=7, preset="realistic")) as emulator:
        yield emulator


@pytest.fixture
def make_emu() -> Iterator[Callable[..., ZohoCrmEmulator]]:
    started: list[ZohoCrmEmulator] = []

    def make(**settings: Any) -> ZohoCrmEmulator:
        emulator = ZohoCrmEmulator(EmulatorSettings(**{"preset": "small", "seed": 3, **settings}))
        started.append(emulator.start())
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


def grant(
    emu: ZohoCrmEmulator, refresh_token: str | None = None, url: str | None = None
) -> requests.Response:
    creds = emu.credentials
    form = {
        "grant_type": "refresh_token",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "refresh_token": refresh_token or creds["refresh_token"],
    }
    return requests.post(f"{url or emu.url}/oauth/v2/token", data=form, timeout=10)


def api(emu: ZohoCrmEmulator, scopes: list[str] | None = None) -> requests.Session:
    refresh = emu.new_refresh_token(scopes) if scopes else None
    token = grant(emu, refresh).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    session.base_url = emu.url  # type: ignore[attr-defined]
    return session


def get(session: requests.Session, path: str, **kwargs: Any) -> requests.Response:
    return session.get(f"{session.base_url}{path}", timeout=10, **kwargs)  # type: ignore[attr-defined]


def error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == "error", body
    assert set(body) == {"code", "details", "message", "status"}
    return body


def field_names(session: requests.Session, module: str) -> list[str]:
    return [
        f["api_name"]
        for f in get(session, "/crm/v8/settings/fields", params={"module": module}).json()["fields"]
    ]


def read_chain(
    session: requests.Session, module: str, params: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, infos, token = [], [], None
    while True:
        query = dict(params, **({"page_token": token} if token else {}))
        response = get(session, f"/crm/v8/{module}", params=query, headers=headers)
        if response.status_code in (204, 304):
            return rows, infos
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        infos.append(body["info"])
        token = body["info"]["next_page_token"]
        if not body["info"]["more_records"]:
            return rows, infos


@pytest.fixture(scope="module")
def s(emu: ZohoCrmEmulator) -> requests.Session:
    return api(emu)


# ---------------------------------------------------------------------------- OAuth
def test_token_grant(emu: ZohoCrmEmulator) -> None:
    response = grant(emu)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "scope", "api_domain", "token_type", "expires_in"}
    assert body["api_domain"] == emu.url and body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert "ZohoCRM.modules.READ" in body["scope"].split()
    config = emu.config()
    assert config["accounts_url"] == config["api_url"] == emu.url and config["dc_region"] == "com"
    assert {"client_id", "client_secret", "refresh_token"} <= set(config)


def test_token_errors_answer_http_200(emu: ZohoCrmEmulator) -> None:
    creds = emu.credentials
    assert grant(emu, "1000.nope.nope").json() == {"error": "invalid_code"}
    wrong = requests.post(
        f"{emu.url}/oauth/v2/token",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "client_id": creds["client_id"],
            "client_secret": "bad",
            "refresh_token": creds["refresh_token"],
        },
    )
    assert (wrong.status_code, wrong.json()) == (200, {"error": "invalid_client"})
    other_dc = grant(emu, url=f"{emu.url}/dc/eu")
    assert (other_dc.status_code, other_dc.json()) == (200, {"error": "invalid_client"})
    via_query = requests.post(
        f"{emu.url}/oauth/v2/token", timeout=10, params={"grant_type": "refresh_token", **creds}
    )
    assert "access_token" in via_query.json()


def test_grant_code_single_use_and_expiry(emu: ZohoCrmEmulator) -> None:
    creds = emu.credentials
    form = {
        "grant_type": "authorization_code",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        "redirect_uri": "http://localhost/cb",
    }
    code = emu.new_grant_code(scopes=["ZohoCRM.modules.leads.READ"], expires_in=180)
    first = requests.post(f"{emu.url}/oauth/v2/token", data={**form, "code": code}, timeout=10).json()
    assert first["refresh_token"] and first["scope"] == "ZohoCRM.modules.leads.READ"
    again = requests.post(f"{emu.url}/oauth/v2/token", data={**form, "code": code}, timeout=10).json()
    assert again == {"error": "invalid_code"}
    stale = emu.new_grant_code(expires_in=0)
    assert requests.post(f"{emu.url}/oauth/v2/token", data={**form, "code": stale}, timeout=10).json() == {
        "error": "invalid_code"
    }
    assert "access_token" in grant(emu, first["refresh_token"]).json()


def test_token_throttle(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(token_throttle=3)
    assert all("access_token" in grant(emu).json() for _ in range(3))
    throttled = grant(emu)
    assert throttled.status_code == 200
    assert throttled.json() == {
        "error_description": "You have made too many requests continuously. Please try "
        "again after some time.",
        "error": "Access Denied",
        "status": "failure",
    }
    emu.update_settings(throttle_status=400)
    assert grant(emu).status_code == 400
    assert "access_token" in grant(emu, emu.new_refresh_token()).json()  # the limit is per refresh token
    assert emu.stats()["token_grants"] == 4


def test_revoke(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu()
    refresh = emu.new_refresh_token()
    session = api(emu)
    session.headers["Authorization"] = f"Zoho-oauthtoken {grant(emu, refresh).json()['access_token']}"
    assert get(session, "/crm/v8/org").status_code == 200
    revoked = requests.post(f"{emu.url}/oauth/v2/token/revoke", params={"token": refresh}, timeout=10)
    assert revoked.json() == {"status": "success"}
    assert grant(emu, refresh).json() == {"error": "invalid_code"}
    error(get(session, "/crm/v8/org"), 401, "INVALID_TOKEN")


def test_consent_redirect(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu()
    creds = emu.credentials
    params = {
        "response_type": "code",
        "client_id": creds["client_id"],
        "scope": "ZohoCRM.modules.READ,ZohoCRM.org.READ",
        "redirect_uri": "http://localhost:9999/callback",
        "access_type": "offline",
        "prompt": "consent",
        "state": "xyz",
    }
    response = requests.get(f"{emu.url}/oauth/v2/auth", params=params, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("http://localhost:9999/callback?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"] and query["location"] == ["us"] and query["accounts-server"] == [emu.url]
    assert "accounts-server=" + emu.url.replace(":", "%3A").replace("/", "%2F") in location
    exchanged = requests.post(
        f"{emu.url}/oauth/v2/token",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "redirect_uri": params["redirect_uri"],
            "code": query["code"][0],
        },
    ).json()
    assert exchanged["scope"] == "ZohoCRM.modules.READ ZohoCRM.org.READ" and exchanged["refresh_token"]
    bad = requests.get(
        f"{emu.url}/oauth/v2/auth",
        params={**params, "client_id": "1000.X"},
        allow_redirects=False,
        timeout=10,
    )
    assert "error=invalid_client" in bad.headers["Location"]
    requests.post(f"{emu.url}/__emulator__/consent", json={"deny": True}, timeout=10).raise_for_status()
    denied = requests.get(f"{emu.url}/oauth/v2/auth", params=params, allow_redirects=False, timeout=10)
    assert "error=access_denied" in denied.headers["Location"] and "state=xyz" in denied.headers["Location"]


def test_api_authentication(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu()
    token = grant(emu).json()["access_token"]
    missing = requests.get(f"{emu.url}/crm/v8/org", timeout=10)
    assert error(missing, 401, "AUTHENTICATION_FAILURE")["message"] == "Authentication failed"
    bogus = requests.get(
        f"{emu.url}/crm/v8/org", headers={"Authorization": "Zoho-oauthtoken 1000.x"}, timeout=10
    )
    assert error(bogus, 401, "INVALID_TOKEN")["message"] == "invalid oauth token"
    bearer = requests.get(f"{emu.url}/crm/v8/org", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert bearer.status_code == 200
    emu.update_settings(accept_bearer=False)
    error(
        requests.get(f"{emu.url}/crm/v8/org", headers={"Authorization": f"Bearer {token}"}, timeout=10),
        401,
        "INVALID_TOKEN",
    )
    other_dc = requests.get(
        f"{emu.url}/dc/eu/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10
    )
    error(other_dc, 401, "INVALID_TOKEN")
    requests.post(f"{emu.url}/__emulator__/tokens/expire", timeout=10).raise_for_status()
    expired = requests.get(
        f"{emu.url}/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10
    )
    error(expired, 401, "INVALID_TOKEN")


def test_scopes(emu: ZohoCrmEmulator) -> None:
    leads_only = api(emu, ["zohocrm.modules.leads.read"])
    assert get(leads_only, "/crm/v8/Leads/actions/count").status_code == 200
    error(get(leads_only, "/crm/v8/Contacts/actions/count"), 401, "OAUTH_SCOPE_MISMATCH")
    error(get(leads_only, "/crm/v8/settings/modules"), 401, "OAUTH_SCOPE_MISMATCH")
    settings_all = api(emu, ["ZohoCRM.settings.ALL", "ZohoCRM.modules.ALL"])
    assert get(settings_all, "/crm/v8/settings/fields", params={"module": "Leads"}).status_code == 200
    assert get(settings_all, "/crm/v8/Deals/actions/count").status_code == 200
    error(get(settings_all, "/crm/v8/org"), 401, "OAUTH_SCOPE_MISMATCH")
    org_only = api(emu, ["ZohoCRM.org.READ"])
    assert get(org_only, "/crm/v8/org/currencies").status_code == 200
    sales_orders = api(emu, ["ZohoCRM.modules.salesorders.READ"])
    assert get(sales_orders, "/crm/v8/Sales_Orders/actions/count").status_code == 200
    no_bulk = api(emu, ["ZohoCRM.modules.READ"])
    error(
        no_bulk.post(f"{emu.url}/crm/v8/coql", json={"select_query": "select id from Leads"}, timeout=10),
        401,
        "OAUTH_SCOPE_MISMATCH",
    )


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


# ---------------------------------------------------------------------------- concurrency, faults, control
def test_concurrency_limit(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(concurrency_limit=2, latency_ms=400)
    session_token = grant(emu).json()["access_token"]
    statuses: list[int] = []
    bodies: list[dict[str, Any]] = []
    barrier = threading.Barrier(6)

    def call() -> None:
        barrier.wait()
        r = requests.get(
            f"{emu.url}/crm/v8/Leads/actions/count",
            headers={"Authorization": f"Zoho-oauthtoken {session_token}"},
            timeout=10,
        )
        statuses.append(r.status_code)
        bodies.append(r.json())

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1
    assert {"code": "TOO_MANY_REQUESTS", "details": {}, "status": "error"}.items() <= next(
        b for b in bodies if "code" in b
    ).items()
    stats = emu.stats()
    assert stats["peak_concurrency"] >= 3 and stats["requests_by_status"]["429"] == statuses.count(429)
    assert stats["in_flight"] == 0


def test_faults(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu()
    session = api(emu)
    script = [
        {"path_contains": "/crm/v8/Leads", "action": "500", "times": 2},
        {"path_contains": "/crm/v8/Contacts", "action": "429", "times": 1},
        {"path_contains": "/crm/v8/org", "action": "truncate", "times": 1},
        {"path_contains": "/crm/v8/users", "action": "drop", "times": 1},
    ]
    config = requests.post(f"{emu.url}/__emulator__/faults", json={"script": script}, timeout=10).json()
    assert len(config["script"]) == 4
    assert error(get(session, "/crm/v8/Leads/actions/count"), 500, "INTERNAL_ERROR")
    assert get(session, "/crm/v8/Leads/actions/count").status_code == 500
    assert get(session, "/crm/v8/Leads/actions/count").status_code == 200
    error(get(session, "/crm/v8/Contacts/actions/count"), 429, "TOO_MANY_REQUESTS")
    with pytest.raises(requests.exceptions.RequestException):
        get(session, "/crm/v8/org").json()
    with pytest.raises(requests.exceptions.ConnectionError):
        get(session, "/crm/v8/users")
    assert get(session, "/crm/v8/users").status_code == 200
    emu.faults(rate_5xx=1.0, seed=5)
    assert get(session, "/crm/v8/org").status_code in (500, 502, 503)
    assert "access_token" in grant(emu).json()  # OAuth is never faulted
    assert requests.get(f"{emu.url}/__emulator__/faults", timeout=10).json()["rate_5xx"] == 1.0
    emu.faults(rate_5xx=0.0)
    assert get(session, "/crm/v8/org").status_code == 200


def test_control_api(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu()
    session = api(emu)
    control = f"{emu.url}/__emulator__"
    changed = requests.post(f"{control}/modules/Leads/modify", json={"count": 3}, timeout=10).json()
    assert len(changed["ids"]) == 3 and changed["modified_time"].endswith("+05:30")
    rows, _ = read_chain(
        session,
        "Leads",
        {"fields": "Modified_Time", "converted": "both"},
        {"If-Modified-Since": changed["modified_time"]},
    )
    assert {r["id"] for r in rows} == set(changed["ids"])
    fixed = emu.modify("Leads", ids=changed["ids"][:1], modified_time="2026-10-01T10:00:00+05:30")
    assert fixed["modified_time"] == "2026-10-01T10:00:00+05:30"
    created = requests.post(f"{control}/modules/Contacts/create", json={"count": 2}, timeout=10).json()
    records = {r["id"]: r for r in emu.records("Contacts")}
    assert set(created["ids"]) <= set(records) and len(created["ids"][0]) == 19
    deleted = requests.post(
        f"{control}/modules/Contacts/delete", json={"count": 1, "ids": created["ids"][:1]}, timeout=10
    ).json()
    assert deleted["ids"] == created["ids"][:1]
    assert created["ids"][0] in {d["id"] for d in get(session, "/crm/v8/Contacts/deleted").json()["data"]}
    field = requests.post(
        f"{control}/modules/Leads/fields",
        json={"api_name": "Loyalty_Tier", "data_type": "picklist", "json_type": "string"},
        timeout=10,
    ).json()
    assert field["api_name"] == "Loyalty_Tier"
    assert "Loyalty_Tier" in field_names(session, "Leads")
    row = get(session, "/crm/v8/Leads", params={"fields": "Loyalty_Tier", "per_page": 1}).json()["data"][0]
    assert row["Loyalty_Tier"] is None
    code = requests.post(f"{control}/grant_codes", json={"scopes": ["ZohoCRM.org.READ"]}, timeout=10).json()[
        "code"
    ]
    refresh = requests.post(
        f"{control}/refresh_tokens", json={"scopes": ["ZohoCRM.org.READ"]}, timeout=10
    ).json()
    assert code and refresh["refresh_token"]
    assert requests.post(f"{control}/modules/Nope/modify", json={}, timeout=10).status_code == 404
    stats = requests.get(f"{control}/stats", timeout=10).json()
    assert stats["requests_by_endpoint"]["GET /crm/v8/{module}"] >= 2
    assert stats["requests_by_endpoint"]["POST /oauth/v2/token"] == 1
    assert stats["requests_by_status"]["200"] >= 3 and stats["records_served"] >= 4
    assert {"method", "path", "query", "status"} <= set(stats["requests"][-1])
    requests.post(f"{control}/stats/reset", timeout=10).raise_for_status()
    assert emu.stats()["requests_by_endpoint"] == {}


# ---------------------------------------------------------------------------- COQL and bulk read
def test_coql(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    def coql(query: str) -> requests.Response:
        return s.post(f"{emu.url}/crm/v8/coql", json={"select_query": query}, timeout=10)

    records = emu.records("Deals")
    pivot = sorted(r["Modified_Time"] for r in records)[100]
    stage = records[0]["Stage"]
    body = coql(
        f"select Deal_Name, Stage, Modified_Time, Account_Name from Deals where (Stage = '{stage}' and "
        f"Modified_Time >= '{pivot}') order by Modified_Time asc, id asc limit 0, 200"
    ).json()
    expected = [r for r in records if r["Stage"] == stage and r["Modified_Time"] >= pivot]
    assert sorted(r["id"] for r in body["data"]) == sorted(r["id"] for r in expected)
    assert body["info"] == {"count": len(expected), "more_records": False}
    keys = [(r["Modified_Time"], int(r["id"])) for r in body["data"]]
    assert keys == sorted(keys)
    assert all(set(r["Account_Name"] or {"id": 1}) == {"id"} for r in body["data"])
    page = coql(
        "select Deal_Name from Deals where Amount is not null or Amount is null limit 10 offset 5"
    ).json()
    assert len(page["data"]) == 10 and page["info"]["more_records"] is True
    names = coql(
        "select Deal_Name from Deals where Deal_Name like '%renewal%' and Stage in ('Closed Won', "
        "'Closed Lost', 'Qualification')"
    ).json()
    assert all("renewal" in r["Deal_Name"].lower() for r in names["data"])
    assert coql("select COUNT(id) from Deals").json()["data"] == [{"COUNT(id)": 200}]
    assert coql("select Deal_Name from Deals where Deal_Name = 'no such deal'").status_code == 204
    error(coql("select from Deals"), 400, "SYNTAX_ERROR")
    error(coql("select Deal_Name from Deals limit 2001"), 400, "LIMIT_EXCEEDED")
    error(coql("select Nope from Deals"), 400, "INVALID_QUERY")
    error(coql("select Campaign_Name from Campaigns"), 403, "NO_PERMISSION")


def test_bulk_read(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    body = {
        "query": {
            "module": {"api_name": "Contacts"},
            "fields": ["Last_Name", "Email", "Account_Name"],
            "criteria": {
                "group_operator": "and",
                "group": [{"field": {"api_name": "Last_Name"}, "comparator": "not_equal", "value": "Nobody"}],
            },
        },
        "file_type": "csv",
    }
    created = s.post(f"{emu.url}/crm/bulk/v8/read", json=body, timeout=10)
    assert created.status_code == 201
    job = created.json()["data"][0]["details"]
    assert job["state"] == "ADDED"
    states = []
    for _ in range(5):
        states.append(get(s, f"/crm/bulk/v8/read/{job['id']}").json()["data"][0])
        if states[-1]["state"] == "COMPLETED":
            break
    assert [st["state"] for st in states] == ["IN PROGRESS", "COMPLETED"]
    result = states[-1]["result"]
    assert result["count"] == 300 and result["more_records"] is False
    download = get(s, result["download_url"])
    assert download.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.namelist() == [f"{job['id']}.csv"]
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{job['id']}.csv").decode())))
    assert len(rows) == 300 and set(rows[0]) == {"Id", "Last_Name", "Email", "Account_Name"}
    assert {r["Id"] for r in rows} == {r["id"] for r in emu.records("Contacts")}


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


# ---------------------------------------------------------------------------- transport and CLI
def test_keep_alive_connections_are_reused(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    """Speed is measured by scripts/benchmark.py, not asserted here."""
    names = field_names(s, "Leads")[:40]
    params = {"fields": ",".join(names)}
    get(s, "/crm/v8/Leads", params=params)
    connections = emu.stats()["connections_opened"]
    for _ in range(10):
        response = get(s, "/crm/v8/Leads", params=params)
        assert response.status_code == 200 and len(response.json()["data"]) == 200
    assert emu.stats()["connections_opened"] == connections  # one keep-alive connection, reused


def test_cli_prints_json_line_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zoho_crm_emulator",
            "--port",
            "0",
            "--preset",
            "small",
            "--seed",
            "4",
            "--edition",
            "Standard",
        ],
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert line["url"].startswith("http://127.0.0.1:") and line["config"]["api_url"] == line["url"]
        config = line["config"]
        token = requests.post(
            f"{line['url']}/oauth/v2/token",
            timeout=10,
            data={
                "grant_type": "refresh_token",
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
                "refresh_token": config["refresh_token"],
            },
        ).json()
        org = requests.get(
            f"{line['url']}/crm/v8/org",
            timeout=10,
            headers={"Authorization": f"Zoho-oauthtoken {token['access_token']}"},
        ).json()
        assert org["org"][0]["license_details"]["paid_type"] == "standard"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
