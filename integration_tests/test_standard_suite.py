"""Airbyte's standard source tests (`airbyte_cdk.test.standard_tests`), in process, against the emulator.

The scenarios come from `acceptance-test-config.yml` at the repo root. What runs:

- `test_spec`: `spec` emits exactly one SPEC message, which passes the CDK's spec lint.
- `test_config_matches_spec[config]`: the config validates against the connector's own spec.
- `test_check[config]` reports SUCCEEDED, `test_check[invalid_config]` reports FAILED (not a crash);
  neither prints a secret of its config.
- `test_discover[config]`: one catalog that passes the CDK's catalog checks.
- `test_basic_read[config]`: a full-refresh read of every discovered stream; every stream returns
  records and every record matches its stream's schema (`basic_read` and `full_refresh` entries).
- `test_fail_read_with_bad_catalog[config]`: an invalid configured catalog ends in an error trace.

The CDK suite has no in-process counterpart of the Connector Acceptance Tests' `full_refresh`
(two reads give the same records) and `incremental` checks, so the functions at the end of this
module run them, from the same entries of `acceptance-test-config.yml`.

Excluded, each with its reason next to it in `TestZohoCrmStandardSuite`: the six `test_docker_image_*`
tests, which build and run the image (a Docker engine and the network). `unit_tests/test_packaging.py`
checks the image's build inputs instead.

Config files: the emulator's port is chosen when it starts, so the configs cannot be committed.
`secrets/config.json` (Airbyte's convention for a real config) and the committed
`integration_tests/standard_suite/invalid_config.json` are mapped, when the scenarios are collected,
to files in a per-process temporary directory; the `runtime_configs` fixture starts the emulator
and writes them there before the first test runs, and removes them at the end.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
    Type,
)
from airbyte_cdk.test import entrypoint_wrapper
from airbyte_cdk.test.standard_tests import ConnectorTestScenario, SourceTestSuiteBase
from airbyte_cdk.test.standard_tests import pytest_hooks as cdk_pytest_hooks

from source_zoho_crm.source import SourceZohoCrm
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

pytestmark = pytest.mark.e2e

CONNECTOR_ROOT = Path(__file__).resolve().parents[1]
ACCEPTANCE_TESTS: dict[str, Any] = yaml.safe_load(
    (CONNECTOR_ROOT / "acceptance-test-config.yml").read_text()
)["acceptance_tests"]

# Written by the `runtime_configs` fixture; known at collection time, so the scenarios can point at it.
RUNTIME_DIR = Path(tempfile.gettempdir()) / f"source-zoho-crm-standard-suite-{os.getpid()}"
INVALID_CONFIG = Path("integration_tests/standard_suite/invalid_config.json")


def _emulator_config(emulator: ZohoCrmEmulator) -> dict[str, Any]:
    return emulator.config()


def _invalid_config(emulator: ZohoCrmEmulator) -> dict[str, Any]:
    """The committed invalid config (a client the emulator does not know), sent to the emulator."""
    committed = json.loads((CONNECTOR_ROOT / INVALID_CONFIG).read_text())
    return {**committed, "accounts_url": emulator.url, "api_url": emulator.url}


# config_path in acceptance-test-config.yml -> (the file this run uses instead, how it is made)
RUNTIME_CONFIGS: dict[Path, tuple[Path, Callable[[ZohoCrmEmulator], dict[str, Any]]]] = {
    Path("secrets/config.json"): (RUNTIME_DIR / "secrets" / "config.json", _emulator_config),
    INVALID_CONFIG: (RUNTIME_DIR / "invalid_config.json", _invalid_config),
}


def runtime_config_path(config_path: str | Path) -> Path:
    mapped = RUNTIME_CONFIGS.get(Path(config_path))
    if mapped is None:
        raise ValueError(
            f"acceptance-test-config.yml uses {config_path}, which this suite cannot provide: "
            "add it to RUNTIME_CONFIGS."
        )
    return mapped[0]


def load_config(config_path: str | Path) -> dict[str, Any]:
    return json.loads(runtime_config_path(config_path).read_text())


@pytest.fixture(scope="module")
def emulator() -> Iterator[ZohoCrmEmulator]:
    with ZohoCrmEmulator(EmulatorSettings(seed=5, preset="small")) as emu:
        yield emu


@pytest.fixture(scope="module")
def runtime_configs(emulator: ZohoCrmEmulator) -> Iterator[Path]:
    for target, make in RUNTIME_CONFIGS.values():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(make(emulator)))
    yield RUNTIME_DIR
    shutil.rmtree(RUNTIME_DIR, ignore_errors=True)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suite's `scenario` tests with the scenarios of acceptance-test-config.yml.

    The CDK's hooks plugin does this when a conftest loads it (`pytest_plugins`); doing it here
    too would parametrize `scenario` twice.
    """
    if not metafunc.config.pluginmanager.has_plugin(cdk_pytest_hooks.__name__):
        cdk_pytest_hooks.pytest_generate_tests(metafunc)


