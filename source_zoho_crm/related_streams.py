"""Per-record related-list streams (attachments, deal contact roles, deal stage history), opt-in.

Why a component: a DeclarativeStream cannot list one API's records to drive calls to another; this wires
RelatedReader and the per-page cursor into the CDK's own DefaultStream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from airbyte_cdk.models import Level, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.cdk_adapter import SinglePartition, WholeStreamPartition, warn
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.errors import ZohoAccessError, ZohoInvalidModuleError
from source_zoho_crm.related_reader import RelatedReader
from source_zoho_crm.related_specs import RelatedListSpec

logger = logging.getLogger("airbyte")


class RelatedPartition(WholeStreamPartition):
    """The whole stream; a refused module or list ends it with a warning instead of failing the sync."""

    def __init__(
        self, spec: RelatedListSpec, reader: RelatedReader, cursor: Cursor, repository: MessageRepository
    ) -> None:
        self._spec, self._reader, self._cursor, self._repository = spec, reader, cursor, repository
        self._name = spec.stream_name

    def read(self) -> Iterable[Record]:
        name = self._spec.stream_name
        meter = self._reader.meter
        with meter.attributed_to(name) if meter is not None else nullcontext():
            if meter is not None and meter.should_stop():
                return  # the credit budget is spent: this stream is read by the next sync
            cursor = self._cursor if isinstance(self._cursor, ModuleCursor) else None
            pending = None  # the newest value of pages that may not checkpoint: saved only once all are read
            try:
                for page in self._reader.pages():
                    for row in page.records:
                        yield Record(data=row, stream_name=name)
                    if cursor is not None and page.checkpoint:
                        cursor.advance(page.newest, checkpoint=True)
                    elif page.newest is not None and (pending is None or page.newest > pending):
                        pending = page.newest
                    if meter is not None and meter.should_stop() and page.checkpoint:
                        return  # the budget is spent: the next sync resumes from this checkpoint
            except (ZohoAccessError, ZohoInvalidModuleError) as denied:
                warn(self._repository, messages.STREAM_SKIPPED.format(stream=name, message=denied.message))
                return
            if cursor is not None:
                cursor.advance(pending, checkpoint=False)
        cost = self._reader.cost
        since = self._reader.start if self._reader.changed_parents_only else None
        self._repository.log_message(
            Level.INFO,
            lambda: {
                "message": messages.RELATED_COST.format(
                    stream=name,
                    parents=cost.parents,
                    module=self._spec.parent.api_name,
                    which=f" changed since {to_utc_iso(since)}" if since else "",
                    calls=cost.calls,
                    related=self._spec.kind.related_list,
                    listing=cost.listing,
                )
            },
        )



def build_related_stream(
    spec: RelatedListSpec,
    client: ZohoApiClient,
    sync_mode: SyncMode,
    state_manager: ConnectorStateManager,
    repository: MessageRepository,
    start_datetime: datetime | None = None,
) -> DefaultStream:
    """Incremental on the kind's cursor when it has one; the cursor is checkpointed per page only when
    parents are visited in Modified_Time order (changed parents only), else when the stream ends."""
    name, cursor_field = spec.stream_name, spec.cursor_field
    cursor: Cursor
    start = None
    if sync_mode == SyncMode.incremental and cursor_field is not None:
        start = (
            cursor_from_state(name, cursor_field, state_manager.get_stream_state(name, None))
            or start_datetime
        )
        cursor = ModuleCursor(
            name,
            cursor_field,
            start,
            checkpoint_every_page=False,
            state_manager=state_manager,
            message_repository=repository,
        )
    else:
        cursor = FinalStateCursor(name, None, repository)
    reader = RelatedReader(client, spec, start=start, warn=lambda text: warn(repository, text))
    return DefaultStream(
        partition_generator=SinglePartition(RelatedPartition(spec, reader, cursor, repository)),
        name=name,
        json_schema=dict(spec.schema),
        primary_key=spec.primary_key,
        cursor_field=CursorField(cursor_field) if cursor_field else None,
        logger=logger,
        cursor=cursor,
    )


def warn_unknown_parents(planned: Mapping[str, tuple[str, Any]], built: set[str]) -> None:
    """A named per-record stream whose parent module is not read is left out with a warning."""
    for name, (parent, _) in planned.items():
        if name not in built:
            logger.warning(messages.RELATED_UNKNOWN_PARENT.format(stream=name, parent=parent))
