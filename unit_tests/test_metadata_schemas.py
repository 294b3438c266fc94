"""The org-metadata streams' JSON schemas (`source_zoho_crm/schemas/`, typed after Zoho's OpenAPI spec v8).

- Each file is a draft-07 schema that keeps to the connector's rules: open objects, every property
  nullable, no `enum` or `required`, ids as strings, datetimes as timestamps with time zone, at most
  two levels of declared properties.
- Discover gives the streams exactly these schemas (every stream loads its file with `load_schema`).
- The records the Zoho CRM emulator serves for these endpoints, and the records the source emits from
  them, validate against the schemas, and most of their keys are declared: the schemas are no empty shells.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read

from source_zoho_crm import SourceZohoCrm
from source_zoho_crm.metadata_streams import load_schema
from source_zoho_crm.settings_streams import SETTINGS_STREAMS
from unit_tests.conftest import API, TOKEN_URL, raw_config
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

# Stream -> the endpoint it reads and the key of the list in the answer.
ENDPOINTS = {
    "users": ("/crm/v8/users?type=AllUsers", "users"),
    "roles": ("/crm/v8/settings/roles", "roles"),
    "profiles": ("/crm/v8/settings/profiles", "profiles"),
    "currencies": ("/crm/v8/org/currencies", "currencies"),
    "territories": ("/crm/v8/settings/territories", "territories"),
    "org": ("/crm/v8/org", "org"),
    "modules": ("/crm/v8/settings/modules", "modules"),
    "fields": ("/crm/v8/settings/fields", "fields"),  # per module; the stream adds `module`
}
STREAMS = sorted(ENDPOINTS)
PRIMARY_KEYS = {name: [["id"]] for name in STREAMS} | {"fields": [["module"], ["id"]]}
DATETIME = {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}
MIN_DECLARED_SHARE = 0.8  # of each record's keys
SCHEMAS = importlib.resources.files("source_zoho_crm").joinpath("schemas")


def schema_file(name: str) -> dict[str, Any]:
    return json.loads(SCHEMAS.joinpath(f"{name}.json").read_text())


def test_there_is_one_schema_file_per_metadata_stream_and_no_other() -> None:
    files = sorted(p.name for p in SCHEMAS.iterdir() if p.name.endswith(".json"))
    assert files == sorted(f"{name}.json" for name in [*STREAMS, *SETTINGS_STREAMS])


# ---- the files ----------------------------------------------------------------------------------


def rule_breaks(schema: Mapping[str, Any], path: str, level: int) -> list[str]:
    """Where a property schema (at `level`: 1 = a record's own keys) breaks the connector's rules."""
    broken: list[str] = []
    for banned in ("enum", "required", "$ref", "oneOf", "anyOf", "allOf"):
        if banned in schema:
            broken.append(f"{path}: has {banned}")
    types = schema.get("type")
    if types is None:
        return broken  # unconstrained
    if not (isinstance(types, list) and "null" in types):
        broken.append(f"{path}: not nullable ({types})")
        types = [types]
    if "object" in types:
        if schema.get("additionalProperties") is not True:
            broken.append(f"{path}: an object without additionalProperties: true")
        properties = schema.get("properties", {})
        if properties and level >= 2:
            broken.append(f"{path}: declares properties deeper than two levels")
        for key, sub in properties.items():
            broken += rule_breaks(sub, f"{path}.{key}", level + 1)
    if "array" in types and "items" in schema:
        broken += rule_breaks(schema["items"], f"{path}[]", level)
    if schema.get("format") == "date-time" and dict(schema) != DATETIME:
        broken.append(f"{path}: a datetime not declared as {DATETIME}")
    if path.rsplit(".", 1)[-1] == "id" and schema.get("type") != ["null", "string"]:
        broken.append(f"{path}: an id that is not a nullable string")
    return broken


@pytest.mark.parametrize("name", STREAMS)
def test_schema_file_is_a_draft_07_schema_that_keeps_to_the_rules(name: str) -> None:
    schema = schema_file(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "object" and schema["additionalProperties"] is True
    assert "required" not in schema
    properties = schema["properties"]
    assert len(properties) > 5, f"{name}: hardly more than an id"
    for key in (k for pk in PRIMARY_KEYS[name] for k in pk):
        assert properties[key] == {"type": ["null", "string"]}, f"{name}: primary key {key} is not a string"
    broken = [b for key, sub in properties.items() for b in rule_breaks(sub, f"{name}.{key}", 1)]
    assert not broken, broken


@pytest.mark.parametrize("name", ["org", "territories", "modules", "fields"])
def test_python_streams_load_the_same_files(name: str) -> None:
    assert load_schema(name) == schema_file(name)


# ---- discover -----------------------------------------------------------------------------------


@pytest.fixture
def small_org(requests_mock: Any) -> Any:
    requests_mock.post(TOKEN_URL, json={"access_token": "tok", "expires_in": 3600})
    requests_mock.get(
        f"{API}/crm/v8/settings/modules",
        json={"modules": [{"api_name": "Leads", "api_supported": True, "generated_type": "default"}]},
    )
    requests_mock.get(f"{API}/crm/v8/org", json={"org": [{"license_details": {"paid_type": "enterprise"}}]})
    requests_mock.get(
        f"{API}/crm/v8/settings/fields",
        json={"fields": [{"api_name": "Last_Name", "data_type": "text", "json_type": "string"}]},
    )
    return requests_mock


def test_discover_gives_the_metadata_streams_their_file_schemas(small_org: Any) -> None:
    output = discover(SourceZohoCrm(config=raw_config()), raw_config())
    streams = {s.name: s for s in output.catalog.catalog.streams}
    for name in STREAMS:
        stream = streams[name]
        assert stream.json_schema == schema_file(name), f"{name}: discover does not give the file's schema"
        assert len(stream.json_schema["properties"]) > 5, name
        assert stream.source_defined_primary_key == PRIMARY_KEYS[name], name


# ---- against the emulator -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[ZohoCrmEmulator]:
    with ZohoCrmEmulator(EmulatorSettings(seed=3, preset="small")) as emu:
        yield emu


@pytest.fixture(scope="module")
def served(emulator: ZohoCrmEmulator) -> dict[str, list[dict[str, Any]]]:
    """What the emulator's API answers for each stream's endpoint."""
    token = requests.post(
        f"{emulator.url}/oauth/v2/token",
        data={**emulator.credentials, "grant_type": "refresh_token"},
        timeout=30,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Zoho-oauthtoken {token}"

    def get(path: str, **params: str) -> requests.Response:
        response = session.get(f"{emulator.url}{path}", params=params, timeout=30)
        assert response.status_code in (200, 403), (path, params, response.status_code, response.text[:500])
        return response

    rows = {name: get(path).json()[key] for name, (path, key) in ENDPOINTS.items() if name != "fields"}
    rows["fields"] = []
    for module in (m["api_name"] for m in rows["modules"] if m.get("api_supported")):
        answer = get(ENDPOINTS["fields"][0], module=module)
        if answer.status_code == 200:  # 403: a module the profile cannot read, left out by the stream too
            rows["fields"] += [{**field, "module": module} for field in answer.json()["fields"]]
    return rows


@pytest.fixture(scope="module")
def emitted(emulator: ZohoCrmEmulator) -> dict[str, list[dict[str, Any]]]:
    """What the source emits for these streams from the emulator, in-process."""
    config = emulator.config()
    builder = CatalogBuilder()
    for name in STREAMS:
        builder.with_stream(name, SyncMode.full_refresh)
    catalog = builder.build()
    output = read(SourceZohoCrm(catalog=catalog, config=config), config, catalog)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in STREAMS}
    for message in output.records:
        rows[message.record.stream].append(message.record.data)
    return rows


def invalid(name: str, records: list[dict[str, Any]]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema_file(name))
    return [
        f"{name} {record.get('id')} at {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for record in records
        for error in validator.iter_errors(record)
    ]


def poorly_declared(name: str, records: list[dict[str, Any]]) -> list[str]:
    declared = set(schema_file(name)["properties"])
    poor = []
    for record in records:
        undeclared = sorted(set(record) - declared)
        if len(undeclared) > (1 - MIN_DECLARED_SHARE) * len(record):
            poor.append(f"{name} {record.get('id')}: of {len(record)} keys, undeclared {undeclared}")
    return poor


@pytest.mark.parametrize("name", STREAMS)
def test_what_the_emulator_serves_validates_and_is_mostly_declared(
    served: dict[str, list[dict[str, Any]]], name: str
) -> None:
    records = served[name]
    assert records, f"the emulator serves no {name}"
    assert not invalid(name, records)
    assert not poorly_declared(name, records)


@pytest.mark.parametrize("name", STREAMS)
def test_what_the_source_emits_validates_and_is_mostly_declared(
    emitted: dict[str, list[dict[str, Any]]], name: str
) -> None:
    records = emitted[name]
    assert records, f"the source emits no {name}"
    assert not invalid(name, records)
    assert not poorly_declared(name, records)
