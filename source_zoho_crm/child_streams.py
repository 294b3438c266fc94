"""Child streams: one row per line of a subform field, read by ChildReader only when selected.

Why a component: a DeclarativeStream cannot carry a reader that switches APIs mid-read; this wires
ChildReader and the per-page cursor into the CDK's own DefaultStream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.cdk_adapter import SinglePartition, WholeStreamPartition, warn
from source_zoho_crm.child_reader import ChildReader
from source_zoho_crm.child_specs import ChildStreamSpec
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.errors import ZohoAccessError, ZohoInvalidModuleError

logger = logging.getLogger("airbyte")

# State written before lines were read from the subform module kept the parent's cursor here.
LEGACY_CURSOR = "parent_modified_time"


class ChildPartition(WholeStreamPartition):
    """The whole child stream; a refused module ends it with a warning instead of failing the sync."""

    def __init__(
        self, child: ChildStreamSpec, reader: ChildReader, cursor: Cursor, repository: MessageRepository
    ):
        self._child, self._reader, self._cursor, self._repository = child, reader, cursor, repository
        self._name = child.stream_name

    def read(self) -> Iterable[Record]:
        name = self._child.stream_name
        try:
            for page in self._reader.pages():
                for row in page.records:
                    yield Record(data=row, stream_name=name)
                if isinstance(self._cursor, ModuleCursor):
                    self._cursor.advance(page.newest, page.checkpoint)
        except (ZohoAccessError, ZohoInvalidModuleError) as denied:
            warn(self._repository, messages.STREAM_SKIPPED.format(stream=name, message=denied.message))



def build_child_stream(
    child: ChildStreamSpec,
    client: ZohoApiClient,
    sync_mode: SyncMode,
    state_manager: ConnectorStateManager,
    repository: MessageRepository,
    start_datetime: datetime | None = None,
) -> DefaultStream:
    """One row per line, incremental on the lines' cursor (state written before this kept the
    parent's cursor as `parent_modified_time`: it is a safe start, since a line changes its parent)."""
    name, cursor_field = child.stream_name, child.cursor_field
    cursor: Cursor
    start = None
    if sync_mode == SyncMode.incremental and cursor_field is not None:
        stored = state_manager.get_stream_state(name, None)
        start = (
            cursor_from_state(name, cursor_field, stored)
            or cursor_from_state(name, LEGACY_CURSOR, stored)
            or start_datetime
        )
        ordered = child.line_spec.sorted_by_cursor if child.line_spec else child.parent.sorted_by_cursor
        cursor = ModuleCursor(
            name,
            cursor_field,
            start,
            checkpoint_every_page=ordered,
            state_manager=state_manager,
            message_repository=repository,
        )
    else:
        cursor = FinalStateCursor(name, None, repository)
    reader = ChildReader(client, child, start=start, warn=lambda text: warn(repository, text))
    return DefaultStream(
        partition_generator=SinglePartition(ChildPartition(child, reader, cursor, repository)),
        name=name,
        json_schema=child.schema,
        primary_key=["id"],
        cursor_field=CursorField(cursor_field) if cursor_field else None,
        logger=logger,
        cursor=cursor,
    )
