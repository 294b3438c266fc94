"""Reads the lines of one subform field (line items included) where Zoho serves them.

Why a component: Zoho leaves subform and line-item values out of list GETs. Lines come from the
subform module (`GET /{subform module}`), which may refuse page tokens, stop at 2,000 lines with
`page`, ignore If-Modified-Since or be refused outright (line items), else from the parents one at
a time (`GET /{module}/{id}`). No CDK retriever falls back from one API to the other mid-read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.child_specs import ChildStreamSpec
from source_zoho_crm.datetimes import if_modified_since_header, to_utc_iso
from source_zoho_crm.errors import ZohoApiError, ZohoInvalidModuleError
from source_zoho_crm.module_reader import ModuleReader, Page
from source_zoho_crm.module_requests import cursor_instant
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    CHAIN_ENDED_CODES,
    DISCRETE_PAGE_WALL_CODES,
    IDS_PER_REQUEST,
    PAGE_SIZE,
    PAGE_TOKEN_REFUSED_CODES,
)
from source_zoho_crm.stream_specs import ModuleStreamSpec


class _FromParents(Exception):
    """The subform module cannot serve (the rest of) the lines: read the parents from `since` on."""

    def __init__(self, reason: str, since: datetime | None, seen: set[str]) -> None:
        super().__init__(reason)
        self.reason, self.since, self.seen = reason, since, seen


class _Wall(Exception):
    """Paging stopped before the last line (`page` past 2,000 lines, or a page-token chain's end)."""


class ChildReader:
    """Pages of rows (one per line). The subform module's lines in cursor order from `start`
    (inclusive); past a paging wall, the rest newest first; where the module is refused or both
    directions stop, the parents changed since the last line second read, one GET each."""

    def __init__(
        self,
        client: ZohoApiClient,
        child: ChildStreamSpec,
        *,
        start: datetime | None,
        warn: Callable[[str], None],
    ) -> None:
        self._client = client
        self._child = child
        self._start = start
        self._warn = warn
        self._tokens_refused = False  # learnt once: later passes page by `page` straight away

    def pages(self) -> Iterator[Page]:
        line_spec = self._child.line_spec
        try:
            if line_spec is None:
                raise _FromParents("its fields are not available", self._start, set())
            yield from self._module_wide(line_spec)
        except _FromParents as stop:
            yield from self._from_parents(stop)

    # ---- the subform module ----------------------------------------------------------------------

    def _module_wide(self, spec: ModuleStreamSpec) -> Iterator[Page]:
        cursor, start = spec.cursor_field, self._start
        in_cursor_order = spec.sorted_by_cursor and cursor is not None
        headers = {"If-Modified-Since": if_modified_since_header(start)} if start else None
        newest: datetime | None = None
        seen: set[str] = set()
        try:
            for number, lines in enumerate(
                self._lines(spec, cursor if in_cursor_order else "id", "asc", headers)
            ):
                instants = [cursor_instant(line.get(cursor)) if cursor else None for line in lines]
                if number == 0 and in_cursor_order and start and any(i and i < start for i in instants):
                    # The module ignores If-Modified-Since: the changed lines are the newest ones.
                    yield from self._newest_first(spec, start, seen)
                    return
                rows = []
                for line, instant in zip(lines, instants, strict=True):
                    seen.add(str(line.get("id")))
                    if instant is not None and (newest is None or instant > newest):
                        newest = instant
                    if not (start and instant and instant < start):
                        rows.append(self._child.row_of_line(line))
                yield Page(rows, newest)
        except _Wall:
            if not in_cursor_order or newest is None:
                raise _FromParents(messages.LINES_PAST_PAGE_WALL, start, seen) from None
            # Every line before `newest` was read (cursor order): the rest, newest first.
            yield from self._newest_first(spec, newest, seen)

    def _newest_first(self, spec: ModuleStreamSpec, down_to: datetime, seen: set[str]) -> Iterator[Page]:
        """The lines at or after `down_to`, newest first (so checkpointed once, at the end)."""
        cursor = spec.cursor_field
        newest: datetime | None = None
        try:
            for lines in self._lines(spec, str(cursor), "desc", None):
                rows, reached = [], False
                for line in lines:
                    instant = cursor_instant(line.get(cursor))
                    if instant is not None and instant < down_to:
                        reached = True
                        continue
                    if instant is not None and (newest is None or instant > newest):
                        newest = instant
                    if str(line.get("id")) not in seen:
                        seen.add(str(line.get("id")))
                        rows.append(self._child.row_of_line(line))
                yield Page(rows, None)
                if reached:
                    break
        except _Wall:
            raise _FromParents(messages.LINES_PAST_PAGE_WALL, down_to, seen) from None
        yield Page([], newest)

    def _lines(
        self, spec: ModuleStreamSpec, sort_by: str, order: str, headers: Mapping[str, str] | None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of lines, every field merged in. Page tokens where served, else `page`; `_Wall` where
        paging stops before the end (2,000 lines by `page`, 100,000 by page token)."""
        chunks = spec.field_chunks()
        params: dict[str, Any] = {
            "fields": ",".join(chunks[0]) if chunks else "id",
            "per_page": PAGE_SIZE,
            "sort_by": sort_by,
            "sort_order": order,
        }
        path, what = f"{API_VERSION_PATH}/{spec.api_name}", f"module {spec.api_name}"
        token: str | None = None
        page_number, by_page_number = 1, self._tokens_refused
        while True:
            request = dict(params)
            if by_page_number:
                request["page"] = page_number
            elif token:
                request["page_token"] = token
            try:
                response = self._client.get(path, request, headers, what=what)
            except ZohoInvalidModuleError as refused:
                if page_number == 1:  # line items may not be served module-wide
                    raise _FromParents(refused.message.rstrip("."), self._start, set()) from None
                raise
            except ZohoApiError as error:
                if error.code in PAGE_TOKEN_REFUSED_CODES and token and not by_page_number:
                    by_page_number = self._tokens_refused = True  # go on with `page` (the same order)
                    continue
                if error.code in (*DISCRETE_PAGE_WALL_CODES, *CHAIN_ENDED_CODES) and page_number > 1:
                    raise _Wall from None
                raise
            lines = response.data
            if not lines:
                return
            self._merge_other_chunks(path, what, chunks, lines)
            yield lines
            if not response.info.get("more_records"):
                return
            page_number += 1
            token = response.info.get("next_page_token")
            by_page_number = by_page_number or not token

    def _merge_other_chunks(
        self, path: str, what: str, chunks: list[tuple[str, ...]], lines: list[dict[str, Any]]
    ) -> None:
        by_id = {line.get("id"): line for line in lines}
        ids = [str(line_id) for line_id in by_id if line_id is not None]
        for chunk in chunks[1:]:
            for first in range(0, len(ids), IDS_PER_REQUEST):
                params = {"fields": ",".join(chunk), "ids": ",".join(ids[first : first + IDS_PER_REQUEST])}
                for extra in self._client.get(path, params, what=what).data:
                    target = by_id.get(extra.get("id"))
                    if target is not None:
                        target.update(extra)

    # ---- one GET per parent ------------------------------------------------------------------------

    def _from_parents(self, stop: _FromParents) -> Iterator[Page]:
        parent = self._child.parent
        since = stop.since
        self._warn(
            messages.LINES_FROM_PARENTS.format(
                stream=self._child.stream_name,
                subform=self._child.subform_module,
                reason=stop.reason,
                module=parent.api_name,
                since=f" changed since {to_utc_iso(since)}" if since else "",
            )
        )
        ids_only = replace(parent, field_names=tuple(n for n in ("id", parent.cursor_field) if n))
        reader = ModuleReader(
            self._client,
            ids_only,
            incremental=parent.sorted_by_cursor,
            start=since,  # ModuleReader asks one second early while the header may be exclusive
        )
        line_cursor = self._child.cursor_field
        workers = max(1, self._client.max_concurrent)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoho-parents") as pool:
            for page in reader.pages():
                ids = [str(record["id"]) for record in page.records if record.get("id")]
                rows: list[dict[str, Any]] = []
                for parent_rows in pool.map(self._lines_of_parent, ids):
                    for row in parent_rows:
                        if str(row.get("id")) in stop.seen:
                            continue
                        instant = cursor_instant(row.get(line_cursor)) if line_cursor else None
                        if since is not None and instant is not None and instant < since:
                            continue  # read from the subform module already, or unchanged
                        rows.append(row)
                yield Page(rows, page.newest)

    def _lines_of_parent(self, record_id: str) -> list[dict[str, Any]]:
        module = self._child.parent.api_name
        response = self._client.get(
            f"{API_VERSION_PATH}/{module}/{record_id}", what=f"record {record_id} of module {module}"
        )
        return [row for record in response.data for row in self._child.rows_of_parent(record)]

