"""The connector against the emulator in each setting (`--emulator-setting`, conftest.py): these tests are
marked to run in both the default and the pessimistic setting, whatever the option says."""

from __future__ import annotations

import pytest

from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = [pytest.mark.e2e, pytest.mark.all_emulator_settings]


def test_the_emulator_runs_in_the_setting_asked_for(
    zoho_emulator: ZohoCrmEmulator, emulator_strictness: str
) -> None:
    settings = zoho_emulator.settings
    assert settings.strictness == emulator_strictness
    pessimistic = emulator_strictness == "pessimistic"
    assert (settings.page_token_mode, settings.if_modified_since_inclusive) == (
        ("offset", False) if pessimistic else ("keyset", True)
    )
    assert cli_runner.run("check", zoho_emulator.config()).connection_status()["status"] == "SUCCEEDED"


def test_a_full_read_of_leads_gets_every_record_in_each_setting(zoho_emulator: ZohoCrmEmulator) -> None:
    catalog = cli_runner.run("discover", zoho_emulator.config()).catalog()
    leads = [s for s in catalog["streams"] if s["name"].lower() == "leads"]
    assert leads, [s["name"] for s in catalog["streams"]]
    run = cli_runner.run(
        "read", zoho_emulator.config(), cli_runner.configured_catalog({"streams": leads}, False)
    )
    assert run.returncode == 0, run.errors()
    read_ids = {r["id"] for r in run.records_of(leads[0]["name"])}
    assert read_ids == {r["id"] for r in zoho_emulator.records("Leads")}
