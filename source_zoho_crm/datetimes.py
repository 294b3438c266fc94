"""Zoho CRM datetime handling.

Zoho writes record datetimes as ISO 8601 in the org's time zone offset
(``2025-03-04T17:29:00+05:30``). Everything here converts to aware UTC datetimes.
``parse_zoho_datetime`` runs once per record: it is a strict shape check (a precompiled
regex) followed by the C ``datetime.fromisoformat``, with no pendulum.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = [
    "START_DATETIME_FORMS",
    "if_modified_since_header",
    "parse_start_datetime",
    "parse_zoho_datetime",
    "to_utc_iso",
]

UTC = timezone.utc

# Shape of a Zoho record datetime. `datetime.fromisoformat` alone is far too lenient on
# Python 3.11+ (it takes basic format, week dates, any separator, "00.Z", hour-only
# offsets...), so the regex decides what is accepted and fromisoformat does the parsing,
# on the canonical form Python 3.10 also reads (6 fraction digits, "+HH:MM").
_ZOHO_DATETIME = re.compile(
    r"(?P<base>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?"
    r"(?P<tz>Z|[+-][0-9]{2}:?[0-5][0-9])"
)
_fromisoformat = datetime.fromisoformat
_isoformat = datetime.isoformat
_zoho_fullmatch = _ZOHO_DATETIME.fullmatch

_START_DATETIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<tz>[Zz]|(?P<sign>[+-])(?P<tz_hour>[0-9]{2}):?(?P<tz_minute>[0-9]{2}))?)?"
)

START_DATETIME_FORMS = (
    "YYYY-MM-DD, YYYY-MM-DD HH:MM, YYYY-MM-DD HH:MM:SS (or with 'T' instead of the space), "
    "optionally with fractional seconds and a 'Z' or '+HH:MM' / '+HHMM' offset, "
    "e.g. 2025-03-04, 2025-03-04 17:29, 2025-03-04T17:29:00Z, 2025-03-04T17:29:00.123+05:30; "
    "a value without an offset is taken as UTC"
)

_MAX_SHOWN = 80


def _show(value: object) -> str:
    """repr() of an offending value, shortened so errors stay readable."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def parse_zoho_datetime(value: str) -> datetime:
    """Parse a Zoho record datetime (``2025-03-04T17:29:00+05:30``) into an aware UTC datetime.

    Accepts ``Z``, ``+HH:MM`` or ``+HHMM`` offsets and up to 6 fractional digits.
    Raises ``ValueError`` naming the value for anything else, naive values included.
    """
    try:
        # Fast path for Zoho's own shape, 2025-03-04T17:29:00+05:30: fromisoformat checks the
        # digits, the separators are checked here. Anything else goes through the regex.
        if (
            len(value) == 25
            and value[22] == ":"
            and value[23] < "6"  # fromisoformat takes offset minutes of 60-99
            and value[10] == "T"
            and value[19] in "+-"
            and value[4] == "-"
            and value[7] == "-"
            and value[13] == ":"
            and value[16] == ":"
        ):
            return _fromisoformat(value).astimezone(UTC)
        match = _zoho_fullmatch(value)
        if match is not None:
            base, fraction, tz = match.group("base", "fraction", "tz")
            if tz == "Z":
                tz = "+00:00"
            elif len(tz) == 5:
                tz = f"{tz[:3]}:{tz[3:]}"
            text = f"{base}.{fraction.ljust(6, '0')}{tz}" if fraction else base + tz
            return _fromisoformat(text).astimezone(UTC)
    except (ValueError, TypeError, OverflowError):
        pass
    raise ValueError(
        f"Invalid Zoho datetime {_show(value)}: expected ISO 8601 with an offset, "
        "like 2025-03-04T17:29:00+05:30"
    )


def _to_utc(dt: datetime) -> datetime:
    """An aware datetime converted to UTC; ValueError if naive or out of range."""
    if dt.utcoffset() is None:
        raise ValueError(f"Expected an aware datetime, got a naive one: {dt.isoformat()}")
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"Datetime out of range in UTC: {dt.isoformat()}") from None


def _utc_seconds(dt: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of an aware datetime in UTC, sub-seconds floored."""
    if not isinstance(dt, datetime):
        raise ValueError(f"Expected an aware datetime, got {_show(dt)}")
    if dt.tzinfo is not UTC:
        dt = _to_utc(dt)
    # Unbound call: subclasses (e.g. pendulum's) may override isoformat. Years are always 4 digits.
    return _isoformat(dt, "T", "seconds")[:19]


def to_utc_iso(dt: datetime) -> str:
    """Format an aware datetime as UTC ``2025-03-04T11:59:00Z``, flooring to whole seconds."""
    return _utc_seconds(dt) + "Z"


def if_modified_since_header(dt: datetime) -> str:
    """Value of Zoho's ``If-Modified-Since`` header: ``2025-03-04T11:59:00+00:00`` (UTC, floored)."""
    return _utc_seconds(dt) + "+00:00"


def parse_start_datetime(value: str) -> datetime:
    """Parse the user's ``start_datetime`` setting into an aware UTC datetime.

    See ``START_DATETIME_FORMS``; no offset means UTC, fractional digits past 6 are dropped.
    Raises ``ValueError`` listing the accepted forms.
    """
    match = _START_DATETIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is not None:
        g = match.groupdict()
        fraction = g["fraction"] or ""
        try:
            tz = UTC
            if g["sign"]:
                tz_hour, tz_minute = int(g["tz_hour"]), int(g["tz_minute"])
                if tz_minute >= 60:
                    raise ValueError("offset minutes out of range")
                offset = timedelta(hours=tz_hour, minutes=tz_minute)
                tz = timezone(-offset if g["sign"] == "-" else offset)
            parsed = datetime(
                int(g["year"]),
                int(g["month"]),
                int(g["day"]),
                int(g["hour"] or 0),
                int(g["minute"] or 0),
                int(g["second"] or 0),
                int(fraction[:6].ljust(6, "0")),
                tzinfo=tz,
            )
            return parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise ValueError(f"Invalid start datetime {_show(value)}: accepted forms are {START_DATETIME_FORMS}")
