"""What a module stream needs besides its reader: the sync's credit meter, and Bulk Read backfills.

Why a component: the CDK has no asynchronous-job backfill that hands over to an incremental REST
read, nor a per-sync credit budget; this runs one module's Bulk Read job pages inside its partition
and checkpoints the backfill's position in the stream state after each of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from airbyte_cdk.sources.types import Record

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.api_client_bulk import BulkReadUnavailable, BulkTransport
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.bulk_csv import org_zone
from source_zoho_crm.bulk_read import STATE_KEY, BackfillPosition, BulkReader
from source_zoho_crm.coql_users import UserDirectory
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.cursor import ModuleCursor
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.progress import Progress, record_count
from source_zoho_crm.settings import MODULE_REQUEST_PARAMS, PAGE_SIZE


@dataclass
class SyncTools:
    """Shared by every module stream of one sync: the client, the meter, and Bulk Read made on first use."""

    client: ZohoApiClient
    meter: CreditMeter
    bulk_read_threshold: int = 0
    tokens: ZohoTokenProvider | None = None
    org: Callable[[], Mapping[str, Any]] = dict
    # A module's field metadata (the sync's cached metadata): COQL finds lookup targets' display fields.
    fields: Callable[[str], Sequence[Mapping[str, Any]]] | None = None
    modules: Callable[[], Sequence[Mapping[str, Any]]] | None = None  # /settings/modules (module kinds)
    user_directory: UserDirectory = field(default_factory=UserDirectory)  # COQL's user lookups
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _transport: BulkTransport | None = field(default=None, repr=False)
    _zone: tzinfo | None = field(default=None, repr=False)

    _counts: dict[str, Future[int | None]] = field(default_factory=dict, repr=False)

    def prefetch_counts(self, streams: Mapping[str, str]) -> None:
        """Ask Zoho's record count of each module (API name -> stream name) now, beside the field metadata,
        for streams that will ask it before their first page (read from the beginning)."""
        if not streams:
            return
        pool = ThreadPoolExecutor(max_workers=min(len(streams), self.client.max_concurrent))
        for module, stream in streams.items():
            self._counts[module] = pool.submit(self.meter.charged_to(stream, partial(self._count, module)))
        pool.shutdown(wait=False)

    def record_count(self, module: str) -> int | None:
        """Zoho's count of `module` (the one asked ahead, else asked now); None without the scopes."""
        with self._lock:
            ahead = self._counts.pop(module, None)
        return ahead.result() if ahead is not None else self._count(module)

    def _count(self, module: str) -> int | None:
        return record_count(self.client, module, MODULE_REQUEST_PARAMS.get(module))

    @property
    def bulk_enabled(self) -> bool:
        return self.bulk_read_threshold > 0 and self.tokens is not None

    def complex_transport(self) -> BulkTransport:
        """The transport of Zoho's "complex" APIs (Bulk Read and COQL, 10 at once), one per sync."""
        with self._lock:
            if self._transport is None:
                assert self.tokens is not None
                self._transport = BulkTransport(self.client, self.tokens, self.meter)
            return self._transport

    def bulk_reader(self, spec: ModuleStreamSpec) -> BulkReader:
        """A Bulk Read reader for `spec`; the transport (its download window) is one per sync."""
        with self._lock:
            if self._transport is None:
                assert self.tokens is not None
                self._transport = BulkTransport(self.client, self.tokens, self.meter)
                self._zone = org_zone(self.org())
            transport, zone = self._transport, self._zone
        assert zone is not None
        return BulkReader(transport, spec, zone, sleep=self.sleep)


@dataclass(frozen=True)
class Backfilled:
    """How a backfill ended: `started` (Zoho's instant it began) when the module was exported whole;
    `stopped` when the credit budget ended it after a checkpoint; neither when Bulk Read was refused."""

    started: datetime | None = None
    stopped: bool = False


def run_backfill(
    tools: SyncTools,
    spec: ModuleStreamSpec,
    position: BackfillPosition | None,
    cursor: ModuleCursor | None,
    progress: Progress,
    warn: Callable[[str], None],
    start_clock: Callable[[datetime], None],
) -> Generator[Record, None, Backfilled]:
    """Records of every job page from `position`; after each page the next position is checkpointed
    (incremental only), after the last one the cursor moves to the backfill's start instant."""
    name = spec.stream_name
    try:
        for job in tools.bulk_reader(spec).pages(position):
            count = 0
            for record in job.records:
                count += 1
                yield Record(data=record, stream_name=name)
            progress.page_done(count, pages=max(1, -(-count // PAGE_SIZE)))
            if cursor is not None:
                start_clock(job.started)
                if job.resume_at is not None:
                    cursor.set_extra_state(STATE_KEY, job.resume_at.to_state(), checkpoint=True)
                else:
                    cursor.drop_extra_state(STATE_KEY)
                    cursor.advance(job.started, checkpoint=True)
            if job.resume_at is None:
                return Backfilled(started=job.started)
            if tools.meter.should_stop():
                return Backfilled(stopped=True)
    except BulkReadUnavailable as refused:
        warn(f"Stream {name}: {refused.message}")
        if cursor is not None:
            cursor.drop_extra_state(STATE_KEY)
    return Backfilled()
