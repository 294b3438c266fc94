"""HTTP for Zoho's Bulk Read API: a JSON POST, JSON GETs and a binary download streamed to a file.

Why a component: `ZohoApiClient.get` parses JSON bodies in memory and knows no POST; a Bulk Read
result is a ZIP of up to 200,000 records that must go to disk. This shares the client's token
provider and its org-wide concurrency slots, and adds Zoho's limits for "complex" APIs: at most
10 Bulk Read requests at once and 10 result downloads per minute.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import IO, Any

import orjson
import requests

from source_zoho_crm.api_client import TransientError, ZohoApiClient, ZohoResponse
from source_zoho_crm.auth import AUTH_HEADER_PREFIX, ZohoTokenProvider
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoAuthError

logger = logging.getLogger("airbyte")

COMPLEX_CONCURRENCY = 10  # Bulk Read and COQL requests in flight per org, every edition
DOWNLOADS_PER_MINUTE = 10  # Zoho answers 429 past this
TOKEN_REJECTED_CODES = ("INVALID_TOKEN", "AUTHENTICATION_FAILURE")
DOWNLOAD_CHUNK_BYTES = 1 << 20


class BulkReadUnavailable(ZohoAccessError):
    """Bulk Read cannot serve this module (no `ZohoCRM.bulk.READ` scope, module or field not
    supported, job failed): the caller reads the module over REST instead, with a warning."""


class RateWindow:
    """At most `limit` events in any `period` seconds (a sliding window); `acquire` waits for room."""

    def __init__(
        self,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._events: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._events and self._events[0] <= now - self.period:
                    self._events.popleft()
                if len(self._events) < self.limit:
                    self._events.append(now)
                    return
                wait = self._events[0] + self.period - now
            self._sleep(max(wait, 0.01))


def _client_slots(client: ZohoApiClient) -> AbstractContextManager[Any]:
    """The client's org-wide concurrency slots: Bulk Read calls count against the same cap."""
    return client.slots


