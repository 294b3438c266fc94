"""Config of Bulk Read and the credit budget; credits the client charges; ESTIMATE without the count scopes;
the budget ends a sync after its last checkpoint with a message that says how to resume."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode, TraceType

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.config import ConfigError, parse_config
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.inputs import prepare_config
from unit_tests.conftest import API, raw_config
from unit_tests.test_source import org, run_read  # noqa: F401 - the fake org fixture

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
