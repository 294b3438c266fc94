"""Reads one per-record related list (attachments, contact roles, stage history) across a module's records.

Why a component: Zoho serves these lists only per parent (`GET /{module}/{id}/{list}`), so the parents
are listed first (ids and Modified_Time, one call per 200) and then asked one by one, in parallel under
the client's cap; no CDK retriever lists one API's records to drive another's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.module_reader import ModuleReader, Page, cursor_instant
from source_zoho_crm.related_specs import PARENT_ID, PARENT_MODIFIED_TIME, PARENT_MODULE, RelatedListSpec
from source_zoho_crm.settings import API_VERSION_PATH, MODIFIED_TIME, PAGE_SIZE, RELATED_PARENT_GONE_CODES


@dataclass
class RelatedCost:
    """What a read spent, for the end-of-stream line: parents visited and related-list calls."""

    parents: int = 0
    calls: int = 0
    skipped: int = 0
    listing: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, calls: int = 0, skipped: int = 0) -> None:
        with self.lock:
            self.calls += calls
            self.skipped += skipped


class RelatedReader:
    """Pages of rows, one page per page of parents. Incremental kinds whose rows move the parent's
    Modified_Time visit the parents changed since `start`; the others visit every parent and keep the
    rows at or after `start` by their own cursor."""

    def __init__(
        self,
        client: ZohoApiClient,
        spec: RelatedListSpec,
        *,
        start: datetime | None,
        warn: Callable[[str], None],
    ) -> None:
        self._client, self._spec, self._start, self._warn = client, spec, start, warn
        self.cost = RelatedCost()
        self.meter = client.meter

    @property
    def start(self) -> datetime | None:
        return self._start

    @property
    def changed_parents_only(self) -> bool:
        parent = self._spec.parent
        return (
            self._start is not None
            and self._spec.kind.changed_parents_only
            and parent.cursor_field == MODIFIED_TIME
        )

    def pages(self) -> Iterator[Page]:
        parent = self._spec.parent
        ids_only = replace(parent, field_names=tuple(n for n in ("id", parent.cursor_field) if n))
        changed_only = self.changed_parents_only
        reader = ModuleReader(
            self._client, ids_only, incremental=changed_only, start=self._start if changed_only else None
        )
        workers = max(1, self._client.max_concurrent)
        stream = self.meter.current_stream() if self.meter is not None else None
        rows_of = self._rows_of
        if self.meter is not None and stream is not None:
            meter = self.meter

            def rows_of(parent: dict[str, Any]) -> list[dict[str, Any]]:  # pool threads charge this stream
                with meter.attributed_to(stream):
                    return self._rows_of(parent)

        began: datetime | None = None
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoho-related") as pool:
            for page in reader.pages():
                if began is None:
                    began = reader.server_time or datetime.now(timezone.utc)
                parents = [record for record in page.records if record.get("id")]
                rows: list[dict[str, Any]] = []
                for parent_rows in pool.map(rows_of, parents):
                    rows.extend(parent_rows)
                self.cost.parents += len(parents)
                self.cost.listing = reader.requests
                yield self._page(rows, page, changed_only, began)
        if self.cost.skipped:
            self._warn(
                messages.RELATED_PARENTS_GONE.format(
                    stream=self._spec.stream_name,
                    count=self.cost.skipped,
                    parents=self.cost.parents,
                    module=parent.api_name,
                    related=self._spec.kind.related_list,
                )
            )

    def _page(self, rows: list[dict[str, Any]], parents: Page, changed_only: bool, began: datetime) -> Page:
        cursor = self._spec.cursor_field
        if cursor is None:
            return Page(rows, None, checkpoint=False)
        if cursor == PARENT_MODIFIED_TIME:
            if changed_only:  # parents come in Modified_Time order: checkpoint each page
                return Page(rows, parents.newest, checkpoint=parents.checkpoint)
            # Every parent in id order: stored at the end, never past the read's start (a parent changed
            # behind the read's position is visited by the next sync).
            times = [cursor_instant(p.get(MODIFIED_TIME)) for p in parents.records]
            newest_parent = max((t for t in times if t is not None), default=None)
            return Page(rows, min(newest_parent, began) if newest_parent else None, checkpoint=False)
        # The rows' own time: every parent is visited in id order, so the newest value is stored at the end,
        # never past the read's start (a row added behind the read's position is read by the next sync).
        kept, newest = [], None
        for row in rows:
            instant = cursor_instant(row.get(cursor))
            if self._start is not None and instant is not None and instant < self._start:
                continue
            kept.append(row)
            if instant is not None and (newest is None or instant > newest):
                newest = instant
        return Page(kept, min(newest, began) if newest is not None else None, checkpoint=False)

    def _rows_of(self, parent: dict[str, Any]) -> list[dict[str, Any]]:
        spec, module = self._spec, self._spec.parent.api_name
        parent_id = str(parent["id"])
        path = f"{API_VERSION_PATH}/{module}/{parent_id}/{spec.kind.related_list}"
        what = f"{spec.kind.related_list} of {module} record {parent_id}"
        params: dict[str, Any] = {"fields": ",".join(spec.kind.fields), "per_page": PAGE_SIZE}
        extra = {PARENT_ID: parent_id, PARENT_MODULE: module}
        if spec.cursor_field == PARENT_MODIFIED_TIME:
            extra[PARENT_MODIFIED_TIME] = parent.get(MODIFIED_TIME)
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            try:
                response = self._client.get(path, params, what=what)
            except ZohoApiError as error:
                self.cost.add(calls=1)
                if error.code in RELATED_PARENT_GONE_CODES:  # the parent was deleted after it was listed
                    self.cost.add(skipped=1)
                    return rows
                raise
            self.cost.add(calls=1)
            rows.extend({**row, **extra} for row in response.data)
            info = response.info
            if not info.get("more_records") or not response.data:
                return rows
            token = info.get("next_page_token")
            page += 1
            params = {**params, "page_token": token} if token else {**params, "page": page}
            params.pop("page" if token else "page_token", None)
