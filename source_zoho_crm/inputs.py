"""The config and state files as given, turned into what the CDK checks and reads, or a named error.

Why by hand: the CDK validates the config against the spec's JSON schema before the connector
parses it, so documented spellings (`environment: PRODUCTION`, `dc_region: Eu`, a comma-separated
`modules` string, `"10"` for a number) were refused and its errors name no field; and its state
reader fails on a legacy state object or a bare number with a Python error. Here the connector's own
parser runs first (``Source.configure`` / ``Source.read_state`` hooks) and every problem is a
``config_error`` that names the field or the state entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateMessageSerializer, AirbyteStateType

from source_zoho_crm.config import ConfigError, parse_config
from source_zoho_crm.errors import ZohoStateError

__all__ = ["prepare_config", "read_config_file", "read_state_file"]

_OPTIONAL_KEYS = (
    "access_token",
    "token_expiry_date",
    "start_datetime",
    "modules",
    "max_concurrent_requests",
    "per_record_streams",
    "include_deleted",
    "bulk_read_threshold",
    "api_credit_budget",
    "formula_refresh_days",
    "dc_region",
    "environment",
)
_STATE_EXAMPLE = (
    '[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "leads"}, '
    '"stream_state": {"Modified_Time": "2025-03-04T11:59:00Z"}}}]'
)


def prepare_config(raw: Any) -> dict[str, Any]:
    """The config with every documented form in its canonical spelling, so the spec's schema accepts it.

    Raises ``ConfigError`` (a traced config_error) naming the first bad field and its accepted values.
    Unknown keys are kept (the platform may add some).
    """
    parsed = parse_config(raw)
    config = {key: value for key, value in raw.items() if not (key in _OPTIONAL_KEYS and value in (None, ""))}
    config.update(
        client_id=parsed.client_id,
        client_secret=parsed.client_secret,
        refresh_token=parsed.refresh_token,
        dc_region=parsed.dc_region,
        environment=parsed.environment,
        include_deleted=parsed.include_deleted,
        accounts_url=parsed.accounts_url,
        api_url=parsed.api_url,
    )
    if parsed.access_token is None:
        config.pop("access_token", None)
    else:
        config["access_token"] = parsed.access_token
    for key, value in (
        ("modules", list(parsed.modules) if parsed.modules else None),
        ("max_concurrent_requests", parsed.max_concurrent_requests),
        ("bulk_read_threshold", parsed.bulk_read_threshold),
        ("api_credit_budget", parsed.api_credit_budget),
        ("formula_refresh_days", parsed.formula_refresh_days),
        ("per_record_streams", list(parsed.per_record_streams) or None),
    ):
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    expiry = config.get("token_expiry_date")
    if expiry is not None and not isinstance(expiry, str):  # an unreadable string counts as expired
        raise ConfigError(
            "token_expiry_date",
            f"Config field 'token_expiry_date': must be an ISO 8601 string such as 2025-03-04T12:59:00Z, "
            f"got {type(expiry).__name__}; or leave it out (the connector writes it with access_token)",
        )
    if isinstance(config.get("start_datetime"), str):
        config["start_datetime"] = config["start_datetime"].strip()
    return config


def _load_json(path: str, what: str, error: type[Exception]) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        reason = problem.__class__.__name__
        raise _make(error, what, f"The {what} file {path} cannot be read ({reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        raise _make(
            error, what, f"The {what} file {path} is not valid JSON (line {problem.lineno}: {problem.msg})"
        ) from None


def _make(error: type[Exception], what: str, message: str) -> Exception:
    return ConfigError(what, message) if error is ConfigError else error(message)


def read_config_file(path: str) -> dict[str, Any]:
    """The config file's JSON object; anything else is a config_error saying what the file must hold."""
    content = _load_json(path, "config", ConfigError)
    if not isinstance(content, dict):
        raise ConfigError(
            "config",
            f"The config file {path} must hold a JSON object such as "
            f'{{"client_id": "...", "client_secret": "...", "refresh_token": "..."}}, '
            f"got {type(content).__name__}",
        )
    return content


def read_state_file(path: str | None) -> list[AirbyteStateMessage]:
    """Per-stream state messages from a `--state` file; a malformed or legacy state is a config_error."""
    if not path:
        return []
    content = _load_json(path, "state", ZohoStateError)
    if content in (None, [], {}):
        return []
    if isinstance(content, dict) and "type" in content:
        content = [content]  # one state message on its own
    if isinstance(content, dict):
        streams = ", ".join(sorted(map(str, content))[:5])
        raise ZohoStateError(
            f"The state file {path} holds a legacy state object (keys: {streams}); this connector reads "
            f"a JSON list of per-stream state messages, e.g. {_STATE_EXAMPLE}. Write each stream's "
            "state in that form, or reset the connection's streams to read everything again."
        )
    if not isinstance(content, list):
        raise ZohoStateError(
            f"The state file {path} must hold a JSON list of per-stream state messages, e.g. "
            f"{_STATE_EXAMPLE}; got {type(content).__name__}. Fix it, or run without --state."
        )
    return [_state_message(path, index, item) for index, item in enumerate(content)]


def _state_message(path: str, index: int, item: Any) -> AirbyteStateMessage:
    problem = f"State entry {index} in {path}"
    if not isinstance(item, Mapping):
        raise ZohoStateError(f"{problem} is {type(item).__name__}, not a state message like {_STATE_EXAMPLE}")
    try:
        message = AirbyteStateMessageSerializer.load(dict(item))
    except Exception:
        raise ZohoStateError(
            f"{problem} is not an Airbyte state message; expected the form {_STATE_EXAMPLE}"
        ) from None
    stream = message.stream
    if message.type != AirbyteStateType.STREAM or stream is None or not stream.stream_descriptor.name:
        kind = message.type.value if message.type else "untyped"
        raise ZohoStateError(
            f"{problem} is a {kind} state; this connector keeps per-stream state "
            f"(type STREAM with a stream_descriptor name), e.g. {_STATE_EXAMPLE}. Reset the streams "
            "to start again."
        )
    return message
