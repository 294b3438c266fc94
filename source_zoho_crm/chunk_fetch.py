"""The 50-field chunks of a wide module's page, fetched side by side and merged by id.

Why a component: Zoho allows 50 fields per request and binds a page token to the exact query, so
the CDK's PropertyChunking (one token for every chunk, chunks one after the other) cannot page a
wide module. Here every chunk asks the same page at the same time (a first page, or the chunk's own
page-token chain in step with the first chunk's), so a page costs one round trip; a record missing
from a chunk's answer (created, moved or deleted between the calls) is fetched by id.

Never two versions in one record: the first chunk carries Modified_Time. A record whose Modified_Time
is not older than the page's calls (Zoho's `Date` less the calls' duration) may have changed between
them, so its other chunks are fetched again by id and then its first chunk: when its Modified_Time
did not move across that, the other chunks belong to the version the first chunk shows; else again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient, ZohoResponse
from source_zoho_crm.datetimes import parse_zoho_datetime
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.settings import IDS_PER_REQUEST, MODIFIED_TIME

logger = logging.getLogger("airbyte")

T = TypeVar("T")

# Rounds of "other chunks again, then the first chunk" before a record that keeps changing fails the read.
MAX_VERSION_ROUNDS = 5


class ChunkFetcher:
    """Calls for chunks 1..n run in worker threads (the client's slots still cap the org's total)."""

    ids_per_request = IDS_PER_REQUEST

    def __init__(
        self,
        client: ZohoApiClient,
        path: str,
        chunks: Sequence[Sequence[str]],
        extra_params: Mapping[str, Any],
        what: str,
    ) -> None:
        self._client = client
        self._path = path
        self._chunks = [tuple(chunk) for chunk in chunks]
        self._extra = dict(extra_params)
        self._what = what
        self._pool: ThreadPoolExecutor | None = None
        self.tokens: list[str | None] = [None] * len(self._chunks)
        """Each chunk's own next page token while chains are followed in step."""
        self.alive: list[bool] = [True] * len(self._chunks)

    @property
    def wide(self) -> bool:
        return len(self._chunks) > 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def start_chain(self) -> None:
        self.tokens = [None] * len(self._chunks)
        self.alive = [True] * len(self._chunks)

    def side_calls(
        self, params: Mapping[str, Any], headers: Mapping[str, str] | None, chained: bool
    ) -> list[Future[ZohoResponse] | None]:
        """Start the other chunks' calls for the page `params` asks (chunk 0's own call is the caller's).

        `chained`: the page is the next one of a page-token chain, so each chunk sends its own token;
        a chunk whose chain ended is left to `by_ids`."""
        chained = chained and "page_token" in params  # a chain's first page is asked without a token
        futures: list[Future[ZohoResponse] | None] = [None]
        for index in range(1, len(self._chunks)):
            if chained and (not self.alive[index] or not self.tokens[index]):
                futures.append(None)
                continue
            request = {key: value for key, value in params.items() if key != "page_token"}
            request["fields"] = ",".join(self._chunks[index])
            if chained and self.tokens[index]:
                request["page_token"] = self.tokens[index]
            futures.append(self._submit(request, headers))
        return futures

    def merge(
        self,
        records: list[dict[str, Any]],
        futures: Sequence[Future[ZohoResponse] | None],
        chained: bool,
        began: float,
        date: datetime | None,
    ) -> None:
        """Merge the other chunks' answers into `records` by id; fetch by id what an answer lacks; then
        make records that may have changed during the calls whole again (`began`: `time.monotonic()`
        before the page's first call; `date`: Zoho's `Date` of the first chunk's answer)."""
        by_id = {str(record.get("id")): record for record in records if record.get("id") is not None}
        missing: dict[int, list[str]] = {}
        for index in range(1, len(self._chunks)):
            future = futures[index] if index < len(futures) else None
            found: set[str] = set()
            response = None
            if future is not None:
                try:
                    response = future.result()
                except ZohoApiError as ended:
                    if not chained:
                        raise
                    logger.info(
                        "The %s chain of %s ended (%s); its fields come by id.", index, self._what, ended.code
                    )
            if response is not None:
                for extra in response.data:
                    target = by_id.get(str(extra.get("id")))
                    if target is not None:
                        target.update(extra)
                        found.add(str(extra.get("id")))
                if chained:
                    token = response.info.get("next_page_token")
                    self.alive[index] = bool(response.info.get("more_records") and token)
                    self.tokens[index] = str(token) if token else None
            elif chained:
                self.alive[index] = False
            lacking = [record_id for record_id in by_id if record_id not in found]
            if lacking:
                missing[index] = lacking
        self._fill_by_ids(by_id, missing)
        if date is not None:
            # Zoho's clock when the earliest call began cannot be earlier than this.
            bound = date - timedelta(seconds=math.ceil(time.monotonic() - began) + 1)
            self._settle([record for record in records if _at_or_after(record.get(MODIFIED_TIME), bound)])

    def _settle(self, records: list[dict[str, Any]]) -> None:
        """Other chunks again, then the first chunk: an unchanged Modified_Time proves one version."""
        for _ in range(MAX_VERSION_ROUNDS):
            if not records or not self.wide or MODIFIED_TIME not in self._chunks[0]:
                return
            by_id = {str(record["id"]): record for record in records if record.get("id") is not None}
            self._fill_by_ids(by_id, {index: list(by_id) for index in range(1, len(self._chunks))})
            after = {record_id: {"id": record_id} for record_id in by_id}
            self._fill_by_ids(after, {0: list(by_id)})
            moved = []
            for record_id, record in by_id.items():
                latest = after[record_id]
                if MODIFIED_TIME in latest and latest[MODIFIED_TIME] != record.get(MODIFIED_TIME):
                    record.update(latest)
                    moved.append(record)
            records = moved
        if records:
            raise ZohoApiError(
                messages.CHUNKS_KEPT_CHANGING.format(
                    what=self._what, count=len(records), example=records[0].get("id")
                )
            )

    def whole(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The records `ids` again, every field of one version (records deleted meanwhile left out)."""
        by_id: dict[str, dict[str, Any]] = {record_id: {"id": record_id} for record_id in ids}
        self._fill_by_ids(by_id, {0: list(ids)})
        records = [record for record in by_id.values() if len(record) > 1]
        self._settle(records)
        return records

    def _fill_by_ids(self, by_id: dict[str, dict[str, Any]], missing: Mapping[int, list[str]]) -> None:
        calls: list[Future[ZohoResponse]] = []
        for index, ids in missing.items():
            for start in range(0, len(ids), self.ids_per_request):
                group = ids[start : start + self.ids_per_request]
                params = {"fields": ",".join(self._chunks[index]), "ids": ",".join(group), **self._extra}
                calls.append(self._submit(params, None))
        for call in calls:
            for extra in call.result().data:
                target = by_id.get(str(extra.get("id")))
                if target is not None:
                    target.update(extra)

    def _submit(self, params: Mapping[str, Any], headers: Mapping[str, str] | None) -> Future[ZohoResponse]:
        return self.aside(lambda: self._client.get(self._path, params, headers, what=self._what))

    def aside(self, call: Callable[[], T]) -> Future[T]:
        """`call` in a worker thread, charged to this thread's stream."""
        if self._pool is None:
            workers = max(1, min(len(self._chunks), self._client.max_concurrent))
            self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoho-chunks")
        meter = self._client.meter
        return self._pool.submit(meter.in_this_stream(call) if meter is not None else call)


def _at_or_after(value: Any, bound: datetime) -> bool:
    try:
        return bool(value) and parse_zoho_datetime(str(value)) >= bound
    except ValueError:
        return False
