"""The deletions clock and the tombstone warnings of a module stream, where mutation testing found the
other tombstone tests blind: a first page that does not checkpoint, no `Date` header, a log of several
pages, a deletion in Zoho's current second, the retention boundary, the exact warnings."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository

from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_stream import DELETIONS_CLOCK_MARGIN, build_module_stream
from unit_tests.conftest import API
from unit_tests.fake_module import FakeModule
from unit_tests.test_tombstones import DELETED, sync

LEADS = f"{API}/crm/v8/Leads"
STATE = {"Modified_Time": "2025-01-01T00:00:10Z", "deleted_since": "2025-01-01T00:00:05Z"}


def warnings(result: Any) -> list[str]:
    """The CDK's message repository sends a log's dict as JSON text."""
    return [json.loads(warning)["message"] for warning in result.warnings]


def page(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": records, "info": {"more_records": False}}


def test_a_first_page_that_does_not_checkpoint_saves_the_deletions_clock_at_once(
    client: Any, requests_mock: Any
) -> None:
    module = FakeModule(ims="ignored")  # read in id order: its pages do not checkpoint
    module.add(3, 1)
    module.add(2, 100)
    module.install(requests_mock, API)
    result = sync(client, {"Modified_Time": "2025-01-01T00:01:00Z"})
    assert result.states[0] == {
        "deleted_since": "2025-01-01T00:01:40Z",
        "Modified_Time": "2025-01-01T00:01:00Z",
    }
    assert module.deleted_calls == 0  # a first sync reads no deletions


def test_without_zohos_date_the_deletions_clock_starts_a_margin_before_now(
    client: Any, requests_mock: Any
) -> None:
    requests_mock.get(LEADS, json=page([{"id": "1", "Modified_Time": "2025-01-01T00:00:10+00:00"}]))
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = sync(client, {"Modified_Time": "2025-01-01T00:00:00Z"})
    after = datetime.now(timezone.utc)
    clock = datetime.fromisoformat(result.states[-1]["deleted_since"].replace("Z", "+00:00"))
    assert before - DELETIONS_CLOCK_MARGIN <= clock <= after - DELETIONS_CLOCK_MARGIN


def test_the_deletions_clock_is_zohos_time_at_the_first_page_of_the_log(
    client: Any, requests_mock: Any
) -> None:
    requests_mock.get(LEADS, json=page([]), status_code=200)
    requests_mock.get(
        DELETED,
        [
            {
                "json": {
                    "data": [{"id": "7", "deleted_time": "2025-01-01T00:00:30+00:00"}],
                    "info": {"more_records": True},
                },
                "headers": {"Date": "Wed, 01 Jan 2025 00:01:00 GMT"},
            },
            {
                "json": page([{"id": "8", "deleted_time": "2025-01-01T00:00:40+00:00"}]),
                "headers": {"Date": "Wed, 01 Jan 2025 00:05:00 GMT"},  # the log changed meanwhile
            },
        ],
    )
    result = sync(client, STATE)
    assert [t["id"] for t in result.tombstones] == ["7", "8"]
    assert result.states[-1]["deleted_since"] == "2025-01-01T00:00:59Z"
    assert not result.warnings


def test_a_deletion_in_zohos_current_second_moves_the_clock_to_it(client: Any, requests_mock: Any) -> None:
    requests_mock.get(LEADS, json=page([]))
    requests_mock.get(
        DELETED,
        json=page([{"id": "7", "deleted_time": "2025-01-01T00:01:00+00:00"}]),
        headers={"Date": "Wed, 01 Jan 2025 00:01:00 GMT"},
    )
    assert sync(client, STATE).states[-1]["deleted_since"] == "2025-01-01T00:01:00Z"
    requests_mock.get(DELETED, json=page([{"id": "7", "deleted_time": "2025-01-01T00:00:50+00:00"}]))
    assert sync(client, STATE).states[-1]["deleted_since"] == "2025-01-01T00:00:50Z"  # no Date: the entries


def test_tombstones_belong_to_the_stream_and_carry_its_cursor(client: Any, requests_mock: Any) -> None:
    requests_mock.get(LEADS, json=page([]))
    requests_mock.get(DELETED, json=page([{"id": "7", "deleted_time": "2025-01-01T00:00:50+05:30"}]))
    fields = [
        {"api_name": n, "data_type": "datetime" if n == "Modified_Time" else "text", "json_type": "string"}
        for n in ("id", "Modified_Time")
    ]
    spec = build_module_spec("Leads", "leads", fields, include_deleted=True)
    manager = ConnectorStateManager()
    manager.update_state_for_stream("leads", None, dict(STATE))  # the state a previous sync left
    stream = build_module_stream(
        spec, client, SyncMode.incremental, manager, InMemoryMessageRepository(), include_deleted=True
    )
    records = list(next(iter(stream.generate_partitions())).read())
    assert [(r.stream_name, dict(r.data)) for r in records] == [
        (
            "leads",
            {
                "id": "7",
                "_ab_cdc_deleted_at": "2025-01-01T00:00:50+05:30",
                "Modified_Time": "2025-01-01T00:00:50+05:30",
            },
        )
    ]


def test_a_refused_log_is_explained_in_full(client: Any, requests_mock: Any) -> None:
    requests_mock.get(LEADS, json=page([]))
    requests_mock.get(
        DELETED, status_code=403, json={"code": "NO_PERMISSION", "message": "no", "status": "error"}
    )
    assert warnings(sync(client, STATE)) == [
        "Stream leads: Zoho refused the deleted records of Leads (NO_PERMISSION); its records were read, "
        "but rows deleted in Zoho stay in the destination until Zoho lets this token read them "
        "(deleted_since is kept, so the next sync catches up)."
    ]


def test_retention_warns_only_past_sixty_days_and_says_what_to_do(client: Any, requests_mock: Any) -> None:
    module = FakeModule()
    module.add(3, 10)
    module.install(requests_mock, API)
    module.clock = 60 * 86400 + 5  # Zoho's Date minus the deletions clock: exactly 60 days
    assert warnings(sync(client, STATE)) == []
    module.clock += 1
    assert warnings(sync(client, STATE)) == [
        "Stream leads: its deletions were last read at 2025-01-01T00:00:05Z, more than 60 days ago, longer "
        "than Zoho keeps deleted records, so some deletions may have been missed. A full refresh of this "
        "stream (reset its data) removes them from the destination."
    ]
