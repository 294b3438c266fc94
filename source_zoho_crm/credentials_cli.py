"""``zoho-crm-auth``: get a Zoho refresh token and write a ready connector config.

Subcommands:

* ``self-client``: exchange a grant code made with the Self Client of the Zoho API console.
* ``browser``: open Zoho's consent page and catch the redirect on http://localhost:<port>/callback
  (or, with ``--paste``, read the redirect address pasted on stdin, for machines without a browser).
* ``revoke``: revoke a refresh token.

Every failure is one line on stderr and exit code 2. No secret (client secret, grant code,
access or refresh token) is ever printed: the config file, written with mode 0600, is the only
place they go.
"""

from __future__ import annotations

import argparse
import getpass
import http.server
import json
import os
import secrets
import sys
import threading
import webbrowser
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from source_zoho_crm.config import (
    DC_REGIONS,
    ENVIRONMENTS,
    ConfigError,
    accounts_url_for,
    api_url_for,
    parse_config,
)

__all__ = [
    "READ_SCOPES",
    "CliError",
    "consent_url",
    "dc_for_accounts_server",
    "main",
    "parse_redirect",
]

PROG = "zoho-crm-auth"
READ_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.settings.roles.READ",
    "ZohoCRM.settings.profiles.READ",
    "ZohoCRM.settings.territories.READ",
    "ZohoCRM.settings.currencies.READ",
)
DEFAULT_PORT = 33333
DEFAULT_TIMEOUT = 300.0
EXIT_FAILURE = 2
HTTP_TIMEOUT = (10, 60)  # (connect, read) seconds

ENV_CLIENT_ID = "ZOHO_CLIENT_ID"
ENV_CLIENT_SECRET = "ZOHO_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "ZOHO_REFRESH_TOKEN"

# accounts host -> canonical data centre, derived from the config module's table.
_HOST_TO_DC: dict[str, str] = {str(urlsplit(accounts_url_for(dc)).hostname): dc for dc in DC_REGIONS}
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_MIN_SECRET_LENGTH = 4
_PLACEHOLDER = "placeholder"


class CliError(Exception):
    """A failure the user can act on; the message is one line and holds no secret."""


@dataclass
class _Run:
    """Per-invocation state: the secrets seen so far, which every printed message is scrubbed of."""

    secrets: set[str] = field(default_factory=set)

    def secret(self, value: str | None) -> str | None:
        """Remember a secret value (and return it) so that no message can show it."""
        if value and len(value) >= _MIN_SECRET_LENGTH:
            self.secrets.add(value)
        return value

    def scrub(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(value, "***")
        return " ".join(text.split())  # one line

    def say(self, text: str) -> None:
        print(self.scrub(text), flush=True)


@dataclass(frozen=True)
class _Target:
    """Where to talk to Zoho and what to write: validated with the connector's own config rules."""

    dc_region: str
    environment: str
    accounts_url: str
    api_url: str

    def config(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, str]:
        """The connector config; ``accounts_url``/``api_url`` only when they differ from the defaults."""
        config = {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
            "dc_region": self.dc_region,
            "environment": self.environment,
        }
        if self.accounts_url != accounts_url_for(self.dc_region):
            config["accounts_url"] = self.accounts_url
        if self.api_url != api_url_for(self.dc_region, self.environment):
            config["api_url"] = self.api_url
        return config


# --- pure helpers (unit-tested directly) -----------------------------------------------------------


def consent_url(accounts_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Zoho's consent page asking for the read-only scopes and offline access (a refresh token)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "scope": ",".join(READ_SCOPES),
            "redirect_uri": redirect_uri,
            "access_type": "offline",
            "prompt": "consent",
            "state": state,
        },
        safe=",",  # Zoho's docs write the scope list with literal commas
    )
    return f"{accounts_url.rstrip('/')}/oauth/v2/auth?{query}"


def dc_for_accounts_server(url: str | None) -> str | None:
    """The data centre of a Zoho accounts server URL (``https://accounts.zoho.eu`` → ``eu``), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or port not in (None, 443) or parts.path.strip("/"):
        return None
    return _HOST_TO_DC.get((parts.hostname or "").lower())


def _is_loopback_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and (parts.hostname or "").lower() in _LOOPBACK_HOSTS


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


# --- argument handling -------------------------------------------------------------------------------


class _UsageExit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, and no exit: ``main`` returns the code."""

    def error(self, message: str) -> NoReturn:
        hint = f"{self.prog} --help"
        print(f"{self.prog}: error: {' '.join(message.split())} (see {hint})", file=sys.stderr, flush=True)
        raise _UsageExit(EXIT_FAILURE)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(" ".join(message.split()), file=sys.stderr, flush=True)
        raise _UsageExit(status)


