"""Demo: check, discover, a full read and an incremental read, against the emulator or a real org.

bash scripts/demo.sh                      # starts the Zoho CRM emulator, needs no account
bash scripts/demo.sh --config secrets/config.json   # a real Zoho CRM org (read-only)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from zoho_crm_emulator import cli_runner
from zoho_crm_emulator.process import EmulatorProcess


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def summarise_read(run: cli_runner.CliRun, started: float) -> Counter:
    counts = Counter(r["stream"] for r in run.records)
    print(
        f"   {sum(counts.values()):,} records from {len(counts)} streams"
        f" in {time.monotonic() - started:.1f} s"
    )
    for warning in run.logs("WARN"):
        print(f"   warning: {warning}")
    for error in run.errors():
        print(f"   error: {error}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, help="connector config of a real Zoho CRM org")
    parser.add_argument(
        "--preset", default="realistic", help="emulator data preset (realistic, small, benchmark)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="emulator latency per API call")
    args = parser.parse_args()

    emulator = None if args.config else EmulatorProcess(preset=args.preset, latency_ms=args.latency_ms)
    config = json.loads(args.config.read_text()) if args.config else emulator.config  # type: ignore[union-attr]
    where = f"the Zoho CRM emulator at {emulator.url}" if emulator else f"the org of {args.config}"
    print(f"Zoho CRM source demo against {where}")
    total = time.monotonic()
    try:
        step("check")
        status = cli_runner.run("check", config).connection_status()
        print(f"   {status['status']} {status.get('message') or ''}")
        if status["status"] != "SUCCEEDED":
            return 1

        started = step("discover")
        catalog = cli_runner.run("discover", config).catalog()
        incremental = [s["name"] for s in catalog["streams"] if "incremental" in s["supported_sync_modes"]]
        print(
            f"   {len(catalog['streams'])} streams ({len(incremental)} incremental) "
            f"in {time.monotonic() - started:.1f} s"
        )
        configured = cli_runner.configured_catalog(catalog)

        started = step("full read (first sync)")
        first = cli_runner.run("read", config, configured)
        counts = summarise_read(first, started)
        state = first.final_state()

        if emulator:
            step("changes in the CRM: 5 Leads modified, 3 Contacts created, 2 Deals deleted")
            emulator.control("modules/Leads/modify", {"count": 5})
            emulator.control("modules/Contacts/create", {"count": 3})
            emulator.control("modules/Deals/delete", {"count": 2})

        started = step("incremental read (from the first sync's state)")
        second = cli_runner.run("read", config, configured, state)
        changed = summarise_read(second, started)

        print("\n== streams")
        print(f"   {'stream':<28}{'first sync':>12}{'incremental':>13}")
        for name in sorted(set(counts) | set(changed)):
            print(f"   {name:<28}{counts.get(name, 0):>12,}{changed.get(name, 0):>13,}")

        if emulator:
            stats = emulator.control("stats")
            by_endpoint = stats.get("requests_by_endpoint", {})
            print(
                f"\n== requests served by the emulator: {sum(by_endpoint.values()):,} "
                f"(token grants: {stats.get('token_grants')}, "
                f"peak concurrency: {stats.get('peak_concurrency')})"
            )
            for endpoint, count in sorted(by_endpoint.items(), key=lambda item: -item[1])[:8]:
                print(f"   {count:>6,}  {endpoint}")

        print("\n== final state (cursor per incremental stream, UTC)")
        for entry in second.final_state()[:12]:
            name = entry["stream"]["stream_descriptor"]["name"]
            print(f"   {name:<28}{json.dumps(entry['stream'].get('stream_state'))}")
        print(f"\nDone in {time.monotonic() - total:.1f} s.")
        return 0 if not first.errors() and not second.errors() else 1
    finally:
        if emulator:
            emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
