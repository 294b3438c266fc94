"""Per-record related-list streams: which parents are visited, paging, cursors, refusals and cost.

A fake Deals module (FakeModule) lists the parents; requests-mock answers each parent's related list.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.test.state_builder import StateBuilder

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.config import ConfigError, parse_config
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.datetimes import parse_zoho_datetime
from source_zoho_crm.errors import ZohoAccessError
from source_zoho_crm.related_reader import RelatedReader
from source_zoho_crm.related_specs import (
    ATTACHMENTS,
    CONTACT_ROLES,
    STAGE_HISTORY,
    RelatedListSpec,
    plan,
    specs_for_parent,
)
from source_zoho_crm.related_streams import build_related_stream
from source_zoho_crm.stream_specs import ModuleStreamSpec, build_module_spec
from unit_tests.conftest import API, raw_config
from unit_tests.fake_module import BASE, FakeModule, zoho_time

DEAL_FIELDS = [
    {"api_name": "Deal_Name", "data_type": "text", "json_type": "string"},
    {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
]


def deals_spec(stream: str = "deals", api_name: str = "Deals") -> ModuleStreamSpec:
    return build_module_spec(api_name, stream, DEAL_FIELDS, include_deleted=False)


class FakeRelated:
    """GET /Deals/{id}/{list}: rows per parent id; `pages_of` rows a page; page tokens `p<offset>`."""

    def __init__(
        self, rows: dict[str, list[dict[str, Any]]], per_page: int = 200, gone: set[str] | None = None
    ):
        self.rows, self.per_page, self.gone = rows, per_page, gone or set()
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(self, request: Any, context: Any) -> Any:
        parent = urlparse(request.url).path.split("/")[-2]
        q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.calls.append((parent, q))
        assert q["fields"], "fields is mandatory"
        if parent in self.gone:
            context.status_code = 400
            return {
                "code": "INVALID_DATA",
                "details": {"id": parent},
                "message": "invalid id",
                "status": "error",
            }
        offset = int(q["page_token"][1:]) if "page_token" in q else 0
        page = self.rows.get(parent, [])[offset : offset + self.per_page]
        if not page:
            context.status_code = 204
            return None
        more = offset + self.per_page < len(self.rows[parent])
        token = f"p{offset + self.per_page}" if more else None
        return {"data": page, "info": {"more_records": more, "next_page_token": token, "count": len(page)}}


@pytest.fixture
def deals(requests_mock: Any) -> FakeModule:
    module = FakeModule(name="Deals")
    for second in range(0, 50, 10):
        module.add(1, second, Deal_Name=f"deal at {second}")
    module.install(requests_mock, API)
    return module


def install(requests_mock: Any, related: str, fake: FakeRelated) -> None:
    requests_mock.get(re.compile(rf"{API}/crm/v8/Deals/[0-9]+/{related}"), json=fake)


def read_all(reader: RelatedReader) -> tuple[list[dict[str, Any]], list[Any]]:
    pages = list(reader.pages())
    return [row for page in pages for row in page.records], pages


def test_every_parent_is_asked_once_and_pages_follow_the_token(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    ids = sorted(deals.records)
    rows = {
        ids[0]: [{"id": "a1", "File_Name": "x.pdf", "Modified_Time": zoho_time(1)}],
        ids[2]: [{"id": f"b{n}", "Modified_Time": zoho_time(2)} for n in range(5)],
    }
    fake = FakeRelated(rows, per_page=2)
    install(requests_mock, "Attachments", fake)
    spec = RelatedListSpec("deals_attachments", ATTACHMENTS, deals_spec())
    got, _ = read_all(RelatedReader(client, spec, start=None, warn=lambda _: None))
    assert sorted(r["id"] for r in got) == ["a1", "b0", "b1", "b2", "b3", "b4"]
    assert {r["parent_id"] for r in got} == {ids[0], ids[2]} and {r["parent_module"] for r in got} == {
        "Deals"
    }
    # five parents, one call each, plus two more pages of the third (tokens p2, p4); one list call
    assert len(fake.calls) == 7 and deals.list_calls == 1
    assert [q.get("page_token") for parent, q in fake.calls if parent == ids[2]] == [None, "p2", "p4"]
    assert all(q["fields"] == ",".join(ATTACHMENTS.fields) for _, q in fake.calls)


def test_stage_history_visits_only_deals_changed_since_the_cursor(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    rows = {i: [{"id": f"h{i}", "Stage": "Won"}] for i in deals.records}
    fake = FakeRelated(rows)
    install(requests_mock, "Stage_History", fake)
    start = parse_zoho_datetime(zoho_time(30))
    spec = RelatedListSpec("deals_stage_history", STAGE_HISTORY, deals_spec())
    reader = RelatedReader(client, spec, start=start, warn=lambda _: None)
    got, pages = read_all(reader)
    changed = {i for i, r in deals.records.items() if parse_zoho_datetime(r["Modified_Time"]) >= start}
    assert {parent for parent, _ in fake.calls} == changed and len(changed) == 2
    assert {r["parent_modified_time"] for r in got} == {zoho_time(30), zoho_time(40)}
    assert pages[-1].newest == parse_zoho_datetime(zoho_time(40)) and pages[-1].checkpoint


def test_stage_history_first_sync_visits_every_deal_and_stores_no_later_than_zoho_clock(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    install(requests_mock, "Stage_History", FakeRelated({i: [{"id": f"h{i}"}] for i in deals.records}))
    deals.clock = 35  # Zoho's clock when the read begins: the deal of second 40 was changed behind it
    spec = RelatedListSpec("deals_stage_history", STAGE_HISTORY, deals_spec())
    got, pages = read_all(RelatedReader(client, spec, start=None, warn=lambda _: None))
    assert len(got) == 5
    assert pages[-1].newest == BASE + timedelta(seconds=35) and not pages[-1].checkpoint


def test_attachments_visit_every_parent_and_keep_rows_from_the_cursor(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    """Attaching a file may leave the parent's Modified_Time alone: unchanged parents are asked too."""
    oldest = min(deals.records)
    rows = {
        oldest: [{"id": "old", "Modified_Time": zoho_time(5)}, {"id": "new", "Modified_Time": zoho_time(100)}]
    }
    fake = FakeRelated(rows)
    install(requests_mock, "Attachments", fake)
    deals.clock = 120
    spec = RelatedListSpec("deals_attachments", ATTACHMENTS, deals_spec())
    reader = RelatedReader(client, spec, start=parse_zoho_datetime(zoho_time(90)), warn=lambda _: None)
    got, pages = read_all(reader)
    assert [r["id"] for r in got] == ["new"]
    assert len(fake.calls) == 5  # every deal, though none changed since the cursor
    assert pages[-1].newest == parse_zoho_datetime(zoho_time(100)) and not pages[-1].checkpoint


