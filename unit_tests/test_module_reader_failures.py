"""ModuleReader's failure paths, each by its behaviour: a page promised but no token to reach it, a
second whose records keep moving, a module past the chain limit with no sortable cursor; and a
module of 51-100 fields (two chunks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from source_zoho_crm import messages
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import MAX_DENSE_PASSES, ModuleReader
from unit_tests.conftest import API
from unit_tests.fake_module import BASE, FakeModule


def spec_for(module: str, names: list[str]) -> Any:
    types = {"Modified_Time": "datetime", "Created_Time": "datetime"}
    fields = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]
    return build_module_spec(module, module.lower(), fields, include_deleted=False)


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}


def module_requests(requests_mock: Any) -> list[Any]:
    return [r for r in requests_mock.request_history if "/crm/v8/" in r.url]


def test_more_records_without_a_next_page_token_fails_naming_the_module(
    client: Any, requests_mock: Any
) -> None:
    requests_mock.get(
        f"{API}/crm/v8/Leads",
        json={
            "data": [{"id": "1", "Modified_Time": "2025-01-01T00:00:00+00:00"}],
            "info": {"more_records": True},
        },
    )
    reader = ModuleReader(client, spec_for("Leads", ["id", "Modified_Time"]), incremental=False)
    pages = reader.pages()
    assert [r["id"] for r in next(pages).records] == ["1"]  # what was read is emitted first
    with pytest.raises(ZohoApiError) as raised:
        next(pages)
    assert raised.value.message == messages.NO_NEXT_PAGE_TOKEN.format(module="Leads")
    assert reader.requests == 1


def test_a_second_whose_records_keep_moving_stops_the_read_after_bounded_passes(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(tokens="keyset", ims="inclusive")
    module.add(12, 5)
    module.before_list = lambda fake, call: fake.add(1, 5)  # a new record in that second each request
    module.install(requests_mock, API)
    reader = ModuleReader(client, spec_for("Leads", ["id", "Modified_Time"]), incremental=True)
    reader.page_size = 5
    read: list[str] = []
    with pytest.raises(ZohoApiError) as raised:
        for page in reader.pages():
            read.extend(r["id"] for r in page.records)
    second = BASE + timedelta(seconds=5)
    assert raised.value.message == messages.DENSE_SECOND_KEPT_MOVING.format(
        what="module Leads", page_size=5, cursor="Modified_Time", instant=second.isoformat()
    )
    assert len(read) == len(set(read))  # no record twice while it tried
    # Two first pages, then one chain per pass: MAX_DENSE_PASSES chains, each from a first page.
    starts = [
        r for r in module_requests(requests_mock) if "page_token" not in query(r) and "ids" not in query(r)
    ]
    assert len(starts) == 2 + MAX_DENSE_PASSES


def test_a_second_that_settles_is_read_in_full(client: Any, requests_mock: Any) -> None:
    module = FakeModule(tokens="keyset", ims="inclusive")
    module.add(12, 5)
    later = module.add(2, 8)
    module.before_list = lambda fake, call: fake.add(1, 5) if call < 4 else None
    module.install(requests_mock, API)
    reader = ModuleReader(client, spec_for("Leads", ["id", "Modified_Time"]), incremental=True)
    reader.page_size = 5
    ids = [r["id"] for page in reader.pages() for r in page.records]
    assert sorted(ids) == sorted(module.records) and len(ids) == len(set(ids))
    assert set(later) <= set(ids)


@pytest.mark.parametrize("how", ["limit", "PAGINATION_LIMIT_EXCEEDED"])
def test_past_the_chain_limit_a_module_without_modified_time_fails_naming_it(
    client: Any, requests_mock: Any, how: str
) -> None:
    module = FakeModule(name="Calls")
    module.add(9, 1)
    module.install(requests_mock, API)
    if how != "limit":  # Zoho ends the chain itself at its second page
        original = requests_mock.request_history

        def cut(request: Any, context: Any) -> Any:
            if "page_token" in query(request):
                context.status_code = 400
                return {"code": how, "message": "limit reached", "details": {}, "status": "error"}
            return module._list(request, context)

        requests_mock.get(f"{API}/crm/v8/Calls", json=cut)
        assert original is requests_mock.request_history
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    reader.page_size = 2
    reader.chain_limit = 4 if how == "limit" else 100
    read: list[str] = []
    with pytest.raises(ZohoApiError) as raised:
        for page in reader.pages():
            read.extend(r["id"] for r in page.records)
    assert raised.value.message == messages.NO_SORTABLE_CURSOR.format(
        module="Calls", limit=reader.chain_limit, cursor="Modified_Time"
    )
    assert len(read) == (4 if how == "limit" else 2)


def test_pagination_limit_past_the_chain_goes_on_in_cursor_order(client: Any, requests_mock: Any) -> None:
    module = FakeModule()
    module.add(9, 1)
    module.add(3, 4)

    def cut(request: Any, context: Any) -> Any:
        q = query(request)
        if "page_token" in q and q.get("sort_by") == "id":
            context.status_code = 400
            return {"code": "PAGINATION_LIMIT_EXCEEDED", "message": "limit", "details": {}, "status": "error"}
        return module._list(request, context)

    requests_mock.get(f"{API}/crm/v8/Leads", json=cut)
    requests_mock.get(f"{API}/crm/v8/Leads/deleted", json=module._deleted)
    reader = ModuleReader(client, spec_for("Leads", ["id", "Modified_Time"]), incremental=False)
    reader.page_size = 5
    ids = [r["id"] for page in reader.pages() for r in page.records]
    assert sorted(ids) == sorted(module.records) and len(ids) == len(set(ids))


def test_a_chain_ended_code_on_the_first_page_is_an_error(client: Any, requests_mock: Any) -> None:
    requests_mock.get(
        f"{API}/crm/v8/Leads",
        status_code=400,
        json={"code": "PAGINATION_LIMIT_EXCEEDED", "message": "limit", "details": {}, "status": "error"},
    )
    reader = ModuleReader(client, spec_for("Leads", ["id", "Modified_Time"]), incremental=False)
    with pytest.raises(ZohoApiError) as raised:
        list(reader.pages())
    assert raised.value.code == "PAGINATION_LIMIT_EXCEEDED"


def test_a_module_of_two_field_chunks_is_completed_by_one_ids_request_per_page(
    client: Any, requests_mock: Any
) -> None:
    names = ["id", "Modified_Time", *[f"F{i}" for i in range(60)]]
    spec = spec_for("Deals", names)
    assert [len(chunk) for chunk in spec.field_chunks()] == [50, 11]  # id comes with every chunk

    def answer(request: Any, context: Any) -> dict:
        q = query(request)
        wanted = q["fields"].split(",")
        ids = q["ids"].split(",") if "ids" in q else [str(n) for n in range(150)]
        rows = [{"id": i, **{f: f"{f}-{i}" for f in wanted if f != "id"}} for i in ids if i != "7"]
        return {"data": rows, "info": {"more_records": False}}

    requests_mock.get(f"{API}/crm/v8/Deals", json=answer)
    records = [r for p in ModuleReader(client, spec, incremental=False).pages() for r in p.records]
    assert len(records) == 149
    assert all(set(r) == set(names) for r in records)
    assert records[-1]["F59"] == "F59-149" and records[-1]["F0"] == "F0-149"
    # Every record carries both chunks, whatever requests fetched the second one.


def test_past_the_chain_limit_a_module_whose_server_ignores_if_modified_since_fails_instead_of_looping(
    client: Any, requests_mock: Any
) -> None:
    """Incremental, Zoho ignoring the header: id order, cut at the chain limit; Modified_Time order cannot
    page either (it falls back to id order), so the read stops with a message rather than recursing."""
    module = FakeModule(ims="ignored")
    for second in range(1, 10):
        module.add(1, second)
    module.install(requests_mock, API)
    start = BASE + timedelta(seconds=5)
    reader = ModuleReader(
        client, spec_for("Leads", ["id", "Modified_Time"]), incremental=True, start=start
    )
    reader.page_size = 2
    reader.chain_limit = 4
    with pytest.raises(ZohoApiError) as raised:
        for _ in reader.pages():
            pass
    assert raised.value.message == messages.IMS_IGNORED_PAST_CHAIN.format(module="Leads", limit=4)
    assert module.list_calls < 10
