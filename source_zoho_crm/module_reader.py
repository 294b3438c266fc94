"""Reads every record and every field of one module, page by page.

Why a component: Zoho binds a page token to the exact query, `fields` included, so the CDK's
PropertyChunking (one token for all chunks) stops wide modules after 200 records; and a token
chain ends at 100,000 records. Here the first 50-field chunk drives the chain, the other chunks
of each page are fetched by the page's ids, and a new chain starts where the last one ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.datetimes import if_modified_since_header, parse_zoho_datetime
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.rich_text import merge_rich_text
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    CHAIN_ENDED_CODES,
    CHAIN_LIMIT,
    IDS_PER_REQUEST,
    MODULE_REQUEST_PARAMS,
    PAGE_SIZE,
)


@dataclass
class Page:
    """Records of one page, merged across field chunks, and the newest cursor value among them."""

    records: list[dict[str, Any]]
    newest: datetime | None = None


@dataclass
class _Boundary:
    """Records at the last cursor second of a chain: the next chain (inclusive) returns them again."""

    instant: datetime | None = None
    keys: set[tuple[str, Any]] = field(default_factory=set)


class ModuleReader:
    """Pages of one module. Incremental: in cursor order from `start` (inclusive). Full: in id order."""

    page_size = PAGE_SIZE
    ids_per_request = IDS_PER_REQUEST
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

    def pages(self) -> Iterator[Page]:
        if self._incremental and self._spec.sorted_by_cursor:
            yield from self._pages_in_cursor_order(self._start, skip=_Boundary())
        elif self._incremental:
            # The cursor (e.g. Action_Performed_Time) cannot be sorted on: id order, filtered here.
            yield from self._pages_in_id_order(keep_from=self._start)
        else:
            yield from self._pages_in_id_order(keep_from=None)

    def _pages_in_cursor_order(self, start: datetime | None, skip: _Boundary) -> Iterator[Page]:
        cursor_field = self._spec.cursor_field
        assert cursor_field is not None
        params = {"sort_by": cursor_field, "sort_order": "asc"}
        while True:
            headers = {"If-Modified-Since": if_modified_since_header(start)} if start else None
            boundary = _Boundary()
            for page in self._chain(params, headers):
                self._keep_new(page, boundary, start, skip)
                yield page
            if not self._chain_cut:
                return
            if boundary.instant is None or (start is not None and boundary.instant <= start):
                raise ZohoApiError(
                    messages.TOO_MANY_IN_ONE_SECOND.format(
                        limit=self.chain_limit,
                        module=self._spec.api_name,
                        cursor=cursor_field,
                        instant=boundary.instant,
                    )
                )
            start, skip = boundary.instant, boundary

    def _pages_in_id_order(self, keep_from: datetime | None) -> Iterator[Page]:
        """Full refresh in stable id order; past the chain limit, cursor order, skipping ids already read."""
        cursor_field = self._spec.cursor_field
        seen: set[str] = set()
        for page in self._chain({"sort_by": "id", "sort_order": "asc"}, None):
            seen.update(str(r.get("id")) for r in page.records)
            if self._incremental and cursor_field:
                if keep_from is not None:
                    page.records = [r for r in page.records if _at_or_after(r.get(cursor_field), keep_from)]
                page.newest = _newest(page.records, cursor_field)
            yield page
        if not self._chain_cut:
            return
        if cursor_field is None or not self._spec.sorted_by_cursor:
            raise ZohoApiError(
                messages.NO_SORTABLE_CURSOR.format(module=self._spec.api_name, limit=self.chain_limit)
            )
        for page in self._pages_in_cursor_order(keep_from, skip=_Boundary()):
            page.records = [r for r in page.records if str(r.get("id")) not in seen]
            yield page

    def _chain(self, sort: Mapping[str, str], headers: Mapping[str, str] | None) -> Iterator[Page]:
        """One page-token chain; sets `_chain_cut` when it ended before the module did."""
        self._chain_cut = False
        params: dict[str, Any] = {
            "fields": ",".join(self._chunks[0]) if self._chunks else "id",
            "per_page": self.page_size,
            **sort,
            **self._extra_params,
        }
        token: str | None = None
        read = 0
        while True:
            request = dict(params, page_token=token) if token else params
            try:
                response = self._client.get(self._path, request, headers, what=self._what)
            except ZohoApiError as error:
                if error.code in CHAIN_ENDED_CODES and read:
                    self._chain_cut = True
                    return
                raise
            records = response.data
            if not records:
                return
            self._add_other_chunks(records)
            read += len(records)
            yield Page(records)
            info = response.info
            if not info.get("more_records"):
                return
            token = info.get("next_page_token")
            if not token:
                raise ZohoApiError(messages.NO_NEXT_PAGE_TOKEN.format(module=self._spec.api_name))
            if read >= self.chain_limit:
                self._chain_cut = True
                return

    def _add_other_chunks(self, records: list[dict[str, Any]]) -> None:
        """Fetch the page's remaining fields by id and merge them into its records; then rich text whole."""
        if len(self._chunks) < 2:
            merge_rich_text(self._client, self._spec, records)
            return
        by_id = {record.get("id"): record for record in records}
        ids = [str(record_id) for record_id in by_id if record_id is not None]
        for chunk in self._chunks[1:]:
            for start in range(0, len(ids), self.ids_per_request):
                group = ids[start : start + self.ids_per_request]
                params = {"fields": ",".join(chunk), "ids": ",".join(group), **self._extra_params}
                for extra in self._client.get(self._path, params, what=self._what).data:
                    target = by_id.get(extra.get("id"))
                    if target is not None:
                        target.update(extra)
        merge_rich_text(self._client, self._spec, records)  # after the chunks, which carry cut values

    def _keep_new(self, page: Page, boundary: _Boundary, start: datetime | None, skip: _Boundary) -> None:
        """Drop records before `start` (a server that ignores If-Modified-Since for a module without
        Modified_Time) and those the previous chain already sent; track the chain's last cursor second."""
        cursor_field = self._spec.cursor_field
        assert cursor_field is not None
        kept = []
        for record in page.records:
            value = record.get(cursor_field)
            instant = _instant(value)
            if instant is not None:
                if start is not None and instant < start:
                    continue
                if skip.keys and (str(record.get("id")), value) in skip.keys:
                    continue
                if boundary.instant is None or instant > boundary.instant:
                    boundary.instant = instant
                    boundary.keys = set()
                if instant == boundary.instant:
                    boundary.keys.add((str(record.get("id")), value))
            kept.append(record)
        page.records = kept
        page.newest = boundary.instant


def _instant(value: Any) -> datetime | None:
    """The cursor value in UTC; a missing or malformed value never moves the cursor."""
    if not value:
        return None
    try:
        return parse_zoho_datetime(value)
    except ValueError:
        return None


def _at_or_after(value: Any, instant: datetime) -> bool:
    parsed = _instant(value)
    return parsed is None or parsed >= instant


def _newest(records: list[dict[str, Any]], cursor_field: str) -> datetime | None:
    values = [v for v in (_instant(r.get(cursor_field)) for r in records) if v is not None]
    return max(values) if values else None
