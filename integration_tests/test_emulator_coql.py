"""The emulator's COQL as Zoho's pages describe it: JOINs through lookups, types it refuses, its limits,
credits by LIMIT, and the pessimistic switches."""

from __future__ import annotations

from collections.abc import Callable

import requests

from integration_tests.emulator_helpers import api, error
from zoho_crm_emulator import ZohoCrmEmulator


def coql_of(emu: ZohoCrmEmulator, session: requests.Session) -> Callable[[str], requests.Response]:
    return lambda query: session.post(f"{emu.url}/crm/v8/coql", json={"select_query": query}, timeout=10)


def test_lookups_join_to_the_looked_up_record_and_users(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    coql = coql_of(emu, s)
    body = coql(
        "select Account_Name, Account_Name.Account_Name, Owner, Owner.full_name, Owner.email from Contacts "
        "where Account_Name is not null order by id asc limit 50"
    ).json()
    contacts = {r["id"]: r for r in emu.records("Contacts")}
    for row in body["data"]:
        record = contacts[row["id"]]
        assert row["Account_Name"] == {"id": record["Account_Name"]["id"]}
        assert row["Account_Name.Account_Name"] == record["Account_Name"]["name"]
        assert (
            row["Owner.full_name"] == record["Owner"]["name"]
            and row["Owner.email"] == record["Owner"]["email"]
        )
    error(coql("select Account_Name.Nope from Contacts limit 1"), 400, "INVALID_QUERY")
    error(coql("select Owner.phone_number from Contacts limit 1"), 400, "INVALID_QUERY")


def test_types_coql_cannot_select_are_refused(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    coql = coql_of(emu, s)
    for column in ("Photo_Gallery", "Attachments_Files", "Related_Products"):
        answer = coql(f"select {column} from Leads limit 1")
        error(answer, 400, "INVALID_QUERY")
        assert answer.json()["message"] == "data type not supported"


def test_limits_and_credits_by_limit(make_emu: Callable[..., ZohoCrmEmulator]) -> None:
    emu = make_emu(preset="benchmark", bench_modules=2, bench_records=300, bench_fields=60)
    coql = coql_of(emu, api(emu))
    credits = emu.app.credits
    for limit, cost in ((200, 1), (201, 2), (1000, 2), (2000, 3)):
        before = credits.used
        assert coql(f"select Name from Contacts limit {limit}").status_code == 200
        assert credits.used - before == cost
    lookups = [f"Field_{k}_Lookup.Name" for k in range(4, 60, 14)]
    assert len(lookups) == 4
    owners = ["Owner.email", "Owner.full_name", "Created_By.email", "Modified_By.email"]
    columns = ", ".join(lookups + owners * 2)  # 4 + 8 = 12 JOINs: allowed
    assert coql(f"select {columns} from Contacts limit 1").status_code == 200
    too_many = ", ".join(lookups + owners * 3)  # 16
    error(coql(f"select {too_many} from Contacts limit 1"), 400, "LIMIT_EXCEEDED")


def test_pessimistic_caps_columns_at_50_and_serves_listed_modules_only(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = make_emu(preset="small", strictness="pessimistic")
    coql = coql_of(emu, api(emu))
    columns = ", ".join(["Last_Name"] * 51)
    error(coql(f"select {columns} from Contacts limit 1"), 400, "LIMIT_EXCEEDED")
    assert coql("select Last_Name from Contacts limit 1").status_code == 200
    error(coql("select id from Deals_X_Contacts limit 1"), 400, "INVALID_QUERY")
    kind = make_emu(preset="small")
    assert coql_of(kind, api(kind))("select id from Deals_X_Contacts limit 1").status_code in (200, 204)
