"""COQL against the emulator: the records REST gives for every data type COQL reads, fewer calls and
credits through the CLI, incremental syncs by keyset, and REST where the token lacks a scope."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from integration_tests.test_bulk_read_e2e import connect
from source_zoho_crm.api_client_bulk import BulkTransport
from source_zoho_crm.coql_query import display_field_of, field_plan, unlike_rest
from source_zoho_crm.coql_reader import CoqlReader
from source_zoho_crm.metadata import build_module_spec
from source_zoho_crm.module_reader import ModuleReader
from source_zoho_crm.settings import COQL_SAME_AS_REST_TYPES
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

RECORDS = 2100  # two COQL calls (2,000 + 100) against 11 REST pages per 50-field chunk
STREAMS = ("contacts", "accounts")


def coql_calls(emu: ZohoCrmEmulator) -> int:
    return int(emu.stats()["requests_by_endpoint"].get("POST /crm/v8/coql", 0))


def rest_calls(emu: ZohoCrmEmulator) -> int:
    return int(emu.stats()["requests_by_endpoint"].get("GET /crm/v8/{module}", 0))


@pytest.mark.all_emulator_settings  # pessimistic: 50 columns per query, unlisted modules refused
def test_coql_records_are_the_rest_records_for_every_data_type(emulator_strictness: str) -> None:
    """Leads of the realistic preset carry every data type: the fields COQL can read, read both ways."""
    settings = EmulatorSettings(seed=5, preset="realistic", strictness=emulator_strictness)
    with ZohoCrmEmulator(settings) as emu:
        client, tokens, metadata = connect(emu)
        fields = metadata.fields("Leads")
        spec = build_module_spec("Leads", "leads", fields, include_deleted=False)
        plan, reason = field_plan(spec, lambda module: display_field_of(metadata.fields(module)))
        assert plan is None and reason  # Leads as a whole stays on REST (image, rich text, subform...)
        readable, per_type = [], {}  # at most two fields of each type: under the pessimistic 50 columns
        for f in fields:
            if not unlike_rest(f) and (
                per_type.get(f["data_type"], 0) < 2 or f["api_name"] == "Modified_Time"
            ):
                readable.append(f)
                per_type[f["data_type"]] = per_type.get(f["data_type"], 0) + 1
        narrow = build_module_spec("Leads", "leads", readable, include_deleted=False)
        plan, reason = field_plan(narrow, lambda module: display_field_of(metadata.fields(module)))
        assert plan is not None, reason
        assert {f["data_type"] for f in readable} == set(COQL_SAME_AS_REST_TYPES)  # every type checked
        assert plan.record_lookups and plan.user_lookups

        rest = ModuleReader(client, narrow, incremental=False)
        by_rest = {r["id"]: r for page in rest.pages() for r in page.records}
        emu.reset_stats()
        coql = CoqlReader(client, BulkTransport(client, tokens), narrow, plan, incremental=False)
        by_coql = {r["id"]: r for page in coql.pages() for r in page.records}
        assert coql_calls(emu) == 2 and rest_calls(emu) == 0  # 2,450 leads: no fallback
        assert by_coql.keys() == by_rest.keys() and len(by_rest) == len(emu.records("Leads"))
        differing = [i for i in by_rest if by_rest[i] != by_coql[i]]
        assert not differing, (by_rest[differing[0]], by_coql[differing[0]])


@pytest.fixture(scope="module")
def org() -> Iterator[ZohoCrmEmulator]:
    """The benchmark preset (Leads, Contacts, Accounts), 40 fields each. The setting changes nothing here
    (40 columns are under the pessimistic 50, both modules are listed): the default one only."""
    settings = EmulatorSettings(
        seed=4, preset="benchmark", bench_modules=3, bench_records=RECORDS, bench_fields=40
    )
    with ZohoCrmEmulator(settings) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def catalog(org: ZohoCrmEmulator) -> dict[str, Any]:
    discovered = cli_runner.run("discover", org.config()).catalog()
    chosen = {"streams": [s for s in discovered["streams"] if s["name"] in STREAMS]}
    return cli_runner.configured_catalog(chosen, incremental=True)


def as_rest(emu: ZohoCrmEmulator, module: str) -> dict[str, dict[str, Any]]:
    """The emulator's records as the connector emits them (nulls and `$` keys left out)."""
    return {
        r["id"]: {k: v for k, v in r.items() if v is not None and not k.startswith("$")}
        for r in emu.records(module)
    }


