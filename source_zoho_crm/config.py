"""The connector's configuration: parsed and validated once, then passed around frozen.

``parse_config`` turns the raw Airbyte config into a ``ZohoConfig`` or raises ``ConfigError``
naming the offending key and what to do. Secrets never appear in a ``ZohoConfig`` repr nor in
any error message. How each value is read lives in ``config_values``; data centres in
``data_centres``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from source_zoho_crm import config_values as values
from source_zoho_crm.config_values import MAX_CONCURRENT_REQUESTS, ConfigError, mask_client_id
from source_zoho_crm.data_centres import (
    DC_REGIONS,
    EDITION_CONCURRENCY,
    ENVIRONMENTS,
    accounts_url_for,
    api_url_for,
    concurrency_for_edition,
    normalize_dc,
    normalize_environment,
)
from source_zoho_crm.settings import DEFAULT_BULK_READ_THRESHOLD

__all__ = [
    "DC_REGIONS",
    "EDITION_CONCURRENCY",
    "ENVIRONMENTS",
    "MAX_CONCURRENT_REQUESTS",
    "ConfigError",
    "ZohoConfig",
    "accounts_url_for",
    "api_url_for",
    "concurrency_for_edition",
    "parse_config",
]


@dataclass(frozen=True, repr=False)
class ZohoConfig:
    """Validated connector config; datetimes are aware UTC, URLs have no trailing slash."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token: str | None = field(repr=False)
    dc_region: str
    environment: str
    start_datetime: datetime | None
    modules: tuple[str, ...] | None
    max_concurrent_requests: int | None
    accounts_url: str
    api_url: str
    include_deleted: bool = True
    bulk_read_threshold: int = DEFAULT_BULK_READ_THRESHOLD
    api_credit_budget: int | None = None
    formula_refresh_days: int = 0
    per_record_streams: tuple[str, ...] = ()

    def __repr__(self) -> str:
        start = self.start_datetime.isoformat() if self.start_datetime else None
        return (
            f"ZohoConfig(client_id={mask_client_id(self.client_id)!r}, client_secret='***', "
            f"refresh_token='***', access_token={'***' if self.access_token else None!r}, "
            f"dc_region={self.dc_region!r}, environment={self.environment!r}, "
            f"start_datetime={start!r}, modules={self.modules!r}, "
            f"max_concurrent_requests={self.max_concurrent_requests!r}, "
            f"accounts_url={self.accounts_url!r}, api_url={self.api_url!r}, "
            f"include_deleted={self.include_deleted!r}, bulk_read_threshold={self.bulk_read_threshold!r}, "
            f"api_credit_budget={self.api_credit_budget!r}, "
            f"formula_refresh_days={self.formula_refresh_days!r}, "
            f"per_record_streams={self.per_record_streams!r})"
        )

    def secret_values(self) -> tuple[str, ...]:
        """The secret strings, for log filters that must mask them."""
        return tuple(s for s in (self.client_secret, self.refresh_token, self.access_token) if s)


def parse_config(raw: Mapping[str, Any]) -> ZohoConfig:
    """Validate the raw Airbyte config; raise ``ConfigError`` naming the first bad key.

    Unknown keys are ignored (the platform may add some).
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("config", f"The config must be a JSON object, got {type(raw).__name__}")
    try:
        client_id = values.required_secret(raw, "client_id")
        client_secret = values.required_secret(raw, "client_secret")
        refresh_token = values.required_secret(raw, "refresh_token")
        access_token = values.optional_access_token(raw)
        dc_region = normalize_dc(raw.get("dc_region"), raw)
        environment = normalize_environment(raw.get("environment"), raw)
        return ZohoConfig(
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            dc_region=dc_region,
            environment=environment,
            start_datetime=values.start_datetime(raw),
            modules=values.modules(raw),
            max_concurrent_requests=values.max_concurrent_requests(raw),
            accounts_url=values.base_url(raw, "accounts_url", accounts_url_for(dc_region)),
            api_url=values.base_url(raw, "api_url", api_url_for(dc_region, environment)),
            include_deleted=values.include_deleted(raw),
            bulk_read_threshold=values.bulk_read_threshold(raw),
            api_credit_budget=values.api_credit_budget(raw),
            formula_refresh_days=values.formula_refresh_days(raw),
            per_record_streams=values.per_record_streams(raw),
        )
    except ConfigError as error:
        # A secret pasted into the wrong field must not leak through the echoed value.
        raise ConfigError(error.field, values.redact(error.message, raw)) from None
