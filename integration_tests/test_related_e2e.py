"""Per-record streams (deals_stage_history, deals_contact_roles, deals_attachments) through the CLI against
the realistic preset: one first sync and one incremental sync after a stage move and a new attachment.

Both emulator settings: under the pessimistic one, attaching a file leaves the deal's Modified_Time
alone (`attachments_touch_parent`), and the incremental sync must still emit the attachment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.test.entrypoint_wrapper import discover

from source_zoho_crm import SourceZohoCrm
from source_zoho_crm.datetimes import parse_zoho_datetime
from source_zoho_crm.related_specs import STAGE_HISTORY
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator, cli_runner

pytestmark = [pytest.mark.e2e, pytest.mark.all_emulator_settings]

STREAMS = {
    "deals_stage_history": "Stage_History",
    "deals_contact_roles": "Contact_Roles",
    "deals_attachments": "Attachments",
}
RELATED = "GET /crm/v8/{module}/{id}/{related}"


@pytest.fixture(scope="module")
def emu(emulator_strictness: str) -> Iterator[ZohoCrmEmulator]:
    with ZohoCrmEmulator(EmulatorSettings(seed=7, preset="realistic", strictness=emulator_strictness)) as e:
        yield e


def config(emu: ZohoCrmEmulator) -> dict[str, Any]:
    return emu.config(modules=["Deals"], per_record_streams=list(STREAMS))


def expected_rows(emu: ZohoCrmEmulator, related: str) -> dict[tuple[str, str], dict[str, Any]]:
    """What the emulator holds: (deal id, row id) -> row, for every deal."""
    state = emu.state
    deals = state.module("Deals")
    assert deals is not None
    with state.lock:
        return {
            (deal.id, str(row["id"])): dict(row)
            for deal in deals.entries.values()
            for row in emu.app.related._rows(deals, deal, related)
        }


def keyed(run: cli_runner.CliRun, stream: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["parent_id"], r["id"]): r for r in run.records_of(stream)}


def related_calls(emu: ZohoCrmEmulator) -> int:
    return int(emu.stats()["requests_by_endpoint"].get(RELATED, 0))


def test_first_sync_then_incremental_after_a_stage_move_and_an_attachment(emu: ZohoCrmEmulator) -> None:
    discovered = discover(SourceZohoCrm(config=config(emu)), config(emu))  # in process: one CLI start less
    assert not discovered.errors, discovered.errors
    message = AirbyteMessageSerializer.dump(discovered.catalog)
    streams = {s["name"]: s for s in message["catalog"]["streams"]}
    assert set(STREAMS) <= set(streams)
    assert streams["deals_contact_roles"]["supported_sync_modes"] == ["full_refresh"]
    assert streams["deals_attachments"]["source_defined_primary_key"] == [["parent_id"], ["id"]]
    catalog = cli_runner.configured_catalog({"streams": [streams[name] for name in STREAMS]})
    deal_count = len(emu.records("Deals"))

    emu.reset_stats()
    first = cli_runner.run("read", config(emu), catalog)
    assert first.returncode == 0, first.errors()
    assert related_calls(emu) == 3 * deal_count  # one call per deal and list (none has 200 rows)
    for stream, related in STREAMS.items():
        expected = expected_rows(emu, related)
        got = keyed(first, stream)
        assert set(got) == set(expected) and expected, stream
        assert all(got[key]["parent_module"] == "Deals" for key in got)
    assert any("visited 200 Deals records with 200 Attachments calls" in line for line in first.logs())
    states = {
        s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in first.final_state()
    }

    cursor = parse_zoho_datetime(states["deals_stage_history"][STAGE_HISTORY.cursor_field])

    def changed_since_cursor() -> set[str]:
        return {d["id"] for d in emu.records("Deals") if parse_zoho_datetime(d["Modified_Time"]) >= cursor}

    boundary = changed_since_cursor()  # the cursor's own second is read again (inclusive cursor)
    deal_ids = sorted(d["id"] for d in emu.records("Deals") if d["id"] not in boundary)
    moved, attached = deal_ids[3], deal_ids[5]
    emu.change_stage(moved, "Negotiation")
    new_attachment = emu.attach("Deals", attached, "signed.pdf")["id"]
    changed = changed_since_cursor()
    touches_parent = emu.settings.attachments_touch_parent
    assert changed == boundary | ({moved, attached} if touches_parent else {moved})

    emu.reset_stats()
    second = cli_runner.run("read", config(emu), catalog, first.final_state())
    assert second.returncode == 0, second.errors()
    # stage history: only the changed deals, all their rows (the new move included)
    history = keyed(second, "deals_stage_history")
    assert moved in {parent for parent, _ in history} <= changed  # a deal may have no stage rows
    assert any(r["Stage"] == "Negotiation" and r["parent_id"] == moved for r in history.values())
    # attachments: every deal asked again; the new one is emitted whether or not the deal moved
    attachments = keyed(second, "deals_attachments")
    assert (attached, new_attachment) in attachments
    since = parse_zoho_datetime(states["deals_attachments"]["Modified_Time"])
    assert all(parse_zoho_datetime(r["Modified_Time"]) >= since for r in attachments.values())
    assert len(attachments) < 5
    # contact roles: full refresh, every deal
    assert len(keyed(second, "deals_contact_roles")) == len(keyed(first, "deals_contact_roles"))
    assert related_calls(emu) == len(changed) + 2 * deal_count
