"""The source end to end in-process against a fake org: check, discover, read, state."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airbyte_cdk.models import Status, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_zoho_crm import SourceZohoCrm
from unit_tests.conftest import API, TOKEN_URL, raw_config

MODULES = [
    {"api_name": "Leads", "api_supported": True, "generated_type": "default"},
    {"api_name": "Deals_X_Contacts", "api_supported": True, "generated_type": "linking"},
    {"api_name": "Campaigns", "api_supported": True, "generated_type": "default"},
    {"api_name": "Home", "api_supported": False, "generated_type": "default"},
]
FIELDS = {
    "Leads": [
        {"api_name": "Last_Name", "data_type": "text", "json_type": "string"},
        {"api_name": "Modified_Time", "data_type": "datetime", "json_type": "string"},
        {"api_name": "Annual_Revenue", "data_type": "currency", "json_type": "double"},
    ],
    "Deals_X_Contacts": [{"api_name": "Created_Time", "data_type": "datetime", "json_type": "string"}],
}
LEADS = [
    {"id": "1", "Last_Name": "A", "Modified_Time": "2025-03-04T17:29:00+05:30", "Annual_Revenue": 1.5},
    {"id": "2", "Last_Name": "B", "Modified_Time": "2025-03-04T17:29:00+05:30", "Annual_Revenue": None},
    {"id": "3", "Last_Name": "C", "Modified_Time": "2025-03-05T09:00:00+05:30", "Annual_Revenue": 3.0},
]


@pytest.fixture
def org(requests_mock: Any) -> Any:
    # Zoho's `scope` covering every optional scope: `check` makes no scope probe (test_optional_scopes.py).
    scope = "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.org.ALL ZohoCRM.users.ALL ZohoCRM.bulk.READ"
    requests_mock.post(
        TOKEN_URL,
        json={"access_token": "tok", "expires_in": 3600, "scope": f"{scope} ZohoSearch.securesearch.READ"},
    )
    requests_mock.get(f"{API}/crm/v8/settings/modules", json={"modules": MODULES})
    requests_mock.get(f"{API}/crm/v8/org", json={"org": [{"license_details": {"paid_type": "enterprise"}}]})

    def fields(request: Any, context: Any) -> dict:
        module = request.qs["module"][0]
        if module.lower() == "campaigns":
            context.status_code = 403
            return {"code": "NO_PERMISSION", "details": {}, "message": "permission denied", "status": "error"}
        name = next(m for m in FIELDS if m.lower() == module.lower())
        return {"fields": FIELDS[name]}

    requests_mock.get(f"{API}/crm/v8/settings/fields", json=fields)
    # Zoho's count API (ESTIMATE messages); a token without its scopes is tested in test_sync_tools.py.
    requests_mock.get(re.compile(f"{API}/crm/v8/[A-Za-z_]+/actions/count"), json={"count": 3})

    def leads(request: Any, context: Any) -> dict:
        # Two pages without If-Modified-Since; with it, every record modified since (one page).
        since = request.headers.get("If-Modified-Since")
        if since is not None:
            from source_zoho_crm.datetimes import parse_zoho_datetime

            when = parse_zoho_datetime(since)
            return {
                "data": [r for r in LEADS if parse_zoho_datetime(r["Modified_Time"]) >= when],
                "info": {"more_records": False},
            }
        token = request.qs.get("page_token", [None])[0]
        if token is None:
            return {"data": LEADS[:2], "info": {"more_records": True, "next_page_token": "p2"}}
        return {"data": LEADS[2:], "info": {"more_records": False}}

    requests_mock.get(f"{API}/crm/v8/Leads", json=leads)
    requests_mock.get(f"{API}/crm/v8/Deals_X_Contacts", status_code=204)
    return requests_mock


def run_read(config: dict, streams: dict[str, SyncMode], state: Any = None) -> Any:
    builder = CatalogBuilder()
    for name, mode in streams.items():
        builder.with_stream(name, mode)
    catalog = builder.build()
    source = SourceZohoCrm(catalog=catalog, config=config, state=state)
    return read(source, config, catalog, state)


def test_discover_lists_readable_api_supported_modules_and_metadata_streams(org: Any) -> None:
    output = discover(SourceZohoCrm(config=raw_config()), raw_config())
    streams = {s.name: s for s in output.catalog.catalog.streams}
    assert {"leads", "deals_x_contacts", "users", "org"} <= set(streams)
    assert "campaigns" not in streams and "home" not in streams
    assert any("Campaigns" in log.log.message for log in output.logs if log.log.level.name == "WARN")
    leads = streams["leads"]
    assert (
        leads.default_cursor_field == ["Modified_Time"] and SyncMode.incremental in leads.supported_sync_modes
    )
    assert leads.source_defined_primary_key == [["id"]]
    assert leads.json_schema["properties"]["Annual_Revenue"]["type"] == ["null", "number"]
    assert streams["deals_x_contacts"].default_cursor_field == ["Created_Time"]
    fields_calls = [r for r in org.request_history if "settings/fields" in r.url]
    assert len(fields_calls) == 3  # one per API-supported module, never twice


def test_incremental_read_checkpoints_each_page_in_utc(org: Any) -> None:
    output = run_read(raw_config(), {"leads": SyncMode.incremental})
    assert [r.record.data["id"] for r in output.records] == ["1", "2", "3"]
    states = [s.state.stream.stream_state.__dict__ for s in output.state_messages]
    assert states[0]["Modified_Time"] == "2025-03-04T11:59:00Z"  # +05:30 normalised, after page 1
    assert states[-1]["Modified_Time"] == "2025-03-05T03:30:00Z"
    # The first sync starts the deletions clock in its first checkpoint and reads no deletions.
    assert "deleted_since" in states[0]
    assert not [r for r in org.request_history if "/deleted" in r.url]
    token_calls = [r for r in org.request_history if r.url.startswith(TOKEN_URL)]
    assert len(token_calls) == 1


def test_incremental_read_resumes_from_state_inclusively(org: Any) -> None:
    state = StateBuilder().with_stream_state("leads", {"Modified_Time": "2025-03-04T11:59:00Z"}).build()
    run_read(raw_config(), {"leads": SyncMode.incremental}, state)
    record_calls = [r for r in org.request_history if "/crm/v8/Leads" in r.url]
    # One second early until Zoho shows If-Modified-Since includes its own second; first pages only.
    assert record_calls[0].headers["If-Modified-Since"] == "2025-03-04T11:58:59+00:00"
    assert not [r for r in record_calls if "page_token" in r.qs]


def test_start_datetime_is_the_first_cursor(org: Any) -> None:
    run_read(raw_config(start_datetime="2025-01-01"), {"leads": SyncMode.incremental})
    first = next(r for r in org.request_history if "/crm/v8/Leads" in r.url)
    assert first.headers["If-Modified-Since"] == "2024-12-31T23:59:59+00:00"


def test_unreadable_state_is_a_clear_config_error(org: Any) -> None:
    state = StateBuilder().with_stream_state("leads", {"Modified_Time": "yesterday"}).build()
    output = run_read(raw_config(), {"leads": SyncMode.incremental}, state)
    errors = [m.trace.error.message for m in output.errors]
    assert any("leads" in e and "not a datetime" in e for e in errors)


def test_forbidden_module_in_the_catalog_is_skipped_with_a_warning(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/Deals_X_Contacts",
        status_code=401,
        json={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope",
            "status": "error",
        },
    )
    output = run_read(
        raw_config(), {"leads": SyncMode.full_refresh, "deals_x_contacts": SyncMode.full_refresh}
    )
    assert len(output.records) == 3
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]
    assert any("deals_x_contacts" in w and "OAUTH_SCOPE_MISMATCH" in w for w in warnings)
    assert not output.errors


def test_check_succeeds_with_one_token(org: Any) -> None:
    status = SourceZohoCrm(config=raw_config()).check(None, raw_config())  # type: ignore[arg-type]
    assert status.status == Status.SUCCEEDED


@pytest.mark.parametrize(
    ("token_body", "text"),
    [({"error": "invalid_code"}, "invalid or revoked"), ({"error": "invalid_client"}, "data centre 'eu'")],
)
def test_check_fails_clearly_on_token_errors(requests_mock: Any, token_body: dict, text: str) -> None:
    requests_mock.post(TOKEN_URL, json=token_body)
    config = raw_config(dc_region="eu")
    status = SourceZohoCrm(config=config).check(None, config)  # type: ignore[arg-type]
    assert status.status == Status.FAILED and text in status.message
    assert "client-secret-value" not in status.message


def test_check_names_the_missing_metadata_scope(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/settings/fields",
        status_code=401,
        json={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope",
            "status": "error",
        },
    )
    status = SourceZohoCrm(config=raw_config()).check(None, raw_config())  # type: ignore[arg-type]
    assert status.status == Status.FAILED and "ZohoCRM.settings.fields.READ" in status.message


def test_check_reports_a_bad_config_field(org: Any) -> None:
    config = raw_config(dc_region="mars")
    status = SourceZohoCrm(config=config).check(None, config)  # type: ignore[arg-type]
    assert status.status == Status.FAILED and "dc_region" in status.message and "com.au" in status.message


def test_unknown_configured_module_fails_with_the_available_ones(org: Any) -> None:
    config = raw_config(modules=["Leads", "Leeds"])
    status = SourceZohoCrm(config=config).check(None, config)  # type: ignore[arg-type]
    assert (
        status.status == Status.FAILED and "Leeds" in status.message and "Deals_X_Contacts" in status.message
    )


def test_every_message_is_a_protocol_message(org: Any) -> None:
    output = run_read(raw_config(), {"leads": SyncMode.incremental, "org": SyncMode.full_refresh})
    assert {m.type for m in output._messages} <= {Type.RECORD, Type.STATE, Type.LOG, Type.TRACE}
    assert any(r.record.stream == "org" for r in output.records)


def test_second_incremental_sync_emits_tombstones_for_deleted_records(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/Leads/deleted",
        json={
            "data": [
                {
                    "id": "9",
                    "display_name": "Gone",
                    "type": "recycle",
                    "deleted_time": "2025-03-06T10:00:00+05:30",
                },
                {
                    "id": "8",
                    "display_name": "Old",
                    "type": "permanent",
                    "deleted_time": "2025-03-06T09:00:00+05:30",
                },
            ],
            "info": {"more_records": False},
        },
    )
    state = (
        StateBuilder()
        .with_stream_state(
            "leads", {"Modified_Time": "2025-03-04T11:59:00Z", "deleted_since": "2025-03-05T00:00:00Z"}
        )
        .build()
    )
    output = run_read(raw_config(), {"leads": SyncMode.incremental}, state)
    tombstones = [r.record.data for r in output.records if "_ab_cdc_deleted_at" in r.record.data]
    assert tombstones == [
        {
            "id": "9",
            "_ab_cdc_deleted_at": "2025-03-06T10:00:00+05:30",
            "Modified_Time": "2025-03-06T10:00:00+05:30",
        },
        {
            "id": "8",
            "_ab_cdc_deleted_at": "2025-03-06T09:00:00+05:30",
            "Modified_Time": "2025-03-06T09:00:00+05:30",
        },
    ]
    deleted_call = next(r for r in org.request_history if "/deleted" in r.url)
    assert deleted_call.headers["If-Modified-Since"] == "2025-03-04T23:59:59+00:00" and deleted_call.qs[
        "type"
    ] == ["all"]
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert final["deleted_since"] == "2025-03-06T04:30:00Z"


def test_tombstones_can_be_switched_off(org: Any) -> None:
    state = (
        StateBuilder()
        .with_stream_state(
            "leads", {"Modified_Time": "2025-03-04T11:59:00Z", "deleted_since": "2025-03-05T00:00:00Z"}
        )
        .build()
    )
    run_read(raw_config(include_deleted=False), {"leads": SyncMode.incremental}, state)
    assert not [r for r in org.request_history if "/deleted" in r.url]


def test_metadata_streams_reuse_the_metadata_already_fetched(org: Any) -> None:
    output = run_read(
        raw_config(),
        {"org": SyncMode.full_refresh, "modules": SyncMode.full_refresh, "fields": SyncMode.full_refresh},
    )
    fields = [r.record.data for r in output.records if r.record.stream == "fields"]
    assert {(f["module"], f["api_name"]) for f in fields} == {
        (module, f["api_name"]) for module, module_fields in FIELDS.items() for f in module_fields
    }
    assert len([r for r in output.records if r.record.stream == "modules"]) == len(MODULES)
    for path in ("/crm/v8/org", "/crm/v8/settings/modules"):
        assert len([r for r in org.request_history if r.url.split("?")[0].endswith(path)]) == 1
    assert any("Campaigns" in m.log.message for m in output.logs if m.log.level.name == "WARN")


REFUSED_DELETED_LOGS = [
    (403, {"code": "NO_PERMISSION", "details": {}, "message": "permission denied", "status": "error"}),
    (  # Zoho wraps the deleted-records API's 400s (crmoas_v8_getDeletedRecords_400-*_wrapped.json)
        400,
        {
            "data": [
                {
                    "code": "AUTHORIZATION_FAILED",
                    "details": {},
                    "message": "User does not have sufficient privilege to view deleted records",
                    "status": "error",
                }
            ]
        },
    ),
]


@pytest.mark.parametrize(("status", "refusal"), REFUSED_DELETED_LOGS)
def test_deleted_records_stream_keeps_a_cursor_per_module(
    org: Any, status: int, refusal: dict[str, Any]
) -> None:
    org.get(
        f"{API}/crm/v8/Leads/deleted",
        json={
            "data": [{"id": "9", "type": "recycle", "deleted_time": "2025-03-06T10:00:00+05:30"}],
            "info": {"more_records": False},
        },
    )
    org.get(f"{API}/crm/v8/Deals_X_Contacts/deleted", status_code=204)
    org.get(f"{API}/crm/v8/Campaigns/deleted", status_code=status, json=refusal)
    state = StateBuilder().with_stream_state("deleted_records", {"Leads": "2025-03-01T00:00:00Z"}).build()
    output = run_read(raw_config(), {"deleted_records": SyncMode.incremental}, state)
    assert [r.record.data for r in output.records] == [
        {"id": "9", "type": "recycle", "deleted_time": "2025-03-06T10:00:00+05:30", "module": "Leads"}
    ]
    leads_call = next(r for r in org.request_history if "/Leads/deleted" in r.url)
    assert leads_call.headers["If-Modified-Since"] == "2025-02-28T23:59:59+00:00"  # one second early
    assert (
        "If-Modified-Since"
        not in next(r for r in org.request_history if "/Deals_X_Contacts/deleted" in r.url).headers
    )
    assert output.state_messages[-1].state.stream.stream_state.__dict__ == {"Leads": "2025-03-06T04:30:00Z"}
