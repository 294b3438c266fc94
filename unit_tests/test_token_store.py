"""Tokens kept between runs: a run whose kept token is still valid makes no token request."""

from __future__ import annotations

import json
import math
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from source_zoho_crm import token_store
from source_zoho_crm.auth import ZohoTokenProvider, shared_token_provider
from source_zoho_crm.config import parse_config
from source_zoho_crm.token_store import (
    EXPIRY_KEY,
    RunTokenStore,
    StoredToken,
    TokenCacheFile,
    cache_directory,
    keep_tokens_between_runs,
    token_store_for_run,
)
from unit_tests.conftest import ACCOUNTS, TOKEN_URL, raw_config

NOW = 1_800_000_000.0
SECRETS = ("client-secret-value", "1000.refresh-token-value")


@pytest.fixture(autouse=True)
def _no_run_config() -> Iterator[None]:
    yield
    keep_tokens_between_runs(None)


@pytest.fixture
def grants(requests_mock: Any) -> Any:
    return requests_mock.post(
        TOKEN_URL,
        [
            {"json": {"access_token": "tok-1", "api_domain": "https://www.zohoapis.eu", "expires_in": 3600}},
            {"json": {"access_token": "tok-2", "api_domain": "https://www.zohoapis.eu", "expires_in": 3600}},
        ],
    )


def cache_for(directory: Path, raw: dict[str, Any] | None = None) -> TokenCacheFile:
    config = parse_config(raw or raw_config())
    return TokenCacheFile(directory, config.accounts_url, config.client_id, config.refresh_token)


def provider(raw: dict[str, Any], directory: Path | None, now: float, on_platform: bool = False, **kw: Any):
    config = parse_config(raw)
    cache = cache_for(directory, raw) if directory else None
    store = RunTokenStore(raw, cache, on_platform=on_platform, **kw)
    return ZohoTokenProvider(config, clock=lambda: now, sleep=lambda _: None, store=store)


def test_second_run_with_a_valid_cached_token_makes_no_token_request(tmp_path: Path, grants: Any) -> None:
    first = provider(raw_config(), tmp_path, NOW)
    assert first.token() == "tok-1"
    assert grants.call_count == 1
    second = provider(raw_config(), tmp_path, NOW + 3000)  # 50 minutes later, another process
    assert second.token() == "tok-1"
    assert second.api_domain == "https://www.zohoapis.eu"
    assert grants.call_count == 1 and second.token_requests == 0


def test_a_cached_token_near_its_expiry_is_replaced(tmp_path: Path, grants: Any) -> None:
    provider(raw_config(), tmp_path, NOW).token()
    later = provider(raw_config(), tmp_path, NOW + 3500)  # within the 2-minute margin
    assert later.token() == "tok-2"
    assert grants.call_count == 2
    assert provider(raw_config(), tmp_path, NOW + 3600).token() == "tok-2"  # the new one was kept
    assert grants.call_count == 2


def test_a_cached_token_zoho_rejects_is_refreshed_once(tmp_path: Path, grants: Any) -> None:
    provider(raw_config(), tmp_path, NOW).token()
    second = provider(raw_config(), tmp_path, NOW + 60)
    stale = second.token()
    second.invalidate(stale)  # 401 INVALID_TOKEN: revoked or evicted meanwhile
    assert second.token() == "tok-2"
    second.invalidate(stale)  # other threads reporting the same token: no more requests
    assert second.token() == "tok-2"
    assert grants.call_count == 2


def test_cache_file_is_owner_only_and_named_without_secrets(tmp_path: Path, grants: Any) -> None:
    directory = tmp_path / "cache"
    provider(raw_config(), directory, NOW).token()
    [path] = list(directory.iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert not any(secret in path.name or "1000.CLIENTID" in path.name for secret in SECRETS)
    assert not any(secret in path.read_text() for secret in SECRETS)  # only the access token is kept
    assert json.loads(path.read_text())["expires_at"] == NOW + 3600


def test_each_set_of_credentials_has_its_own_cache(tmp_path: Path, grants: Any) -> None:
    provider(raw_config(), tmp_path, NOW).token()
    other = raw_config(refresh_token="1000.another-refresh-token")
    assert provider(other, tmp_path, NOW).token() == "tok-2"
    assert cache_for(tmp_path).path != cache_for(tmp_path, other).path
    elsewhere = raw_config(accounts_url="http://127.0.0.1:1")
    assert cache_for(tmp_path).path != cache_for(tmp_path, elsewhere).path


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'{"access_token": "x"}', b'{"expires_at": 1}'])
def test_an_unreadable_cache_is_ignored(tmp_path: Path, grants: Any, content: bytes) -> None:
    path = cache_for(tmp_path).path
    path.write_bytes(content)
    path.chmod(0o600)
    assert provider(raw_config(), tmp_path, NOW).token() == "tok-1"
    assert grants.call_count == 1


