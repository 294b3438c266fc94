"""`python -m zoho_crm_emulator --port 8765 --seed 7 --preset realistic ...`

Prints one JSON line `{"url": ..., "config": {...}}` once listening, then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

import orjson

from .emulator import ZohoCrmEmulator
from .settings import EDITION_CONCURRENCY, PRESETS, STRICTNESS, EmulatorSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m zoho_crm_emulator",
        description="Zoho CRM accounts server and API v8 emulator on 127.0.0.1",
    )
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--preset", choices=PRESETS, default="realistic")
    p.add_argument("--bench-modules", type=int, default=8)
    p.add_argument("--bench-records", type=int, default=1800)
    p.add_argument("--bench-fields", type=int, default=40)
    p.add_argument("--edition", choices=sorted(EDITION_CONCURRENCY), default="Enterprise")
    p.add_argument("--concurrency-limit", type=int, default=None)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--rate-429", type=float, default=0.0)
    p.add_argument("--rate-5xx", type=float, default=0.0)
    p.add_argument("--rate-truncate", type=float, default=0.0)
    p.add_argument("--rate-drop", type=float, default=0.0)
    p.add_argument("--fault-seed", type=int, default=1)
    p.add_argument("--token-ttl", type=int, default=3600)
    p.add_argument("--token-throttle", type=int, default=10)
    p.add_argument("--strictness", choices=STRICTNESS, default="default", help="pessimistic: worst readings")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = EmulatorSettings(
        port=args.port,
        seed=args.seed,
        preset=args.preset,
        bench_modules=args.bench_modules,
        bench_records=args.bench_records,
        bench_fields=args.bench_fields,
        edition=args.edition,
        concurrency_limit=args.concurrency_limit,
        latency_ms=args.latency_ms,
        rate_429=args.rate_429,
        rate_5xx=args.rate_5xx,
        rate_truncate=args.rate_truncate,
        rate_drop=args.rate_drop,
        fault_seed=args.fault_seed,
        token_ttl=args.token_ttl,
        token_throttle=args.token_throttle,
        strictness=args.strictness,
    )
    emulator = ZohoCrmEmulator(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator.start()
    sys.stdout.write(orjson.dumps({"url": emulator.url, "config": emulator.config()}).decode() + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
