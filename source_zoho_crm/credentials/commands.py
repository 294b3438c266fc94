"""The three subcommands of ``zoho-crm-auth``: self-client, browser, revoke."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import webbrowser
from typing import Any

from source_zoho_crm.credentials import callback
from source_zoho_crm.credentials.config_file import (
    Target,
    check_output,
    load_config_file,
    resolve_target,
    write_config,
)
from source_zoho_crm.credentials.oauth import Grant, consent_url, exchange_code, revoke
from source_zoho_crm.credentials.scrub import CliError, Secrets

ENV_CLIENT_ID = "ZOHO_CLIENT_ID"
ENV_CLIENT_SECRET = "ZOHO_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "ZOHO_REFRESH_TOKEN"


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


def _client_credentials(args: argparse.Namespace, secrets: Secrets) -> tuple[str, str]:
    client_id = (args.client_id or os.environ.get(ENV_CLIENT_ID) or "").strip()
    if not client_id:
        raise CliError(
            f"--client-id is required (or set {ENV_CLIENT_ID}): the Client ID in the Zoho API console"
        )
    raw_secret = args.client_secret or os.environ.get(ENV_CLIENT_SECRET) or ""
    secrets.secret(raw_secret)
    client_secret = raw_secret.strip() or _ask_secret("Client secret: ")
    if not client_secret:
        raise CliError(f"the client secret is required: set {ENV_CLIENT_SECRET} (or pass --client-secret)")
    secrets.secret(client_secret)
    return client_id, client_secret


def _finish(
    args: argparse.Namespace,
    target: Target,
    client_id: str,
    client_secret: str,
    grant: Grant,
    secrets: Secrets,
) -> int:
    named = target.with_api_domain(grant.api_domain)
    if named is not target:
        secrets.say(f"Zoho names {named.api_url} as the org's API domain: written as api_url.")
    write_config(args.output, named.config(client_id, client_secret, grant.refresh_token), args.force)
    secrets.say(f"Wrote {args.output} (data centre {target.dc_region}, environment {target.environment})")
    return 0


def self_client(args: argparse.Namespace, secrets: Secrets) -> int:
    client_id, client_secret = _client_credentials(args, secrets)
    secrets.secret(args.code)
    code = (args.code or "").strip() or _ask_secret("Grant code: ")
    if not code:
        raise CliError("--code is required: in the Zoho API console, Self Client > Generate Code")
    secrets.secret(code)
    target = resolve_target(args.dc_region, args.environment, args.accounts_url, args.api_url)
    check_output(args.output, args.force)
    grant = exchange_code(target, client_id, client_secret, code, secrets, flow="self-client")
    return _finish(args, target, client_id, client_secret, grant, secrets)


def _open_browser(url: str, secrets: Secrets) -> None:
    try:
        opened = webbrowser.open(url)
    except Exception:  # any launcher failure only means: open it by hand
        opened = False
    if not opened:
        secrets.say("Could not open a browser: open the address above yourself.")


def browser(args: argparse.Namespace, secrets: Secrets) -> int:
    client_id, client_secret = _client_credentials(args, secrets)
    target = resolve_target(args.dc_region, args.environment, args.accounts_url, args.api_url)
    check_output(args.output, args.force)
    if args.timeout <= 0:
        raise CliError("--timeout must be a positive number of seconds")
    state = callback.new_state()
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port} is not a TCP port (0-65535)")
    server = None if args.paste else callback.listen(args.port)
    port = server.server_address[1] if server is not None else args.port
    redirect_uri = f"http://localhost:{port}/callback"
    url = consent_url(target.accounts_url, client_id, redirect_uri, state)
    secrets.say(f"Redirect URI (must be an Authorized Redirect URI of the client): {redirect_uri}")
    secrets.say("Open this address to let the connector read your Zoho CRM:")
    print(url, flush=True)
    if server is None:
        params = callback.read_pasted(secrets)
    else:
        if not args.no_browser:
            _open_browser(url, secrets)
        secrets.say(f"Waiting up to {args.timeout:g} s for Zoho to redirect to {redirect_uri} ...")
        params = callback.wait_for_callback(server, args.timeout)
    code = callback.check_redirect(params, state, secrets)
    target = callback.target_from_redirect(params, target, secrets)
    grant = exchange_code(
        target, client_id, client_secret, code, secrets, flow="browser", redirect_uri=redirect_uri
    )
    return _finish(args, target, client_id, client_secret, grant, secrets)


def revoke_token(args: argparse.Namespace, secrets: Secrets) -> int:
    secrets.secret(args.refresh_token)
    file_config: dict[str, Any] = load_config_file(args.config, secrets) if args.config else {}
    token = args.refresh_token or file_config.get("refresh_token") or os.environ.get(ENV_REFRESH_TOKEN) or ""
    token = token.strip() if isinstance(token, str) else ""
    if not token:
        where = f" (no refresh_token in {args.config})" if args.config else ""
        raise CliError(
            f"a refresh token is required{where}: pass --refresh-token, --config, or set {ENV_REFRESH_TOKEN}"
        )
    secrets.secret(token)
    dc_region = args.dc_region or file_config.get("dc_region")
    accounts_url = args.accounts_url or (file_config.get("accounts_url") if not args.dc_region else None)
    target = resolve_target(dc_region, None, accounts_url, None)
    revoke(target, token)
    secrets.say(f"Revoked the refresh token at {target.accounts_url} (data centre {target.dc_region})")
    return 0
