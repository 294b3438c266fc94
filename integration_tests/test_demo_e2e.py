"""End to end: `scripts/demo.py` (README command one) against the emulator's `small` preset."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"
# The small preset's incremental streams and the cursor each shows (Deals_X_Contacts has no Modified_Time).
CURSORS = {
    "accounts": "Modified_Time",
    "accounts_branch_offices": "Modified_Time",
    "contacts": "Modified_Time",
    "deals_x_contacts": "Created_Time",
    "deleted_records": "Leads",
    "leads": "Modified_Time",
    "leads_lead_contacts": "Modified_Time",
}
UTC_INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def output() -> str:
    demo = load_demo()
    with pytest.MonkeyPatch.context() as patch:
        lines: list[str] = []
        patch.setattr("builtins.print", lambda *args, **_: lines.append(" ".join(map(str, args))))
        assert demo.main(["--preset", "small"]) == 0, "\n".join(lines)
    return "\n".join(lines)


def section(output: str, title: str) -> str:
    """The lines of one `== title` section."""
    start = output.index(f"== {title}")
    end = output.find("\n== ", start + 1)
    return output[start : end if end != -1 else None]


def test_state_table_shows_every_incremental_streams_cursor(output: str) -> None:
    table = section(output, "state after the incremental read")
    assert "__ab_" not in table
    rows = {line.split()[0]: line for line in table.splitlines()[1:] if line.strip()}
    assert set(rows) == set(CURSORS)
    for stream, cursor in CURSORS.items():
        assert re.search(rf"\b{cursor}={UTC_INSTANT}", rows[stream]), rows[stream]


def test_deliberate_emulator_quirks_are_labelled(output: str) -> None:
    first = section(output, "full read")
    campaigns = [line for line in first.splitlines() if "warning" in line and "Campaigns" in line]
    assert campaigns and all("(a deliberate emulator quirk)" in line for line in campaigns)
    assert "why: the emulator refuses Campaigns" in first
    # Explained once, labelled every time.
    second = section(output, "incremental read")
    assert "why:" not in second and "(a deliberate emulator quirk): Fields of module Campaigns" in second


def test_the_four_runs_share_one_access_token(output: str) -> None:
    assert "access tokens issued for the 4 runs: 1," in output


def test_changes_fit_the_preset_and_are_read_incrementally(output: str) -> None:
    assert "5 Leads modified, 3 Contacts created, 2 Accounts deleted" in section(output, "changes in the CRM")
    streams = section(output, "streams")
    leads = next(line for line in streams.splitlines() if line.split()[:1] == ["leads"])
    first, incremental = map(int, leads.split()[1:])
    assert first == 30 and 5 <= incremental < first  # the 5 modified, and maybe the cursor's own second again


def test_ends_with_next_steps(output: str) -> None:
    steps = section(output, "next steps")
    for command in ("zoho-crm-auth self-client", "zoho-crm-catalog --config", "elt/zoho_crm_to_duckdb.py"):
        assert command in steps
    assert output.rstrip().splitlines()[-1].startswith("Done in ")
