"""Config and state files before the CDK sees them: documented forms accepted, bad ones named.

The property: for any config, `prepare_config` either names the bad field in a config_error, or
returns a config that the spec's JSON schema (what the CDK checks next) accepts.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from source_zoho_crm.config import ConfigError
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.errors import ZohoStateError
from source_zoho_crm.inputs import prepare_config, read_config_file, read_state_file
from source_zoho_crm.source import load_manifest

UTC = timezone.utc
SPEC = load_manifest()["spec"]["connection_specification"]
BASE = {
    "client_id": "1000.CLIENT",
    "client_secret": "client-secret-0123",
    "refresh_token": "1000.refresh.tok",
}
SECRETS = ("client-secret-0123", "1000.refresh.tok")

# Every form the docs and the spec's descriptions promise.
DOCUMENTED = [
    {},
    {"dc_region": "com"},
    {"dc_region": "Eu"},
    {"dc_region": "US"},
    {"dc_region": " com.au "},
    {"dc_region": "ca"},
    {"environment": "PRODUCTION"},
    {"environment": "Sandbox"},
    {"environment": "developer"},
    {"modules": "Leads,Contacts"},
    {"modules": ["Leads", " Deals "]},
    {"modules": ""},
    {"modules": []},
    {"max_concurrent_requests": "10"},
    {"max_concurrent_requests": 25},
    {"max_concurrent_requests": 3.0},
    {"max_concurrent_requests": None},
    {"include_deleted": "false"},
    {"start_datetime": "2024-01-01"},
    {"start_datetime": "2024-01-01 08:00"},
    {"start_datetime": "2024-01-01T08:00:00+05:30"},
    {"start_datetime": ""},
    {"access_token": ""},
    {"access_token": None},
    {"api_url": "http://127.0.0.1:8080/", "accounts_url": "https://accounts.zoho.eu"},
    {"api_url": ""},
]


@pytest.mark.parametrize("change", DOCUMENTED, ids=json.dumps)
def test_documented_forms_pass_the_spec_schema(change: dict[str, Any]) -> None:
    config = prepare_config({**BASE, **change})
    jsonschema.validate(config, SPEC)
    assert config["dc_region"] in SPEC["properties"]["dc_region"]["enum"]


def test_canonical_values() -> None:
    config = prepare_config(
        {**BASE, "dc_region": "Eu", "environment": "SANDBOX", "modules": "Leads, Contacts,Leads"}
    )
    assert (config["dc_region"], config["environment"]) == ("eu", "sandbox")
    assert config["modules"] == ["Leads", "Contacts"]
    assert config["api_url"] == "https://sandbox.zohoapis.eu"
    assert prepare_config({**BASE, "max_concurrent_requests": " 7 "})["max_concurrent_requests"] == 7
    assert prepare_config({**BASE, "unknown": 1})["unknown"] == 1


MALFORMED = [
    ("dc_region", 5, "com (alias US)"),
    ("dc_region", "mars", "eu"),
    ("environment", "prod", "production, sandbox, developer"),
    ("modules", 5, "comma-separated"),
    ("modules", [1], "module API name"),
    ("max_concurrent_requests", 30, "1 to 25"),
    ("max_concurrent_requests", "ten", "1 to 25"),
    ("start_datetime", "2024-02-30", "YYYY-MM-DD"),
    ("api_url", "ftp://host", "http(s)://"),
    ("include_deleted", "maybe", "true or false"),
    ("client_id", 5, "zoho-crm-auth"),
    ("refresh_token", "", "Self Client"),
]


@pytest.mark.parametrize(("key", "value", "accepted"), MALFORMED)
def test_malformed_fields_are_named_with_the_accepted_values(key: str, value: Any, accepted: str) -> None:
    with pytest.raises(ConfigError) as info:
        prepare_config({**BASE, key: value})
    assert info.value.failure_type == FailureType.config_error
    assert f"'{key}'" in info.value.message and accepted in info.value.message


def test_a_config_that_is_not_an_object() -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        prepare_config([1, 2])  # type: ignore[arg-type]


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["Eu", "PRODUCTION", "Leads,Deals", "2024-02-30", "http://h", "12", "true"]),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_KEYS = st.sampled_from(sorted(SPEC["properties"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_any_config_is_named_or_accepted_by_the_schema(change: dict[str, Any]) -> None:
    raw = {**BASE, **change}
    try:
        config = prepare_config(raw)
    except ConfigError as error:
        assert error.failure_type == FailureType.config_error
        assert f"'{error.field}'" in error.message, error.message
        assert not any(secret in error.message for secret in SECRETS)
        return
    jsonschema.validate(config, SPEC)


# ---- files ----------------------------------------------------------------------------------------


def _file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "file.json"
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [("42", "must hold a JSON object"), ("[]", "got list"), ("{oops", "not valid JSON")],
)
def test_bad_config_files(tmp_path: Path, content: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        read_config_file(_file(tmp_path, content))


STREAM_STATE = {
    "type": "STREAM",
    "stream": {
        "stream_descriptor": {"name": "leads"},
        "stream_state": {"Modified_Time": "2025-01-01T00:00:00Z"},
    },
}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (42, "must hold a JSON list of per-stream state messages"),
        ("text", "got str"),
        ({"leads": {"Modified_Time": "2025-01-01T00:00:00Z"}}, r"legacy state object \(keys: leads\)"),
        ([42], "State entry 0 .* is int"),
        ([{"type": "STREAM", "stream": 42}], "State entry 0 .* not an Airbyte state message"),
        ([{"type": "LEGACY", "data": {"leads": {}}}], "is a LEGACY state"),
        ([{"type": "GLOBAL", "global": {"stream_states": []}}], "is a GLOBAL state"),
    ],
)
def test_bad_state_files_are_named(tmp_path: Path, content: Any, expected: str) -> None:
    with pytest.raises(ZohoStateError, match=expected) as info:
        read_state_file(_file(tmp_path, json.dumps(content)))
    assert info.value.failure_type == FailureType.config_error


@pytest.mark.parametrize("content", [[STREAM_STATE], STREAM_STATE, [], {}, None])
def test_good_state_files(tmp_path: Path, content: Any) -> None:
    messages = read_state_file(_file(tmp_path, json.dumps(content)))
    assert [m.stream.stream_descriptor.name for m in messages] == (["leads"] if content else [])


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_any_state_file_is_read_or_named(content: Any) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.json"
        path.write_text(json.dumps(content))
        try:
            read_state_file(str(path))
        except ZohoStateError as error:
            assert "state" in error.message.lower()


# ---- a cursor in the future ------------------------------------------------------------------------


def test_a_future_state_cursor_is_replaced_by_now_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    before = datetime.now(UTC)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        value = cursor_from_state("leads", "Modified_Time", {"Modified_Time": "2099-01-01T00:00:00Z"})
    assert value is not None and before <= value <= datetime.now(UTC)
    assert "leads" in caplog.text and "in the future" in caplog.text
    past = cursor_from_state("leads", "Modified_Time", {"Modified_Time": "2025-01-01T00:00:00Z"})
    assert past == datetime(2025, 1, 1, tzinfo=UTC)


def test_a_future_start_is_never_saved() -> None:
    repository = InMemoryMessageRepository()
    manager = ConnectorStateManager([])
    future = datetime.now(UTC) + timedelta(days=400)
    cursor = ModuleCursor("leads", "Modified_Time", future, True, manager, repository)
    cursor.advance(None)
    cursor.advance(future + timedelta(days=1))  # a record stamped in the future
    saved = manager.get_stream_state("leads", None)["Modified_Time"]
    assert saved <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sane = datetime(2025, 1, 1, tzinfo=UTC)
    cursor = ModuleCursor("deals", "Modified_Time", sane, True, manager, repository)
    cursor.advance(sane + timedelta(hours=1))
    assert manager.get_stream_state("deals", None)["Modified_Time"] == "2025-01-01T01:00:00Z"
