"""The incremental read's fallbacks to id order keep only records from the cursor on; a module of
exactly the chain limit stays one id-order chain."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API

LEADS = f"{API}/crm/v8/Leads"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
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
