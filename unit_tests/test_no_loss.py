"""No record lost whatever Zoho's page tokens (keyset or position) and If-Modified-Since (inclusive,
exclusive, ignored) turn out to be, with records modified, deleted and created while a read runs;
and no more list calls than one page-token chain in the normal case."""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Any

import pytest

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from unit_tests.conftest import API
from unit_tests.fake_module import BASE, FakeModule, zoho_time

MODES = [(t, i) for t in ("keyset", "offset") for i in ("inclusive", "exclusive")]


def spec(names: tuple[str, ...] = ("id", "Modified_Time", "Last_Name")) -> Any:
    types = {"Modified_Time": "datetime"}
    fields = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]
    return build_module_spec("Leads", "leads", fields, include_deleted=False)


def grouped(module: FakeModule, count: int, seed: int = 3) -> None:
    """`count` records in groups of 3-5 sharing a Modified_Time second (like the emulator's data)."""
    rng = random.Random(seed)
    second = 0
    while len(module.records) < count:
        module.add(min(rng.randint(3, 5), count - len(module.records)), second, Last_Name="x")
        second += rng.randint(1, 3)


def read(client: Any, start: datetime | None = None, incremental: bool = True) -> tuple[list[Any], Any]:
    reader = ModuleReader(client, spec(), incremental=incremental, start=start)
    pages = list(reader.pages())
    return pages, reader


def emitted(pages: list[Any]) -> list[tuple[str, str]]:
    return [(r["id"], r["Modified_Time"]) for p in pages for r in p.records]


@pytest.mark.parametrize("token_mode,ims", MODES)
def test_the_normal_case_costs_no_more_list_calls_than_one_chain(
    client: Any, requests_mock: Any, token_mode: str, ims: str
) -> None:
    module = FakeModule(tokens=token_mode, ims=ims)
    grouped(module, 2450)
    module.install(requests_mock, API)
    pages, _ = read(client)
    assert sorted(emitted(pages)) == sorted(module.live())  # each record once
    assert module.list_calls <= math.ceil(2450 / 200)  # 13: what a page-token chain costs
    assert module.deleted_calls == 0


@pytest.mark.parametrize("token_mode,ims", MODES)
def test_records_changed_during_a_read_are_read_by_it_or_the_next(
    client: Any, requests_mock: Any, token_mode: str, ims: str
) -> None:
    module = FakeModule(tokens=token_mode, ims=ims)
    grouped(module, 300)
    rng = random.Random(7)

    def churn(fake: FakeModule, call: int) -> None:
        """Between two requests: modify 4, delete 2, create 1, always among records not yet read."""
        ids = sorted(fake.records, key=int)
        for victim in rng.sample(ids, 4):
            fake.modify(victim)
        for victim in rng.sample(sorted(fake.records, key=int), 2):
            fake.delete(victim)
        fake.add(1, fake.clock + 1, Last_Name="new")

    module.before_list = churn
    module.install(requests_mock, API)
    untouched = {r["id"]: r["Modified_Time"] for r in module.records.values()}
    first, reader = read(client)
    module.before_list = None
    got = set(emitted(first))
    # Every record never touched during the read is in it, with its value.
    for record_id, modified in untouched.items():
        if record_id in module.records and module.records[record_id]["Modified_Time"] == modified:
            assert (record_id, modified) in got, record_id
    # The next sync, from the newest value the first one stored, reads every other change.
    newest = max(p.newest for p in first if p.newest)
    second, _ = read(client, start=newest)
    assert module.live() <= got | set(emitted(second))


def test_a_record_modified_in_the_cursor_second_after_the_sync_is_read_next_time(
    client: Any, requests_mock: Any
) -> None:
    for ims in ("inclusive", "exclusive"):
        requests_mock.reset_mock()
        module = FakeModule(ims=ims)
        module.add(3, 10)
        module.install(requests_mock, API)
        pages, _ = read(client)
        newest = pages[-1].newest
        late = module.add(1, 10)[0]  # same second as the stored cursor, after the sync read it
        again, _ = read(client, start=newest)
        assert late in {r["id"] for p in again for r in p.records}, ims


