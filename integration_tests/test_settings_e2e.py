"""The settings streams (in both emulator settings: the pessimistic one pages custom views two at a time)
and `check`'s optional-scope report (pessimistic: no `scope` with the token, so `check` probes) through
the CLI against the emulator."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from source_zoho_crm.metadata_streams import load_schema
from source_zoho_crm.settings_streams import SETTINGS_STREAMS
from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = [pytest.mark.e2e]

MODULES = ["Leads", "Deals", "Campaigns"]  # Campaigns: the profile may not read it (refused per module)
SETTINGS_ENDPOINTS = ("layouts", "pipeline", "custom_views", "tags")


def catalog(names: list[str]) -> dict[str, Any]:
    streams = [
        {
            "name": name,
            "json_schema": load_schema(name),
            "supported_sync_modes": ["full_refresh"],
            "source_defined_primary_key": [[k] for k in SETTINGS_STREAMS[name]],
        }
        for name in names
    ]
    return cli_runner.configured_catalog({"streams": streams}, False)


def settings_calls(emu: ZohoCrmEmulator) -> dict[str, int]:
    served = emu.stats()["requests_by_endpoint"]
    return {api: served.get(f"GET /crm/v8/settings/{api}", 0) for api in SETTINGS_ENDPOINTS}


@pytest.fixture
def realistic(zoho_emulator_factory: Callable[..., ZohoCrmEmulator]) -> ZohoCrmEmulator:
    return zoho_emulator_factory(preset="realistic")


@pytest.mark.all_emulator_settings
def test_one_read_of_the_five_streams(realistic: ZohoCrmEmulator) -> None:
    config = {**realistic.config(), "modules": MODULES}
    run = cli_runner.run("read", config, catalog(list(SETTINGS_STREAMS)))
    assert run.returncode == 0, run.errors()
    rows = {name: run.records_of(name) for name in SETTINGS_STREAMS}
    per_page = realistic.settings.custom_views_max_per_page
    views = {m: sum(1 for r in rows["custom_views"] if r["module"] == m) for m in ("Leads", "Deals")}
    assert views == {"Leads": 7, "Deals": 7}  # five system views and two of the admin's
    # One call per module and API, one per page of custom views, one per Deals layout (shared by both
    # pipeline streams); Campaigns answers once per API and is left out.
    assert settings_calls(realistic) == {
        "layouts": 3,
        "pipeline": 2,
        "custom_views": 1 + sum(math.ceil(n / per_page) for n in views.values()),
        "tags": 3,
    }
    assert sorted((r["module"], r["name"]) for r in rows["layouts"]) == [
        ("Deals", "Partner Deals"),
        ("Deals", "Standard"),
        ("Leads", "Standard"),
    ]
    assert len(rows["tags"]) == 12 and {r["module"] for r in rows["tags"]} == {"Leads", "Deals"}
    assert sorted(p["display_value"] for p in rows["pipelines"]) == ["Renewals", "Standard (Standard)"]
    stages = rows["pipeline_stages"]
    assert len(stages) == sum(len(p["maps"]) for p in rows["pipelines"]) == 12
    deals_stages = {r["Stage"] for r in realistic.records("Deals")}
    assert deals_stages <= {s["actual_value"] for s in stages if s["pipeline_default"]}
    warned = [w for w in run.logs("WARN") if "module Campaigns left out" in w]
    assert len(warned) == 3, run.logs("WARN")


LIMITED = [  # no pipeline, custom views or tags scope
    "ZohoCRM.modules.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.settings.layouts.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.settings.roles.READ",
    "ZohoCRM.settings.profiles.READ",
    "ZohoCRM.settings.territories.READ",
    "ZohoCRM.settings.currencies.READ",
    "ZohoSearch.securesearch.READ",
    "ZohoCRM.bulk.READ",
]


def test_check_probes_and_names_the_missing_optional_scopes(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    """Without a `scope` in the token answer (the pessimistic reading) each optional scope costs one probe;
    a token that names its scopes costs none (unit_tests/test_optional_scopes.py)."""
    emu = make_emu(preset="realistic", seed=5, strictness="pessimistic")
    config = {**emu.config(), "modules": MODULES, "refresh_token": emu.new_refresh_token(LIMITED)}
    status = cli_runner.run("check", config).connection_status()
    assert status["status"] == "SUCCEEDED"
    message = status["message"]
    for missing in ("tags.READ (stream tags)", "custom_views.READ (stream custom_views)", "pipeline.READ"):
        assert missing in message
    assert "layouts" not in message and "securesearch" not in message
    # one probe per probed scope: layouts on Deals, then the pipeline of its first layout, views, tags
    assert settings_calls(emu) == {"layouts": 1, "pipeline": 1, "custom_views": 1, "tags": 1}
