"""The emulator's per-record related lists: attachments (get-attachments), contact roles of a deal,
a deal's stage history; paging, 204, `fields`, scopes, and the `attachments_touch_parent` switch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration_tests.emulator_helpers import api, error, get
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator


@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    with ZohoCrmEmulator(EmulatorSettings(seed=7, preset="realistic")) as e:
        yield e


def deal_ids(emu: ZohoCrmEmulator) -> list[str]:
    return sorted(d["id"] for d in emu.records("Deals"))


def test_attachments_page_with_tokens_and_answer_204_when_none(emu: ZohoCrmEmulator) -> None:
    session = api(emu)
    deal = deal_ids(emu)[0]
    for n in range(3):
        emu.attach("Deals", deal, f"file{n}.pdf")
    path = f"/crm/v8/Deals/{deal}/Attachments"
    error(get(session, path), 400, "REQUIRED_PARAM_MISSING")  # fields is mandatory
    first = get(session, path, params={"fields": "File_Name,Size", "per_page": 2}).json()
    assert first["info"]["more_records"] and len(first["data"]) == 2
    assert set(first["data"][0]) == {"id", "File_Name", "Size"}
    token = first["info"]["next_page_token"]
    rest = get(session, path, params={"fields": "File_Name,Size", "per_page": 2, "page_token": token}).json()
    ids = [r["id"] for r in first["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) >= 3 and not rest["info"]["more_records"]
    empty = next(
        d
        for d in deal_ids(emu)
        if get(session, f"/crm/v8/Deals/{d}/Attachments", params={"fields": "File_Name"}).status_code == 204
    )
    assert empty
    error(get(session, "/crm/v8/Deals/1/Attachments", params={"fields": "File_Name"}), 400, "INVALID_DATA")


def test_attachments_need_their_scope(emu: ZohoCrmEmulator) -> None:
    deal = deal_ids(emu)[1]
    narrow = api(emu, ["ZohoCRM.modules.deals.READ"])
    error(
        get(narrow, f"/crm/v8/Deals/{deal}/Attachments", params={"fields": "File_Name"}),
        401,
        "OAUTH_SCOPE_MISMATCH",
    )
    both = api(emu, ["ZohoCRM.modules.deals.READ", "ZohoCRM.modules.attachments.READ"])
    assert get(both, f"/crm/v8/Deals/{deal}/Attachments", params={"fields": "File_Name"}).status_code in (
        200,
        204,
    )


def test_contact_roles_are_the_deals_linking_rows(emu: ZohoCrmEmulator) -> None:
    session = api(emu)
    links = [r for r in emu.records("Deals_X_Contacts") if r.get("Contact_Role")]
    deal = links[0]["Deal"]["id"]
    rows = get(
        session, f"/crm/v8/Deals/{deal}/Contact_Roles", params={"fields": "Contact_Role,Email"}
    ).json()["data"]
    expected = {(r["Contact"]["id"], r["Contact_Role"]) for r in links if r["Deal"]["id"] == deal}
    assert {(r["id"], r["Contact_Role"]["name"]) for r in rows} == expected


def test_a_stage_move_adds_a_history_row_and_moves_the_deal(emu: ZohoCrmEmulator) -> None:
    session = api(emu)
    deal = deal_ids(emu)[2]
    path = f"/crm/v8/Deals/{deal}/Stage_History"
    before = get(session, path, params={"fields": "Stage,Moved_To"}).json()["data"]
    moved = emu.change_stage(deal, "Negotiation")
    after = get(session, path, params={"fields": "Stage,Moved_To,Modified_Time"}).json()["data"]
    assert len(after) == len(before) + 1 and after[-1]["Stage"] == "Negotiation"
    assert after[-2]["Moved_To"] == "Negotiation"
    record = next(d for d in emu.records("Deals") if d["id"] == deal)
    assert record["Stage"] == "Negotiation" and record["Modified_Time"] == moved["modified_time"]


@pytest.mark.parametrize("touches", [True, False])
def test_attaching_moves_the_parent_only_when_the_switch_says_so(touches: bool) -> None:
    with ZohoCrmEmulator(EmulatorSettings(seed=3, preset="benchmark", bench_modules=1, bench_records=5)) as e:
        e.update_settings(attachments_touch_parent=touches)
        lead = e.records("Leads")[0]
        added = e.attach("Leads", lead["id"])
        after = next(r for r in e.records("Leads") if r["id"] == lead["id"])
        assert (after["Modified_Time"] == added["modified_time"]) is touches
        assert (after["Modified_Time"] == lead["Modified_Time"]) is not touches
