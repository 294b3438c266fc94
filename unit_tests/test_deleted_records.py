"""Zoho's deleted-records log: paging, the 2,000-entry wall, tombstones."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm import messages
from source_zoho_crm.deleted_records import deleted_pages, read_deleted, tombstone
from source_zoho_crm.errors import ZohoApiError, ZohoError
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


# ---- what mutation testing found unchecked ------------------------------------------------------------


def test_every_request_asks_for_all_deletion_types_a_full_page_at_a_time(
    client: Any, requests_mock: Any
) -> None:
    requests_mock.get(
        DELETED,
        [
            {"json": {"data": entries(0, 2), "info": {"more_records": True}}},
            {"status_code": 204},  # an empty later page ends the log without an empty page
        ],
    )
    pages = list(deleted_pages(client, "Leads", None))
    assert [len(p.entries) for p in pages] == [2]
    sent = [parse_qs(urlparse(r.url).query) for r in requests_mock.request_history[1:]]  # case kept
    assert sent == [
        {"type": ["all"], "page": ["1"], "per_page": ["200"]},
        {"type": ["all"], "page": ["2"], "per_page": ["200"]},
    ]
    assert "If-Modified-Since" not in requests_mock.request_history[1].headers


def test_the_newest_deletion_time_skips_unreadable_ones(client: Any, requests_mock: Any) -> None:
    log = [
        {"id": "2", "deleted_time": None},
        {"id": "3", "deleted_time": "soon"},
        {"id": "1", "deleted_time": "2025-01-01T00:00:09+00:00"},
        {"id": "4", "deleted_time": "2025-01-01T00:00:05+00:00"},
    ]
    requests_mock.get(DELETED, json={"data": log, "info": {"more_records": False}})
    [(page, newest)] = list(read_deleted(client, "Leads", None))
    assert len(page) == 4
    assert newest == datetime(2025, 1, 1, 0, 0, 9, tzinfo=timezone.utc)
    requests_mock.get(DELETED, json={"data": log[:2], "info": {"more_records": False}})
    assert [newest for _, newest in read_deleted(client, "Leads", None)] == [None]


def test_a_tombstone_of_a_stream_without_cursor_has_only_key_and_deletion_time() -> None:
    assert tombstone({"id": "1", "deleted_time": "t"}, None) == {"id": "1", "_ab_cdc_deleted_at": "t"}


@pytest.mark.parametrize("stop_at_wall", [True, False])
def test_other_errors_are_not_taken_for_the_wall(client: Any, requests_mock: Any, stop_at_wall: bool) -> None:
    requests_mock.get(DELETED, status_code=400, json={"code": "INVALID_DATA", "details": {}, "message": "x"})
    with pytest.raises(ZohoApiError) as raised:
        list(read_deleted(client, "Leads", None, stop_at_wall=stop_at_wall))
    assert raised.value.code == "INVALID_DATA"


def test_the_wall_messages_name_the_module_and_the_window(
    client: Any, requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    requests_mock.get(DELETED, **WALL)
    with pytest.raises(ZohoApiError) as raised:
        list(read_deleted(client, "Leads", None))
    assert raised.value.message == messages.DELETIONS_PAST_WALL.format(module="Leads", window="in its log")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    since = datetime(2025, 1, 1, 0, 0, 0, 700000, tzinfo=timezone.utc)
    assert list(read_deleted(client, "Leads", since, stop_at_wall=True)) == []
    expected = messages.DELETIONS_PAST_WALL_AUDIT.format(module="Leads", window="since 2025-01-01T00:00:00Z")
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [expected]


def test_a_page_of_deletions_carries_zohos_clock(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        DELETED,
        json={"data": entries(0, 1), "info": {"more_records": False}},
        headers={"Date": "Wed, 05 Mar 2025 10:00:07 GMT"},
    )
    [page] = list(deleted_pages(client, "Leads", None))
    assert page.server_time == datetime(2025, 3, 5, 10, 0, 7, tzinfo=timezone.utc)


def test_a_refusal_names_the_deleted_records_of_the_module(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        DELETED, status_code=403, json={"code": "NO_PERMISSION", "details": {}, "message": "no"}
    )
    with pytest.raises(ZohoError) as raised:
        list(read_deleted(client, "Leads", None))
    assert "deleted records of Leads" in raised.value.message
