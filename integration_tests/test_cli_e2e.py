"""End to end: the installed `source-zoho-crm` CLI as a subprocess against the Zoho CRM emulator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, cli_runner
from zoho_crm_emulator.projection import SINGLE_RECORD_ONLY

pytestmark = pytest.mark.e2e

# Module API name -> stream name, for the realistic preset's modules the tests look at.
LEADS, CONTACTS, DEALS = "leads", "contacts", "deals"


@pytest.fixture(scope="module")
def emulator(emulator_strictness: str) -> Iterator[ZohoCrmEmulator]:
    """The realistic org, in the emulator setting chosen for the run (`--emulator-setting`)."""
    settings = EmulatorSettings(seed=11, preset="realistic", strictness=emulator_strictness)
    with ZohoCrmEmulator(settings) as emu:
        yield emu


@pytest.fixture(scope="module")
def discovered(emulator: ZohoCrmEmulator) -> dict[str, Any]:
    run = cli_runner.run("discover", emulator.config())
    assert run.returncode == 0 and not run.invalid_lines, run.stderr[-2000:]
    return run.catalog()


@pytest.fixture(scope="module")
def full_read(emulator: ZohoCrmEmulator, discovered: dict[str, Any]) -> cli_runner.CliRun:
    run = cli_runner.run(
        "read", emulator.config(), cli_runner.configured_catalog(discovered, incremental=False)
    )
    assert run.returncode == 0, run.errors() or run.stderr[-2000:]
    return run


def catalog_of(discovered: dict[str, Any], *names: str, incremental: bool = True) -> dict[str, Any]:
    chosen = {"streams": [s for s in discovered["streams"] if s["name"] in names]}
    assert len(chosen["streams"]) == len(names)
    return cli_runner.configured_catalog(chosen, incremental=incremental)


def comparable(record: dict[str, Any], hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Record as a destination sees it: the CDK leaves nulls out (absent reads as null), and `$` system
    attributes are not fields (/settings/fields does not list them, so `fields=` cannot ask for them).
    `hidden`: fields Zoho gives only on single-record GETs (their rows are in child and linking streams)."""
    return {
        key: value
        for key, value in record.items()
        if value is not None and not key.startswith("$") and key not in hidden
    }


def list_hidden_fields(emulator: ZohoCrmEmulator, module: str) -> frozenset[str]:
    """Subform, multi-select and multi-user lookup fields, when the emulator (as Zoho documents) leaves
    their values out of list GETs."""
    if emulator.settings.related_values_in_lists:
        return frozenset()
    fields = emulator.app.state.module(module).definition.fields
    return frozenset(f.api_name for f in fields if f.data_type in SINGLE_RECORD_ONLY)


# ---- spec and check ---------------------------------------------------------------------


def test_spec() -> None:
    run = cli_runner.run("spec")
    spec = run.of_type("SPEC")[0]["spec"]
    properties = spec["connectionSpecification"]["properties"]
    assert {"client_id", "client_secret", "refresh_token", "dc_region", "environment"} <= set(properties)
    assert all(properties[key]["airbyte_secret"] for key in ("client_id", "client_secret", "refresh_token"))
    assert spec["advanced_auth"]["auth_flow_type"] == "oauth2.0"
    assert not run.invalid_lines


def test_check_passes(emulator: ZohoCrmEmulator) -> None:
    assert cli_runner.run("check", emulator.config()).connection_status()["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"refresh_token": "1000.not-a-real-token"}, "refresh token is invalid or revoked"),
        ({"client_secret": "wrong-secret"}, "client id or secret is wrong"),
        ({"dc_region": "eu", "accounts_url": "{url}/dc/eu"}, "not in data centre 'eu'"),
        # A token from this org, sent to another org's API domain (e.g. sandbox instead of production).
        ({"api_url": "{url}/dc/eu"}, "belongs to this data centre and environment"),
    ],
)
def test_check_fails_clearly(emulator: ZohoCrmEmulator, change: dict[str, str], expected: str) -> None:
    config = {**emulator.config(), **{k: v.format(url=emulator.url) for k, v in change.items()}}
    run = cli_runner.run("check", config)
    status = run.connection_status()
    assert status["status"] == "FAILED" and expected in status["message"]
    assert "Traceback" not in status["message"]
    assert not run.invalid_lines


