"""Formula and rollup freshness (`formula_refresh_days`): when due, an incremental module stream emits
every record again, whole; not due, it makes no extra call; the instant is kept in the stream state,
from Zoho's clock, and the module's cursor never moves because of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from airbyte_cdk.models import (
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository

from integration_tests.airbyte_merge import DedupTable, Row
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.bulk_backfill import SyncTools
from source_zoho_crm.config import ConfigError, parse_config
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.errors import ZohoStateError
from source_zoho_crm.formula_refresh import POSITION_KEY, STATE_KEY, formula_fields, formula_refresh_for
from source_zoho_crm.inputs import prepare_config
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_stream import build_module_stream
from unit_tests.conftest import API, raw_config
from unit_tests.fake_module import BASE, FakeModule

DAY = 86_400
FIELDS = [
    {"api_name": "id", "data_type": "bigint", "json_type": "string"},
    {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
    {"api_name": "Last_Name", "data_type": "text", "json_type": "string"},
    {
        "api_name": "Score",
        "data_type": "formula",
        "json_type": "double",
        "formula": {"return_type": "double"},
    },
    {
        "api_name": "Touches",
        "data_type": "rollup_summary",
        "json_type": "double",
        "rollup_summary": {"return_type": "double"},
    },
]


@dataclass
class Sync:
    records: list[dict[str, Any]]
    states: list[dict[str, Any]]
    logs: list[str]

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1]


def sync(
    client: ZohoApiClient,
    state: dict[str, Any] | None,
    days: int = 7,
    fields: list[dict[str, Any]] = FIELDS,
    meter: CreditMeter | None = None,
) -> Sync:
    spec = build_module_spec("Leads", "leads", fields, include_deleted=False)
    messages = None
    if state is not None:
        blob = AirbyteStateBlob(state)
        descriptor = StreamDescriptor(name="leads")
        messages = [
            AirbyteStateMessage(
                type=AirbyteStateType.STREAM,
                stream=AirbyteStreamState(stream_descriptor=descriptor, stream_state=blob),
            )
        ]
    repository = InMemoryMessageRepository()
    tools = SyncTools(client=client, meter=meter) if meter is not None else None
    stream = build_module_stream(
        spec,
        client,
        SyncMode.incremental,
        ConnectorStateManager(messages),
        repository,
        tools=tools,
        formula_refresh_days=days,
    )
    partition = next(iter(stream.generate_partitions()))
    records = [dict(record.data) for record in partition.read()]
    stream.cursor.close_partition(partition)
    out = list(repository.consume_queue())
    states = [dict(m.state.stream.stream_state.__dict__) for m in out if m.type == Type.STATE]
    return Sync(records, states, [m.log.message for m in out if m.type == Type.LOG])


def zoho_now(module: FakeModule) -> str:
    return to_utc_iso(BASE + timedelta(seconds=module.clock))


@pytest.fixture
def module(requests_mock: Any) -> FakeModule:
    fake = FakeModule()
    fake.add(3, 10, Last_Name="A", Score=1.0, Touches=2.0)
    fake.add(2, 20, Last_Name="B", Score=5.0, Touches=0.0)
    fake.install(requests_mock, API)
    return fake


def recompute(module: FakeModule, bump: float) -> None:
    """What Zoho does to formula and rollup values: new values, the same Modified_Time."""
    for record in module.records.values():
        record["Score"] = float(record["Score"]) + bump
        record["Touches"] = float(record["Touches"]) + 1


def test_only_formula_and_rollup_fields_count_and_modules_without_them_are_never_refreshed() -> None:
    spec = build_module_spec("Leads", "leads", FIELDS, include_deleted=False)
    assert formula_fields(spec) == ("Score", "Touches")
    plain = build_module_spec("Contacts", "contacts", FIELDS[:3], include_deleted=False)
    assert formula_fields(plain) == ()
    assert formula_refresh_for(None, plain, 7, None, "Modified_Time", None) is None  # type: ignore[arg-type]
    assert formula_refresh_for(None, spec, 0, None, "Modified_Time", None) is None  # type: ignore[arg-type]


def test_first_sync_reads_everything_and_keeps_zohos_clock_without_an_extra_call(
    client: ZohoApiClient, module: FakeModule
) -> None:
    module.clock = 100
    first = sync(client, None)
    assert len(first.records) == 5 and module.list_calls == 1
    assert first.state[STATE_KEY] == zoho_now(module)
    assert not any("refreshing formula" in log for log in first.logs)


def test_not_due_makes_no_extra_call_and_keeps_the_instant(client: ZohoApiClient, module: FakeModule) -> None:
    module.clock = 100
    first = sync(client, None)
    module.clock = 100 + 6 * DAY
    recompute(module, 10)
    calls = module.list_calls
    second = sync(client, first.state)
    assert module.list_calls - calls == 1  # the incremental first page only
    assert len(second.records) == 2  # the boundary second, as always; no refresh
    assert second.state[STATE_KEY] == first.state[STATE_KEY]
    assert all(s.get(STATE_KEY) == first.state[STATE_KEY] for s in second.states)  # in every checkpoint


def test_due_reemits_every_record_whole_and_the_merge_keeps_the_new_values(
    client: ZohoApiClient, module: FakeModule
) -> None:
    module.clock = 100
    first = sync(client, None)
    module.clock = 100 + 7 * DAY - 1800  # within the hour of slack: due
    recompute(module, 10)
    calls = module.list_calls
    second = sync(client, first.state)
    assert module.list_calls - calls == 2  # the incremental page, then one page in id order
    refreshed = {r["id"]: r for r in second.records[-5:]}
    assert {r["id"]: r["Score"] for r in refreshed.values()} == {
        i: r["Score"] for i, r in module.records.items()
    }
    assert all(r["Last_Name"] in ("A", "B") and r["Modified_Time"] for r in refreshed.values())
    # The cursor is the one the incremental read stored, never moved by the refresh.
    assert second.state["Modified_Time"] == first.state["Modified_Time"]
    assert all(s["Modified_Time"] >= first.state["Modified_Time"] for s in second.states)
    assert second.state[STATE_KEY] == zoho_now(module)
    assert any("formula and rollup values refreshed: 5 records" in log for log in second.logs)
    # Airbyte's MERGE: equal cursor, later extraction wins, so every column is current.
    table = DedupTable("Modified_Time")
    table.merge([Row(r, 1_000 + n) for n, r in enumerate(first.records)])
    table.merge([Row(r, 2_000 + n) for n, r in enumerate(second.records)])
    assert {k: row.data for k, row in table.rows.items()} == {i: {**r} for i, r in module.records.items()}
    # A third sync the same day is not due any more.
    calls = module.list_calls
    third = sync(client, second.state)
    assert module.list_calls - calls == 1 and len(third.records) == 2


def test_state_without_the_instant_refreshes_at_once(client: ZohoApiClient, module: FakeModule) -> None:
    """Turning the option on for a stream that already has state: the next sync refreshes."""
    module.clock = 100
    cursor_only = {"Modified_Time": to_utc_iso(BASE + timedelta(seconds=20))}
    result = sync(client, cursor_only)
    assert len(result.records) == 2 + 5 and result.state[STATE_KEY] == zoho_now(module)


def test_an_interrupted_refresh_keeps_the_old_instant_and_goes_on_from_its_position(
    client: ZohoApiClient, module: FakeModule, tokens: ZohoTokenProvider, requests_mock: Any
) -> None:
    module.clock = 100
    first = sync(client, None)
    for n in range(400):  # three pages of 200 in Modified_Time order
        module.add(1, 30 + n, Last_Name="C", Score=0.0, Touches=0.0)
    module.clock = 100 + 8 * DAY
    began = zoho_now(module)
    state = {**first.state, "Modified_Time": to_utc_iso(BASE + timedelta(seconds=429))}
    meter = CreditMeter(budget=3)
    metered = ZohoApiClient(API, tokens, max_concurrent=2, sleep=lambda _: None, meter=meter)
    stopped = sync(metered, state, meter=meter)
    assert meter.spent == 3  # the incremental page, then two refresh pages: the budget
    refreshed = {r["id"] for r in stopped.records[1:]}
    # 200, then 198 new: page 2 repeats the boundary seconds (If-Modified-Since one second early)
    assert len(refreshed) == 398 and any(
        "formula refresh stopped after 398 records" in x for x in stopped.logs
    )
    assert stopped.state[STATE_KEY] == first.state[STATE_KEY]  # not finished: the old instant
    position = stopped.state[POSITION_KEY]
    assert position["started"] == began and position["from"] == to_utc_iso(BASE + timedelta(seconds=422))
    assert stopped.state["Modified_Time"] == state["Modified_Time"]
    # The next sync (an hour later) goes on from the position, not from the top, and finishes.
    module.clock += 3600
    calls = module.list_calls
    again = sync(client, stopped.state)
    rest = {r["id"] for r in again.records[1:]}
    assert module.list_calls - calls == 2 and len(rest) <= 9  # seconds 421 (one early) to 429
    assert refreshed | rest == set(module.records)
    assert again.state[STATE_KEY] == began and POSITION_KEY not in again.state
    # Finished at `began`: not due again before 7 days after it.
    calls = module.list_calls
    sync(client, again.state)
    assert module.list_calls - calls == 1


def test_child_rows_and_full_refresh_never_refresh(client: ZohoApiClient, module: FakeModule) -> None:
    module.clock = 100
    spec = build_module_spec("Leads", "leads", FIELDS, include_deleted=False)
    repository = InMemoryMessageRepository()
    stream = build_module_stream(
        spec, client, SyncMode.full_refresh, ConnectorStateManager(None), repository, formula_refresh_days=1
    )
    partition = next(iter(stream.generate_partitions()))
    assert len(list(partition.read())) == 5 and module.list_calls == 1


def test_the_option_is_parsed_with_its_spellings_and_named_in_errors() -> None:
    assert parse_config(raw_config()).formula_refresh_days == 0
    assert parse_config(raw_config(formula_refresh_days="7")).formula_refresh_days == 7
    assert prepare_config(raw_config(formula_refresh_days=" 3 "))["formula_refresh_days"] == 3
    assert prepare_config(raw_config(formula_refresh_days=""))["formula_refresh_days"] == 0
    for bad in (-1, "weekly", True, 1.5):
        with pytest.raises(ConfigError, match="formula_refresh_days"):
            parse_config(raw_config(formula_refresh_days=bad))


def test_a_module_without_modified_time_is_refreshed_in_id_order_without_a_position(
    client: ZohoApiClient, requests_mock: Any
) -> None:
    fake = FakeModule()
    for n in range(3):
        fake.add(1, 10 + n, Created_Time="2025-01-01T00:00:00+00:00", Score=1.0)
    fake.install(requests_mock, API)
    fields = [
        {"api_name": "id", "data_type": "bigint", "json_type": "string"},
        {"api_name": "Created_Time", "data_type": "datetime", "json_type": "string"},
        {
            "api_name": "Score",
            "data_type": "formula",
            "json_type": "double",
            "formula": {"return_type": "double"},
        },
    ]
    state = {"Created_Time": "2025-01-01T00:00:00Z", STATE_KEY: "2024-01-01T00:00:00Z"}
    fake.clock = 100
    result = sync(client, state, fields=fields)
    sorts = [q.qs.get("sort_by") for q in requests_mock.request_history if q.path.endswith("/leads")]
    assert sorts == [["id"], ["id"]]  # the incremental read and the refresh, both in id order
    assert len(result.records) == 3 + 3 and POSITION_KEY not in result.state
    assert result.state[STATE_KEY] == zoho_now(fake)


def test_an_unreadable_position_is_a_clear_state_error(client: ZohoApiClient, module: FakeModule) -> None:
    state = {"Modified_Time": "2025-01-01T00:00:20Z", POSITION_KEY: {"from": "soon", "started": "x"}}
    with pytest.raises(ZohoStateError, match="formula_refresh.from"):
        sync(client, state)


def test_the_refresh_reports_the_credits_it_spent(
    module: FakeModule, tokens: ZohoTokenProvider, token_ok: Any
) -> None:
    for n in range(300):
        module.add(1, 30 + n, Last_Name="C", Score=0.0, Touches=0.0)
    meter = CreditMeter()
    metered = ZohoApiClient(API, tokens, max_concurrent=2, sleep=lambda _: None, meter=meter)
    state = {"Modified_Time": to_utc_iso(BASE + timedelta(seconds=329)), STATE_KEY: "2024-01-01T00:00:00Z"}
    result = sync(metered, state, meter=meter)
    # 305 records in Modified_Time order: two first pages; plus the incremental read's one page.
    assert meter.spent_by_stream() == {"leads": 3}
    assert any("refreshed: 305 records emitted again, 2 credits" in log for log in result.logs)
