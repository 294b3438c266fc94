"""Wide modules (more than one 50-field chunk) under change: every record comes out as one version,
and the last version a read emits of each record is the one Zoho holds once the read is over.

The fake's field values carry the version they belong to (every F field equals the record's
Modified_Time), so a record merged from chunks of two versions is visible."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API
from unit_tests.fake_module import FakeModule, zoho_time

FIELDS = tuple(f"F{i}" for i in range(60))  # with id and Modified_Time: chunks of 50 and 12
MODES = [(t, i) for t in ("keyset", "offset") for i in ("inclusive", "exclusive")]


def spec() -> Any:
    names = ("id", "Modified_Time", *FIELDS)
    types = {"Modified_Time": "datetime"}
    fields = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]
    return build_module_spec("Leads", "leads", fields, include_deleted=False)


class WideFake(FakeModule):
    """A FakeModule whose records carry 60 fields stamped with their version, and a hook called
    before each answer of a chunk other than the first (`before_side`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lock = threading.Lock()
        self.before_side: Any = None
        self.side_calls = 0

    def add_wide(self, count: int, second: int) -> list[str]:
        ids = self.add(count, second)
        for record_id in ids:
            self._stamp(record_id)
        return ids

    def modify(self, record_id: str) -> None:
        with self.lock:
            super().modify(record_id)
            self._stamp(record_id)

    def _stamp(self, record_id: str) -> None:
        record = self.records[record_id]
        record.update({name: record["Modified_Time"] for name in FIELDS})

    def _list(self, request: Any, context: Any) -> dict[str, Any] | None:
        side = "F59" in request.qs.get("fields", [""])[0].upper().split(",")  # the second chunk
        if side and "ids" not in request.qs:
            with self.lock:
                self.side_calls += 1
            if self.before_side is not None:
                self.before_side(self)
        with self.lock:
            return super()._list(request, context)


def consistent(record: dict[str, Any]) -> bool:
    return all(record.get(name) == record["Modified_Time"] for name in FIELDS)


def read(client: Any, start: datetime | None, incremental: bool, page_size: int) -> list[Any]:
    reader = ModuleReader(client, spec(), incremental=incremental, start=start)
    reader.page_size = page_size
    return list(reader.pages())


def last_versions(pages: list[Any]) -> dict[str, str]:
    return {r["id"]: r["Modified_Time"] for p in pages for r in p.records}


def live(module: FakeModule) -> dict[str, str]:
    return {r["id"]: r["Modified_Time"] for r in module.records.values()}


@pytest.mark.parametrize("token_mode,ims", MODES)
def test_a_full_refresh_of_a_wide_module_ends_with_every_records_last_version(
    client: Any, requests_mock: Any, token_mode: str, ims: str
) -> None:
    module = WideFake(tokens=token_mode, ims=ims)
    module.add_wide(40, 1)
    rng = random.Random(11)

    def change_while_the_other_chunk_is_asked(fake: WideFake) -> None:
        time.sleep(0.02)  # the first chunk's answer usually goes first: it is then the older one
        for victim in rng.sample(sorted(fake.records, key=int), 2):
            fake.modify(victim)

    module.before_side = change_while_the_other_chunk_is_asked
    module.install(requests_mock, API)
    pages = read(client, None, incremental=False, page_size=5)
    module.before_side = None
    records = [r for p in pages for r in p.records]
    assert all(consistent(r) for r in records), [r["id"] for r in records if not consistent(r)]
    assert last_versions(pages) == live(module)
    assert all(not p.checkpoint for p in pages)  # id order: the cursor is stored at the end only


@pytest.mark.parametrize("token_mode,ims", MODES)
def test_an_incremental_read_of_a_wide_module_then_the_next_one_end_with_every_last_version(
    client: Any, requests_mock: Any, token_mode: str, ims: str
) -> None:
    module = WideFake(tokens=token_mode, ims=ims)
    for second in range(0, 60, 2):
        module.add_wide(3, second)
    rng = random.Random(5)

    def churn(fake: WideFake) -> None:
        for victim in rng.sample(sorted(fake.records, key=int), 3):
            fake.modify(victim)

    module.before_side = churn
    module.install(requests_mock, API)
    first = read(client, None, incremental=True, page_size=20)
    module.before_side = None
    assert all(consistent(r) for p in first for r in p.records)
    newest = max(p.newest for p in first if p.checkpoint and p.newest)
    second = read(client, newest, incremental=True, page_size=20)
    assert all(consistent(r) for p in second for r in p.records)
    assert (last_versions(first) | last_versions(second)) == live(module)


def test_a_quiet_incremental_read_of_a_wide_module_costs_one_call(client: Any, requests_mock: Any) -> None:
    module = WideFake()
    module.add_wide(30, 1)
    module.clock = 100
    module.install(requests_mock, API)
    start = datetime.fromisoformat(zoho_time(50))
    assert [r for p in read(client, start, incremental=True, page_size=20) for r in p.records] == []
    assert (module.list_calls, module.side_calls, module.ids_calls) == (1, 0, 0)


def test_a_wide_full_refresh_asks_each_page_once_per_chunk_and_looks_once_for_changes(
    client: Any, requests_mock: Any
) -> None:
    module = WideFake()
    module.add_wide(40, 1)
    module.clock = 100  # nothing is recent: no record needs settling
    module.install(requests_mock, API)
    pages = read(client, None, incremental=False, page_size=10)
    assert sorted(last_versions(pages)) == sorted(module.records, key=int)
    assert all(consistent(r) for p in pages for r in p.records)
    # 4 pages x 2 chunks, the deleted log once, the change look-up once; nothing by id.
    assert (module.list_calls, module.side_calls, module.deleted_calls, module.ids_calls) == (
        4 + 4 + 1,
        4,
        1,
        0,
    )


def test_changes_after_the_chain_began_are_looked_up_page_by_page_and_reread_whole(
    client: Any, requests_mock: Any
) -> None:
    module = WideFake(tokens="offset")
    module.add_wide(30, 1)
    module.clock = 100
    module.install(requests_mock, API)
    changed = sorted(module.records, key=int)[:12]
    calls = {"n": 0}

    def after_the_first_page(fake: WideFake) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the chain's second page: records of page one change (behind the chain)
            for victim in changed:
                fake.modify(victim)

    module.before_side = after_the_first_page
    pages = read(client, None, incremental=False, page_size=5)
    module.before_side = None
    assert last_versions(pages) == live(module)
    # The look-up pages by 5 through the 12 changed records (the stale ones come out again whole).
    history = [parse_qs(urlparse(r.url).query) for r in requests_mock.request_history if "/crm/v8/" in r.url]
    look_ups = [q for q in history if q.get("fields") == ["Modified_Time"] and "ids" not in q]
    assert len(look_ups) == 3  # 12 changed records, 5 per page
    assert all(q["sort_by"] == ["Modified_Time"] and q["sort_order"] == ["asc"] for q in look_ups)
    assert all(q["per_page"] == ["5"] for q in look_ups)
    assert [bool(q.get("page_token")) for q in look_ups] == [False, True, True]
    headers = [r.headers for r in requests_mock.request_history if "fields=Modified_Time&" in r.url]
    assert len(headers) == 3 and all(h.get("If-Modified-Since") for h in headers)
    # The stale records come out again once each (fetched whole by id, in pages of 5).
    emitted = [r["id"] for p in pages for r in p.records]
    assert len(emitted) - len(module.records) <= len(changed)


def test_an_incremental_wide_read_asks_the_other_chunk_with_the_same_window(
    client: Any, requests_mock: Any
) -> None:
    module = WideFake()
    module.add_wide(30, 1)
    new = module.add_wide(3, 80)
    module.clock = 100
    module.install(requests_mock, API)
    start = datetime.fromisoformat(zoho_time(50))
    pages = read(client, start, incremental=True, page_size=20)
    assert sorted(r["id"] for p in pages for r in p.records) == new
    assert all(consistent(r) for p in pages for r in p.records)
    # The other chunk asked with the same If-Modified-Since finds the same records: nothing by id.
    assert module.ids_calls == 0
