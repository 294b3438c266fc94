"""A Zoho module as a CDK concurrent stream: one partition that reads the module page by page.

Why a component: a DeclarativeStream cannot carry the module reader, the per-page cursor or the
tombstones that follow the records; this wires them into the CDK's own DefaultStream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.models import Level, SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField, FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.bulk_backfill import SyncTools, run_backfill
from source_zoho_crm.bulk_read import BackfillPosition, use_bulk_read
from source_zoho_crm.cdk_adapter import SinglePartition, WholeStreamPartition, warn
from source_zoho_crm.coql_reader import CoqlReader, choose_reader
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.deleted_records import (
    RESTORE_WATCH,
)
from source_zoho_crm.errors import ZohoAccessError, ZohoInvalidModuleError
from source_zoho_crm.formula_refresh import FormulaRefresh, formula_refresh_for
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_reader import ModuleReader
from source_zoho_crm.progress import Progress, estimate_message
from source_zoho_crm.tombstones import DELETED_SINCE, ModuleTombstones

logger = logging.getLogger("airbyte")

# Only when Zoho sends no `Date` header: the deletions clock of a first sync starts this long before
# the sync, against clock skew with Zoho.
DELETIONS_CLOCK_MARGIN = timedelta(minutes=10)


class ModulePartition(WholeStreamPartition):
    """The whole module; a module the token may not read ends with a warning instead of failing the sync."""

    def __init__(
        self,
        spec: ModuleStreamSpec,
        reader: ModuleReader | CoqlReader,
        cursor: Cursor,
        message_repository: MessageRepository,
        client: ZohoApiClient | None = None,
        deletions_since: datetime | None = None,
        rows: Callable[[dict[str, Any]], Iterable[dict[str, Any]]] | None = None,
        cursor_field: str | None = None,
        tools: SyncTools | None = None,
        stored: Mapping[str, Any] | None = None,
        formula: FormulaRefresh | None = None,
    ) -> None:
        self._spec = spec
        self._name = spec.stream_name
        self._formula = formula  # formula and rollup freshness (formula_refresh_days), when due
        self._tools = tools  # the sync's meter and Bulk Read; None in tests of the reader alone
        self._stored = stored  # the stream state this sync started from
        self._cursor_field = cursor_field or spec.cursor_field
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
        meter = self._tools.meter if self._tools is not None else None
        with meter.attributed_to(name) if meter is not None else nullcontext():
            if meter is not None and meter.should_stop():
                return  # the credit budget is spent: this stream is read by the next sync
            try:
                yield from self._read_module()
            except (ZohoAccessError, ZohoInvalidModuleError) as denied:
                self._warn(messages.STREAM_SKIPPED.format(stream=name, message=denied.message))

    def _read_module(self) -> Iterable[Record]:
        cursor = self._cursor if isinstance(self._cursor, ModuleCursor) else None
        tools = self._tools
        reader = self._reader
        position = BackfillPosition.from_state(self._stored) if cursor is not None else None
        first_sync = cursor is None or (cursor.start is None and self._deletions_since is None)
        count = self._estimate() if tools is not None and (first_sync or position) else None
        reader.expected = count
        progress = Progress(self._spec.stream_name, count, tools.meter if tools else None)
        started = {"clock": self._deletions_since is not None}

        def start_clock(instant: datetime | None, checkpoint: bool = True) -> None:
            if self._client is not None and cursor is not None and not started["clock"]:
                clock = instant or datetime.now(timezone.utc) - DELETIONS_CLOCK_MARGIN
                cursor.set_extra_state(DELETED_SINCE, to_utc_iso(clock), checkpoint=checkpoint)
                started["clock"] = True

        if tools is not None and self._bulk_wanted(tools, position, count, first_sync):
            done = yield from run_backfill(
                tools, self._spec, position, cursor, progress, self._warn, start_clock
            )
            if done.stopped:
                return
            if done.started is not None:
                if cursor is None:
                    return  # a full refresh is the export itself
                # Nothing changed during the backfill is missed: REST goes on from its start instant.
                reader = ModuleReader(tools.client, self._spec, incremental=True, start=done.started)
        pending: datetime | None = None  # pages out of cursor order move the cursor only at the end
        for page in reader.pages():
            # Saved with the page's own checkpoint, or at once when the page does not checkpoint.
            start_clock(reader.server_time, checkpoint=not page.checkpoint)
            for record in page.records:
                if self._rows is None:
                    yield Record(data=record, stream_name=self._spec.stream_name)
                else:
                    for row in self._rows(record):
                        yield Record(data=row, stream_name=self._spec.stream_name)
            progress.page_done(len(page.records))
            if cursor is not None and page.checkpoint:
                cursor.advance(page.newest, checkpoint=True)
            elif page.newest is not None and (pending is None or page.newest > pending):
                pending = page.newest
            if tools is not None and tools.meter.should_stop():
                return  # after the last checkpoint; the next sync resumes there
        if cursor is not None:
            cursor.advance(pending, checkpoint=False)
        if self._formula is not None and cursor is not None:
            yield from self._formula.run(cursor, reader.server_time)
        if self._client is not None and cursor is not None:
            start_clock(reader.server_time, checkpoint=False)
            yield from self._tombstones(cursor)

    def _bulk_wanted(
        self, tools: SyncTools, position: BackfillPosition | None, count: int | None, first_sync: bool
    ) -> bool:
        """Bulk Read for module streams (not subform rows) that resume a backfill or read a large
        module from the beginning."""
        if self._rows is not None or not tools.bulk_enabled:
            return False
        return position is not None or use_bulk_read(count, tools.bulk_read_threshold, first_sync=first_sync)

    def _estimate(self) -> int | None:
        """Zoho's record count as an ESTIMATE message (module streams only; none without the scopes)."""
        if self._rows is not None or self._tools is None:
            return None
        count = self._tools.record_count(self._spec.api_name)
        if count is not None:
            self._message_repository.emit_message(estimate_message(self._spec.stream_name, count))
        return count

    def _warn(self, warning: str) -> None:
        warn(self._message_repository, warning)

    def _tombstones(self, cursor: ModuleCursor) -> Iterable[Record]:
        if self._deletions_since is None:
            return
        assert self._client is not None
        tombstones = ModuleTombstones(
            self._client, self._spec, self._cursor_field, self._stored, self._message_repository
        )
        yield from tombstones.read(cursor, self._deletions_since)



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
    tools: SyncTools | None = None,
    formula_refresh_days: int = 0,
) -> DefaultStream:
    """The stream for `spec`, reading incrementally when asked and when the module has a cursor.

    `cursor_field` names the cursor in the stream's rows and state when it differs from the module's.
    """
    name = spec.stream_name
    state_cursor = cursor_field or spec.cursor_field
    incremental = sync_mode == SyncMode.incremental and spec.cursor_field is not None
    cursor: Cursor
    deletions_since = None
    stored = None
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
            extra_state={k: stored[k] for k in (DELETED_SINCE, RESTORE_WATCH) if stored.get(k)}
            if stored
            else None,
        )
        formula = formula_refresh_for(
            client,
            spec,
            formula_refresh_days if rows is None else 0,
            stored,
            state_cursor,
            tools.meter if tools is not None else None,
            info=lambda text: message_repository.log_message(Level.INFO, lambda: {"message": text}),
        )
        if formula is not None:
            formula.seed(cursor)
    else:
        start = None
        cursor = FinalStateCursor(name, None, message_repository)
        formula = None
    reader = choose_reader(
        client, spec, incremental=incremental, start=start, tools=tools if rows is None else None
    )
    wants_tombstones = incremental and include_deleted
    partition = ModulePartition(
        spec,
        reader,
        cursor,
        message_repository,
        client=client if wants_tombstones else None,
        deletions_since=deletions_since,
        rows=rows,
        cursor_field=state_cursor,
        tools=tools,
        stored=stored,
        formula=formula,
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
