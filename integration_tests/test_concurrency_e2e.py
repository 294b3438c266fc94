"""End to end: `max_concurrent_requests` caps the Zoho requests in flight across every stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from zoho_crm_emulator import ZohoCrmEmulator, cli_runner

pytestmark = pytest.mark.e2e


def _statuses(run: cli_runner.CliRun) -> dict[str, str]:
    """The last status each stream reported."""
    found: dict[str, str] = {}
    for trace in run.of_type("TRACE"):
        status = trace["trace"].get("stream_status")
        if status:
            found[status["stream_descriptor"]["name"]] = status["status"]
    return found


def test_one_request_in_flight_when_the_cap_is_one(
    zoho_emulator_factory: Callable[..., ZohoCrmEmulator],
) -> None:
    # The realistic preset has subforms (line items) and deletions: every kind of stream.
    zoho_emulator = zoho_emulator_factory(preset="realistic")
    config: dict[str, Any] = zoho_emulator.config(max_concurrent_requests=1)
    discovered = cli_runner.run("discover", config)
    assert discovered.returncode == 0, discovered.stderr[-2000:]
    catalog = discovered.catalog()
    names = {stream["name"] for stream in catalog["streams"]}
    # Every kind of stream: straight from Zoho, from the metadata cache, modules, subforms, the log.
    assert {
        "users",
        "roles",
        "profiles",
        "currencies",
        "territories",
        "org",
        "fields",
        "deleted_records",
    } <= names
    assert any("_" in name and name.startswith("quotes_") for name in names)

    run = cli_runner.run("read", config, cli_runner.configured_catalog(catalog, incremental=True))
    assert run.returncode == 0, run.errors() or run.stderr[-2000:]
    assert _statuses(run) == dict.fromkeys(names, "COMPLETE")
    stats = zoho_emulator.stats()
    assert sum(stats["requests_by_endpoint"].values()) > len(names)  # the cap was put to the test
    assert stats["peak_concurrency"] == 1, stats["peak_concurrency"]
    assert stats["rejected_concurrency"] == 0
