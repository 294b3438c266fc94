"""Zoho's deleted-records log (`/crm/v8/{module}/deleted`): tombstones and the audit stream.

Why a component: the CDK has no notion of turning another endpoint's entries into CDC tombstones of a
stream, nor of Zoho's 2,000-entry wall on this log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.datetimes import if_modified_since_header, parse_zoho_datetime, to_utc_iso
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_requests import ModuleRequests
from source_zoho_crm.rich_text import merge_rich_text
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    DELETED_PAGE_SIZE,
    DELETED_RETENTION,
    IDS_PER_REQUEST,
    RESTORE_WATCH_LIMIT,
)
from source_zoho_crm.settings import DELETED_PAGE_SIZE as PAGE_SIZE
from source_zoho_crm.settings import DELETED_PAGE_WALL_CODES as PAGE_WALL_CODES

logger = logging.getLogger("airbyte")

# Stream-state key of the ids tombstoned while still restorable (RestoreWatch).
RESTORE_WATCH = "tombstoned"


@dataclass
class DeletedPage:
    """One page of the log, its newest deleted_time, and Zoho's clock (`Date`) when it answered."""

    entries: list[dict[str, Any]]
    newest: datetime | None
    server_time: datetime | None


def read_deleted(
    client: ZohoApiClient, module: str, since: datetime | None, *, stop_at_wall: bool = False
) -> Iterator[tuple[list[dict[str, Any]], datetime | None]]:
    """Pages of entries (type=all) deleted at or after `since`, each with its newest deleted_time."""
    for page in deleted_pages(client, module, since, stop_at_wall=stop_at_wall):
        yield page.entries, page.newest


def deleted_pages(
    client: ZohoApiClient, module: str, since: datetime | None, *, stop_at_wall: bool = False
) -> Iterator[DeletedPage]:
    """Pages of entries (type=all) deleted at or after `since`; an empty log yields one empty page
    (so the caller still learns Zoho's clock).

    If-Modified-Since names one second before `since`: Zoho does not say whether it includes its
    own second, and a tombstone sent twice is harmless. Zoho lists at most 2,000 entries.
    Tombstones must not miss one, so past that the read fails; the audit stream (`stop_at_wall`)
    keeps what Zoho could list and warns.
    """
    headers = {"If-Modified-Since": if_modified_since_header(since - timedelta(seconds=1))} if since else None
    page = 1
    while True:
        params = {"type": "all", "page": page, "per_page": PAGE_SIZE}
        try:
            response = client.get(
                f"{API_VERSION_PATH}/{module}/deleted", params, headers, what=f"deleted records of {module}"
            )
        except ZohoApiError as error:
            if error.code not in PAGE_WALL_CODES:
                raise
            window = f"since {to_utc_iso(since)}" if since else "in its log"
            if stop_at_wall:
                logger.warning(messages.DELETIONS_PAST_WALL_AUDIT.format(module=module, window=window))
                return
            raise ZohoApiError(messages.DELETIONS_PAST_WALL.format(module=module, window=window)) from None
        entries = response.data
        if not entries:
            if page == 1:
                yield DeletedPage([], None, response.date)
            return
        yield DeletedPage(entries, _newest_deleted_time(entries), response.date)
        if not response.info.get("more_records"):
            return
        page += 1


def tombstone(entry: dict[str, Any], cursor_field: str | None) -> dict[str, Any]:
    """Airbyte's CDC convention: the primary key, `_ab_cdc_deleted_at`, and the stream's cursor set
    to the deletion time. Airbyte's deduplicating destinations delete a row only when the tombstone's
    cursor is newer than the row's (or equal and extracted later); a null cursor never wins."""
    deleted_time = entry.get("deleted_time")
    row = {"id": entry.get("id"), "_ab_cdc_deleted_at": deleted_time}
    if cursor_field:
        row[cursor_field] = deleted_time
    return row


def _newest_deleted_time(entries: list[dict[str, Any]]) -> datetime | None:
    newest = None
    for entry in entries:
        try:
            instant = parse_zoho_datetime(entry.get("deleted_time") or "")
        except ValueError:
            continue
        if newest is None or instant > newest:
            newest = instant
    return newest


