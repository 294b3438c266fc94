"""Config of Bulk Read and the credit budget; credits the client charges; ESTIMATE without the count scopes;
the budget ends a sync after its last checkpoint with a message that says how to resume."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode, TraceType
from airbyte_cdk.test.state_builder import StateBuilder

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.config import ConfigError, parse_config
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.inputs import prepare_config
from unit_tests.conftest import API, raw_config
from unit_tests.test_source import FIELDS, org, run_read  # noqa: F401 - the fake org fixture

COUNT = re.compile(f"{API}/crm/v8/[A-Za-z_]+/actions/count")


def test_bulk_read_threshold_and_credit_budget_defaults_and_spellings() -> None:
    config = parse_config(raw_config())
    assert config.bulk_read_threshold == 200_000 and config.api_credit_budget is None
    config = parse_config(raw_config(bulk_read_threshold="0", api_credit_budget="25000"))
    assert config.bulk_read_threshold == 0 and config.api_credit_budget == 25_000
    prepared = prepare_config(raw_config(bulk_read_threshold=" 500 ", api_credit_budget=1_000_000.0))
    assert prepared["bulk_read_threshold"] == 500 and prepared["api_credit_budget"] == 1_000_000


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("bulk_read_threshold", -1, "0 turns Bulk Read off"),
        ("bulk_read_threshold", "many", "at least 0"),
        ("api_credit_budget", 0, "leave it empty for no limit"),
        ("api_credit_budget", True, "at least 1"),
    ],
)
def test_bad_values_name_the_field(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(raw_config(**{key: value}))
    assert raised.value.field == key and expected in raised.value.message


def test_the_client_charges_answered_calls_and_reads_the_remaining_credits(
    tokens: Any, token_ok: Any, requests_mock: Any
) -> None:
    meter = CreditMeter()
    client = ZohoApiClient(API, tokens, sleep=lambda _: None, meter=meter)
    requests_mock.get(
        f"{API}/crm/v8/org",
        [
            {"status_code": 429, "json": {"code": "TOO_MANY_REQUESTS"}},
            {"json": {"org": [{}]}, "headers": {"X-API-CREDITS-REMAINING": "4321"}},
        ],
    )
    with meter.attributed_to("org"):
        client.get("/crm/v8/org", what="the org")
    assert meter.spent_by_stream() == {"org": 1}  # the 429 costs nothing
    assert meter.remaining == 4321


def test_no_count_scope_means_no_estimate_and_no_failure(org: Any) -> None:  # noqa: F811
    org.get(COUNT, status_code=401, json={"code": "OAUTH_SCOPE_MISMATCH", "status": "error", "message": "x"})
    output = run_read(raw_config(), {"leads": SyncMode.full_refresh})
    assert [r.record.data["id"] for r in output.records] == ["1", "2", "3"]
    assert not [m for m in output.trace_messages if m.trace.type == TraceType.ESTIMATE]
    assert not output.errors


def test_estimate_for_a_first_sync(org: Any) -> None:  # noqa: F811
    output = run_read(raw_config(), {"leads": SyncMode.incremental})
    [estimate] = [m.trace.estimate for m in output.trace_messages if m.trace.type == TraceType.ESTIMATE]
    assert estimate.name == "leads" and estimate.row_estimate == 3


def test_a_spent_budget_ends_the_sync_after_its_checkpoint(org: Any) -> None:  # noqa: F811
    output = run_read(raw_config(api_credit_budget=1), {"leads": SyncMode.incremental})
    [error] = output.errors
    message = error.trace.error.message
    assert "api_credit_budget of 1 credits is reached" in message and "resume" in message
    assert output.state_messages  # every state came before the error


def count_calls(mock: Any) -> list[str]:
    return [r.url.split("/crm/v8/")[1].split("/")[0] for r in mock.request_history if COUNT.match(r.url)]


def test_a_read_from_the_beginning_asks_each_count_once_beside_the_fields(org: Any) -> None:  # noqa: F811
    counted = threading.Event()
    seen_by_fields: list[bool] = []

    def count(request: Any, context: Any) -> dict:
        counted.set()
        return {"count": 3}

    def slow_fields(request: Any, context: Any) -> Any:
        seen_by_fields.append(counted.wait(timeout=2))  # the count is asked while fields are on their way
        return {"fields": FIELDS["Leads"]}

    org.get(COUNT, json=count)
    org.get(f"{API}/crm/v8/settings/fields", json=slow_fields)
    output = run_read(raw_config(), {"leads": SyncMode.full_refresh})
    assert seen_by_fields == [True]
    assert count_calls(org) == ["Leads"]  # asked ahead, and not again by the stream
    [estimate] = [m.trace.estimate for m in output.trace_messages if m.trace.type == TraceType.ESTIMATE]
    assert estimate.row_estimate == 3


def test_an_incremental_sync_with_state_asks_no_count(org: Any) -> None:  # noqa: F811
    state = StateBuilder().with_stream_state("leads", {"Modified_Time": "2025-01-01T00:00:00+00:00"}).build()
    run_read(raw_config(), {"leads": SyncMode.incremental}, state)
    assert count_calls(org) == []
    run_read(raw_config(start_datetime="2025-01-01T00:00:00Z"), {"leads": SyncMode.incremental})
    assert count_calls(org) == []  # a start: not a read from the beginning either


def test_the_count_asked_ahead_is_charged_to_its_stream(org: Any) -> None:  # noqa: F811
    output = run_read(raw_config(), {"leads": SyncMode.full_refresh})
    [summary] = [m.log.message for m in output.logs if "API credits used by this sync" in m.log.message]
    lists = len([r for r in org.request_history if r.url.split("?")[0].endswith("/crm/v8/Leads")])
    assert f"leads {lists + 1}" in summary  # its pages and its count