def test_check_fails_for_a_token_without_the_metadata_scopes(emulator: ZohoCrmEmulator) -> None:
    token = emulator.new_refresh_token(scopes=["ZohoCRM.modules.READ", "ZohoCRM.org.READ"])
    status = cli_runner.run("check", {**emulator.config(), "refresh_token": token}).connection_status()
    assert status["status"] == "FAILED" and "ZohoCRM.settings.modules.READ" in status["message"]


# ---- discover ---------------------------------------------------------------------------


def test_discover_lists_exactly_the_readable_api_supported_modules(
    emulator: ZohoCrmEmulator, discovered: dict[str, Any]
) -> None:
    names = {s["name"] for s in discovered["streams"]}
    assert {"leads", "contacts", "accounts", "deals", "quotes", "notes", "projects"} <= names
    assert "campaigns" not in names  # the user's profile may not read it
    assert not {"home", "analytics", "feeds", "visits"} & names  # not API-supported
    assert {"quotes_quoted_items", "users", "roles", "profiles", "org"} <= names
    for stream in discovered["streams"]:
        jsonschema.Draft7Validator.check_schema(stream["json_schema"])
    leads = next(s for s in discovered["streams"] if s["name"] == LEADS)
    assert leads["default_cursor_field"] == ["Modified_Time"]
    assert len(leads["json_schema"]["properties"]) > 50
    no_cursor = next(s for s in discovered["streams"] if s["name"] == "price_books_archive")
    assert no_cursor["supported_sync_modes"] == ["full_refresh"]


# ---- full refresh -----------------------------------------------------------------------


def test_every_line_is_a_protocol_message_and_every_record_matches_its_schema(
    full_read: cli_runner.CliRun, discovered: dict[str, Any]
) -> None:
    assert not full_read.invalid_lines
    validators = {s["name"]: jsonschema.Draft7Validator(s["json_schema"]) for s in discovered["streams"]}
    for record in full_read.records:
        errors = list(validators[record["stream"]].iter_errors(record["data"]))
        assert not errors, (record["stream"], errors[0].message)


@pytest.mark.parametrize("module", ["Leads", "Contacts", "Accounts", "Deals", "Quotes", "Projects", "Notes"])
def test_full_refresh_returns_exactly_the_emulators_records(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun, module: str
) -> None:
    stream = module.lower()
    read = {r["id"]: comparable(r) for r in full_read.records_of(stream)}
    hidden = list_hidden_fields(emulator, module)
    expected = {r["id"]: comparable(r, hidden) for r in emulator.records(module)}
    assert len(read) == len(full_read.records_of(stream))  # no duplicates
    assert read == expected


def test_leads_include_converted_leads_and_read_past_2000_records(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun
) -> None:
    leads = {lead["id"]: lead for lead in full_read.records_of(LEADS)}
    assert len(leads) > 2000
    converted = [lead for lead in emulator.records("Leads") if lead.get("$converted")]
    assert converted and all(lead["id"] in leads for lead in converted)
    assert all(leads[lead["id"]].get("Converted_Date_Time") for lead in converted)


def test_line_items_equal_the_emulators_subform_rows(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun
) -> None:
    expected = [
        {**comparable(line), "parent_id": quote["id"]}
        for quote in emulator.records("Quotes")
        for line in quote.get("Quoted_Items") or []
    ]
    rows = [
        {k: v for k, v in row.items() if k != "parent_modified_time"}
        for row in full_read.records_of("quotes_quoted_items")
    ]
    assert sorted(rows, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])


@pytest.mark.parametrize("stream", ["roles", "profiles", "currencies", "territories"])
def test_metadata_streams_equal_the_emulators_data(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun, stream: str
) -> None:
    expected = {item["id"]: comparable(item) for item in getattr(emulator.state, stream)}
    assert {item["id"]: comparable(item) for item in full_read.records_of(stream)} == expected


