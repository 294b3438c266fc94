"""``zoho-crm-auth``: argument parsing and the entry point (exit code 0, or 2 with one line on stderr)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import NoReturn

from source_zoho_crm.config import DC_REGIONS, ENVIRONMENTS
from source_zoho_crm.credentials import commands
from source_zoho_crm.credentials.commands import ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REFRESH_TOKEN
from source_zoho_crm.credentials.scrub import CliError, Secrets
from source_zoho_crm.scopes import READ_SCOPES

PROG = "zoho-crm-auth"
DEFAULT_PORT = 33333
DEFAULT_TIMEOUT = 300.0
EXIT_FAILURE = 2


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
    parser.add_argument(
        "--output",
        "-o",
        required=True,
        help="connector config file to write (mode 0600; directories created)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Get a Zoho CRM refresh token and write a ready config for source-zoho-crm.",
        epilog="Exit code 0 on success, 2 on any failure. Secrets are never printed.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    self_client = subcommands.add_parser(
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
    self_client.set_defaults(handler=commands.self_client)

    browser = subcommands.add_parser(
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
    browser.set_defaults(handler=commands.browser)

    revoke = subcommands.add_parser(
        "revoke", help="revoke a refresh token", description="Revoke a refresh token."
    )
    revoke.add_argument("--refresh-token", help=f"the token (or env {ENV_REFRESH_TOKEN}, or --config)")
    revoke.add_argument("--config", help="read refresh_token (and dc_region, accounts_url) from this config")
    _add_target_args(revoke, with_environment=False)
    revoke.set_defaults(handler=commands.revoke_token)
    return parser


def _unknown_arguments(extras: Iterable[str]) -> str:
    """Name unrecognized options but never echo values (a mistyped option's value may be a secret)."""
    names = [item.split("=", 1)[0] for item in extras if item.startswith("-")]
    shown = ", ".join(names) if names else "values not shown"
    return f"unrecognized arguments ({shown}); see {PROG} --help"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``zoho-crm-auth``; return the exit code (0 success, 2 failure)."""
    secrets = Secrets()
    try:
        args, extras = build_parser().parse_known_args(list(argv) if argv is not None else None)
        if extras:
            raise CliError(_unknown_arguments(extras))
        return int(args.handler(args, secrets))
    except _UsageExit as usage:
        return usage.code
    except CliError as error:
        print(f"{PROG}: {secrets.scrub(str(error))}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
    except Exception as error:  # no stack trace, no message that might hold a secret
        print(f"{PROG}: unexpected {type(error).__name__}; please report it", file=sys.stderr, flush=True)
    return EXIT_FAILURE
