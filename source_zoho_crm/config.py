"""The connector's configuration: parsed and validated once, then passed around frozen.

``parse_config`` turns the raw Airbyte config into a ``ZohoConfig`` or raises ``ConfigError``
naming the offending key and what to do. Secrets never appear in a ``ZohoConfig`` repr nor in
any error message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_crm.datetimes import START_DATETIME_FORMS, parse_start_datetime
from source_zoho_crm.settings import DEFAULT_BULK_READ_THRESHOLD

__all__ = [
    "DC_REGIONS",
    "EDITION_CONCURRENCY",
    "ENVIRONMENTS",
    "ConfigError",
    "ZohoConfig",
    "accounts_url_for",
    "api_url_for",
    "concurrency_for_edition",
    "parse_config",
]

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
}
DC_REGIONS: tuple[str, ...] = tuple(_ACCOUNTS_URLS)

# Accepted spellings (lower-cased) -> canonical; includes the official connector's US, AU, CN...
_DC_ALIASES: dict[str, str] = {
    **{dc: dc for dc in DC_REGIONS},
    "us": "com",
    "au": "com.au",
    "cn": "com.cn",
}
_DC_ACCEPTED = "com (alias US), eu, in, com.au (alias AU), com.cn (alias CN), jp, ca, sa"

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
MAX_CONCURRENT_REQUESTS = 25


def _edition_key(name: str) -> str:
    return "".join(name.split()).replace("_", "").replace("-", "").lower()


_EDITION_LOOKUP: dict[str, int] = {_edition_key(k): v for k, v in EDITION_CONCURRENCY.items()}

_HOW_TO_GET_CREDENTIALS = (
    "generate a refresh token with the Self Client in the Zoho API console "
    "(https://api-console.zoho.com, or the console of your data centre), or run zoho-crm-auth"
)
_SECRET_KEYS = ("client_secret", "refresh_token", "access_token")
_MIN_REDACTED_LENGTH = 4
_MAX_SHOWN = 80
_DIGITS = re.compile(r"\+?[0-9]{1,6}")
_LONG_DIGITS = re.compile(r"\+?[0-9]{1,12}")


class ConfigError(AirbyteTracedException, ValueError):
    """An invalid config value; ``field`` is the config key, the message says what to do.

    A traced ``config_error``: wherever it escapes (check, discover, read), Airbyte shows the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(internal_message=message, message=message, failure_type=FailureType.config_error)
        self.field = field

    def __str__(self) -> str:
        return self.message or ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.message))


def _error(key: str, detail: str) -> ConfigError:
    return ConfigError(key, f"Config field '{key}': {detail}")


def _secret_candidates(raw: Mapping[str, Any] | None) -> list[str]:
    """The secret strings of a raw config, as given and stripped (too-short ones skipped)."""
    found: list[str] = []
    for key in _SECRET_KEYS:
        secret = raw.get(key) if raw is not None else None
        if isinstance(secret, str):
            found.extend(s for s in {secret, secret.strip()} if len(s) >= _MIN_REDACTED_LENGTH)
    return found


def _show(value: object, raw: Mapping[str, Any] | None = None) -> str:
    """repr() of an offending value for a message: shortened, and hidden if it holds a secret."""
    text = repr(value)
    plain = value if isinstance(value, str) else text
    if any(secret in plain or secret in text for secret in _secret_candidates(raw)):
        return "the value (hidden: it contains a secret)"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _mask_client_id(client_id: str) -> str:
    return client_id[:6] + "..." if len(client_id) > 12 else "***"


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

    def __repr__(self) -> str:
        start = self.start_datetime.isoformat() if self.start_datetime else None
        return (
            f"ZohoConfig(client_id={_mask_client_id(self.client_id)!r}, client_secret='***', "
            f"refresh_token='***', access_token={'***' if self.access_token else None!r}, "
            f"dc_region={self.dc_region!r}, environment={self.environment!r}, "
            f"start_datetime={start!r}, modules={self.modules!r}, "
            f"max_concurrent_requests={self.max_concurrent_requests!r}, "
            f"accounts_url={self.accounts_url!r}, api_url={self.api_url!r}, "
            f"include_deleted={self.include_deleted!r}, bulk_read_threshold={self.bulk_read_threshold!r}, "
            f"api_credit_budget={self.api_credit_budget!r})"
        )

    def secret_values(self) -> tuple[str, ...]:
        """The secret strings, for log filters that must mask them."""
        return tuple(s for s in (self.client_secret, self.refresh_token, self.access_token) if s)


# --- data centres, environments, editions ---------------------------------------------------------