def test_more_than_a_page_in_one_second_with_position_tokens_and_deletions(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(tokens="offset", ims="exclusive")
    module.add(50, 1)
    dense = module.add(450, 5)
    module.add(50, 9)

    def delete_early(fake: FakeModule, call: int) -> None:
        if call in (1, 3):  # records already read: shifts a position-based token mid-chain
            fake.delete(dense[call - 1])
            fake.delete(dense[call])

    module.before_list = delete_early
    module.install(requests_mock, API)
    pages, _ = read(client)
    got = {r["id"] for p in pages for r in p.records}
    assert set(module.records) <= got
    assert len([r["id"] for p in pages for r in p.records]) == len(got)  # no duplicates
    # Inside the dense second pages checkpoint that second only: an interrupted sync re-reads it.
    dense_second = BASE.replace(second=5)
    assert all(p.newest <= dense_second for p in pages[1:-2])


@pytest.mark.parametrize("token_mode,ims", MODES)
def test_a_module_whose_records_all_share_one_second(
    client: Any, requests_mock: Any, token_mode: str, ims: str
) -> None:
    module = FakeModule(tokens=token_mode, ims=ims)
    module.add(450, 7)
    module.install(requests_mock, API)
    pages, _ = read(client, start=BASE)
    ids = [r["id"] for p in pages for r in p.records]
    assert sorted(ids) == sorted(module.records)
    # A first page, one more showing no progress, then two passes of the 3-page chain.
    assert module.list_calls == 2 + 3 + 3


def test_a_server_that_ignores_if_modified_since_is_read_in_id_order(client: Any, requests_mock: Any) -> None:
    module = FakeModule(ims="ignored")
    module.add(250, 1)
    recent = module.add(30, 100)
    module.install(requests_mock, API)
    start = BASE.replace(minute=1)
    pages, _ = read(client, start=start)
    assert {r["id"] for p in pages for r in p.records} == set(recent)
    assert not pages[-1].checkpoint  # id order: the cursor is stored when the stream ends


@pytest.mark.parametrize("token_mode", ["keyset", "offset"])
def test_full_refresh_loses_nothing_when_records_are_deleted_during_the_chain(
    client: Any, requests_mock: Any, token_mode: str
) -> None:
    module = FakeModule(tokens=token_mode)
    module.add(1000, 1)
    doomed = sorted(module.records, key=int)[:10]

    def delete_behind(fake: FakeModule, call: int) -> None:
        if call == 2:  # records already read: a position-based token now skips 10 others
            for victim in doomed:
                fake.delete(victim)
            fake.modify(sorted(fake.records, key=int)[-1])  # id order does not move on modification

    module.before_list = delete_behind
    module.install(requests_mock, API)
    pages, _ = read(client, incremental=False)
    ids = [r["id"] for p in pages for r in p.records]
    assert set(module.records) <= set(ids) and len(ids) == len(set(ids))
    # A chain (5 pages) and a look at the deleted log; it has new entries, so a second pass (whose
    # ids are all read already) and a second look, which finds nothing new.
    assert module.deleted_calls == 2
    assert module.list_calls == 5 + 5


def test_full_refresh_without_deletions_costs_one_chain_and_one_look_at_the_log(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(tokens="offset")
    module.add(1000, 1)
    module.deleted.append({"id": "1", "deleted_time": zoho_time(0), "type": "recycle"})
    module.clock = 60  # the deletion was a minute before the read
    module.install(requests_mock, API)
    pages, _ = read(client, incremental=False)
    assert len({r["id"] for p in pages for r in p.records}) == 1000
    assert (module.list_calls, module.deleted_calls) == (5, 1)


def test_a_single_page_full_refresh_needs_no_check(client: Any, requests_mock: Any) -> None:
    module = FakeModule()
    module.add(20, 1)
    module.install(requests_mock, API)
    read(client, incremental=False)
    assert (module.list_calls, module.deleted_calls) == (1, 0)
