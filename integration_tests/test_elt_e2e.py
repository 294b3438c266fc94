"""End to end: `elt/zoho_crm_to_duckdb.py` (PyAirbyte into DuckDB) run twice against the Zoho CRM emulator.

The first run loads everything; the second, after records were modified, created and deleted in the emulator,
reads only what changed, and both times the DuckDB tables equal the emulator's records. The second run reuses
the first one's access token (the connector's token cache): it asks the accounts server for none.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parent.parent / "elt" / "zoho_crm_to_duckdb.py"
MODULES = {"leads": "Leads", "contacts": "Contacts"}  # stream -> module
STREAMS = [*MODULES, "users"]  # `users` is full refresh: it takes PyAirbyte's replace path


@dataclass
class EltRun:
    summary: dict[str, dict[str, Any]]  # stream -> the script's per-stream summary
    tables: dict[str, dict[str, dict[str, Any]]]  # stream -> id -> row (as in `comparable_row`)
    expected: dict[str, dict[str, dict[str, Any]]]  # stream -> id -> emulator record, as a row would hold it
    records_served: int  # records the emulator served during the run
    state: dict[str, dict[str, Any]]  # stream -> stream_state kept in the DuckDB file
    token_grants: int  # access tokens the emulator issued during the run


def normalized(name: str) -> str:
    """PyAirbyte's column name for a field (its LowerCaseNormalizer)."""
    name = re.sub(r"[^A-Za-z0-9]", "_", name.lower())
    return f"_{name}" if name[:1].isdigit() else name


def as_column_value(value: Any, column_type: str) -> Any:
    """An emulator value as the DuckDB column of `column_type` gives it back."""
    if column_type == "JSON" or isinstance(value, dict | list):
        return value
    if column_type == "TIMESTAMP WITH TIME ZONE":
        return datetime.fromisoformat(value)
    if column_type == "TIMESTAMP":  # PyAirbyte's DuckDB loader keeps Zoho's wall-clock time, drops the offset
        return datetime.fromisoformat(value).replace(tzinfo=None)
    if column_type == "DATE":
        return date.fromisoformat(value)
    if column_type.startswith("DECIMAL"):
        return Decimal(str(value))
    return value


def comparable_row(row: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """A DuckDB row without PyAirbyte's columns and nulls; JSON columns parsed."""
    return {
        column: json.loads(value) if types[column] == "JSON" else value
        for column, value in row.items()
        if value is not None and not column.startswith("_airbyte_") and column != "_ab_cdc_deleted_at"
    }


def comparable_record(record: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """An emulator record as a row: nulls dropped (absent reads as null), `$` system keys are not fields."""
    row = {}
    for key, value in record.items():
        if value is None or key.startswith("$"):
            continue
        column = normalized(key)
        row[column] = as_column_value(value, types.get(column, "?"))
    return row


def read_tables(db: Path, streams: list[str]) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, Any]]:
    """Every row of every stream's table, by id, the column types, and the state PyAirbyte kept."""
    import duckdb  # the test's own import: see the `emulator` fixture

    tables: dict[str, dict[str, dict[str, Any]]] = {}
    types: dict[str, dict[str, str]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for stream in streams:
            types[stream] = dict(
                con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
                    [stream],
                ).fetchall()
            )
            cursor = con.execute(f'SELECT * FROM "{stream}"')
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            assert len({r["id"] for r in rows}) == len(rows), f"{stream}: duplicate ids"
            tables[stream] = {r["id"]: comparable_row(r, types[stream]) for r in rows}
        kept = con.execute("SELECT stream_name, state_json FROM _airbyte_state").fetchall()
        state = {stream: json.loads(state_json)["stream"]["stream_state"] for stream, state_json in kept}
    return tables, {"types": types, "state": state}


@pytest.fixture(scope="module")
def emulator() -> Iterator[ZohoCrmEmulator]:
    install = "pip install -e '.[dev,elt]' (PyAirbyte needs Python < 3.13)"
    pytest.importorskip("duckdb", reason=f"the elt extra (DuckDB, PyAirbyte) is not installed: {install}")
    # Only the script's subprocess imports PyAirbyte (~10 s); finding it is enough here.
    if importlib.util.find_spec("airbyte") is None:
        pytest.skip(f"PyAirbyte is not installed: {install}")
    with ZohoCrmEmulator(EmulatorSettings(seed=5, preset="small")) as emu:
        yield emu


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, emulator: ZohoCrmEmulator) -> Path:
    path = tmp_path_factory.mktemp("elt")
    (path / "config.json").write_text(json.dumps(emulator.config()))
    return path


