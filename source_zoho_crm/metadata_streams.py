"""The org's metadata streams: from the metadata cache (org, modules, fields), straight from Zoho (users,
roles, profiles, currencies, territories), and the deleted-records audit stream.

Why Python: every Zoho call must go through the one ZohoApiClient (one retry policy, one concurrency
cap, Zoho's codes mapped to actionable messages), which a manifest HttpRequester cannot use; the
cache already holds what org/modules/fields emit; the audit stream keeps one cursor per module.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.cdk_adapter import SinglePartition, WholeStreamPartition, warn
from source_zoho_crm.cursor import cursor_from_state
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.deleted_records import read_deleted
from source_zoho_crm.errors import ZohoAccessError, ZohoError, ZohoInvalidModuleError
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.settings import API_VERSION_PATH, DELETED_REFUSED_CODES, USERS_PAGE_SIZE, USERS_TYPE

logger = logging.getLogger("airbyte")


def load_schema(name: str) -> Mapping[str, Any]:
    """The JSON schema of stream `name`, shipped as package data in `source_zoho_crm/schemas/`."""
    folder = importlib.resources.files("source_zoho_crm").joinpath("schemas")
    return json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))


OPEN_SCHEMA: Mapping[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {"id": {"type": ["null", "string"]}},
}
# Typed after Zoho's OpenAPI spec (v8): typed destinations make columns only for declared properties.
ORG_SCHEMA: Mapping[str, Any] = load_schema("org")
TERRITORIES_SCHEMA: Mapping[str, Any] = load_schema("territories")
MODULES_SCHEMA: Mapping[str, Any] = load_schema("modules")
FIELDS_SCHEMA: Mapping[str, Any] = load_schema("fields")
DELETED_RECORDS_SCHEMA: Mapping[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "module": {"type": ["null", "string"]},
        "id": {"type": ["null", "string"]},
        "display_name": {"type": ["null", "string"]},
        "type": {"type": ["null", "string"]},
        "deleted_time": {
            "type": ["null", "string"],
            "format": "date-time",
            "airbyte_type": "timestamp_with_timezone",
        },
        "deleted_by": {"type": ["null", "object"], "additionalProperties": True},
        "created_by": {"type": ["null", "object"], "additionalProperties": True},
    },
}


class _RowsPartition(WholeStreamPartition):
    """Rows from a callable; an access error ends the stream with a warning."""

    def __init__(
        self, name: str, rows: Callable[[], Iterable[Mapping[str, Any]]], repository: MessageRepository
    ):
        self._name = name
        self._rows = rows
        self._repository = repository

    def read(self) -> Iterable[Record]:
        try:
            for row in self._rows():
                yield Record(data=row, stream_name=self._name)
        except (ZohoAccessError, ZohoInvalidModuleError) as denied:
            warn(self._repository, messages.STREAM_SKIPPED.format(stream=self._name, message=denied.message))



def _stream(
    name: str,
    rows: Callable[[], Iterable[Mapping[str, Any]]],
    repository: MessageRepository,
    primary_key: list[str],
    schema: Mapping[str, Any] = OPEN_SCHEMA,
    cursor: Cursor | None = None,
    cursor_field: str | None = None,
) -> DefaultStream:
    return DefaultStream(
        partition_generator=SinglePartition(_RowsPartition(name, rows, repository)),
        name=name,
        json_schema=schema,
        primary_key=primary_key,
        cursor_field=CursorField(cursor_field) if cursor_field else None,
        logger=logger,
        cursor=cursor or FinalStateCursor(name, None, repository),
    )


def cached_metadata_streams(metadata: ZohoMetadata, repository: MessageRepository) -> list[DefaultStream]:
    """`org`, `modules` and `fields` (what discovery fetched anyway, with no second call), `territories`."""

    def fields() -> Iterable[Mapping[str, Any]]:
        for module in metadata.selected_modules():
            api_name = str(module["api_name"])
            try:
                module_fields = metadata.fields(api_name)
            except ZohoAccessError as denied:
                logger.warning(
                    messages.MODULE_FIELDS_LEFT_OUT.format(module=api_name, message=denied.message)
                )
                continue
            for field in module_fields:
                yield {**field, "module": api_name}

    return [
        _stream("org", lambda: [metadata.org()], repository, ["id"], schema=ORG_SCHEMA),
        _stream("territories", metadata.territories, repository, ["id"], schema=TERRITORIES_SCHEMA),
        _stream("modules", metadata.modules, repository, ["id"], schema=MODULES_SCHEMA),
        _stream("fields", fields, repository, ["module", "id"], schema=FIELDS_SCHEMA),
    ]


# Metadata streams read straight from Zoho: name -> (path, key of the records in the answer, what, paged).
API_METADATA_STREAMS: Mapping[str, tuple[str, str, str, bool]] = {
    "users": (f"{API_VERSION_PATH}/users", "users", "the users", True),
    "roles": (f"{API_VERSION_PATH}/settings/roles", "roles", "the roles", False),
    "profiles": (f"{API_VERSION_PATH}/settings/profiles", "profiles", "the profiles", False),
    "currencies": (f"{API_VERSION_PATH}/org/currencies", "currencies", "the currencies", False),
}


def api_metadata_streams(client: ZohoApiClient, repository: MessageRepository) -> list[DefaultStream]:
    """`users` (every user, active or not, page by page), `roles`, `profiles`, `currencies`."""
    return [
        _stream(
            name, _rows_from(client, path, key, what, paged), repository, ["id"], schema=load_schema(name)
        )
        for name, (path, key, what, paged) in API_METADATA_STREAMS.items()
    ]


def _rows_from(
    client: ZohoApiClient, path: str, key: str, what: str, paged: bool
) -> Callable[[], Iterable[Mapping[str, Any]]]:
    def rows() -> Iterable[Mapping[str, Any]]:
        params: dict[str, Any] = {"type": USERS_TYPE, "per_page": USERS_PAGE_SIZE} if paged else {}
        page = 1
        while True:
            request = {**params, "page": page} if paged else None
            body = client.get(path, request, what=what).body or {}
            found = body.get(key)
            yield from (row for row in found if isinstance(row, Mapping)) if isinstance(found, list) else ()
            info = body.get("info")
            if not paged or not found or not (isinstance(info, Mapping) and info.get("more_records")):
                return
            page += 1

    return rows


class PerModuleCursor(Cursor):
    """State `{"Leads": "<newest deleted_time, UTC>", ...}`: each module resumes on its own."""

    def __init__(
        self, name: str, state_manager: ConnectorStateManager, repository: MessageRepository
    ) -> None:
        self._name = name
        self._state_manager = state_manager
        self._repository = repository
        self._state: dict[str, Any] = dict(state_manager.get_stream_state(name, None) or {})

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._state

    def since(self, module: str) -> Any:
        return cursor_from_state(self._name, module, self._state)

    def checkpoint(self, module: str, newest: Any) -> None:
        if newest is not None:
            self._state[module] = to_utc_iso(newest)
        self._state_manager.update_state_for_stream(self._name, None, self._state)
        self._repository.emit_message(self._state_manager.create_state_message(self._name, None))

    def observe(self, record: Record) -> None:
        """Per-module progress is reported by the reader."""

    def close_partition(self, partition: Partition) -> None:
        """Each module checkpointed as it finished."""

    def ensure_at_least_one_state_emitted(self) -> None:
        self._state_manager.update_state_for_stream(self._name, None, self._state)
        self._repository.emit_message(self._state_manager.create_state_message(self._name, None))

    def stream_slices(self) -> Iterable[StreamSlice]:
        yield StreamSlice(partition={}, cursor_slice={})

    def should_be_synced(self, record: Record) -> bool:
        return True


def deleted_records_stream(
    metadata: ZohoMetadata,
    client: ZohoApiClient,
    sync_mode: SyncMode,
    state_manager: ConnectorStateManager,
    repository: MessageRepository,
) -> DefaultStream:
    """Every module's deleted-records log (who deleted what, when), incremental on deleted_time."""
    name = "deleted_records"
    incremental = sync_mode == SyncMode.incremental
    cursor = PerModuleCursor(name, state_manager, repository) if incremental else None

    def rows() -> Iterable[Mapping[str, Any]]:
        for module in metadata.selected_modules():
            api_name = str(module["api_name"])
            since = cursor.since(api_name) if cursor else None
            newest = since
            try:
                for entries, newest_on_page in read_deleted(client, api_name, since, stop_at_wall=True):
                    for entry in entries:
                        yield {**entry, "module": api_name}
                    if newest_on_page is not None and (newest is None or newest_on_page > newest):
                        newest = newest_on_page
            except ZohoError as denied:
                if not _refused(denied):
                    raise
                logger.warning(
                    messages.MODULE_DELETIONS_LEFT_OUT.format(module=api_name, message=denied.message)
                )
                continue
            if cursor:
                cursor.checkpoint(api_name, newest)

    return _stream(
        name,
        rows,
        repository,
        ["module", "id"],
        schema=DELETED_RECORDS_SCHEMA,
        cursor=cursor,
        cursor_field="deleted_time",
    )


def _refused(error: ZohoError) -> bool:
    """A module whose deleted log this token may not read (wrapped 400 AUTHORIZATION_FAILED included)."""
    return isinstance(error, (ZohoAccessError, ZohoInvalidModuleError)) or error.code in DELETED_REFUSED_CODES
