"""Reads the lines of one subform field (line items included) where Zoho serves them.

Why a component: Zoho leaves subform and line-item values out of list GETs. Lines come from the
subform module (`GET /{subform module}`), which may page by position only, stop at 2,000 lines,
ignore If-Modified-Since or be refused outright (line items), else from the parents one at a time
(`GET /{module}/{id}`). No CDK retriever falls back from one API to the other mid-read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.child_parents import FromParents, parent_pages
from source_zoho_crm.child_specs import ChildStreamSpec
from source_zoho_crm.datetimes import if_modified_since_header
from source_zoho_crm.errors import ZohoApiError, ZohoInvalidModuleError
from source_zoho_crm.line_windows import LinesMoved, PageWall, windows
from source_zoho_crm.module_reader import Page
from source_zoho_crm.module_requests import ONE_SECOND, cursor_instant
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    DISCRETE_PAGE_LIMIT,
    DISCRETE_PAGE_WALL_CODES,
    IDS_PER_REQUEST,
    MAX_MOVED_PASSES,
    PAGE_SIZE,
)
from source_zoho_crm.stream_specs import ModuleStreamSpec


class _Rebase(Exception):
    """If-Modified-Since works: start a new pass of first pages from the newest line read."""


class _NotSorted(Exception):
    """The subform module answered lines out of cursor order: it ignores `sort_by`."""


class _ImsIgnored(Exception):
    """The subform module answered lines older than If-Modified-Since; `answer` is that first page
    (lines, more), the same as a first page without the header."""

    def __init__(self, answer: tuple[list[dict[str, Any]], bool] | None) -> None:
        super().__init__("If-Modified-Since ignored")
        self.answer = answer


class ChildReader:
    """Pages of rows (one per line). From the subform module: lines in cursor order from `start`,
    as first pages (If-Modified-Since at the newest line read) where Zoho honours the header, else
    by overlapping `page` windows that notice lines moving (line_windows.py); past the 2,000-line
    wall of `page`, the rest newest first; between the two walls, every parent one GET each. Where
    the module is refused, the parents changed since `start`, one GET each. Every checkpoint is at
    most one second before the read's first answer (Zoho's `Date`), so a line changed while the
    read runs is read again by the next sync."""

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
        self._began: datetime | None = None  # Zoho's clock at the read's first answer
        self._emitted: set[tuple[str, Any]] = set()  # (id, cursor value) of the lines emitted
        self._newest: datetime | None = None  # the newest line cursor read
        self.requests = 0
        """Calls to the subform module (list pages, not the ids calls of other field chunks)."""

    def pages(self) -> Iterator[Page]:
        line_spec = self._child.line_spec
        try:
            if line_spec is None:
                raise FromParents("its fields are not available", self._start, set(), self._start)
            if line_spec.sorted_by_cursor and line_spec.cursor_field:
                yield from self._in_cursor_order(line_spec, line_spec.cursor_field)
            else:
                yield from self._in_id_order(line_spec)
        except FromParents as stop:
            yield from self._from_parents(stop)

    # ---- the subform module ----------------------------------------------------------------------

    def _in_cursor_order(self, spec: ModuleStreamSpec, cursor: str) -> Iterator[Page]:
        """Oldest first from `start`; a pass restarts (from the newest line read, when the header
        works) whenever a window shows that lines moved."""
        since: datetime | None = self._start
        ims: bool | None = None  # whether the module honours If-Modified-Since (None: not known yet)
        moved = 0
        reuse: tuple[list[dict[str, Any]], bool] | None = None  # a first page already answered
        while True:
            header = since - ONE_SECOND if since is not None and ims is not False else None
            fetch = self._fetcher(spec, cursor, "asc", header, reuse)
            reuse, last = None, None
            try:
                for n, (lines, more) in enumerate(
                    windows(fetch, PAGE_SIZE, DISCRETE_PAGE_LIMIT, self._key(cursor))
                ):
                    instants = [cursor_instant(line.get(cursor)) for line in lines]
                    _check_sorted(instants, descending=False)
                    if header is not None and any(i is not None and i < header for i in instants):
                        raise _ImsIgnored((lines, more) if n == 0 else None)
                    if header is not None and lines:
                        ims = True
                    yield Page(self._fresh(lines, cursor), self._capped(instants), checkpoint=True)
                    last = max((i for i in instants if i is not None), default=last)
                    if more and last is not None and (since is None or last > since) and ims is not False:
                        since = last  # first pages: nothing depends on positions
                        raise _Rebase
                return
            except _Rebase:
                continue
            except _NotSorted:
                yield from self._in_id_order(spec)
                return
            except LinesMoved:
                moved = self._moved(moved)
            except _ImsIgnored as ignored:
                if self._start is not None:  # the changed lines are the newest ones
                    yield from self._newest_first(spec, cursor, down_to=self._start)
                    return
                ims = False  # a first sync: start again without the header, by `page` windows,
                reuse = ignored.answer  # from the page just answered (the header changed nothing)
            except PageWall:
                # Every line up to `last` was read (cursor order): the rest, newest first.
                yield from self._newest_first(spec, cursor, down_to=last or self._start)
                return

    def _newest_first(self, spec: ModuleStreamSpec, cursor: str, down_to: datetime | None) -> Iterator[Page]:
        """The lines at or after `down_to`, newest first (so checkpointed once, at the end)."""
        moved = 0
        while True:
            fetch = self._fetcher(spec, cursor, "desc", None)
            try:
                for lines, _ in windows(fetch, PAGE_SIZE, DISCRETE_PAGE_LIMIT, self._key(cursor)):
                    instants = [cursor_instant(line.get(cursor)) for line in lines]
                    _check_sorted(instants, descending=True)
                    self._capped(instants)
                    yield Page(self._fresh(lines, cursor), None, checkpoint=False)
                    if down_to is not None and any(i is not None and i < down_to for i in instants):
                        break
                break
            except LinesMoved:
                moved = self._moved(moved)
            except _NotSorted:
                yield from self._in_id_order(spec)
                return
            except PageWall:
                raise self._every_parent(messages.LINES_PAST_PAGE_WALL) from None
        yield Page([], self._newest, checkpoint=False)

    def _in_id_order(self, spec: ModuleStreamSpec) -> Iterator[Page]:
        """No sortable cursor: every line, in id order, each sync (kept from `start`)."""
        cursor, moved = spec.cursor_field, 0
        while True:
            try:
                fetch = self._fetcher(spec, "id", "asc", None)
                for lines, _ in windows(fetch, PAGE_SIZE, DISCRETE_PAGE_LIMIT, self._key(cursor)):
                    if cursor:
                        self._capped([cursor_instant(line.get(cursor)) for line in lines])
                    yield Page(self._fresh(lines, cursor), None, checkpoint=False)
                break
            except LinesMoved:
                moved = self._moved(moved)
            except PageWall:
                raise self._every_parent(messages.LINES_PAST_PAGE_WALL) from None
        yield Page([], self._newest, checkpoint=False)

    def _moved(self, passes: int) -> int:
        """One more pass after lines moved under a `page` window, up to MAX_MOVED_PASSES."""
        if passes + 1 >= MAX_MOVED_PASSES:
            raise self._every_parent(messages.LINES_KEPT_MOVING)
        return passes + 1

    def _every_parent(self, reason: str) -> FromParents:
        """The rest of the lines from every parent: a line's edit need not move its parent's
        Modified_Time, so the parents changed since the cursor would not do."""
        stop = FromParents(reason, None, {line_id for line_id, _ in self._emitted}, self._start)
        stop.gap = True
        return stop

    @staticmethod
    def _key(cursor: str | None) -> Callable[[Mapping[str, Any]], tuple[str, Any]]:
        return lambda line: (str(line.get("id")), line.get(cursor) if cursor else None)

    def _fresh(self, lines: list[dict[str, Any]], cursor: str | None) -> list[dict[str, Any]]:
        """Rows of the lines not emitted yet (as they are now) and not before `start`."""
        rows = []
        for line in lines:
            key = self._key(cursor)(line)
            instant = cursor_instant(key[1]) if cursor else None
            if key in self._emitted or (self._start and instant and instant < self._start):
                continue
            self._emitted.add(key)
            rows.append(self._child.row_of_line(line))
        return rows

    def _capped(self, instants: list[datetime | None]) -> datetime | None:
        """The newest instant so far, but at most one second before the read's first answer."""
        for instant in instants:
            if instant is not None and (self._newest is None or instant > self._newest):
                self._newest = instant
        if self._newest is None or self._began is None:
            return self._newest
        self._newest = min(self._newest, self._began - ONE_SECOND)
        return self._newest

    def _fetcher(
        self,
        spec: ModuleStreamSpec,
        sort_by: str,
        order: str,
        since: datetime | None,
        first_page: tuple[list[dict[str, Any]], bool] | None = None,
    ) -> Callable[[int, int], tuple[list[dict[str, Any]], bool]]:
        """One window of lines, every field merged in; PageWall where Zoho stops `page` paging."""
        chunks = spec.field_chunks()
        path, what = f"{API_VERSION_PATH}/{spec.api_name}", f"module {spec.api_name}"
        headers = {"If-Modified-Since": if_modified_since_header(since)} if since else None

        reusable = [first_page] if first_page is not None else []

        def fetch(page: int, per_page: int) -> tuple[list[dict[str, Any]], bool]:
            if reusable and (page, per_page) == (1, PAGE_SIZE):
                return reusable.pop()
            params = {
                "fields": ",".join(chunks[0]) if chunks else "id",
                "page": page,
                "per_page": per_page,
                "sort_by": sort_by,
                "sort_order": order,
            }
            try:
                response = self._client.get(path, params, headers, what=what)
            except ZohoInvalidModuleError as refused:
                if self.requests == 0:  # line items may not be served module-wide
                    raise FromParents(refused.message.rstrip("."), self._start, set(), self._start) from None
                raise
            except ZohoApiError as error:
                if error.code in DISCRETE_PAGE_WALL_CODES:
                    raise PageWall from None
                raise
            self.requests += 1
            if self._began is None:
                self._began = response.date or datetime.now(timezone.utc)
            lines = response.data
            self._merge_other_chunks(path, what, chunks, lines)
            return lines, bool(response.info.get("more_records"))

        return fetch

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

    def _from_parents(self, stop: FromParents) -> Iterator[Page]:
        yield from parent_pages(self._client, self._child, stop, self._warn, self._capped)
        if stop.gap:  # lines from every parent: the lines' own cursor, once at the end
            yield Page([], self._newest, checkpoint=False)


def _check_sorted(instants: list[datetime | None], *, descending: bool) -> None:
    """Raise _NotSorted unless the lines come in cursor order (Zoho may ignore `sort_by` there)."""
    known = [i for i in instants if i is not None]
    pairs = zip(known, known[1:], strict=False)
    if any((b > a) if descending else (b < a) for a, b in pairs):
        raise _NotSorted
