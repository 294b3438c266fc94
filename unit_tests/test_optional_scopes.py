"""`check` names the optional scopes the token lacks and what that disables, and still succeeds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airbyte_cdk.models import Status

from source_zoho_crm import SourceZohoCrm
from source_zoho_crm.optional_scopes import PROBES, covers
from source_zoho_crm.scopes import OPTIONAL_SCOPES, READ_SCOPES, REQUIRED_SCOPES
from unit_tests.conftest import API, TOKEN_URL, raw_config

SCOPE = {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope", "status": "error"}
MODULES = [
    {"api_name": "Leads", "api_supported": True, "generated_type": "default"},
    {"api_name": "Deals", "api_supported": True, "generated_type": "default"},
]
CHECK_PATHS = ("/crm/v8/settings/modules", "/crm/v8/settings/fields")


@pytest.fixture
def org(requests_mock: Any) -> Any:
    requests_mock.get(f"{API}/crm/v8/settings/modules", json={"modules": MODULES})
    requests_mock.get(
        f"{API}/crm/v8/settings/fields", json={"fields": [{"api_name": "Name", "data_type": "text"}]}
    )
    # every probe answers (an empty object is enough: only 401 OAUTH_SCOPE_MISMATCH means "missing")
    requests_mock.get(
        re.compile(f"{API}/crm/v8/.*"), json={}, additional_matcher=lambda r: r.path not in CHECK_PATHS
    )
    requests_mock.get(f"{API}/crm/v8/settings/layouts", json={"layouts": [{"id": "L1"}]})
    return requests_mock


def token(org: Any, scope: str | None) -> None:
    body: dict[str, Any] = {"access_token": "tok", "expires_in": 3600}
    if scope is not None:
        body["scope"] = scope
    org.post(TOKEN_URL, json=body)


def check(org: Any) -> tuple[Any, list[str]]:
    status = SourceZohoCrm(config=raw_config()).check(None, raw_config())  # type: ignore[arg-type]
    probes = [r.path for r in org.request_history if r.method == "GET" and r.path not in CHECK_PATHS]
    return status, probes


def test_a_token_that_names_every_scope_costs_no_probe(org: Any) -> None:
    token(
        org,
        "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.org.READ ZohoCRM.users.READ "
        "ZohoSearch.securesearch.READ ZohoCRM.bulk.READ ZohoCRM.coql.READ",
    )
    status, probes = check(org)
    assert status.status == Status.SUCCEEDED and not status.message
    assert probes == []


def test_a_token_that_names_its_scopes_is_read_without_probes(org: Any) -> None:
    # Zoho's console separates scopes with commas: none of tags, Bulk Read, record counts.
    lacking = ("tags.READ", "bulk.READ", "securesearch.READ")
    token(org, ",".join(scope for scope in READ_SCOPES if not scope.endswith(lacking)))
    status, probes = check(org)
    assert probes == []
    assert status.status == Status.SUCCEEDED
    assert "ZohoCRM.settings.tags.READ (stream tags)" in status.message
    assert "ZohoSearch.securesearch.READ" in status.message and "ZohoCRM.bulk.READ" in status.message
    assert "ZohoCRM.settings.layouts.READ" not in status.message


def test_without_a_scope_field_each_optional_scope_is_probed_once(org: Any) -> None:
    token(org, None)
    org.get(f"{API}/crm/v8/settings/tags", status_code=401, json=SCOPE)
    org.get(f"{API}/crm/v8/settings/pipeline", status_code=401, json=SCOPE)
    status, probes = check(org)
    assert status.status == Status.SUCCEEDED
    assert "ZohoCRM.settings.tags.READ (stream tags)" in status.message
    assert "ZohoCRM.settings.pipeline.READ (streams pipelines and pipeline_stages)" in status.message
    assert "ZohoCRM.settings.custom_views.READ" not in status.message
    # one credit per probe; Bulk Read and COQL have none (only a job or a query, both POSTs, would tell)
    assert len(probes) == len(PROBES) == len(OPTIONAL_SCOPES) - 2
    assert len(set(probes)) == len(probes)
    pipeline = next(r for r in org.request_history if r.path == "/crm/v8/settings/pipeline")
    assert pipeline.qs == {"layout_id": ["l1"]}, "the Deals layout found by the layouts probe"


def test_probes_read_other_refusals_as_the_scope_being_there(org: Any) -> None:
    token(org, None)
    org.get(
        f"{API}/crm/v8/settings/territories",
        status_code=400,
        json={"code": "TERRITORY_NOT_ENABLED", "details": {}, "message": "off", "status": "error"},
    )
    org.get(f"{API}/crm/v8/settings/custom_views", status_code=403, json={**SCOPE, "code": "NO_PERMISSION"})
    status, _ = check(org)
    assert status.status == Status.SUCCEEDED and not status.message


def test_without_layouts_the_pipeline_and_count_probes_are_skipped(org: Any) -> None:
    token(org, None)
    org.get(f"{API}/crm/v8/settings/layouts", status_code=401, json=SCOPE)
    status, probes = check(org)
    assert "ZohoCRM.settings.layouts.READ (stream layouts" in status.message
    assert not any(p.endswith(("/settings/pipeline", "/actions/count")) for p in probes)


def test_a_missing_required_scope_still_fails_check(org: Any) -> None:
    token(org, None)
    org.get(f"{API}/crm/v8/settings/fields", status_code=401, json=SCOPE)
    status, probes = check(org)
    assert status.status == Status.FAILED and "ZohoCRM.settings.fields.READ" in status.message
    assert probes == []


def test_the_tables_agree() -> None:
    assert set(PROBES) <= set(OPTIONAL_SCOPES)
    assert not set(REQUIRED_SCOPES) & set(OPTIONAL_SCOPES)
    assert set(READ_SCOPES) <= set(REQUIRED_SCOPES) | set(OPTIONAL_SCOPES)


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ("ZohoCRM.settings.ALL", "ZohoCRM.settings.tags.READ", True),
        ("zohocrm.settings.read", "ZohoCRM.settings.pipeline.READ", True),
        ("ZohoCRM.settings.tags.READ", "ZohoCRM.settings.tags.READ", True),
        ("ZohoCRM.settings.tags.CREATE", "ZohoCRM.settings.tags.READ", False),
        ("ZohoCRM.settings.layouts.READ", "ZohoCRM.settings.tags.READ", False),
        ("ZohoCRM.modules.ALL", "ZohoCRM.settings.tags.READ", False),
        ("ZohoCRM.settings.tags.READ", "ZohoCRM.settings.READ", False),
        ("ZohoCRM.ALL", "ZohoSearch.securesearch.READ", False),
    ],
)
def test_covers(granted: str, required: str, expected: bool) -> None:
    assert covers(granted, required) is expected
