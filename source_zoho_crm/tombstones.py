"""The tombstones that follow a module stream's records: Zoho's deleted log from the deletions clock on,
records restored from the recycle bin, and a warning past Zoho's retention.

Split from module_stream.py (the deletions part of a module's incremental read); why a tombstone carries
the cursor and where the clock comes from: BEHAVIOR.md, "Deletions".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.cdk_adapter import warn
from source_zoho_crm.cursor import ModuleCursor
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.deleted_records import (
    RESTORE_WATCH,
    RestoreWatch,
    deleted_pages,
    restored_records,
    tombstone,
)
from source_zoho_crm.errors import ZohoAccessError, ZohoError, ZohoInvalidModuleError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.settings import DELETED_REFUSED_CODES as REFUSED_CODES
from source_zoho_crm.settings import DELETED_RETENTION

DELETED_SINCE = "deleted_since"


class ModuleTombstones:
    """Deleted records as tombstones (`id`, `_ab_cdc_deleted_at`, the cursor at the deletion time)."""

    def __init__(
        self,
        client: ZohoApiClient,
        spec: ModuleStreamSpec,
        cursor_field: str | None,
        stored: Mapping[str, Any] | None,
        message_repository: MessageRepository,
    ) -> None:
        self._client = client
        self._spec = spec
        self._cursor_field = cursor_field
        self._stored = stored
        self._message_repository = message_repository

    def read(self, cursor: ModuleCursor, since: datetime) -> Iterable[Record]:
        """Deleted records as tombstones (`id`, `_ab_cdc_deleted_at`, the cursor at the deletion time)."""
        name, module = self._spec.stream_name, self._spec.api_name
        newest = since
        first = True
        probe = (self._spec.field_chunks() or [("id",)])[0][0]
        watch = RestoreWatch(self._client, module, probe, self._stored)
        now = None
        try:
            for page in deleted_pages(self._client, module, since):
                if first and page.server_time is not None:
                    self._warn_if_past_retention(since, page.server_time)
                    # Every deletion before Zoho's answer is in it: the next sync starts there.
                    newest = max(newest, page.server_time - timedelta(seconds=1))
                    now = page.server_time
                first = False
                for entry in watch.filter_page(page.entries):
                    yield Record(data=tombstone(entry, self._cursor_field), stream_name=name)
                if page.newest is not None and page.newest > newest:
                    newest = page.newest
            watch.check_watched(now)
            for record in restored_records(self._client, self._spec, watch.restored):
                yield Record(data=record, stream_name=name)
        except ZohoError as refused:
            if not isinstance(refused, (ZohoAccessError, ZohoInvalidModuleError)) and (
                refused.code not in REFUSED_CODES
            ):
                raise
            reason = refused.code or refused.status
            warning = messages.DELETED_LOG_REFUSED.format(stream=name, module=module, reason=reason)
            warn(self._message_repository, warning)
            return
        cursor.set_extra_state(DELETED_SINCE, to_utc_iso(newest))
        cursor.set_extra_state(RESTORE_WATCH, watch.watched)
        cursor.advance(None, checkpoint=False)

    def _warn_if_past_retention(self, since: datetime, now: datetime) -> None:
        if now - since <= DELETED_RETENTION:
            return
        warning = messages.DELETIONS_PAST_RETENTION.format(
            stream=self._spec.stream_name, since=to_utc_iso(since), days=DELETED_RETENTION.days
        )
        warn(self._message_repository, warning)
