"""API credits (https://www.zoho.com/crm/developer/docs/api/v8/api-limits.html): every API call costs credits
(a records page 1, whatever `per_page`: Kaizen #60), counted over a rolling 24 hours against the edition's
allowance; from half of it used, responses carry `X-API-CREDITS-REMAINING`; once spent, 429."""

from __future__ import annotations

import threading
import time
from collections import deque

from .protocol import ApiError, Response
from .settings import EmulatorSettings

WINDOW = 86400.0
# Edition -> (base, per user licence, maximum or None); the api-limits page's table.
ALLOWANCE: dict[str, tuple[int, int, int | None]] = {
    "Free": (5000, 0, 5000),
    "Standard": (50_000, 250, 100_000),
    "Professional": (50_000, 500, 3_000_000),
    "Enterprise": (50_000, 1000, 5_000_000),
    "ZohoOne": (50_000, 1000, 5_000_000),
    "Ultimate": (50_000, 2000, None),
}


def allowance(edition: str, users: int) -> int:
    base, per_user, cap = ALLOWANCE[edition]
    total = base + per_user * users
    return total if cap is None else min(total, cap)


class Credits:
    def __init__(self, settings: EmulatorSettings, users: int):
        self.settings = settings
        self.users = users
        self.lock = threading.Lock()
        self.spent: deque[tuple[float, int]] = deque()
        self.used = 0

    @property
    def limit(self) -> int:
        chosen = self.settings.api_credits
        return chosen if chosen is not None else allowance(self.settings.edition, self.users)

    def charge(self, cost: int = 1) -> int | None:
        """Spend `cost` credits; the remaining count when half or more is used (else None); 429 when none
        are left."""
        now = time.time()
        limit = self.limit
        with self.lock:
            while self.spent and self.spent[0][0] <= now - WINDOW:
                self.used -= self.spent.popleft()[1]
            if self.used + cost > limit:
                raise ApiError(
                    429,
                    "TOO_MANY_REQUESTS",
                    "You have exceeded the API limit. Please try again later.",
                    {"limit": limit},
                )
            self.spent.append((now, cost))
            self.used += cost
            return limit - self.used if self.used * 2 >= limit else None

    def stamp(self, response: Response, remaining: int | None) -> None:
        if remaining is not None:
            response.headers["X-API-CREDITS-REMAINING"] = str(remaining)
