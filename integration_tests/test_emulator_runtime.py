"""The emulator's own tests.
The concurrency limit, faults, the control API, the transport and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests

from integration_tests.emulator_helpers import (
    REPO,
    api,
    error,
    field_names,
    get,
    grant,
    read_chain,
)
from zoho_crm_emulator import ZohoCrmEmulator


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