# Why each test of the CDK suite that needs Docker is not run here.
_BUILDS_AND_RUNS_THE_IMAGE = (
    "Builds the connector image (docker build, which pulls the base image and installs from PyPI) "
    "and runs it in a container: needs a Docker engine and the network. This pytest run has neither "
    "(the `docker` here is only a client); unit_tests/test_packaging.py checks the image's build inputs."
)
_NEEDS_THE_REGISTRY = (
    "Compares the image's spec with the one published in Airbyte's connector registry "
    "(connectors.airbyte.com): needs the network and a Docker engine to build and run the image."
)


class TestZohoCrmStandardSuite(SourceTestSuiteBase):
    """The CDK's source test suite for SourceZohoCrm.

    `SourceTestSuiteBase` rather than `DeclarativeSourceTestSuite`: the latter would run the bare
    manifest, without the Python module streams and the `check` that `SourceZohoCrm` adds.
    """

    connector = SourceZohoCrm
    connector_name = "source-zoho-crm"  # the checkout's directory is not named after the connector

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return CONNECTOR_ROOT

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        return [
            scenario.model_copy(update={"config_path": runtime_config_path(scenario.config_path)})
            if scenario.config_path is not None
            else scenario
            for scenario in super().get_scenarios()
        ]

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceZohoCrm:
        """SourceZohoCrm takes its config in the constructor, as `run.py` builds it."""
        config = (
            scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True)
            if scenario is not None
            else {}
        )
        return SourceZohoCrm(config=config or None)

    @pytest.fixture(autouse=True)
    def _emulator_and_configs(self, runtime_configs: Path) -> None:
        """Every test of the suite runs with the emulator up and the configs written."""

    # ---- excluded: tests that need a Docker engine or the network ---------------------------

    @pytest.mark.skip(reason=_BUILDS_AND_RUNS_THE_IMAGE)
    def test_docker_image_build_and_spec(self) -> None:
        raise AssertionError("excluded")

    @pytest.mark.skip(reason=_BUILDS_AND_RUNS_THE_IMAGE)
    def test_docker_image_build_and_check(self) -> None:
        raise AssertionError("excluded")

    @pytest.mark.skip(reason=_BUILDS_AND_RUNS_THE_IMAGE)
    def test_docker_image_build_and_config_matches_spec(self) -> None:
        raise AssertionError("excluded")

    @pytest.mark.skip(reason=_BUILDS_AND_RUNS_THE_IMAGE)
    def test_docker_image_build_and_discover(self) -> None:
        raise AssertionError("excluded")

    @pytest.mark.skip(reason=_BUILDS_AND_RUNS_THE_IMAGE)
    def test_docker_image_build_and_read(self) -> None:
        raise AssertionError("excluded")

    @pytest.mark.skip(reason=_NEEDS_THE_REGISTRY)
    def test_docker_image_spec_backward_compatibility(self) -> None:
        raise AssertionError("excluded")


# ---- CAT's full_refresh and incremental checks, which the CDK suite does not run --------------


