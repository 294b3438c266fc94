"""Zoho's deleted-records log: paging, the 2,000-entry wall, tombstones."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from source_zoho_crm.deleted_records import deleted_pages, read_deleted, tombstone
from source_zoho_crm.errors import ZohoApiError
from unit_tests.conftest import API

DELETED = f"{API}/crm/v8/Leads/deleted"
WALL = {
    "status_code": 400,
    "json": {"code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "details": {}, "message": ""},
}


def entries(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {"id": str(i), "deleted_time": f"2025-01-01T00:00:{i % 60:02d}+05:30"}
        for i in range(start, start + count)
    ]


def test_pages_until_no_more_records(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        DELETED,
        [
            {"json": {"data": entries(0, 200), "info": {"more_records": True}}},
            {"json": {"data": entries(200, 3), "info": {"more_records": False}}},
        ],
    )
    pages = list(read_deleted(client, "Leads", None))
    assert [len(p) for p, _ in pages] == [200, 3]
    assert [r.qs["page"] for r in requests_mock.request_history[1:]] == [["1"], ["2"]]
    assert pages[0][1] == datetime(2024, 12, 31, 18, 30, 59, tzinfo=timezone.utc)


def test_tombstones_fail_past_the_wall_rather_than_miss_deletions(client: Any, requests_mock: Any) -> None:
    requests_mock.get(DELETED, [{"json": {"data": entries(0, 200), "info": {"more_records": True}}}, WALL])
    since = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ZohoApiError, match="deleted since 2025-01-01T00:00:00Z.*full refresh"):
        list(read_deleted(client, "Leads", since))


def test_the_audit_stream_keeps_what_zoho_lists_and_warns(
    client: Any, requests_mock: Any, caplog: Any
) -> None:
    requests_mock.get(DELETED, [{"json": {"data": entries(0, 200), "info": {"more_records": True}}}, WALL])
    pages = list(read_deleted(client, "Leads", None, stop_at_wall=True))
    assert len(pages) == 1
    assert "lists only 2,000" in caplog.text


def test_tombstone_carries_the_key_and_the_cursor_at_the_deletion_time() -> None:
    entry = {"id": "1", "deleted_time": "2025-01-01T00:00:00+05:30", "display_name": "x"}
    assert tombstone(entry, "Modified_Time") == {
        "id": "1",
        "_ab_cdc_deleted_at": "2025-01-01T00:00:00+05:30",
        "Modified_Time": "2025-01-01T00:00:00+05:30",
    }


def test_a_wrapped_error_keeps_its_code(client: Any, requests_mock: Any) -> None:
    # Zoho's getDeletedRecords 400 example: the error object inside `data`.
    body = {
        "data": [
            {
                "code": "PATTERN_NOT_MATCHED",
                "details": {"param_name": "type"},
                "message": "Please check whether the input values are correct",
                "status": "error",
            }
        ]
    }
    requests_mock.get(DELETED, status_code=400, json=body)
    with pytest.raises(ZohoApiError) as raised:
        list(read_deleted(client, "Leads", None))
    assert raised.value.code == "PATTERN_NOT_MATCHED" and "PATTERN_NOT_MATCHED" in raised.value.message


def test_each_page_carries_zohos_clock(client: Any, requests_mock: Any) -> None:
    requests_mock.get(DELETED, status_code=204, headers={"Date": "Wed, 05 Mar 2025 10:00:07 GMT"})
    pages = list(deleted_pages(client, "Leads", datetime(2025, 3, 1, tzinfo=timezone.utc)))
    assert [(p.entries, p.server_time) for p in pages] == [
        ([], datetime(2025, 3, 5, 10, 0, 7, tzinfo=timezone.utc))
    ]
    assert requests_mock.last_request.headers["If-Modified-Since"] == "2025-02-28T23:59:59+00:00"
