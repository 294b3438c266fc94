"""A Zoho CRM (accounts server + API v8) emulator for the connector's end-to-end tests, demo and benchmark."""

from .emulator import ZohoCrmEmulator
from .settings import EmulatorSettings

__all__ = ["EmulatorSettings", "ZohoCrmEmulator"]
