"""The Zoho CRM source: the org's metadata streams plus one stream per API-supported CRM module."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import shared_token_provider
from source_zoho_crm.bulk_backfill import SyncTools
from source_zoho_crm.cdk_adapter import ConcurrentEngine
from source_zoho_crm.config import ConfigError, concurrency_for_edition, parse_config
from source_zoho_crm.credits import CreditBudgetReached, CreditMeter
from source_zoho_crm.errors import ZohoAccessError, ZohoError, ZohoInvalidModuleError
from source_zoho_crm.inputs import prepare_config, read_config_file, read_state_file
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.optional_scopes import check_optional_scopes
from source_zoho_crm.settings import DEFAULT_MAX_CONCURRENT, SCOPE_MISMATCH_CODE
from source_zoho_crm.streams import ZohoSession, build_streams

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
T = TypeVar("T")


def load_manifest() -> dict[str, Any]:
    return dict(safe_load_yaml(MANIFEST_PATH.read_bytes()))


class SourceZohoCrm(ConcurrentDeclarativeSource):
    """Spec and `advanced_auth` from the manifest; check, discover and read in Python (every stream
    goes through the one ZohoApiClient, so one retry policy and one concurrency cap apply)."""

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(catalog=catalog, config=config, state=state, source_config=load_manifest(), **kwargs)
        self._zoho_config: Mapping[str, Any] = dict(config or {})

    # ---- inputs: the connector's parser runs before the CDK's spec check (see inputs.py) ------

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        return prepare_config(super().configure(config, temp_dir))

    read_config = staticmethod(read_config_file)  # type: ignore[assignment]

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        return read_state_file(state_path)

    # ---- shared session -------------------------------------------------------------------

    def _session(self, config: Mapping[str, Any]) -> ZohoSession:
        """The session of the config given to the constructor (else to the first command)."""
        if not self._zoho_config:
            self._zoho_config = dict(config)
        return self._zoho

    @cached_property
    def _zoho(self) -> ZohoSession:
        config = parse_config(self._zoho_config)
        tokens = shared_token_provider(config)
        client = ZohoApiClient(
            tokens.api_url(), tokens, max_concurrent=config.max_concurrent_requests or DEFAULT_MAX_CONCURRENT
        )
        return ZohoSession(config, tokens, client, ZohoMetadata(client, config))

    def _concurrency_limit(self, zoho: ZohoSession) -> int:
        if zoho.config.max_concurrent_requests:
            return zoho.config.max_concurrent_requests
        try:
            license_details = zoho.metadata.org().get("license_details") or {}
        except ZohoAccessError as denied:
            self.logger.warning(messages.EDITION_UNKNOWN.format(message=denied.message))
            return concurrency_for_edition(None)
        return concurrency_for_edition(license_details.get("paid_type"))

    # ---- commands -------------------------------------------------------------------------

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials, the data centre and environment, and the metadata scopes."""
        try:
            zoho = self._session(config)
            zoho.tokens.token()
            modules = _step("ZohoCRM.settings.modules.READ", zoho.metadata.selected_modules)
            if not modules:
                return _failed(messages.NO_MODULES)
            names = [str(m["api_name"]) for m in modules]
            _check_fields_scope(zoho.metadata, names)
            notice = check_optional_scopes(zoho.tokens.scopes, zoho.client, names)
        except ConfigError as problem:
            return _failed(messages.INVALID_CONFIG.format(message=problem.message))
        except ZohoError as problem:
            return _failed(problem.message)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=notice)

    def streams(self, config: Mapping[str, Any]) -> list[AbstractStream]:  # type: ignore[override]
        """Every stream (discover): the metadata streams, then a stream per readable module and subform."""
        zoho = self._session(config)
        zoho.client.set_max_concurrent(self._concurrency_limit(zoho))
        return build_streams(zoho, None, ConnectorStateManager(), InMemoryMessageRepository())

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """The catalog's streams, built alone, on the CDK's concurrent engine."""
        zoho = self._session(config)
        meter = CreditMeter(budget=zoho.config.api_credit_budget)
        zoho.client.meter = meter
        zoho.tools = SyncTools(
            zoho.client,
            meter,
            bulk_read_threshold=zoho.config.bulk_read_threshold,
            tokens=zoho.tokens,
            org=zoho.metadata.org,
            fields=zoho.metadata.fields,
            modules=zoho.metadata.modules,
        )
        with ThreadPoolExecutor(max_workers=1) as side:  # start sooner: the module list meanwhile
            modules = side.submit(_quietly, zoho.metadata.modules)
            limit = self._concurrency_limit(zoho)
            modules.result()
        zoho.client.set_max_concurrent(limit)
        engine = ConcurrentEngine(limit, self.logger)
        selection = {configured.stream.name: configured.sync_mode for configured in catalog.streams}
        streams = build_streams(
            zoho, selection, ConnectorStateManager(state=state), engine.message_repository
        )
        yield from engine.read(streams, catalog)
        self.logger.info(meter.summary())
        if meter.should_stop():
            # Raised after every stream's last state: the platform keeps them, and the next sync resumes.
            raise CreditBudgetReached(meter.stop_message())


def _quietly(call: Callable[[], T]) -> T | None:
    """`call()`, its error left for the caller that needs the result to raise again (cached or not)."""
    try:
        return call()
    except ZohoError:
        return None


def _step(scope: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except ZohoAccessError as denied:
        if denied.code == SCOPE_MISMATCH_CODE:
            raise ZohoAccessError(
                messages.SCOPE_MISSING_IN_CHECK.format(scope=scope, message=denied.message)
            ) from None
        raise


def _check_fields_scope(metadata: ZohoMetadata, modules: list[str]) -> None:
    """Field metadata of the first module the user may read (a 403, 204 or INVALID_MODULE on one module
    is not a scope problem)."""
    last: ZohoAccessError | ZohoInvalidModuleError | None = None
    for module in modules[:5]:
        try:
            _step("ZohoCRM.settings.fields.READ", lambda module=module: metadata.fields(module))
            return
        except ZohoAccessError as denied:
            if denied.code == SCOPE_MISMATCH_CODE or "lacks the scope" in denied.message:
                raise
            last = denied
        except ZohoInvalidModuleError as refused:
            last = refused
    if last is not None:
        raise last


def _failed(message: str) -> AirbyteConnectionStatus:
    return AirbyteConnectionStatus(status=Status.FAILED, message=message)
