"""The read-only OAuth scopes the connector asks for: one list for `zoho-crm-auth`, the docs and tests.

The manifest's `advanced_auth` scope list (used by the Airbyte platform's OAuth flow) must equal
this tuple; `unit_tests/test_scopes.py` checks it.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    "ZohoCRM.settings.layouts.READ",
    "ZohoCRM.settings.pipeline.READ",
    "ZohoCRM.settings.custom_views.READ",
    "ZohoCRM.settings.tags.READ",
    # Optional for `check`, asked by default: cheaper reads (COQL, Bulk Read) and record counts.
    "ZohoCRM.coql.READ",
    "ZohoCRM.bulk.READ",
    "ZohoSearch.securesearch.READ",
)

# What `check` needs: without these nothing can be discovered, so check fails.
REQUIRED_SCOPES: tuple[str, ...] = (
    "ZohoCRM.modules.READ",
    "ZohoCRM.settings.modules.READ",
    "ZohoCRM.settings.fields.READ",
)

# Every other scope -> the streams and features it enables. `check` names the ones the token lacks and what
# that disables, without failing. One row per scope; a new scope-needing stream appends its row here (and, to
# be verified when Zoho's token answer has no `scope` field, a probe in `optional_scopes.PROBES`).
OPTIONAL_SCOPES: Mapping[str, tuple[str, ...]] = {
    "ZohoCRM.org.READ": ("stream org", "the edition's default concurrency"),
    "ZohoCRM.users.READ": ("stream users",),
    "ZohoCRM.settings.roles.READ": ("stream roles",),
    "ZohoCRM.settings.profiles.READ": ("stream profiles",),
    "ZohoCRM.settings.territories.READ": ("stream territories",),
    "ZohoCRM.settings.currencies.READ": ("stream currencies",),
    "ZohoCRM.settings.layouts.READ": (
        "stream layouts",
        "streams pipelines and pipeline_stages",
        "record counts (ESTIMATE, progress, the choice of Bulk Read)",
    ),
    "ZohoCRM.settings.pipeline.READ": ("streams pipelines and pipeline_stages",),
    "ZohoCRM.settings.custom_views.READ": ("stream custom_views",),
    "ZohoCRM.settings.tags.READ": ("stream tags",),
    "ZohoSearch.securesearch.READ": ("record counts (ESTIMATE, progress, the choice of Bulk Read)",),
    "ZohoCRM.bulk.READ": ("Bulk Read backfills (bulk_read_threshold)",),
    "ZohoCRM.coql.READ": ("COQL reads (2,000 records for 3 credits; REST without it)",),
}