def run_elt(emulator: ZohoCrmEmulator, workdir: Path) -> EltRun:
    """Run the script as cron would; snapshot its summary, the tables and the emulator's records."""
    emulator.reset_stats()
    db = workdir / "zoho.duckdb"
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--config", str(workdir / "config.json"), "--db", str(db)]
        + ["--streams", ",".join(STREAMS), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
        env={**os.environ, "ZOHO_CRM_TOKEN_CACHE_DIR": str(workdir / "tokens")},
    )
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-2000:]
    summary = {s["stream"]: s for s in json.loads(completed.stdout.strip().splitlines()[-1])["streams"]}
    tables, meta = read_tables(db, STREAMS)
    expected = {
        stream: {r["id"]: comparable_record(r, meta["types"][stream]) for r in emulator.records(module)}
        for stream, module in MODULES.items()
    }
    stats = emulator.stats()
    return EltRun(
        summary, tables, expected, int(stats["records_served"]), meta["state"], int(stats["token_grants"])
    )


@pytest.fixture(scope="module")
def first_run(emulator: ZohoCrmEmulator, workdir: Path) -> EltRun:
    return run_elt(emulator, workdir)


@pytest.fixture(scope="module")
def changes(first_run: EltRun, emulator: ZohoCrmEmulator) -> dict[str, dict[str, list[str]]]:
    """Changes made in Zoho between the two runs: stream -> kind -> ids (none both modified and deleted)."""
    leads = [r["id"] for r in emulator.records("Leads")]
    contacts = [r["id"] for r in emulator.records("Contacts")]
    return {
        "leads": {
            "modified": emulator.modify("Leads", ids=leads[:3])["ids"],
            "deleted": emulator.delete("Leads", ids=leads[-2:])["ids"],
        },
        "contacts": {
            "created": emulator.create("Contacts", count=2)["ids"],
            "modified": emulator.modify("Contacts", ids=contacts[:1])["ids"],
            "deleted": emulator.delete("Contacts", ids=contacts[-1:], type="permanent")["ids"],
        },
    }


@pytest.fixture(scope="module")
def second_run(emulator: ZohoCrmEmulator, workdir: Path, changes: dict[str, Any]) -> EltRun:
    return run_elt(emulator, workdir)


@pytest.mark.parametrize("stream", list(MODULES))
def test_first_run_loads_exactly_the_emulators_records(first_run: EltRun, stream: str) -> None:
    assert first_run.tables[stream] == first_run.expected[stream]
    assert first_run.summary[stream]["rows"] == len(first_run.expected[stream])
    assert first_run.summary[stream]["mode"] == "incremental"


def test_first_run_keeps_the_connectors_state_in_duckdb(first_run: EltRun) -> None:
    for stream in MODULES:
        assert first_run.state[stream]["Modified_Time"].endswith("Z")
        assert "deleted_since" in first_run.state[stream]


def test_full_refresh_stream_holds_the_orgs_users(first_run: EltRun, emulator: ZohoCrmEmulator) -> None:
    active = {u["id"] for u in emulator.state.users if u["status"] != "deleted"}
    assert set(first_run.tables["users"]) == active
    assert first_run.summary["users"]["mode"] == "full_refresh"


@pytest.mark.parametrize("stream", list(MODULES))
def test_second_run_equals_the_emulator_again_deleted_rows_gone(
    second_run: EltRun, changes: dict[str, Any], stream: str
) -> None:
    assert second_run.tables[stream] == second_run.expected[stream]
    assert not set(changes[stream]["deleted"]) & set(second_run.tables[stream])
    assert second_run.summary[stream]["deleted"] == len(changes[stream]["deleted"])
    for kind in ("modified", "created"):
        assert set(changes[stream].get(kind, [])) <= set(second_run.tables[stream])


@pytest.mark.parametrize("stream", list(MODULES))
def test_second_run_reads_only_what_changed(
    emulator: ZohoCrmEmulator, first_run: EltRun, second_run: EltRun, changes: dict[str, Any], stream: str
) -> None:
    changed = sum(len(ids) for ids in changes[stream].values())  # tombstones are records too
    # At most: the live records from the cursor's second on (the connector reads that second again), and the
    # tombstones.
    cursor = datetime.fromisoformat(first_run.state[stream]["Modified_Time"])
    since_cursor = [
        r for r in emulator.records(MODULES[stream]) if datetime.fromisoformat(r["Modified_Time"]) >= cursor
    ]
    read = second_run.summary[stream]["records_read"]
    assert changed <= read <= len(since_cursor) + len(changes[stream]["deleted"]), (stream, read, changed)
    assert read < first_run.summary[stream]["records_read"]


def test_second_run_asks_zoho_for_far_fewer_records(first_run: EltRun, second_run: EltRun) -> None:
    users = len(first_run.tables["users"])  # full refresh: read whole both times
    assert second_run.records_served - users < (first_run.records_served - users) / 2
    assert second_run.tables["users"] == first_run.tables["users"]


def test_runs_share_one_access_token(first_run: EltRun, second_run: EltRun) -> None:
    # The first run starts three connector processes (discover, two reads): one token between them.
    assert (first_run.token_grants, second_run.token_grants) == (1, 0)
