"""A Zoho module as a CDK concurrent stream: one partition that reads the module page by page.

Why a component: a DeclarativeStream cannot carry the module reader, the per-page cursor or the
tombstones that follow the records; this wires them into the CDK's own DefaultStream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.models import Level, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.partition_generator import PartitionGenerator
from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.deleted_records import read_deleted, tombstone
from source_zoho_crm.errors import ZohoAccessError, ZohoInvalidModuleError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_reader import ModuleReader

logger = logging.getLogger("airbyte")

DELETED_SINCE = "deleted_since"
# The deletions cursor of a first sync starts this long before the sync, against clock skew with Zoho.
DELETIONS_CLOCK_MARGIN = timedelta(minutes=10)


class ModulePartition(Partition):
    """The whole module; a module the token may not read ends with a warning instead of failing the sync."""

    def __init__(
        self,
        spec: ModuleStreamSpec,
        reader: ModuleReader,
        cursor: Cursor,
        message_repository: MessageRepository,
        client: ZohoApiClient | None = None,
        deletions_since: datetime | None = None,
        rows: Callable[[dict[str, Any]], Iterable[dict[str, Any]]] | None = None,
    ) -> None:
        self._spec = spec
        self._reader = reader
        self._cursor = cursor
        self._message_repository = message_repository
        # Set when tombstones are wanted (incremental with `include_deleted`).
        self._client = client
        self._deletions_since = deletions_since
        # Child streams turn each parent record into rows (one per subform line).
        self._rows = rows

    def read(self) -> Iterable[Record]:
        name = self._spec.stream_name
        started = datetime.now(timezone.utc)
        try:
            for page in self._reader.pages():
                for record in page.records:
                    if self._rows is None:
                        yield Record(data=record, stream_name=name)
                    else:
                        for row in self._rows(record):
                            yield Record(data=row, stream_name=name)
                if isinstance(self._cursor, ModuleCursor):
                    self._cursor.advance(page.newest)
            if self._client is not None and isinstance(self._cursor, ModuleCursor):
                yield from self._tombstones(self._cursor, started)
        except (ZohoAccessError, ZohoInvalidModuleError) as denied:
            warning = messages.STREAM_SKIPPED.format(stream=name, message=denied.message)
            self._message_repository.log_message(Level.WARN, lambda: {"message": warning})

    def _tombstones(self, cursor: ModuleCursor, started: datetime) -> Iterable[Record]:
        """Deleted records as `{id, _ab_cdc_deleted_at}`; a first sync only starts the deletions clock."""
        since = self._deletions_since
        newest = since or started - DELETIONS_CLOCK_MARGIN
        if since is not None:
            assert self._client is not None
            for entries, newest_on_page in read_deleted(self._client, self._spec.api_name, since):
                for entry in entries:
                    yield Record(data=tombstone(entry), stream_name=self._spec.stream_name)
                if newest_on_page is not None and newest_on_page > newest:
                    newest = newest_on_page
        cursor.set_extra_state(DELETED_SINCE, to_utc_iso(newest))
        cursor.advance(None)

    def to_slice(self) -> Mapping[str, Any] | None:
        return None

    def stream_name(self) -> str:
        return self._spec.stream_name

    def __hash__(self) -> int:
        return hash(self._spec.stream_name)


class SinglePartition(PartitionGenerator):
    """A stream read as one partition (a module is one page-token chain, or a few in a row)."""

    def __init__(self, partition: Partition) -> None:
        self._partition = partition

    def generate(self) -> Iterable[Partition]:
        yield self._partition


def build_module_stream(
    spec: ModuleStreamSpec,
    client: ZohoApiClient,
    sync_mode: SyncMode,
    state_manager: ConnectorStateManager,
    message_repository: MessageRepository,
    start_datetime: Any = None,
    include_deleted: bool = False,
    rows: Callable[[dict[str, Any]], Iterable[dict[str, Any]]] | None = None,
    cursor_field: str | None = None,
) -> DefaultStream:
    """The stream for `spec`, reading incrementally when asked and when the module has a cursor.

    `cursor_field` names the cursor in the stream's rows and state when it differs from the module's.
    """
    name = spec.stream_name
    state_cursor = cursor_field or spec.cursor_field
    incremental = sync_mode == SyncMode.incremental and spec.cursor_field is not None
    cursor: Cursor
    deletions_since = None
    if incremental:
        assert spec.cursor_field is not None
        stored = state_manager.get_stream_state(name, None)
        assert state_cursor is not None
        start = cursor_from_state(name, state_cursor, stored) or start_datetime
        deletions_since = cursor_from_state(name, DELETED_SINCE, stored)
        cursor = ModuleCursor(
            name,
            state_cursor,
            start,
            checkpoint_every_page=spec.sorted_by_cursor,
            state_manager=state_manager,
            message_repository=message_repository,
            extra_state={DELETED_SINCE: stored[DELETED_SINCE]}
            if stored and stored.get(DELETED_SINCE)
            else None,
        )
    else:
        start = None
        cursor = FinalStateCursor(name, None, message_repository)
    reader = ModuleReader(client, spec, incremental=incremental, start=start)
    wants_tombstones = incremental and include_deleted
    partition = ModulePartition(
        spec,
        reader,
        cursor,
        message_repository,
        client=client if wants_tombstones else None,
        deletions_since=deletions_since,
        rows=rows,
    )
    return DefaultStream(
        partition_generator=SinglePartition(partition),
        name=name,
        json_schema=spec.schema,
        primary_key=["id"],
        cursor_field=CursorField(state_cursor) if state_cursor else None,
        logger=logger,
        cursor=cursor,
    )