def _add_client_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client-id", help=f"Client ID from the Zoho API console (or env {ENV_CLIENT_ID})")
    parser.add_argument(
        "--client-secret",
        help=f"Client secret (better: env {ENV_CLIENT_SECRET}, so it stays out of shell history; "
        "asked for when missing on a terminal)",
    )


def _add_target_args(parser: argparse.ArgumentParser, with_environment: bool = True) -> None:
    parser.add_argument(
        "--dc-region",
        help=f"Zoho data centre of the account: one of {', '.join(DC_REGIONS)} (aliases us, au, cn); "
        "default com",
    )
    parser.add_argument("--accounts-url", help="override the accounts server (OAuth) URL")
    if with_environment:
        parser.add_argument(
            "--environment", choices=ENVIRONMENTS, help="org environment (default production)"
        )
        parser.add_argument("--api-url", help="override the API domain written to the config")


def _add_output_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", required=True, help="connector config file to write (mode 0600)")
    parser.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Get a Zoho CRM refresh token and write a ready config for source-zoho-crm.",
        epilog="Exit code 0 on success, 2 on any failure. Secrets are never printed.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    self_client = commands.add_parser(
        "self-client",
        help="exchange a Self Client grant code for a refresh token",
        description="Exchange a grant code made with the Self Client of the Zoho API console "
        "(https://api-console.zoho.com, or your data centre's console; Self Client > Generate Code, "
        f"scopes {','.join(READ_SCOPES)}). Codes are single-use and last 3-10 minutes.",
    )
    _add_client_args(self_client)
    self_client.add_argument("--code", help="the grant code (asked for when missing on a terminal)")
    _add_target_args(self_client)
    _add_output_args(self_client)
    self_client.set_defaults(handler=_cmd_self_client)

    browser = commands.add_parser(
        "browser",
        help="approve access in a browser; the redirect is caught on localhost",
        description="Open Zoho's consent page for a server-based client whose authorized redirect URI "
        "is http://localhost:<port>/callback, and catch the redirect on 127.0.0.1:<port>.",
    )
    _add_client_args(browser)
    browser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"callback port (default {DEFAULT_PORT})"
    )
    browser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the browser (default 300)"
    )
    browser.add_argument(
        "--no-browser", action="store_true", help="print the consent address, do not open it"
    )
    browser.add_argument(
        "--paste",
        action="store_true",
        help="do not listen: paste the address the browser ends on (for machines without a browser)",
    )
    _add_target_args(browser)
    _add_output_args(browser)
    browser.set_defaults(handler=_cmd_browser)

    revoke = commands.add_parser(
        "revoke", help="revoke a refresh token", description="Revoke a refresh token."
    )
    revoke.add_argument("--refresh-token", help=f"the token (or env {ENV_REFRESH_TOKEN}, or --config)")
    revoke.add_argument("--config", help="read refresh_token (and dc_region, accounts_url) from this config")
    _add_target_args(revoke, with_environment=False)
    revoke.set_defaults(handler=_cmd_revoke)
    return parser


def _option_name(config_key: str) -> str:
    return "--" + config_key.replace("_", "-")


def _resolve_target(
    dc_region: str | None, environment: str | None, accounts_url: str | None, api_url: str | None
) -> _Target:
    """Validate data centre, environment and URL overrides with ``parse_config`` (placeholder secrets)."""
    raw = {
        "client_id": _PLACEHOLDER,
        "client_secret": _PLACEHOLDER,
        "refresh_token": _PLACEHOLDER,
        "dc_region": dc_region,
        "environment": environment,
        "accounts_url": accounts_url,
        "api_url": api_url,
    }
    try:
        config = parse_config(raw)
    except ConfigError as error:
        detail = error.message.removeprefix(f"Config field '{error.field}': ")
        raise CliError(f"{_option_name(error.field)}: {detail}") from None
    return _Target(config.dc_region, config.environment, config.accounts_url, config.api_url)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _ask_secret(prompt: str) -> str:
    if not _interactive():
        return ""
    try:
        return getpass.getpass(prompt).strip()
    except EOFError:
        return ""


def _client_credentials(args: argparse.Namespace, run: _Run) -> tuple[str, str]:
    client_id = (args.client_id or os.environ.get(ENV_CLIENT_ID) or "").strip()
    if not client_id:
        raise CliError(
            f"--client-id is required (or set {ENV_CLIENT_ID}): the Client ID in the Zoho API console"
        )
    raw_secret = args.client_secret or os.environ.get(ENV_CLIENT_SECRET) or ""
    run.secret(raw_secret)
    client_secret = raw_secret.strip() or _ask_secret("Client secret: ")
    if not client_secret:
        raise CliError(f"the client secret is required: set {ENV_CLIENT_SECRET} (or pass --client-secret)")
    run.secret(client_secret)
    return client_id, client_secret


