"""pytest fixtures for the Zoho CRM emulator: each test gets a fresh org, stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integration_tests.zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator


@pytest.fixture(scope="session", autouse=True)
def _session_token_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Connector runs keep their access token in a cache file (token_store.py): never the user's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOHO_CRM_TOKEN_CACHE_DIR", str(tmp_path_factory.mktemp("token-cache")))
        yield


@pytest.fixture(autouse=True)
def _token_cache_per_test(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no kept token (module-scoped runs use the session's cache)."""
    monkeypatch.setenv("ZOHO_CRM_TOKEN_CACHE_DIR", str(tmp_path_factory.mktemp("token-cache")))


@pytest.fixture
def zoho_emulator_factory() -> Iterator[Callable[..., ZohoCrmEmulator]]:
    """Start emulators with any settings (`zoho_emulator_factory(preset="realistic")`); all stopped after."""
    started: list[ZohoCrmEmulator] = []

    def start(**settings: Any) -> ZohoCrmEmulator:
        emulator = ZohoCrmEmulator(EmulatorSettings(**{"seed": 5, "preset": "small", **settings})).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def zoho_emulator(zoho_emulator_factory: Callable[..., ZohoCrmEmulator]) -> ZohoCrmEmulator:
    """A fresh emulator with the small preset."""
    return zoho_emulator_factory()
