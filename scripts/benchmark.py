"""Benchmark: reads from the emulator (in a process of its own, with added latency) in named scenarios.

    .venv/bin/python scripts/benchmark.py                      # narrow: 8 x 1,800 x 40, 50 ms, limit 10
    .venv/bin/python scripts/benchmark.py --scenario wide      # 3 x 3,000 x 150, 300 ms, limit 10
    .venv/bin/python scripts/benchmark.py --scenario large     # 1 x 110,000 x 60 (past a 100,000 chain)
    .venv/bin/python scripts/benchmark.py --scenario backfill  # Bulk Read of 1 x 1,000,000 x 120
    .venv/bin/python scripts/benchmark.py --scenario all
    .venv/bin/python scripts/benchmark.py --records 20000      # narrow with other sizes

Each scenario reports the API calls the emulator served against the REST minimum, the API credits the
connector counted (COQL by LIMIT: 3 per 2,000 rows), wall time, CPU and
peak memory of the reading process; read scenarios also time `spec` three times right after the read
(the start-up) and print the wall target 1.5 x start-up + pages per module x latency.
narrow, wide and large run a full-refresh `read` of the module
streams through the connector's command line; the minimum is 1 token, 1 modules, 1 fields per
module, and 1 call per 200-record page per 50-field chunk. backfill runs a first incremental sync
of one 1,000,000 x 120 module through the command line, which Bulk Read backfills in job pages of
200,000: the emulator holds 2,000 records (about 1 s and 12 MB per 1,000 records to build) and serves
the million through Bulk Read and the count API (its benchmark-only `bulk_virtual_records`); the
same module over REST is computed.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from zoho_crm_emulator import cli_runner
from zoho_crm_emulator.process import EmulatorProcess


@dataclass(frozen=True)
class Scenario:
    modules: int
    records: int
    fields: int
    latency_ms: int
    concurrency: int = 10
    bulk_page_size: int = 0  # > 0: a Bulk Read backfill in job pages of this size
    real_records: int = 0  # > 0: records the emulator holds; Bulk Read serves `records` (benchmark only)


SCENARIOS = {
    "narrow": Scenario(8, 1800, 40, 50),
    "wide": Scenario(3, 3000, 150, 300),
    "large": Scenario(1, 110_000, 60, 20),
    "backfill": Scenario(1, 1_000_000, 120, 50, bulk_page_size=200_000, real_records=2_000),
}
PAGE = 200
CHUNK = 50
STARTUP_RUNS = 3
# Credits of a Bulk Read job page (credits.py: create 50 [U], one status poll, one download).
BULK_JOB_CREDITS = 50 + 1 + 1
BULK_JOB_PAGE = 200_000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="narrow")
    parser.add_argument("--modules", type=int)
    parser.add_argument("--records", type=int)
    parser.add_argument("--fields", type=int)
    parser.add_argument("--latency-ms", type=int)
    parser.add_argument("--concurrency", type=int)
    parser.add_argument("--bulk-page-size", type=int)
    parser.add_argument("--real-records", type=int)
    args = parser.parse_args()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    failures = 0
    for name in names:
        changes = {
            key: value
            for key in (
                "modules",
                "records",
                "fields",
                "latency_ms",
                "concurrency",
                "bulk_page_size",
                "real_records",
            )
            if (value := getattr(args, key)) is not None
        }
        scenario = replace(SCENARIOS[name], **changes)
        print(
            f"== {name}: {scenario.modules} x {scenario.records:,} x {scenario.fields}, "
            f"{scenario.latency_ms} ms, limit {scenario.concurrency}"
        )
        ok = run_backfill(scenario) if scenario.bulk_page_size else run_read(scenario)
        failures += 0 if ok else 1
    return 1 if failures else 0


def start_emulator(scenario: Scenario) -> EmulatorProcess:
    return EmulatorProcess(
        preset="benchmark",
        bench_modules=scenario.modules,
        bench_records=scenario.records,
        bench_fields=scenario.fields,
        latency_ms=scenario.latency_ms,
        concurrency_limit=scenario.concurrency,
    )


def stop(emulator: EmulatorProcess) -> None:
    """Stop the emulator; a large org can take longer than `stop()` waits to exit, then it is killed."""
    try:
        emulator.stop()
    except subprocess.TimeoutExpired:
        emulator.process.kill()
        emulator.process.wait(timeout=30)


def run_read(scenario: Scenario) -> bool:
    """A full-refresh read of every module stream through the connector's command line."""
    emulator = start_emulator(scenario)
    try:
        url, config = emulator.url, {**emulator.config, "max_concurrent_requests": scenario.concurrency}
        catalog = cli_runner.run("discover", config).catalog()
        # The module streams only (the deleted-records log is incremental too, but no module).
        modules = [
            s
            for s in catalog["streams"]
            if "incremental" in s["supported_sync_modes"] and s["name"] != "deleted_records"
        ]
        configured = cli_runner.configured_catalog({"streams": modules}, incremental=False)
        urllib.request.urlopen(
            urllib.request.Request(f"{url}/__emulator__/stats/reset", data=b"{}"), timeout=10
        )

        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "config.json").write_text(json.dumps(config))
            (Path(tmp) / "catalog.json").write_text(json.dumps(configured))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.monotonic()
            read = subprocess.run(
                [
                    *cli_runner.command(),
                    "read",
                    "--config",
                    f"{tmp}/config.json",
                    "--catalog",
                    f"{tmp}/catalog.json",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            wall = time.monotonic() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        startup = startup_seconds()
        records = sum(1 for line in read.stdout.splitlines() if line.startswith(b'{"type":"RECORD"'))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        stats = emulator.control("stats")
        calls = sum(stats["requests_by_endpoint"].values())
        chunks = math.ceil(scenario.fields / CHUNK)
        minimum = 1 + 1 + scenario.modules + scenario.modules * math.ceil(scenario.records / PAGE) * chunks
        expected = scenario.modules * scenario.records
        print(f"records read               : {records:,} of {expected:,} (exit code {read.returncode})")
        print(f"wall time                  : {wall:.2f} s")
        pages = math.ceil(scenario.records / PAGE)
        target = 1.5 * startup + pages * scenario.latency_ms / 1000
        verdict = "met" if wall <= target else "not met"
        print(
            f"start-up (spec, median of {STARTUP_RUNS}): {startup:.2f} s; wall target 1.5 x start-up + "
            f"{pages} pages x {scenario.latency_ms} ms = {target:.2f} s ({verdict})"
        )
        per_10k = cpu / max(records, 1) * 10_000
        print(f"CPU time (connector)       : {cpu:.2f} s = {per_10k:.2f} s per 10,000 records")
        print(f"peak memory (largest child): {after.ru_maxrss / 1024:.0f} MB")
        peak = stats["peak_concurrency"]
        print(
            f"API calls                  : {calls} (minimum {minimum}, {calls / minimum:.2f}x); "
            f"peak concurrency {peak}"
        )
        for endpoint, count in sorted(stats["requests_by_endpoint"].items()):
            print(f"   {count:>6}  {endpoint}")
        rest_floor = scenario.modules * math.ceil(scenario.records / PAGE) * chunks
        print(f"API credits                : {credits_line(read.stdout)}")
        print(f"   REST floor of the records: {rest_floor:,} credits (one per 200-record page per chunk)")
        for line in log_lines(read.stdout, "Reading module "):
            print(f"   {line}")
        return read.returncode == 0 and records == expected
    finally:
        stop(emulator)


def startup_seconds() -> float:
    """The connector's start-up (`spec`: Python and the CDK's imports), timed just after the read: the
    machine's speed drifts, so the wall target is set by the same machine at the same time."""
    times = []
    for _ in range(STARTUP_RUNS):
        began = time.monotonic()
        subprocess.run([*cli_runner.command(), "spec"], stdout=subprocess.DEVNULL, check=True)
        times.append(time.monotonic() - began)
    return sorted(times)[len(times) // 2]


def log_lines(stdout: bytes, prefix: str) -> list[str]:
    """The connector's log messages that start with `prefix`."""
    found = []
    for line in stdout.splitlines():
        if line.startswith(b'{"type":"LOG"'):
            message = json.loads(line)["log"]["message"]
            if message.startswith(prefix):
                found.append(message)
    return found


def credits_line(stdout: bytes) -> str:
    """The connector's own count of the credits the sync spent (credits.py), per stream."""
    lines = log_lines(stdout, "API credits used by this sync: ")
    return lines[-1].removeprefix("API credits used by this sync: ") if lines else "(not reported)"


def run_backfill(scenario: Scenario) -> bool:
    """A first incremental sync through the connector's command line that Bulk Read backfills: the
    emulator holds `real_records` and serves `records` through Bulk Read and the count API
    (`bulk_virtual_records`, benchmark only), so a 1,000,000-record module is measured end to end."""
    emulator = start_emulator(replace(scenario, records=scenario.real_records or scenario.records))
    try:
        emulator.control(
            "settings",
            {
                "bulk_page_size": scenario.bulk_page_size,
                "bulk_complete_after": 0,
                "bulk_virtual_records": scenario.records if scenario.real_records else 0,
            },
        )
        config = {
            **emulator.config,
            "max_concurrent_requests": scenario.concurrency,
            "bulk_read_threshold": min(scenario.records, 200_000),
        }
        catalog = cli_runner.run("discover", config).catalog()
        modules = [s for s in catalog["streams"] if s["name"] == "leads"]
        configured = cli_runner.configured_catalog({"streams": modules}, incremental=True)
        emulator.control("stats/reset", {})
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "config.json").write_text(json.dumps(config))
            (Path(tmp) / "catalog.json").write_text(json.dumps(configured))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            began = time.monotonic()
            command = [*cli_runner.command(), "read", "--config", f"{tmp}/config.json"]
            read = subprocess.Popen(
                [*command, "--catalog", f"{tmp}/catalog.json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            records, summary = 0, ""
            assert read.stdout is not None
            for line in read.stdout:  # streamed: a million records are never held here
                if line.startswith(b'{"type":"RECORD"'):
                    records += 1
                elif b"API credits used by this sync" in line:
                    summary = json.loads(line)["log"]["message"]
            returncode = read.wait()
            wall = time.monotonic() - began
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        stats = emulator.control("stats")
        calls = sum(stats["requests_by_endpoint"].values())
        jobs = math.ceil(scenario.records / scenario.bulk_page_size)
        print(
            f"records read               : {records:,} of {scenario.records:,} (exit code {returncode}) "
            f"in {jobs} Bulk Read job pages of {scenario.bulk_page_size:,}"
        )
        print(f"wall time                  : {wall:.1f} s ({records / max(wall, 1e-9):,.0f} records/s)")
        print(f"CPU time (connector)       : {cpu:.1f} s = {cpu / max(records, 1) * 10_000:.2f} s per 10,000")
        print(f"peak memory (largest child): {after.ru_maxrss / 1024:.0f} MB")
        print(f"API calls                  : {calls}; {summary or 'no credit summary line'}")
        for endpoint, count in sorted(stats["requests_by_endpoint"].items()):
            print(f"   {count:>6}  {endpoint}")
        chunks = math.ceil(scenario.fields / CHUNK)
        rest = math.ceil(scenario.records / PAGE) * chunks
        print(
            f"same module over REST      : >= {rest:,} credits and calls (one per 200-record page per "
            f"50-field chunk); Bulk Read: {jobs * BULK_JOB_CREDITS:,} credits by the connector's table"
        )
        return returncode == 0 and records == scenario.records
    finally:
        stop(emulator)


if __name__ == "__main__":
    sys.exit(main())