class BulkTransport:
    """Bulk Read calls with the client's auth, concurrency cap and retry rules; credits go to `meter`."""

    def __init__(
        self,
        client: ZohoApiClient,
        tokens: ZohoTokenProvider,
        meter: CreditMeter | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = client.api_url
        self._client = client
        self._tokens = tokens
        self._meter = meter
        self._session = session or requests.Session()
        self._sleep = sleep
        self._complex = threading.BoundedSemaphore(COMPLEX_CONCURRENCY)
        self.downloads = RateWindow(DOWNLOADS_PER_MINUTE, 60.0, clock=clock, sleep=sleep)
        self.max_attempts = client.max_attempts
        self.calls = 0

    def post_json(self, path: str, body: Mapping[str, Any], *, what: str, credits: int) -> Mapping[str, Any]:
        return _json_object(self._call("POST", path, what=what, credits=credits, json_body=body)[1], what)

    def post_json_dated(
        self, path: str, body: Mapping[str, Any], *, what: str, credits: int
    ) -> tuple[Mapping[str, Any], datetime | None]:
        """`post_json` for COQL: 204 (no rows) is an empty answer; also Zoho's `Date` header."""
        response, answer = self._call("POST", path, what=what, credits=credits, json_body=body)
        dated = ZohoResponse(response.status_code, None, response.headers).date
        return ({} if response.status_code == 204 else _json_object(answer, what)), dated

    def get_json(self, path: str, *, what: str, credits: int) -> Mapping[str, Any]:
        return _json_object(self._call("GET", path, what=what, credits=credits)[1], what)

    def download(self, path: str, target: IO[bytes], *, what: str, credits: int) -> int:
        """Stream a ZIP to `target` (rewound on retries); returns its size. Honours 10 downloads a minute."""
        self._call("GET", path, what=what, credits=credits, target=target)
        size = target.seek(0, 2)
        target.seek(0)
        return size

    def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        credits: int,
        json_body: Mapping[str, Any] | None = None,
        target: IO[bytes] | None = None,
    ) -> tuple[requests.Response, Any]:
        """The answer and its JSON body, parsed once (None for a download or an empty body)."""
        described = f"{method} {path}"
        token_retried = False
        attempt = 0
        while True:
            attempt += 1
            token = self._tokens.token()
            try:
                if target is not None:
                    self.downloads.acquire()
                response = self._send(method, path, token, json_body, target)
                if self._meter is not None:
                    self._meter.charge(credits, headers=response.headers)
                body = _parse(response.content) if target is None or _is_json(response) else None
                if self._check(response, body, what, described, target):
                    return response, body
            except TransientError as transient:
                if attempt >= self.max_attempts:
                    raise ZohoApiError(
                        f"Bulk Read of {what} failed after {attempt} attempts "
                        f"({transient.reason}): {described}"
                    ) from None
                delay = self._backoff(attempt, transient.retry_after, download=target is not None)
                logger.info("Retrying %s in %.1f s after %s.", described, delay, transient.reason)
                self._sleep(delay)
                continue
            if token_retried:
                raise ZohoAuthError(
                    f"Zoho rejected a freshly issued access token during the Bulk Read of {what}: check "
                    "that the refresh token belongs to this data centre and environment."
                )
            token_retried = True
            self._tokens.invalidate(token)
            attempt -= 1

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        json_body: Mapping[str, Any] | None,
        target: IO[bytes] | None,
    ) -> requests.Response:
        headers = {"Authorization": AUTH_HEADER_PREFIX + token}
        timeout = self._client.timeout
        with self._complex, _client_slots(self._client):
            self.calls += 1
            try:
                response = self._session.request(
                    method, self.api_url + path, json=json_body, headers=headers, timeout=timeout, stream=True
                )
                if target is not None and response.status_code == 200 and not _is_json(response):
                    target.seek(0)
                    target.truncate()
                    for chunk in response.iter_content(DOWNLOAD_CHUNK_BYTES):
                        target.write(chunk)
                    target.flush()
                else:
                    response.content  # noqa: B018 - read the (small) JSON body inside the slot
            except (requests.ConnectionError, requests.Timeout) as error:
                raise TransientError(type(error).__name__) from None
            except requests.exceptions.ChunkedEncodingError:
                raise TransientError("a truncated response") from None
        return response

    def _check(
        self, response: requests.Response, body: Any, what: str, described: str, target: IO[bytes] | None
    ) -> bool:
        """True when the answer is usable; False when the token was rejected; raises otherwise."""
        status = response.status_code
        if status in (200, 201, 202) and target is not None and not _is_json(response):
            target.seek(0)
            if not zipfile.is_zipfile(target):
                raise TransientError("a truncated or unreadable archive")
            target.seek(0)
            return True
        if status == 204 and target is None:  # COQL's answer when no record matches
            return True
        if status in (200, 201, 202) and target is None:
            if not isinstance(body, Mapping):
                raise TransientError("a truncated or unreadable response body")
            return True
        code, message = _error_of(body)
        if status == 429 or status >= 500:
            raise TransientError(f"HTTP {status} {code}".strip(), _retry_after(response))
        if status == 401 and code in TOKEN_REJECTED_CODES:
            return False
        if code == "OAUTH_SCOPE_MISMATCH":
            raise BulkReadUnavailable(
                f"The Zoho token lacks the ZohoCRM.bulk.READ scope needed to export {what} with Bulk Read "
                "(OAUTH_SCOPE_MISMATCH); reading it page by page instead. Add the scope to the refresh "
                "token for faster, cheaper first syncs of large modules.",
                code=code,
                status=status,
            )
        if code == "NO_PERMISSION" or status == 403:
            raise ZohoAccessError(
                f"The Zoho user's profile has no permission to export {what} ({code or 'HTTP 403'}). "
                "Grant the profile read (and export) access in Zoho CRM, or leave it out of `modules`.",
                code=code,
                status=status,
            )
        if body is None and status >= 400:
            raise TransientError(f"HTTP {status} with an unreadable body")
        raise ZohoApiError(
            f"Zoho answered HTTP {status} {code} to the Bulk Read of {what}: {message} ({described})",
            code=code,
            status=status,
        )

    def _backoff(self, attempt: int, retry_after: float | None, *, download: bool) -> float:
        base = self._client.backoff_base_seconds
        cap = self._client.backoff_cap_seconds
        if retry_after is not None:
            return min(retry_after, 60.0)
        if download:  # the download limit is per minute: wait for a tenth of it, then longer
            base = max(base, 60.0 / DOWNLOADS_PER_MINUTE)
            cap = max(cap, 60.0)
        ceiling = min(cap, base * 2 ** (attempt - 1))
        return ceiling / 2 + random.random() * ceiling / 2


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "").lower()


def _parse(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def _json_object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ZohoApiError(f"Zoho's answer to the Bulk Read of {what} is not a JSON object.")
    return body


def _error_of(body: Any) -> tuple[str, str]:
    """Code and message of Zoho's error envelope, bare or wrapped in `data` (Bulk Read wraps 400s)."""
    if isinstance(body, Mapping) and isinstance(body.get("data"), list) and body["data"]:
        first = body["data"][0]
        body = first if isinstance(first, Mapping) else body
    if not isinstance(body, Mapping):
        return "", ""
    return str(body.get("code") or ""), str(body.get("message") or "")


def _retry_after(response: requests.Response) -> float | None:
    try:
        value = response.headers.get("Retry-After")
        return float(value) if value is not None else None
    except ValueError:
        return None
