"""Demo: check, discover, a full read and an incremental read, against the emulator or a real org.

bash scripts/demo.sh                      # starts the Zoho CRM emulator, needs no account
bash scripts/demo.sh --config secrets/config.json   # a real Zoho CRM org (read-only)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from zoho_crm_emulator import cli_runner
from zoho_crm_emulator.process import EmulatorProcess

# Warnings the emulator provokes on purpose, to show how the connector copes with what real orgs do:
# (text the warning contains, why).
EMULATOR_QUIRKS = (
    (
        "Campaigns",
        "the emulator refuses Campaigns (403 NO_PERMISSION), as Zoho does when the user's profile may not"
        " read a module: the connector leaves it out and the sync goes on",
    ),
    (
        "unknown data_type",
        "the emulator gives Leads a field of a type the connector does not know: it is kept, typed as its"
        " json_type says",
    ),
)
# Changes made in the emulator between the two reads: (module, control action, count); skipped for a module
# the preset does not have.
CHANGES = (
    ("Leads", "modify", 5),
    ("Contacts", "create", 3),
    ("Deals", "delete", 2),
    ("Accounts", "delete", 2),
)
STATE_ROWS = 20  # incremental streams shown in the state table; the rest are counted


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def quirk(warning: str) -> str | None:
    """Why the emulator caused `warning` on purpose, or None when it is not one of its quirks."""
    return next((why for text, why in EMULATOR_QUIRKS if text in warning), None)


_explained: set[str] = set()  # quirks already explained: each once per demo


def summarise_read(run: cli_runner.CliRun, started: float, emulator: bool) -> Counter:
    counts = Counter(r["stream"] for r in run.records)
    print(
        f"   {sum(counts.values()):,} records from {len(counts)} streams"
        f" in {time.monotonic() - started:.1f} s"
    )
    for warning in run.logs("WARN"):
        why = quirk(warning) if emulator else None
        print(f"   warning{' (a deliberate emulator quirk)' if why else ''}: {warning}")
        if why and why not in _explained:
            _explained.add(why)
            print(f"      why: {why}")
    for error in run.errors():
        print(f"   error: {error}")
    return counts


def cursors(stream_state: dict[str, Any] | None) -> str:
    """A stream's cursor values, without the CDK's internal markers (`__ab_no_cursor_state_message`, ...)."""
    items = (stream_state or {}).items()
    shown = {
        k: v for k, v in sorted(items, key=lambda kv: kv[0] == "deleted_since") if not k.startswith("__ab_")
    }
    if not shown:
        return "(no cursor yet: no records read)"
    return ", ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in shown.items()
    )


def print_state(final_state: list[dict[str, Any]], incremental: list[str]) -> None:
    states = {e["stream"]["stream_descriptor"]["name"]: e["stream"].get("stream_state") for e in final_state}
    print(
        f"\n== state after the incremental read: the cursor of each incremental stream"
        f" ({len(incremental)}, UTC)"
    )
    width = max((len(name) for name in incremental), default=0) + 2
    for name in incremental[:STATE_ROWS]:
        print(f"   {name:<{width}}{cursors(states.get(name))}")
    if len(incremental) > STATE_ROWS:
        print(f"   ... and {len(incremental) - STATE_ROWS} more incremental streams")


def make_changes(emulator: EmulatorProcess, streams: set[str]) -> None:
    done = []
    for module, action, count in CHANGES:
        if module.lower() in streams and not (action == "delete" and any(a == "delete" for _, a, _ in done)):
            emulator.control(f"modules/{module}/{action}", {"count": count})
            done.append((module, action, count))
    past = {"modify": "modified", "create": "created", "delete": "deleted"}
    print("   " + ", ".join(f"{count} {module} {past[action]}" for module, action, count in done))


def print_next_steps(real_org: bool) -> None:
    print("\n== next steps (the commands are in .venv/bin; README.md has the details)")
    if not real_org:
        print(
            "   1. Your own org (read-only): a refresh token from a Self Client's grant code, then the demo\n"
            "      zoho-crm-auth self-client --client-id 1000.XXX --code 1000.yyy --dc-region eu "
            "-o secrets/config.json\n"
            "      bash scripts/demo.sh --config secrets/config.json"
        )
    print(
        "   2. Pick streams and sync modes for `read` (incremental where supported):\n"
        "      zoho-crm-catalog --config secrets/config.json --streams leads,contacts"
        " > configured_catalog.json\n"
        "      source-zoho-crm read --config secrets/config.json --catalog configured_catalog.json"
        " > out.jsonl\n"
        "   3. Scheduled incremental syncs into DuckDB (cron or a systemd timer), see elt/README.md:\n"
        '      .venv/bin/pip install -e ".[elt]"\n'
        "      .venv/bin/python elt/zoho_crm_to_duckdb.py --config secrets/config.json --db zoho.duckdb\n"
        "   Runs reuse their access token (kept in ~/.cache/source-zoho-crm), so repeated runs stay within\n"
        "   Zoho's limit of 10 new tokens per 10 minutes."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, help="connector config of a real Zoho CRM org")
    parser.add_argument(
        "--preset", default="realistic", help="emulator data preset (realistic, small, benchmark)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="emulator latency per API call")
    args = parser.parse_args(argv)

    emulator = None if args.config else EmulatorProcess(preset=args.preset, latency_ms=args.latency_ms)
    config = json.loads(args.config.read_text()) if args.config else emulator.config  # type: ignore[union-attr]
    where = f"the Zoho CRM emulator at {emulator.url}" if emulator else f"the org of {args.config}"
    print(f"Zoho CRM source demo against {where}")
    total = time.monotonic()
    # The emulator's credentials are new on every run: keep its token in a throwaway cache, not in ~/.cache.
    token_dir = tempfile.TemporaryDirectory(prefix="zoho-demo-tokens-") if emulator else None
    env = {"ZOHO_CRM_TOKEN_CACHE_DIR": token_dir.name} if token_dir else None
    try:
        step("check")
        status = cli_runner.run("check", config, env=env).connection_status()
        print(f"   {status['status']} {status.get('message') or ''}")
        if status["status"] != "SUCCEEDED":
            return 1

        started = step("discover")
        catalog = cli_runner.run("discover", config, env=env).catalog()
        incremental = sorted(
            s["name"] for s in catalog["streams"] if "incremental" in s["supported_sync_modes"]
        )
        print(
            f"   {len(catalog['streams'])} streams ({len(incremental)} incremental) "
            f"in {time.monotonic() - started:.1f} s"
        )
        configured = cli_runner.configured_catalog(catalog)

        started = step("full read (first sync)")
        first = cli_runner.run("read", config, configured, env=env)
        counts = summarise_read(first, started, emulator is not None)

        if emulator:
            step("changes in the CRM")
            make_changes(emulator, {s["name"] for s in catalog["streams"]})

        started = step("incremental read (from the first sync's state)")
        second = cli_runner.run("read", config, configured, first.final_state(), env=env)
        changed = summarise_read(second, started, emulator is not None)

        print("\n== streams")
        names = sorted(set(counts) | set(changed))
        width = max(len(name) for name in ["stream", *names]) + 2
        print(f"   {'stream':<{width}}{'first sync':>12}{'incremental':>13}")
        for name in names:
            print(f"   {name:<{width}}{counts.get(name, 0):>12,}{changed.get(name, 0):>13,}")

        if emulator:
            stats = emulator.control("stats")
            by_endpoint = stats.get("requests_by_endpoint", {})
            print(
                f"\n== requests served by the emulator: {sum(by_endpoint.values()):,} "
                f"(access tokens issued for the 4 runs: {stats.get('token_grants')}, "
                f"peak concurrency: {stats.get('peak_concurrency')})"
            )
            for endpoint, count in sorted(by_endpoint.items(), key=lambda item: -item[1])[:8]:
                print(f"   {count:>6,}  {endpoint}")

        print_state(second.final_state(), incremental)
        print_next_steps(real_org=emulator is None)
        print(f"\nDone in {time.monotonic() - total:.1f} s.")
        return 0 if not first.errors() and not second.errors() else 1
    finally:
        if emulator:
            emulator.stop()
        if token_dir:
            token_dir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