def _read(
    config: dict[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    state: list[AirbyteStateMessage] | None = None,
) -> entrypoint_wrapper.EntrypointOutput:
    source = SourceZohoCrm(config=copy.deepcopy(config), catalog=catalog, state=state)
    output = entrypoint_wrapper.read(source, copy.deepcopy(config), catalog, state)
    assert not output.errors, output.get_formatted_error_message()
    return output


def _discovered(config: dict[str, Any]) -> dict[str, AirbyteStream]:
    output = entrypoint_wrapper.discover(SourceZohoCrm(config=copy.deepcopy(config)), copy.deepcopy(config))
    assert not output.errors, output.get_formatted_error_message()
    return {stream.name: stream for stream in output.catalog.catalog.streams}


def _records_by_stream(output: entrypoint_wrapper.EntrypointOutput) -> dict[str, list[dict[str, Any]]]:
    records: dict[str, list[dict[str, Any]]] = {}
    for message in output.records:
        records.setdefault(message.record.stream, []).append(message.record.data)
    return records


def _final_states(output: entrypoint_wrapper.EntrypointOutput) -> dict[str, AirbyteStateMessage]:
    last: dict[str, AirbyteStateMessage] = {}
    for message in output.state_messages:
        state = message.state
        assert state.stream is not None, "expected per-stream STATE messages"
        last[state.stream.stream_descriptor.name] = state
    return last


def _entries(section: str) -> list[dict[str, Any]]:
    return list(ACCEPTANCE_TESTS.get(section, {}).get("tests", []))


def _incremental_catalog(entry: dict[str, Any], config: dict[str, Any]) -> ConfiguredAirbyteCatalog:
    """The entry's configured catalog, with the schemas that `discover` reports (as the CDK suite does)."""
    declared = ConfiguredAirbyteCatalogSerializer.load(
        json.loads((CONNECTOR_ROOT / entry["configured_catalog_path"]).read_text())
    )
    discovered = _discovered(config)
    missing = [c.stream.name for c in declared.streams if c.stream.name not in discovered]
    assert not missing, f"{entry['configured_catalog_path']} lists streams not discovered: {missing}"
    streams = []
    for configured in declared.streams:
        stream = discovered[configured.stream.name]
        assert SyncMode.incremental in stream.supported_sync_modes, stream.name
        assert configured.cursor_field == stream.default_cursor_field, stream.name
        streams.append(
            ConfiguredAirbyteStream(
                stream=stream,
                sync_mode=configured.sync_mode,
                cursor_field=configured.cursor_field,
                destination_sync_mode=configured.destination_sync_mode,
                primary_key=configured.primary_key,
            )
        )
    return ConfiguredAirbyteCatalog(streams=streams)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("entry", _entries("full_refresh"), ids=lambda e: Path(e["config_path"]).stem)
def test_full_refresh_two_reads_return_the_same_records(entry: dict[str, Any], runtime_configs: Path) -> None:
    """CAT's full_refresh test: two full-refresh reads of an unchanged org give the same records."""
    config = load_config(entry["config_path"])
    catalog = ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=stream,
                sync_mode=SyncMode.full_refresh,
                destination_sync_mode=DestinationSyncMode.overwrite,
            )
            for stream in _discovered(config).values()
        ]
    )

    def read_once() -> dict[str, Counter[str]]:
        return {
            stream: Counter(json.dumps(record, sort_keys=True) for record in records)
            for stream, records in _records_by_stream(_read(config, catalog)).items()
        }

    first, second = read_once(), read_once()
    assert first, "the first read returned no records"
    assert set(first) == set(second)
    for stream in first:
        assert first[stream] == second[stream], f"{stream}: the second read differs from the first"


@pytest.mark.parametrize("entry", _entries("incremental"), ids=lambda e: Path(e["config_path"]).stem)
def test_incremental_second_read_starts_at_the_first_reads_state(
    entry: dict[str, Any], runtime_configs: Path
) -> None:
    """CAT's two sequential incremental reads: the second read, from the first read's state,
    returns only records at or after the state's cursor."""
    config = load_config(entry["config_path"])
    catalog = _incremental_catalog(entry, config)
    first = _read(config, catalog)
    first_records = _records_by_stream(first)
    states = _final_states(first)
    for configured in catalog.streams:
        name = configured.stream.name
        assert first_records.get(name), f"{name}: the first incremental read returned no records"
        assert name in states, f"{name}: no STATE message"

    second = _read(config, catalog, list(states.values()))
    for configured in catalog.streams:
        name, cursor = configured.stream.name, configured.cursor_field[0]
        stream_state = states[name].stream.stream_state
        assert stream_state is not None and cursor in vars(stream_state), (name, stream_state)
        checkpoint = _instant(vars(stream_state)[cursor])
        earlier = [
            record["id"]
            for record in _records_by_stream(second).get(name, [])
            if record.get(cursor) and _instant(record[cursor]) < checkpoint
        ]
        assert not earlier, f"{name}: records before the state's {cursor} {checkpoint}: {earlier}"


@pytest.mark.parametrize("entry", _entries("incremental"), ids=lambda e: Path(e["config_path"]).stem)
def test_incremental_with_a_state_in_the_future_returns_no_records(
    entry: dict[str, Any], runtime_configs: Path
) -> None:
    """CAT's abnormal-state test: a cursor far in the future reads nothing, without an error."""
    config = load_config(entry["config_path"])
    catalog = _incremental_catalog(entry, config)
    raw = json.loads((CONNECTOR_ROOT / entry["future_state"]["future_state_path"]).read_text())
    state = [AirbyteStateMessageSerializer.load(message) for message in raw]
    output = _read(config, catalog, state)
    in_the_future = {message.stream.stream_descriptor.name for message in state if message.stream}
    returned = Counter(m.record.stream for m in output.records if m.record.stream in in_the_future)
    assert not returned, f"records despite a state in the future: {dict(returned)}"
    assert output.get_message_by_types([Type.STATE]), "no STATE message"