def _normalize_dc(value: Any, raw: Mapping[str, Any] | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "com"
    if isinstance(value, str):
        dc = _DC_ALIASES.get(value.strip().lower())
        if dc is not None:
            return dc
    raise _error("dc_region", f"{_show(value, raw)} is not a Zoho data centre; use one of {_DC_ACCEPTED}")


def _normalize_environment(value: Any, raw: Mapping[str, Any] | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "production"
    if isinstance(value, str) and value.strip().lower() in _API_HOST_PREFIX:
        return value.strip().lower()
    raise _error(
        "environment",
        f"{_show(value, raw)} is not a Zoho environment; use one of production, sandbox, developer "
        "(the refresh token must come from the same environment)",
    )


def accounts_url_for(dc_region: str) -> str:
    """The OAuth accounts server of a data centre (canonical name or alias)."""
    return _ACCOUNTS_URLS[_normalize_dc(dc_region)]


def api_url_for(dc_region: str, environment: str) -> str:
    """The API domain of a data centre and environment, e.g. ``https://sandbox.zohoapis.eu``."""
    prefix = _API_HOST_PREFIX[_normalize_environment(environment)]
    return f"https://{prefix}.zohoapis.{_normalize_dc(dc_region)}"


def concurrency_for_edition(paid_type: str | None) -> int:
    """Zoho's concurrent request limit for an edition (``org.license_details.paid_type``); unknown → 5."""
    if not isinstance(paid_type, str):
        return _DEFAULT_CONCURRENCY
    return _EDITION_LOOKUP.get(_edition_key(paid_type), _DEFAULT_CONCURRENCY)


# --- field parsers --------------------------------------------------------------------------------


def _required_secret(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _error(key, f"is required; {_HOW_TO_GET_CREDENTIALS}")
    if not isinstance(value, str):
        raise _error(key, f"must be a string, got {type(value).__name__}; {_HOW_TO_GET_CREDENTIALS}")
    return value.strip()


def _optional_access_token(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("access_token")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _error("access_token", f"must be a string, got {type(value).__name__}; or leave it empty")
    return value.strip()


def _start_datetime(raw: Mapping[str, Any]) -> datetime | None:
    value = raw.get("start_datetime")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_start_datetime(value)
    except ValueError:
        raise _error(
            "start_datetime",
            f"{_show(value, raw)} is not a valid datetime; accepted forms: {START_DATETIME_FORMS}",
        ) from None


def _modules(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
    value = raw.get("modules")
    usage = 'a list of module API names such as ["Leads", "Contacts"], or a comma-separated string'
    if value is None:
        return None
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise _error(
                    "modules", f"item {index} is {_show(item, raw)}, not a module API name; expected {usage}"
                )
            items.append(item.strip())
    else:
        raise _error("modules", f"expected {usage}, got {type(value).__name__}")
    return tuple(dict.fromkeys(items)) or None


def _max_concurrent_requests(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("max_concurrent_requests")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not 1 <= number <= MAX_CONCURRENT_REQUESTS:
        raise _error(
            "max_concurrent_requests",
            f"{_show(value, raw)} is not an integer from 1 to {MAX_CONCURRENT_REQUESTS}; "
            "leave it empty to use the limit of the org's Zoho edition",
        )
    return number


def _base_url(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    expected = "expected http(s)://host[:port][/path], or leave it empty for the data centre's default"
    if not isinstance(value, str):
        raise _error(key, f"must be a string, got {type(value).__name__}; {expected}")
    url = value.strip().rstrip("/")
    # A URL with user:password@ must not be echoed back.
    shown = _show(value, raw) if "@" not in value else "the value (hidden: it holds credentials)"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise _error(key, f"{shown} is not a valid URL; {expected}") from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or not port_ok
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
        or any(ch.isspace() or ord(ch) < 32 for ch in url)
    ):
        raise _error(key, f"{shown} is not a valid URL; {expected}")
    return url


def _include_deleted(raw: Mapping[str, Any]) -> bool:
    value = raw.get("include_deleted")
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _error("include_deleted", f"{_show(value, raw)} is not a boolean; use true or false")


def _whole_number(raw: Mapping[str, Any], key: str, minimum: int, usage: str) -> int | None:
    """An integer >= `minimum` (also as a whole float or a digit string), None when empty."""
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _LONG_DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or number < minimum:
        raise _error(key, f"{_show(value, raw)} is not an integer of at least {minimum}; {usage}")
    return number


def _bulk_read_threshold(raw: Mapping[str, Any]) -> int:
    usage = (
        f"it is the record count from which first syncs use Bulk Read "
        f"(default {DEFAULT_BULK_READ_THRESHOLD}; "
        "0 turns Bulk Read off)"
    )
    number = _whole_number(raw, "bulk_read_threshold", 0, usage)
    return DEFAULT_BULK_READ_THRESHOLD if number is None else number


def _api_credit_budget(raw: Mapping[str, Any]) -> int | None:
    usage = "it is the number of Zoho API credits a sync may spend; leave it empty for no limit"
    return _whole_number(raw, "api_credit_budget", 1, usage)


# --- entry point ----------------------------------------------------------------------------------


def _redact(message: str, raw: Mapping[str, Any]) -> str:
    for secret in _secret_candidates(raw):
        message = message.replace(secret, "***").replace(repr(secret)[1:-1], "***")
    return message


def parse_config(raw: Mapping[str, Any]) -> ZohoConfig:
    """Validate the raw Airbyte config; raise ``ConfigError`` naming the first bad key.

    Unknown keys are ignored (the platform may add some).
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("config", f"The config must be a JSON object, got {type(raw).__name__}")
    try:
        client_id = _required_secret(raw, "client_id")
        client_secret = _required_secret(raw, "client_secret")
        refresh_token = _required_secret(raw, "refresh_token")
        access_token = _optional_access_token(raw)
        dc_region = _normalize_dc(raw.get("dc_region"), raw)
        environment = _normalize_environment(raw.get("environment"), raw)
        return ZohoConfig(
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            dc_region=dc_region,
            environment=environment,
            start_datetime=_start_datetime(raw),
            modules=_modules(raw),
            max_concurrent_requests=_max_concurrent_requests(raw),
            accounts_url=_base_url(raw, "accounts_url", accounts_url_for(dc_region)),
            api_url=_base_url(raw, "api_url", api_url_for(dc_region, environment)),
            include_deleted=_include_deleted(raw),
            bulk_read_threshold=_bulk_read_threshold(raw),
            api_credit_budget=_api_credit_budget(raw),
        )
    except ConfigError as error:
        # A secret pasted into the wrong field must not leak through the echoed value.
        raise ConfigError(error.field, _redact(error.message, raw)) from None
