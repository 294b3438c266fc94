"""The read-only scopes live once: the manifest's OAuth flow asks for exactly `READ_SCOPES`."""

from __future__ import annotations

from source_zoho_crm.scopes import READ_SCOPES
from source_zoho_crm.source import load_manifest


def test_manifest_advanced_auth_scopes_equal_the_constant() -> None:
    spec = load_manifest()["spec"]["advanced_auth"]["oauth_config_specification"]
    scopes = spec["oauth_connector_input_specification"]["scope"].split()
    assert tuple(scopes) == READ_SCOPES


def test_scopes_are_read_only_and_distinct() -> None:
    assert READ_SCOPES and all(scope.endswith(".READ") for scope in READ_SCOPES)
    assert len(set(READ_SCOPES)) == len(READ_SCOPES)
