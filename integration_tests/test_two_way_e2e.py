"""A full refresh of a module Zoho counts above ten pages, through the CLI: read from both ends of the id
order at once, with records deleted, modified and created while it runs. In the pessimistic setting
page tokens are position based, so each deletion shifts the records after it, and each record created
at the top of the id order shifts the descending chain back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

MODULE, STREAM, RECORDS, FIELDS = "Leads", "leads", 3_000, 60  # 15 pages of 2 chunks


def full_refresh(emu: ZohoCrmEmulator) -> dict[str, Any]:
    discovered = cli_runner.run("discover", emu.config()).catalog()
    chosen = {"streams": [s for s in discovered["streams"] if s["name"] == STREAM]}
    return cli_runner.configured_catalog(chosen, incremental=False)


def list_calls(emu: ZohoCrmEmulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.stats()["requests"]
        if r["path"] == f"/crm/v8/{MODULE}" and "ids" not in r["query"] and r["method"] == "GET"
    ]


def test_both_ends_lose_no_record_to_changes_during_the_read(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory(
        preset="benchmark", bench_modules=1, bench_records=RECORDS, bench_fields=FIELDS, latency_ms=40
    )
    catalog = full_refresh(emu)
    ordered = sorted(emu.records(MODULE), key=lambda r: int(r["id"]))
    # Behind the ascending chain, behind the descending one, and in the middle (read by one of them).
    doomed = [r["id"] for r in ordered[5:25:4] + ordered[-25:-5:4] + ordered[1490:1510:5]]
    touched = [r["id"] for r in ordered[30:60:10] + ordered[-60:-30:10]]
    emu.reset_stats()

    def churn() -> None:
        deadline = time.monotonic() + 60
        while len(list_calls(emu)) < 8 and time.monotonic() < deadline:  # both chains are a few pages in
            time.sleep(0.01)
        emu.delete(MODULE, ids=doomed)
        emu.modify(MODULE, ids=touched)
        for _ in range(3):  # one at a time, between pages of the descending chain
            created.extend(emu.create(MODULE)["ids"])
            time.sleep(0.1)

    created: list[str] = []

    changer = threading.Thread(target=churn)
    changer.start()
    run = cli_runner.run("read", emu.config(), catalog)
    changer.join()
    assert run.returncode == 0, run.errors()
    orders = [r["query"].get("sort_order") for r in list_calls(emu)]
    # From both ends to the end of each pass: records created at the top did not stop the descending one.
    assert orders.count("desc") >= 0.4 * len(orders)

    live = {r["id"]: r for r in emu.records(MODULE)}
    read: dict[str, dict[str, Any]] = {}
    for record in run.records_of(STREAM):
        read[record["id"]] = record  # the last version emitted is the one a destination keeps
    # Every record live when the read began and still live, whatever the deletions shifted (records
    # created during a full refresh may or may not be in it).
    assert set(live) - set(created) <= set(read)
    assert len(live) == RECORDS - len(doomed) + len(created)
    for record_id in touched:  # the modified ones come out in their latest version
        assert read[record_id]["Modified_Time"] == live[record_id]["Modified_Time"]


def test_a_quiet_two_way_read_costs_one_page_more_than_one_chain(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    """Credits: 15 pages of 2 chunks from both ends cost at most one page (2 calls) more than one chain,
    plus the record count, one look at the deleted log and one look for changes."""
    emu = zoho_emulator_factory(
        preset="benchmark", bench_modules=1, bench_records=RECORDS, bench_fields=FIELDS, latency_ms=20
    )
    catalog = full_refresh(emu)
    emu.reset_stats()
    run = cli_runner.run("read", emu.config(), catalog)
    assert run.returncode == 0, run.errors()
    assert len(run.records_of(STREAM)) == RECORDS
    calls = emu.stats()["requests_by_endpoint"]
    pages = RECORDS // 200
    assert 2 * pages + 1 <= calls["GET /crm/v8/{module}"] <= 2 * (pages + 1) + 1  # + the look for changes
    assert calls["GET /crm/v8/{module}/deleted"] == 1 and calls["GET /crm/v8/{module}/actions/count"] == 1
    assert {r["query"].get("sort_order") for r in list_calls(emu)} >= {"asc", "desc"}
