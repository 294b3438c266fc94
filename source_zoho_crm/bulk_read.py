"""Backfill of a large module with Zoho's Bulk Read API, one job page (200,000 records) at a time.

Why a component: the CDK has no asynchronous-job retriever for a zipped CSV that must be streamed
from disk with Zoho's limits (10 downloads a minute, 10 complex requests at once), converted to
REST's record shape and resumed at the next job page after an interruption.

A backfill is a chain of jobs: job page 1, then `page + 1` (or Zoho's `next_page_token`) while
`result.more_records`. Its position, saved in the stream state after each job page, is the next
page and the backfill's start instant (the first job's `created_time`, Zoho's clock); after the
last page the stream goes on incrementally over REST from that instant, so a record changed while
the backfill ran is read again.
"""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from source_zoho_crm.api_client_bulk import BulkReadUnavailable, BulkTransport
from source_zoho_crm.bulk_csv import UNEXPORTED_TYPES, RowConverter
from source_zoho_crm.credits import (
    CREDITS_BULK_READ_CREATE,
    CREDITS_BULK_READ_DOWNLOAD,
    CREDITS_BULK_READ_STATUS,
)
from source_zoho_crm.datetimes import parse_zoho_datetime, to_utc_iso
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.settings import DEFAULT_BULK_READ_THRESHOLD

logger = logging.getLogger("airbyte")

BULK_PATH = "/crm/bulk/v8/read"
DEFAULT_THRESHOLD = DEFAULT_BULK_READ_THRESHOLD  # config `bulk_read_threshold`; 0 turns Bulk Read off
JOB_PAGE_SIZE = 200_000
STATE_KEY = "bulk_read"
# Codes meaning "Bulk Read cannot export this module or field": read it over REST instead.
UNSUPPORTED_CODES = (
    "MODULE_NOT_SUPPORTED",
    "MODULE_NOT_AVAILABLE",
    "NOT_SUPPORTED_FEATURE",
    "FIELD_NOT_SUPPORTED",
    "QUERY_NOT_SUPPORTED",
    "JOB_NOT_SUPPORTED",
    "INVALID_DATA",
)
# Without Zoho's created_time, the start instant is the local clock minus this (against clock skew).
CLOCK_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class BackfillPosition:
    """Where an interrupted backfill resumes: the next job page, and the backfill's start instant (UTC)."""

    started: datetime
    page: int = 1
    page_token: str | None = None

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"started": to_utc_iso(self.started), "page": self.page}
        if self.page_token:
            state["page_token"] = self.page_token
        return state

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> BackfillPosition | None:
        """The position in a stream state's `bulk_read` entry; None when absent or unreadable."""
        entry = state.get(STATE_KEY) if isinstance(state, Mapping) else None
        if not isinstance(entry, Mapping):
            return None
        try:
            started = parse_zoho_datetime(str(entry["started"]))
            page = int(entry.get("page", 1))
        except (KeyError, TypeError, ValueError):
            return None
        token = entry.get("page_token")
        return cls(started, max(page, 1), str(token) if token else None)


@dataclass
class JobPage:
    """One downloaded job page. Consume `records` before asking for the next page; then checkpoint
    `resume_at` (None once the module is exported whole, when the stream goes incremental from `started`)."""

    number: int
    count: int
    started: datetime
    resume_at: BackfillPosition | None
    records: Iterator[dict[str, Any]]


def use_bulk_read(count: int | None, threshold: int, *, first_sync: bool) -> bool:
    """Bulk Read for a first sync or full refresh of a module with at least `threshold` records.

    `count` comes from `progress.record_count` (also the stream's ESTIMATE); None (no count scopes)
    means REST, as does `threshold` 0.
    """
    return first_sync and threshold > 0 and count is not None and count >= threshold


