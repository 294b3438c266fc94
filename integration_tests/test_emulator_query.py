"""The emulator's own tests.
COQL and Bulk Read."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable

import requests

from integration_tests.emulator_helpers import (
    api,
    error,
    get,
)
from zoho_crm_emulator import ZohoCrmEmulator


# ---------------------------------------------------------------------------- COQL and bulk read
def test_coql(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    def coql(query: str) -> requests.Response:
        return s.post(f"{emu.url}/crm/v8/coql", json={"select_query": query}, timeout=10)

    records = emu.records("Deals")
    pivot = sorted(r["Modified_Time"] for r in records)[100]
    stage = records[0]["Stage"]
    body = coql(
        f"select Deal_Name, Stage, Modified_Time, Account_Name from Deals where (Stage = '{stage}' and "
        f"Modified_Time >= '{pivot}') order by Modified_Time asc, id asc limit 0, 200"
    ).json()
    expected = [r for r in records if r["Stage"] == stage and r["Modified_Time"] >= pivot]
    assert sorted(r["id"] for r in body["data"]) == sorted(r["id"] for r in expected)
    assert body["info"] == {"count": len(expected), "more_records": False}
    keys = [(r["Modified_Time"], int(r["id"])) for r in body["data"]]
    assert keys == sorted(keys)
    assert all(set(r["Account_Name"] or {"id": 1}) == {"id"} for r in body["data"])
    page = coql(
        "select Deal_Name from Deals where Amount is not null or Amount is null limit 10 offset 5"
    ).json()
    assert len(page["data"]) == 10 and page["info"]["more_records"] is True
    names = coql(
        "select Deal_Name from Deals where Deal_Name like '%renewal%' and Stage in ('Closed Won', "
        "'Closed Lost', 'Qualification')"
    ).json()
    assert all("renewal" in r["Deal_Name"].lower() for r in names["data"])
    assert coql("select COUNT(id) from Deals").json()["data"] == [{"COUNT(id)": 200}]
    assert coql("select Deal_Name from Deals where Deal_Name = 'no such deal'").status_code == 204
    error(coql("select from Deals"), 400, "SYNTAX_ERROR")
    error(coql("select Deal_Name from Deals limit 2001"), 400, "LIMIT_EXCEEDED")
    error(coql("select Nope from Deals"), 400, "INVALID_QUERY")
    error(coql("select Campaign_Name from Campaigns"), 403, "NO_PERMISSION")


def test_bulk_read(emu: ZohoCrmEmulator, s: requests.Session) -> None:
    body = {
        "query": {
            "module": {"api_name": "Contacts"},
            "fields": ["Last_Name", "Email", "Account_Name"],
            "criteria": {
                "group_operator": "and",
                "group": [{"field": {"api_name": "Last_Name"}, "comparator": "not_equal", "value": "Nobody"}],
            },
        },
        "file_type": "csv",
    }
    created = s.post(f"{emu.url}/crm/bulk/v8/read", json=body, timeout=10)
    assert created.status_code == 201
    job = created.json()["data"][0]["details"]
    assert job["state"] == "ADDED"
    states = []
    for _ in range(5):
        states.append(get(s, f"/crm/bulk/v8/read/{job['id']}").json()["data"][0])
        if states[-1]["state"] == "COMPLETED":
            break
    assert [st["state"] for st in states] == ["IN PROGRESS", "COMPLETED"]
    result = states[-1]["result"]
    assert result["count"] == 300 and result["more_records"] is False
    download = get(s, result["download_url"])
    assert download.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.namelist() == [f"{job['id']}.csv"]
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{job['id']}.csv").decode())))
    assert len(rows) == 300 and set(rows[0]) == {"Id", "Last_Name", "Email", "Account_Name"}
    assert {r["Id"] for r in rows} == {r["id"] for r in emu.records("Contacts")}


def test_benchmark_virtual_records_are_served_by_bulk_read_and_count_only(
    make_emu: Callable[..., ZohoCrmEmulator],
) -> None:
    emu = make_emu(bulk_virtual_records=1_050, bulk_page_size=400, bulk_complete_after=0)
    session = api(emu)
    real = {r["id"] for r in emu.records("Contacts")}
    assert 0 < len(real) < 1_050
    assert get(session, "/crm/v8/Contacts/actions/count").json() == {"count": 1_050}
    ids: list[str] = []
    for page in (1, 2, 3):
        body = {"query": {"module": {"api_name": "Contacts"}, "fields": ["Last_Name"], "page": page}}
        job = session.post(f"{emu.url}/crm/bulk/v8/read", json=body, timeout=10).json()["data"][0]["details"]
        result = get(session, f"/crm/bulk/v8/read/{job['id']}").json()["data"][0]["result"]
        assert result["more_records"] is (page < 3)
        download = get(session, result["download_url"])
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            rows = list(csv.DictReader(io.StringIO(archive.read(f"{job['id']}.csv").decode())))
        assert result["count"] == len(rows) == min(400, 1_050 - 400 * (page - 1))
        assert all(row["Last_Name"] for row in rows)
        ids.extend(row["Id"] for row in rows)
    assert len(ids) == len(set(ids)) == 1_050 and real <= set(ids)
    # REST lists only the real records.
    listed = get(session, "/crm/v8/Contacts", params={"fields": "Last_Name", "per_page": 200}).json()
    assert len(listed["data"]) == min(200, len(real))
