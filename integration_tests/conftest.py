"""pytest fixtures for the Zoho CRM emulator: each test gets a fresh org, stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator


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
