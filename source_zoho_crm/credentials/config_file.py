"""The connector config `zoho-crm-auth` writes (0600, parent directories created) or reads."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from source_zoho_crm.api_domain import api_url_from_domain
from source_zoho_crm.config import ConfigError, accounts_url_for, api_url_for, parse_config
from source_zoho_crm.credentials.scrub import CliError, Secrets

_PLACEHOLDER = "placeholder"


@dataclass(frozen=True)
class Target:
    """Where to talk to Zoho and what to write: validated with the connector's own config rules."""

    dc_region: str
    environment: str
    accounts_url: str
    api_url: str

    @property
    def api_url_is_default(self) -> bool:
        return self.api_url == api_url_for(self.dc_region, self.environment)

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
        if not self.api_url_is_default:
            config["api_url"] = self.api_url
        return config

    def with_api_domain(self, api_domain: str | None) -> Target:
        """The target with the API host Zoho named for the org, unless ``--api-url`` was given."""
        named = api_url_from_domain(api_domain, self.environment)
        if not named or not self.api_url_is_default or named == self.api_url:
            return self
        return Target(self.dc_region, self.environment, self.accounts_url, named)


def option_name(config_key: str) -> str:
    return "--" + config_key.replace("_", "-")


def resolve_target(
    dc_region: str | None, environment: str | None, accounts_url: str | None, api_url: str | None
) -> Target:
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
        raise CliError(f"{option_name(error.field)}: {detail}") from None
    return Target(config.dc_region, config.environment, config.accounts_url, config.api_url)


def _exists_message(path: str) -> str:
    return f"{path} already exists: pass --force to overwrite it, or choose another --output"


def check_output(path: str, force: bool) -> None:
    """Fail before talking to Zoho (a grant code is single-use) when the file cannot be written."""
    if os.path.isdir(path):
        raise CliError(f"{path} is a directory: give a file name with --output")
    if os.path.lexists(path) and not force:
        raise CliError(_exists_message(path))
    parent = os.path.dirname(os.path.abspath(path))
    existing = parent
    while not os.path.lexists(existing):  # missing directories are created when writing
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise CliError(f"cannot write {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"cannot write {path}: directory {existing} is not writable")


def write_config(path: str, config: Mapping[str, str], force: bool) -> None:
    """Write the config JSON readable by the owner only (0600), also when replacing a file;
    missing parent directories (``secrets/``) are created owner-only (0700)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        _make_private_dirs(os.path.dirname(os.path.abspath(path)))
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


def _make_private_dirs(directory: str) -> None:
    """Create ``directory`` and its missing parents, each 0700 (``os.makedirs`` uses the umask there)."""
    missing: list[str] = []
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        os.mkdir(path, 0o700)


def load_config_file(path: str, secrets: Secrets) -> dict[str, Any]:
    """A connector config to read a refresh token from (``revoke --config``)."""
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
        secrets.secret(value if isinstance(value, str) else None)
    return raw
