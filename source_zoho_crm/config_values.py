"""How each raw config value is read: the per-field parsers and their error messages.

Every message names the config key and what to do; a value holding a secret is never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_crm.datetimes import START_DATETIME_FORMS, parse_start_datetime
from source_zoho_crm.related_specs import accepted_names_text, parent_stream_of
from source_zoho_crm.settings import DEFAULT_BULK_READ_THRESHOLD

MAX_CONCURRENT_REQUESTS = 25

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


def field_error(key: str, detail: str) -> ConfigError:
    return ConfigError(key, f"Config field '{key}': {detail}")


def _secret_candidates(raw: Mapping[str, Any] | None) -> list[str]:
    """The secret strings of a raw config, as given and stripped (too-short ones skipped)."""
    found: list[str] = []
    for key in _SECRET_KEYS:
        secret = raw.get(key) if raw is not None else None
        if isinstance(secret, str):
            found.extend(s for s in {secret, secret.strip()} if len(s) >= _MIN_REDACTED_LENGTH)
    return found


def shown(value: object, raw: Mapping[str, Any] | None = None) -> str:
    """repr() of an offending value for a message: shortened, and hidden if it holds a secret."""
    text = repr(value)
    plain = value if isinstance(value, str) else text
    if any(secret in plain or secret in text for secret in _secret_candidates(raw)):
        return "the value (hidden: it contains a secret)"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def mask_client_id(client_id: str) -> str:
    return client_id[:6] + "..." if len(client_id) > 12 else "***"


def required_secret(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise field_error(key, f"is required; {_HOW_TO_GET_CREDENTIALS}")
    if not isinstance(value, str):
        raise field_error(key, f"must be a string, got {type(value).__name__}; {_HOW_TO_GET_CREDENTIALS}")
    return value.strip()


def optional_access_token(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("access_token")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise field_error("access_token", f"must be a string, got {type(value).__name__}; or leave it empty")
    return value.strip()


def start_datetime(raw: Mapping[str, Any]) -> datetime | None:
    value = raw.get("start_datetime")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_start_datetime(value)
    except ValueError:
        raise field_error(
            "start_datetime",
            f"{shown(value, raw)} is not a valid datetime; accepted forms: {START_DATETIME_FORMS}",
        ) from None


def modules(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
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
                raise field_error(
                    "modules", f"item {index} is {shown(item, raw)}, not a module API name; expected {usage}"
                )
            items.append(item.strip())
    else:
        raise field_error("modules", f"expected {usage}, got {type(value).__name__}")
    return tuple(dict.fromkeys(items)) or None


def per_record_streams(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Opt-in streams that cost one API call per parent record (`related_specs`)."""
    value = raw.get("per_record_streams")
    usage = f"a list of stream names, each one of: {accepted_names_text()}"
    if value is None or value == "":
        return ()
    items = [p.strip() for p in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise field_error("per_record_streams", f"expected {usage}, got {type(value).__name__}")
    names: list[str] = []
    for index, item in enumerate(items):
        name = item.strip().lower() if isinstance(item, str) else None
        if not name or parent_stream_of(name) is None:
            raise field_error(
                "per_record_streams",
                f"item {index} is {shown(item, raw)}, not a per-record stream; expected {usage}",
            )
        names.append(name)
    return tuple(dict.fromkeys(names))


def max_concurrent_requests(raw: Mapping[str, Any]) -> int | None:
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
        raise field_error(
            "max_concurrent_requests",
            f"{shown(value, raw)} is not an integer from 1 to {MAX_CONCURRENT_REQUESTS}; "
            "leave it empty to use the limit of the org's Zoho edition",
        )
    return number


def base_url(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    expected = "expected http(s)://host[:port][/path], or leave it empty for the data centre's default"
    if not isinstance(value, str):
        raise field_error(key, f"must be a string, got {type(value).__name__}; {expected}")
    url = value.strip().rstrip("/")
    # A URL with user:password@ must not be echoed back.
    display = shown(value, raw) if "@" not in value else "the value (hidden: it holds credentials)"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise field_error(key, f"{display} is not a valid URL; {expected}") from None
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
        raise field_error(key, f"{display} is not a valid URL; {expected}")
    return url


def include_deleted(raw: Mapping[str, Any]) -> bool:
    value = raw.get("include_deleted")
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise field_error("include_deleted", f"{shown(value, raw)} is not a boolean; use true or false")


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
        raise field_error(key, f"{shown(value, raw)} is not an integer of at least {minimum}; {usage}")
    return number


def bulk_read_threshold(raw: Mapping[str, Any]) -> int:
    usage = (
        f"it is the record count from which first syncs use Bulk Read "
        f"(default {DEFAULT_BULK_READ_THRESHOLD}; "
        "0 turns Bulk Read off)"
    )
    number = _whole_number(raw, "bulk_read_threshold", 0, usage)
    return DEFAULT_BULK_READ_THRESHOLD if number is None else number


def api_credit_budget(raw: Mapping[str, Any]) -> int | None:
    usage = "it is the number of Zoho API credits a sync may spend; leave it empty for no limit"
    return _whole_number(raw, "api_credit_budget", 1, usage)


def formula_refresh_days(raw: Mapping[str, Any]) -> int:
    usage = (
        "it is how many days apart incremental syncs re-emit every record of modules with formula or "
        "rollup fields (default 0, off)"
    )
    number = _whole_number(raw, "formula_refresh_days", 0, usage)
    return 0 if number is None else number


def redact(message: str, raw: Mapping[str, Any]) -> str:
    for secret in _secret_candidates(raw):
        message = message.replace(secret, "***").replace(repr(secret)[1:-1], "***")
    return message
