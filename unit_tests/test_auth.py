"""One token per process; Zoho's HTTP 200 token errors become clear messages."""

from __future__ import annotations

from typing import Any

import pytest

from source_zoho_crm.api_domain import api_url_from_domain
from source_zoho_crm.auth import ZohoTokenProvider, shared_token_provider
from source_zoho_crm.config import parse_config
from source_zoho_crm.errors import ZohoAuthError
from unit_tests.conftest import TOKEN_URL, raw_config

SECRETS = ("client-secret-value", "1000.refresh-token-value")


def test_token_is_requested_once_and_reused(config: Any, token_ok: Any) -> None:
    provider = ZohoTokenProvider(config)
    assert provider.token() == "access-1"
    assert provider.token() == "access-1"
    assert token_ok.call_count == 1
    form = token_ok.last_request.text
    assert "grant_type=refresh_token" in form and "client_id=1000.CLIENTID" in form


def test_token_is_refreshed_near_expiry(config: Any, requests_mock: Any) -> None:
    now = [0.0]
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "first", "expires_in": 3600}},
            {"json": {"access_token": "second", "expires_in": 3600}},
        ],
    )
    provider = ZohoTokenProvider(config, clock=lambda: now[0])
    assert provider.token() == "first"
    now[0] = 3000.0
    assert provider.token() == "first"
    now[0] = 3500.0  # within the refresh margin of the expiry
    assert provider.token() == "second"


def test_invalidate_refreshes_once_even_when_many_threads_saw_the_401(
    config: Any, requests_mock: Any
) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "first", "expires_in": 3600}},
            {"json": {"access_token": "second", "expires_in": 3600}},
        ],
    )
    provider = ZohoTokenProvider(config)
    stale = provider.token()
    provider.invalidate(stale)
    provider.invalidate(stale)  # a second thread reporting the same stale token
    assert provider.token() == "second"
    provider.invalidate(stale)  # already replaced: no new refresh
    assert provider.token() == "second"
    assert requests_mock.call_count == 2


def test_configured_access_token_is_used_until_rejected(requests_mock: Any) -> None:
    token = requests_mock.post(TOKEN_URL, json={"access_token": "fresh", "expires_in": 3600})
    provider = ZohoTokenProvider(parse_config(raw_config(access_token="given")))
    assert provider.token() == "given"
    assert token.call_count == 0
    provider.invalidate("given")
    assert provider.token() == "fresh"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "invalid_code"}, "refresh token is invalid or revoked"),
        ({"error": "invalid_client"}, "not in data centre 'com'"),
        ({"error": "unsupported_grant_type"}, "unsupported_grant_type"),
    ],
)
def test_token_errors_arrive_with_http_200_and_become_clear_messages(
    config: Any, requests_mock: Any, body: dict, expected: str
) -> None:
    requests_mock.post(TOKEN_URL, json=body, status_code=200)
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=lambda _: None).token()
    assert expected in raised.value.message
    assert requests_mock.call_count == 1  # permanent: not retried
    assert not any(secret in raised.value.message for secret in SECRETS)


def test_throttle_is_retried_with_bounded_waits_then_reported(config: Any, requests_mock: Any) -> None:
    throttle = {
        "error_description": "You have made too many requests continuously. "
        "Please try again after some time.",
        "error": "Access Denied",
        "status": "failure",
    }
    requests_mock.post(TOKEN_URL, json=throttle, status_code=400)
    waits: list[float] = []
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=waits.append).token()
    assert "10 access tokens per 10 minutes" in raised.value.message
    assert len(waits) == len(ZohoTokenProvider.retry_waits)
    assert all(0 < wait <= 30 for wait in waits)


def test_throttle_then_success(config: Any, requests_mock: Any) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"error": "Access Denied", "error_description": "too many requests"}},
            {"json": {"access_token": "ok", "expires_in": 3600}},
        ],
    )
    assert ZohoTokenProvider(config, sleep=lambda _: None).token() == "ok"


def test_one_provider_per_credentials_in_the_process(config: Any, token_ok: Any) -> None:
    assert shared_token_provider(config) is shared_token_provider(parse_config(raw_config()))
    assert shared_token_provider(config).token() == "access-1"
    assert shared_token_provider(parse_config(raw_config())).token() == "access-1"
    assert token_ok.call_count == 1


# ---- issue 9: errors by structure -------------------------------------------------------------


def test_invalid_client_secret_gets_the_invalid_client_message(config: Any, requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"error": "invalid_client_secret"})
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=lambda _: None).token()
    message = raised.value.message
    assert "client id or secret is wrong" in message and "not in data centre 'com'" in message
    assert "(invalid_client_secret): check `client_id`, `client_secret` and `dc_region`." in message
    assert requests_mock.call_count == 1
    assert raised.value.failure_type.value == "config_error"


