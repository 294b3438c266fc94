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
STRICTNESS = ("default", "pessimistic")

# The pessimistic setting: every switch at its worst reading for a connector (README, "Switches").
# Applied by `strictness="pessimistic"` to the settings left at their default value.
PESSIMISTIC: dict[str, Any] = {
    "page_token_mode": "offset",
    "if_modified_since_inclusive": False,
    "ims_without_modified_time": "304",
    "line_item_module_reads": False,
    "subform_module_paging": "page_only",
    "subform_edits_touch_parent": False,
    "rich_text_cut_unit": "bytes",
    "restore_touches_modified_time": False,
    "restored_leave_deleted_log": False,
    "related_values_in_lists": False,
    "real_org_shapes": True,
    "deleted_retention_days": 60,
    "throttle_locale": "zh",
    "invalid_client_secret": True,
    "clock_offset_seconds": -600.0,
    "custom_views_max_per_page": 2,
    "token_scope_field": False,
    "attachments_touch_parent": False,
    "coql_max_columns": 50,
    "coql_listed_modules_only": True,
}

# Settings that only matter when the emulator is built; everything else may change at run time.
BUILD_ONLY = frozenset(
    {"port", "seed", "preset", "bench_modules", "bench_records", "bench_fields", "home_dc", "real_org_shapes"}
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
    # Documented (Zoho OAuth errors); off by default only while the connector is being fixed.
    invalid_client_secret: bool = False  # a wrong secret answers invalid_client_secret, not invalid_client
    throttle_locale: str = "en"  # "en" or "zh": the language of the token throttle's error_description
    token_scope_field: bool = True  # [U] the token response carries `scope` (Zoho Accounts' pages omit it)
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
    api_credits: int | None = None  # credits per rolling 24 h; None: the edition's allowance (credits.py)
    ims_without_modified_time: str = "ignore"  # [U] "ignore" the header, or "304" on modules without it
    line_item_module_reads: bool = True  # [U] GET /Quoted_Items etc. module-wide; False: INVALID_MODULE
    subform_module_paging: str = "full"  # [U] "full" (page_token, If-Modified-Since) or "page_only"
    attachments_touch_parent: bool = True  # [U] attaching a file changes the parent's Modified_Time
    subform_edits_touch_parent: bool = True  # [U] a line's change moves its parent's Modified_Time
    # [U] subform modules answer in id order whatever `sort_by` asks. Not in PESSIMISTIC: the connector
    # then reads every line each sync (and every parent past 2,000 lines); unit-tested, switch it on per test.
    subform_sort_ignored: bool = False
    # Documented by Zoho; off by default only while the connector is being fixed (README, "Switches").
    related_values_in_lists: bool = True  # False: subform/multi-lookup/line items only on GET /{m}/{id}
    real_org_shapes: bool = False  # Zoho's real module kinds (refused ones too) and field-metadata shapes
    custom_views_max_per_page: int = 200  # [U] the largest page /settings/custom_views serves
    rich_text_list_limit: int = 500  # rich-text values cut to this many characters in list GETs; 0 = whole
    rich_text_cut_unit: str = "characters"  # [U] what the 500 counts: "characters" or UTF-8 "bytes"
    # Zoho keeps 60 days; 0 keeps all, as the generated deletions lie in a fixed past window.
    deleted_retention_days: int = 0  # deleted entries older than this many days leave /{module}/deleted
    restore_touches_modified_time: bool = True  # [U] a record restored from the recycle bin is "modified"
    restored_leave_deleted_log: bool = True  # [U] its entry leaves /{module}/deleted (False: stays listed)
    clock_offset_seconds: float = 0.0  # Zoho's clock (Date header, "now") minus this machine's
    strictness: str = "default"  # "pessimistic": the PESSIMISTIC values for every setting left at default
    # COQL: columns per SELECT, 500 since v7 (Kaizen #183); [U] 50 as older overview pages still say
    coql_max_columns: int = 500
    # [U] True: COQL refuses modules its page does not list (system `__s`, linking, tracker modules...)
    coql_listed_modules_only: bool = False
    # bulk read
    bulk_page_size: int = 200000
    bulk_complete_after: float = 0.5  # seconds until a job is COMPLETED (or after two polls)
    # Benchmark only, not Zoho behaviour: Bulk Read and the count API serve this many records per module
    # (the real ones, then copies of them under new ids), so a 1,000,000-record backfill is measured
    # without the emulator holding it. 0 = off.
    bulk_virtual_records: int = 0
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
        choices = {
            "strictness": STRICTNESS,
            "ims_without_modified_time": ("ignore", "304"),
            "subform_module_paging": ("full", "page_only"),
            "throttle_locale": ("en", "zh"),
            "rich_text_cut_unit": ("characters", "bytes"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")
        if self.strictness == "pessimistic":
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            for name, worst in PESSIMISTIC.items():
                if getattr(self, name) == defaults[name]:
                    setattr(self, name, worst)

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
        built = {key: getattr(self, key) for key in BUILD_ONLY}
        for key, value in changes.items():
            setattr(self, key, value)
        self.__post_init__()
        for key, value in built.items():  # the org is built: the pessimistic setting cannot change these
            setattr(self, key, value)
