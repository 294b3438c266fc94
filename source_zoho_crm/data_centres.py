"""Zoho's data centres, environments and editions: where the OAuth and API servers are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from source_zoho_crm.config_values import field_error, shown

# Canonical data centre -> accounts server (OAuth). The API top-level domain is the key.
_ACCOUNTS_URLS: dict[str, str] = {
    "com": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "com.au": "https://accounts.zoho.com.au",
    "com.cn": "https://accounts.zoho.com.cn",
    "jp": "https://accounts.zoho.jp",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
    # Zoho Accounts' multi-DC page and /oauth/serverinfo list UK; its CRM API domain www.zohoapis.uk is
    # not on Zoho CRM's pages [U]: the token's `api_domain` is used anyway.
    "uk": "https://accounts.zoho.uk",
}
DC_REGIONS: tuple[str, ...] = tuple(_ACCOUNTS_URLS)

# Accepted spellings (lower-cased) -> canonical; includes the official connector's US, AU, CN...
_DC_ALIASES: dict[str, str] = {
    **{dc: dc for dc in DC_REGIONS},
    "us": "com",
    "au": "com.au",
    "cn": "com.cn",
}
_DC_ACCEPTED = "com (alias US), eu, in, com.au (alias AU), com.cn (alias CN), jp, ca, sa, uk"

_API_HOST_PREFIX: dict[str, str] = {"production": "www", "sandbox": "sandbox", "developer": "developer"}
ENVIRONMENTS: tuple[str, ...] = tuple(_API_HOST_PREFIX)

EDITION_CONCURRENCY: dict[str, int] = {
    "Free": 5,
    "Standard": 10,
    "Professional": 15,
    "Enterprise": 20,
    "ZohoOne": 20,
    "Zoho One": 20,
    "Ultimate": 25,
}
_DEFAULT_CONCURRENCY = 5


def _edition_key(name: str) -> str:
    return "".join(name.split()).replace("_", "").replace("-", "").lower()


_EDITION_LOOKUP: dict[str, int] = {_edition_key(k): v for k, v in EDITION_CONCURRENCY.items()}


def normalize_dc(value: Any, raw: Mapping[str, Any] | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "com"
    if isinstance(value, str):
        dc = _DC_ALIASES.get(value.strip().lower())
        if dc is not None:
            return dc
    raise field_error(
        "dc_region", f"{shown(value, raw)} is not a Zoho data centre; use one of {_DC_ACCEPTED}"
    )


def normalize_environment(value: Any, raw: Mapping[str, Any] | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "production"
    if isinstance(value, str) and value.strip().lower() in _API_HOST_PREFIX:
        return value.strip().lower()
    raise field_error(
        "environment",
        f"{shown(value, raw)} is not a Zoho environment; use one of production, sandbox, developer "
        "(the refresh token must come from the same environment)",
    )


def accounts_url_for(dc_region: str) -> str:
    """The OAuth accounts server of a data centre (canonical name or alias)."""
    return _ACCOUNTS_URLS[normalize_dc(dc_region)]


def api_url_for(dc_region: str, environment: str) -> str:
    """The API domain of a data centre and environment, e.g. ``https://sandbox.zohoapis.eu``."""
    prefix = _API_HOST_PREFIX[normalize_environment(environment)]
    return f"https://{prefix}.zohoapis.{normalize_dc(dc_region)}"


def concurrency_for_edition(paid_type: str | None) -> int:
    """Zoho's concurrent request limit for an edition (``org.license_details.paid_type``); unknown → 5."""
    if not isinstance(paid_type, str):
        return _DEFAULT_CONCURRENCY
    return _EDITION_LOOKUP.get(_edition_key(paid_type), _DEFAULT_CONCURRENCY)


# --- field parsers --------------------------------------------------------------------------------
