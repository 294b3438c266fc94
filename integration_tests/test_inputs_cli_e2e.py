"""End to end: the installed CLIs on documented config forms, malformed configs and states, and the
catalog command. Every subprocess costs seconds, so the runs are few (about 25) and chosen."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from source_zoho_crm.config import ConfigError
from source_zoho_crm.inputs import prepare_config
from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e

# A config that reaches nothing but a closed local port, should a malformed one be accepted.
OFFLINE = {
    "client_id": "1000.CLIENT",
    "client_secret": "client-secret-0123",
    "refresh_token": "1000.refresh.tok",
    "api_url": "http://127.0.0.1:9",
    "accounts_url": "http://127.0.0.1:9",
}
EMPTY_CATALOG: dict[str, Any] = {"streams": []}


def documented(emulator: ZohoCrmEmulator, **forms: Any) -> dict[str, Any]:
    return {**emulator.config(), **forms}


def config_error(run: cli_runner.CliRun, verb: str = "read") -> str:
    """The one config_error trace of a run that stopped on its input (`check`: its FAILED status)."""
    if verb == "check":
        status = run.connection_status()
        assert run.returncode == 0 and status["status"] == "FAILED", run.stderr[-1500:]
        assert not run.invalid_lines and not run.of_type("TRACE")
        return str(status["message"])
    traces = [m["trace"]["error"] for m in run.of_type("TRACE") if m["trace"].get("type") == "ERROR"]
    assert run.returncode != 0 and traces, run.stderr[-1500:]
    assert traces[-1]["failure_type"] == "config_error", traces[-1]
    assert "Something went wrong" not in traces[-1]["message"]
    assert not run.invalid_lines
    return str(traces[-1]["message"])


# ---- documented forms are accepted by every verb -------------------------------------------------


def test_documented_forms_through_check_discover_and_read(zoho_emulator: ZohoCrmEmulator) -> None:
    forms = {
        "dc_region": "US",
        "environment": "PRODUCTION",
        "modules": "Leads, Contacts",
        "max_concurrent_requests": "3",
        "include_deleted": "true",
        "start_datetime": "2000-01-01 08:00",
    }
    config = documented(zoho_emulator, **forms)
    assert cli_runner.run("check", config).connection_status()["status"] == "SUCCEEDED"
    other = documented(zoho_emulator, dc_region=" Com ", environment="Production", modules=["Leads"])
    discovered = cli_runner.run("discover", other)
    assert discovered.returncode == 0, discovered.errors()
    names = {s["name"] for s in discovered.catalog()["streams"]}
    assert "leads" in names and "contacts" not in names
    catalog = {"streams": [s for s in discovered.catalog()["streams"] if s["name"] == "leads"]}
    read = cli_runner.run("read", config, cli_runner.configured_catalog(catalog))
    assert read.returncode == 0, read.errors()
    assert len(read.records_of("leads")) == len(zoho_emulator.records("Leads"))


# ---- malformed configs: a config_error naming the field, through every verb ----------------------


@pytest.mark.parametrize(
    ("verb", "key", "value", "accepted"),
    [
        ("check", "environment", "prod", "production, sandbox, developer"),
        ("check", "max_concurrent_requests", 30, "1 to 25"),
        ("discover", "dc_region", 5, "com (alias US)"),
        ("discover", "start_datetime", "2024-02-30", "YYYY-MM-DD"),
        ("read", "api_url", "ftp://example", "http(s)://"),
        ("read", "modules", 5, "comma-separated"),
    ],
)
def test_malformed_config_is_named(verb: str, key: str, value: Any, accepted: str) -> None:
    message = config_error(
        cli_runner.run(verb, {**OFFLINE, key: value}, EMPTY_CATALOG if verb == "read" else None), verb
    )
    assert f"'{key}'" in message and accepted in message


_VALUES = st.one_of(st.integers(-3, 99), st.text(max_size=6), st.lists(st.integers(), max_size=2), st.none())


@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(sorted(OFFLINE.keys() | {"dc_region", "environment", "modules", "start_datetime"})),
    _VALUES,
)
def test_generated_malformed_configs_are_named_by_discover(key: str, value: Any) -> None:
    raw = {**OFFLINE, key: value}
    try:
        prepare_config(raw)
    except ConfigError as expected:
        message = config_error(cli_runner.run("discover", raw))
        assert message == expected.message
        return
    assume(False)


# ---- states --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (42, "must hold a JSON list of per-stream state messages"),
        ({"leads": {"Modified_Time": "2025-01-01T00:00:00Z"}}, "legacy state object"),
        ([42], "State entry 0"),
    ],
)
def test_malformed_state_is_named(state: Any, expected: str) -> None:
    assert expected in config_error(cli_runner.run("read", OFFLINE, EMPTY_CATALOG, state))  # type: ignore[arg-type]


def test_a_future_cursor_is_not_saved(zoho_emulator: ZohoCrmEmulator) -> None:
    leads = {"name": "leads", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]}
    catalog = cli_runner.configured_catalog(
        {"streams": [{**leads, "default_cursor_field": ["Modified_Time"]}]}
    )
    state = [
        {
            "type": "STREAM",
            "stream": {
                "stream_descriptor": {"name": "leads"},
                "stream_state": {"Modified_Time": "2099-01-01T00:00:00Z"},
            },
        }
    ]
    run = cli_runner.run("read", zoho_emulator.config(), catalog, state)
    assert run.returncode == 0, run.errors()
    assert any("in the future" in line for line in run.logs("WARN"))
    saved = run.final_state()[0]["stream"]["stream_state"]["Modified_Time"]
    assert saved <= datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the catalog command -------------------------------------------------------------------------


def catalog_command(*args: str) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("zoho-crm-catalog")
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=600)


def test_catalog_command_then_read(zoho_emulator: ZohoCrmEmulator, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(zoho_emulator.config()))
    made = catalog_command("--config", str(config), "--streams", "leads,users,deleted_records")
    assert made.returncode == 0, made.stderr
    catalog = json.loads(made.stdout)
    modes = {s["stream"]["name"]: (s["sync_mode"], s["destination_sync_mode"]) for s in catalog["streams"]}
    assert modes == {
        "users": ("full_refresh", "overwrite"),
        "deleted_records": ("incremental", "append_dedup"),
        "leads": ("incremental", "append_dedup"),
    }
    leads = next(s for s in catalog["streams"] if s["stream"]["name"] == "leads")
    assert leads["cursor_field"] == ["Modified_Time"] and leads["primary_key"] == [["id"]]
    read = cli_runner.run("read", zoho_emulator.config(), catalog)
    assert read.returncode == 0, read.errors()
    assert len(read.records_of("leads")) == len(zoho_emulator.records("Leads"))
    assert read.records_of("users")
    assert zoho_emulator.stats()["token_grants"] == 1  # the read reused the catalog command's token

    full = catalog_command("--config", str(config), "--full-refresh", "-o", str(tmp_path / "c.json"))
    assert full.returncode == 0, full.stderr
    written = json.loads((tmp_path / "c.json").read_text())
    assert written["streams"] and {s["sync_mode"] for s in written["streams"]} == {"full_refresh"}

    wrong = catalog_command("--config", str(config), "--streams", "leeds")
    assert wrong.returncode == 2 and "'leeds' (did you mean leads" in wrong.stderr and not wrong.stdout