def test_a_parent_deleted_after_listing_is_skipped_with_one_warning(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    ids = sorted(deals.records)
    install(
        requests_mock,
        "Contact_Roles",
        FakeRelated(
            {i: [{"id": "c1", "Contact_Role": {"name": "Evaluator", "id": "r1"}}] for i in ids}, gone={ids[1]}
        ),
    )
    warnings: list[str] = []
    spec = RelatedListSpec("deals_contact_roles", CONTACT_ROLES, deals_spec())
    got, pages = read_all(RelatedReader(client, spec, start=None, warn=warnings.append))
    assert len(got) == 4 and ids[1] not in {r["parent_id"] for r in got}
    assert len(warnings) == 1 and "INVALID_DATA for 1 of 5 Deals records" in warnings[0]
    assert all(page.newest is None for page in pages)  # contact roles have no cursor


def test_a_refused_list_skips_the_stream_and_calls_are_charged_to_it(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    requests_mock.get(
        re.compile(rf"{API}/crm/v8/Deals/[0-9]+/Attachments"),
        status_code=401,
        json={"code": "OAUTH_SCOPE_MISMATCH", "message": "invalid oauth scope", "status": "error"},
    )
    spec = RelatedListSpec("deals_attachments", ATTACHMENTS, deals_spec())
    with pytest.raises(ZohoAccessError):
        read_all(RelatedReader(client, spec, start=None, warn=lambda _: None))

    client.meter = CreditMeter()
    repository = InMemoryMessageRepository()
    stream = build_related_stream(spec, client, SyncMode.incremental, ConnectorStateManager([]), repository)
    records = [record for partition in stream.generate_partitions() for record in partition.read()]
    assert records == []
    logs = [m.log.message for m in repository.consume_queue() if m.log is not None]
    assert any("Skipping stream deals_attachments: " in text for text in logs), logs
    # the list call and the refused parents' calls (made in pool threads) are all the stream's
    spent = client.meter.spent_by_stream()
    assert spent.get("deals_attachments", 0) >= 2 and set(spent) == {"deals_attachments"}


def test_the_stream_states_its_cost_and_saves_its_cursor(
    client: ZohoApiClient, deals: FakeModule, requests_mock: Any
) -> None:
    install(requests_mock, "Stage_History", FakeRelated({i: [{"id": f"h{i}"}] for i in deals.records}))
    client.meter = CreditMeter()
    repository = InMemoryMessageRepository()
    state = ConnectorStateManager([])
    spec = RelatedListSpec("deals_stage_history", STAGE_HISTORY, deals_spec())
    stream = build_related_stream(spec, client, SyncMode.incremental, state, repository)
    partitions = list(stream.generate_partitions())
    records = [record for partition in partitions for record in partition.read()]
    stream.cursor.close_partition(partitions[0])
    assert len(records) == 5
    logs = [m.log.message for m in repository.consume_queue() if m.log is not None]
    assert any(
        "visited 5 Deals records with 5 Stage_History calls (one API call per parent record, plus 1" in text
        for text in logs
    )
    assert client.meter.spent_by_stream() == {"deals_stage_history": 6}
    assert state.get_stream_state("deals_stage_history", None) == {
        "parent_modified_time": "2025-01-01T00:00:40Z"
    }


def test_per_record_streams_config_and_plan() -> None:
    parsed = parse_config(raw_config(per_record_streams="Deals_Stage_History, leads_attachments"))
    assert parsed.per_record_streams == ("deals_stage_history", "leads_attachments")
    assert parse_config(raw_config()).per_record_streams == ()
    for bad in (["deals"], ["_attachments"], [3], {"a": 1}):
        with pytest.raises(ConfigError, match="per_record_streams"):
            parse_config(raw_config(per_record_streams=bad))
    planned = plan(["deals_stage_history", "deals_contact_roles", "leads_attachments"])
    assert [s.stream_name for s in specs_for_parent(deals_spec(), planned)] == [
        "deals_stage_history",
        "deals_contact_roles",
    ]
    leads = specs_for_parent(deals_spec("leads", "Leads"), planned)
    assert [s.stream_name for s in leads] == ["leads_attachments"] and leads[0].kind is ATTACHMENTS
    # deals_* kinds belong to module Deals only, even under a stream named deals
    assert specs_for_parent(deals_spec("deals", "Deals_Custom"), planned) == []


def test_a_spent_budget_stops_only_at_a_checkpoint(client: ZohoApiClient, requests_mock: Any) -> None:
    """Stage history (changed deals, Modified_Time order) stops after its first page of parents; attachments
    (every parent, id order, no checkpoint before the end) read on to the end, so the cursor skips nothing."""
    many = FakeModule(name="Deals")
    for second in range(250):
        many.add(1, second)
    many.install(requests_mock, API)
    rows = {i: [{"id": f"r{i}", "Modified_Time": many.records[i]["Modified_Time"]}] for i in many.records}
    install(requests_mock, "Stage_History", FakeRelated(rows))
    install(requests_mock, "Attachments", FakeRelated(rows))
    builder = StateBuilder()
    builder.with_stream_state("deals_stage_history", {"parent_modified_time": "2025-01-01T00:00:00Z"})
    builder.with_stream_state("deals_attachments", {"Modified_Time": "2025-01-01T00:00:00Z"})
    state = ConnectorStateManager(builder.build())
    counts = {}
    for name, kind in (("deals_stage_history", STAGE_HISTORY), ("deals_attachments", ATTACHMENTS)):
        client.meter = CreditMeter(budget=3)
        stream = build_related_stream(
            RelatedListSpec(name, kind, deals_spec()),
            client,
            SyncMode.incremental,
            state,
            InMemoryMessageRepository(),
        )
        partitions = list(stream.generate_partitions())
        counts[name] = sum(1 for partition in partitions for _ in partition.read())
        stream.cursor.close_partition(partitions[0])
    assert counts == {"deals_stage_history": 200, "deals_attachments": 250}
    assert state.get_stream_state("deals_stage_history", None) == {
        "parent_modified_time": "2025-01-01T00:03:19Z"
    }
    assert state.get_stream_state("deals_attachments", None) == {"Modified_Time": "2025-01-01T00:04:09Z"}
