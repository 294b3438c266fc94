"""A module stream's deletions: the clock comes from Zoho's `Date` and is saved in the first
checkpoint, refused logs end with a warning (records kept), old clocks warn about Zoho's retention."""

from __future__ import annotations

from dataclasses import dataclass
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

from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_stream import build_module_stream
from unit_tests.conftest import API
from unit_tests.fake_module import FakeModule, zoho_time

DELETED = f"{API}/crm/v8/Leads/deleted"


@dataclass
class Sync:
    records: list[dict[str, Any]]
    states: list[dict[str, Any]]
    warnings: list[str]

    @property
    def tombstones(self) -> list[dict[str, Any]]:
        return [r for r in self.records if "_ab_cdc_deleted_at" in r]


def sync(client: Any, state: dict[str, Any] | None = None, fail_on_call: int | None = None) -> Sync:
    fields = [
        {"api_name": n, "data_type": "datetime" if n == "Modified_Time" else "text", "json_type": "string"}
        for n in ("id", "Modified_Time", "Last_Name")
    ]
    spec = build_module_spec("Leads", "leads", fields, include_deleted=True)
    messages = None
    if state is not None:
        messages = [
            AirbyteStateMessage(
                type=AirbyteStateType.STREAM,
                stream=AirbyteStreamState(
                    stream_descriptor=StreamDescriptor(name="leads"), stream_state=AirbyteStateBlob(state)
                ),
            )
        ]
    repository = InMemoryMessageRepository()
    stream = build_module_stream(
        spec, client, SyncMode.incremental, ConnectorStateManager(messages), repository, include_deleted=True
    )
    partition = next(iter(stream.generate_partitions()))
    records: list[dict[str, Any]] = []
    try:
        for record in partition.read():
            records.append(dict(record.data))
        stream.cursor.close_partition(partition)
    except ZohoApiError:
        if fail_on_call is None:
            raise
    out = list(repository.consume_queue())
    states = [dict(m.state.stream.stream_state.__dict__) for m in out if m.type == Type.STATE]
    warnings = [m.log.message for m in out if m.type == Type.LOG and m.log.level.name == "WARN"]
    return Sync(records, states, warnings)