# --- output file ---------------------------------------------------------------------------------------


def _exists_message(path: str) -> str:
    return f"{path} already exists: pass --force to overwrite it, or choose another --output"


def _check_output(path: str, force: bool) -> None:
    """Fail before talking to Zoho (a grant code is single-use) when the file cannot be written."""
    if os.path.isdir(path):
        raise CliError(f"{path} is a directory: give a file name with --output")
    if os.path.lexists(path) and not force:
        raise CliError(_exists_message(path))
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CliError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CliError(f"cannot write {path}: directory {parent} is not writable")


def _write_config(path: str, config: Mapping[str, str], force: bool) -> None:
    """Write the config JSON readable by the owner only (0600), also when replacing a file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CliError(_exists_message(path)) from None
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror or type(error).__name__}") from None
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through os.open
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(config), handle, indent=2)
            handle.write("\n")
        os.chmod(path, 0o600)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror or type(error).__name__}") from None


# --- talking to Zoho -------------------------------------------------------------------------------


def _post(
    url: str, *, data: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None
) -> tuple[int, Any]:
    """POST and return (status, parsed JSON body or None); network failures become CliError."""
    server = url.split("/oauth/", 1)[0]
    try:
        response = requests.post(url, data=data, params=params, timeout=HTTP_TIMEOUT)
    except requests.RequestException as error:
        raise CliError(
            f"could not reach the Zoho accounts server {server} ({type(error).__name__}): "
            "check the network and --dc-region / --accounts-url"
        ) from None
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return response.status_code, body


def _error_of(body: Any) -> tuple[str, str]:
    if not isinstance(body, Mapping):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")


def _is_throttle(error: str, description: str) -> bool:
    text = f"{error} {description}".lower()
    return error == "Access Denied" or "too many requests" in text or "throttle" in text


def _console_for(accounts_url: str) -> str:
    host = urlsplit(accounts_url).hostname or ""
    if host not in _HOST_TO_DC:
        return "the API console"
    return f"https://{host.replace('accounts.', 'api-console.', 1)}"


def _token_failure(status: int, body: Any, target: _Target, flow: str) -> CliError:
    """Turn a token answer without a refresh token into an actionable one-line error."""
    error, description = _error_of(body)
    where = f"data centre {target.dc_region} ({target.accounts_url})"
    if error == "invalid_code":
        if flow == "self-client":
            return CliError(
                "Zoho rejected the grant code (invalid_code): the grant code is wrong, already used, or "
                "expired (Self Client codes last 3–10 minutes): make a new one and run again"
            )
        return CliError(
            "Zoho rejected the authorization code (invalid_code): it is wrong, already used, or expired "
            "(codes last a few minutes): run the command again"
        )
    if error == "invalid_client":
        return CliError(
            "Zoho rejected the client (invalid_client): client id or secret is wrong, or the client is not "
            f"registered in {where}: check --dc-region (the client lives in the data centre of the API "
            f"console it was made in, e.g. {_console_for(target.accounts_url)})"
        )
    if _is_throttle(error, description):
        return CliError(
            "Zoho is throttling token requests (too many requests): wait a few minutes and run again"
        )
    if error == "invalid_redirect_uri":
        return CliError(
            "Zoho rejected the redirect URI (invalid_redirect_uri): add it exactly as printed to the "
            "client's Authorized Redirect URIs in the Zoho API console, or pass the --port registered there"
        )
    if error:
        return CliError(f"Zoho refused the token request ({error}) at {where}")
    if isinstance(body, Mapping) and body.get("access_token"):
        return CliError(
            "Zoho returned an access token but no refresh token: the code was made without "
            "access_type=offline (offline access); make a new code with offline access and run again"
        )
    return CliError(
        f"unexpected answer from {target.accounts_url} (HTTP {status}, no token): check --accounts-url"
    )


def _exchange_code(
    target: _Target,
    client_id: str,
    client_secret: str,
    code: str,
    run: _Run,
    *,
    flow: str,
    redirect_uri: str | None = None,
) -> str:
    """POST the authorization_code grant; return the refresh token (remembered as a secret)."""
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
    }
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    status, body = _post(f"{target.accounts_url}/oauth/v2/token", data=form)
    if isinstance(body, Mapping):
        for key in ("access_token", "refresh_token", "id_token"):
            value = body.get(key)
            run.secret(value if isinstance(value, str) else None)
        refresh_token = body.get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token.strip() and not body.get("error"):
            return refresh_token.strip()
    raise _token_failure(status, body, target, flow)


def _finish(
    args: argparse.Namespace,
    target: _Target,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    run: _Run,
) -> int:
    _write_config(args.output, target.config(client_id, client_secret, refresh_token), args.force)
    run.say(f"Wrote {args.output} (data centre {target.dc_region}, environment {target.environment})")
    return 0


# --- self-client ---------------------------------------------------------------------------------------


def _cmd_self_client(args: argparse.Namespace, run: _Run) -> int:
    client_id, client_secret = _client_credentials(args, run)
    run.secret(args.code)
    code = (args.code or "").strip() or _ask_secret("Grant code: ")
    if not code:
        raise CliError("--code is required: in the Zoho API console, Self Client > Generate Code")
    run.secret(code)
    target = _resolve_target(args.dc_region, args.environment, args.accounts_url, args.api_url)
    _check_output(args.output, args.force)
    refresh_token = _exchange_code(target, client_id, client_secret, code, run, flow="self-client")
    return _finish(args, target, client_id, client_secret, refresh_token, run)


# --- browser ---------------------------------------------------------------------------------------------

_PAGE_OK = "Zoho sent the authorization back. You can close this tab and return to the terminal."
_PAGE_ERROR = "Zoho reported an error (see the terminal). You can close this tab."


class _CallbackServer(http.server.ThreadingHTTPServer):
    """Serves /callback until the first redirect arrives; ``params`` holds its query."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.params: dict[str, str] | None = None
        self.received = threading.Event()
        self.lock = threading.Lock()


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: _CallbackServer
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


