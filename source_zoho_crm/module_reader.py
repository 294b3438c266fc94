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
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.id_chains import IdChains, two_way_wanted
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_requests import (
    ONE_SECOND,
    ModuleRequests,
    at_or_after,
    cursor_instant,
    forget_before,
    newest_of,
)
from source_zoho_crm.settings import CHAIN_LIMIT, MODIFIED_TIME, PAGE_SIZE

logger = logging.getLogger("airbyte")


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
        self._spec = spec
        self._incremental = incremental and spec.cursor_field is not None
        self._start = start if self._incremental else None
        self._calls = ModuleRequests(client, spec)
        self._descending: ModuleRequests | None = None  # the chain from the end, in two-way reads
        self._ims_ignored = False  # set once Zoho answered records older than If-Modified-Since
        self.expected: int | None = None
        """Zoho's record count, when known: a full refresh past the chain limit reads by Modified_Time."""

    @property
    def requests(self) -> int:
        """List requests made by this read (ids requests for other chunks not counted)."""
        return self._calls.requests + (self._descending.requests if self._descending else 0)

    @property
    def server_time(self) -> datetime | None:
        """Zoho's clock (`Date`) at the first answer of this read; None until then or without the header."""
        return self._calls.server_time

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
            self._calls.close()
            if self._descending is not None:
                self._descending.close()

    def _past_chain_limit(self) -> bool:
        return (
            not self._incremental
            and self._spec.cursor_field == MODIFIED_TIME
            and self.expected is not None
            and self.expected > self.chain_limit
        )

    def _id_chains(self, params: Mapping[str, Any]) -> IdChains:
        """One chain, or one from each end of the id order when Zoho counts more than ten pages."""
        if not two_way_wanted(self.expected, self.page_size):
            return IdChains([self._calls], params, self.chain_limit)
        if self._descending is None:
            self._descending = ModuleRequests(self._calls.client, self._spec)
        return IdChains([self._calls, self._descending], params, self.chain_limit, self.expected)

    def _list_params(self, sort: Mapping[str, str]) -> dict[str, Any]:
        return self._calls.list_params(sort, self.page_size)

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
            response = self._calls.list(params, sent)
            records = response.data
            if not records:
                return
            instants = [cursor_instant(r.get(MODIFIED_TIME)) for r in records]
            valid = [i for i in instants if i is not None]
            if sent is not None and sent in valid:
                inclusive = True
            if sent is not None and any(i < sent for i in valid):
                logger.info("Zoho ignores If-Modified-Since on %s; reading it in id order.", self._calls.what)
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
            forget_before(emitted, since - ONE_SECOND if since else None)

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
            for response in self._calls.chain(params, sent, self.chain_limit):
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
                what=self._calls.what,
                page_size=self.page_size,
                cursor=MODIFIED_TIME,
                instant=second.isoformat(),
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
        self._calls.add_other_chunks(fresh)
        return Page(fresh, newest)

    # ------------------------------------------------------------------ id order
    def _pages_in_id_order(
        self, keep_from: datetime | None, exclude: frozenset[str] = frozenset()
    ) -> Iterator[Page]:
        """Chains in id order (one, or one from each end: id_chains.py), stable while records are
        modified. A position-based token skips a record when an earlier one is deleted, so when Zoho's
        deleted log shows a deletion during a multi-page pass, a pass more reads the ids it missed.
        Past the chain limit the read goes on in Modified_Time order, skipping the ids already read."""
        cursor_field = self._spec.cursor_field
        params = self._list_params({"sort_by": "id", "sort_order": "asc"})
        seen: set[str] = set(exclude)
        deletions: set[str] = set()
        # Wide modules: the Modified_Time each record came out with, checked once the chain is read.
        stamps: dict[str, Any] | None = (
            {} if self._calls.fetcher.wide and MODIFIED_TIME in self._calls.chunks[0] else None
        )
        first_began = None
        passes = 0
        look: Future[list[str]] | None = None

        def accept(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
            records = [r for r in data if str(r.get("id")) not in seen]
            seen.update(str(r.get("id")) for r in records)
            if self._incremental and cursor_field and keep_from is not None:
                records = [r for r in records if at_or_after(r.get(cursor_field), keep_from)]
            return records

        while True:
            passes += 1
            chains = self._id_chains(params)
            for records in chains.pages(accept):
                began = chains.began
                first_began = first_began or began
                if stamps is not None:
                    stamps.update((str(r.get("id")), r.get(MODIFIED_TIME)) for r in records)
                newest = newest_of(records, cursor_field) if self._incremental else None
                if newest and began and cursor_field == MODIFIED_TIME:
                    # A record modified behind the chain's position is read by the next sync.
                    newest = min(newest, began - ONE_SECOND)
                yield Page(records, newest, checkpoint=False)
            cut = chains.cut
            calls, size, limit = self._calls, self.page_size, self.chain_limit
            changed = partial(calls.changed_since, first_began, stamps, size, limit)
            if cut or chains.pages_read < 2 or passes >= MAX_DENSE_PASSES:
                break
            # The look for changes goes on beside the deletions check; a pass more makes it stale.
            look = self._calls.fetcher.aside(changed) if stamps else None
            if not self._calls.new_deletions(chains.began, deletions, self.page_size):
                break
            look = None
            logger.info(
                "Records of %s were deleted during the read; reading it again for any it skipped.",
                self._calls.what,
            )
        if stamps:
            for records in self._calls.whole(look.result() if look else changed(), self.page_size):
                yield Page(records, None, checkpoint=False)
        if not cut:
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