class BulkReader:
    """Exports one module with Bulk Read jobs; records come out shaped as the REST path emits them."""

    poll_first_seconds = 2.0
    poll_max_seconds = 30.0
    poll_timeout_seconds = 6 * 3600.0

    def __init__(
        self,
        transport: BulkTransport,
        spec: ModuleStreamSpec,
        zone: tzinfo,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._transport = transport
        self._spec = spec
        self._zone = zone
        self._sleep = sleep
        self._clock = clock
        self._now = now
        self._what = f"module {spec.api_name}"
        self.fields = exported_fields(spec)

    def pages(self, position: BackfillPosition | None = None) -> Iterator[JobPage]:
        """Job pages from `position` (a new backfill when None) until the module is exported whole.

        Raises `BulkReadUnavailable` when Bulk Read cannot serve the module (missing scope, module
        or field not supported, job failed): read it over REST instead.
        """
        started = position.started if position else None
        page = position.page if position else 1
        token = position.page_token if position else None
        while True:
            job_id, created = self._create(page, token)
            if started is None:
                started = created or self._now() - CLOCK_MARGIN
            result = self._wait(job_id)
            more = bool(result.get("more_records"))
            next_token = result.get("next_page_token") if more else None
            after = (
                BackfillPosition(started, page + 1, str(next_token) if next_token else None) if more else None
            )
            count = int(result.get("count") or 0)
            download = str(result.get("download_url") or f"{BULK_PATH}/{job_id}/result")
            yield JobPage(page, count, started, after, self._records(download))
            if after is None:
                return
            page, token = after.page, after.page_token

    def _create(self, page: int, token: str | None) -> tuple[str, datetime | None]:
        query: dict[str, Any] = {"module": {"api_name": self._spec.api_name}, "fields": self.fields}
        query.update({"page_token": token} if token else {"page": page})
        try:
            body = self._transport.post_json(
                BULK_PATH,
                {"query": query, "file_type": "csv"},
                what=self._what,
                credits=CREDITS_BULK_READ_CREATE,
            )
        except ZohoApiError as error:
            if token:  # a stored page token may have expired: the page number names the same page
                logger.info(
                    "Zoho refused the Bulk Read page token of %s (%s); using page %d.",
                    self._what,
                    error.code,
                    page,
                )
                return self._create(page, None)
            if error.code in UNSUPPORTED_CODES:
                raise BulkReadUnavailable(
                    f"Bulk Read cannot export {self._what} ({error.code}); reading it page by page instead.",
                    code=error.code,
                ) from None
            raise
        details = _first(body).get("details") or {}
        job_id = details.get("id") if isinstance(details, Mapping) else None
        if not job_id:
            raise BulkReadUnavailable(
                f"Zoho created no Bulk Read job for {self._what}; reading it page by page."
            )
        return str(job_id), _instant(details.get("created_time"))

    def _wait(self, job_id: str) -> Mapping[str, Any]:
        """Poll the job with growing waits until COMPLETED; FAILURE means REST instead."""
        deadline = self._clock() + self.poll_timeout_seconds
        wait = self.poll_first_seconds
        while True:
            body = self._transport.get_json(
                f"{BULK_PATH}/{job_id}", what=self._what, credits=CREDITS_BULK_READ_STATUS
            )
            job = _first(body)
            state = str(job.get("state") or "").upper()
            if state == "COMPLETED":
                result = job.get("result")
                return result if isinstance(result, Mapping) else {}
            if state == "FAILURE":
                raise BulkReadUnavailable(
                    f"Zoho's Bulk Read job {job_id} for {self._what} failed; reading it page by page instead."
                )
            if self._clock() >= deadline:
                raise BulkReadUnavailable(
                    f"Zoho's Bulk Read job {job_id} for {self._what} was still {state or 'pending'} after "
                    f"{self.poll_timeout_seconds / 3600:.0f} h; reading the module page by page instead."
                )
            self._sleep(wait)  # ADDED, QUEUED, IN PROGRESS
            wait = min(wait * 1.5, self.poll_max_seconds)

    def _records(self, download_url: str) -> Iterator[dict[str, Any]]:
        """Spool the ZIP to a temporary file; stream its CSV row by row (never a page in memory)."""
        path = _relative(download_url, self._transport.api_url)
        with tempfile.TemporaryFile(prefix="zoho-bulk-") as spool:
            self._transport.download(path, spool, what=self._what, credits=CREDITS_BULK_READ_DOWNLOAD)
            with zipfile.ZipFile(spool) as archive:
                members = [m for m in archive.infolist() if m.filename.lower().endswith(".csv")]
                if len(members) != 1:
                    raise BulkReadUnavailable(
                        f"Zoho's Bulk Read result for {self._what} holds {len(members)} CSV files, not one; "
                        "reading the module page by page instead."
                    )
                with archive.open(members[0]) as raw:
                    rows = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
                    header = next(rows, None)
                    if header is None:
                        return
                    convert = RowConverter(header, self._spec.fields_metadata, self._zone)
                    for row in rows:
                        if row:
                            yield convert(row)


def exported_fields(spec: ModuleStreamSpec) -> list[str]:
    """The module's fields a Bulk Read job can export, in metadata order (`id` comes by default)."""
    types = {
        str(f.get("api_name")): str(f.get("data_type", "")).lower()
        for f in spec.fields_metadata
        if isinstance(f, Mapping)
    }
    return [name for name in spec.field_names if name != "id" and types.get(name) not in UNEXPORTED_TYPES]


def _first(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("data")
    first = data[0] if isinstance(data, list) and data else {}
    return first if isinstance(first, Mapping) else {}


def _instant(value: Any) -> datetime | None:
    try:
        return parse_zoho_datetime(str(value)) if value else None
    except ValueError:
        return None


def _relative(url: str, api_url: str) -> str:
    """Zoho gives `download_url` as a path (`/crm/bulk/v8/read/{id}/result`) or, some say, a full URL."""
    if url.startswith(api_url):
        return url[len(api_url) :]
    if "://" in url:
        return "/" + url.split("://", 1)[1].split("/", 1)[1]
    return url if url.startswith("/") else "/" + url
