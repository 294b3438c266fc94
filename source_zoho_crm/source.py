"""The Zoho CRM source: the manifest's streams plus one stream per API-supported CRM module."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import ZohoTokenProvider, shared_token_provider
from source_zoho_crm.config import ConfigError, ZohoConfig, concurrency_for_edition, parse_config
from source_zoho_crm.errors import ZohoAccessError, ZohoError
from source_zoho_crm.inputs import prepare_config, read_config_file, read_state_file
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.metadata_streams import cached_metadata_streams, deleted_records_stream
from source_zoho_crm.module_stream import build_module_stream, build_subform_stream

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
T = TypeVar("T")


def load_manifest() -> dict[str, Any]:
    return dict(safe_load_yaml(MANIFEST_PATH.read_bytes()))


@dataclass
class ZohoSession:
    """What every command shares: the parsed config, the one token, the one client, the metadata cache."""

    config: ZohoConfig
    tokens: ZohoTokenProvider
    client: ZohoApiClient
    metadata: ZohoMetadata


class SourceZohoCrm(ConcurrentDeclarativeSource):
    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        **kwargs: Any,
    ) -> None:
        normalized = _with_derived_urls(config) if config is not None else None
        super().__init__(
            catalog=catalog, config=normalized, state=state, source_config=load_manifest(), **kwargs
        )

    # ---- inputs: the connector's parser runs before the CDK's spec check (see inputs.py) ------

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        return prepare_config(super().configure(config, temp_dir))

    read_config = staticmethod(read_config_file)  # type: ignore[assignment]

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        return read_state_file(state_path)

    # ---- shared session -------------------------------------------------------------------

    @cached_property
    def _zoho(self) -> ZohoSession:
        config = parse_config(self._config)
        tokens = shared_token_provider(config)
        client = ZohoApiClient(config.api_url, tokens, max_concurrent=config.max_concurrent_requests or 5)
        return ZohoSession(config, tokens, client, ZohoMetadata(client, config))

    def _concurrency_limit(self, zoho: ZohoSession) -> int:
        if zoho.config.max_concurrent_requests:
            return zoho.config.max_concurrent_requests
        try:
            license_details = zoho.metadata.org().get("license_details") or {}
        except ZohoAccessError as denied:
            self.logger.warning("Using 5 concurrent requests: %s", denied.message)
            return concurrency_for_edition(None)
        return concurrency_for_edition(license_details.get("paid_type"))

    def _metadata_streams(
        self, config: Mapping[str, Any], zoho: ZohoSession, sync_modes: Mapping[str, SyncMode]
    ) -> list[AbstractStream]:
        """The manifest's streams, those served from the metadata cache, and the deleted-records log."""
        deleted_mode = sync_modes.get("deleted_records", SyncMode.incremental)
        return [
            *super().streams(config),
            *cached_metadata_streams(zoho.metadata, self._message_repository),
            deleted_records_stream(
                zoho.metadata,
                zoho.client,
                deleted_mode,
                self._connector_state_manager,
                self._message_repository,
            ),
        ]

    # ---- commands -------------------------------------------------------------------------

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials, the data centre and environment, and the metadata scopes."""
        try:
            zoho = self._zoho
            zoho.tokens.token()
            modules = _step("ZohoCRM.settings.modules.READ", zoho.metadata.selected_modules)
            if not modules:
                return _failed("The org has no API-supported modules to read (check `modules`).")
            _check_fields_scope(zoho.metadata, [str(m["api_name"]) for m in modules])
        except ConfigError as problem:
            return _failed(f"Invalid configuration: {problem.message}")
        except ZohoError as problem:
            return _failed(problem.message)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def streams(self, config: Mapping[str, Any]) -> list[AbstractStream]:  # type: ignore[override]
        """The metadata streams of the manifest, then a stream per readable module and per subform."""
        zoho = self._zoho
        zoho.client.set_max_concurrent(self._concurrency_limit(zoho))
        streams = self._metadata_streams(config, zoho, {})
        shared = (zoho.client, SyncMode.incremental, self._connector_state_manager, self._message_repository)
        for spec in zoho.metadata.module_streams(with_subform_schemas=True):
            streams.append(build_module_stream(spec, *shared))
            streams.extend(
                build_subform_stream(child, *shared) for child in zoho.metadata.subform_streams(spec)
            )
        return streams

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        zoho = self._zoho
        limit = self._concurrency_limit(zoho)
        zoho.client.set_max_concurrent(limit)
        sync_modes = {configured.stream.name: configured.sync_mode for configured in catalog.streams}
        metadata_streams = [
            s for s in self._metadata_streams(config, zoho, sync_modes) if s.name in sync_modes
        ]
        declared = {s.name for s in metadata_streams}
        module_streams: list[AbstractStream] = []
        start = zoho.config.start_datetime
        shared = (self._connector_state_manager, self._message_repository)
        for spec in zoho.metadata.module_streams(only=_parent_names(set(sync_modes) - declared)):
            if spec.stream_name in sync_modes:
                mode = sync_modes[spec.stream_name]
                module_streams.append(
                    build_module_stream(
                        spec, zoho.client, mode, *shared, start, include_deleted=zoho.config.include_deleted
                    )
                )
            for child in spec.subform_streams():
                if child.stream_name in sync_modes:
                    mode = sync_modes[child.stream_name]
                    module_streams.append(build_subform_stream(child, zoho.client, mode, *shared, start))
        selected = self._select_streams(
            streams=[*metadata_streams, *module_streams], configured_catalog=catalog
        )
        if not selected:
            return
        engine = ConcurrentSource.create(
            num_workers=max(2, limit),
            initial_number_of_partitions_to_generate=max(1, limit // 2),
            logger=self.logger,
            slice_logger=self._slice_logger,
            message_repository=self._message_repository,
            queue=self._concurrent_source._queue,
        )
        yield from engine.read(selected)


def _parent_names(stream_names: set[str]) -> set[str]:
    """Stream names plus every prefix that could be a parent module of a `<module>_<subform>` stream."""
    names = set(stream_names)
    for name in stream_names:
        parts = name.split("_")
        names.update("_".join(parts[:i]) for i in range(1, len(parts)))
    return names


def _with_derived_urls(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with `api_url`/`accounts_url` filled from the data centre, for the manifest's requester."""
    try:
        parsed = parse_config(config)
    except ConfigError:
        return dict(config)  # reported with a clear message by the command that needs it
    return {**config, "api_url": parsed.api_url, "accounts_url": parsed.accounts_url}


def _step(scope: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ZohoAccessError as denied:
        if denied.code == "OAUTH_SCOPE_MISMATCH":
            raise ZohoAccessError(f"The refresh token lacks the scope {scope}: {denied.message}") from None
        raise


def _check_fields_scope(metadata: ZohoMetadata, modules: list[str]) -> None:
    """Field metadata of the first module the user may read (a 403 on one module is not a scope problem)."""
    last: ZohoAccessError | None = None
    for module in modules[:5]:
        try:
            _step("ZohoCRM.settings.fields.READ", lambda module=module: metadata.fields(module))
            return
        except ZohoAccessError as denied:
            if denied.code == "OAUTH_SCOPE_MISMATCH" or "lacks the scope" in denied.message:
                raise
            last = denied
    if last is not None:
        raise last


def _failed(message: str) -> AirbyteConnectionStatus:
    return AirbyteConnectionStatus(status=Status.FAILED, message=message)