def test_users_and_org_streams_equal_the_emulators_data(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun
) -> None:
    all_users = {u["id"]: comparable(u) for u in emulator.state.users if u["status"] != "deleted"}  # AllUsers
    assert {u["id"]: comparable(u) for u in full_read.records_of("users")} == all_users
    assert [comparable(org) for org in full_read.records_of("org")] == [comparable(emulator.state.org)]


# ---- incremental ------------------------------------------------------------------------


def test_incremental_reads_every_change_including_same_second_ones(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    catalog = cli_runner.run("discover", emu.config()).catalog()
    configured = catalog_of(catalog, LEADS, CONTACTS)
    first = cli_runner.run("read", emu.config(), configured)
    state = first.final_state()
    cursor = next(s for s in state if s["stream"]["stream_descriptor"]["name"] == LEADS)["stream"][
        "stream_state"
    ]
    assert cursor["Modified_Time"].endswith("Z")
    # Changes in the very second the cursor points at, and later ones.
    same_second = emu.modify("Leads", count=3, modified_time=cursor["Modified_Time"])
    later = emu.modify("Leads", count=4)
    created = emu.create("Contacts", count=2)
    second = cli_runner.run("read", emu.config(), configured, state)
    leads = {r["id"] for r in second.records_of(LEADS)}
    assert set(same_second["ids"]) <= leads and set(later["ids"]) <= leads
    assert set(created["ids"]) <= {r["id"] for r in second.records_of(CONTACTS)}
    assert len(second.records_of(LEADS)) < len(first.records_of(LEADS))


def test_an_interrupted_sync_resumes_from_its_last_state_and_loses_nothing(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory(preset="realistic")
    catalog = cli_runner.run("discover", emu.config()).catalog()
    configured = catalog_of(catalog, LEADS)
    # The sync ends mid-stream: its credit budget runs out after a few pages (every page of an
    # incremental read asks the same query, each chunk side by side, so no scripted fault can pick one).
    broken = cli_runner.run("read", emu.config(api_credit_budget=10), configured)
    assert broken.returncode != 0 and "api_credit_budget" in broken.errors()[0]
    partial = broken.records_of(LEADS)
    assert 0 < len(partial) < len(emu.records("Leads"))
    resumed = cli_runner.run("read", emu.config(), configured, broken.final_state())
    ids = {r["id"] for r in partial} | {r["id"] for r in resumed.records_of(LEADS)}
    assert ids == {r["id"] for r in emu.records("Leads")}
    assert len(resumed.records_of(LEADS)) < len(emu.records("Leads"))


def test_deleted_records_become_tombstones_on_the_next_incremental_sync(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    configured = catalog_of(cli_runner.run("discover", emu.config()).catalog(), LEADS)
    first = cli_runner.run("read", emu.config(), configured)
    deleted = emu.delete("Leads", count=3)
    second = cli_runner.run("read", emu.config(), configured, first.final_state())
    tombstones = [r for r in second.records_of(LEADS) if r.get("_ab_cdc_deleted_at")]
    assert {t["id"] for t in tombstones} == set(deleted["ids"])
    assert {t["_ab_cdc_deleted_at"] for t in tombstones} == {deleted["deleted_time"]}


# ---- resilience -------------------------------------------------------------------------


def test_token_expiry_mid_sync_costs_one_token_request(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory(preset="realistic")
    configured = catalog_of(cli_runner.run("discover", emu.config()).catalog(), LEADS, incremental=False)
    emu.reset_stats()
    # Zoho rejects the token mid-chain, as when it expires (page tokens live on).
    emu.faults(script=[{"path_contains": "page_token=", "action": "401", "times": 1}])
    run = cli_runner.run("read", emu.config(), configured)
    assert run.returncode == 0
    assert len(run.records_of(LEADS)) == len(emu.records("Leads"))
    assert emu.stats()["token_grants"] == 1  # discover's token is kept; one more after it expired


def test_a_storm_of_429_and_5xx_still_ends_with_every_record(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    configured = catalog_of(
        cli_runner.run("discover", emu.config()).catalog(), LEADS, CONTACTS, incremental=False
    )
    emu.faults(rate_429=0.2, rate_5xx=0.2, rate_truncate=0.05, rate_drop=0.05, seed=3)
    run = cli_runner.run("read", emu.config(), configured, env={"ZOHO_CRM_BACKOFF_BASE_SECONDS": "0.05"})
    emu.faults(rate_429=0, rate_5xx=0, rate_truncate=0, rate_drop=0)
    assert run.returncode == 0, run.errors()
    assert {r["id"] for r in run.records_of(LEADS)} == {r["id"] for r in emu.records("Leads")}
    assert {r["id"] for r in run.records_of(CONTACTS)} == {r["id"] for r in emu.records("Contacts")}


def test_a_forbidden_module_is_skipped_with_a_warning_while_the_rest_sync(emulator: ZohoCrmEmulator) -> None:
    forbidden = {
        "name": "campaigns",
        "json_schema": {"type": "object", "properties": {"id": {"type": ["null", "string"]}}},
        "supported_sync_modes": ["full_refresh"],
        "source_defined_primary_key": [["id"]],
    }
    discovered = cli_runner.run("discover", emulator.config()).catalog()
    catalog = {"streams": [s for s in discovered["streams"] if s["name"] == CONTACTS] + [forbidden]}
    run = cli_runner.run("read", emulator.config(), cli_runner.configured_catalog(catalog, incremental=False))
    assert len(run.records_of(CONTACTS)) == len(emulator.records("Contacts"))
    assert not run.records_of("campaigns")
    assert any("Campaigns" in w or "campaigns" in w for w in run.logs("WARN"))


# ---- org metadata and the deleted-records log ----------------------------------------------


def test_fields_and_modules_streams_equal_the_emulators_metadata(
    emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun
) -> None:
    leads = emulator.state.module("Leads")
    expected = {f["api_name"] for f in emulator.state.fields_meta(leads)}
    read = {f["api_name"] for f in full_read.records_of("fields") if f["module"] == "Leads"}
    assert read == expected
    assert {m["api_name"] for m in full_read.records_of("modules")} == set(emulator.state.modules)


def test_deleted_records_stream_reports_each_deletion_once(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    configured = catalog_of(cli_runner.run("discover", emu.config()).catalog(), "deleted_records")
    first = cli_runner.run("read", emu.config(), configured)
    before = {(r["module"], r["id"]) for r in first.records_of("deleted_records")}
    assert before == {  # the pessimistic setting keeps deleted entries 60 days, as Zoho's recycle bin
        (module, d["id"])
        for module in ("Leads", "Contacts")
        for d in emu.deleted_records(module, listed=True)
    }
    deleted = emu.delete("Contacts", count=2)
    second = cli_runner.run("read", emu.config(), configured, first.final_state())
    new = [r for r in second.records_of("deleted_records") if (r["module"], r["id"]) not in before]
    assert {r["id"] for r in new} == set(deleted["ids"])
    assert {r["deleted_time"] for r in new} == {deleted["deleted_time"]}


def test_territories_are_skipped_with_a_warning_where_the_org_has_none(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory(territories_enabled=False)
    configured = catalog_of(cli_runner.run("discover", emu.config()).catalog(), "territories", "roles")
    run = cli_runner.run("read", emu.config(), configured)
    assert run.returncode == 0 and not run.records_of("territories") and run.records_of("roles")
    assert any("territory management" in warning for warning in run.logs("WARN"))


def test_no_secret_appears_in_any_output(emulator: ZohoCrmEmulator, full_read: cli_runner.CliRun) -> None:
    secrets = [emulator.credentials["client_secret"], emulator.credentials["refresh_token"]]
    bad_check = cli_runner.run(
        "check", {**emulator.config(), "refresh_token": emulator.credentials["refresh_token"] + "x"}
    )
    for run in (full_read, bad_check):
        output = json.dumps(run.messages) + run.stderr
        assert not [secret for secret in secrets if secret in output]