def test_a_sync_reads_with_coql_and_the_next_one_goes_on_by_keyset(
    org: ZohoCrmEmulator, catalog: dict[str, Any]
) -> None:
    config = org.config(bulk_read_threshold=0)
    org.reset_stats()
    first = cli_runner.run("read", config, catalog)
    assert first.returncode == 0, first.errors()
    assert coql_calls(org) == 4 and rest_calls(org) == 0  # Contacts and Accounts: 2,000 + 100 each
    for stream, module in (("contacts", "Contacts"), ("accounts", "Accounts")):
        records = {r["id"]: r for r in first.records_of(stream)}
        assert records == as_rest(org, module)
    assert "Reading module Contacts with COQL" in " ".join(first.logs("INFO"))
    credits = next(line for line in first.logs("INFO") if "API credits used by this sync" in line)
    spent = {m.group(1): int(m.group(2)) for m in re.finditer(r"(\w+) (\d+)", credits.split(": ", 1)[1])}
    # Per stream a count and 2 COQL calls of 3 credits; the user list (all, then deleted) once per sync.
    assert spent["contacts"] + spent["accounts"] == 2 * (1 + 2 * 3) + 2, credits

    changed = org.modify("Contacts", count=3)["ids"]
    created = org.create("Contacts", count=2)["ids"]
    org.reset_stats()
    second = cli_runner.run("read", config, catalog, first.final_state())
    assert second.returncode == 0, second.errors()
    got = {r["id"] for r in second.records_of("contacts")}
    assert set(changed) | set(created) <= got and len(got) <= 10  # the boundary second is read again
    assert coql_calls(org) == 2  # one per module: nothing else changed


def test_without_the_coql_or_count_scopes_every_record_comes_over_rest(
    org: ZohoCrmEmulator, catalog: dict[str, Any]
) -> None:
    """A token lacking ZohoCRM.coql.READ and ZohoSearch.securesearch.READ: no ESTIMATE, no failure, the
    same records, and a warning naming the module and the reason."""
    scopes = ["ZohoCRM.modules.READ", "ZohoCRM.settings.READ", "ZohoCRM.org.READ", "ZohoCRM.users.READ"]
    config = org.config(bulk_read_threshold=0, refresh_token=org.new_refresh_token(scopes))
    contacts = {"streams": [s for s in catalog["streams"] if s["stream"]["name"] == "contacts"]}
    org.reset_stats()
    run = cli_runner.run("read", config, contacts)
    assert run.returncode == 0, run.errors()
    assert not [m for m in run.of_type("TRACE") if m["trace"].get("type") == "ESTIMATE"]
    assert {r["id"]: r for r in run.records_of("contacts")} == as_rest(org, "Contacts")
    warnings = " ".join(run.logs("WARN"))
    assert "Zoho refused COQL for module Contacts (OAUTH_SCOPE_MISMATCH)" in warnings
    assert "ZohoCRM.coql.READ" in warnings
    assert [e for e in org.stats()["requests_by_endpoint"] if "count" in e]  # asked, refused: no failure
    assert coql_calls(org) == 1  # one refused query, then REST


@pytest.mark.all_emulator_settings  # the pessimistic clock and switches must not lose a record either
def test_records_modified_created_or_deleted_mid_read_are_not_lost(emulator_strictness: str) -> None:
    settings = EmulatorSettings(
        seed=6,
        preset="benchmark",
        bench_modules=3,
        bench_records=300,
        bench_fields=20,
        strictness=emulator_strictness,
    )
    with ZohoCrmEmulator(settings) as emu:
        client, tokens, metadata = connect(emu)
        spec = build_module_spec("Contacts", "contacts", metadata.fields("Contacts"), include_deleted=False)
        plan, reason = field_plan(spec, lambda module: display_field_of(metadata.fields(module)))
        assert plan is not None, reason
        reader = CoqlReader(client, BulkTransport(client, tokens), spec, plan, incremental=True)
        reader.rows = 50
        emitted: dict[str, dict[str, Any]] = {}
        pages = reader.pages()
        for page in pages:
            emitted.update({r["id"]: {k: v for k, v in r.items() if v is not None} for r in page.records})
            if len(emitted) == 100:  # mid-read: change records behind and ahead of the position
                behind, ahead = (
                    list(emitted)[:3],
                    [i for i in as_rest(emu, "Contacts") if i not in emitted][:3],
                )
                emu.modify("Contacts", ids=behind + ahead)
                emu.create("Contacts", count=2)
                emu.delete("Contacts", ids=[i for i in as_rest(emu, "Contacts") if i not in emitted][-2:])
        live = as_rest(emu, "Contacts")
        assert set(live) <= set(emitted)  # every live record, created ones included
        assert not [i for i in live if emitted[i] != live[i]]  # each in its latest version
        assert reader.requests == reader.calls  # no fallback to REST
