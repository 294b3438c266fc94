"""Lines read from their parent records, one `GET /{module}/{id}` each (child_reader.py's fallback).

Why a component: no CDK retriever turns one list read into one GET per listed record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.child_specs import ChildStreamSpec
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.module_reader import ModuleReader, Page
from source_zoho_crm.module_requests import cursor_instant
from source_zoho_crm.settings import API_VERSION_PATH


class FromParents(Exception):
    """The subform module cannot serve (the rest of) the lines: read them from the parents changed
    since `since` (None: every parent), keeping lines from `keep_from` not `seen` already."""

    def __init__(
        self, reason: str, since: datetime | None, seen: set[str], keep_from: datetime | None = None
    ) -> None:
        super().__init__(reason)
        self.reason, self.since, self.seen, self.keep_from = reason, since, seen, keep_from
        self.gap = False  # lines between two `page` walls: their parents' Modified_Time proves nothing


def parent_pages(
    client: ZohoApiClient,
    child: ChildStreamSpec,
    stop: FromParents,
    warn: Callable[[str], None],
    seen_instant: Callable[[list[datetime | None]], datetime | None],
) -> Iterator[Page]:
    """Pages of lines from the parents changed since `stop.since` (every parent when None), with a
    warning that states the cost. Every parent (`stop.gap`): pages carry no cursor; each line's
    instant goes to `seen_instant` instead."""
    parent = child.parent
    since = stop.since
    warn(
        messages.LINES_FROM_PARENTS.format(
            stream=child.stream_name,
            subform=child.subform_module,
            reason=stop.reason,
            module=parent.api_name,
            since=f" changed since {to_utc_iso(since)}" if since else "",
        )
    )
    ids_only = replace(parent, field_names=tuple(n for n in ("id", parent.cursor_field) if n))
    reader = ModuleReader(
        client,
        ids_only,
        incremental=parent.sorted_by_cursor,
        start=since,  # ModuleReader asks one second early while the header may be exclusive
    )
    line_cursor, keep_from = child.cursor_field, stop.keep_from

    def lines_of_parent(record_id: str) -> list[dict[str, Any]]:
        module = parent.api_name
        response = client.get(
            f"{API_VERSION_PATH}/{module}/{record_id}", what=f"record {record_id} of module {module}"
        )
        return [row for record in response.data for row in child.rows_of_parent(record)]

    workers = max(1, client.max_concurrent)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoho-parents") as pool:
        for page in reader.pages():
            ids = [str(record["id"]) for record in page.records if record.get("id")]
            rows: list[dict[str, Any]] = []
            for parent_rows in pool.map(lines_of_parent, ids):
                for row in parent_rows:
                    if str(row.get("id")) in stop.seen:
                        continue
                    instant = cursor_instant(row.get(line_cursor)) if line_cursor else None
                    if keep_from is not None and instant is not None and instant < keep_from:
                        continue  # unchanged since the last sync
                    if stop.gap:
                        seen_instant([instant])
                    rows.append(row)
            if stop.gap:
                yield Page(rows, None, checkpoint=False)
            else:
                yield Page(rows, page.newest, checkpoint=page.checkpoint)
