"""Instants are kept as integer epoch seconds and shown as ISO 8601 in the org's offset."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")

OFFSET_ZONES = {
    "+05:30": "Asia/Kolkata",
    "+00:00": "Etc/UTC",
    "-08:00": "America/Los_Angeles",
    "-05:00": "America/New_York",
    "+01:00": "Europe/Berlin",
    "+09:00": "Asia/Tokyo",
    "+10:00": "Australia/Sydney",
}


def parse_offset(text: str) -> timezone:
    match = _OFFSET.match(text.strip())
    if not match:
        raise ValueError(f"bad UTC offset {text!r}; expected like +05:30")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def zone_name(offset: str) -> str:
    return OFFSET_ZONES.get(offset, "Etc/UTC")


class OrgClock:
    """Formats instants in the org's fixed offset. `skew` gives Zoho's clock minus this machine's, in seconds
    (the `clock_offset_seconds` setting): "now" and the HTTP `Date` header follow Zoho's clock."""

    def __init__(self, offset: str, skew: Callable[[], float] = lambda: 0.0):
        self.tz = parse_offset(offset)
        self.offset = offset
        self.skew = skew

    def iso(self, ts: int | float | None) -> str | None:
        if ts is None:
            return None
        return datetime.fromtimestamp(int(ts), self.tz).isoformat()

    def date(self, ts: int | float) -> str:
        return datetime.fromtimestamp(int(ts), self.tz).date().isoformat()

    def now(self) -> int:
        return int(self.now_float())

    def now_float(self) -> float:
        return time.time() + self.skew()

    def parse(self, text: str) -> int:
        """ISO 8601 (offset, `Z`, or naive = org offset) or an RFC 1123 HTTP date -> epoch seconds."""
        return int(parse_instant(text, self.tz))


def parse_instant(text: str, default_tz: timezone = timezone.utc) -> float:
    value = text.strip()
    if not value:
        raise ValueError("empty date-time")
    try:
        if len(value) == 10 and value[4] == "-":
            d = date.fromisoformat(value)
            parsed = datetime(d.year, d.month, d.day)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a date-time: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.timestamp()
