"""The incremental cursor of a module stream: UTC state, checkpointed after every page.

Why a component: the CDK's ConcurrentCursor writes state only when a partition closes (one per
module here) and keeps the record's own offset; Zoho sends `+05:30` values and a sync can stop
mid-module, so state is normalised to UTC and advanced page by page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_zoho_crm.datetimes import parse_start_datetime, to_utc_iso
from source_zoho_crm.errors import ZohoStateError

# Zoho's clock and ours may differ a little; past this margin an instant is "in the future".
FUTURE_MARGIN = timedelta(minutes=10)
_logger = logging.getLogger("airbyte")


def not_in_future(stream_name: str, what: str, value: datetime | None) -> datetime | None:
    """`value`, or now when it lies in the future (with a warning): a future cursor would read nothing
    on every sync, so it is never kept nor saved."""
    now = datetime.now(timezone.utc)
    if value is None or value <= now + FUTURE_MARGIN:
        return value
    _logger.warning(
        "Stream '%s': %s %s is in the future; using now (%s) instead, so this and later syncs read "
        "the changes from now on. Check the clock or the value, or reset the stream to read everything.",
        stream_name,
        what,
        to_utc_iso(value),
        to_utc_iso(now),
    )
    return now


def cursor_from_state(
    stream_name: str, cursor_field: str, state: Mapping[str, Any] | None
) -> datetime | None:
    """The instant stored in a stream's state, or None; a value that is not a datetime is a clear error."""
    if not state:
        return None
    value = state.get(cursor_field)
    if value in (None, ""):
        return None
    try:
        parsed = parse_start_datetime(str(value))
    except ValueError:
        raise ZohoStateError(
            f"The state of stream '{stream_name}' has {cursor_field}={str(value)[:40]!r}, which is not a "
            "datetime. Fix the state (e.g. 2025-03-04T11:59:00Z) or reset the stream."
        ) from None
    return not_in_future(stream_name, f"the state's {cursor_field}", parsed)


class ModuleCursor(Cursor):
    """Tracks the newest cursor value read; the reader reports it page by page (no per-record parsing)."""

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        start: datetime | None,
        checkpoint_every_page: bool,
        state_manager: ConnectorStateManager,
        message_repository: MessageRepository,
        extra_state: Mapping[str, Any] | None = None,
    ) -> None:
        self._stream_name = stream_name
        self._cursor_field = cursor_field
        self._start = start
        # A future start_datetime reads nothing now, but what is saved is never past now.
        self._newest = not_in_future(stream_name, "the start", start)
        self._safe = self._newest  # the newest value a checkpoint may hold before the stream ends
        self._checkpoint_every_page = checkpoint_every_page
        self._state_manager = state_manager
        self._message_repository = message_repository
        self._extra_state: dict[str, Any] = dict(extra_state or {})
        self._emitted: dict[str, Any] | None = None

    @property
    def start(self) -> datetime | None:
        """Where this sync reads from (inclusive): the state, else `start_datetime`, else everything."""
        return self._start

    @property
    def state(self) -> MutableMapping[str, Any]:
        state: dict[str, Any] = dict(self._extra_state)
        if self._newest is not None:
            state[self._cursor_field] = to_utc_iso(self._newest)
        return state

    def advance(self, newest_on_page: datetime | None, checkpoint: bool | None = None) -> None:
        """A page was emitted; checkpoint when its pages come in cursor order (`checkpoint`, else the
        stream's default). A page that may not checkpoint still moves the value stored at the end."""
        if newest_on_page is not None and (self._newest is None or newest_on_page > self._newest):
            self._newest = not_in_future(self._stream_name, "a record's cursor value", newest_on_page)
        if self._checkpoint_every_page if checkpoint is None else checkpoint:
            self._safe = self._newest
            self._emit()

    def set_extra_state(self, key: str, value: Any, checkpoint: bool = False) -> None:
        """Other cursors kept in the same stream state (e.g. the deleted-records cursor); `checkpoint`
        emits them at once, with the cursor value last checkpointed."""
        self._extra_state[key] = value
        if checkpoint:
            self._emit()

    def drop_extra_state(self, key: str) -> None:
        """Forget another cursor (a finished Bulk Read backfill's position); saved with the next state."""
        self._extra_state.pop(key, None)

    def observe(self, record: Record) -> None:
        """Nothing to do per record: the reader hands over each page's newest value."""

    def close_partition(self, partition: Partition) -> None:
        self._safe = self._newest
        self._emit()

    def ensure_at_least_one_state_emitted(self) -> None:
        if self._emitted is None:
            self._emit(force=True)

    def stream_slices(self) -> Iterable[StreamSlice]:
        yield StreamSlice(partition={}, cursor_slice={})

    def should_be_synced(self, record: Record) -> bool:
        return True

    def _emit(self, force: bool = False) -> None:
        state: dict[str, Any] = dict(self._extra_state)
        if self._safe is not None:
            state[self._cursor_field] = to_utc_iso(self._safe)
        if not force and state == self._emitted:
            return
        self._emitted = state
        self._state_manager.update_state_for_stream(self._stream_name, None, state)
        self._message_repository.emit_message(
            self._state_manager.create_state_message(self._stream_name, None)
        )