def test_a_cache_readable_by_others_is_not_trusted(tmp_path: Path, grants: Any) -> None:
    cache_for(tmp_path).save(StoredToken("planted", NOW + 3600))
    cache_for(tmp_path).path.chmod(0o644)
    assert provider(raw_config(), tmp_path, NOW).token() == "tok-1"
    assert stat.S_IMODE(cache_for(tmp_path).path.stat().st_mode) == 0o600  # replaced, private again


def test_an_unwritable_cache_does_not_fail_the_run(tmp_path: Path, grants: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert provider(raw_config(), blocker / "cache", NOW).token() == "tok-1"


# ---- the Airbyte platform: the connector-config control message -------------------------------------


def test_on_the_platform_the_new_token_goes_into_the_config(tmp_path: Path, grants: Any) -> None:
    raw = raw_config(api_url=None, modules=["Leads"], custom_key="kept")
    emitted: list[dict[str, Any]] = []
    assert provider(raw, None, NOW, on_platform=True, emit=emitted.append).token() == "tok-1"
    [config] = emitted
    assert config == {**raw, "access_token": "tok-1", EXPIRY_KEY: "2027-01-15T09:00:00+00:00"}
    assert "api_url" not in config or config["api_url"] is None  # nothing derived is written back
    # The platform passes the updated config to the next run: no token request.
    again = provider(config, None, NOW + 1800, on_platform=True, emit=emitted.append)
    assert again.token() == "tok-1"
    assert grants.call_count == 1 and len(emitted) == 1
    # Past its expiry, the token in the config is replaced (and the platform told).
    expired = provider(config, None, NOW + 3600, on_platform=True, emit=emitted.append)
    assert expired.token() == "tok-2" and emitted[-1]["access_token"] == "tok-2"


def test_off_the_platform_no_control_message_is_printed(
    tmp_path: Path, grants: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    store = token_store_for_run(
        raw_config(), ACCOUNTS, "1000.CLIENTID", "r", env={"ZOHO_CRM_TOKEN_CACHE_DIR": "off"}
    )
    ZohoTokenProvider(parse_config(raw_config()), store=store).token()
    assert capsys.readouterr().out == ""


def test_on_the_platform_the_control_message_is_printed_on_stdout(
    grants: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ZOHO_CRM_TOKEN_CACHE_DIR": "off", "WORKER_JOB_ID": "42"}
    store = token_store_for_run(raw_config(), ACCOUNTS, "1000.CLIENTID", "r", env=env)
    ZohoTokenProvider(parse_config(raw_config()), store=store).token()
    message = json.loads(capsys.readouterr().out)
    assert message["type"] == "CONTROL" and message["control"]["type"] == "CONNECTOR_CONFIG"
    assert message["control"]["connectorConfig"]["config"]["access_token"] == "tok-1"


def test_a_hand_given_token_without_expiry_comes_after_a_kept_one(tmp_path: Path, grants: Any) -> None:
    cache_for(tmp_path).save(StoredToken("kept", NOW + 3600))
    assert provider(raw_config(access_token="by-hand"), tmp_path, NOW).token() == "kept"
    assert provider(raw_config(access_token="by-hand"), None, NOW).token() == "by-hand"
    assert grants.call_count == 0


def test_an_unreadable_expiry_means_expired(grants: Any) -> None:
    raw = raw_config(access_token="old", **{EXPIRY_KEY: "yesterday"})
    assert provider(raw, None, NOW).token() == "tok-1"


# ---- wiring: the process-wide provider uses the run's store ------------------------------------------


def test_shared_provider_keeps_tokens_only_for_the_runs_credentials(
    tmp_path: Path, grants: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOHO_CRM_TOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("WORKER_JOB_ID", raising=False)
    keep_tokens_between_runs(raw_config())
    shared_token_provider(parse_config(raw_config())).token()
    assert len(list(tmp_path.iterdir())) == 1
    assert token_store.store_for(parse_config(raw_config(refresh_token="1000.other-token"))) is None
    keep_tokens_between_runs(None)
    assert token_store.store_for(parse_config(raw_config())) is None


def test_cache_directory_choice(tmp_path: Path) -> None:
    assert cache_directory({"ZOHO_CRM_TOKEN_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert cache_directory({"ZOHO_CRM_TOKEN_CACHE_DIR": "off"}) is None
    assert cache_directory({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "source-zoho-crm"
    assert cache_directory({}).parts[-2:] == (".cache", "source-zoho-crm")


def test_kept_tokens_of_unknown_expiry_are_never_refreshed_on_time(grants: Any) -> None:
    assert StoredToken("x", math.inf).expires_at == math.inf
    assert provider(raw_config(access_token="given"), None, NOW + 10**9).token() == "given"


# ---- what mutation testing found unchecked ------------------------------------------------------------


def test_the_cache_directory_is_made_with_its_parents(tmp_path: Path, grants: Any) -> None:
    provider(raw_config(), tmp_path / "xdg" / "source-zoho-crm", NOW).token()
    assert provider(raw_config(), tmp_path / "xdg" / "source-zoho-crm", NOW).token() == "tok-1"
    assert grants.call_count == 1


def test_a_failed_cache_write_leaves_no_temporary_file(tmp_path: Path, grants: Any) -> None:
    cache_for(tmp_path).path.mkdir()  # os.replace onto a directory fails
    assert provider(raw_config(), tmp_path, NOW).token() == "tok-1"
    assert [path.name for path in tmp_path.iterdir()] == [cache_for(tmp_path).path.name]


def test_a_cache_of_another_user_is_not_trusted(
    tmp_path: Path, grants: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache_for(tmp_path).save(StoredToken("planted", NOW + 3600))
    me = token_store.os.getuid()
    monkeypatch.setattr(token_store.os, "getuid", lambda: me + 1)
    with caplog.at_level("WARNING", logger="airbyte"):
        assert provider(raw_config(), tmp_path, NOW).token() == "tok-1"
    path = cache_for(tmp_path).path
    assert caplog.messages[0] == f"Ignoring the token cache {path}: it is not private to this user."


@pytest.mark.parametrize(
    "body", [{"access_token": "", "expires_at": NOW + 3600}, {"access_token": "x", "expires_at": "inf"}]
)
def test_a_cached_token_without_text_or_expiry_is_ignored(tmp_path: Path, grants: Any, body: Any) -> None:
    path = cache_for(tmp_path).path
    path.write_text(json.dumps(body))
    path.chmod(0o600)
    assert provider(raw_config(), tmp_path, NOW).token() == "tok-1"


@pytest.fixture
def india_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is not UTC (a naive expiry must still be read as UTC)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "expiry",
    ["2027-01-01T00:00:00Z", "2027-01-01T00:00:00", "2027-01-01T02:00:00+02:00", " 2027-01-01T00:00:00Z "],
)
def test_the_platforms_token_expiry_is_read_in_utc(expiry: str, grants: Any, india_local_time: None) -> None:
    end = 1_798_761_600.0  # 2027-01-01T00:00:00Z
    raw = raw_config(access_token="given", **{EXPIRY_KEY: expiry})
    assert provider(raw, None, end - 121).token() == "given"
    assert provider(raw, None, end - 120).token() == "tok-1"


def test_the_default_cache_directory_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_directory({}) == tmp_path / ".cache" / "source-zoho-crm"


def test_kept_tokens_also_keep_the_api_domain_and_expiry(
    tmp_path: Path, grants: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared provider of the run saves its token; the next process reuses it with its domain."""
    monkeypatch.setenv("ZOHO_CRM_TOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("WORKER_JOB_ID", raising=False)
    keep_tokens_between_runs(raw_config())
    before = time.time()
    shared_token_provider(parse_config(raw_config())).token()
    [stored] = cache_for(tmp_path).load()
    assert stored.api_domain == "https://www.zohoapis.eu"
    assert before + 3600 <= stored.expires_at <= time.time() + 3600
    second = ZohoTokenProvider(
        parse_config(raw_config()), store=token_store.store_for(parse_config(raw_config()))
    )
    assert second.token() == "tok-1"
    assert second.api_domain == "https://www.zohoapis.eu"
    assert grants.call_count == 1


def test_with_a_store_the_configs_access_token_is_the_stores_business(tmp_path: Path, grants: Any) -> None:
    cache_for(tmp_path).save(StoredToken("kept", NOW + 3600))
    config = parse_config(raw_config(access_token="by-hand"))
    store = RunTokenStore(raw_config(), cache_for(tmp_path), on_platform=False)
    assert ZohoTokenProvider(config, clock=lambda: NOW, store=store).token() == "kept"
