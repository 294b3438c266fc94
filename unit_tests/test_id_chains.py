"""Reads in id order from both ends (id_chains.py): a module Zoho counts above ten pages is read by
an ascending and a descending chain at once. Every live record comes out, whatever the page tokens
mean and however stale the count; the chains stop one page after they meet; errors and an early stop
end both threads; the descending chain's calls are charged to the stream."""

from __future__ import annotations

import math
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.id_chains import IdChains, two_way_wanted
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from source_zoho_crm.module_requests import ModuleRequests
from unit_tests.conftest import API
from unit_tests.fake_module import FakeModule
from unit_tests.test_wide_no_loss import WideFake, consistent
from unit_tests.test_wide_no_loss import spec as wide_spec


def spec() -> Any:
    fields = [
        {"api_name": "id", "data_type": "bigint", "json_type": "string"},
        {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
    ]
    return build_module_spec("Leads", "leads", fields, include_deleted=False)


def reader_for(client: Any, expected: int | None, page_size: int, wide: bool = False) -> ModuleReader:
    reader = ModuleReader(client, wide_spec() if wide else spec(), incremental=False)
    reader.page_size = page_size
    reader.expected = expected
    return reader


def installed(requests_mock: Any, count: int, answer: Any = None, **fake: Any) -> FakeModule:
    """A fake Leads of `count` records; `answer(plain, request, context)` wraps its list answer."""
    module = FakeModule(**fake)
    module.add(count, 1)
    module.install(requests_mock, API)
    if answer is not None:
        plain = module._list
        requests_mock.get(
            f"{API}/crm/v8/Leads", json=lambda request, context: answer(plain, request, context)
        )
    return module


def orders(requests_mock: Any) -> list[str]:
    """The sort order of each list call of the module (not ids calls, not the deleted log)."""
    found = []
    for request in requests_mock.request_history:
        query = parse_qs(urlparse(request.url).query)
        if urlparse(request.url).path.endswith("/Leads") and "ids" not in query:
            found.append(query.get("sort_order", ["?"])[0])
    return found


def test_two_way_only_above_ten_pages() -> None:
    assert not two_way_wanted(None, 200)
    assert not two_way_wanted(2_000, 200)
    assert two_way_wanted(2_001, 200)
    assert two_way_wanted(21, 2)


def test_a_counted_module_is_read_from_both_ends_once_with_one_page_more(
    client: Any, requests_mock: Any
) -> None:
    def after_a_round_trip(plain: Any, request: Any, context: Any) -> Any:
        time.sleep(0.01)  # as Zoho takes its time, so that neither chain runs away with the read
        return plain(request, context)

    module = installed(requests_mock, 30, after_a_round_trip)
    ids = [r["id"] for p in reader_for(client, 30, 2).pages() for r in p.records]
    assert sorted(ids) == sorted(module.records) and len(ids) == 30
    sent = orders(requests_mock)
    assert sent.count("asc") >= 4 and sent.count("desc") >= 4  # both chains did a good part
    assert module.list_calls == 15 + 1  # 15 pages and the one that proves the meeting


def test_without_a_count_or_at_ten_pages_one_chain_reads(client: Any, requests_mock: Any) -> None:
    module = FakeModule()
    module.add(20, 1)
    module.install(requests_mock, API)
    for expected in (None, 20):
        requests_mock.reset_mock()
        module.list_calls = 0
        ids = [r["id"] for p in reader_for(client, expected, 2).pages() for r in p.records]
        assert sorted(ids) == sorted(module.records)
        assert set(orders(requests_mock)) == {"asc"} and module.list_calls == 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(min_value=21, max_value=70),
    page_size=st.integers(min_value=2, max_value=5),
    stale=st.integers(min_value=-15, max_value=15),
    token_mode=st.sampled_from(["keyset", "offset"]),
)
def test_every_record_once_whatever_the_count_says(
    client: Any, requests_mock: Any, count: int, page_size: int, stale: int, token_mode: str
) -> None:
    module = FakeModule(tokens=token_mode)
    module.add(count, 1)
    module.install(requests_mock, API)
    expected = max(count + stale, 10 * page_size + 1)  # two-way, with a count off by up to 15
    ids = [r["id"] for p in reader_for(client, expected, page_size).pages() for r in p.records]
    assert sorted(ids) == sorted(module.records)
    pages = math.ceil(count / page_size)
    # An exact count costs one page more; a wrong one at most one more page per chain.
    assert module.list_calls <= pages + (1 if expected == count else 2)


@pytest.mark.parametrize("token_mode", ["keyset", "offset"])
def test_no_live_record_is_lost_to_deletions_during_a_two_way_read(
    client: Any, requests_mock: Any, token_mode: str
) -> None:
    module = FakeModule(tokens=token_mode)
    ids = module.add(40, 1)
    module.clock = 100
    doomed = iter([ids[1], ids[3], ids[38], ids[36], ids[20]])  # behind both chains, and ahead

    def delete_some(fake: FakeModule, call: int) -> None:
        if call in (3, 5, 7, 9, 11):
            fake.delete(next(doomed))

    module.before_list = delete_some
    module.install(requests_mock, API)
    read = {r["id"] for p in reader_for(client, 40, 2).pages() for r in p.records}
    assert set(module.records) <= read  # every live record; the deleted ones may have come out too


