"""Reads every record and every field of one module, page by page, losing none whatever Zoho's
page tokens and If-Modified-Since turn out to mean.

Why a component: Zoho binds a page token to the exact query, `fields` included, so the CDK's
PropertyChunking (one token for all chunks) stops wide modules after 200 records; Zoho documents
neither whether page tokens are keyset or position based nor whether If-Modified-Since includes its
own second, and the CDK's paginators trust both. Here an incremental read is a sequence of first
pages (no token), the other 50-field chunks are asked side by side (chunk_fetch.py), and a chain
of page tokens is used only where nothing else can page (a full refresh, a dense second).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient, ZohoResponse
from source_zoho_crm.chunk_fetch import ChunkFetcher
from source_zoho_crm.datetimes import if_modified_since_header, parse_zoho_datetime
from source_zoho_crm.errors import ZohoApiError, ZohoError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.rich_text import merge_rich_text
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    CHAIN_ENDED_CODES,
    CHAIN_LIMIT,
    MODIFIED_TIME,
    MODULE_REQUEST_PARAMS,
    PAGE_SIZE,
)

logger = logging.getLogger("airbyte")


ONE_SECOND = timedelta(seconds=1)
# Passes over a second holding more than a page of records before giving up (records keep moving).
MAX_DENSE_PASSES = 10


@dataclass
class Page:
    """Records of one page, merged across field chunks, and the newest cursor value among them.

    `checkpoint` is False when pages do not come in cursor order: the newest value is then stored
    only when the stream ends.
    """

    records: list[dict[str, Any]]
    newest: datetime | None = None
    checkpoint: bool = True


class ModuleReader:
    """Pages of one module. Incremental on Modified_Time: first pages in cursor order from `start`
    (inclusive). Other cursors and full refresh: one chain in id order, verified against deletions."""

    page_size = PAGE_SIZE
    chain_limit = CHAIN_LIMIT

    def __init__(
        self,
        client: ZohoApiClient,
        spec: ModuleStreamSpec,
        *,
        incremental: bool,
        start: datetime | None = None,
    ) -> None:
        self._client = client
        self._spec = spec
        self._incremental = incremental and spec.cursor_field is not None
        self._start = start if self._incremental else None
        self._chunks = spec.field_chunks()
        self._path = f"{API_VERSION_PATH}/{spec.api_name}"
        self._what = f"module {spec.api_name}"
        self._extra_params = dict(MODULE_REQUEST_PARAMS.get(spec.api_name, {}))
        self._chain_cut = False
        self._fetcher = ChunkFetcher(client, self._path, self._chunks, self._extra_params, self._what)
        self._ims_ignored = False  # set once Zoho answered records older than If-Modified-Since
        self._side: tuple[Any, ...] | None = None  # the last list call's other chunks, for _add_other_chunks
        self._expect_more = False
        self.server_time: datetime | None = None
        """Zoho's clock (`Date`) at the first answer of this read; None until then or without the header."""
        self.expected: int | None = None
        """Zoho's record count, when known: a full refresh past the chain limit reads by Modified_Time."""
        self.requests = 0
        """List requests made by this read (ids requests for other chunks not counted)."""

    def pages(self) -> Iterator[Page]:
        try:
            if self._incremental and self._spec.cursor_field == MODIFIED_TIME:
                yield from self._first_pages(self._start, exclude=frozenset())
            elif self._past_chain_limit():
                # An id-order chain stops at 100,000 and nothing can continue it, so a larger module is
                # read as first pages by Modified_Time from the beginning: no chain, nothing read twice.
                for page in self._first_pages(None, exclude=frozenset()):
                    page.checkpoint = False
                    yield page
            elif self._incremental:
                # Created_Time / Action_Performed_Time: Zoho may ignore If-Modified-Since (or answer 304)
                # on modules without Modified_Time, so read in id order and keep records from `start`.
                yield from self._pages_in_id_order(keep_from=self._start)
            else:
                yield from self._pages_in_id_order(keep_from=None)
        finally:
            self._fetcher.close()

    def _past_chain_limit(self) -> bool:
        return (
            not self._incremental
            and self._spec.cursor_field == MODIFIED_TIME
            and self.expected is not None
            and self.expected > self.chain_limit
        )

    # ------------------------------------------------------------------ Modified_Time order
    def _first_pages(self, start: datetime | None, exclude: frozenset[str]) -> Iterator[Page]:
        """First pages only: each asks for records modified since the newest one read, so no page
        token's position semantics matter and there is no chain limit.

        Until Zoho has shown that If-Modified-Since includes its own second, the header names one
        second earlier (exclusive of T-1 s is inclusive of T). Records already emitted at the
        boundary are recognised by (id, Modified_Time); a record modified again comes out again.
        """
        params = self._list_params({"sort_by": MODIFIED_TIME, "sort_order": "asc"})
        since = start
        inclusive = False
        emitted: dict[tuple[str, Any], datetime] = {}
        while True:
            sent = None if since is None else (since if inclusive else since - ONE_SECOND)
            response = self._list(params, sent)
            records = response.data
            if not records:
                return
            instants = [cursor_instant(r.get(MODIFIED_TIME)) for r in records]
            valid = [i for i in instants if i is not None]
            if sent is not None and sent in valid:
                inclusive = True
            if sent is not None and any(i < sent for i in valid):
                logger.info("Zoho ignores If-Modified-Since on %s; reading it in id order.", self._what)
                self._ims_ignored = True
                yield from self._pages_in_id_order(keep_from=start, exclude=exclude)
                return
            newest = max(valid) if valid else since
            yield self._fresh_page(records, instants, start, emitted, exclude, newest)
            if not response.info.get("more_records"):
                return
            if newest is None:  # a whole page without a readable Modified_Time: nothing to page on
                yield from self._pages_in_id_order(keep_from=start, exclude=exclude)
                return
            if since is not None and newest <= since:
                # A whole page in one second: first pages cannot move past it.
                past = yield from self._dense_second(params, sent, since, start, emitted, exclude)
                if past is None:  # nothing after that second: the module is read
                    return
                newest = past
            since = newest
            _forget_before(emitted, since - ONE_SECOND if since else None)

    def _dense_second(
        self,
        params: Mapping[str, Any],
        sent: datetime | None,
        second: datetime,
        start: datetime | None,
        emitted: dict[tuple[str, Any], datetime],
        exclude: frozenset[str],
    ) -> Generator[Page, None, datetime | None]:
        """More than a page of records share `second`: follow page tokens until past it, and repeat
        until a pass finds nothing new (a position-based token skips records when others move).
        Pages here checkpoint only `second` itself, so an interrupted sync re-reads the second.
        Returns the newest instant past `second`, or None when nothing follows it."""
        newest: datetime | None = None
        for _ in range(MAX_DENSE_PASSES):
            found_new = False
            for response in self._chain_responses(params, sent):
                records = response.data
                instants = [cursor_instant(r.get(MODIFIED_TIME)) for r in records]
                page = self._fresh_page(records, instants, start, emitted, exclude, second)
                found_new = found_new or bool(page.records)
                yield page
                later = [i for i in instants if i is not None and i > second]
                if later:
                    newest = max(newest or second, max(later))
                    break
            if not found_new:
                return newest
        raise ZohoApiError(
            messages.DENSE_SECOND_KEPT_MOVING.format(
                what=self._what, page_size=self.page_size, cursor=MODIFIED_TIME, instant=second.isoformat()
            )
        )

    def _fresh_page(
        self,
        records: list[dict[str, Any]],
        instants: list[datetime | None],
        start: datetime | None,
        emitted: dict[tuple[str, Any], datetime],
        exclude: frozenset[str],
        newest: datetime | None,
    ) -> Page:
        """The records not emitted yet (and not before `start`), completed with their other chunks."""
        fresh = []
        for record, instant in zip(records, instants, strict=True):
            key = (str(record.get("id")), record.get(MODIFIED_TIME))
            if key in emitted or key[0] in exclude or (start and instant and instant < start):
                continue
            if instant is not None:
                emitted[key] = instant
            fresh.append(record)
        self._add_other_chunks(fresh)
        return Page(fresh, newest)

    # ------------------------------------------------------------------ id order
    def _pages_in_id_order(
        self, keep_from: datetime | None, exclude: frozenset[str] = frozenset()
    ) -> Iterator[Page]:
        """One chain in id order, stable while records are modified. A position-based token skips a
        record when an earlier one is deleted, so when Zoho's deleted log shows a deletion during a
        multi-page chain the chain is read again for the ids it missed. Past the chain limit the read
        goes on in Modified_Time order, skipping the ids already read."""
        cursor_field = self._spec.cursor_field
        params = self._list_params({"sort_by": "id", "sort_order": "asc"})
        seen: set[str] = set(exclude)
        deletions: set[str] = set()
        # Wide modules: the Modified_Time each record came out with, checked once the chain is read.
        stamps: dict[str, Any] | None = (
            {} if self._fetcher.wide and MODIFIED_TIME in self._chunks[0] else None
        )
        first_began = None
        passes = 0
        while True:
            passes += 1
            began = None
            pages_read = 0
            for response in self._chain_responses(params, None):
                began = began or response.date
                first_began = first_began or began
                pages_read += 1
                records = [r for r in response.data if str(r.get("id")) not in seen]
                seen.update(str(r.get("id")) for r in records)
                if self._incremental and cursor_field and keep_from is not None:
                    records = [r for r in records if _at_or_after(r.get(cursor_field), keep_from)]
                self._add_other_chunks(records)
                if stamps is not None:
                    stamps.update((str(r.get("id")), r.get(MODIFIED_TIME)) for r in records)
                newest = _newest(records, cursor_field) if self._incremental else None
                if newest and began and cursor_field == MODIFIED_TIME:
                    # A record modified behind the chain's position is read by the next sync.
                    newest = min(newest, began - ONE_SECOND)
                yield Page(records, newest, checkpoint=False)
            if self._chain_cut or pages_read < 2 or passes >= MAX_DENSE_PASSES:
                break
            if not self._new_deletions(began, deletions):
                break
            logger.info(
                "Records of %s were deleted during the read; reading it again for any it skipped.", self._what
            )
        if stamps:
            yield from self._changed_while_read(first_began, stamps)
        if not self._chain_cut:
            return
        if cursor_field != MODIFIED_TIME:
            raise ZohoApiError(
                messages.NO_SORTABLE_CURSOR.format(
                    module=self._spec.api_name, limit=self.chain_limit, cursor=MODIFIED_TIME
                )
            )
        if self._ims_ignored:  # Modified_Time order cannot page either: say so instead of looping
            raise ZohoApiError(
                messages.IMS_IGNORED_PAST_CHAIN.format(module=self._spec.api_name, limit=self.chain_limit)
            )
        for page in self._first_pages(keep_from, exclude=frozenset(seen)):
            page.checkpoint = False
            yield page

    def _changed_while_read(self, began: datetime | None, stamps: Mapping[str, Any]) -> Iterator[Page]:
        """Records of a wide module modified while the chain was read may have come out with chunks of
        two versions (the first chunk older than another): one look at what changed since the chain
        began (usually one call), and each record read before its last change comes out again whole."""
        if began is None:
            return
        since = began - ONE_SECOND
        params: dict[str, Any] = {
            "fields": MODIFIED_TIME,
            "sort_by": MODIFIED_TIME,
            "sort_order": "asc",
            "per_page": self.page_size,
            **self._extra_params,
        }
        headers = {"If-Modified-Since": if_modified_since_header(since)}
        stale: list[str] = []
        try:
            while True:
                response = self._client.get(self._path, params, headers, what=self._what)
                for record in response.data:
                    record_id, instant = str(record.get("id")), cursor_instant(record.get(MODIFIED_TIME))
                    changed = record_id in stamps and stamps[record_id] != record.get(MODIFIED_TIME)
                    if changed and instant is not None and instant >= since:
                        stale.append(record_id)
                token = response.info.get("next_page_token")
                if not response.info.get("more_records") or not token or len(stale) >= self.chain_limit:
                    break
                params["page_token"] = token
        except ZohoError as error:
            logger.info("Cannot check %s for changes during the read (%s).", self._what, error.code or error)
            return
        for start in range(0, len(stale), self.page_size):
            yield Page(self._fetcher.whole(stale[start : start + self.page_size]), None, checkpoint=False)

    def _new_deletions(self, began: datetime | None, known: set[str]) -> bool:
        """Whether Zoho's deleted log has entries from `began` on that `known` lacks (adds them). Without a
        `Date` or without access to the log nothing can be checked, and the read stands."""
        if began is None:
            return False
        try:
            response = self._client.get(
                f"{self._path}/deleted",
                {"type": "all", "page": 1, "per_page": self.page_size},
                {"If-Modified-Since": if_modified_since_header(began - ONE_SECOND)},
                what=f"deleted records of {self._spec.api_name}",
            )
        except ZohoError as error:
            logger.info(
                "Cannot check %s for deletions during the read (%s).", self._what, error.code or error
            )
            return False
        ids = {str(entry.get("id")) for entry in response.data} - known
        known.update(ids)
        return bool(ids)

    # ------------------------------------------------------------------ requests
    def _list_params(self, sort: Mapping[str, str]) -> dict[str, Any]:
        return {
            "fields": ",".join(self._chunks[0]) if self._chunks else "id",
            "per_page": self.page_size,
            **sort,
            **self._extra_params,
        }

    def _list(self, params: Mapping[str, Any], since: datetime | None, chain: bool = False) -> ZohoResponse:
        """The first chunk's page; the other chunks are asked at the same time when the page is likely
        to hold records (a chain, a read from the beginning, a page after one with more records), else
        only once it holds some (a quiet incremental sync costs one call, not one per chunk)."""
        headers = {"If-Modified-Since": if_modified_since_header(since)} if since else None
        began = time.monotonic()
        side = None
        if self._fetcher.wide and (chain or since is None or self._expect_more):
            side = self._fetcher.side_calls(params, headers, chained=chain)
        response = self._client.get(self._path, params, headers, what=self._what)
        self._side = (params, headers, side, chain, began, response.date)
        self._expect_more = bool(response.info.get("more_records"))
        self.requests += 1
        if self.server_time is None:
            self.server_time = response.date
        return response

    def _chain_responses(self, params: Mapping[str, Any], since: datetime | None) -> Iterator[ZohoResponse]:
        """One page-token chain; sets `_chain_cut` when it ended before the module did."""
        self._chain_cut = False
        self._fetcher.start_chain()
        token: str | None = None
        read = 0
        while True:
            request = dict(params, page_token=token) if token else params
            try:
                response = self._list(request, since, chain=True)
            except ZohoApiError as error:
                if error.code in CHAIN_ENDED_CODES and read:
                    self._chain_cut = True
                    return
                raise
            if not response.data:
                return
            read += len(response.data)
            yield response
            if not response.info.get("more_records"):
                return
            token = response.info.get("next_page_token")
            if not token:
                raise ZohoApiError(messages.NO_NEXT_PAGE_TOKEN.format(module=self._spec.api_name))
            if read >= self.chain_limit:
                self._chain_cut = True
                return

    def _add_other_chunks(self, records: list[dict[str, Any]]) -> None:
        """Merge the other chunks of the last list call into its records (see chunk_fetch.py); then
        rich text whole, after the chunks, which carry the cut values."""
        if not records:
            return
        if self._fetcher.wide and self._side is not None:
            params, headers, side, chain, began, date = self._side
            self._side = None
            if side is None:
                side = self._fetcher.side_calls(params, headers, chained=False)
            self._fetcher.merge(records, side, chain, began, date)
        merge_rich_text(self._client, self._spec, records)


def _forget_before(emitted: dict[tuple[str, Any], datetime], instant: datetime | None) -> None:
    """Keep only the keys a later first page can return again."""
    if instant is None:
        return
    for key in [k for k, v in emitted.items() if v < instant]:
        del emitted[key]


def cursor_instant(value: Any) -> datetime | None:
    """The cursor value in UTC; a missing or malformed value never moves the cursor."""
    if not value:
        return None
    try:
        return parse_zoho_datetime(value)
    except ValueError:
        return None


def _at_or_after(value: Any, instant: datetime) -> bool:
    parsed = cursor_instant(value)
    return parsed is None or parsed >= instant


def _newest(records: list[dict[str, Any]], cursor_field: str | None) -> datetime | None:
    if cursor_field is None:
        return None
    values = [v for v in (cursor_instant(r.get(cursor_field)) for r in records) if v is not None]
    return max(values) if values else None
