"""The token provider's refresh: what it sends, when it refreshes, how it retries, what it tells the user.

Written where mutation testing (scripts/mutation.py) found the suite blind in auth.py.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
import requests

from source_zoho_crm import auth
from source_zoho_crm.auth import ZohoTokenProvider, shared_token_provider
from source_zoho_crm.config import parse_config
from source_zoho_crm.errors import ZohoAuthError
from source_zoho_crm.token_store import StoredToken
from unit_tests.conftest import TOKEN_URL, raw_config


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ListStore:
    """A token store holding what the test puts in it."""

    def __init__(self, tokens: list[StoredToken]) -> None:
        self.tokens = tokens
        self.saved: list[StoredToken] = []

    def load(self) -> list[StoredToken]:
        return list(self.tokens)

    def save(self, token: StoredToken) -> None:
        self.saved.append(token)


def _tokens(requests_mock: Any, *bodies: dict[str, Any]) -> Any:
    return requests_mock.post(TOKEN_URL, [{"json": body} for body in bodies])


def test_the_token_request_sends_the_refresh_grant_with_every_credential(
    config: Any, requests_mock: Any
) -> None:
    mock = _tokens(requests_mock, {"access_token": "a", "expires_in": 3600})
    ZohoTokenProvider(config).token()
    form = dict(pair.split("=", 1) for pair in mock.last_request.text.split("&"))
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "1000.CLIENTID",
        "client_secret": "client-secret-value",
        "refresh_token": "1000.refresh-token-value",
    }
    assert mock.last_request.timeout is not None  # a hung accounts server cannot hang the sync


@pytest.mark.parametrize("expires_in", [600, None, "soon"])
def test_refresh_comes_a_tenth_of_a_short_lifetime_early_and_exactly_on_time(
    requests_mock: Any, expires_in: Any
) -> None:
    """600 s: refresh at 540 s (a tenth early); absent or unreadable: Zoho's 3600 s, refresh at 3480 s."""
    first: dict[str, Any] = {"access_token": "a"}
    if expires_in is not None:
        first["expires_in"] = expires_in
    mock = _tokens(requests_mock, first, {"access_token": "b", "expires_in": 3600})
    clock = Clock()
    provider = ZohoTokenProvider(parse_config(raw_config()), clock=clock)
    start = clock.now
    refresh_after = 540.0 if expires_in == 600 else 3480.0
    assert provider.token() == "a"
    clock.now = start + refresh_after - 0.5
    assert provider.token() == "a"
    clock.now = start + refresh_after
    assert provider.token() == "b"
    assert mock.call_count == 2 == provider.token_requests


def test_an_answer_with_a_token_and_an_error_is_an_error(config: Any, requests_mock: Any) -> None:
    _tokens(requests_mock, {"access_token": "a", "error": "invalid_code"})
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config).token()
    assert raised.value.code == "invalid_code"


def test_a_revoked_refresh_token_is_reported_in_full_with_zohos_code(config: Any, requests_mock: Any) -> None:
    _tokens(requests_mock, {"error": "invalid_grant"})
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config).token()
    assert raised.value.code == "invalid_grant"
    assert raised.value.message == (
        "Zoho says the refresh token is invalid or revoked (invalid_grant): generate a new one "
        "(Self Client in the Zoho API console, or `zoho-crm-auth`) and update `refresh_token`."
    )


def test_a_wrong_client_is_reported_naming_the_data_centre(requests_mock: Any) -> None:
    _tokens(requests_mock, {"error": "invalid_client"})
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(parse_config(raw_config(dc_region="eu"))).token()
    assert raised.value.message.startswith("Zoho says the client id or secret is wrong, or the account is")
    assert "data centre 'eu'" in raised.value.message


def test_retries_wait_between_half_and_all_of_each_step_and_log_why(
    config: Any, requests_mock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    throttled = {"error": "Access Denied", "status": "failure"}
    for jitter, share in ((1.0, 1.0), (0.0, 0.5)):
        auth._PROVIDERS.clear()
        monkeypatch.setattr(auth.random, "random", lambda jitter=jitter: jitter)
        _tokens(requests_mock, throttled, throttled, {"access_token": "a", "expires_in": 3600})
        waits: list[float] = []
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="airbyte"):
            provider = ZohoTokenProvider(config, sleep=waits.append)
            assert provider.token() == "a"
        assert waits == [wait * share for wait in ZohoTokenProvider.retry_waits[:2]]
        assert provider.token_requests == 3
        warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
        assert len(warnings) == 2
        assert warnings[0].startswith("Zoho token request 1 failed: Zoho is throttling token requests")
        assert warnings[1].startswith("Zoho token request 2 failed:")
        assert warnings[0].endswith(f"Retrying in {waits[0]:.0f} s.")


