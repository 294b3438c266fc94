"""The OAuth HTTP exchange with Zoho's accounts server: consent URL, code exchange, revocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from source_zoho_crm.config import DC_REGIONS, accounts_url_for
from source_zoho_crm.credentials.config_file import Target
from source_zoho_crm.credentials.scrub import CliError, Secrets
from source_zoho_crm.scopes import READ_SCOPES
from source_zoho_crm.token_errors import TokenErrorKind, classify_token_error

HTTP_TIMEOUT = (10, 60)  # (connect, read) seconds

# accounts host -> canonical data centre, derived from the config module's table.
HOST_TO_DC: dict[str, str] = {str(urlsplit(accounts_url_for(dc)).hostname): dc for dc in DC_REGIONS}
_THROTTLED = "Zoho is throttling requests (too many requests): wait a few minutes and run again"


@dataclass(frozen=True)
class Grant:
    """What a code exchange gives: the refresh token, and the org's API host."""

    refresh_token: str
    api_domain: str | None


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
    return HOST_TO_DC.get((parts.hostname or "").lower())


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


def _console_for(accounts_url: str) -> str:
    host = urlsplit(accounts_url).hostname or ""
    if host not in HOST_TO_DC:
        return "the API console"
    return f"https://{host.replace('accounts.', 'api-console.', 1)}"


def _token_failure(status: int, body: Any, target: Target, flow: str) -> CliError:
    """Turn a token answer without a refresh token into an actionable one-line error."""
    problem = classify_token_error(status, body)
    where = f"data centre {target.dc_region} ({target.accounts_url})"
    if problem.kind is TokenErrorKind.BAD_GRANT:
        if flow == "self-client":
            return CliError(
                problem.named(
                    "Zoho rejected the grant code (invalid_code): the grant code is wrong, already used, or "
                    "expired (Self Client codes last 3–10 minutes): make a new one and run again"
                )
            )
        return CliError(
            problem.named(
                "Zoho rejected the authorization code (invalid_code): it is wrong, already used, or expired "
                "(codes last a few minutes): run the command again"
            )
        )
    if problem.kind is TokenErrorKind.BAD_CLIENT:
        return CliError(
            problem.named(
                "Zoho rejected the client (invalid_client): client id or secret is wrong, or the client is "
                f"not registered in {where}: check --dc-region (the client lives in the data centre of the "
                f"API console it was made in, e.g. {_console_for(target.accounts_url)})"
            )
        )
    if problem.kind is TokenErrorKind.THROTTLED:
        return CliError(
            "Zoho is throttling token requests (too many requests): wait a few minutes and run again"
        )
    if problem.kind is TokenErrorKind.BAD_REDIRECT_URI:
        return CliError(
            "Zoho rejected the redirect URI (invalid_redirect_uri): add it exactly as printed to the "
            "client's Authorized Redirect URIs in the Zoho API console, or pass the --port registered there"
        )
    if problem.code:
        return CliError(f"Zoho refused the token request ({problem.code}) at {where}")
    if isinstance(body, Mapping) and body.get("access_token"):
        return CliError(
            "Zoho returned an access token but no refresh token: the code was made without "
            "access_type=offline (offline access); make a new code with offline access and run again"
        )
    return CliError(
        f"unexpected answer from {target.accounts_url} (HTTP {status}, no token): check --accounts-url"
    )


def exchange_code(
    target: Target,
    client_id: str,
    client_secret: str,
    code: str,
    secrets: Secrets,
    *,
    flow: str,
    redirect_uri: str | None = None,
) -> Grant:
    """POST the authorization_code grant; the refresh token is remembered as a secret."""
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
            secrets.secret(value if isinstance(value, str) else None)
        refresh_token = body.get("refresh_token")
        if isinstance(refresh_token, str) and refresh_token.strip() and not body.get("error"):
            domain = body.get("api_domain")
            return Grant(refresh_token.strip(), domain if isinstance(domain, str) else None)
    raise _token_failure(status, body, target, flow)


def revoke(target: Target, token: str) -> None:
    """Revoke a refresh token; CliError says why Zoho would not."""
    status, body = _post(f"{target.accounts_url}/oauth/v2/token/revoke", params={"token": token})
    problem = classify_token_error(status, body) if isinstance(body, Mapping) and body.get("error") else None
    if problem is not None and problem.kind is TokenErrorKind.THROTTLED:
        raise CliError(_THROTTLED)
    if problem is not None and problem.kind is TokenErrorKind.BAD_GRANT:
        raise CliError(
            f"Zoho does not know this refresh token ({problem.code}): it is wrong, already revoked, or from "
            f"another data centre than {target.dc_region}: check --dc-region"
        )
    if problem is not None:
        raise CliError(f"Zoho refused to revoke the token ({problem.shown}) at {target.accounts_url}")
    if not 200 <= status < 300:
        if status == 429:
            raise CliError(_THROTTLED)
        raise CliError(f"unexpected answer from {target.accounts_url} (HTTP {status}): check --accounts-url")
