"""ModuleReader in id order (full refresh, unsortable cursors, servers that ignore If-Modified-Since):
its cursor values, its check of Zoho's deleted log, its bounds; and a dense second after `start`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import MAX_DENSE_PASSES, ModuleReader
from unit_tests.conftest import API
from unit_tests.fake_module import BASE, FakeModule


def spec_for(module: str, names: list[str]) -> Any:
    types = {"Modified_Time": "datetime", "Created_Time": "datetime", "Action_Performed_Time": "datetime"}
    fields = [{"api_name": n, "data_type": types.get(n, "text"), "json_type": "string"} for n in names]
    return build_module_spec(module, module.lower(), fields, include_deleted=False)


def sent(request: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(request.url).query)  # names and values as sent (requests_mock's qs lowercases)


def ids_of(pages: list[Any]) -> list[str]:
    return [r["id"] for p in pages for r in p.records]


def test_an_unsortable_cursor_keeps_records_from_start_inclusive_and_reports_each_pages_newest(
    client: Any, requests_mock: Any
) -> None:
    at = lambda s: (BASE + timedelta(seconds=s)).isoformat()  # noqa: E731
    rows = [
        {"id": "1", "Action_Performed_Time": at(50)},
        {"id": "2", "Action_Performed_Time": at(9)},
        {"id": "3", "Action_Performed_Time": at(10)},  # exactly `start`: kept
        {"id": "4", "Action_Performed_Time": None},  # unreadable: kept, moves nothing
    ]
    requests_mock.get(f"{API}/crm/v8/Actions_Performed", json={"data": rows, "info": {"more_records": False}})
    spec = spec_for("Actions_Performed", ["id", "Action_Performed_Time"])
    pages = list(ModuleReader(client, spec, incremental=True, start=BASE + timedelta(seconds=10)).pages())
    assert ids_of(pages) == ["1", "3", "4"]
    assert [(p.newest, p.checkpoint) for p in pages] == [(BASE + timedelta(seconds=50), False)]
    everything = list(ModuleReader(client, spec, incremental=True).pages())  # no start: all of them
    assert ids_of(everything) == ["1", "2", "3", "4"]


def test_the_deleted_log_is_checked_from_the_chains_start_and_only_new_deletions_reread(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(name="Calls")
    ids = module.add(6, 1)
    module.clock = 100
    module.before_list = lambda fake, call: fake.delete(ids[0]) if call == 1 else None
    module.install(requests_mock, API)
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    reader.page_size = 2
    pages = list(reader.pages())
    assert set(module.records) <= set(ids_of(pages)) and len(set(ids_of(pages))) == len(ids_of(pages))
    checks = [r for r in requests_mock.request_history if r.url.split("?")[0].endswith("/deleted")]
    assert [sent(r) for r in checks] == [{"type": ["all"], "page": ["1"], "per_page": ["2"]}] * 2
    # From one second before Zoho's clock at each chain's first page (100 s after BASE, then 101 s).
    assert [r.headers["If-Modified-Since"] for r in checks] == [
        "2025-01-01T00:01:39+00:00",
        "2025-01-01T00:01:40+00:00",
    ]
    assert module.list_calls == 3 + 3  # a second chain for the deletion, then none (nothing new)


def test_a_refused_deleted_log_leaves_the_read_as_it_is(client: Any, requests_mock: Any) -> None:
    module = FakeModule(name="Calls")
    module.add(6, 1)
    module.install(requests_mock, API)
    requests_mock.get(
        f"{API}/crm/v8/Calls/deleted", status_code=403, json={"code": "NO_PERMISSION", "message": "x"}
    )
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    reader.page_size = 2
    assert sorted(ids_of(list(reader.pages()))) == sorted(module.records)
    assert module.list_calls == 3


def test_without_zohos_date_nothing_is_checked(client: Any, requests_mock: Any) -> None:
    rows = [{"id": str(n), "Created_Time": "2025-01-01T00:00:00+00:00"} for n in range(4)]
    requests_mock.get(
        f"{API}/crm/v8/Calls",
        [
            {"json": {"data": rows[:2], "info": {"more_records": True, "next_page_token": "t"}}},
            {"json": {"data": rows[2:], "info": {"more_records": False}}},
        ],
    )
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    assert ids_of(list(reader.pages())) == ["0", "1", "2", "3"]
    assert reader.requests == 2


def test_deletions_on_every_pass_stop_after_bounded_rereads(client: Any, requests_mock: Any) -> None:
    module = FakeModule(name="Calls")
    module.add(100, 1)
    module.clock = 100
    module.before_list = lambda fake, call: fake.delete(min(fake.records, key=int))  # on every request
    module.install(requests_mock, API)
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    reader.page_size = 20
    list(reader.pages())
    assert module.deleted_calls == MAX_DENSE_PASSES - 1
    chains = [r for r in requests_mock.request_history if "/Calls?" in r.url and "page_token" not in sent(r)]
    assert len(chains) == MAX_DENSE_PASSES


def test_a_dense_second_at_start_skips_the_records_of_the_second_before(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(tokens="keyset", ims="inclusive")
    module.add(3, 4)
    dense = module.add(12, 5)
    later = module.add(2, 9)
    module.install(requests_mock, API)
    reader = ModuleReader(
        client,
        spec_for("Leads", ["id", "Modified_Time"]),
        incremental=True,
        start=BASE + timedelta(seconds=5),
    )
    reader.page_size = 5
    ids = ids_of(list(reader.pages()))
    assert sorted(ids) == sorted(dense + later)
    # First page, the dense second's chain to its first later record (4 pages), a pass that finds nothing
    # new (4), then a first page past the second.
    assert module.list_calls == 1 + 4 + 4 + 1


def test_a_chain_of_two_pages_is_checked_against_the_deleted_log(client: Any, requests_mock: Any) -> None:
    module = FakeModule(name="Calls")
    module.add(4, 1)
    module.clock = 100
    module.install(requests_mock, API)
    reader = ModuleReader(client, spec_for("Calls", ["id", "Created_Time"]), incremental=False)
    reader.page_size = 2
    list(reader.pages())
    assert (module.list_calls, module.deleted_calls) == (2, 1)


def test_in_id_order_the_cursor_stops_a_second_before_the_chain_began(
    client: Any, requests_mock: Any
) -> None:
    """A record modified behind the chain's position is left to the next sync, so no page's newest
    Modified_Time passes Zoho's clock at the chain's start."""
    module = FakeModule(ims="ignored")
    module.add(3, 1)
    module.add(2, 100)
    module.clock = 100
    module.install(requests_mock, API)
    reader = ModuleReader(
        client, spec_for("Leads", ["id", "Modified_Time"]), incremental=True, start=BASE.replace(minute=1)
    )
    pages = list(reader.pages())
    assert len(ids_of(pages)) == 2
    assert [page.newest for page in pages] == [BASE + timedelta(seconds=99)]
