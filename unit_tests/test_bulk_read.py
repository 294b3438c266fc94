"""Bulk Read backfill: job states, paging, resume, scope fallback, download limits (requests-mock)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from typing import Any

import pytest

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.api_client_bulk import BulkReadUnavailable, BulkTransport, RateWindow
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.bulk_read import (
    BULK_PATH,
    BackfillPosition,
    BulkReader,
    exported_fields,
    use_bulk_read,
)
from source_zoho_crm.credits import CREDITS_BULK_READ_CREATE, CreditMeter
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from unit_tests.conftest import API, TOKEN_URL

CREATE = f"{API}{BULK_PATH}"
FIELDS = [
    {"api_name": "Last_Name", "data_type": "text", "json_type": "string"},
    {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
    {"api_name": "Score", "data_type": "integer", "json_type": "integer"},
    {"api_name": "Lines", "data_type": "subform", "json_type": "jsonarray"},
    {"api_name": "Owner", "data_type": "ownerlookup", "json_type": "jsonobject"},
]
SPEC = build_module_spec("Leads", "leads", FIELDS, include_deleted=False)
CREATED = "2026-11-30T17:00:00+05:30"


def archive(rows: list[list[str]], name: str = "job.csv") -> bytes:
    text = "\n".join(",".join(row) for row in [["Id", "Last_Name", "Modified_Time", "Score", "Owner"], *rows])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(name, text + "\n")
    return buffer.getvalue()


def created(job_id: str) -> dict[str, Any]:
    details = {"id": job_id, "operation": "read", "state": "ADDED", "created_time": CREATED}
    return {"data": [{"status": "success", "code": "ADDED_SUCCESSFULLY", "details": details}], "info": {}}


def status(job_id: str, state: str, page: int = 1, more: bool = False, count: int = 2, **extra: Any) -> dict:
    job: dict[str, Any] = {"id": job_id, "operation": "read", "state": state}
    if state == "COMPLETED":
        result = {"page": page, "count": count, "per_page": 200000, "more_records": more, **extra}
        job["result"] = {**result, "download_url": f"{BULK_PATH}/{job_id}/result"}
    return {"data": [job]}


def zip_response(content: bytes) -> dict[str, Any]:
    return {"content": content, "headers": {"Content-Type": "application/zip"}}


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def meter() -> CreditMeter:
    return CreditMeter()


@pytest.fixture
def transport(
    client: ZohoApiClient, tokens: ZohoTokenProvider, meter: CreditMeter, sleeps: Sleeps
) -> BulkTransport:
    return BulkTransport(client, tokens, meter, sleep=sleeps)


def reader(transport: BulkTransport, sleeps: Sleeps) -> BulkReader:
    return BulkReader(transport, SPEC, timezone.utc, sleep=sleeps)


def job(requests_mock: Any, job_id: str, states: list[str], content: bytes, **result: Any) -> None:
    requests_mock.get(f"{API}{BULK_PATH}/{job_id}", [{"json": status(job_id, s, **result)} for s in states])
    requests_mock.get(f"{API}{BULK_PATH}/{job_id}/result", **zip_response(content))


def test_a_job_is_polled_with_growing_waits_through_every_state(
    transport: BulkTransport, sleeps: Sleeps, meter: CreditMeter, requests_mock: Any
) -> None:
    requests_mock.post(CREATE, status_code=201, json=created("j1"))
    job(
        requests_mock,
        "j1",
        ["ADDED", "QUEUED", "IN PROGRESS", "COMPLETED"],
        archive([["1", "Ng", "", "7", "u1"]]),
    )
    pages = list(reader(transport, sleeps).pages())
    assert len(pages) == 1
    records = list(pages[0].records)
    assert records == [
        {"id": "1", "Last_Name": "Ng", "Modified_Time": None, "Score": 7, "Owner": {"id": "u1"}}
    ]
    assert sleeps == [2.0, 3.0, 4.5]  # back-off between the four polls
    assert pages[0].resume_at is None and pages[0].started == datetime(
        2026, 11, 30, 11, 30, tzinfo=timezone.utc
    )
    body = requests_mock.request_history[1].json()  # after the token request
    assert body["query"] == {
        "module": {"api_name": "Leads"},
        "fields": ["Last_Name", "Modified_Time", "Score", "Owner"],
        "page": 1,
    }
    assert body["file_type"] == "csv"
    assert meter.spent == CREDITS_BULK_READ_CREATE + 4 + 1  # create, four polls, one download


def test_a_failed_job_falls_back_to_rest(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.post(CREATE, status_code=201, json=created("j1"))
    job(requests_mock, "j1", ["IN PROGRESS", "FAILURE"], b"")
    with pytest.raises(BulkReadUnavailable, match="failed; reading it page by page"):
        list(reader(transport, sleeps).pages())


def test_without_the_bulk_scope_the_caller_is_told_to_use_rest(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.post(
        CREATE,
        status_code=401,
        json={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope",
            "status": "error",
        },
    )
    with pytest.raises(BulkReadUnavailable, match="ZohoCRM.bulk.READ") as raised:
        list(reader(transport, sleeps).pages())
    assert raised.value.code == "OAUTH_SCOPE_MISMATCH"
    assert requests_mock.call_count == 2  # token + one create, no retry


def test_an_unsupported_module_falls_back_and_other_errors_fail(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    wrapped = {"data": [{"code": "MODULE_NOT_SUPPORTED", "details": {}, "message": "no", "status": "error"}]}
    requests_mock.post(CREATE, status_code=400, json=wrapped)
    with pytest.raises(BulkReadUnavailable, match="MODULE_NOT_SUPPORTED"):
        list(reader(transport, sleeps).pages())
    requests_mock.post(
        CREATE, status_code=400, json={"code": "INVALID_CRITERIA", "message": "bad", "status": "error"}
    )
    with pytest.raises(ZohoApiError, match="INVALID_CRITERIA") as raised:
        list(reader(transport, sleeps).pages())
    assert not isinstance(raised.value, BulkReadUnavailable)


def test_pages_follow_more_records_and_resume_at_the_next_page(
    client: ZohoApiClient, tokens: ZohoTokenProvider, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.post(CREATE, [{"status_code": 201, "json": created(j)} for j in ("j1", "j2", "j3")])
    job(requests_mock, "j1", ["COMPLETED"], archive([["1", "A", "", "1", ""]]), page=1, more=True)
    job(requests_mock, "j2", ["COMPLETED"], archive([["2", "B", "", "2", ""]]), page=2, more=True)
    job(requests_mock, "j3", ["COMPLETED"], archive([["3", "C", "", "3", ""]]), page=3, more=False)

    first = BulkReader(BulkTransport(client, tokens, sleep=sleeps), SPEC, timezone.utc, sleep=sleeps)
    pages = first.pages()
    page = next(pages)
    assert [r["id"] for r in page.records] == ["1"]
    saved = page.resume_at
    assert saved is not None and saved.page == 2
    pages.close()  # the sync is interrupted after checkpointing job page 1
    state = {"Modified_Time": "2026-11-29T00:00:00Z", "bulk_read": saved.to_state()}

    resumed = BackfillPosition.from_state(state)
    assert resumed == saved
    again = BulkReader(BulkTransport(client, tokens, sleep=sleeps), SPEC, timezone.utc, sleep=sleeps)
    rest = list(again.pages(resumed))
    assert [[r["id"] for r in p.records] for p in rest] == [["2"], ["3"]]
    assert [p.number for p in rest] == [2, 3] and rest[-1].resume_at is None
    assert all(p.started == saved.started for p in rest)  # the incremental read starts from the first job
    pages_asked = [
        r.json()["query"]["page"]
        for r in requests_mock.request_history
        if r.method == "POST" and "bulk" in r.url
    ]
    assert pages_asked == [1, 2, 3]


def test_next_page_token_is_used_when_zoho_gives_one_and_page_when_it_is_refused(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    refused = {
        "code": "INVALID_DATA",
        "details": {"api_name": "page_token"},
        "message": "expired",
        "status": "error",
    }
    requests_mock.post(
        CREATE,
        [
            {"status_code": 201, "json": created("j1")},
            {"status_code": 400, "json": refused},
            {"status_code": 201, "json": created("j2")},
        ],
    )
    job(
        requests_mock,
        "j1",
        ["COMPLETED"],
        archive([["1", "A", "", "", ""]]),
        more=True,
        next_page_token="tok2",
    )
    job(requests_mock, "j2", ["COMPLETED"], archive([["2", "B", "", "", ""]]), page=2)
    pages = list(reader(transport, sleeps).pages())
    assert pages[0].resume_at is not None and pages[0].resume_at.page_token == "tok2"
    assert [r["id"] for p in pages for r in p.records] == ["1", "2"]
    queries = [
        r.json()["query"] for r in requests_mock.request_history if r.method == "POST" and "bulk" in r.url
    ]
    assert [q.get("page_token") or q.get("page") for q in queries] == [1, "tok2", 2]


def test_a_download_answered_429_waits_for_the_per_minute_limit(
    transport: BulkTransport, sleeps: Sleeps, meter: CreditMeter, requests_mock: Any
) -> None:
    requests_mock.post(CREATE, status_code=201, json=created("j1"))
    requests_mock.get(f"{API}{BULK_PATH}/j1", json=status("j1", "COMPLETED"))
    limited = {"status_code": 429, "json": {"code": "TOO_MANY_REQUESTS", "message": "", "status": "error"}}
    requests_mock.get(
        f"{API}{BULK_PATH}/j1/result", [limited, limited, zip_response(archive([["9", "Z", "", "", ""]]))]
    )
    records = [r for p in reader(transport, sleeps).pages() for r in p.records]
    assert [r["id"] for r in records] == ["9"]
    assert len(sleeps) == 2 and sleeps[0] >= 3.0 and sleeps[1] >= 6.0  # a tenth of a minute, then more
    assert meter.calls_by_stream()["(metadata)"] == 1 + 1 + 3


def test_a_truncated_archive_is_downloaded_again(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    requests_mock.post(CREATE, status_code=201, json=created("j1"))
    requests_mock.get(f"{API}{BULK_PATH}/j1", json=status("j1", "COMPLETED"))
    whole = archive([["5", "Q", "", "", ""]])
    requests_mock.get(
        f"{API}{BULK_PATH}/j1/result", [zip_response(whole[: len(whole) // 2]), zip_response(whole)]
    )
    assert [r["id"] for p in reader(transport, sleeps).pages() for r in p.records] == ["5"]


def test_the_download_window_allows_ten_a_minute() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    window = RateWindow(10, 60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        window.acquire()
    assert waits == []
    window.acquire()
    assert waits == [60.0]


def test_fields_bulk_read_cannot_export_are_left_out_of_the_job() -> None:
    assert exported_fields(SPEC) == ["Last_Name", "Modified_Time", "Score", "Owner"]


@pytest.mark.parametrize(
    ("count", "threshold", "first_sync", "expected"),
    [
        (250_000, 200_000, True, True),
        (200_000, 200_000, True, True),
        (199_999, 200_000, True, False),
        (250_000, 0, True, False),  # 0 turns Bulk Read off
        (250_000, 200_000, False, False),  # incremental syncs read changes over REST
        (None, 1, True, False),  # no count (the token lacks the count API's scopes): REST
    ],
)
def test_bulk_read_only_for_large_first_syncs_and_never_without_a_count(
    count: int | None, threshold: int, first_sync: bool, expected: bool
) -> None:
    assert use_bulk_read(count, threshold, first_sync=first_sync) is expected


def test_a_position_from_unreadable_state_is_none() -> None:
    assert BackfillPosition.from_state(None) is None
    assert BackfillPosition.from_state({"bulk_read": {"page": 2}}) is None
    assert BackfillPosition.from_state({"bulk_read": {"started": "yesterday", "page": 2}}) is None


def test_a_rejected_token_is_refreshed_once_and_5xx_is_retried(
    transport: BulkTransport, sleeps: Sleeps, requests_mock: Any
) -> None:
    token = requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "access-1", "api_domain": API, "expires_in": 3600}},
            {"json": {"access_token": "access-2", "api_domain": API, "expires_in": 3600}},
        ],
    )
    rejected = {"status_code": 401, "json": {"code": "INVALID_TOKEN", "message": "", "status": "error"}}
    failing = {"status_code": 500, "json": {"code": "INTERNAL_ERROR", "message": "", "status": "error"}}
    requests_mock.post(CREATE, [rejected, failing, {"status_code": 201, "json": created("j1")}])
    job(requests_mock, "j1", ["COMPLETED"], archive([["1", "A", "", "", ""]]))
    assert [r["id"] for p in reader(transport, sleeps).pages() for r in p.records] == ["1"]
    assert token.call_count == 2
    creates = [r for r in requests_mock.request_history if r.method == "POST" and "bulk" in r.url]
    assert [r.headers["Authorization"] for r in creates] == ["Zoho-oauthtoken access-1"] + 2 * [
        "Zoho-oauthtoken access-2"
    ]
    assert len(sleeps) == 1  # one back-off, for the 500
