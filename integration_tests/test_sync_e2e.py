"""End to end through the CLI: ESTIMATE messages, the credit budget (stop and resume), and a Bulk Read
backfill that is interrupted after a job page, resumed, and handed over to incremental REST reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

MODULE, STREAM = "Leads", "leads"  # the benchmark preset's first module: 900 records, 60 fields (2 chunks)
RECORDS = 900


@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    settings = EmulatorSettings(
        seed=3,
        preset="benchmark",
        bench_modules=1,
        bench_records=RECORDS,
        bench_fields=60,
        bulk_page_size=400,
        bulk_complete_after=0,
    )
    with ZohoCrmEmulator(settings) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def catalog(emu: ZohoCrmEmulator) -> dict[str, Any]:
    discovered = cli_runner.run("discover", emu.config()).catalog()
    chosen = {"streams": [s for s in discovered["streams"] if s["name"] == STREAM]}
    return cli_runner.configured_catalog(chosen, incremental=True)


def full_refresh(catalog: dict[str, Any]) -> dict[str, Any]:
    stream = catalog["streams"][0]
    return {"streams": [{**stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}


def estimates(run: cli_runner.CliRun) -> list[dict[str, Any]]:
    traces = [m["trace"] for m in run.of_type("TRACE")]
    return [t["estimate"] for t in traces if t.get("type") == "ESTIMATE"]


def ids(run: cli_runner.CliRun) -> list[str]:
    return [r["id"] for r in run.records_of(STREAM) if "_ab_cdc_deleted_at" not in r]


def stream_state(run: cli_runner.CliRun) -> dict[str, Any]:
    return run.final_state()[0]["stream"]["stream_state"]


def test_a_first_sync_and_a_full_refresh_estimate_the_records(
    emu: ZohoCrmEmulator, catalog: dict[str, Any]
) -> None:
    config = emu.config(bulk_read_threshold=0)
    run = cli_runner.run("read", config, full_refresh(catalog))
    assert run.returncode == 0, run.errors()
    assert estimates(run) == [{"name": STREAM, "type": "STREAM", "row_estimate": RECORDS}]
    assert len(ids(run)) == RECORDS
    assert any("API credits used by this sync" in line for line in run.logs("INFO"))
    # A later incremental sync (it has state) asks no count: no estimate, no count call.
    first = cli_runner.run("read", config, catalog)
    emu.reset_stats()
    again = cli_runner.run("read", config, catalog, first.final_state())
    assert again.returncode == 0 and not estimates(again)
    assert not [e for e in emu.stats()["requests_by_endpoint"] if "count" in e]


def test_the_budget_stops_after_a_checkpoint_and_the_next_sync_resumes(
    emu: ZohoCrmEmulator, catalog: dict[str, Any]
) -> None:
    emu.reset_stats()
    stopped = cli_runner.run("read", emu.config(bulk_read_threshold=0, api_credit_budget=6), catalog)
    assert stopped.returncode != 0
    [error] = stopped.errors()
    assert "api_credit_budget of 6 credits is reached" in error and "leads" in error
    calls = sum(emu.stats()["requests_by_endpoint"].values())
    # Token, org, modules, fields, count, then pages of two chunks until 6 credits: one page past it at most.
    assert 6 <= calls - 1 <= 6 + 2
    read = ids(stopped)
    assert 0 < len(read) < RECORDS
    state = stream_state(stopped)
    assert state.get("Modified_Time")  # the last checkpoint

    resumed = cli_runner.run("read", emu.config(bulk_read_threshold=0), catalog, stopped.final_state())
    assert resumed.returncode == 0, resumed.errors()
    assert set(read) | set(ids(resumed)) == {r["id"] for r in emu.records(MODULE)}
    assert not estimates(resumed)


def test_a_bulk_read_backfill_interrupted_resumed_then_incremental(
    emu: ZohoCrmEmulator, catalog: dict[str, Any]
) -> None:
    config = emu.config(bulk_read_threshold=100, api_credit_budget=40)
    emu.reset_stats()
    # Budget: metadata, count, then the first job (create 50 credits) spends it: the sync stops after page 1.
    first = cli_runner.run("read", config, catalog)
    assert first.returncode != 0 and "api_credit_budget" in first.errors()[0]
    assert estimates(first)[0]["row_estimate"] == RECORDS
    state = stream_state(first)
    assert state["bulk_read"]["page"] == 2 and "Modified_Time" not in state
    page_one = ids(first)
    assert len(page_one) == 400
    bulk_calls = [e for e in emu.stats()["requests_by_endpoint"] if "bulk" in e]
    assert bulk_calls
    # A record changed while the backfill is paused: the hand-over to REST reads it.
    changed = page_one[0]
    emu.modify(MODULE, ids=[changed])
    now = next(r["Modified_Time"] for r in emu.records(MODULE) if r["id"] == changed)

    emu.reset_stats()
    second = cli_runner.run("read", emu.config(bulk_read_threshold=100), catalog, first.final_state())
    assert second.returncode == 0, second.errors()
    rest = ids(second)
    assert set(page_one) | set(rest) == {r["id"] for r in emu.records(MODULE)}
    creates = [r for r in emu.stats()["requests"] if r["method"] == "POST" and "bulk" in r["path"]]
    assert len(creates) == 2  # job pages 2 and 3 only
    final = stream_state(second)
    assert "bulk_read" not in final and final["Modified_Time"]
    assert any(r["id"] == changed and r["Modified_Time"] == now for r in second.records_of(STREAM))
