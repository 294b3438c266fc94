"""The emulator's own tests.
OAuth: token grants and errors, the throttle, revocation, consent, API authentication, scopes."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import requests

from integration_tests.emulator_helpers import (
    api,
    error,
    get,
    grant,
)
from zoho_crm_emulator import ZohoCrmEmulator


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
    assert get(leads_only, "/crm/v8/Leads/deleted").status_code in (200, 204)
    error(get(leads_only, "/crm/v8/Contacts/deleted"), 401, "OAUTH_SCOPE_MISMATCH")
    # The count API needs the search and layouts scopes too (module_record_count page).
    error(get(leads_only, "/crm/v8/Leads/actions/count"), 401, "OAUTH_SCOPE_MISMATCH")
    counting = api(
        emu, ["ZohoCRM.modules.leads.READ", "ZohoSearch.securesearch.READ", "ZohoCRM.settings.layouts.READ"]
    )
    assert get(counting, "/crm/v8/Leads/actions/count").status_code == 200
    error(get(leads_only, "/crm/v8/settings/modules"), 401, "OAUTH_SCOPE_MISMATCH")
    settings_all = api(emu, ["ZohoCRM.settings.ALL", "ZohoCRM.modules.ALL"])
    assert get(settings_all, "/crm/v8/settings/fields", params={"module": "Leads"}).status_code == 200
    assert get(settings_all, "/crm/v8/Deals/deleted").status_code in (200, 204)
    error(get(settings_all, "/crm/v8/org"), 401, "OAUTH_SCOPE_MISMATCH")
    org_only = api(emu, ["ZohoCRM.org.READ"])
    assert get(org_only, "/crm/v8/org/currencies").status_code == 200
    sales_orders = api(emu, ["ZohoCRM.modules.salesorders.READ"])
    assert get(sales_orders, "/crm/v8/Sales_Orders/deleted").status_code in (200, 204)
    no_bulk = api(emu, ["ZohoCRM.modules.READ"])
    error(
        no_bulk.post(f"{emu.url}/crm/v8/coql", json={"select_query": "select id from Leads"}, timeout=10),
        401,
        "OAUTH_SCOPE_MISMATCH",
    )
