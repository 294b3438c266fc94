"""The one HTTP client every Zoho API call goes through: auth, concurrency cap, retries, error mapping.

Why a component: Zoho's limits are per org (concurrent requests across all streams), its 401s
mean three different things, and truncated or dropped responses must be retried like 5xx.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
from requests.adapters import HTTPAdapter

from source_zoho_crm import messages
from source_zoho_crm.auth import AUTH_HEADER_PREFIX, ZohoTokenProvider
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoAuthError, ZohoInvalidModuleError
from source_zoho_crm.settings import (
    ACCESS_DENIED_CODES,
    BACKOFF_CAP_SECONDS,
    DEFAULT_BACKOFF_BASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_CONCURRENT,
    EMPTY_STATUSES,
    INVALID_MODULE_CODE,
    REQUEST_TIMEOUT_SECONDS,
    SCOPE_MISMATCH_CODE,
    TOKEN_REJECTED_CODES,
)

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class ZohoResponse:
    """A successful answer: `body` is None for Zoho's empty pages (204, 304)."""

    status: int
    body: Mapping[str, Any] | None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def date(self) -> datetime | None:
        """Zoho's clock: the HTTP `Date` header (whole seconds, UTC), or None when absent or unreadable."""
        value = self.headers.get("Date")
        try:
            return parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return None

    @property
    def data(self) -> list[dict[str, Any]]:
        return list(self.body.get("data") or []) if self.body else []

    @property
    def info(self) -> Mapping[str, Any]:
        return (self.body.get("info") or {}) if self.body else {}


