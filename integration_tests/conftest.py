"""pytest fixtures for the Zoho CRM emulator: each test gets a fresh org, stopped afterwards.

Emulator settings (`EmulatorSettings.strictness`) for the end-to-end tests: `--emulator-setting` (or the
environment variable `ZOHO_EMULATOR_SETTING`) is `default`, `pessimistic` or `both`; e2e tests whose emulators
come from `zoho_emulator_factory` (or that request `emulator_strictness`) run in the setting chosen, once per
setting with `both`. A test marked `all_emulator_settings` always runs in both.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from integration_tests.emulator_helpers import api
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator
from zoho_crm_emulator.settings import STRICTNESS

OPTION = "--emulator-setting"
ENV = "ZOHO_EMULATOR_SETTING"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        choices=[*STRICTNESS, "both"],
        default=os.environ.get(ENV) or "default",
        help=f"emulator setting of the e2e tests: default, pessimistic or both (env {ENV})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "all_emulator_settings: run in the default and the pessimistic emulator setting"
    )
    chosen = config.getoption(OPTION)
    if chosen not in (*STRICTNESS, "both"):  # the env variable bypasses argparse's choices
        raise pytest.UsageError(f"{ENV}={chosen!r}: expected default, pessimistic or both")


def settings_for(metafunc: pytest.Metafunc) -> list[str]:
    if metafunc.definition.get_closest_marker("all_emulator_settings"):
        return list(STRICTNESS)
    if not metafunc.definition.get_closest_marker("e2e"):
        return ["default"]
    chosen = metafunc.config.getoption(OPTION)
    return list(STRICTNESS) if chosen == "both" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "emulator_strictness" not in metafunc.fixturenames:
        return
    values = settings_for(metafunc)
    if values != ["default"]:  # unparametrised tests keep their ids
        metafunc.parametrize("emulator_strictness", values, indirect=True, scope="module")


@pytest.fixture(scope="module")
def emulator_strictness(request: pytest.FixtureRequest) -> str:
    """The emulator setting (`EmulatorSettings.strictness`) this test runs in."""
    return str(getattr(request, "param", "default"))


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
def zoho_emulator_factory(emulator_strictness: str) -> Iterator[Callable[..., ZohoCrmEmulator]]:
    """Start emulators with any settings (`zoho_emulator_factory(preset="realistic")`); all stopped after."""
    started: list[ZohoCrmEmulator] = []

    def start(**settings: Any) -> ZohoCrmEmulator:
        chosen = {"seed": 5, "preset": "small", "strictness": emulator_strictness, **settings}
        emulator = ZohoCrmEmulator(EmulatorSettings(**chosen)).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def zoho_emulator(zoho_emulator_factory: Callable[..., ZohoCrmEmulator]) -> ZohoCrmEmulator:
    """A fresh emulator with the small preset."""
    return zoho_emulator_factory()


# ---------------------------------------------------------------------------- the emulator's own tests
@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    """The realistic org; tests must not mutate it (use `make_emu` for that)."""
    with ZohoCrmEmulator(EmulatorSettings(seed=7, preset="realistic")) as emulator:
        yield emulator


@pytest.fixture
def make_emu() -> Iterator[Callable[..., ZohoCrmEmulator]]:
    started: list[ZohoCrmEmulator] = []

    def make(**settings: Any) -> ZohoCrmEmulator:
        emulator = ZohoCrmEmulator(EmulatorSettings(**{"preset": "small", "seed": 3, **settings}))
        started.append(emulator.start())
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="module")
def s(emu: ZohoCrmEmulator) -> requests.Session:
    """An API session on `emu` with the default refresh token's scopes."""
    return api(emu)
