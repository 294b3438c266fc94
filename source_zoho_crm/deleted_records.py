"""Zoho's deleted-records log (`/crm/v8/{module}/deleted`): tombstones and the audit stream.

Why a component: the CDK has no notion of turning another endpoint's entries into CDC tombstones of a
stream, nor of Zoho's 2,000-entry wall on this log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.datetimes import if_modified_since_header, parse_zoho_datetime, to_utc_iso
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.settings import API_VERSION_PATH
from source_zoho_crm.settings import DELETED_PAGE_SIZE as PAGE_SIZE
from source_zoho_crm.settings import DELETED_PAGE_WALL_CODES as PAGE_WALL_CODES

logger = logging.getLogger("airbyte")

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
