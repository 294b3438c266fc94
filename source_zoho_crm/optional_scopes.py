"""`check`'s report of the optional scopes the token lacks and the streams that disables (never a failure).

The scopes come from the token answer's `scope` field when Zoho sends one (no call). Zoho Accounts' pages
do not list that field, so without it each optional scope is probed with one cheap GET (one API credit each,
about 11 in all): a 401 `OAUTH_SCOPE_MISMATCH` means the scope is missing; any other answer (data, 204, a
permission or feature refusal) means the scope is there. A scope without a probe is reported as unverified.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.errors import ZohoAccessError, ZohoError
from source_zoho_crm.scopes import OPTIONAL_SCOPES
from source_zoho_crm.settings import API_VERSION_PATH, PIPELINE_MODULE, SCOPE_MISMATCH_CODE

logger = logging.getLogger("airbyte")

V = API_VERSION_PATH


@dataclass
class ProbeContext:
    """What the probes may use: the selected modules, and what earlier probes answered."""

    modules: Sequence[str]
    answers: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return PIPELINE_MODULE if PIPELINE_MODULE in self.modules else self.modules[0]

    def deals_layout_id(self) -> str | None:
        layouts = (self.answers.get("ZohoCRM.settings.layouts.READ") or {}).get("layouts")
        if PIPELINE_MODULE not in self.modules or not isinstance(layouts, list) or not layouts:
            return None
        return str(layouts[0].get("id"))


# Scope -> the request that needs it alone (besides the required scopes), or None when it cannot be built.
# Ordered: the pipeline probe uses the layouts probe's answer. Scopes of OPTIONAL_SCOPES without a probe here
# (Bulk Read: only creating a job, 50 credits, would tell) are reported as unverified.
Probe = Callable[[ProbeContext], "tuple[str, dict[str, str]] | None"]
PROBES: dict[str, Probe] = {
    "ZohoCRM.org.READ": lambda c: (f"{V}/org", {}),
    "ZohoCRM.users.READ": lambda c: (f"{V}/users", {"type": "CurrentUser"}),
    "ZohoCRM.settings.roles.READ": lambda c: (f"{V}/settings/roles", {}),
    "ZohoCRM.settings.profiles.READ": lambda c: (f"{V}/settings/profiles", {}),
    "ZohoCRM.settings.territories.READ": lambda c: (f"{V}/settings/territories", {}),
    "ZohoCRM.settings.currencies.READ": lambda c: (f"{V}/org/currencies", {}),
    "ZohoCRM.settings.layouts.READ": lambda c: (f"{V}/settings/layouts", {"module": c.module}),
    "ZohoCRM.settings.pipeline.READ": lambda c: (
        (f"{V}/settings/pipeline", {"layout_id": layout}) if (layout := c.deals_layout_id()) else None
    ),
    "ZohoCRM.settings.custom_views.READ": lambda c: (f"{V}/settings/custom_views", {"module": c.module}),
    "ZohoCRM.settings.tags.READ": lambda c: (f"{V}/settings/tags", {"module": c.module}),
    # The count API needs layouts besides this scope: probed only once layouts are known to be granted.
    "ZohoSearch.securesearch.READ": lambda c: (
        (f"{V}/{c.module}/actions/count", {}) if "ZohoCRM.settings.layouts.READ" in c.answers else None
    ),
}


@dataclass
class ScopeReport:
    missing: list[str]
    unverified: list[str]
    credits: int  # API calls the report cost


def covers(granted: str, required: str) -> bool:
    """Zoho's scope grammar `Service.path.OPERATION`: a parent path covers its children, ALL any operation."""
    g, r = granted.lower().split("."), required.lower().split(".")
    if len(g) < 2 or len(r) < 2 or g[0] != r[0] or g[-1] not in ("all", r[-1]):
        return False
    return r[1:-1][: len(g) - 2] == g[1:-1]


def optional_scope_report(
    granted: frozenset[str] | None, client: ZohoApiClient, modules: Sequence[str]
) -> ScopeReport:
    """Which optional scopes the token lacks, from `granted` when Zoho said it, else by probing."""
    if granted is not None:
        missing = [s for s in OPTIONAL_SCOPES if not any(covers(g, s) for g in granted)]
        return ScopeReport(missing, [], 0)
    context = ProbeContext(list(modules))
    missing, unverified, calls = [], [], 0
    for scope in OPTIONAL_SCOPES:
        probe = PROBES.get(scope)
        request = probe(context) if probe and modules else None
        if request is None:
            unverified.append(scope)
            continue
        calls += 1
        try:
            context.answers[scope] = client.get(
                request[0], request[1] or None, what=f"a probe of {scope}"
            ).body
        except ZohoAccessError as denied:
            if denied.code != SCOPE_MISMATCH_CODE:
                context.answers[scope] = None
                continue
            missing.append(scope)
        except ZohoError:  # another refusal (feature off, module not served): the scope itself is there
            context.answers[scope] = None
    return ScopeReport(missing, unverified, calls)


def check_optional_scopes(
    granted: frozenset[str] | None, client: ZohoApiClient, modules: Sequence[str]
) -> str | None:
    """`check`'s step: a warning naming each missing optional scope and what it disables, else None."""
    report = optional_scope_report(granted, client, modules)
    if report.unverified:
        logger.info(
            messages.SCOPES_UNVERIFIED.format(scopes=", ".join(report.unverified), credits=report.credits)
        )
    if not report.missing:
        return None
    lacks = "; ".join(f"{scope} ({', '.join(OPTIONAL_SCOPES[scope])})" for scope in report.missing)
    warning = messages.OPTIONAL_SCOPES_MISSING.format(missing=lacks)
    logger.warning(warning)
    return warning