def test_an_unreachable_accounts_server_is_retried_then_named(config: Any, requests_mock: Any) -> None:
    mock = requests_mock.post(TOKEN_URL, exc=requests.ConnectionError("refused"))
    waits: list[float] = []
    with pytest.raises(ZohoAuthError) as raised:
        ZohoTokenProvider(config, sleep=waits.append).token()
    assert raised.value.message == (
        "Could not obtain a Zoho access token: could not reach https://accounts.test (ConnectionError)"
    )
    assert mock.call_count == len(ZohoTokenProvider.retry_waits) + 1 == len(waits) + 1


def test_a_token_due_for_refresh_now_is_not_reused(config: Any, requests_mock: Any) -> None:
    mock = _tokens(requests_mock, {"access_token": "new", "expires_in": 3600})
    clock = Clock()
    store = ListStore([StoredToken("kept", clock.now + auth.EXPIRY_MARGIN_SECONDS)])
    assert ZohoTokenProvider(config, clock=clock, store=store).token() == "new"
    assert mock.call_count == 1
    assert [token.access_token for token in store.saved] == ["new"]


def test_the_kept_token_valid_longest_is_reused(config: Any, requests_mock: Any) -> None:
    mock = _tokens(requests_mock, {"access_token": "new", "expires_in": 3600})
    clock = Clock()
    store = ListStore(
        [
            StoredToken("unknown expiry", math.inf),
            StoredToken("short", clock.now + 1000),
            StoredToken("long", clock.now + 3000),
            StoredToken("medium", clock.now + 2000),
        ]
    )
    assert ZohoTokenProvider(config, clock=clock, store=store).token() == "long"
    assert mock.call_count == 0


def test_an_api_domain_that_is_not_text_is_ignored(requests_mock: Any) -> None:
    config = parse_config({k: v for k, v in raw_config().items() if k != "api_url"})
    _tokens(requests_mock, {"access_token": "a", "expires_in": 3600, "api_domain": 42})
    provider = ZohoTokenProvider(config)
    assert provider.api_url() == config.api_url
    assert provider.api_domain is None


@pytest.mark.parametrize(
    ("domain", "warned"),
    [
        ("https://www.zohoapis.com", False),  # the configured data centre
        ("https://crm.example.org", False),  # not a Zoho data centre: nothing to suggest
        ("https://www.zohoapis.eu", True),
    ],
)
def test_only_an_api_domain_of_another_data_centre_is_warned_about(
    requests_mock: Any, caplog: pytest.LogCaptureFixture, domain: str, warned: bool
) -> None:
    config = parse_config({k: v for k, v in raw_config().items() if k != "api_url"})
    _tokens(requests_mock, {"access_token": "a", "expires_in": 3600, "api_domain": domain})
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        ZohoTokenProvider(config).token()
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    expected = (
        "Zoho says the org's API domain is https://www.zohoapis.eu (data centre eu), but dc_region is "
        "'com': set dc_region to 'eu'."
    )
    assert warnings == ([expected] if warned else [])


def test_a_sandbox_follows_the_api_domain_of_its_token(
    requests_mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    raw = {k: v for k, v in raw_config().items() if k != "api_url"}
    config = parse_config({**raw, "environment": "sandbox"})
    _tokens(requests_mock, {"access_token": "a", "expires_in": 3600, "api_domain": "https://www.zohoapis.eu"})
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert ZohoTokenProvider(config).api_url() == "https://sandbox.zohoapis.eu"
    assert "API domain is https://sandbox.zohoapis.eu (data centre eu)" in caplog.text


def test_api_url_asks_for_no_token_when_one_is_held(requests_mock: Any) -> None:
    config = parse_config({k: v for k, v in raw_config().items() if k != "api_url"})
    mock = _tokens(requests_mock, {"access_token": "a", "expires_in": 3600})
    clock = Clock()
    provider = ZohoTokenProvider(config, clock=clock)
    provider.token()
    clock.now += 7200  # expired, but api_url() alone does not refresh it
    assert provider.api_url() == config.api_url
    assert mock.call_count == 1


def test_other_credentials_get_their_own_provider(config: Any) -> None:
    other = parse_config(raw_config(refresh_token="1000.another-refresh-token"))
    assert shared_token_provider(config) is not shared_token_provider(other)
