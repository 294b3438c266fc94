"""Progress of a module read: Zoho's record count, Airbyte ESTIMATE messages, an INFO line every few pages.

Why a component: the CDK emits no estimates for a hand-built stream, and the record count comes
from Zoho's own count API, which needs scopes of its own (without them: no estimate, no failure).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    EstimateType,
    TraceType,
    Type,
)

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoInvalidModuleError

logger = logging.getLogger("airbyte")

# An INFO line after this many pages (200 records each over REST): every 5,000 records.
PAGES_PER_PROGRESS_LINE = 25


def record_count(client: ZohoApiClient, module: str, params: Mapping[str, str] | None = None) -> int | None:
    """`GET /crm/v8/{module}/actions/count`, or None when the token may not call it or Zoho refuses.

    `params`: the module's own request parameters (Leads: `converted=both`, as its records are read).

    The count API needs `ZohoSearch.securesearch.READ` and `ZohoCRM.settings.layouts.READ` besides
    the module's scope; a connector must work without them.
    """
    try:
        response = client.get(
            f"/crm/v8/{module}/actions/count", params, what=f"the record count of module {module}"
        )
    except (ZohoAccessError, ZohoInvalidModuleError) as denied:
        logger.info("No record count for module %s (%s): no progress estimate.", module, denied.code)
        return None
    except ZohoApiError as refused:
        if refused.status is not None and 400 <= refused.status < 500:
            logger.info("No record count for module %s (%s): no progress estimate.", module, refused.code)
            return None
        raise
    count = (response.body or {}).get("count") if response.status == 200 else 0
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def estimate_message(stream: str, records: int, namespace: str | None = None) -> AirbyteMessage:
    """An Airbyte ESTIMATE trace message for one stream, so the platform can show progress."""
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ESTIMATE,
            emitted_at=time.time() * 1000,
            estimate=AirbyteEstimateTraceMessage(
                name=stream, type=EstimateType.STREAM, namespace=namespace, row_estimate=records
            ),
        ),
    )


class Progress:
    """Counts a stream's records and pages; `page_done` returns an INFO line every few pages."""

    def __init__(
        self,
        stream: str,
        expected: int | None,
        meter: CreditMeter | None = None,
        every_pages: int = PAGES_PER_PROGRESS_LINE,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.stream = stream
        self.expected = expected
        self._meter = meter
        self._every = max(1, every_pages)
        self._log = log or logger.info
        self._lock = threading.Lock()
        self.records = 0
        self.pages = 0

    def page_done(self, records: int, pages: int = 1) -> str | None:
        """Count a page (a Bulk Read job page as `pages` REST pages); log and return the line when due."""
        with self._lock:
            before = self.pages // self._every
            self.records += records
            self.pages += pages
            due = self.pages // self._every > before
        if not due:
            return None
        line = self.line()
        self._log(line)
        return line

    def line(self) -> str:
        if self.expected:
            share = min(100.0, 100.0 * self.records / self.expected)
            read = f"{self.records:,} of about {self.expected:,} records ({share:.0f} %)"
        else:
            read = f"{self.records:,} records"
        credits = ""
        if self._meter is not None:
            spent = self._meter.spent_by_stream().get(self.stream, 0)
            credits = f"; {spent:,} API credits so far ({self._meter.spent:,} for the whole sync)"
        return f"Stream {self.stream}: {read} read{credits}."
