"""One Zoho access token per process, shared by every stream and metadata call.

Why a component: the CDK's OAuthAuthenticator is built per requester, so each stream refreshes
on its own, and Zoho allows only 10 access tokens per refresh token in 10 minutes. It also
treats Zoho's HTTP 200 error bodies (`{"error": "invalid_code"}`) as a crash.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import orjson
import requests
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator

from source_zoho_crm.config import ZohoConfig, parse_config
from source_zoho_crm.errors import ZohoAuthError

logger = logging.getLogger("airbyte")

AUTH_HEADER_PREFIX = "Zoho-oauthtoken "
# Refresh this long before Zoho's stated expiry, so a request never carries a dying token.
EXPIRY_MARGIN_SECONDS = 120.0


class ZohoTokenProvider:
    """Holds the access token; refreshes it near expiry or once after Zoho rejects it."""

    # Waits (seconds) before retrying a throttled or failed token request; then give up.
    retry_waits: tuple[float, ...] = (2.0, 10.0, 30.0)

    def __init__(
        self,
        config: ZohoConfig,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: str | None = config.access_token
        # A token given in the config has no known expiry: it is used until Zoho rejects it.
        self._expires_at: float = float("inf") if config.access_token else 0.0
        self.token_requests = 0
        self.api_domain: str | None = None

    def token(self) -> str:
        """A valid access token, refreshed first when missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, rejected_token: str) -> None:
        """Zoho rejected `rejected_token` (401 INVALID_TOKEN): refresh, unless another thread already did."""
        with self._lock:
            if self._token == rejected_token:
                self._token = None
                self._expires_at = 0.0

    def _refresh_locked(self) -> None:
        config = self._config
        url = f"{config.accounts_url}/oauth/v2/token"
        form = {
            "grant_type": "refresh_token",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "refresh_token": config.refresh_token,
        }
        last_problem = ""
        for attempt, wait in enumerate((*self.retry_waits, None)):
            self.token_requests += 1
            try:
                response = self._session.post(url, data=form, timeout=(10, 60))
            except requests.RequestException as error:
                last_problem = f"could not reach {config.accounts_url} ({type(error).__name__})"
            else:
                body = _json_or_none(response.content)
                if isinstance(body, Mapping) and body.get("access_token"):
                    self._token = str(body["access_token"])
                    lifetime = float(body.get("expires_in") or 3600)
                    # Refresh a little early: 2 minutes, or a tenth of a short lifetime.
                    self._expires_at = self._clock() + lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 10)
                    self.api_domain = body.get("api_domain")
                    logger.info(
                        "Obtained a Zoho access token (request %d of this process).", self.token_requests
                    )
                    return
                problem = _token_error(body, response.status_code, config)
                if problem.permanent:
                    raise ZohoAuthError(problem.message, code=problem.code)
                last_problem = problem.message
            if wait is None:
                break
            delay = wait * (0.5 + random.random() / 2)
            logger.warning(
                "Zoho token request %d failed: %s. Retrying in %.0f s.", attempt + 1, last_problem, delay
            )
            self._sleep(delay)
        raise ZohoAuthError(f"Could not obtain a Zoho access token: {last_problem}")


@dataclass(frozen=True)
class _TokenProblem:
    message: str
    permanent: bool
    code: str | None = None


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def _token_error(body: Any, status: int, config: ZohoConfig) -> _TokenProblem:
    """Classify a token response that carried no access token (Zoho answers errors with HTTP 200)."""
    error = str(body.get("error", "")) if isinstance(body, Mapping) else ""
    description = str(body.get("error_description", "")) if isinstance(body, Mapping) else ""
    if error == "invalid_code":
        return _TokenProblem(
            "Zoho says the refresh token is invalid or revoked (invalid_code): generate a new one "
            "(Self Client in the Zoho API console, or `zoho-crm-auth`) and update `refresh_token`.",
            permanent=True,
            code=error,
        )
    if error == "invalid_client":
        return _TokenProblem(
            "Zoho says the client id or secret is wrong, or the account is not in data centre "
            f"'{config.dc_region}' ({config.accounts_url}) (invalid_client): check `client_id`, "
            "`client_secret` and `dc_region`.",
            permanent=True,
            code=error,
        )
    throttled = "too many requests" in description.lower() or "throttle" in description.lower()
    if error == "Access Denied" or throttled:
        return _TokenProblem(
            "Zoho is throttling token requests for this refresh token (at most 10 access tokens per "
            "10 minutes): wait 10 minutes and try again, and do not run other jobs with the same token.",
            permanent=False,
            code="Access Denied",
        )
    if status >= 500 or body is None:
        return _TokenProblem(f"the accounts server answered HTTP {status}", permanent=False)
    shown = error or f"HTTP {status}"
    return _TokenProblem(f"Zoho refused the token request ({shown}).", permanent=True, code=error or None)


_PROVIDERS: dict[str, ZohoTokenProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def shared_token_provider(config: ZohoConfig) -> ZohoTokenProvider:
    """The process-wide provider for these credentials (streams, checks and metadata share it)."""
    key = hashlib.sha256(
        "\n".join(
            (config.accounts_url, config.client_id, config.client_secret, config.refresh_token)
        ).encode()
    ).hexdigest()
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get(key)
        if provider is None:
            provider = _PROVIDERS[key] = ZohoTokenProvider(config)
        return provider


@dataclass
class ZohoSharedOAuthAuthenticator(DeclarativeAuthenticator):
    """Manifest authenticator: sends the shared token as `Authorization: Zoho-oauthtoken <token>`."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    _provider: ZohoTokenProvider = field(init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._provider = shared_token_provider(parse_config(self.config))

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return AUTH_HEADER_PREFIX + self._provider.token()

    def refresh_and_set_access_token(self) -> None:
        """Called by the CDK after a 401 INVALID_TOKEN: drop the rejected token so the next call refreshes."""
        current = self._provider.token()
        self._provider.invalidate(current)
