"""One pass of a read in id order: a page-token chain, or, for a module Zoho counts above ten pages,
two chains at once, one from each end of the id order, until they meet.

Why a component: a chain costs one round trip per page, one after the other, and the CDK's
paginators follow one chain. Zoho's list GET sorts by id both ways (`sort_order`), so two chains
halve the wall time of a large read. They stop when a page of one holds an id the other read in
this pass: every id between is then read, whatever positions the tokens keep (a skip after a
deletion is the reader's deleted-log check, as for one chain). Before asking its next page, a chain
that Zoho's count says is not needed while the other's page is on its way waits for that answer,
so meeting costs one page (per field chunk) more than one chain.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from source_zoho_crm.module_requests import ModuleRequests
from source_zoho_crm.settings import TWO_WAY_CHAIN_ABOVE_PAGES

Records = list[dict[str, Any]]
# Filters a page's records to those this pass emits (called under one lock, in arrival order).
Accept = Callable[[Records], Records]

# Pages a chain may have read ahead of the reader (memory bound while the reader is busy).
READ_AHEAD = 2
_DONE = object()


def two_way_wanted(expected: int | None, page_size: int) -> bool:
    """Both ends only when Zoho counted more than ten pages: meeting costs one page, at most 1/11 more."""
    return expected is not None and expected > TWO_WAY_CHAIN_ABOVE_PAGES * page_size


class IdChains:
    """The pages of one pass; `began` (Zoho's `Date` at the pass's first answer), `pages_read` and `cut`
    (the pass ended before the module did: a chain limit, or Zoho ended a chain) once it is read."""

    def __init__(
        self,
        chains: Sequence[ModuleRequests],
        params: Mapping[str, Any],
        chain_limit: int,
        expected: int | None = None,
    ) -> None:
        self._chains = list(chains)
        self._params = dict(params)
        self._limit = chain_limit
        self._expected = expected
        self.began: datetime | None = None
        self.pages_read = 0
        self.cut = False
        self._lock = threading.Condition()
        self._ids: list[set[str]] = [set() for _ in self._chains]
        self._asking = [False] * len(self._chains)
        self._met = False
        self._stop = False
        self._alone = False  # set when a chain's ids are out of the order it asked: no meeting counts
        self._answered = [False] * len(self._chains)
        self._last: list[int | None] = [None] * len(self._chains)  # each chain's last id, signed

    def pages(self, accept: Accept) -> Iterator[Records]:
        if len(self._chains) == 1:
            yield from self._one_chain(accept)
        else:
            yield from self._both_ends(accept)

    def _one_chain(self, accept: Accept) -> Iterator[Records]:
        calls = self._chains[0]
        for response in calls.chain(self._params, None, self._limit):
            self.began = self.began or response.date
            self.pages_read += 1
            records = accept(response.data)
            calls.add_other_chunks(records)
            yield records
        self.cut = calls.chain_cut

    # ------------------------------------------------------------------ both ends
    def _both_ends(self, accept: Accept) -> Iterator[Records]:
        pages: queue.Queue[Any] = queue.Queue(maxsize=READ_AHEAD * len(self._chains))
        threads = [
            threading.Thread(target=self._run(side, accept, pages), name=f"zoho-chain-{side}", daemon=True)
            for side in range(len(self._chains))
        ]
        for thread in threads:
            thread.start()
        held: list[Records] = []  # until every chain answered once, so that `began` is the earliest
        try:
            running = len(threads)
            while running:
                item = pages.get()
                if item is _DONE:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    held.append(item)
                if held and (all(self._answered) or not running):
                    yield from held
                    held.clear()
        finally:
            with self._lock:
                self._stop = True
                self._lock.notify_all()
            for thread in threads:
                thread.join()
        self.cut = not self._met

    def _run(self, side: int, accept: Accept, pages: queue.Queue[Any]) -> Callable[[], None]:
        calls = self._chains[side]
        params = dict(self._params, sort_order="desc" if side else "asc")
        meter = calls.meter

        def run() -> None:
            try:
                self._follow(side, calls, params, accept, pages)
            except BaseException as error:  # handed to the reader, which raises it
                self._put(pages, error)
            finally:
                with self._lock:
                    self._asking[side] = False
                    self._answered[side] = True
                    self._lock.notify_all()
                self._put(pages, _DONE)

        return meter.in_this_stream(run) if meter is not None else run

    def _follow(
        self,
        side: int,
        calls: ModuleRequests,
        params: Mapping[str, Any],
        accept: Accept,
        pages: queue.Queue[Any],
    ) -> None:
        responses = calls.chain(params, None, self._limit)
        while self._may_ask(side):
            response = next(responses, None)
            if response is None:  # this chain reached its end of the module (or a limit)
                with self._lock:
                    self._met = self._met or not calls.chain_cut
                    self._lock.notify_all()
                return
            ids = {str(record.get("id")) for record in response.data}
            with self._lock:
                self._asking[side] = False
                self._answered[side] = True
                self.pages_read += 1
                if response.date is not None and (self.began is None or response.date < self.began):
                    self.began = response.date
                if not self._alone and not self._in_order(side, response.data):
                    self._alone = True  # a meeting proves nothing: the ascending chain reads to the end
                met = not response.info.get("more_records")  # this chain read to the module's end
                if not self._alone:
                    met = met or any(ids & other for n, other in enumerate(self._ids) if n != side)
                self._met = self._met or met
                self._ids[side] |= ids
                records = accept(response.data)
                self._lock.notify_all()
            calls.add_other_chunks(records)
            self._put(pages, records)
        responses.close()

    def _may_ask(self, side: int) -> bool:
        """Whether this chain asks its next page: not once the chains met, and not while Zoho's count says
        the other chain's page on its way is the last one needed (then its answer decides)."""
        with self._lock:
            while not (self._met or self._stop or self._alone):
                others_asking = [n for n, asking in enumerate(self._asking) if asking and n != side]
                read = sum(len(ids) for ids in self._ids)
                if not others_asking or self._expected is None:
                    break
                if self._expected - read - len(others_asking) * int(self._params["per_page"]) > 0:
                    break
                self._lock.wait()
            if self._met or self._stop or (self._alone and side):
                return False
            self._asking[side] = True
            return True

    def _in_order(self, side: int, records: Records) -> bool:
        """Whether this chain's ids run the way it asked (ascending, or descending from the end) within
        each page, and move on from page to page: only then does a page of both chains prove that every
        id between them is read. A page may begin with ids already read: records created at the top shift
        a position-based descending chain back."""
        keys = [int(str(record.get("id"))) if str(record.get("id")).isdigit() else None for record in records]
        if None in keys or not keys:
            return not keys
        signed = [-key if side else key for key in keys]  # type: ignore[operator]
        if any(later <= earlier for earlier, later in zip(signed, signed[1:], strict=False)):
            return False
        last = self._last[side]
        if last is not None and signed[-1] <= last:
            return False
        self._last[side] = signed[-1]
        return True

    def _put(self, pages: queue.Queue[Any], item: Any) -> None:
        """Hand `item` to the reader, unless it stopped reading (then nobody takes it)."""
        while True:
            try:
                pages.put(item, timeout=0.1)
                return
            except queue.Full:
                with self._lock:
                    if self._stop:
                        return
