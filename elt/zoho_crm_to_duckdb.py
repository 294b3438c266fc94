#!/usr/bin/env python3
"""Sync a Zoho CRM org into a local DuckDB file with PyAirbyte, incrementally. Made to run from cron or a
systemd timer: every run reads only what changed since the last one (PyAirbyte keeps the connector's state
in the DuckDB file itself, table `_airbyte_state`) and applies deletions.

    python elt/zoho_crm_to_duckdb.py --config config.json --db zoho.duckdb [--streams leads,contacts]
    python elt/zoho_crm_to_duckdb.py --emulator --db demo.duckdb      # a throwaway Zoho CRM emulator

What one run does:
1. Streams that support incremental sync (every CRM module, on `Modified_Time`) are read incrementally and
   merged into their table on the primary key `id`. Full-refresh-only streams (users, roles, org, ...) are
   read whole and replace their table, so users or roles removed in Zoho disappear here too.
2. Deletions: the connector reports a record deleted since the last sync as a tombstone
   `{"id": ..., "_ab_cdc_deleted_at": ...}`. PyAirbyte's DuckDB cache does not act on it (its merge just
   overwrites the row with the tombstone's nulls), so this script deletes every row whose
   `_ab_cdc_deleted_at` is set, after the sync. It also drops duplicate ids that one batch may leave
   (PyAirbyte does not deduplicate a batch before merging), keeping the newest.
3. Prints, per stream, the records read, the deletions applied and the rows now in the table (`--json`: one
   JSON object on the last line instead).

Only PyAirbyte's public API is used (`get_source`, `DuckDBCache`, `Source.read`, `run_sql_query`, ...), so
date-time columns are PyAirbyte's plain TIMESTAMP: Zoho's org-local wall-clock time, the offset dropped (see
elt/README.md, "Known limits"). The connector keeps its access token between runs in its token cache
(`ZOHO_CRM_TOKEN_CACHE_DIR`, default ~/.cache/source-zoho-crm), so a run within the token's hour asks Zoho for
no new token.

PyAirbyte runs the connector as a subprocess: the `source-zoho-crm` executable beside this Python (the same
venv), else the one on PATH, else `--connector PATH` (e.g. when PyAirbyte lives in a venv of its own). It runs
offline: no connector registry look-ups, no telemetry. Needs `pip install -e ".[elt]"` (Python < 3.13).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# PyAirbyte reads these when it is imported (only inside the functions below, so always after this):
# no connector registry look-ups, no telemetry.
os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
# Google's client libraries (PyAirbyte's BigQuery cache) warn about Python versions on every import.
warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)

if TYPE_CHECKING:
    from airbyte.caches import DuckDBCache

SOURCE_NAME = "source-zoho-crm"
DELETED_AT = "_ab_cdc_deleted_at"
EXTRACTED_AT = "_airbyte_extracted_at"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StreamSummary:
    """What one run did to one stream's table."""

    stream: str
    mode: str  # "incremental" or "full_refresh"
    records_read: int  # rows this run wrote (see `records_loaded_since`)
    deleted: int  # rows removed because their `_ab_cdc_deleted_at` is set
    rows: int  # rows in the table after the run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="zoho_crm_to_duckdb.py",
        description="Sync Zoho CRM into a DuckDB file with PyAirbyte, incrementally (state is in the file).",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", type=Path, help="the connector's config.json (see `source-zoho-crm spec`)")
    where.add_argument("--emulator", action="store_true", help="demo: sync a throwaway Zoho CRM emulator")
    parser.add_argument("--db", type=Path, required=True, help="the DuckDB file (created on the first run)")
    parser.add_argument(
        "--streams", help="comma-separated stream names, e.g. leads,contacts (default: every stream)"
    )
    parser.add_argument(
        "--connector", help="path of the `source-zoho-crm` executable (default: beside this Python, or PATH)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    parser.add_argument(
        "--emulator-preset", default="small", help="the emulator's data preset with --emulator (small, ...)"
    )
    return parser.parse_args(argv)


def connector_executable(explicit: str | None = None) -> str:
    """The `source-zoho-crm` console script to run: explicit, else beside this Python, else on PATH."""
    if explicit:
        return str(Path(explicit).expanduser().absolute())
    beside = Path(sys.executable).with_name(SOURCE_NAME)
    if beside.exists():
        return str(beside)
    found = shutil.which(SOURCE_NAME)
    if not found:
        raise SystemExit(f"{SOURCE_NAME} is not installed here: pip install -e . (or pass --connector PATH)")
    return found


def open_cache(db: Path) -> DuckDBCache:
    """PyAirbyte's DuckDB cache on `db` (its public API: no processor or type-mapping overrides)."""
    from airbyte.caches import DuckDBCache

    db = db.expanduser().absolute()
    return DuckDBCache(db_path=db, schema_name="main", cache_dir=db.parent / f".{db.name}.airbyte")


def _columns(cache: DuckDBCache, table: str) -> set[str]:
    rows = cache.run_sql_query(
        f"SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = 'main' AND table_name = '{table}'"
    )
    return {str(row["column_name"]) for row in rows}


def _count(cache: DuckDBCache, sql: str) -> int:
    return int(next(iter(cache.run_sql_query(sql)[0].values())))


