"""Benchmark: a full read of N modules x M records x F fields from the emulator, with added latency.

    .venv/bin/python scripts/benchmark.py                    # 8 x 1,800 x 40, 50 ms, limit 10
    .venv/bin/python scripts/benchmark.py --records 20000    # memory with a bigger module

Reports wall time, CPU seconds of the connector process, peak memory (RSS), and the API calls the
emulator served against the minimum (1 token, 1 modules, 1 fields per module, 1 per page per chunk).
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
from pathlib import Path

from zoho_crm_emulator import cli_runner
from zoho_crm_emulator.process import EmulatorProcess


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modules", type=int, default=8)
    parser.add_argument("--records", type=int, default=1800)
    parser.add_argument("--fields", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    emulator = EmulatorProcess(
        preset="benchmark",
        bench_modules=args.modules,
        bench_records=args.records,
        bench_fields=args.fields,
        latency_ms=args.latency_ms,
        concurrency_limit=args.concurrency,
    )
    try:
        url, config = emulator.url, {**emulator.config, "max_concurrent_requests": args.concurrency}
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
        records = sum(1 for line in read.stdout.splitlines() if line.startswith(b'{"type":"RECORD"'))
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        stats = emulator.control("stats")
        calls = sum(stats["requests_by_endpoint"].values())
        chunks = math.ceil(args.fields / 50)
        minimum = 1 + 1 + args.modules + args.modules * math.ceil(args.records / 200) * chunks
        print(f"modules x records x fields : {args.modules} x {args.records:,} x {args.fields}")
        print(f"latency / concurrency limit: {args.latency_ms} ms / {args.concurrency}")
        print(f"records read               : {records:,} (exit code {read.returncode})")
        print(f"wall time                  : {wall:.2f} s")
        per_10k = cpu / max(records, 1) * 10_000
        print(f"CPU time (connector)       : {cpu:.2f} s = {per_10k:.2f} s per 10,000 records")
        print(f"peak memory (largest child): {after.ru_maxrss / 1024:.0f} MB")
        peak = stats["peak_concurrency"]
        print(f"API calls                  : {calls} (minimum {minimum}); peak concurrency {peak}")
        for endpoint, count in sorted(stats["requests_by_endpoint"].items()):
            print(f"   {count:>6}  {endpoint}")
        return 0 if read.returncode == 0 and records == args.modules * args.records else 1
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
