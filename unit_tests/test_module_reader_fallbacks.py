"""The incremental read's fallbacks to id order keep only records from the cursor on; a module of
exactly the chain limit stays one id-order chain."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API

LEADS = f"{API}/crm/v8/Leads"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
INVALID = {"code": "INVALID_DATA", "message": "bad", "details": {}, "status": "error"}
BEFORE, AFTER = "2025-03-01T11:00:00+00:00", "2025-03-01T13:00:00+00:00"


def spec() -> Any:
    names = ("id", "Modified_Time", "Last_Name")
    types = {"Modified_Time": "datetime"}
    fields = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]
    return build_module_spec("Leads", "leads", fields, include_deleted=False)


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


def answer_by_sort(first_pages: list[dict[str, Any]], id_chain: list[dict[str, Any]]) -> Any:
    """Sorted by Modified_Time: `first_pages` (more records to come); by id: `id_chain` in one page."""

    def answer(request: Any, context: Any) -> dict[str, Any]:
        if query(request)["sort_by"] == "Modified_Time":
            return {"data": first_pages, "info": {"more_records": True, "per_page": 200}}
        return {"data": id_chain, "info": {"more_records": False, "per_page": 200}}

    return answer


ID_CHAIN = [
    {"id": "1", "Modified_Time": BEFORE},
    {"id": "2", "Modified_Time": AFTER},
    {"id": "3", "Modified_Time": None},
]


def read_ids(client: Any, start: datetime | None = START) -> list[str]:
    reader = ModuleReader(client, spec(), incremental=True, start=start)
    return [r["id"] for p in reader.pages() for r in p.records]


def test_a_first_sync_page_without_a_readable_modified_time_goes_on_in_id_order(
    client: Any, requests_mock: Any
) -> None:
    unreadable = [{"id": "9", "Modified_Time": None}, {"id": "8", "Modified_Time": "not a time"}]
    requests_mock.get(LEADS, json=answer_by_sort(unreadable, ID_CHAIN))
    # The first page's records, then the id chain's (nothing to page on by Modified_Time).
    assert read_ids(client, start=None) == ["9", "8", "1", "2", "3"]
    sorts = [query(r)["sort_by"] for r in requests_mock.request_history if "Leads" in r.url]
    assert sorts == ["Modified_Time", "id"]


def test_a_server_ignoring_if_modified_since_is_read_in_id_order_from_the_cursor(
    client: Any, requests_mock: Any
) -> None:
    ignored = [{"id": "7", "Modified_Time": BEFORE}, {"id": "2", "Modified_Time": AFTER}]
    requests_mock.get(LEADS, json=answer_by_sort(ignored, ID_CHAIN))
    assert read_ids(client) == ["2", "3"]


def test_a_full_refresh_of_exactly_the_chain_limit_is_one_id_order_chain(
    client: Any, requests_mock: Any
) -> None:
    records = [{"id": str(n), "Modified_Time": AFTER} for n in range(1, 11)]

    def answer(request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        start = int(q.get("page_token", "0"))
        page = records[start : start + 5]
        more = start + 5 < len(records)
        info = {"more_records": more, "per_page": 5, **({"next_page_token": str(start + 5)} if more else {})}
        return {"data": page, "info": info}

    requests_mock.get(LEADS, json=answer)
    requests_mock.get(f"{LEADS}/deleted", status_code=204)
    reader = ModuleReader(client, spec(), incremental=False)
    reader.page_size, reader.chain_limit, reader.expected = 5, 10, 10
    assert [r["id"] for p in reader.pages() for r in p.records] == [r["id"] for r in records]
    sorts = [query(r)["sort_by"] for r in requests_mock.request_history if r.path.endswith("/leads")]
    assert sorts == ["id", "id"]


def test_the_reader_keeps_zohos_clock_of_its_first_answer(client: Any, requests_mock: Any) -> None:
    dates = iter(["Sat, 01 Mar 2025 12:00:05 GMT", "Sat, 01 Mar 2025 12:09:00 GMT"])

    def answer(request: Any, context: Any) -> dict[str, Any]:
        context.headers["Date"] = next(dates)
        more = "page_token" not in query(request)
        info = {"more_records": more, "per_page": 200, **({"next_page_token": "t"} if more else {})}
        return {"data": [{"id": "1" if more else "2", "Modified_Time": AFTER}], "info": info}

    requests_mock.get(LEADS, json=answer)
    requests_mock.get(f"{LEADS}/deleted", status_code=204)
    reader = ModuleReader(client, spec(), incremental=False)
    assert reader.server_time is None
    list(reader.pages())
    assert reader.server_time == datetime(2025, 3, 1, 12, 0, 5, tzinfo=timezone.utc)


def test_an_error_past_the_first_page_of_a_chain_fails_the_read_unless_it_ends_chains(
    client: Any, requests_mock: Any
) -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        if "page_token" in query(request):
            context.status_code = 400
            return {"code": "INVALID_DATA", "message": "bad", "details": {}, "status": "error"}
        return {
            "data": [{"id": "1", "Modified_Time": AFTER}],
            "info": {"more_records": True, "next_page_token": "t"},
        }

    requests_mock.get(LEADS, json=answer)
    reader = ModuleReader(client, spec(), incremental=False)
    with pytest.raises(ZohoApiError) as raised:
        list(reader.pages())
    assert raised.value.code == "INVALID_DATA"
    assert len([r for r in requests_mock.request_history if r.path.endswith("/leads")]) == 2


def test_a_chain_ended_code_on_the_first_page_fails_at_once(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        LEADS,
        status_code=400,
        json={"code": "PAGINATION_LIMIT_EXCEEDED", "message": "limit", "details": {}, "status": "error"},
    )
    with pytest.raises(ZohoApiError):
        list(ModuleReader(client, spec(), incremental=False).pages())
    assert len(requests_mock.request_history) == 2  # the token, then one list call


def test_a_list_error_names_the_module(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        LEADS,
        status_code=400,
        json={"code": "INVALID_DATA", "message": "bad", "details": {}, "status": "error"},
    )
    with pytest.raises(ZohoApiError, match="module Leads"):
        list(ModuleReader(client, spec(), incremental=False).pages())