def _new_state() -> str:
    """The anti-forgery ``state`` of one consent request."""
    return secrets.token_urlsafe(24)


def _listen(port: int) -> _CallbackServer:
    try:
        return _CallbackServer(port)
    except OSError as error:
        raise CliError(
            f"cannot listen on 127.0.0.1:{port} ({error.strerror or type(error).__name__}): free the port or "
            "pass another --port (registered as http://localhost:<port>/callback for the client)"
        ) from None


def _wait_for_callback(server: _CallbackServer, timeout: float) -> dict[str, str]:
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


def _read_pasted(run: _Run) -> dict[str, str]:
    run.say(
        "Paste the full address the browser ended on (http://localhost:.../callback?...; the page itself "
        "may not load), then press Enter:"
    )
    try:
        line = sys.stdin.readline()
    except (OSError, ValueError, RuntimeError):
        line = ""
    params = parse_redirect(line)
    run.secret(params.get("code"))
    if not line.strip():
        raise CliError("nothing was pasted: run again and paste the address the browser ended on")
    return params


def _check_redirect(params: Mapping[str, str], state: str, run: _Run) -> str:
    """Return the code of a redirect, after checking ``error`` and ``state``."""
    run.secret(params.get("code"))
    error = params.get("error", "")
    if error == "access_denied":
        raise CliError(
            "you denied consent in the browser (access_denied): run again and click Accept to let the "
            "connector read your CRM"
        )
    if error == "invalid_client":
        raise CliError(
            "Zoho does not know this client (invalid_client): check --client-id, and --dc-region (the client "
            "must be registered in the data centre of the account)"
        )
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


def _api_override(target: _Target) -> str | None:
    default = api_url_for(target.dc_region, target.environment)
    return target.api_url if target.api_url != default else None


def _target_from_redirect(params: Mapping[str, str], target: _Target, run: _Run) -> _Target:
    """Where to exchange the code: the data centre named by the redirect's ``accounts-server``."""
    server = params.get("accounts-server", "").strip().rstrip("/")
    if not server:
        return target
    dc = dc_for_accounts_server(server)
    if dc is not None:
        if dc == target.dc_region:
            return target
        run.say(
            f"Zoho says the account is in data centre {dc} ({server}), not {target.dc_region}: using {dc}."
        )
        return _resolve_target(dc, target.environment, None, _api_override(target))
    if _is_loopback_url(server):
        if server != target.accounts_url:
            run.say(f"Using the accounts server named by the redirect: {server}.")
        return _resolve_target(target.dc_region, target.environment, server, _api_override(target))
    run.say(f"Ignoring the redirect's accounts server {server} (not a Zoho accounts server).")
    return target


