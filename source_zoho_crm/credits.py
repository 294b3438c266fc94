"""Zoho API credits a sync spends, per stream, against `api_credit_budget` and the org's remaining credits.

Why a component: the CDK has no notion of a per-org, per-day API allowance; Zoho meters every call
in credits (rolling 24 h) and says how many are left only in the `X-API-CREDITS-REMAINING`
header, and only once half of the day's credits are used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from airbyte_cdk.models import FailureType

from source_zoho_crm.errors import ZohoError

REMAINING_HEADER = "X-API-CREDITS-REMAINING"
# Stop before the org's remaining credits fall below this, so the org's own integrations keep working.
DEFAULT_REMAINING_FLOOR = 1_000
UNATTRIBUTED = "(metadata)"
T = TypeVar("T")

# Credits per call. Zoho documents 1 credit per GET whatever `per_page` (Kaizen #60). The others are
# not documented for CRM [U]; the values are those of Zoho's published tables for its other
# products and are used only for accounting and the budget, never to decide what is correct.
CREDITS_GET = 1
CREDITS_BULK_READ_CREATE = 50
CREDITS_BULK_READ_STATUS = 1
CREDITS_BULK_READ_DOWNLOAD = 1


def coql_credits(limit: int) -> int:
    """COQL by LIMIT: 1 up to 200 rows, 2 up to 1,000, 3 up to 2,000 [U for CRM]."""
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3


class CreditBudgetReached(ZohoError):
    """Raised by the source once every stream stopped after its last checkpoint (never retried)."""

    # A config error: the platform does not retry it, so a retry cannot spend the budget again.
    failure_type = FailureType.config_error


class CreditMeter:
    """Thread-safe: credits spent per stream, the org's remaining credits, and when to stop.

    `charge()` is called once per Zoho call (by the API client and the Bulk Read transport); a
    stream's calls are attributed to it while its thread is inside `attributed_to(stream)`.
    """

    def __init__(self, budget: int | None = None, remaining_floor: int = DEFAULT_REMAINING_FLOOR) -> None:
        if budget is not None and budget <= 0:
            raise ValueError("api_credit_budget must be a positive number of credits")
        self.budget = budget
        self.remaining_floor = remaining_floor
        self._lock = threading.Lock()
        self._by_stream: dict[str, int] = {}
        self._calls: dict[str, int] = {}
        self._spent = 0
        self._remaining: int | None = None
        self._local = threading.local()

    @contextmanager
    def attributed_to(self, stream: str) -> Iterator[None]:
        """Charge this thread's calls to `stream` (a partition is read in one worker thread)."""
        previous = getattr(self._local, "stream", None)
        self._local.stream = stream
        try:
            yield
        finally:
            self._local.stream = previous

    def current_stream(self) -> str | None:
        """The stream this thread's calls are charged to (worker threads of a partition take it over)."""
        return getattr(self._local, "stream", None)

    def in_this_stream(self, call: Callable[[], T]) -> Callable[[], T]:
        """`call`, charged to this thread's stream wherever it runs (a worker thread of a partition)."""
        return self.charged_to(self.current_stream(), call)

    def charged_to(self, stream: str | None, call: Callable[[], T]) -> Callable[[], T]:
        """`call`, charged to `stream` wherever it runs."""
        if stream is None:
            return call

        def charged() -> T:
            with self.attributed_to(stream):
                return call()

        return charged

    def charge(
        self,
        credits: int = CREDITS_GET,
        *,
        stream: str | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """One call made: add its credits and read the remaining credits from its headers, if any."""
        name = stream or getattr(self._local, "stream", None) or UNATTRIBUTED
        remaining = _remaining_from(headers) if headers is not None else None
        with self._lock:
            self._spent += credits
            self._by_stream[name] = self._by_stream.get(name, 0) + credits
            self._calls[name] = self._calls.get(name, 0) + 1
            if remaining is not None:
                self._remaining = remaining

    @property
    def spent(self) -> int:
        with self._lock:
            return self._spent

    @property
    def remaining(self) -> int | None:
        """The org's remaining credits as Zoho last reported them (None until Zoho sends the header)."""
        with self._lock:
            return self._remaining

    def spent_by_stream(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_stream)

    def calls_by_stream(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def stop_reason(self) -> str | None:
        """Why the sync must stop now (budget or floor reached), or None to go on."""
        with self._lock:
            if self.budget is not None and self._spent >= self.budget:
                return f"the api_credit_budget of {self.budget:,} credits is reached"
            if self._remaining is not None and self._remaining <= self.remaining_floor:
                return (
                    f"Zoho reports {self._remaining:,} API credits left for the org, at or below the "
                    f"safety floor of {self.remaining_floor:,}"
                )
            return None

    def should_stop(self) -> bool:
        return self.stop_reason() is not None

    def stop_message(self) -> str:
        """What the user reads when the sync stopped early: what was spent and how to resume."""
        reason = self.stop_reason() or "the credit limit was reached"
        return (
            f"The sync stopped early because {reason}: it used {self.spent:,} API credits "
            f"({self._per_stream_text()}). Each stream stopped after its last checkpoint; incremental "
            "streams resume from there on the next sync, and streams that were not finished are read "
            "again. Run the next sync after Zoho's 24-hour credit window has refilled, or raise "
            "`api_credit_budget`."
        )

    def summary(self) -> str:
        """The end-of-sync line: credits spent in total and per stream."""
        remaining = self.remaining
        left = f"; Zoho reports {remaining:,} credits left for the org" if remaining is not None else ""
        return f"API credits used by this sync: {self.spent:,} ({self._per_stream_text()}){left}."

    def _per_stream_text(self) -> str:
        spent = sorted(self.spent_by_stream().items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{name} {credits:,}" for name, credits in spent) or "none"


def _remaining_from(headers: Mapping[str, Any]) -> int | None:
    value = headers.get(REMAINING_HEADER)
    if value is None:  # requests' headers are case-insensitive; plain dicts may not be
        value = next((v for k, v in headers.items() if str(k).lower() == REMAINING_HEADER.lower()), None)
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None
