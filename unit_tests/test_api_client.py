"""Retries, Zoho's empty pages, token rejection and access errors, the concurrency cap."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.config import parse_config
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoAuthError, ZohoInvalidModuleError
from unit_tests.conftest import API, TOKEN_URL, raw_config

LEADS = f"{API}/crm/v8/Leads"


def envelope(code: str, message: str = "") -> dict:
    return {"code": code, "details": {}, "message": message, "status": "error"}


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_are_empty_pages(client: ZohoApiClient, requests_mock: Any, status: int) -> None:
    requests_mock.get(LEADS, status_code=status, content=b"")
    response = client.get("/crm/v8/Leads", {"fields": "Last_Name"}, what="module Leads")
    assert response.body is None and response.data == [] and response.info == {}


def test_429_5xx_timeouts_and_truncated_bodies_are_retried(client: ZohoApiClient, requests_mock: Any) -> None:
    requests_mock.get(
        LEADS,
        [
            {"status_code": 429, "json": envelope("TOO_MANY_REQUESTS")},
            {"status_code": 500, "json": envelope("INTERNAL_ERROR")},
            {"exc": requests.ConnectTimeout},
            {"exc": requests.exceptions.ChunkedEncodingError},
            {"status_code": 200, "content": b'{"data": [{"id": "1"'},
            {"status_code": 200, "json": {"data": [{"id": "1"}], "info": {"more_records": False}}},
        ],
    )
    response = client.get("/crm/v8/Leads", what="module Leads")
    assert response.data == [{"id": "1"}]
    assert requests_mock.request_history[-1].url.startswith(LEADS)


def test_backoff_is_exponential_with_jitter_and_bounded() -> None:
    client = ZohoApiClient(API, token_provider=None)  # type: ignore[arg-type]
    delays = [client._backoff(attempt, None) for attempt in range(1, 12)]
    assert all(0 < delay <= client.backoff_cap_seconds for delay in delays)
    assert delays[0] <= client.backoff_base_seconds and delays[4] >= client.backoff_base_seconds * 4
    assert client._backoff(3, retry_after=7.0) == 7.0


def test_gives_up_naming_the_module_and_the_request(client: ZohoApiClient, requests_mock: Any) -> None:
    requests_mock.get(LEADS, status_code=503, json=envelope("INTERNAL_ERROR"))
    with pytest.raises(ZohoApiError) as raised:
        client.get("/crm/v8/Leads", {"fields": "Email", "per_page": 200}, what="module Leads")
    message = raised.value.message
    assert "module Leads" in message and "GET /crm/v8/Leads?fields=Email&per_page=200" in message
    assert requests_mock.call_count == 1 + client.max_attempts  # one token call + the attempts


def test_invalid_token_refreshes_once_and_retries(client: ZohoApiClient, requests_mock: Any) -> None:
    token = requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "old", "expires_in": 3600}},
            {"json": {"access_token": "new", "expires_in": 3600}},
        ],
    )
    requests_mock.get(
        LEADS,
        [{"status_code": 401, "json": envelope("INVALID_TOKEN")}, {"json": {"data": [{"id": "1"}]}}],
    )
    assert client.get("/crm/v8/Leads", what="module Leads").data == [{"id": "1"}]
    assert token.call_count == 2
    assert requests_mock.request_history[-1].headers["Authorization"] == "Zoho-oauthtoken new"


def test_a_fresh_token_rejected_again_is_an_environment_problem(
    client: ZohoApiClient, requests_mock: Any
) -> None:
    requests_mock.get(LEADS, status_code=401, json=envelope("INVALID_TOKEN"))
    with pytest.raises(ZohoAuthError, match="data centre and environment"):
        client.get("/crm/v8/Leads", what="module Leads")


def test_an_accepted_token_rejected_later_was_evicted_not_a_wrong_data_centre(
    client: ZohoApiClient, requests_mock: Any
) -> None:
    """Zoho keeps 15 live tokens per refresh token: other processes can evict ours mid-sync."""
    token = requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "first", "expires_in": 3600}},
            {"json": {"access_token": "second", "expires_in": 3600}},
            {"json": {"access_token": "third", "expires_in": 3600}},
        ],
    )
    requests_mock.get(
        LEADS,
        [
            {"status_code": 401, "json": envelope("INVALID_TOKEN")},  # "first" rejected on first use
            {"json": {"data": [{"id": "1"}]}},  # "second" accepted
            {"status_code": 401, "json": envelope("INVALID_TOKEN")},  # "second" evicted later
            {"json": {"data": [{"id": "2"}]}},  # "third" accepted
        ],
    )
    assert client.get("/crm/v8/Leads", what="module Leads").data == [{"id": "1"}]
    assert client.get("/crm/v8/Leads", what="module Leads").data == [{"id": "2"}]
    assert token.call_count == 3
    assert requests_mock.request_history[-1].headers["Authorization"] == "Zoho-oauthtoken third"


def test_a_token_rejected_on_first_use_after_an_eviction_still_stops_the_sync(
    client: ZohoApiClient, requests_mock: Any
) -> None:
    requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "first", "expires_in": 3600}},
            {"json": {"access_token": "second", "expires_in": 3600}},
        ],
    )
    requests_mock.get(
        LEADS,
        [{"json": {"data": [{"id": "1"}]}}, *[{"status_code": 401, "json": envelope("INVALID_TOKEN")}] * 3],
    )
    client.get("/crm/v8/Leads", what="module Leads")
    with pytest.raises(ZohoAuthError, match="data centre and environment"):
        client.get("/crm/v8/Leads", what="module Leads")
    assert requests_mock.call_count == 2 + 1 + 2  # two tokens, the first read, two rejected attempts


@pytest.mark.parametrize(
    ("status", "code", "error", "text"),
    [
        (401, "OAUTH_SCOPE_MISMATCH", ZohoAccessError, "lacks the OAuth scope"),
        (403, "NO_PERMISSION", ZohoAccessError, "no permission"),
        (400, "INVALID_MODULE", ZohoInvalidModuleError, "not a valid, API-supported module"),
        (400, "INVALID_DATA", ZohoApiError, "INVALID_DATA"),
    ],
)
def test_errors_that_retrying_cannot_fix_fail_at_once(
    client: ZohoApiClient, requests_mock: Any, status: int, code: str, error: type, text: str
) -> None:
    requests_mock.get(LEADS, status_code=status, json=envelope(code, "details"))
    with pytest.raises(error) as raised:
        client.get("/crm/v8/Leads", what="module Leads")
    assert text in raised.value.message and "module Leads" in raised.value.message
    assert raised.value.code == code
    assert requests_mock.call_count == 2  # token + one attempt


def test_never_more_requests_in_flight_than_the_cap() -> None:
    """A real threaded server (requests-mock serialises calls) counts requests in flight."""
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1
            body = b'{"data": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        tokens = ZohoTokenProvider(parse_config(raw_config(access_token="given")))
        client = ZohoApiClient(url, tokens, max_concurrent=3)
        threads = [
            threading.Thread(target=client.get, args=("/crm/v8/Leads",), kwargs={"what": "x"})
            for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.shutdown()
        server.server_close()
    assert peak == 3
    assert client.requests_made == 12