class RestoreWatch:
    """Records tombstoned while Zoho can still restore them from its recycle bin, checked each sync.

    A record restored from the recycle bin may keep its Modified_Time (Zoho does not say), so an
    incremental read never sees it again, and its entry may stay in the deleted log. Each sync asks
    which watched ids are live again (`GET /{module}?ids=`, 100 a call) and hands them back to be
    emitted whole: the destination deleted the row, so the record (an older cursor than the
    tombstone) is inserted again (Airbyte's MERGE: NOT MATCHED -> INSERT). Deleted-log entries of
    live records make no tombstone. State: `{id: deleted_time}`, at most RESTORE_WATCH_LIMIT ids,
    each for DELETED_RETENTION after its deletion (then it cannot come back).
    """

    def __init__(
        self, client: ZohoApiClient, module: str, probe_field: str, stored: Mapping[str, Any] | None
    ):
        self._client, self._module, self._probe = client, module, probe_field
        kept = (stored or {}).get(RESTORE_WATCH)
        self.watched: dict[str, str] = dict(kept) if isinstance(kept, Mapping) else {}
        self.restored: list[str] = []
        self._checked: set[str] = set()

    def filter_page(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries to tombstone: those whose record is not live again; recyclable ones watched."""
        recyclable = [str(e.get("id")) for e in entries if e.get("type") != "permanent" and e.get("id")]
        live = self._live(recyclable)
        kept = []
        for entry in entries:
            entry_id = str(entry.get("id"))
            if entry_id in live:
                self.restored.append(entry_id)
                self.watched.pop(entry_id, None)
                continue
            if entry_id in recyclable and entry.get("deleted_time"):
                self.watched[entry_id] = str(entry["deleted_time"])
            kept.append(entry)
        return kept

    def check_watched(self, now: datetime | None) -> None:
        """Drop ids past the retention period (or over the limit, oldest first); find the live ones."""
        if now is not None:
            for entry_id, deleted_time in list(self.watched.items()):
                instant = _instant(deleted_time)
                if instant is not None and now - instant > DELETED_RETENTION:
                    del self.watched[entry_id]
        if len(self.watched) > RESTORE_WATCH_LIMIT:
            newest = sorted(self.watched.items(), key=lambda item: _instant(item[1]) or now or datetime.min)
            dropped = len(newest) - RESTORE_WATCH_LIMIT
            logger.info(
                "Module %s: %d older tombstoned records are no longer checked for restores.",
                self._module,
                dropped,
            )
            self.watched = dict(newest[dropped:])
        unchecked = [entry_id for entry_id in self.watched if entry_id not in self._checked]
        for entry_id in self._live(unchecked):
            self.restored.append(entry_id)
            del self.watched[entry_id]

    def _live(self, ids: list[str]) -> set[str]:
        live: set[str] = set()
        self._checked.update(ids)
        for first in range(0, len(ids), IDS_PER_REQUEST):
            group = ids[first : first + IDS_PER_REQUEST]
            response = self._client.get(
                f"{API_VERSION_PATH}/{self._module}",
                {"fields": self._probe, "ids": ",".join(group)},
                what=f"module {self._module}",
            )
            live.update(str(record.get("id")) for record in response.data)
        return live


def _instant(value: str) -> datetime | None:
    try:
        return parse_zoho_datetime(value)
    except ValueError:
        return None


def restored_records(
    client: ZohoApiClient, spec: ModuleStreamSpec, ids: list[str]
) -> Iterator[dict[str, Any]]:
    """Records restored from the recycle bin, whole (every field chunk, rich text), 200 at a time."""
    if not ids:
        return
    calls = ModuleRequests(client, spec)
    try:
        for first in range(0, len(ids), DELETED_PAGE_SIZE):
            records = calls.fetcher.whole(ids[first : first + DELETED_PAGE_SIZE])
            merge_rich_text(client, spec, records)
            yield from records
    finally:
        calls.close()
