"""Credit meter (budget, org floor, per-stream attribution), record count, ESTIMATE and progress lines."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from airbyte_cdk.models import EstimateType, FailureType, TraceType, Type

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.credits import CreditBudgetReached, CreditMeter, coql_credits
from source_zoho_crm.progress import Progress, estimate_message, record_count
from unit_tests.conftest import API


def test_credits_are_counted_per_stream_from_the_calling_thread() -> None:
    meter = CreditMeter()

    def read(stream: str, calls: int) -> None:
        with meter.attributed_to(stream):
            for _ in range(calls):
                meter.charge()

    threads = [threading.Thread(target=read, args=(f"s{i}", 100 * (i + 1))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    meter.charge(50, stream="leads")
    meter.charge()  # outside any stream: metadata
    assert meter.spent_by_stream() == {
        "s0": 100,
        "s1": 200,
        "s2": 300,
        "s3": 400,
        "leads": 50,
        "(metadata)": 1,
    }
    assert meter.spent == 1051
    assert meter.summary().startswith("API credits used by this sync: 1,051 (s3 400, s2 300, s1 200, s0 100,")


def test_the_budget_stops_the_sync_and_says_how_to_resume() -> None:
    meter = CreditMeter(budget=3)
    meter.charge(stream="leads")
    meter.charge(stream="leads")
    assert not meter.should_stop()
    meter.charge(stream="contacts")
    assert meter.should_stop()
    message = meter.stop_message()
    assert "api_credit_budget of 3 credits is reached" in message
    assert "used 3 API credits (leads 2, contacts 1)" in message
    assert "resume from there on the next sync" in message and "raise `api_credit_budget`" in message
    assert CreditBudgetReached(message).failure_type == FailureType.config_error


def test_no_budget_means_unlimited_and_a_budget_must_be_positive() -> None:
    meter = CreditMeter()
    meter.charge(10**9)
    assert not meter.should_stop()
    with pytest.raises(ValueError, match="positive"):
        CreditMeter(budget=0)


@pytest.mark.parametrize(
    ("headers", "remaining", "stop"),
    [
        ({}, None, False),  # Zoho sends the header only once half the day's credits are used
        ({"X-API-CREDITS-REMAINING": "24000"}, 24000, False),
        ({"x-api-credits-remaining": "1000"}, 1000, True),
        ({"X-API-CREDITS-REMAINING": "12"}, 12, True),
        ({"X-API-CREDITS-REMAINING": "lots"}, None, False),
    ],
)
def test_the_org_floor_comes_from_zohos_remaining_credits_header(
    headers: dict[str, str], remaining: int | None, stop: bool
) -> None:
    meter = CreditMeter(remaining_floor=1000)
    meter.charge(headers=headers)
    assert meter.remaining == remaining
    assert meter.should_stop() is stop
    if stop:
        assert f"Zoho reports {remaining:,} API credits left" in meter.stop_message()


def test_the_latest_remaining_value_wins() -> None:
    meter = CreditMeter(remaining_floor=1000)
    meter.charge(headers={"X-API-CREDITS-REMAINING": "900"})
    meter.charge(headers={"X-API-CREDITS-REMAINING": "5000"})  # the rolling window refilled
    assert meter.remaining == 5000 and not meter.should_stop()


def test_coql_credits_by_limit() -> None:
    assert [coql_credits(n) for n in (200, 201, 1000, 1001, 2000)] == [1, 2, 2, 3, 3]


def test_record_count(client: ZohoApiClient, requests_mock: Any) -> None:
    requests_mock.get(f"{API}/crm/v8/Leads/actions/count", json={"count": 12345})
    assert record_count(client, "Leads", {"converted": "both"}) == 12345
    assert requests_mock.last_request.qs == {"converted": ["both"]}


@pytest.mark.parametrize(
    "answer",
    [
        {"status_code": 401, "json": {"code": "OAUTH_SCOPE_MISMATCH", "message": "", "status": "error"}},
        {"status_code": 403, "json": {"code": "NO_PERMISSION", "message": "", "status": "error"}},
        {"status_code": 400, "json": {"code": "INVALID_URL_PATTERN", "message": "", "status": "error"}},
        {"status_code": 200, "json": {"count": "many"}},
    ],
)
def test_without_a_count_there_is_no_estimate_and_no_failure(
    client: ZohoApiClient, requests_mock: Any, answer: dict
) -> None:
    requests_mock.get(f"{API}/crm/v8/Leads/actions/count", **answer)
    assert record_count(client, "Leads") is None


def test_an_estimate_is_an_airbyte_stream_estimate_trace() -> None:
    message = estimate_message("leads", 250_000)
    assert message.type == Type.TRACE and message.trace is not None
    assert message.trace.type == TraceType.ESTIMATE
    estimate = message.trace.estimate
    assert estimate is not None
    assert (estimate.name, estimate.type, estimate.row_estimate) == ("leads", EstimateType.STREAM, 250_000)


def test_a_progress_line_every_few_pages_with_records_and_credits() -> None:
    meter = CreditMeter()
    lines: list[str] = []
    progress = Progress("leads", 1000, meter, every_pages=2, log=lines.append)
    with meter.attributed_to("leads"):
        meter.charge()
        assert progress.page_done(200) is None
        meter.charge()
        assert (
            progress.page_done(200) == "Stream leads: 400 of about 1,000 records (40 %) read; "
            "2 API credits so far (2 for the whole sync)."
        )
    progress.page_done(200)
    progress.page_done(150, pages=3)  # a Bulk Read job page counts as many REST pages
    assert len(lines) == 2 and lines[-1].startswith("Stream leads: 750 of about 1,000 records (75 %)")
    unknown = Progress("notes", None, every_pages=1, log=lines.append)
    assert unknown.page_done(5) == "Stream notes: 5 records read."