def test_the_first_checkpoint_saves_zohos_clock_so_an_interrupted_first_sync_loses_no_deletion(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule()
    ids = module.add(450, 10, Last_Name="x")
    module.clock = 500  # Zoho's Date: the emulated clock, far from the local one
    module.install(requests_mock, API)
    original = module._list

    def failing(request: Any, context: Any) -> Any:
        if module.list_calls == 2 and "ids" not in request.url:
            context.status_code = 400
            return {"code": "INVALID_DATA", "message": "boom", "status": "error", "details": {}}
        return original(request, context)

    requests_mock.get(f"{API}/crm/v8/Leads", json=failing)
    first = sync(client, fail_on_call=2)
    assert first.states and first.states[0]["deleted_since"] == "2025-01-01T00:08:20Z"  # Date, not local
    saved = first.states[-1]
    # Between the interrupted sync and its resumption, a record it already emitted is deleted.
    module.delete(ids[0])
    requests_mock.get(f"{API}/crm/v8/Leads", json=original)
    resumed = sync(client, saved)
    assert [t["id"] for t in resumed.tombstones] == [ids[0]]
    assert resumed.tombstones[0]["Modified_Time"] == zoho_time(501)


def test_deletions_clock_moves_to_zohos_time_when_nothing_was_deleted(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule()
    module.add(3, 10)
    module.clock = 100_000
    module.install(requests_mock, API)
    result = sync(client, {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-01-01T00:00:10Z"})
    assert result.states[-1]["deleted_since"] == "2025-01-02T03:46:39Z"  # Date minus one second
    assert module.deleted_calls == 1
    assert requests_mock.request_history[-1].headers["If-Modified-Since"] == "2025-01-01T00:00:09+00:00"


def test_a_gap_longer_than_zohos_retention_warns(client: Any, requests_mock: Any) -> None:
    module = FakeModule()
    module.add(3, 10)
    module.clock = 61 * 86400
    module.install(requests_mock, API)
    result = sync(client, {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-01-01T00:00:10Z"})
    assert any("more than 60 days ago" in w and "full refresh" in w for w in result.warnings)
    recent = sync(client, {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-02-20T00:00:00Z"})
    assert not recent.warnings


@pytest.mark.parametrize(
    "answer",
    [
        {
            "status_code": 400,
            "json": {"data": [{"code": "INVALID_MODULE", "message": "m", "status": "error"}]},
        },
        {"status_code": 400, "json": {"code": "AUTHORIZATION_FAILED", "message": "m", "status": "error"}},
        {
            "status_code": 403,
            "json": {"code": "NO_PERMISSION", "message": "permission denied", "status": "error"},
        },
    ],
)
def test_a_refused_deleted_log_ends_the_tombstones_with_a_warning_and_keeps_the_records(
    client: Any, requests_mock: Any, answer: dict[str, Any]
) -> None:
    module = FakeModule()
    module.add(3, 10)
    module.install(requests_mock, API)
    requests_mock.get(DELETED, **answer)
    state = {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-01-01T00:00:05Z"}
    result = sync(client, state)
    assert len(result.records) == 3 and not result.tombstones
    code = answer["json"].get("code") or answer["json"]["data"][0]["code"]
    assert any(code in w and "Leads" in w for w in result.warnings)
    assert result.states[-1]["deleted_since"] == "2025-01-01T00:00:05Z"  # kept: the next sync catches up


def test_more_than_2000_deletions_fail_and_a_refresh_right_after_works(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule()
    module.add(10, 10)
    module.clock = 1000
    module.install(requests_mock, API)
    requests_mock.get(
        DELETED,
        [
            {
                "json": {
                    "data": [{"id": "9", "deleted_time": zoho_time(999)}] * 200,
                    "info": {"more_records": True},
                }
            },
        ]
        * 10
        + [{"status_code": 400, "json": {"code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "message": ""}}],
    )
    with pytest.raises(ZohoApiError, match="full refresh"):
        sync(client, {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-01-01T00:00:05Z"})
    # The remedy, within the same second: a sync without state reads every record and starts the clock at
    # Zoho's time, after the deletions, so the next sync does not meet them again.
    refreshed = sync(client, None)
    assert len([r for r in refreshed.records if "_ab_cdc_deleted_at" not in r]) == 10
    assert refreshed.states[-1]["deleted_since"] == "2025-01-01T00:16:40Z"
    requests_mock.get(DELETED, status_code=204)  # Zoho: nothing deleted from that instant on
    after = sync(client, refreshed.states[-1])
    assert requests_mock.request_history[-1].headers["If-Modified-Since"] == "2025-01-01T00:16:39+00:00"
    assert not after.tombstones


def test_a_record_restored_from_the_recycle_bin_comes_back_whole_with_its_old_cursor(
    client: Any, requests_mock: Any
) -> None:
    """Zoho does not say whether a restore moves Modified_Time or drops the deleted-log entry: here
    neither happens (the worst reading), so only the restore check can bring the record back."""
    module = FakeModule()
    ids = module.add(5, 10, Last_Name="x")
    module.add(1, 50, Last_Name="y")  # the cursor: later syncs read from second 50 on
    module.clock = 100
    module.install(requests_mock, API)
    state = sync(client).states[-1]
    kept = {i: dict(module.records[i]) for i in ids}
    module.delete(ids[0])
    module.delete(ids[1])
    second = sync(client, state)
    assert sorted(t["id"] for t in second.tombstones) == sorted(ids[:2])
    assert set(second.states[-1]["tombstoned"]) == set(ids[:2])
    module.records[ids[0]] = kept[ids[0]]  # restored, Modified_Time unchanged, still in the deleted log
    module.clock += 1
    module.delete(ids[2])
    module.records[ids[2]] = kept[ids[2]]  # deleted and restored between two syncs
    before = module.ids_calls
    third = sync(client, second.states[-1])
    # Live records get no tombstone, even where the log lists them (ids[1]'s may come twice: harmless).
    assert {t["id"] for t in third.tombstones} <= {ids[1]}
    restored = [r for r in third.records if "_ab_cdc_deleted_at" not in r and r["id"] in ids]
    assert sorted(r["id"] for r in restored) == sorted([ids[0], ids[2]])
    assert all(r["Modified_Time"] == kept[r["id"]]["Modified_Time"] for r in restored)
    assert set(third.states[-1]["tombstoned"]) == {ids[1]}  # still deleted: still watched
    # One ids call checks the log's recyclable entries (the watched ones among them, so none is asked
    # twice), one gets the restored records whole.
    assert module.ids_calls - before == 2
