"""Page tokens past 2000 records, 50-field chunks merged by id, inclusive cursor, chain restarts."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API

LEADS = f"{API}/crm/v8/Leads"


def fields(*names: str) -> list[dict[str, Any]]:
    types = {"Modified_Time": "datetime", "Created_Time": "datetime"}
    return [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]


def spec_for(module: str, names: list[str]) -> Any:
    return build_module_spec(module, module.lower(), fields(*names), include_deleted=False)


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


def page(records: list[dict], more: bool, token: str | None = None) -> dict:
    return {"data": records, "info": {"more_records": more, "next_page_token": token, "per_page": 200}}


def test_full_refresh_follows_page_tokens_past_2000_records(client: Any, requests_mock: Any) -> None:
    spec = spec_for("Leads", ["id", "Last_Name", "Modified_Time"])
    pages = {None: (0, "t1"), "t1": (1, "t2"), "t2": (2, None)}

    def answer(request: Any, context: Any) -> dict:
        token = query(request).get("page_token")
        number, nxt = pages[token]
        records = [
            {"id": str(number * 1000 + i), "Modified_Time": "2025-01-01T00:00:00+05:30"} for i in range(3)
        ]
        return page(records, nxt is not None, nxt)

    requests_mock.get(LEADS, json=answer)
    read = [r["id"] for p in ModuleReader(client, spec, incremental=False).pages() for r in p.records]
    assert len(read) == 9
    first = query(requests_mock.request_history[1])
    assert first["sort_by"] == "id" and first["sort_order"] == "asc" and first["per_page"] == "200"
    assert first["converted"] == "both"  # converted leads are part of the funnel
    assert "page" not in first
    assert "If-Modified-Since" not in requests_mock.request_history[1].headers


def test_more_than_50_fields_each_page_asked_once_per_chunk(client: Any, requests_mock: Any) -> None:
    names = ["id", "Modified_Time", *[f"F{i}" for i in range(120)]]
    spec = spec_for("Deals", names)
    chunks = spec.field_chunks()
    assert [len(c) for c in chunks] == [50, 50, 21] and chunks[0][0] == "Modified_Time"

    def answer(request: Any, context: Any) -> dict:
        q = query(request)
        wanted = q["fields"].split(",")
        assert len(wanted) <= 50
        if "ids" in q:
            assert "page_token" not in q and len(q["ids"].split(",")) <= 100
            return page([{"id": i, **{f: f"{f}-{i}" for f in wanted}} for i in q["ids"].split(",")], False)
        token = q.get("page_token")
        start = 0 if token is None else 150
        records = [{"id": str(n), **{f: f"{f}-{n}" for f in wanted}} for n in range(start, start + 150)]
        return page(records, token is None, "next" if token is None else None)

    requests_mock.get(f"{API}/crm/v8/Deals", json=answer)
    records = [r for p in ModuleReader(client, spec, incremental=False).pages() for r in p.records]
    assert len(records) == 300
    assert all(len(r) == len(names) for r in records)
    assert records[299]["F119"] == "F119-299"
    # token + per page: one call per chunk, side by side, each chunk following its own page token
    assert requests_mock.call_count == 1 + 2 * 3
    lists = [query(r) for r in requests_mock.request_history[1:]]
    assert not [q for q in lists if "ids" in q]
    assert sorted(q["fields"] for q in lists if "page_token" in q) == sorted(",".join(c) for c in chunks)


def test_incremental_is_inclusive_sorted_and_reports_the_newest_instant(
    client: Any, requests_mock: Any
) -> None:
    spec = spec_for("Leads", ["id", "Modified_Time"])
    requests_mock.get(
        LEADS,
        json=page(
            [
                {"id": "1", "Modified_Time": "2025-03-04T17:29:00+05:30"},
                {"id": "2", "Modified_Time": "2025-03-04T17:29:00+05:30"},
                {"id": "3", "Modified_Time": "2025-03-04T18:00:05+05:30"},
            ],
            False,
        ),
    )
    start = datetime(2025, 3, 4, 11, 59, tzinfo=timezone.utc)
    pages = list(ModuleReader(client, spec, incremental=True, start=start).pages())
    request = requests_mock.request_history[1]
    # One second before the cursor: Zoho does not say whether the header includes its own second.
    assert request.headers["If-Modified-Since"] == "2025-03-04T11:58:59+00:00"
    assert query(request)["sort_by"] == "Modified_Time" and query(request)["sort_order"] == "asc"
    assert pages[0].newest == datetime(2025, 3, 4, 12, 30, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("status", [204, 304])
def test_nothing_changed_is_an_empty_read(client: Any, requests_mock: Any, status: int) -> None:
    requests_mock.get(LEADS, status_code=status)
    spec = spec_for("Leads", ["id", "Modified_Time"])
    assert list(ModuleReader(client, spec, incremental=True, start=datetime.now(timezone.utc)).pages()) == []


def test_once_zoho_shows_the_header_is_inclusive_the_cursor_itself_is_sent(
    client: Any, requests_mock: Any
) -> None:
    spec = spec_for("Leads", ["id", "Modified_Time"])
    rows = [{"id": str(i), "Modified_Time": f"2025-01-01T00:00:{i:02d}+00:00"} for i in range(6)]

    def answer(request: Any, context: Any) -> dict:
        since = request.headers.get("If-Modified-Since")
        pool = [r for r in rows if since is None or r["Modified_Time"] >= since]  # inclusive
        return page(pool[:3], len(pool) > 3, "never-used")

    requests_mock.get(LEADS, json=answer)
    ids = [r["id"] for p in ModuleReader(client, spec, incremental=True).pages() for r in p.records]
    assert ids == [str(i) for i in range(6)]
    sent = [r.headers.get("If-Modified-Since") for r in requests_mock.request_history[1:]]
    # No header, then one second early (Zoho answers with that second: inclusive), then the cursor.
    assert sent == [None, "2025-01-01T00:00:01+00:00", "2025-01-01T00:00:03+00:00"]
    assert not [r for r in requests_mock.request_history if "page_token" in query(r)]


def test_full_refresh_past_the_chain_limit_goes_on_in_cursor_order_without_duplicates(
    client: Any, requests_mock: Any
) -> None:
    spec = spec_for("Leads", ["id", "Modified_Time"])
    rows = [{"id": str(i), "Modified_Time": f"2025-01-01T00:00:{(11 - i):02d}+00:00"} for i in range(12)]

    def answer(request: Any, context: Any) -> dict:
        q = query(request)
        since = request.headers.get("If-Modified-Since")
        key = "id" if q["sort_by"] == "id" else "Modified_Time"
        pool = sorted(
            (r for r in rows if since is None or r["Modified_Time"] >= since),
            key=lambda r: (r[key], int(r["id"])),
        )
        if key == "id":
            pool.sort(key=lambda r: int(r["id"]))
        offset = int(q.get("page_token") or 0)
        more = offset + 5 < len(pool)
        return page(pool[offset : offset + 5], more, str(offset + 5) if more else None)

    requests_mock.get(LEADS, json=answer)
    reader = ModuleReader(client, spec, incremental=False)
    reader.chain_limit = 5
    ids = [r["id"] for p in reader.pages() for r in p.records]
    assert sorted(ids, key=int) == [str(i) for i in range(12)]
    assert len(ids) == len(set(ids))


def test_page_token_expiry_mid_chain_goes_on_in_cursor_order(client: Any, requests_mock: Any) -> None:
    spec = spec_for("Leads", ["id", "Modified_Time"])
    requests_mock.get(
        LEADS,
        [
            {"json": page([{"id": "1", "Modified_Time": "2025-01-01T00:00:01+00:00"}], True, "t")},
            {
                "status_code": 400,
                "json": {"code": "EXPIRED_VALUE", "message": "Page token expired", "details": {}},
            },
            {
                "json": page(
                    [
                        {"id": "1", "Modified_Time": "2025-01-01T00:00:01+00:00"},
                        {"id": "2", "Modified_Time": "2025-01-01T00:00:02+00:00"},
                    ],
                    False,
                )
            },
        ],
    )
    ids = [r["id"] for p in ModuleReader(client, spec, incremental=False).pages() for r in p.records]
    assert ids == ["1", "2"]  # the id already read is not read twice
    assert query(requests_mock.request_history[-1])["sort_by"] == "Modified_Time"


def test_unsortable_cursor_reads_in_id_order_and_filters_by_the_cursor(
    client: Any, requests_mock: Any
) -> None:
    spec = spec_for("Actions_Performed", ["id", "Action_Performed_Time"])
    assert spec.cursor_field == "Action_Performed_Time" and not spec.sorted_by_cursor
    requests_mock.get(
        f"{API}/crm/v8/Actions_Performed",
        json=page(
            [
                {"id": "1", "Action_Performed_Time": "2025-01-02T00:00:00+00:00"},
                {"id": "2", "Action_Performed_Time": "2024-12-31T00:00:00+00:00"},
            ],
            False,
        ),
    )
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    pages = list(ModuleReader(client, spec, incremental=True, start=start).pages())
    assert [r["id"] for r in pages[0].records] == ["1"]
    assert query(requests_mock.request_history[1])["sort_by"] == "id"


def test_a_full_refresh_past_the_chain_limit_reads_first_pages_by_modified_time(
    client: Any, requests_mock: Any
) -> None:
    spec = spec_for("Leads", ["id", "Modified_Time", "Last_Name"])
    stamps = [f"2025-01-01T00:00:{s:02d}+00:00" for s in range(12)]

    def answer(request: Any, context: Any) -> dict:
        q = query(request)
        assert q["sort_by"] == "Modified_Time" and "page_token" not in q  # no chain to cut
        since = request.headers.get("If-Modified-Since")
        rows = [{"id": str(i), "Modified_Time": t, "Last_Name": "x"} for i, t in enumerate(stamps)]
        if since:
            from source_zoho_crm.datetimes import parse_zoho_datetime

            rows = [r for r in rows if parse_zoho_datetime(r["Modified_Time"]) >= parse_zoho_datetime(since)]
        return page(rows[:4], len(rows) > 4)

    requests_mock.get(LEADS, json=answer)
    reader = ModuleReader(client, spec, incremental=False)
    reader.chain_limit, reader.expected = 5, len(stamps)
    read = [r["id"] for p in reader.pages() for r in p.records]
    assert sorted(read, key=int) == [str(i) for i in range(12)] and len(read) == 12
    assert reader.requests <= 12 // 3 + 2  # pages overlap by the boundary second only