def _cmd_browser(args: argparse.Namespace, run: _Run) -> int:
    client_id, client_secret = _client_credentials(args, run)
    target = _resolve_target(args.dc_region, args.environment, args.accounts_url, args.api_url)
    _check_output(args.output, args.force)
    if args.timeout <= 0:
        raise CliError("--timeout must be a positive number of seconds")
    state = _new_state()
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port} is not a TCP port (0-65535)")
    server = None if args.paste else _listen(args.port)
    port = server.server_address[1] if server is not None else args.port
    redirect_uri = f"http://localhost:{port}/callback"
    url = consent_url(target.accounts_url, client_id, redirect_uri, state)
    run.say(f"Redirect URI (must be an Authorized Redirect URI of the client): {redirect_uri}")
    run.say("Open this address to let the connector read your Zoho CRM:")
    print(url, flush=True)
    if server is None:
        params = _read_pasted(run)
    else:
        if not args.no_browser:
            try:
                opened = webbrowser.open(url)
            except Exception:  # any launcher failure only means: open it by hand
                opened = False
            if not opened:
                run.say("Could not open a browser: open the address above yourself.")
        run.say(f"Waiting up to {args.timeout:g} s for Zoho to redirect to {redirect_uri} ...")
        params = _wait_for_callback(server, args.timeout)
    code = _check_redirect(params, state, run)
    target = _target_from_redirect(params, target, run)
    refresh_token = _exchange_code(
        target, client_id, client_secret, code, run, flow="browser", redirect_uri=redirect_uri
    )
    return _finish(args, target, client_id, client_secret, refresh_token, run)


# --- revoke ------------------------------------------------------------------------------------------------


def _load_config_file(path: str, run: _Run) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or type(error).__name__}") from None
    try:
        raw = json.loads(text)
    except ValueError:
        raise CliError(f"{path} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise CliError(f"{path} is not a JSON object")
    for key in ("client_secret", "refresh_token", "access_token"):
        value = raw.get(key)
        run.secret(value if isinstance(value, str) else None)
    return raw


def _cmd_revoke(args: argparse.Namespace, run: _Run) -> int:
    run.secret(args.refresh_token)
    file_config: dict[str, Any] = _load_config_file(args.config, run) if args.config else {}
    token = args.refresh_token or file_config.get("refresh_token") or os.environ.get(ENV_REFRESH_TOKEN) or ""
    token = token.strip() if isinstance(token, str) else ""
    if not token:
        where = f" (no refresh_token in {args.config})" if args.config else ""
        raise CliError(
            f"a refresh token is required{where}: pass --refresh-token, --config, or set {ENV_REFRESH_TOKEN}"
        )
    run.secret(token)
    dc_region = args.dc_region or file_config.get("dc_region")
    accounts_url = args.accounts_url or (file_config.get("accounts_url") if not args.dc_region else None)
    target = _resolve_target(dc_region, None, accounts_url, None)
    status, body = _post(f"{target.accounts_url}/oauth/v2/token/revoke", params={"token": token})
    error, description = _error_of(body)
    if _is_throttle(error, description):
        raise CliError("Zoho is throttling requests (too many requests): wait a few minutes and run again")
    if error == "invalid_code" or error == "invalid_token":
        raise CliError(
            f"Zoho does not know this refresh token ({error}): it is wrong, already revoked, or from another "
            f"data centre than {target.dc_region}: check --dc-region"
        )
    if error:
        raise CliError(f"Zoho refused to revoke the token ({error}) at {target.accounts_url}")
    if not 200 <= status < 300:
        raise CliError(f"unexpected answer from {target.accounts_url} (HTTP {status}): check --accounts-url")
    run.say(f"Revoked the refresh token at {target.accounts_url} (data centre {target.dc_region})")
    return 0


# --- entry point --------------------------------------------------------------------------------------------


def _unknown_arguments(extras: Iterable[str]) -> str:
    """Name unrecognized options but never echo values (a mistyped option's value may be a secret)."""
    names = [item.split("=", 1)[0] for item in extras if item.startswith("-")]
    shown = ", ".join(names) if names else "values not shown"
    return f"unrecognized arguments ({shown}); see {PROG} --help"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``zoho-crm-auth``; return the exit code (0 success, 2 failure)."""
    run = _Run()
    try:
        args, extras = _build_parser().parse_known_args(list(argv) if argv is not None else None)
        if extras:
            raise CliError(_unknown_arguments(extras))
        return int(args.handler(args, run))
    except _UsageExit as usage:
        return usage.code
    except CliError as error:
        print(f"{PROG}: {run.scrub(str(error))}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
    except Exception as error:  # no stack trace, no message that might hold a secret
        print(f"{PROG}: unexpected {type(error).__name__}; please report it", file=sys.stderr, flush=True)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
