"""End to end: rounds of creates, updates and deletes in the emulator, each followed by an incremental
read with the real CLI, merged with Airbyte's dedup rule (airbyte_merge.py); the destination must equal
the emulator's live records (ids and Modified_Time). Also with records changing while a read runs.
Both in the default and the pessimistic setting (position-based page tokens, exclusive
If-Modified-Since)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from integration_tests.airbyte_merge import DedupTable, Row
from integration_tests.emulator_helpers import api
from integration_tests.test_children_e2e import subform_module
from source_zoho_crm.datetimes import parse_zoho_datetime
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

MODULES = {"Contacts": "contacts", "Deals": "deals", "Leads": "leads"}
LINES_STREAM = "leads_lead_contacts"


def live(emulator: ZohoCrmEmulator, module: str) -> set[tuple[str, Any]]:
    return {(r["id"], parse_zoho_datetime(r["Modified_Time"])) for r in emulator.records(module)}


class Destination:
    """The streams' final tables, merged sync after sync as Airbyte does."""

    def __init__(self, emulator: ZohoCrmEmulator, modules: list[str]) -> None:
        self.emulator = emulator
        self.modules = modules
        self.config = emulator.config(modules=modules)
        discovered = cli_runner.run("discover", self.config)
        assert discovered.returncode == 0, discovered.stderr[-2000:]
        chosen = [s for s in discovered.catalog()["streams"] if s["name"] in {MODULES[m] for m in modules}]
        self.catalog = cli_runner.configured_catalog({"streams": chosen})
        self.tables = {MODULES[m]: DedupTable("Modified_Time") for m in modules}
        self.state: list[dict[str, Any]] | None = None
        self.tombstones = 0

    def sync(self) -> cli_runner.CliRun:
        run = cli_runner.run("read", self.config, self.catalog, self.state)
        assert run.returncode == 0, run.errors() or run.stderr[-2000:]
        for stream, table in self.tables.items():
            batch = [Row(r["data"], r["emitted_at"]) for r in run.records if r["stream"] == stream]
            self.tombstones += sum(1 for row in batch if row.data.get("_ab_cdc_deleted_at"))
            table.merge(batch)
        self.state = run.final_state()
        return run

    def assert_equals_emulator(self) -> None:
        for module in self.modules:
            expected = live(self.emulator, module)
            got = self.tables[MODULES[module]].live()
            assert got == expected, (module, len(got - expected), len(expected - got))


def change(emulator: ZohoCrmEmulator, module: str, rng: random.Random, scale: int = 1) -> list[str]:
    """Modify, delete and create some records; the ids deleted."""
    ids = sorted(r["id"] for r in emulator.records(module))
    emulator.modify(module, ids=rng.sample(ids, 5 * scale))
    deleted = emulator.delete(module, ids=rng.sample(ids, 3 * scale))["ids"]
    emulator.create(module, count=2 * scale)
    return list(deleted)