class TransientError(Exception):
    """A failure worth retrying: 429, 5xx, timeouts, dropped connections, truncated bodies."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Slots:
    """At most `limit` holders at once; unlike a semaphore, the limit may change while slots are held."""

    def __init__(self, limit: int) -> None:
        self._condition = threading.Condition()
        self._limit = limit
        self.held = 0
        self.peak = 0  # the most slots ever held at once (tests check the cap with it)

    @property
    def limit(self) -> int:
        return self._limit

    def resize(self, limit: int) -> None:
        with self._condition:
            self._limit = limit
            self._condition.notify_all()

    def __enter__(self) -> Slots:
        with self._condition:
            while self.held >= self._limit:
                self._condition.wait()
            self.held += 1
            self.peak = max(self.peak, self.held)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._condition:
            self.held -= 1
            self._condition.notify_all()


class ZohoApiClient:
    """GETs from the Zoho API, never more than `max_concurrent` at once across all threads."""

    # Operators (and tests) may tune retries: ZOHO_CRM_MAX_ATTEMPTS, ZOHO_CRM_BACKOFF_BASE_SECONDS.
    max_attempts = int(os.environ.get("ZOHO_CRM_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    backoff_base_seconds = float(
        os.environ.get("ZOHO_CRM_BACKOFF_BASE_SECONDS", DEFAULT_BACKOFF_BASE_SECONDS)
    )
    backoff_cap_seconds = BACKOFF_CAP_SECONDS
    timeout = REQUEST_TIMEOUT_SECONDS

    def __init__(
        self,
        api_url: str,
        token_provider: ZohoTokenProvider,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        meter: CreditMeter | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.meter = meter
        """Charged one credit per answered GET (not for 429/5xx, which Zoho does not meter)."""
        self._tokens = token_provider
        self._session = session or _pooled_session()
        self._sleep = sleep
        self.slots = Slots(max_concurrent)
        self.requests_made = 0
        self._count_lock = threading.Lock()

    @property
    def max_concurrent(self) -> int:
        return self.slots.limit

    def set_max_concurrent(self, max_concurrent: int) -> None:
        """Change the cap (it comes from the org's edition); requests in flight keep their slots."""
        self.slots.resize(max_concurrent)

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        what: str,
    ) -> ZohoResponse:
        """GET `path`; `what` names the thing being read (a module, 'fields of Leads') in errors."""
        url = f"{self.api_url}{path}"
        described = f"GET {path}" + (f"?{urlencode(params)}" if params else "")
        token_retried = False
        attempt = 0
        while True:
            attempt += 1
            token = self._tokens.token()
            try:
                response = self._send(url, params, headers, token)
                result = self._interpret(response, what, described)
            except TransientError as transient:
                if attempt >= self.max_attempts:
                    raise ZohoApiError(
                        messages.FAILED_AFTER_RETRIES.format(
                            what=what, attempts=attempt, reason=transient.reason, request=described
                        )
                    ) from None
                delay = self._backoff(attempt, transient.retry_after)
                logger.info(
                    messages.RETRYING.format(
                        request=described,
                        delay=delay,
                        reason=transient.reason,
                        attempt=attempt,
                        attempts=self.max_attempts,
                    )
                )
                self._sleep(delay)
                continue
            if result is None:  # Zoho rejected the token: refresh once and retry.
                # A token Zoho accepted before was evicted (15 live per refresh token) or expired: refresh
                # again. A fresh token rejected on first use is not a per-module problem: the sync must stop.
                if token_retried and not self._tokens.was_accepted(token):
                    raise ZohoAuthError(messages.TOKEN_REJECTED_AFTER_REFRESH.format(what=what))
                token_retried = True
                self._tokens.invalidate(token)
                attempt -= 1
                continue
            self._tokens.mark_accepted(token)
            return result

    def _send(
        self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None, token: str
    ) -> requests.Response:
        request_headers = {"Authorization": AUTH_HEADER_PREFIX + token}
        if headers:
            request_headers.update(headers)
        with self.slots:
            with self._count_lock:
                self.requests_made += 1
            try:
                response = self._session.get(
                    url, params=params, headers=request_headers, timeout=self.timeout
                )
                response.content  # noqa: B018 - read the whole body inside the slot
            except (requests.ConnectionError, requests.Timeout) as error:
                raise TransientError(f"{type(error).__name__}") from None
            except requests.exceptions.ChunkedEncodingError:
                raise TransientError(messages.TRUNCATED_RESPONSE) from None
        if self.meter is not None and response.status_code != 429 and response.status_code < 500:
            self.meter.charge(headers=response.headers)
        return response

    def _interpret(self, response: requests.Response, what: str, described: str) -> ZohoResponse | None:
        status = response.status_code
        if status in EMPTY_STATUSES:
            return ZohoResponse(status, None, response.headers)
        body = _parse(response.content)
        if status == 200:
            if not isinstance(body, Mapping):
                raise TransientError(messages.UNREADABLE_BODY)
            return ZohoResponse(status, body, response.headers)
        error = _error_of(body)
        code = str(error.get("code", ""))
        message = str(error.get("message", ""))
        if status == 429 or status >= 500:
            raise TransientError(f"HTTP {status} {code}".strip(), _retry_after(response))
        if status == 401 and code in TOKEN_REJECTED_CODES:
            return None
        if code == SCOPE_MISMATCH_CODE:
            raise ZohoAccessError(messages.SCOPE_MISSING.format(what=what), code=code, status=status)
        if code in ACCESS_DENIED_CODES or status == 403:
            raise ZohoAccessError(
                messages.NO_PERMISSION.format(what=what, code=code or "HTTP 403"), code=code, status=status
            )
        if code == INVALID_MODULE_CODE:
            raise ZohoInvalidModuleError(messages.INVALID_MODULE.format(what=what), code=code, status=status)
        if body is None and status >= 400:
            raise TransientError(messages.UNREADABLE_ERROR_BODY.format(status=status))
        raise ZohoApiError(
            messages.HTTP_ERROR.format(
                status=status, code=code, what=what, message=message, request=described
            ),
            code=code,
            status=status,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_cap_seconds)
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return ceiling / 2 + random.random() * ceiling / 2  # "equal jitter": never zero, never synchronised


def _parse(content: bytes) -> Any:
    if not content:
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def _error_of(body: Any) -> Mapping[str, Any]:
    """Zoho's error object: the body itself, or wrapped as `{"data": [{"code": ..., "status": "error"}]}`."""
    if not isinstance(body, Mapping):
        return {}
    if "code" not in body and isinstance(body.get("data"), list) and body["data"]:
        first = body["data"][0]
        if isinstance(first, Mapping):
            return first
    return body


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _pooled_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
