"""Wide modules: the 50-field chunks of a page asked side by side, merged by id, one version per record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API

DEALS = f"{API}/crm/v8/Deals"
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
OLD = "2025-01-01T00:00:00+00:00"
NAMES = ["id", "Modified_Time", *[f"F{i}" for i in range(60)]]  # chunks of 50 and 11


def spec() -> Any:
    types = {"Modified_Time": "datetime"}
    metadata = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in NAMES]
    return build_module_spec("Deals", "deals", metadata, include_deleted=False)


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


class Versions:
    """Deals 1..3; record 2 is at `version(call)` for each call (a list call per chunk, id calls).
    Every answer carries Zoho's `Date`; version v > 1 has Modified_Time NOW + v seconds."""

    def __init__(self, version: Any) -> None:
        self.version = version
        self.calls: list[dict[str, str]] = []
        self.last = 1

    def value(self, version: int, record_id: str, field: str) -> str:
        v = version if record_id == "2" else 1
        if field == "Modified_Time":
            return OLD if v == 1 else (NOW + timedelta(seconds=v)).isoformat()
        return f"{field}-v{v}"

    def __call__(self, request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        self.calls.append(q)
        version = self.last = self.version(q, len(self.calls))
        context.headers["Date"] = format_datetime(NOW, usegmt=True)
        wanted = q["fields"].split(",")
        ids = q["ids"].split(",") if "ids" in q else ["1", "2", "3"]
        data = [{"id": i, **{f: self.value(version, i, f) for f in wanted}} for i in ids]
        return {"data": data, "info": {"more_records": False, "per_page": 200}}


def first_chunk(q: dict[str, str]) -> bool:
    return "F0" in q["fields"]


def read(client: Any) -> list[dict[str, Any]]:
    return [r for p in ModuleReader(client, spec(), incremental=False).pages() for r in p.records]


def one_version(record: dict[str, Any]) -> str:
    versions = {v.rsplit("-", 1)[1] for k, v in record.items() if k.startswith("F")}
    assert len(versions) == 1, record
    return versions.pop()


def test_first_chunk_older_than_another_comes_out_again_whole(client: Any, requests_mock: Any) -> None:
    # The page's first chunk saw version 1, the other chunk version 2 (record 2 changed between them).
    zoho = Versions(lambda q, n: 1 if "ids" not in q and first_chunk(q) else 2)
    requests_mock.get(DEALS, json=zoho)
    records = read(client)
    last = {r["id"]: r for r in records}
    assert len(last) == 3 and all(len(r) == len(NAMES) for r in last.values())
    assert one_version(last["2"]) == "v2" and last["2"]["Modified_Time"] == zoho.value(
        2, "2", "Modified_Time"
    )
    assert [one_version(last[i]) for i in ("1", "3")] == ["v1", "v1"]
    assert [r["id"] for r in records] == ["1", "2", "3", "2"]  # the whole version follows the mixed one
    lists = [q for q in zoho.calls if "ids" not in q]
    assert len(lists) == 3  # the page (one call per chunk, side by side) and one look at what changed
    assert [q["ids"] for q in zoho.calls if "ids" in q] == ["2", "2", "2"]  # first chunk, other, check


def test_first_chunk_newer_than_another_is_settled_before_it_comes_out(
    client: Any, requests_mock: Any
) -> None:
    # The page's first chunk saw version 2 (modified seconds ago), the other chunk version 1.
    zoho = Versions(lambda q, n: 2 if "ids" in q or first_chunk(q) or "F" not in q["fields"] else 1)
    requests_mock.get(DEALS, json=zoho)
    records = read(client)
    assert [r["id"] for r in records] == ["1", "2", "3"]
    assert one_version(records[1]) == "v2"
    # Record 2 only (the others are older than the page's calls): other chunk by id, then the first.
    assert [q["ids"] for q in zoho.calls if "ids" in q] == ["2", "2"]


def test_a_record_that_keeps_changing_is_read_until_it_holds_still(client: Any, requests_mock: Any) -> None:
    # Each id call sees a newer version, up to version 4.
    zoho = Versions(lambda q, n: 1 if "ids" not in q and first_chunk(q) else min(4, 2 + n // 4))
    requests_mock.get(DEALS, json=zoho)
    last = {r["id"]: r for r in read(client)}
    assert one_version(last["2"]) == f"v{zoho.last}"
    assert last["2"]["Modified_Time"] == zoho.value(zoho.last, "2", "Modified_Time")


def test_a_record_that_never_settles_fails_the_read_clearly(client: Any, requests_mock: Any) -> None:
    requests_mock.get(DEALS, json=Versions(lambda q, n: 1 if "ids" not in q and first_chunk(q) else n))
    with pytest.raises(ZohoApiError, match="kept changing"):
        read(client)


def test_a_record_missing_from_another_chunk_is_fetched_by_id(client: Any, requests_mock: Any) -> None:
    calls: list[dict[str, str]] = []

    def answer(request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        calls.append(q)
        wanted = q["fields"].split(",")
        if "ids" in q:
            ids = q["ids"].split(",")
        elif "Modified_Time" in wanted:
            ids = ["1", "2", "3"]
        else:
            ids = ["1", "3"]  # record 2 moved out of this chunk's page between the calls
        data = [{"id": i, **{f: (OLD if f == "Modified_Time" else f"{f}-{i}") for f in wanted}} for i in ids]
        return {"data": data, "info": {"more_records": False, "per_page": 200}}

    requests_mock.get(DEALS, json=answer)
    records = [r for p in ModuleReader(client, spec(), incremental=False).pages() for r in p.records]
    assert [r["F59"] for r in records] == ["F59-1", "F59-2", "F59-3"]
    assert [q["ids"] for q in calls if "ids" in q] == ["2"]
