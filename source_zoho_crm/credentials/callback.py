"""The browser flow's redirect: a loopback server on 127.0.0.1, or a pasted address, then checks."""

from __future__ import annotations

import http.server
import secrets
import sys
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from source_zoho_crm.credentials.config_file import Target, resolve_target
from source_zoho_crm.credentials.oauth import dc_for_accounts_server
from source_zoho_crm.credentials.scrub import CliError, Secrets

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_PAGE_OK = "Zoho sent the authorization back. You can close this tab and return to the terminal."
_PAGE_ERROR = "Zoho reported an error (see the terminal). You can close this tab."


def new_state() -> str:
    """The anti-forgery ``state`` of one consent request."""
    return secrets.token_urlsafe(24)


def parse_redirect(text: str) -> dict[str, str]:
    """The query parameters of a pasted redirect address (a full URL, or just its query string)."""
    text = text.strip()
    if "?" in text:
        query = text.split("?", 1)[1]
    elif "=" in text and "://" not in text:
        query = text
    else:
        query = ""
    query = query.split("#", 1)[0]
    return {key: value.strip() for key, value in parse_qsl(query, keep_blank_values=True)}


class CallbackServer(http.server.ThreadingHTTPServer):
    """Serves /callback until the first redirect arrives; ``params`` holds its query."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.params: dict[str, str] | None = None
        self.received = threading.Event()
        self.lock = threading.Lock()


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: CallbackServer
    timeout = 10  # a browser's idle pre-connection must not hold a thread forever

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != "/callback":
            self._reply(404, "Not found. Zoho redirects to /callback.")
            return
        params = {key: value.strip() for key, value in parse_qsl(parts.query, keep_blank_values=True)}
        self._reply(200, _PAGE_ERROR if params.get("error") else _PAGE_OK)
        with self.server.lock:
            if self.server.params is None:
                self.server.params = params
                self.server.received.set()

    def _reply(self, status: int, text: str) -> None:
        body = f"<!doctype html><title>zoho-crm-auth</title><p>{text}</p>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request line carries the authorization code."""


def listen(port: int) -> CallbackServer:
    try:
        return CallbackServer(port)
    except OSError as error:
        raise CliError(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror or type(error).__name__}): free the port or "
            "pass another --port (registered as http://localhost:<port>/callback for the client)"
        ) from None


def wait_for_callback(server: CallbackServer, timeout: float) -> dict[str, str]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        if not server.received.wait(timeout):
            raise CliError(
                f"no answer from the browser within {timeout:g} s: run again (or use --paste on a machine "
                "without a browser)"
            )
        assert server.params is not None
        return server.params
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def read_pasted(secrets: Secrets) -> dict[str, str]:
    secrets.say(
        "Paste the full address the browser ended on (http://localhost:.../callback?...; the page itself "
        "may not load), then press Enter:"
    )
    try:
        line = sys.stdin.readline()
    except (OSError, ValueError, RuntimeError):
        line = ""
    params = parse_redirect(line)
    secrets.secret(params.get("code"))
    if not line.strip():
        raise CliError("nothing was pasted: run again and paste the address the browser ended on")
    return params


def check_redirect(params: Mapping[str, str], state: str, secrets_seen: Secrets) -> str:
    """Return the code of a redirect, after checking ``error`` and ``state``."""
    secrets_seen.secret(params.get("code"))
    error = params.get("error", "")
    if error == "access_denied":
        raise CliError(
            "you denied consent in the browser (access_denied): run again and click Accept to let the "
            "connector read your CRM"
        )
    if error in ("invalid_client", "invalid_client_secret"):
        message = (
            "Zoho does not know this client (invalid_client): check --client-id, and --dc-region (the client "
            "must be registered in the data centre of the account)"
        )
        raise CliError(message.replace("(invalid_client)", f"({error})"))
    if error:
        raise CliError(f"Zoho sent the browser back with error {error!r}: fix it and run again")
    if not secrets.compare_digest(params.get("state", "").encode(), state.encode()):
        raise CliError(
            "the redirect's state does not match this run (a stale or foreign redirect): open the address "
            "printed by this run and try again"
        )
    code = params.get("code", "")
    if not code:
        raise CliError(
            "the redirect has no code: paste the whole address the browser ended on "
            "(http://localhost:<port>/callback?state=...&code=...)"
        )
    return code


def _is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and (parts.hostname or "").lower() in _LOOPBACK_HOSTS


def target_from_redirect(params: Mapping[str, str], target: Target, secrets_seen: Secrets) -> Target:
    """Where to exchange the code: the data centre named by the redirect's ``accounts-server``."""
    server = params.get("accounts-server", "").strip().rstrip("/")
    if not server:
        return target
    api_override = None if target.api_url_is_default else target.api_url
    dc = dc_for_accounts_server(server)
    if dc is not None:
        if dc == target.dc_region:
            return target
        secrets_seen.say(
            f"Zoho says the account is in data centre {dc} ({server}), not {target.dc_region}: using {dc}."
        )
        return resolve_target(dc, target.environment, None, api_override)
    if _is_loopback_url(server):
        if server != target.accounts_url:
            secrets_seen.say(f"Using the accounts server named by the redirect: {server}.")
        return resolve_target(target.dc_region, target.environment, server, api_override)
    secrets_seen.say(f"Ignoring the redirect's accounts server {server} (not a Zoho accounts server).")
    return target
