"""RestoreWatch: ids tombstoned while Zoho can restore them are watched (state), probed 100 a call,
dropped past the retention period or over the limit (oldest first), and handed back when live again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm import deleted_records
from source_zoho_crm.deleted_records import RESTORE_WATCH, RestoreWatch, restored_records
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from unit_tests.conftest import API

LEADS = f"{API}/crm/v8/Leads"
RICH = {"type": "rich_text"}
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def iso(days_before_now: float) -> str:
    return (NOW - timedelta(days=days_before_now)).isoformat()


def serve_live(requests_mock: Any, live: set[str]) -> list[list[str]]:
    """GET /Leads?ids=… answers the live ones; returns the id groups asked, call by call."""
    asked: list[list[str]] = []

    def answer(request: Any, context: Any) -> dict[str, Any] | None:
        q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        assert q["fields"] == "Last_Name"
        ids = q["ids"].split(",")
        asked.append(ids)
        rows = [{"id": i, "Last_Name": "x"} for i in ids if i in live]
        if not rows:
            context.status_code = 204
            return None
        return {"data": rows, "info": {"more_records": False}}

    requests_mock.get(LEADS, json=answer)
    return asked


def watch(client: Any, stored: Any = None) -> RestoreWatch:
    return RestoreWatch(client, "Leads", "Last_Name", stored)


def test_entries_of_live_records_make_no_tombstone_and_recyclable_ones_are_watched(
    client: Any, requests_mock: Any
) -> None:
    asked = serve_live(requests_mock, {"2"})
    w = watch(client)
    entries = [
        {"id": "1", "type": "recycle", "deleted_time": iso(1)},
        {"id": "2", "type": "recycle", "deleted_time": iso(1)},
        {"id": "3", "type": "permanent", "deleted_time": iso(1)},
        {"id": "4", "type": "recycle"},
    ]
    kept = w.filter_page(entries)
    assert [e["id"] for e in kept] == ["1", "3", "4"]
    assert w.restored == ["2"]
    assert w.watched == {"1": iso(1)}  # permanent ones cannot come back; no time, nothing to expire by
    assert asked == [["1", "2", "4"]]  # permanent deletions are not asked about


def test_the_watch_is_read_from_state_and_a_malformed_one_is_ignored(client: Any) -> None:
    assert watch(client, {RESTORE_WATCH: {"7": iso(2)}, "Modified_Time": "x"}).watched == {"7": iso(2)}
    assert watch(client, {RESTORE_WATCH: ["7"]}).watched == {}
    assert watch(client, None).watched == {}


def test_watched_ids_past_the_retention_period_are_dropped_unasked(client: Any, requests_mock: Any) -> None:
    asked = serve_live(requests_mock, {"old", "edge"})
    w = watch(client, {RESTORE_WATCH: {"old": iso(60.01), "edge": iso(60), "new": iso(1), "odd": "n/a"}})
    w.check_watched(NOW)
    assert asked == [["edge", "new", "odd"]]
    assert w.restored == ["edge"]
    assert w.watched == {"new": iso(1), "odd": "n/a"}


def test_without_zohos_clock_nothing_expires(client: Any, requests_mock: Any) -> None:
    serve_live(requests_mock, set())
    w = watch(client, {RESTORE_WATCH: {"old": iso(400)}})
    w.check_watched(None)
    assert w.watched == {"old": iso(400)}


def test_over_the_limit_the_oldest_are_dropped(
    client: Any, requests_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deleted_records, "RESTORE_WATCH_LIMIT", 3)
    asked = serve_live(requests_mock, set())
    stored = {str(n): iso(n) for n in range(1, 6)}  # "1" is the newest deletion, "5" the oldest
    stored["x"] = "not a time"  # sorts as now: kept among the newest
    w = watch(client, {RESTORE_WATCH: stored})
    w.check_watched(NOW)
    assert sorted(w.watched) == ["1", "2", "x"]
    assert sorted(asked[0]) == ["1", "2", "x"]


def test_ids_checked_in_this_sync_are_not_asked_again_and_the_rest_go_100_a_call(
    client: Any, requests_mock: Any
) -> None:
    asked = serve_live(requests_mock, {"150"})
    w = watch(client, {RESTORE_WATCH: {str(n): iso(1) for n in range(150)}})
    w.filter_page([{"id": "0", "type": "recycle", "deleted_time": iso(1)}])
    w.check_watched(NOW)
    assert [len(group) for group in asked] == [1, 100, 49]
    assert "0" not in asked[1] + asked[2]
    assert w.restored == []  # "150" is not watched
    assert len(w.watched) == 150


def test_a_probe_error_names_the_module(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        LEADS,
        status_code=400,
        json={"code": "INVALID_DATA", "message": "bad", "details": {}, "status": "error"},
    )
    with pytest.raises(ZohoApiError, match="module Leads"):
        watch(client).filter_page([{"id": "1", "type": "recycle", "deleted_time": iso(1)}])


def test_restored_records_come_whole_with_their_rich_text(client: Any, requests_mock: Any) -> None:
    fields = [
        {"api_name": "id", "data_type": "bigint", "json_type": "string"},
        {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
        {
            "api_name": "Notes",
            "data_type": "textarea",
            "json_type": "string",
            "textarea": {"type": "rich_text"},
        },
    ]
    spec = build_module_spec("Leads", "leads", fields, include_deleted=False)
    whole = "<p>" + "é" * 600 + "</p>"

    def by_ids(request: Any, context: Any) -> dict[str, Any]:
        ids = parse_qs(urlparse(request.url).query)["ids"][0].split(",")
        return {"data": [{"id": i, "Modified_Time": iso(3), "Notes": whole[:500]} for i in ids]}

    requests_mock.get(LEADS, json=by_ids)
    requests_mock.get(
        f"{LEADS}/actions/fetch_full_data",
        json={"data": [{"id": "1", "Notes": whole}, {"id": "2", "Notes": whole}]},
    )
    records = list(restored_records(client, spec, ["1", "2"]))
    assert [(r["id"], r["Notes"]) for r in records] == [("1", whole), ("2", whole)]
