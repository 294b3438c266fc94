"""The requests of one module's read: a list page with its other field chunks, a page-token chain,
and the two look-ups that verify a chain (changes and deletions while it was read).

Split from module_reader.py, which decides what to ask for; this file only asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient, ZohoResponse
from source_zoho_crm.chunk_fetch import ChunkFetcher
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.datetimes import if_modified_since_header, parse_zoho_datetime
from source_zoho_crm.errors import ZohoApiError, ZohoError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.rich_text import merge_rich_text
from source_zoho_crm.settings import API_VERSION_PATH, CHAIN_ENDED_CODES, MODIFIED_TIME, MODULE_REQUEST_PARAMS

logger = logging.getLogger("airbyte")

ONE_SECOND = timedelta(seconds=1)


class ModuleRequests:
    """Zoho calls for one module, through the one client; counts list calls and keeps Zoho's clock."""

    def __init__(self, client: ZohoApiClient, spec: ModuleStreamSpec) -> None:
        self.client = client
        self._spec = spec
        self.chunks = spec.field_chunks()
        self.path = f"{API_VERSION_PATH}/{spec.api_name}"
        self.what = f"module {spec.api_name}"
        self.extra_params = dict(MODULE_REQUEST_PARAMS.get(spec.api_name, {}))
        self.fetcher = ChunkFetcher(client, self.path, self.chunks, self.extra_params, self.what)
        self.chain_cut = False
        """Set when the last chain ended before the module did (chain limit, or Zoho ended it)."""
        self._side: tuple[Any, ...] | None = None  # the last list call's other chunks, for add_other_chunks
        self._expect_more = False
        self.server_time: datetime | None = None
        """Zoho's clock (`Date`) at the first answer of this read; None until then or without the header."""
        self.requests = 0
        """List requests made (ids requests for other chunks not counted)."""

    @property
    def meter(self) -> CreditMeter | None:
        return self.client.meter

    def close(self) -> None:
        self.fetcher.close()

    def list_params(self, sort: Mapping[str, str], page_size: int) -> dict[str, Any]:
        return {
            "fields": ",".join(self.chunks[0]) if self.chunks else "id",
            "per_page": page_size,
            **sort,
            **self.extra_params,
        }

    def list(self, params: Mapping[str, Any], since: datetime | None, chain: bool = False) -> ZohoResponse:
        """The first chunk's page; the other chunks are asked at the same time when the page is likely
        to hold records (a chain, a read from the beginning, a page after one with more records), else
        only once it holds some (a quiet incremental sync costs one call, not one per chunk)."""
        headers = {"If-Modified-Since": if_modified_since_header(since)} if since else None
        began = time.monotonic()
        side = None
        if self.fetcher.wide and (chain or since is None or self._expect_more):
            side = self.fetcher.side_calls(params, headers, chained=chain)
        response = self.client.get(self.path, params, headers, what=self.what)
        self._side = (params, headers, side, chain, began, response.date)
        self._expect_more = bool(response.info.get("more_records"))
        self.requests += 1
        if self.server_time is None:
            self.server_time = response.date
        return response

    def chain(
        self, params: Mapping[str, Any], since: datetime | None, chain_limit: int
    ) -> Iterator[ZohoResponse]:
        """One page-token chain; sets `chain_cut` when it ended before the module did."""
        self.chain_cut = False
        self.fetcher.start_chain()
        token: str | None = None
        read = 0
        while True:
            request = dict(params, page_token=token) if token else params
            try:
                response = self.list(request, since, chain=True)
            except ZohoApiError as error:
                if error.code in CHAIN_ENDED_CODES and read:
                    self.chain_cut = True
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
            if read >= chain_limit:
                self.chain_cut = True
                return

    def add_other_chunks(self, records: list[dict[str, Any]]) -> None:
        """Merge the other chunks of the last list call into its records (see chunk_fetch.py); then
        rich text whole, after the chunks, which carry the cut values."""
        if not records:
            return
        if self.fetcher.wide and self._side is not None:
            params, headers, side, chain, began, date = self._side
            self._side = None
            if side is None:
                side = self.fetcher.side_calls(params, headers, chained=False)
            self.fetcher.merge(records, side, chain, began, date)
        merge_rich_text(self.client, self._spec, records)

    def changed_since(
        self, began: datetime | None, stamps: Mapping[str, Any], page_size: int, limit: int
    ) -> list[str]:
        """Records of a wide module modified while the chain was read may have come out with chunks of
        two versions (the first chunk older than another): one look at what changed since the chain
        began (usually one call) names each record read before its last change, to be read again whole."""
        if began is None:
            return []
        since = began - ONE_SECOND
        params: dict[str, Any] = {
            "fields": MODIFIED_TIME,
            "sort_by": MODIFIED_TIME,
            "sort_order": "asc",
            "per_page": page_size,
            **self.extra_params,
        }
        headers = {"If-Modified-Since": if_modified_since_header(since)}
        stale: list[str] = []
        try:
            while True:
                response = self.client.get(self.path, params, headers, what=self.what)
                for record in response.data:
                    record_id, instant = str(record.get("id")), cursor_instant(record.get(MODIFIED_TIME))
                    changed = record_id in stamps and stamps[record_id] != record.get(MODIFIED_TIME)
                    if changed and instant is not None and instant >= since:
                        stale.append(record_id)
                token = response.info.get("next_page_token")
                if not response.info.get("more_records") or not token or len(stale) >= limit:
                    break
                params["page_token"] = token
        except ZohoError as error:
            logger.info("Cannot check %s for changes during the read (%s).", self.what, error.code or error)
            return []
        return stale

    def whole(self, ids: list[str], page_size: int) -> Iterator[list[dict[str, Any]]]:
        """The records `ids` again, whole and of one version, a page at a time."""
        for start in range(0, len(ids), page_size):
            yield self.fetcher.whole(ids[start : start + page_size])

    def new_deletions(self, began: datetime | None, known: set[str], page_size: int) -> bool:
        """Whether Zoho's deleted log has entries from `began` on that `known` lacks (adds them). Without a
        `Date` or without access to the log nothing can be checked, and the read stands."""
        if began is None:
            return False
        try:
            response = self.client.get(
                f"{self.path}/deleted",
                {"type": "all", "page": 1, "per_page": page_size},
                {"If-Modified-Since": if_modified_since_header(began - ONE_SECOND)},
                what=f"deleted records of {self._spec.api_name}",
            )
        except ZohoError as error:
            logger.info("Cannot check %s for deletions during the read (%s).", self.what, error.code or error)
            return False
        ids = {str(entry.get("id")) for entry in response.data} - known
        known.update(ids)
        return bool(ids)


def cursor_instant(value: Any) -> datetime | None:
    """The cursor value in UTC; a missing or malformed value never moves the cursor."""
    if not value:
        return None
    try:
        return parse_zoho_datetime(value)
    except ValueError:
        return None


def at_or_after(value: Any, instant: datetime) -> bool:
    parsed = cursor_instant(value)
    return parsed is None or parsed >= instant


def newest_of(records: list[dict[str, Any]], cursor_field: str | None) -> datetime | None:
    if cursor_field is None:
        return None
    values = [v for v in (cursor_instant(r.get(cursor_field)) for r in records) if v is not None]
    return max(values) if values else None


def forget_before(emitted: dict[tuple[str, Any], datetime], instant: datetime | None) -> None:
    """Keep only the keys a later first page can return again."""
    if instant is None:
        return
    for key in [k for k, v in emitted.items() if v < instant]:
        del emitted[key]
