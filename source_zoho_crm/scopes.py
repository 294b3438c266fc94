"""The read-only OAuth scopes the connector asks for: one list for `zoho-crm-auth`, the docs and tests.

The manifest's `advanced_auth` scope list (used by the Airbyte platform's OAuth flow) must equal
this tuple; `unit_tests/test_scopes.py` checks it.
"""

from __future__ import annotations

READ_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.fields.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.settings.roles.READ",
    "ZohoCRM.settings.profiles.READ",
    "ZohoCRM.settings.territories.READ",
    "ZohoCRM.settings.currencies.READ",
)
