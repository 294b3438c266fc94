"""Emulator settings: data preset, edition limits, and the switches for uncertain ([U]) Zoho behaviours."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Concurrent API requests per app per org, by edition.
EDITION_CONCURRENCY = {
    "Free": 5,
    "Standard": 10,
    "Professional": 15,
    "Enterprise": 20,
    "ZohoOne": 20,
    "Ultimate": 25,
}

PRESETS = ("realistic", "small", "benchmark")

# Settings that only matter when the emulator is built; everything else may change at run time.
BUILD_ONLY = frozenset(
    {"port", "seed", "preset", "bench_modules", "bench_records", "bench_fields", "home_dc"}
)


@dataclass
class EmulatorSettings:
    # server and data
    port: int = 0
    seed: int = 1
    preset: str = "realistic"
    bench_modules: int = 8
    bench_records: int = 1800
    bench_fields: int = 40
    edition: str = "Enterprise"
    concurrency_limit: int | None = None
    complex_concurrency_limit: int = 10  # bulk and COQL sub-concurrency
    org_offset: str = "+05:30"
    home_dc: str = "com"
    territories_enabled: bool = True
    # OAuth
    token_ttl: int = 3600
    token_throttle: int = 10  # access tokens per refresh token per 600 s; 0 disables
    throttle_status: int = 200  # [U] 200 or 400
    max_live_access_tokens: int = 15  # the 16th kills the oldest; 0 disables
    max_refresh_tokens: int = 20  # per client; the 21st deletes the oldest; 0 disables
    accept_bearer: bool = True  # [U] "Authorization: Bearer <t>" accepted besides Zoho-oauthtoken
    # records
    page_token_ttl: int = 86400  # [U] about 24 h
    page_token_chain_limit: int = 100000
    page_token_mode: str = "keyset"  # [U] "keyset" (stable under modification) or "offset" (live offset)
    discrete_page_limit: int = 2000
    ids_limit: int = 100  # [U]
    if_modified_since_inclusive: bool = True  # [U]
    default_sort_order: str = "desc"  # [U] default sort is by id
    unknown_field_mode: str = "error"  # [U] "error" (400 INVALID_DATA) or "ignore" unknown names in `fields`
    retry_after: int | None = None  # [U] seconds for a Retry-After header on 429; None = no header
    # bulk read
    bulk_page_size: int = 200000
    bulk_complete_after: float = 0.5  # seconds until a job is COMPLETED (or after two polls)
    # faults (API calls only)
    latency_ms: int = 0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_truncate: float = 0.0
    rate_drop: float = 0.0
    fault_seed: int = 1

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; expected one of {PRESETS}")
        if self.edition not in EDITION_CONCURRENCY:
            raise ValueError(
                f"unknown edition {self.edition!r}; expected one of {sorted(EDITION_CONCURRENCY)}"
            )
        if self.page_token_mode not in ("keyset", "offset"):
            raise ValueError("page_token_mode must be 'keyset' or 'offset'")
        if self.default_sort_order not in ("asc", "desc"):
            raise ValueError("default_sort_order must be 'asc' or 'desc'")

    @property
    def effective_concurrency_limit(self) -> int:
        if self.concurrency_limit is not None:
            return self.concurrency_limit
        return EDITION_CONCURRENCY[self.edition]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply run-time changes; unknown or build-only names raise ValueError."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise ValueError(f"unknown setting {key!r}")
            if key in BUILD_ONLY:
                raise ValueError(f"setting {key!r} can only be given when the emulator is built")
        for key, value in changes.items():
            setattr(self, key, value)
        self.__post_init__()
