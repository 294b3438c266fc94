"""The settings streams (`settings_streams.py`): calls per module and per Deals layout, paging, refusals,
and their schemas against what the emulator serves."""

from __future__ import annotations

from collections import Counter
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read

from source_zoho_crm import SourceZohoCrm
from source_zoho_crm.settings_streams import SETTINGS_STREAMS
from unit_tests.conftest import API, TOKEN_URL, raw_config
from unit_tests.test_metadata_schemas import DATETIME, poorly_declared, rule_breaks, schema_file
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

NAMES = list(SETTINGS_STREAMS)
MODULES = [
    {"api_name": "Leads", "api_supported": True, "generated_type": "default"},
    {"api_name": "Deals", "api_supported": True, "generated_type": "default"},
    {"api_name": "Leads_X_Users", "api_supported": True, "generated_type": "linking"},
    {"api_name": "Campaigns", "api_supported": True, "generated_type": "default"},
]
DEALS_LAYOUTS = [{"id": "L1", "name": "Standard"}, {"id": "L2", "name": "Partner"}]
PIPELINE = {
    "id": "P1",
    "display_value": "Standard (Standard)",
    "actual_value": "Standard (Standard)",
    "default": True,
    "maps": [
        {"id": "S1", "actual_value": "Qualification", "display_value": "Qualification", "sequence_number": 1},
        {"id": "S2", "actual_value": "Closed Won", "display_value": "Closed Won", "sequence_number": 2},
    ],
}
DENIED = {"code": "NO_PERMISSION", "details": {}, "message": "permission denied", "status": "error"}
SCOPE = {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope", "status": "error"}


def module_of(request: Any) -> str:
    return request.qs["module"][0].lower()


@pytest.fixture
def org(requests_mock: Any) -> Any:
    requests_mock.post(TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    requests_mock.get(f"{API}/crm/v8/settings/modules", json={"modules": MODULES})
    requests_mock.get(f"{API}/crm/v8/org", json={"org": [{"license_details": {"paid_type": "enterprise"}}]})

    def refusing_campaigns(body: Any) -> Any:
        def answer(request: Any, context: Any) -> Any:
            if module_of(request) == "campaigns":
                context.status_code = 403
                return DENIED
            return body(request) if callable(body) else body

        return answer

    requests_mock.get(
        f"{API}/crm/v8/settings/layouts",
        json=refusing_campaigns(
            lambda r: {"layouts": DEALS_LAYOUTS if module_of(r) == "deals" else [{"id": f"{module_of(r)}-L"}]}
        ),
    )

    def pipelines(request: Any, context: Any) -> Any:
        if request.qs["layout_id"][0] == "l2":  # a layout without pipelines: Zoho answers 204
            context.status_code = 204
            return None
        return {"pipeline": [PIPELINE]}

    requests_mock.get(f"{API}/crm/v8/settings/pipeline", json=pipelines)

    def views(request: Any) -> dict[str, Any]:
        page = int(request.qs["page"][0])
        more = module_of(request) == "leads" and page == 1
        return {
            "custom_views": [{"id": f"{module_of(request)}-v{page}", "name": f"View {page}"}],
            "info": {"page": page, "per_page": 200, "count": 1, "more_records": more},
        }

    requests_mock.get(f"{API}/crm/v8/settings/custom_views", json=refusing_campaigns(views))
    requests_mock.get(
        f"{API}/crm/v8/settings/tags",
        json=refusing_campaigns({"tags": [{"id": "T1", "name": "VIP"}], "info": {"count": 1}}),
    )
    return requests_mock


def read_streams(names: list[str], config: dict[str, Any] | None = None) -> EntrypointOutput:
    config = config or raw_config()
    builder = CatalogBuilder()
    for name in names:
        builder.with_stream(name, SyncMode.full_refresh)
    catalog = builder.build()
    return read(SourceZohoCrm(catalog=catalog, config=config), config, catalog)


def rows(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [m.record.data for m in output.records if m.record.stream == stream]


def calls(org: Any, path: str) -> list[Any]:
    return [r for r in org.request_history if r.path == f"/crm/v8/settings/{path}"]


def warnings(output: EntrypointOutput) -> list[str]:
    return [m.log.message for m in output.logs if m.log.level.name == "WARN"]


def test_all_five_cost_one_call_per_module_and_one_per_deals_layout(org: Any) -> None:
    output = read_streams(NAMES)
    assert not output.errors
    # Leads, Deals, Campaigns (refused); never the linking module.
    assert sorted(module_of(r) for r in calls(org, "layouts")) == ["campaigns", "deals", "leads"]
    assert sorted(module_of(r) for r in calls(org, "tags")) == ["campaigns", "deals", "leads"]
    assert Counter(module_of(r) for r in calls(org, "custom_views")) == {
        "leads": 2,
        "deals": 1,
        "campaigns": 1,
    }
    # pipelines and pipeline_stages share one call per Deals layout
    assert sorted(r.qs["layout_id"][0] for r in calls(org, "pipeline")) == ["l1", "l2"]
    assert [(r["module"], r["id"]) for r in rows(output, "tags")] == [("Leads", "T1"), ("Deals", "T1")]
    assert [r["id"] for r in rows(output, "custom_views")] == ["leads-v1", "leads-v2", "deals-v1"]
    assert {r["id"] for r in rows(output, "layouts")} == {"leads-L", "L1", "L2"}
    pipelines = rows(output, "pipelines")
    assert [(p["layout_id"], p["layout_name"], p["id"]) for p in pipelines] == [("L1", "Standard", "P1")]
    stages = rows(output, "pipeline_stages")
    assert [
        (s["pipeline_id"], s["pipeline_name"], s["layout_id"], s["id"], s["actual_value"]) for s in stages
    ] == [
        ("P1", "Standard (Standard)", "L1", "S1", "Qualification"),
        ("P1", "Standard (Standard)", "L1", "S2", "Closed Won"),
    ]
    refused = [w for w in warnings(output) if "module Campaigns left out" in w]
    assert sorted(w.split(":")[0] for w in refused) == [
        "Stream custom_views",
        "Stream layouts",
        "Stream tags",
    ]


def test_pipeline_streams_read_only_deals(org: Any) -> None:
    output = read_streams(["pipeline_stages"])
    assert not output.errors
    assert [module_of(r) for r in calls(org, "layouts")] == ["deals"]
    assert len(calls(org, "pipeline")) == 2 and len(rows(output, "pipeline_stages")) == 2


def test_only_the_configs_modules_are_read(org: Any) -> None:
    output = read_streams(["tags", "pipelines"], raw_config(modules=["Leads"]))
    assert not output.errors
    assert [module_of(r) for r in calls(org, "tags")] == ["leads"]
    assert calls(org, "pipeline") == [] and calls(org, "layouts") == []
    assert rows(output, "pipelines") == []


def test_a_missing_scope_ends_the_stream_after_one_call(org: Any) -> None:
    org.get(f"{API}/crm/v8/settings/tags", status_code=401, json=SCOPE)
    output = read_streams(["tags", "custom_views"])
    assert not output.errors
    assert len(calls(org, "tags")) == 1, "the scope is the same for every module: asked once"
    assert rows(output, "tags") == [] and len(rows(output, "custom_views")) == 3
    assert any(w.startswith("Skipping stream tags:") for w in warnings(output))


def test_another_error_fails_the_stream(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/settings/tags",
        status_code=400,
        json={"code": "INVALID_REQUEST", "details": {}, "message": "bad", "status": "error"},
    )
    output = read_streams(["tags"])
    assert output.errors, "an unexpected answer must not be taken for 'no tags'"


# ---- schemas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_schema_keeps_to_the_rules(name: str) -> None:
    schema = schema_file(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is True
    properties = schema["properties"]
    for key in SETTINGS_STREAMS[name]:
        assert properties[key] == {"type": ["null", "string"]}, f"{name}: primary key {key} is not a string"
    broken = [b for key, sub in properties.items() for b in rule_breaks(sub, f"{name}.{key}", 1)]
    assert not broken, broken
    assert all(v == DATETIME for k, v in properties.items() if k.endswith("_time")), name


def test_discover_lists_them_with_their_keys(org: Any) -> None:
    org.get(
        f"{API}/crm/v8/settings/fields",
        json={"fields": [{"api_name": "Last_Name", "data_type": "text", "json_type": "string"}]},
    )
    streams = {
        s.name: s for s in discover(SourceZohoCrm(config=raw_config()), raw_config()).catalog.catalog.streams
    }
    for name, key in SETTINGS_STREAMS.items():
        assert streams[name].json_schema == schema_file(name)
        assert streams[name].source_defined_primary_key == [[k] for k in key]
        assert streams[name].supported_sync_modes == [SyncMode.full_refresh]
    assert not calls(org, "tags") and not calls(org, "pipeline"), "discover reads no settings"


@pytest.fixture(scope="module")
def emulated() -> dict[str, list[dict[str, Any]]]:
    """What the source emits for the five streams from the emulator's realistic org (Leads, Deals)."""
    with ZohoCrmEmulator(EmulatorSettings(seed=3, preset="realistic")) as emu:
        config = {**emu.config(), "modules": ["Leads", "Deals"]}
        output = read_streams(NAMES, config)
        assert not output.errors, [e.trace.error.message for e in output.errors]
        served = emu.stats()["requests_by_endpoint"]
    assert served["GET /crm/v8/settings/layouts"] == 2  # shared by layouts and the pipeline streams
    assert served["GET /crm/v8/settings/pipeline"] == 2  # the Deals layouts, shared by both streams
    assert served["GET /crm/v8/settings/custom_views"] == served["GET /crm/v8/settings/tags"] == 2
    return {name: rows(output, name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_what_the_source_emits_from_the_emulator_validates(
    emulated: dict[str, list[dict[str, Any]]], name: str
) -> None:
    records = emulated[name]
    assert records, f"the source emits no {name}"
    validator = jsonschema.Draft7Validator(schema_file(name))
    assert not [e.message for r in records for e in validator.iter_errors(r)]
    assert not poorly_declared(name, records)


def test_pipeline_stages_join_deals_stage_values(emulated: dict[str, list[dict[str, Any]]]) -> None:
    standard = [s for s in emulated["pipeline_stages"] if s["pipeline_default"]]
    assert [s["sequence_number"] for s in standard] == list(range(1, len(standard) + 1))
    assert {"Qualification", "Closed Won", "Closed Lost"} <= {s["actual_value"] for s in standard}
    assert {p["id"] for p in emulated["pipelines"]} == {s["pipeline_id"] for s in emulated["pipeline_stages"]}
