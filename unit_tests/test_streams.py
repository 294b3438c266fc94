"""The streams built by streams.build_streams: metadata streams through the one client, the selection
fetching only what it needs, and the cap on requests in flight."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode

from source_zoho_crm.api_client import Slots
from unit_tests.conftest import API, raw_config
from unit_tests.test_source import FIELDS, MODULES, run_read
from unit_tests.test_source import org as org  # the fake org fixture

USERS = [{"id": str(n), "full_name": f"User {n}"} for n in range(5)]


def _users(request: Any, context: Any) -> dict:
    page = int(request.qs["page"][0])
    more = page == 1
    return {"users": USERS[:3] if more else USERS[3:], "info": {"more_records": more, "page": page}}


def test_users_are_read_page_by_page_through_the_client(org: Any) -> None:
    org.get(f"{API}/crm/v8/users", json=_users)
    output = run_read(raw_config(), {"users": SyncMode.full_refresh})
    assert [r.record.data["id"] for r in output.records] == [u["id"] for u in USERS]
    calls = [r for r in org.request_history if r.path == "/crm/v8/users"]
    assert [(r.qs["type"], r.qs["per_page"], r.qs["page"]) for r in calls] == [
        (["allusers"], ["200"], ["1"]),
        (["allusers"], ["200"], ["2"]),
    ]
    assert all(r.headers["Authorization"] == "Zoho-oauthtoken tok" for r in calls)


def test_a_denied_metadata_stream_ends_with_a_warning_and_the_others_sync(org: Any) -> None:
    denied = {"code": "NO_PERMISSION", "details": {}, "message": "permission denied", "status": "error"}
    org.get(f"{API}/crm/v8/settings/roles", status_code=403, json=denied)
    org.get(f"{API}/crm/v8/settings/profiles", json={"profiles": [{"id": "p1", "name": "Administrator"}]})
    org.get(f"{API}/crm/v8/org/currencies", json={"currencies": [{"id": "c1", "iso_code": "EUR"}]})
    output = run_read(
        raw_config(),
        {name: SyncMode.full_refresh for name in ("roles", "profiles", "currencies")},
    )
    assert {r.record.stream: r.record.data["id"] for r in output.records} == {
        "profiles": "p1",
        "currencies": "c1",
    }
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]
    assert any("Skipping stream roles: The Zoho user's profile has no permission" in w for w in warnings)
    assert len([r for r in org.request_history if r.path == "/crm/v8/settings/roles"]) == 1  # no retries


def test_a_server_error_of_a_metadata_stream_is_retried_by_the_client(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/settings/roles",
        [{"status_code": 500, "json": {}}, {"json": {"roles": [{"id": "r1", "name": "CEO"}]}}],
    )
    output = run_read(raw_config(), {"roles": SyncMode.full_refresh})
    assert [r.record.data["id"] for r in output.records] == ["r1"]


def test_a_subform_stream_alone_fetches_the_fields_of_its_parent_only(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/settings/modules",
        json={
            "modules": [
                *MODULES,
                {"api_name": "Quotes", "api_supported": True},
                {
                    "api_name": "Quoted_Items",
                    "api_supported": True,
                    "generated_type": "subform",
                    "parent_module": {"api_name": "Quotes", "id": "9"},
                },
            ]
        },
    )
    FIELDS["Quotes"] = [
        {"api_name": "Modified_Time", "data_type": "datetime"},
        {
            "api_name": "Quoted_Items",
            "data_type": "subform",
            "subform": None,
            "associated_module": {"module": "Quoted_Items", "id": "7"},
        },
    ]
    FIELDS["Quoted_Items"] = [{"api_name": "Quantity", "data_type": "double"}]
    org.get(
        f"{API}/crm/v8/Quoted_Items",
        json={"data": [{"id": "l1", "Parent_Id": {"id": "q1"}}], "info": {"more_records": False}},
    )
    try:
        output = run_read(raw_config(), {"quotes_quoted_items": SyncMode.full_refresh})
    finally:
        del FIELDS["Quotes"], FIELDS["Quoted_Items"]
    assert [(r.record.data["id"], r.record.data["parent_id"]) for r in output.records] == [("l1", "q1")]
    fields_calls = [r.qs["module"] for r in org.request_history if r.path == "/crm/v8/settings/fields"]
    assert fields_calls == [["quotes"], ["quoted_items"]]  # the parent and its subform module, no other
    assert not [r for r in org.request_history if r.path == "/crm/v8/quotes"]  # lines are not on lists


def test_max_concurrent_requests_one_keeps_one_request_in_flight(org: Any) -> None:
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(payload: dict) -> Any:
        def answer(request: Any, context: Any) -> dict:
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.02)  # widen the window in which a second request could start
            with lock:
                in_flight[0] -= 1
            return payload

        return answer

    org.get(f"{API}/crm/v8/users", json=slow({"users": USERS, "info": {"more_records": False}}))
    for path, key in (
        ("settings/roles", "roles"),
        ("settings/profiles", "profiles"),
        ("org/currencies", "currencies"),
    ):
        org.get(f"{API}/crm/v8/{path}", json=slow({key: [{"id": "x"}]}))
    streams = ["users", "roles", "profiles", "currencies", "modules", "fields", "leads"]
    output = run_read(raw_config(max_concurrent_requests=1), dict.fromkeys(streams, SyncMode.full_refresh))
    assert {r.record.stream for r in output.records} == set(streams)
    assert peak[0] == 1


def test_slots_cap_holders_and_follow_a_resize_while_held() -> None:
    slots = Slots(2)
    release = threading.Event()
    entered: list[int] = []

    def hold(n: int) -> None:
        with slots:
            entered.append(n)
            release.wait(5)

    threads = [threading.Thread(target=hold, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while len(entered) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert len(entered) == 2 and slots.held == 2  # the third waits
    slots.resize(3)
    while len(entered) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(entered) == 3
    slots.resize(1)  # holders keep their slots; new ones wait until fewer than 1 are held
    release.set()
    for thread in threads:
        thread.join(5)
    assert slots.held == 0 and slots.peak == 3


@pytest.mark.parametrize("limit", [1, 3])
def test_slots_never_exceed_the_limit_under_contention(limit: int) -> None:
    slots = Slots(limit)
    over: list[int] = []

    def work() -> None:
        for _ in range(50):
            with slots:
                if slots.held > limit:
                    over.append(slots.held)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not over and slots.peak <= limit
