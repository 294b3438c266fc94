"""End-to-end: the access token outlives the process (issue 10), counted on the emulator's accounts server."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e


def runs(emu: ZohoCrmEmulator, cache: str, verbs: tuple[str, ...]) -> list[int]:
    """Token requests the emulator served for each run, in order."""
    grants = []
    for verb in verbs:
        emu.reset_stats()
        run = cli_runner.run(verb, emu.config(), env={"ZOHO_CRM_TOKEN_CACHE_DIR": cache})
        assert run.returncode == 0, run.errors() or run.stderr
        assert not run.of_type("CONTROL")  # off the platform the config (and its secrets) is never printed
        grants.append(emu.stats()["token_grants"])
    return grants


def test_a_second_run_makes_no_token_request(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator], tmp_path: Path
) -> None:
    emu = zoho_emulator_factory()
    assert runs(emu, str(tmp_path), ("check", "discover", "check")) == [1, 0, 0]
    [cache] = list(tmp_path.iterdir())
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert emu.credentials["refresh_token"] not in cache.name + cache.read_text()
    assert emu.credentials["client_secret"] not in cache.read_text()


def test_without_the_cache_every_run_takes_a_token(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    assert runs(emu, "off", ("check", "check")) == [1, 1]


def test_a_kept_token_zoho_no_longer_accepts_is_refreshed_once(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator], tmp_path: Path
) -> None:
    emu = zoho_emulator_factory()
    assert runs(emu, str(tmp_path), ("check",)) == [1]
    emu.expire_tokens()  # expired or evicted on Zoho's side, still valid by its stated expiry
    assert runs(emu, str(tmp_path), ("check", "check")) == [1, 0]


def test_on_the_platform_the_token_travels_in_the_config(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = zoho_emulator_factory()
    platform = {"ZOHO_CRM_TOKEN_CACHE_DIR": "off", "WORKER_JOB_ID": "1"}
    first = cli_runner.run("check", emu.config(), env=platform)
    [control] = first.of_type("CONTROL")
    updated = control["control"]["connectorConfig"]["config"]
    assert updated == {
        **emu.config(),
        "access_token": updated["access_token"],
        "token_expiry_date": updated["token_expiry_date"],
    }
    emu.reset_stats()
    second = cli_runner.run("check", updated, env=platform)
    assert second.connection_status()["status"] == "SUCCEEDED"
    assert emu.stats()["token_grants"] == 0 and not second.of_type("CONTROL")
    assert json.dumps(second.messages).count(emu.credentials["client_secret"]) == 0