def _supports_incremental(stream: Any) -> bool:
    return any(getattr(mode, "value", mode) == "incremental" for mode in stream.supported_sync_modes)


def table_name(stream: str) -> str:
    """The stream's table: PyAirbyte lower-cases names and replaces other characters with `_`."""
    return re.sub(r"[^a-z0-9_]", "_", stream.lower())


def records_loaded_since(cache: DuckDBCache, table: str, started: datetime) -> int:
    """Rows this run wrote: PyAirbyte stamps each with the connector's emit time (`_airbyte_extracted_at`).

    Counted before duplicates and tombstoned rows are removed, so it is the number of records (tombstones
    included) the connector sent, less those merged over an id sent earlier in the same run.
    """
    if EXTRACTED_AT not in _columns(cache, table):
        return 0
    since = started.isoformat(sep=" ")
    return _count(cache, f"SELECT count(*) FROM main.\"{table}\" WHERE {EXTRACTED_AT} >= TIMESTAMP '{since}'")


def apply_deletions(cache: DuckDBCache, table: str) -> int:
    """Drop duplicate ids (keeping the newest), then every tombstoned row; the number of tombstoned rows."""
    columns = _columns(cache, table)
    if "id" in columns and EXTRACTED_AT in columns:
        cache.execute_sql(
            f"""DELETE FROM main."{table}" WHERE rowid IN (
                SELECT rowid FROM (
                    SELECT rowid, row_number() OVER (
                        PARTITION BY id ORDER BY {EXTRACTED_AT} DESC, rowid DESC) AS newest
                    FROM main."{table}")
                WHERE newest > 1)"""
        )
    if DELETED_AT not in columns:
        return 0
    tombstoned = _count(cache, f'SELECT count(*) FROM main."{table}" WHERE {DELETED_AT} IS NOT NULL')
    if tombstoned:
        cache.execute_sql(f'DELETE FROM main."{table}" WHERE {DELETED_AT} IS NOT NULL')
    return tombstoned


def sync(
    config: dict[str, Any], db: Path, streams: list[str] | None = None, connector: str | None = None
) -> list[StreamSummary]:
    """One incremental sync of `streams` (default: all) into `db`, deletions applied."""
    try:
        import airbyte as ab
    except ImportError as missing:
        hint = "pip install -e '.[elt]' (Python < 3.13)"
        raise SystemExit(f"PyAirbyte is not installed ({missing}): {hint}") from None

    source = ab.get_source(SOURCE_NAME, config=config, local_executable=connector_executable(connector))
    available = {stream.name: stream for stream in source.discovered_catalog.streams}
    chosen = streams or sorted(available)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise SystemExit(f"Unknown streams {unknown}; the org has: {', '.join(sorted(available))}")
    incremental = [s for s in chosen if _supports_incremental(available[s])]
    full_refresh = [s for s in chosen if s not in incremental]

    with open_cache(db) as cache:
        started = datetime.now(UTC).replace(tzinfo=None, microsecond=0)  # PyAirbyte stores naive UTC
        for names, full in ((incremental, False), (full_refresh, True)):
            if names:
                source.read(
                    cache,
                    streams=names,
                    write_strategy="replace" if full else "auto",
                    force_full_refresh=full,
                )
        tables = {
            str(row["table_name"])
            for row in cache.run_sql_query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            )
        }
        summaries = []
        for name in chosen:
            table = table_name(name)
            read = records_loaded_since(cache, table, started) if table in tables else 0
            deleted = apply_deletions(cache, table) if table in tables else 0
            rows = _count(cache, f'SELECT count(*) FROM main."{table}"') if table in tables else 0
            mode = "incremental" if name in incremental else "full_refresh"
            summaries.append(StreamSummary(name, mode, read, deleted, rows))
    return summaries


def print_summary(summaries: list[StreamSummary], as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"streams": [asdict(s) for s in summaries]}))
        return
    width = max([len("stream"), *(len(s.stream) for s in summaries)])
    print(f"{'stream':<{width}}  {'mode':<12}  {'read':>8}  {'deleted':>8}  {'rows':>10}")
    for s in summaries:
        print(f"{s.stream:<{width}}  {s.mode:<12}  {s.records_read:>8}  {s.deleted:>8}  {s.rows:>10}")


@contextmanager
def emulator_config(preset: str) -> Iterator[dict[str, Any]]:
    """A config for a fresh in-process Zoho CRM emulator (this repo's `zoho_crm_emulator` package)."""
    from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

    with ZohoCrmEmulator(EmulatorSettings(seed=5, preset=preset)) as emulator:
        print(f"Zoho CRM emulator at {emulator.url} (preset {preset})", file=sys.stderr)
        yield emulator.config()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    streams = [s.strip() for s in args.streams.split(",") if s.strip()] if args.streams else None
    try:
        if args.emulator:
            with emulator_config(args.emulator_preset) as config:
                summaries = sync(config, args.db, streams, args.connector)
        else:
            summaries = sync(json.loads(args.config.read_text()), args.db, streams, args.connector)
    except Exception as error:
        if not type(error).__module__.startswith("airbyte"):
            raise
        # PyAirbyte's errors name the connector's log file; the connector's own message is printed above.
        print(f"Sync failed: {error}", file=sys.stderr)
        return 1
    print_summary(summaries, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
