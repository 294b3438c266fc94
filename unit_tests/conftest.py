"""Shared fixtures: a config pointing at a fake Zoho (requests-mock) and a client that never sleeps."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

from source_zoho_crm import auth
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.config import ZohoConfig, parse_config

ACCOUNTS = "https://accounts.test"
API = "https://api.test"
TOKEN_URL = f"{ACCOUNTS}/oauth/v2/token"

# Property tests check correctness, not speed: no per-example deadline (CI machines are busy).
settings.register_profile("project", deadline=None)
settings.load_profile("project")


def raw_config(**overrides: Any) -> dict[str, Any]:
    config = {
        "client_id": "1000.CLIENTID",
        "client_secret": "client-secret-value",
        "refresh_token": "1000.refresh-token-value",
        "accounts_url": ACCOUNTS,
        "api_url": API,
    }
    config.update(overrides)
    return config


@pytest.fixture(autouse=True)
def _fresh_token_providers() -> None:
    """Each test starts with no process-wide token."""
    auth._PROVIDERS.clear()


@pytest.fixture
def config() -> ZohoConfig:
    return parse_config(raw_config())


@pytest.fixture
def token_ok(requests_mock: Any) -> Any:
    return requests_mock.post(
        TOKEN_URL,
        json={"access_token": "access-1", "api_domain": API, "token_type": "Bearer", "expires_in": 3600},
    )


@pytest.fixture
def tokens(config: ZohoConfig) -> ZohoTokenProvider:
    return ZohoTokenProvider(config, sleep=lambda _: None)


@pytest.fixture
def client(tokens: ZohoTokenProvider, token_ok: Any) -> ZohoApiClient:
    return ZohoApiClient(API, tokens, max_concurrent=4, sleep=lambda _: None)
