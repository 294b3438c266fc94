"""One Zoho access token per process, shared by every stream and metadata call, kept between runs.

Why a component: the CDK's OAuthAuthenticator is built per requester, so each stream refreshes
on its own, and Zoho allows only 10 access tokens per refresh token in 10 minutes. It also
treats Zoho's HTTP 200 error bodies (`{"error": "invalid_code"}`) as a crash.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import requests

from source_zoho_crm.api_domain import api_url_from_domain, dc_of_api_url
from source_zoho_crm.config import ZohoConfig, api_url_for
from source_zoho_crm.errors import ZohoAuthError
from source_zoho_crm.token_errors import TokenError, TokenErrorKind, classify_token_error
from source_zoho_crm.token_store import StoredToken, TokenStore, store_for

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
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        store: TokenStore | None = None,
    ) -> None:
        self._config = config
        self._session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self._store = store
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._accepted: set[str] = set()
        self.token_requests = 0
        self.api_domain: str | None = None
        self.scopes: frozenset[str] | None = None  # the token answer's `scope`, when Zoho sends it
        kept = store.load() if store is not None else []
        if store is None and config.access_token:  # given by hand: used until Zoho rejects it
            kept = [StoredToken(config.access_token, math.inf)]
        self._adopt(kept)

    # ---- tokens ---------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token, refreshed first when missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, rejected_token: str) -> None:
        """Zoho rejected `rejected_token` (401 INVALID_TOKEN): refresh, unless another thread already did."""
        with self._lock:
            if self._token == rejected_token:
                self._token = None
                self._refresh_at = 0.0

    def mark_accepted(self, token: str) -> None:
        """Zoho answered a request made with `token` (anything but 401 INVALID_TOKEN)."""
        self._accepted.add(token)  # set.add is atomic; called once per API response

    def was_accepted(self, token: str) -> bool:
        """Whether Zoho ever accepted `token`: a token rejected after that was evicted or expired
        (Zoho keeps 15 live tokens per refresh token), not issued for another data centre."""
        return token in self._accepted

    def _adopt(self, kept: list[StoredToken]) -> None:
        """Use the kept token that stays valid longest (a token of unknown expiry comes last)."""
        now = self._clock()
        usable = [t for t in kept if _refresh_time(t.expires_at) > now]
        if not usable:
            return
        best = max(usable, key=lambda t: -1.0 if t.expires_at == math.inf else t.expires_at)
        self._token = best.access_token
        self._refresh_at = _refresh_time(best.expires_at)
        if best.api_domain:
            self._learn_api_domain(best.api_domain)
        logger.info("Reusing a Zoho access token kept from an earlier run or given in the config.")

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
                if isinstance(body, Mapping) and body.get("access_token") and not body.get("error"):
                    self._took(body)
                    return
                problem = classify_token_error(response.status_code, body)
                if not problem.transient:
                    raise ZohoAuthError(_message(problem, config), code=problem.code or None)
                last_problem = _message(problem, config)
            if wait is None:
                break
            delay = wait * (0.5 + random.random() / 2)
            logger.warning(
                "Zoho token request %d failed: %s. Retrying in %.0f s.", attempt + 1, last_problem, delay
            )
            self._sleep(delay)
        raise ZohoAuthError(f"Could not obtain a Zoho access token: {last_problem}")

    def _took(self, body: Mapping[str, Any]) -> None:
        now = self._clock()
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = str(body["access_token"])
        self._refresh_at = _refresh_time(now + lifetime, lifetime)
        scope = body.get("scope")
        if isinstance(scope, str) and scope.strip():
            self.scopes = frozenset(scope.replace(",", " ").split())
        domain = body.get("api_domain")
        if isinstance(domain, str) and domain:
            self._learn_api_domain(domain)
        logger.info("Obtained a Zoho access token (request %d of this process).", self.token_requests)
        if self._store is not None:
            self._store.save(StoredToken(self._token, now + lifetime, self.api_domain))

    # ---- the org's API domain ---------------------------------------------------------------

    def _learn_api_domain(self, domain: str) -> None:
        if domain == self.api_domain:
            return
        self.api_domain = domain
        named = api_url_from_domain(domain, self._config.environment)
        dc = dc_of_api_url(named)
        if named and dc and dc != self._config.dc_region:
            logger.warning(
                "Zoho says the org's API domain is %s (data centre %s), but dc_region is '%s': "
                "set dc_region to '%s'.",
                named,
                dc,
                self._config.dc_region,
                dc,
            )

    def api_url(self) -> str:
        """Where API calls go: the config's `api_url` when set, else the API domain Zoho named
        with the token (obtained first if needed), else the data centre's default."""
        config = self._config
        if config.api_url != api_url_for(config.dc_region, config.environment):
            return config.api_url
        if self.api_domain is None and self._token is None:
            self.token()
        return api_url_from_domain(self.api_domain, config.environment) or config.api_url


def _refresh_time(expires_at: float, lifetime: float = math.inf) -> float:
    """Refresh a little early: 2 minutes, or a tenth of a short lifetime (inf stays inf)."""
    return expires_at - min(EXPIRY_MARGIN_SECONDS, lifetime / 10)


def _json_or_none(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def _message(problem: TokenError, config: ZohoConfig) -> str:
    """The connector's words for a failed token request (the CLI has its own, same classification)."""
    if problem.kind is TokenErrorKind.BAD_GRANT:
        return problem.named(
            "Zoho says the refresh token is invalid or revoked (invalid_code): generate a new one "
            "(Self Client in the Zoho API console, or `zoho-crm-auth`) and update `refresh_token`."
        )
    if problem.kind is TokenErrorKind.BAD_CLIENT:
        return problem.named(
            "Zoho says the client id or secret is wrong, or the account is not in data centre "
            f"'{config.dc_region}' ({config.accounts_url}) (invalid_client): check `client_id`, "
            "`client_secret` and `dc_region`."
        )
    if problem.kind is TokenErrorKind.THROTTLED:
        return (
            "Zoho is throttling token requests for this refresh token (at most 10 access tokens per "
            "10 minutes): wait 10 minutes and try again, and do not run other jobs with the same token."
        )
    if problem.kind is TokenErrorKind.SERVER:
        return f"the accounts server answered HTTP {problem.status}"
    return f"Zoho refused the token request ({problem.shown})."


# ---- one provider per process ---------------------------------------------------------------

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
            provider = _PROVIDERS[key] = ZohoTokenProvider(config, store=store_for(config))
        return provider