@pytest.mark.parametrize(
    "body",
    [
        {
            "error": "Access Denied",
            "error_description": "您的请求过于频繁，请稍后再试。",
            "status": "failure",
        },
        {"error": "拒绝访问", "error_description": "请求过多", "status": "failure"},
    ],
)
def test_localised_throttle_is_retried_then_reported(config: Any, requests_mock: Any, body: dict) -> None:
    requests_mock.post(TOKEN_URL, json=body, status_code=400)
    waits: list[float] = []
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=waits.append).token()
    assert "10 access tokens per 10 minutes" in raised.value.message
    assert requests_mock.call_count == len(ZohoTokenProvider.retry_waits) + 1
    assert len(waits) == len(ZohoTokenProvider.retry_waits)


def test_server_error_of_the_token_endpoint_is_retried(config: Any, requests_mock: Any) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"status_code": 503, "text": "<html>busy</html>"},
            {"status_code": 500, "json": {"error": "internal_error"}},
            {"json": {"access_token": "after-5xx", "expires_in": 3600}},
        ],
    )
    waits: list[float] = []
    assert ZohoTokenProvider(config, sleep=waits.append).token() == "after-5xx"
    assert requests_mock.call_count == 3 and len(waits) == 2


def test_server_errors_that_last_are_reported_after_the_retries(config: Any, requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, status_code=502, text="bad gateway")
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=lambda _: None).token()
    assert "HTTP 502" in raised.value.message
    assert requests_mock.call_count == len(ZohoTokenProvider.retry_waits) + 1


# ---- issue 10: a token Zoho evicted is not a wrong data centre ---------------------------------


def test_accepted_tokens_are_told_apart_from_tokens_rejected_on_first_use(
    config: Any, requests_mock: Any
) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "first", "expires_in": 3600}},
            {"json": {"access_token": "second", "expires_in": 3600}},
        ],
    )
    provider = ZohoTokenProvider(config)
    first = provider.token()
    assert not provider.was_accepted(first)  # rejected now: never worked, e.g. another data centre
    provider.mark_accepted(first)
    assert provider.was_accepted(first)  # rejected now: evicted (15 live tokens) or expired
    provider.invalidate(first)
    second = provider.token()
    assert second == "second" and not provider.was_accepted(second)


# ---- issue 10: the org's API domain ---------------------------------------------------------------


def test_api_domain_of_the_token_is_used_when_api_url_is_not_set(requests_mock: Any) -> None:
    raw = raw_config(api_url=None, dc_region="eu")
    requests_mock.post(TOKEN_URL, json={"access_token": "t", "api_domain": "https://www.zohoapis.eu"})
    provider = ZohoTokenProvider(parse_config(raw))
    assert provider.api_url() == "https://www.zohoapis.eu"
    assert requests_mock.call_count == 1  # the token was needed to learn it
    sandbox = ZohoTokenProvider(parse_config({**raw, "environment": "sandbox"}))
    assert sandbox.api_url() == "https://sandbox.zohoapis.eu"


def test_api_url_of_the_config_wins_over_api_domain(config: Any, requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "t", "api_domain": "https://www.zohoapis.eu"})
    provider = ZohoTokenProvider(config)
    provider.token()
    assert provider.api_url() == "https://api.test"


def test_api_domain_disagreeing_with_dc_region_is_warned_about(
    requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "t", "api_domain": "https://www.zohoapis.com.au"})
    provider = ZohoTokenProvider(parse_config(raw_config(api_url=None, dc_region="eu")))
    with caplog.at_level("WARNING", logger="airbyte"):
        assert provider.api_url() == "https://www.zohoapis.com.au"
    assert any("dc_region is 'eu': set dc_region to 'com.au'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("domain", "environment", "expected"),
    [
        ("https://www.zohoapis.com", "production", "https://www.zohoapis.com"),
        ("https://www.zohoapis.in/", "developer", "https://developer.zohoapis.in"),
        ("https://sandbox.zohoapis.eu", "sandbox", "https://sandbox.zohoapis.eu"),
        ("http://127.0.0.1:8765", "production", "http://127.0.0.1:8765"),
        ("ftp://www.zohoapis.com", "production", None),
        ("https://user:pw@www.zohoapis.com", "production", None),
        ("https://www.zohoapis.com/crm", "production", None),
        ("", "production", None),
        (None, "production", None),
    ],
)
def test_api_url_from_domain(domain: str | None, environment: str, expected: str | None) -> None:
    assert api_url_from_domain(domain, environment) == expected