def test_a_wide_module_from_both_ends_merges_every_chunk(client: Any, requests_mock: Any) -> None:
    module = WideFake()
    module.add_wide(25, 1)
    module.clock = 100  # nothing modified seconds ago: no record needs settling by id
    module.install(requests_mock, API)
    records = [r for p in reader_for(client, 25, 2, wide=True).pages() for r in p.records]
    assert sorted(r["id"] for r in records) == sorted(module.records)
    assert all(consistent(r) and "F0" in r and "F59" in r for r in records)
    assert module.ids_calls == 0  # each chunk followed its own chain in each direction
    # 13 pages of 2 chunks, the page proving the meeting unless 25 records put it on the last page,
    # and the look for changes during the read.
    assert 2 * 13 + 1 <= module.list_calls <= 2 * 14 + 1


def test_an_error_in_one_chain_fails_the_read_and_stops_the_other(client: Any, requests_mock: Any) -> None:
    def answer(plain: Any, request: Any, context: Any) -> Any:
        if "sort_order=desc" in request.url:
            context.status_code = 400
            return {"code": "INVALID_DATA", "message": "boom", "status": "error", "details": {}}
        time.sleep(0.02)  # the ascending chain cannot read it all before the other fails
        return plain(request, context)

    installed(requests_mock, 30, answer)
    before = threading.active_count()
    with pytest.raises(ZohoApiError):
        list(reader_for(client, 30, 2).pages())
    assert threading.active_count() <= before + 1  # the chain threads ended (a pool may linger)
    assert not [t for t in threading.enumerate() if t.name.startswith("zoho-chain")]


def test_a_reader_that_stops_early_ends_both_chains(client: Any, requests_mock: Any) -> None:
    module = installed(requests_mock, 60)
    pages = reader_for(client, 60, 2).pages()
    next(pages)
    pages.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("zoho-chain")]
    assert module.list_calls < 30


def test_the_descending_chain_is_charged_to_the_stream(client: Any, requests_mock: Any) -> None:
    module = installed(requests_mock, 30)
    meter = CreditMeter()
    client.meter = meter
    with meter.attributed_to("leads"):
        list(reader_for(client, 30, 2).pages())
    assert meter.spent_by_stream() == {"leads": module.list_calls + module.deleted_calls}


def test_a_server_that_ignores_sort_order_loses_nothing(client: Any, requests_mock: Any) -> None:
    def ascending_always(plain: Any, request: Any, context: Any) -> Any:
        request.url = request.url.replace("sort_order=desc", "sort_order=asc")  # as if Zoho ignored it
        return plain(request, context)

    module = installed(requests_mock, 30, ascending_always)
    ids = [r["id"] for p in reader_for(client, 30, 2).pages() for r in p.records]
    assert sorted(ids) == sorted(module.records) and len(ids) == 30  # the ascending chain read to the end


def test_no_page_is_handed_out_before_both_chains_answered(client: Any, requests_mock: Any) -> None:
    """The pass's start (`began`) is Zoho's earliest clock of both first answers, however they arrive."""

    def late_but_earlier(plain: Any, request: Any, context: Any) -> Any:
        body = plain(request, context)
        if "sort_order=desc" in request.url and "page_token" not in request.url:
            time.sleep(0.2)  # arrives last, stamped first
            context.headers["Date"] = "Wed, 01 Jan 2025 00:01:00 GMT"
        return body

    module = installed(requests_mock, 30, late_but_earlier)
    module.clock = 100
    spec_ = spec()
    chains = IdChains(
        [ModuleRequests(client, spec_), ModuleRequests(client, spec_)],
        {"fields": "Modified_Time", "per_page": 2, "sort_by": "id", "sort_order": "asc"},
        chain_limit=100_000,
        expected=30,
    )
    pages = chains.pages(lambda records: records)
    next(pages)
    assert chains.began is not None and chains.began.isoformat() == "2025-01-01T00:01:00+00:00"
    pages.close()


def test_records_created_during_the_read_keep_both_ends(client: Any, requests_mock: Any) -> None:
    """A new record takes the top of the id order: a position-based descending chain answers the last id
    of its previous page again, which is no reason to give up reading from both ends."""

    def create_some(fake: FakeModule, call: int) -> None:
        if call in (2, 4, 6):
            fake.add(1, 1)

    def after_a_round_trip(plain: Any, request: Any, context: Any) -> Any:
        time.sleep(0.01)
        return plain(request, context)

    module = installed(requests_mock, 40, after_a_round_trip, tokens="offset")
    module.before_list = create_some
    ids = [r["id"] for p in reader_for(client, 40, 2).pages() for r in p.records]
    assert len(ids) == len(set(ids)) and set(ids) >= {str(1_000_000 + n) for n in range(40)}
    sent = orders(requests_mock)
    assert sent.count("desc") >= 5 and module.list_calls <= 20 + 1 + 3  # still from both ends


def test_chains_cut_before_they_meet_hand_the_rest_to_the_modified_time_read(
    client: Any, requests_mock: Any
) -> None:
    """Both chains stop at their limit before meeting (Zoho counted fewer records than there are): the
    pass is cut, and the read goes on in Modified_Time order for the ids neither chain reached."""
    module = installed(requests_mock, 0)
    for second in range(60):
        module.add(1, second)
    reader = reader_for(client, 22, 2)  # a stale count: two-way, and under the chain limit
    reader.chain_limit = 24  # each chain stops after 24 records: 48 of 60 read from both ends
    ids = [r["id"] for p in reader.pages() for r in p.records]
    assert sorted(ids) == sorted(module.records) and len(ids) == 60
    assert orders(requests_mock).count("desc") >= 12
