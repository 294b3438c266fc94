"""End to end: formula and rollup values change in the emulator without Modified_Time changing; with
`formula_refresh_days`, the sync whose refresh is due re-emits the module whole and Airbyte's merge
(airbyte_merge.py) then holds the new values; a sync with the refresh not due makes no extra call, and
a module without formula fields is never re-read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from integration_tests.airbyte_merge import DedupTable, Row
from source_zoho_crm.formula_refresh import STATE_KEY
from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

STREAMS = {"Leads": "leads", "Contacts": "contacts"}


def reads_from_the_beginning(emulator: ZohoCrmEmulator, module: str) -> int:
    """List calls without If-Modified-Since (what a refresh makes; an incremental read always sends it)."""
    return sum(
        1
        for r in emulator.stats()["requests"]
        if r["path"] == f"/crm/v8/{module}" and "ids" not in r["query"] and not r["if_modified_since"]
    )


def formula_values(table: DedupTable, fields: list[str]) -> dict[str, dict[str, Any]]:
    return {key: {f: row.data.get(f) for f in fields} for key, row in table.rows.items()}


def test_a_due_refresh_brings_new_formula_values_to_the_merged_destination(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    # Once, in the pessimistic setting (exclusive If-Modified-Since, position-based page tokens, Zoho's
    # clock 10 minutes behind): the refresh reads with the module reader, tested in both settings.
    emulator = make_emu(strictness="pessimistic")
    config = emulator.config(modules=list(STREAMS), formula_refresh_days=1)
    discovered = cli_runner.run("discover", config)
    chosen = [s for s in discovered.catalog()["streams"] if s["name"] in STREAMS.values()]
    catalog = cli_runner.configured_catalog({"streams": chosen})
    tables = {name: DedupTable("Modified_Time") for name in STREAMS.values()}

    def sync(state: list[dict[str, Any]] | None) -> cli_runner.CliRun:
        emulator.reset_stats()
        run = cli_runner.run("read", config, catalog, state)
        assert run.returncode == 0, run.errors() or run.stderr[-2000:]
        for name, table in tables.items():
            table.merge([Row(r["data"], r["emitted_at"]) for r in run.records if r["stream"] == name])
        return run

    first = sync(None)
    leads_state = next(s for s in first.final_state() if s["stream"]["stream_descriptor"]["name"] == "leads")
    stamp = leads_state["stream"]["stream_state"][STATE_KEY]
    contacts_state = next(
        s for s in first.final_state() if s["stream"]["stream_descriptor"]["name"] == "contacts"
    )
    assert STATE_KEY not in contacts_state["stream"]["stream_state"]  # no formula fields, nothing kept

    changed = emulator.recompute_formulas("Leads")
    fields = changed["fields"]
    current = {r["id"]: {f: r.get(f) for f in fields} for r in emulator.records("Leads")}

    # Not due (refreshed a moment ago): no extra call, and the destination keeps the old values.
    second = sync(first.final_state())
    assert (
        reads_from_the_beginning(emulator, "Leads") == 0
        and reads_from_the_beginning(emulator, "Contacts") == 0
    )
    assert not any("refreshing formula" in line for line in second.logs())
    stale = formula_values(tables["leads"], fields)
    assert sum(stale[key] != values for key, values in current.items()) > len(current) // 2

    # A day later (the state says the last refresh was two days ago): due, for Leads only.
    state = second.final_state()
    for entry in state:
        blob = entry["stream"]["stream_state"]
        if STATE_KEY in blob:
            assert blob[STATE_KEY] == stamp
            earlier = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(days=2)
            blob[STATE_KEY] = earlier.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cursor_before = next(
        e["stream"]["stream_state"]["Modified_Time"]
        for e in state
        if e["stream"]["stream_descriptor"]["name"] == "leads"
    )
    third = sync(state)
    assert (
        reads_from_the_beginning(emulator, "Leads") >= 1
        and reads_from_the_beginning(emulator, "Contacts") == 0
    )
    refreshed = {r["id"] for r in third.records_of("leads")}
    assert set(current) <= refreshed  # converted leads too (`converted=both`)
    assert formula_values(tables["leads"], fields) == current
    after = next(
        e["stream"]["stream_state"]
        for e in third.final_state()
        if e["stream"]["stream_descriptor"]["name"] == "leads"
    )
    assert after["Modified_Time"] == cursor_before  # the refresh never moves the cursor
    assert after[STATE_KEY] > stamp
    # Every column of every Leads row is the record as last read, whole.
    assert all(
        row.data.get("Last_Name") and row.data.get("Modified_Time") for row in tables["leads"].rows.values()
    )


def test_the_control_call_changes_formula_values_and_nothing_else(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emulator = make_emu()
    before = {r["id"]: r for r in emulator.records("Leads")}
    some = sorted(before)[:3]
    answer = requests.post(
        f"{emulator.url}/__emulator__/modules/Leads/recompute_formulas", json={"ids": some}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ids"] == some and set(body["fields"]) == {
        "Score_Label",
        "Weighted_Revenue",
        "Next_Review_Date",
        "Total_Touchpoints",
    }
    after = {r["id"]: r for r in emulator.records("Leads")}
    for record_id, record in after.items():
        unchanged = {k: v for k, v in record.items() if k not in body["fields"]}
        assert unchanged == {k: v for k, v in before[record_id].items() if k not in body["fields"]}
        computed = {f: record.get(f) for f in body["fields"]}
        if record_id in some:
            assert (
                computed == body["values"][record_id] != {f: before[record_id].get(f) for f in body["fields"]}
            )
        else:
            assert computed == {f: before[record_id].get(f) for f in body["fields"]}
    refused = requests.post(
        f"{emulator.url}/__emulator__/modules/Contacts/recompute_formulas", json={}, timeout=10
    )
    assert refused.status_code == 400 and "no formula" in refused.json()["error"]
