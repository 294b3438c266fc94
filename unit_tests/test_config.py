"""Tests for source_zoho_crm.config."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from source_zoho_crm.config import (
    ConfigError,
    ZohoConfig,
    accounts_url_for,
    api_url_for,
    concurrency_for_edition,
    parse_config,
)

UTC = timezone.utc
CLIENT_ID = "1000.CLIENTIDABCDEFGHIJKLMNOP"
CLIENT_SECRET = "s3cr3t-client-secret-0123456789"
REFRESH_TOKEN = "1000.refresh0123456789abcdef.fedcba9876543210"
ACCESS_TOKEN = "1000.access0123456789abcdef.0123456789abcdef"
SECRETS = (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN)


def make(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "access_token": ACCESS_TOKEN,
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}


def config_error(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    message = str(info.value)
    assert info.value.field in message
    for secret in SECRETS:
        assert secret not in message
    return info.value


# --- defaults -------------------------------------------------------------------------------------


def test_minimal_config_defaults() -> None:
    config = parse_config(make(access_token=...))
    assert config == ZohoConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        access_token=None,
        dc_region="com",
        environment="production",
        start_datetime=None,
        modules=None,
        max_concurrent_requests=None,
        accounts_url="https://accounts.zoho.com",
        api_url="https://www.zohoapis.com",
        include_deleted=True,
    )


def test_config_is_frozen() -> None:
    config = parse_config(make())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.dc_region = "eu"  # type: ignore[misc]


def test_unknown_keys_are_ignored() -> None:
    config = parse_config(make(edition="Enterprise", __injected_declarative_manifest={"x": 1}, other=None))
    assert config.dc_region == "com"


@pytest.mark.parametrize("raw", [None, [], "client_id=x", 42])
def test_config_must_be_a_mapping(raw: Any) -> None:
    assert config_error(raw).field == "config"


# --- credentials ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["client_id", "client_secret", "refresh_token"])
@pytest.mark.parametrize("value", [..., None, "", "   ", 123, ["x"]])
def test_required_credentials(key: str, value: Any) -> None:
    error = config_error(make(**{key: value}))
    assert error.field == key
    assert "Self Client" in str(error)
    assert "zoho-crm-auth" in str(error)


def test_credentials_are_stripped() -> None:
    config = parse_config(
        make(
            client_id=f" {CLIENT_ID}\n", client_secret=f"{CLIENT_SECRET} ", refresh_token=f"\t{REFRESH_TOKEN}"
        )
    )
    assert (config.client_id, config.client_secret, config.refresh_token) == (
        CLIENT_ID,
        CLIENT_SECRET,
        REFRESH_TOKEN,
    )


@pytest.mark.parametrize("value, expected", [(..., None), (None, None), ("", None), (" tok ", "tok")])
def test_access_token_is_optional(value: Any, expected: str | None) -> None:
    assert parse_config(make(access_token=value)).access_token == expected


def test_access_token_must_be_a_string() -> None:
    assert config_error(make(access_token=5)).field == "access_token"


# --- data centres and environments ----------------------------------------------------------------

HOSTS = {
    # dc: (accounts server, API top-level domain)
    "com": ("https://accounts.zoho.com", "com"),
    "eu": ("https://accounts.zoho.eu", "eu"),
    "in": ("https://accounts.zoho.in", "in"),
    "com.au": ("https://accounts.zoho.com.au", "com.au"),
    "com.cn": ("https://accounts.zoho.com.cn", "com.cn"),
    "jp": ("https://accounts.zoho.jp", "jp"),
    "ca": ("https://accounts.zohocloud.ca", "ca"),
    "sa": ("https://accounts.zoho.sa", "sa"),
    "uk": ("https://accounts.zoho.uk", "uk"),
}


@pytest.mark.parametrize(
    "environment, host", [("production", "www"), ("sandbox", "sandbox"), ("developer", "developer")]
)
def test_urls_per_data_centre_and_environment(environment: str, host: str) -> None:
    """The environment picks the API host, the data centre the domain (one of two-part TLD)."""
    dc = "com.au"
    accounts, tld = HOSTS[dc]
    config = parse_config(make(dc_region=dc, environment=environment))
    assert config.dc_region == dc
    assert config.environment == environment
    assert config.accounts_url == accounts == accounts_url_for(dc)
    assert config.api_url == f"https://{host}.zohoapis.{tld}" == api_url_for(dc, environment)


def test_canada_accounts_server_is_zohocloud() -> None:
    assert parse_config(make(dc_region="ca")).accounts_url == "https://accounts.zohocloud.ca"
    assert parse_config(make(dc_region="ca")).api_url == "https://www.zohoapis.ca"


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("US", "com"),
        ("us", "com"),
        ("COM", "com"),
        ("AU", "com.au"),
        ("au", "com.au"),
        ("CN", "com.cn"),
        (" eu ", "eu"),
        (None, "com"),
        ("", "com"),
        (..., "com"),
    ],
)
def test_dc_region_aliases(alias: Any, canonical: str) -> None:
    config = parse_config(make(dc_region=alias))
    assert config.dc_region == canonical
    assert config.accounts_url == HOSTS[canonical][0]
    if isinstance(alias, str) and alias.strip():
        assert accounts_url_for(alias) == HOSTS[canonical][0]


@pytest.mark.parametrize("value", ["gb", "zoho.com", "europe", "com.uk", 1, ["eu"]])
def test_unknown_dc_region(value: Any) -> None:
    error = config_error(make(dc_region=value))
    assert error.field == "dc_region"
    for accepted in ("com", "eu", "in", "com.au", "com.cn", "jp", "ca", "sa", "uk", "US", "AU", "CN"):
        assert accepted in str(error)


@pytest.mark.parametrize(
    "value, canonical",
    [
        ("Production", "production"),
        ("PRODUCTION", "production"),
        ("Sandbox", "sandbox"),
        ("sandbox", "sandbox"),
        ("Developer", "developer"),
        (" developer ", "developer"),
        (None, "production"),
        ("", "production"),
        (..., "production"),
    ],
)
def test_environment_is_case_insensitive(value: Any, canonical: str) -> None:
    assert parse_config(make(environment=value)).environment == canonical


@pytest.mark.parametrize("value", ["prod", "test", "staging", 0])
def test_unknown_environment(value: Any) -> None:
    error = config_error(make(environment=value))
    assert error.field == "environment"
    for accepted in ("production", "sandbox", "developer"):
        assert accepted in str(error)


def test_url_helpers_accept_aliases_and_reject_unknown_values() -> None:
    assert api_url_for("AU", "Sandbox") == "https://sandbox.zohoapis.com.au"
    assert api_url_for("US", "Production") == "https://www.zohoapis.com"
    assert accounts_url_for("CN") == "https://accounts.zoho.com.cn"
    with pytest.raises(ConfigError) as info:
        accounts_url_for("mars")
    assert info.value.field == "dc_region"
    with pytest.raises(ConfigError) as info:
        api_url_for("com", "qa")
    assert info.value.field == "environment"


# --- start_datetime -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01 10:30", datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),
        ("2024-01-01T10:30:15", datetime(2024, 1, 1, 10, 30, 15, tzinfo=UTC)),
        ("2024-01-01T10:30:15Z", datetime(2024, 1, 1, 10, 30, 15, tzinfo=UTC)),
        ("2024-01-01T16:00:15+05:30", datetime(2024, 1, 1, 10, 30, 15, tzinfo=UTC)),
        ("", None),
        ("  ", None),
        (None, None),
        (..., None),
    ],
)
def test_start_datetime(value: Any, expected: datetime | None) -> None:
    parsed = parse_config(make(start_datetime=value)).start_datetime
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["yesterday", "01/02/2024", "2024-02-30", 20240101, ["2024-01-01"]])
def test_invalid_start_datetime(value: Any) -> None:
    error = config_error(make(start_datetime=value))
    assert error.field == "start_datetime"
    assert "YYYY-MM-DD" in str(error)
    assert "YYYY-MM-DD HH:MM:SS" in str(error)


# --- modules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (["Leads", "Contacts"], ("Leads", "Contacts")),
        (["Leads", "Contacts", "Leads", "Deals", "Contacts"], ("Leads", "Contacts", "Deals")),
        (["leads", "Leads"], ("leads", "Leads")),  # case kept
        ([" Leads ", "CustomModule1"], ("Leads", "CustomModule1")),
        ("Leads,Contacts", ("Leads", "Contacts")),
        (" Leads , Contacts, Leads, ", ("Leads", "Contacts")),
        ("Leads", ("Leads",)),
        ([], None),
        ("", None),
        (" , ", None),
        (None, None),
        (..., None),
    ],
)
def test_modules(value: Any, expected: tuple[str, ...] | None) -> None:
    assert parse_config(make(modules=value)).modules == expected


@pytest.mark.parametrize("value", [["Leads", ""], ["Leads", "  "], ["Leads", 3], [None], {"Leads": 1}, 7])
def test_invalid_modules(value: Any) -> None:
    error = config_error(make(modules=value))
    assert error.field == "modules"
    assert "module API names" in str(error)


# --- max_concurrent_requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(1, 1), (25, 25), (10, 10), ("10", 10), (" 7 ", 7), (5.0, 5), (None, None), ("", None), (..., None)],
)
def test_max_concurrent_requests(value: Any, expected: int | None) -> None:
    assert parse_config(make(max_concurrent_requests=value)).max_concurrent_requests == expected


@pytest.mark.parametrize("value", [0, 26, -1, "0", "26", "abc", "+-5", "1e1", "٣", 2.5, True, False, [5]])
def test_invalid_max_concurrent_requests(value: Any) -> None:
    error = config_error(make(max_concurrent_requests=value))
    assert error.field == "max_concurrent_requests"
    assert "1 to 25" in str(error)


# --- URL overrides --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["accounts_url", "api_url"])
@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://example.com", "https://example.com"),
        ("https://example.com/", "https://example.com"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://127.0.0.1:8080/zoho/api//", "http://127.0.0.1:8080/zoho/api"),
        ("  https://proxy.internal/zoho  ", "https://proxy.internal/zoho"),
        ("HTTPS://Example.com", "HTTPS://Example.com"),
    ],
)
def test_url_overrides(key: str, value: str, expected: str) -> None:
    assert getattr(parse_config(make(**{key: value})), key) == expected


@pytest.mark.parametrize("key", ["accounts_url", "api_url"])
@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com",
        "example.com",
        "https://",
        "https:///path",
        "not a url",
        "https://example.com?x=1",
        "https://example.com/#frag",
        "https://exa mple.com",
        "https://example.com:99999",
        "https://example.com:port",
        "https://[::1",
        "javascript:alert(1)",
        42,
    ],
)
def test_invalid_url_overrides(key: str, value: Any) -> None:
    error = config_error(make(**{key: value}))
    assert error.field == key
    assert "http(s)://host[:port][/path]" in str(error)


def test_url_with_credentials_is_rejected_and_not_echoed() -> None:
    error = config_error(make(api_url="https://user:hunter2-password@example.com"))
    assert error.field == "api_url"
    assert "hunter2-password" not in str(error)


@pytest.mark.parametrize("key", ["accounts_url", "api_url"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_empty_url_override_uses_default(key: str, value: Any) -> None:
    config = parse_config(make(dc_region="eu", environment="sandbox", **{key: value}))
    assert config.accounts_url == "https://accounts.zoho.eu"
    assert config.api_url == "https://sandbox.zohoapis.eu"


# --- include_deleted ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(..., True), (None, True), (True, True), (False, False), ("false", False), ("True", True)],
)
def test_include_deleted(value: Any, expected: bool) -> None:
    assert parse_config(make(include_deleted=value)).include_deleted is expected


@pytest.mark.parametrize("value", ["no", "", 0, 1, []])
def test_invalid_include_deleted(value: Any) -> None:
    assert config_error(make(include_deleted=value)).field == "include_deleted"


# --- secrets --------------------------------------------------------------------------------------


def test_repr_hides_secrets() -> None:
    config = parse_config(make(modules=["Leads"], start_datetime="2024-01-01"))
    for text in (repr(config), str(config), f"{config}", f"{config!r}"):
        for secret in SECRETS:
            assert secret not in text
        assert CLIENT_ID not in text
        assert "1000.C..." in text
        assert "Leads" in text and "2024-01-01T00:00:00+00:00" in text
    assert config.secret_values() == SECRETS


def test_repr_without_access_token() -> None:
    text = repr(parse_config(make(access_token=None, client_id="short")))
    assert "access_token=None" in text
    assert "short" not in text


@pytest.mark.parametrize(
    "key",
    ["dc_region", "environment", "start_datetime", "max_concurrent_requests", "accounts_url", "api_url"],
)
@pytest.mark.parametrize("secret", SECRETS)
def test_secret_pasted_into_another_field_is_not_echoed(key: str, secret: str) -> None:
    error = config_error(make(**{key: secret}))
    assert error.field == key
    assert "hidden: it contains a secret" in str(error)


def test_errors_for_bad_secrets_do_not_show_them() -> None:
    error = config_error(make(client_secret=["x", CLIENT_SECRET]))
    assert error.field == "client_secret"


@given(
    secret=st.text(min_size=4).filter(lambda s: s.strip() == s and s),
    key=st.sampled_from(["dc_region", "environment", "start_datetime", "modules", "api_url", "accounts_url"]),
)
def test_property_secrets_never_in_messages(secret: str, key: str) -> None:
    raw = make(client_secret=secret, **{key: secret + " "})
    try:
        config = parse_config(raw)
    except ConfigError as error:
        assert secret not in str(error)
        assert error.field == key
    else:
        assert f"client_secret={secret!r}" not in repr(config)


@pytest.mark.parametrize(
    "secret", ["x" * 300, "line1\nline2-secret", "quote'and\"double", "tab\tseparated-secret"]
)
def test_long_or_escaped_secrets_are_not_echoed(secret: str) -> None:
    for key in ("dc_region", "start_datetime", "api_url", "modules"):
        value = [secret] if key == "modules" else secret + "!"
        with pytest.raises(ConfigError) as info:
            parse_config(make(refresh_token=secret, **{key: value if key != "modules" else 5}))
        message = str(info.value)
        assert secret not in message and repr(secret)[1:-1] not in message and secret[:40] not in message


def test_config_error_is_a_value_error_and_pickles() -> None:
    error = config_error(make(dc_region="xx"))
    assert isinstance(error, ValueError)
    assert error.message == str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, str(copy)) == (error.field, str(error))


# --- editions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paid_type, expected",
    [
        ("enterprise", 20),
        ("ULTIMATE", 25),
        ("zohoone", 20),
        ("zoho one", 20),
        (" professional ", 15),
        ("Enterprise Trial", 5),
        ("", 5),
        (None, 5),
    ],
)
def test_concurrency_for_edition(paid_type: str | None, expected: int) -> None:
    assert concurrency_for_edition(paid_type) == expected
