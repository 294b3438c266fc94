"""Request counters, the in-flight gauge behind the concurrency limit, and the recent-request log."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any

LOG_SIZE = 500


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.complex_in_flight = 0
        self.reset()

    def reset(self, token_grants: int = 0) -> None:
        """Zero the counters; `token_grants` is the token store's running total, the new baseline."""
        with self.lock:
            self.by_endpoint: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
            self.peak_concurrency = self.in_flight
            self.records_served = 0
            self.grants_base = token_grants
            self.rejected_concurrency = 0
            self.connections = 0

    def enter(self, complex_api: bool, limit: int, complex_limit: int) -> bool:
        """Count one API request in flight; False when it is over a concurrency limit (and not counted)."""
        with self.lock:
            self.in_flight += 1
            self.peak_concurrency = max(self.peak_concurrency, self.in_flight)
            over = self.in_flight > limit
            if complex_api:
                self.complex_in_flight += 1
                over = over or self.complex_in_flight > complex_limit
            if over:
                self.in_flight -= 1
                if complex_api:
                    self.complex_in_flight -= 1
                self.rejected_concurrency += 1
            return not over

    def leave(self, complex_api: bool) -> None:
        with self.lock:
            self.in_flight -= 1
            if complex_api:
                self.complex_in_flight -= 1

    def connection_opened(self) -> None:
        with self.lock:
            self.connections += 1

    def record(
        self,
        endpoint: str,
        method: str,
        path: str,
        query: dict[str, str],
        status: int,
        records: int,
        started: float,
        ims: str | None,
        fault: str | None = None,
    ) -> None:
        with self.lock:
            self.by_endpoint[endpoint] += 1
            self.by_status[str(status)] += 1
            self.records_served += records
            self.log.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": status,
                    "if_modified_since": ims,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "at": time.time(),
                    "fault": fault,
                }
            )

    def snapshot(self, token_grants: int) -> dict[str, Any]:
        with self.lock:
            return {
                "requests_by_endpoint": dict(self.by_endpoint),
                "requests_by_status": dict(self.by_status),
                "requests": list(self.log),
                "token_grants": token_grants - self.grants_base,
                "peak_concurrency": self.peak_concurrency,
                "in_flight": self.in_flight,
                "rejected_concurrency": self.rejected_concurrency,
                "records_served": self.records_served,
                "connections_opened": self.connections,
            }