@pytest.mark.all_emulator_settings  # the loss tests run in the default and the pessimistic setting
def test_rounds_of_changes_merged_with_airbytes_rule_equal_the_emulator(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emulator = zoho_emulator_factory(preset="realistic")
    destination = Destination(emulator, ["Contacts", "Deals"])
    destination.sync()
    destination.assert_equals_emulator()
    rng = random.Random(9)
    deleted: dict[str, list[str]] = {module: [] for module in destination.modules}
    restored = []
    for _ in range(3):
        for module in destination.modules:
            if deleted[module]:  # a record deleted (and tombstoned) by an earlier round comes back
                back = emulator.restore(module, [deleted[module].pop(0)])["ids"]
                restored += [(module, record_id) for record_id in back]
            deleted[module] += change(emulator, module, rng)
        destination.sync()
        destination.assert_equals_emulator()
    assert destination.tombstones >= 3 * 3 * 2  # every deletion reached the destination as a tombstone
    assert len(restored) == 4  # ... and every restore brought its record back
    if emulator.settings.strictness == "pessimistic":  # older than its tombstone, still in the log
        for module, record_id in restored:
            now = {r["id"]: r["Modified_Time"] for r in emulator.records(module)}[record_id]
            log = {d["id"]: d["deleted_time"] for d in emulator.deleted_records(module)}[record_id]
            assert parse_zoho_datetime(now) < parse_zoho_datetime(log)


@pytest.mark.all_emulator_settings  # the loss tests run in the default and the pessimistic setting
def test_records_changed_during_a_sync_are_in_the_destination_after_the_next(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    # Slow answers stretch the read, so the changes land between its requests.
    emulator = zoho_emulator_factory(preset="realistic", latency_ms=20)
    destination = Destination(emulator, ["Leads"])
    destination.sync()
    rng = random.Random(4)
    done = threading.Event()
    changed = 0

    def churn() -> None:
        nonlocal changed
        while not done.is_set():
            change(emulator, "Leads", rng)
            changed += 1
            done.wait(0.1)

    with ThreadPoolExecutor(max_workers=1) as pool:
        worker = pool.submit(churn)
        try:
            during = destination.sync()
        finally:
            done.set()
        worker.result()
    assert changed >= 3 and during.records  # the changes really overlapped the read
    destination.sync()  # nothing changes now: the next sync catches up on everything
    destination.assert_equals_emulator()


@pytest.mark.all_emulator_settings  # the loss tests run in the default and the pessimistic setting
def test_full_refresh_reads_every_record_that_outlives_deletions_during_the_read(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emulator = zoho_emulator_factory(preset="realistic", latency_ms=20)
    config = emulator.config(modules=["Leads"])
    discovered = cli_runner.run("discover", config)
    chosen = [s for s in discovered.catalog()["streams"] if s["name"] == "leads"]
    catalog = cli_runner.configured_catalog({"streams": chosen}, incremental=False)
    before = {r["id"] for r in emulator.records("Leads")}
    rng = random.Random(2)
    done = threading.Event()

    def delete_some() -> None:
        while not done.is_set():
            ids = sorted(r["id"] for r in emulator.records("Leads"))
            emulator.delete("Leads", ids=rng.sample(ids[:400], 3))  # low ids: behind the chain's position
            done.wait(0.1)

    with ThreadPoolExecutor(max_workers=1) as pool:
        worker = pool.submit(delete_some)
        try:
            run = cli_runner.run("read", config, catalog)
        finally:
            done.set()
        worker.result()
    assert run.returncode == 0, run.errors() or run.stderr[-2000:]
    read = {r["id"] for r in run.records_of("leads")}
    survivors = before & {r["id"] for r in emulator.records("Leads")}
    assert len(survivors) < len(before)
    assert survivors <= read, len(survivors - read)


def test_subform_lines_changed_during_syncs_are_all_in_the_destination_after_the_next() -> None:
    """Lines of Leads' Lead_Contacts modified and deleted (edits of their parents) while the child
    stream is read, in a first sync and an incremental one, in the pessimistic setting: the subform
    module pages by position only, ignores If-Modified-Since, and a line's edit leaves its parent's
    Modified_Time alone. After a quiet sync, the merged rows equal the emulator's lines."""
    settings = EmulatorSettings(seed=7, preset="realistic", strictness="pessimistic")
    with ZohoCrmEmulator(settings) as emulator:
        subform = subform_module(api(emulator), "Leads", "Lead_Contacts")
        config = emulator.config(modules=["Leads"])
        discovered = cli_runner.run("discover", config)
        chosen = [s for s in discovered.catalog()["streams"] if s["name"] == LINES_STREAM]
        catalog = cli_runner.configured_catalog({"streams": chosen})
        table, state = DedupTable("Modified_Time"), None
        rng = random.Random(5)
        deleted: set[str] = set()

        def churn(done: threading.Event) -> int:
            rounds = 0
            while not done.is_set():
                ids = sorted(r["id"] for r in emulator.records(subform))
                emulator.change_lines(subform, ids=rng.sample(ids, 4))
                deleted.update(emulator.change_lines(subform, ids=rng.sample(ids, 1), action="delete")["ids"])
                rounds += 1
                done.wait(0.1)
            return rounds

        for churning in (True, True, False):
            emulator.reset_stats()
            done = threading.Event()
            with ThreadPoolExecutor(max_workers=1) as pool:
                worker = pool.submit(churn, done) if churning else None
                try:
                    run = cli_runner.run("read", config, catalog, state)
                finally:
                    done.set()
                rounds = worker.result() if worker is not None else 0
            assert run.returncode == 0, run.errors() or run.stderr[-2000:]
            assert rounds >= 3 or not churning  # the changes overlapped the read
            table.merge([Row(r["data"], r["emitted_at"]) for r in run.records if r["stream"] == LINES_STREAM])
            state = run.final_state()
            paths = [r["path"] for r in emulator.stats()["requests"]]
            # Cost: about one call per 200 lines read (no per-parent GET while 4,000 lines reach).
            assert not [p for p in paths if p.startswith("/crm/v8/Leads/")]
            assert sum(1 for p in paths if p == f"/crm/v8/{subform}") <= 2 + len(run.records) // 150
        expected = live(emulator, subform)
        got = table.live()
        # Child streams emit no tombstones: a deleted line stays; every other row is a live line, current.
        assert {i for i, _ in got - expected} <= deleted
        assert expected <= got, len(expected - got)
