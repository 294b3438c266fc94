"""Keeps the access token between runs, so back-to-back runs do not each take a new one.

Zoho issues at most 10 access tokens per refresh token in 10 minutes; a token lives an hour.
- On the command line (and in PyAirbyte, which passes a temporary copy of the config) the token,
  its expiry and its `api_domain` go to an owner-only (0600) cache file, named by a hash of the
  accounts URL, client id and refresh token (never a secret itself), in
  `$ZOHO_CRM_TOKEN_CACHE_DIR`, else `$XDG_CACHE_HOME/source-zoho-crm`, else
  `~/.cache/source-zoho-crm`. `ZOHO_CRM_TOKEN_CACHE_DIR=off` turns it off.
- On the Airbyte platform (it sets `WORKER_JOB_ID`) the CDK's connector-config control message
  carries the config with `access_token` and `token_expiry_date`, as the CDK's single-use
  refresh-token authenticator does; the platform stores it and passes it to the next run.
  Elsewhere no control message is printed: it holds the whole config, secrets included.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import orjson
from airbyte_cdk import emit_configuration_as_airbyte_control_message

from source_zoho_crm.config import ConfigError, ZohoConfig, parse_config

logger = logging.getLogger("airbyte")

CACHE_DIR_ENV = "ZOHO_CRM_TOKEN_CACHE_DIR"
PLATFORM_ENV = "WORKER_JOB_ID"  # set by the Airbyte platform in every connector container
EXPIRY_KEY = "token_expiry_date"
_OFF = frozenset({"off", "none", "0", "false"})


@dataclass(frozen=True)
class StoredToken:
    access_token: str
    expires_at: float  # Unix time of Zoho's stated expiry; inf when unknown (a token given by hand)
    api_domain: str | None = None


class TokenStore(Protocol):
    def load(self) -> list[StoredToken]:
        """Every token kept for these credentials (the provider picks a valid one)."""

    def save(self, token: StoredToken) -> None:
        """Keep a newly obtained token for the next run; never raises."""


class TokenCacheFile:
    """One JSON file per set of credentials, readable by its owner only."""

    def __init__(self, directory: Path, accounts_url: str, client_id: str, refresh_token: str) -> None:
        key = hashlib.sha256("\n".join((accounts_url, client_id, refresh_token)).encode()).hexdigest()
        self.path = directory / f"token-{key[:40]}.json"

    def load(self) -> list[StoredToken]:
        try:
            info = self.path.stat()
            if info.st_mode & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                logger.warning("Ignoring the token cache %s: it is not private to this user.", self.path)
                return []
            body = orjson.loads(self.path.read_bytes())
            token = StoredToken(
                str(body["access_token"]), float(body["expires_at"]), body.get("api_domain") or None
            )
        except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return []
        return [token] if token.access_token and math.isfinite(token.expires_at) else []

    def save(self, token: StoredToken) -> None:
        body = {
            "access_token": token.access_token,
            "expires_at": token.expires_at,
            "api_domain": token.api_domain,
        }
        directory = self.path.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".token-", dir=directory)  # created 0600
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(orjson.dumps(body))
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as error:
            logger.info("Could not write the token cache in %s (%s).", directory, type(error).__name__)


class RunTokenStore:
    """The tokens of one run: the config's `access_token`, the cache file, and the platform's config."""

    def __init__(
        self,
        raw_config: Mapping[str, Any],
        cache: TokenCacheFile | None,
        on_platform: bool,
        emit: Callable[[dict[str, Any]], None] = emit_configuration_as_airbyte_control_message,
    ) -> None:
        self._raw = dict(raw_config)
        self._cache = cache
        self._on_platform = on_platform
        self._emit = emit

    def load(self) -> list[StoredToken]:
        tokens = list(self._cache.load()) if self._cache else []
        given = self._raw.get("access_token")
        if isinstance(given, str) and given.strip():
            tokens.append(StoredToken(given.strip(), _expiry(self._raw.get(EXPIRY_KEY))))
        return tokens

    def save(self, token: StoredToken) -> None:
        if self._cache is not None:
            self._cache.save(token)
        if self._on_platform:
            expiry = datetime.fromtimestamp(token.expires_at, timezone.utc).isoformat(timespec="seconds")
            self._raw.update({"access_token": token.access_token, EXPIRY_KEY: expiry})
            try:
                self._emit(dict(self._raw))
            except (OSError, ValueError) as error:
                logger.info("Could not send the new token to the platform (%s).", type(error).__name__)


def _expiry(value: Any) -> float:
    """`token_expiry_date` of the config as Unix time; a token without one lives until Zoho rejects it."""
    if not isinstance(value, str) or not value.strip():
        return math.inf
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return 0.0  # unreadable: treat the token as expired
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def cache_directory(env: Mapping[str, str] = os.environ) -> Path | None:
    """Where token cache files go, or None when turned off."""
    chosen = env.get(CACHE_DIR_ENV)
    if chosen is not None:
        return None if not chosen.strip() or chosen.strip().lower() in _OFF else Path(chosen).expanduser()
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "source-zoho-crm"


def token_store_for_run(
    raw_config: Mapping[str, Any],
    accounts_url: str,
    client_id: str,
    refresh_token: str,
    env: Mapping[str, str] = os.environ,
) -> RunTokenStore:
    """The store a `source-zoho-crm` process uses for these credentials."""
    directory = cache_directory(env)
    cache = TokenCacheFile(directory, accounts_url, client_id, refresh_token) if directory else None
    return RunTokenStore(raw_config, cache, on_platform=bool(env.get(PLATFORM_ENV)))


_RUN_CONFIG: dict[str, Any] | None = None


def keep_tokens_between_runs(raw_config: Mapping[str, Any] | None) -> None:
    """Called by `source-zoho-crm` with the config as read: this process keeps its token (cache
    file, or the platform's config) and reuses a kept one. None turns it off (the default)."""
    global _RUN_CONFIG
    _RUN_CONFIG = dict(raw_config) if isinstance(raw_config, Mapping) else None


def store_for(config: ZohoConfig) -> RunTokenStore | None:
    """The store for these credentials, when they are those of the run's config."""
    if _RUN_CONFIG is None:
        return None
    try:
        run = parse_config(_RUN_CONFIG)
    except ConfigError:
        return None
    mine = (config.client_id, config.refresh_token, config.accounts_url)
    if (run.client_id, run.refresh_token, run.accounts_url) != mine:
        return None
    return token_store_for_run(_RUN_CONFIG, config.accounts_url, config.client_id, config.refresh_token)
