"""One token per process; Zoho's HTTP 200 token errors become clear messages."""

from __future__ import annotations

from typing import Any

import pytest

from source_zoho_crm.auth import ZohoSharedOAuthAuthenticator, ZohoTokenProvider, shared_token_provider
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
    authenticator = ZohoSharedOAuthAuthenticator(config=raw_config(), parameters={})
    other = ZohoSharedOAuthAuthenticator(config=raw_config(), parameters={})
    assert authenticator.get_auth_header() == {"Authorization": "Zoho-oauthtoken access-1"}
    assert other.get_auth_header() == {"Authorization": "Zoho-oauthtoken access-1"}
    assert token_ok.call_count == 1
