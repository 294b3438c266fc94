"""Constants and request helpers shared by the emulator's own tests (test_emulator_*.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from zoho_crm_emulator import ZohoCrmEmulator

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
