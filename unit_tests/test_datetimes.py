"""Tests for source_zoho_crm.datetimes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from source_zoho_crm.datetimes import (
    if_modified_since_header,
    parse_start_datetime,
    parse_zoho_datetime,
    to_utc_iso,
)

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))

# --- parse_zoho_datetime --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-03-04T17:29:00+05:30", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T17:29:00+0530", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T11:59:00Z", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T11:59:00+00:00", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T11:59:00-00:00", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T06:59:00-05:00", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04T17:29:00.5+05:30", datetime(2025, 3, 4, 11, 59, 0, 500000, tzinfo=UTC)),
        ("2025-03-04T11:59:00.123456Z", datetime(2025, 3, 4, 11, 59, 0, 123456, tzinfo=UTC)),
        ("2025-03-05T01:44:00+13:45", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-01-01T02:00:00+05:30", datetime(2024, 12, 31, 20, 30, tzinfo=UTC)),
    ],
)
def test_parse_zoho_datetime_converts_to_utc(value: str, expected: datetime) -> None:
    parsed = parse_zoho_datetime(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2025-03-04",  # date only
        "2025-03-04T17:29:00",  # naive
        "2025-03-04T17:29+05:30",  # no seconds
        "2025-03-04 17:29:00+05:30",  # space separator
        "2025-03-04X17:29:00+05:30",  # fromisoformat takes any separator
        "20250304T172900Z",  # basic format
        "2025-W10-2T17:29:00Z",  # week date
        "2025-03-04T17:29:00.Z",  # empty fraction
        "2025-03-04T17:29:00.1234567Z",  # more than microseconds
        "2025-03-04T17:29:00+05",  # hour-only offset
        "2025-03-04T17:29:00+05:30:15",  # offset with seconds
        "2025-03-04T17:29:00z",
        "2025-03-04T17:29:00+05:3",
        " 2025-03-04T17:29:00+05:30",
        "2025-03-04T17:29:00+05:30 ",
        "2025-13-04T17:29:00+05:30",  # month out of range
        "2025-02-30T17:29:00+05:30",
        "2025-03-04T24:00:00+05:30",
        "2025-03-04T17:60:00+05:30",
        "2025-03-04T17:29:00+24:00",
        "2025-03-04T17:29:00+05:60",
        "２０２５-03-04T17:29:00+05:30",  # non-ASCII digits
        "9999-12-31T23:59:59-14:00",  # overflows in UTC
        "0001-01-01T00:00:00+14:00",
        "null",
    ],
)
def test_parse_zoho_datetime_rejects_with_value_in_message(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_zoho_datetime(value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [None, 1741089540, b"2025-03-04T17:29:00+05:30", datetime.now(UTC)])
def test_parse_zoho_datetime_non_string_raises_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        parse_zoho_datetime(value)  # type: ignore[arg-type]


def test_parse_zoho_datetime_error_shortens_long_values() -> None:
    with pytest.raises(ValueError) as info:
        parse_zoho_datetime("x" * 10_000)
    assert len(str(info.value)) < 300


# --- to_utc_iso / if_modified_since_header --------------------------------------------------------


@pytest.mark.parametrize(
    "dt, expected",
    [
        (datetime(2025, 3, 4, 17, 29, tzinfo=IST), "2025-03-04T11:59:00Z"),
        (datetime(2025, 3, 4, 11, 59, tzinfo=UTC), "2025-03-04T11:59:00Z"),
        (datetime(2025, 3, 4, 11, 59, 59, 999999, tzinfo=UTC), "2025-03-04T11:59:59Z"),  # floored
        (datetime(2025, 3, 4, 11, 59, 0, 1, tzinfo=UTC), "2025-03-04T11:59:00Z"),
        (datetime(2024, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5))), "2025-01-01T01:00:00Z"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),
    ],
)
def test_to_utc_iso(dt: datetime, expected: str) -> None:
    assert to_utc_iso(dt) == expected


@pytest.mark.parametrize(
    "dt, expected",
    [
        (datetime(2025, 3, 4, 17, 29, 0, 750000, tzinfo=IST), "2025-03-04T11:59:00+00:00"),
        (datetime(2025, 3, 4, 11, 59, tzinfo=UTC), "2025-03-04T11:59:00+00:00"),
    ],
)
def test_if_modified_since_header(dt: datetime, expected: str) -> None:
    assert if_modified_since_header(dt) == expected


class _CustomIso(datetime):
    """A datetime subclass with its own isoformat, as pendulum's or arrow's are."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "not the ISO format"


def test_formatters_accept_datetime_subclasses() -> None:
    dt = _CustomIso(2025, 3, 4, 17, 29, 0, 123, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert to_utc_iso(dt) == "2025-03-04T11:59:00Z"
    assert if_modified_since_header(dt) == "2025-03-04T11:59:00+00:00"


@pytest.mark.parametrize("formatter", [to_utc_iso, if_modified_since_header])
@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 3, 4, 11, 59),  # naive
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14))),  # overflows
        "2025-03-04T11:59:00Z",
        None,
    ],
)
def test_formatters_reject_naive_and_non_datetimes(formatter, value) -> None:
    with pytest.raises(ValueError):
        formatter(value)


# --- parse_start_datetime -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-03-04", datetime(2025, 3, 4, tzinfo=UTC)),
        ("2025-03-04 17:29", datetime(2025, 3, 4, 17, 29, tzinfo=UTC)),
        ("2025-03-04 17:29:05", datetime(2025, 3, 4, 17, 29, 5, tzinfo=UTC)),
        ("2025-03-04T17:29", datetime(2025, 3, 4, 17, 29, tzinfo=UTC)),
        ("2025-03-04T17:29:05", datetime(2025, 3, 4, 17, 29, 5, tzinfo=UTC)),
        ("2025-03-04T17:29:05Z", datetime(2025, 3, 4, 17, 29, 5, tzinfo=UTC)),
        ("2025-03-04T17:29:05+05:30", datetime(2025, 3, 4, 11, 59, 5, tzinfo=UTC)),
        ("2025-03-04T17:29:05+0530", datetime(2025, 3, 4, 11, 59, 5, tzinfo=UTC)),
        ("2025-03-04T06:59:05-05:00", datetime(2025, 3, 4, 11, 59, 5, tzinfo=UTC)),
        ("2025-03-04T17:29+05:30", datetime(2025, 3, 4, 11, 59, tzinfo=UTC)),
        ("2025-03-04 17:29:05+05:30", datetime(2025, 3, 4, 11, 59, 5, tzinfo=UTC)),
        ("2025-03-04T17:29:05.25Z", datetime(2025, 3, 4, 17, 29, 5, 250000, tzinfo=UTC)),
        ("2025-03-04T17:29:05.123456789Z", datetime(2025, 3, 4, 17, 29, 5, 123456, tzinfo=UTC)),
        ("2025-03-04T17:29:05.000+00:00", datetime(2025, 3, 4, 17, 29, 5, tzinfo=UTC)),
        ("  2025-03-04\n", datetime(2025, 3, 4, tzinfo=UTC)),
        ("2025-03-04t17:29:05z", datetime(2025, 3, 4, 17, 29, 5, tzinfo=UTC)),
    ],
)
def test_parse_start_datetime_accepted_forms(value: str, expected: datetime) -> None:
    parsed = parse_start_datetime(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "03/04/2025",
        "2025-3-4",
        "2025-03-04T17",
        "2025-03-04T17:29:05.",
        "2025-03-04 Z",
        "2025-03-04Z",
        "2025-13-04",
        "2025-02-29",
        "2025-03-04T24:00",
        "2025-03-04T17:29:60",
        "2025-03-04T17:29+05:60",
        "2025-03-04T17:29+24:00",
        "2025-03-04T17:29+05",
        "0001-01-01T00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:59-01:00",
        "1741089540",
    ],
)
def test_parse_start_datetime_rejects_with_accepted_forms(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_start_datetime(value)
    message = str(info.value)
    assert repr(value) in message
    for form in ("YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS", "+HH:MM", "UTC"):
        assert form in message


def test_parse_start_datetime_non_string_raises_value_error() -> None:
    with pytest.raises(ValueError):
        parse_start_datetime(20250304)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------------

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
SAFE_MIN = datetime(2, 1, 1)
SAFE_MAX = datetime(9998, 12, 31)
aware_seconds = st.datetimes(min_value=SAFE_MIN, max_value=SAFE_MAX, timezones=offsets).map(
    lambda dt: dt.replace(microsecond=0)
)
ZOHO_UTC_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


@given(aware_seconds)
@example(datetime(2025, 3, 4, 17, 29, tzinfo=IST))
@example(datetime(2025, 3, 4, 0, 0, tzinfo=timezone(timedelta(hours=14))))
@example(datetime(2025, 3, 4, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))))
def test_property_zoho_format_round_trips(dt: datetime) -> None:
    text = dt.isoformat()  # how Zoho writes it: 2025-03-04T17:29:00+05:30
    parsed = parse_zoho_datetime(text)
    assert parsed == dt
    assert parsed.tzinfo is UTC
    # The same instant in the other spellings Zoho-like sources use.
    assert parse_zoho_datetime(text[:-3] + text[-2:]) == dt  # +0530
    assert parse_zoho_datetime(to_utc_iso(dt)) == dt  # Z


@given(st.datetimes(min_value=SAFE_MIN, max_value=SAFE_MAX, timezones=offsets))
def test_property_fractional_seconds_round_trip(dt: datetime) -> None:
    assert parse_zoho_datetime(dt.isoformat()) == dt


@given(st.datetimes(min_value=SAFE_MIN, max_value=SAFE_MAX, timezones=offsets))
def test_property_to_utc_iso_of_parse_is_idempotent(dt: datetime) -> None:
    once = to_utc_iso(parse_zoho_datetime(dt.isoformat()))
    assert ZOHO_UTC_ISO.fullmatch(once)
    assert to_utc_iso(parse_zoho_datetime(once)) == once
    # Whole seconds, floored: never later than the instant, less than a second before it.
    assert timedelta(0) <= dt - parse_zoho_datetime(once) < timedelta(seconds=1)
    assert if_modified_since_header(dt) == once[:-1] + "+00:00"


def _offset_text(tz: timezone, colon: bool) -> str:
    minutes = int(tz.utcoffset(None).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


@st.composite
def start_datetime_texts(draw: st.DrawFn) -> tuple[str, datetime]:
    """A start_datetime string in any accepted form, and the instant it means."""
    local = draw(st.datetimes(min_value=SAFE_MIN, max_value=SAFE_MAX))
    precision = draw(st.sampled_from(["date", "minute", "second", "fraction"]))
    sep = draw(st.sampled_from(["T", " "]))
    text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    if precision == "date":
        return text, local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
    text += f"{sep}{local.hour:02d}:{local.minute:02d}"
    if precision == "minute":
        local = local.replace(second=0, microsecond=0)
    else:
        text += f":{local.second:02d}"
        if precision == "second":
            local = local.replace(microsecond=0)
        else:
            digits = draw(st.integers(min_value=1, max_value=9))
            fraction = f"{local.microsecond:06d}"[:digits].ljust(digits, draw(st.sampled_from("05")))
            text += "." + fraction
            local = local.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    zone = draw(st.sampled_from(["none", "Z", "colon", "plain"]))
    if zone == "none":
        return text, local.replace(tzinfo=UTC)
    if zone == "Z":
        return text + "Z", local.replace(tzinfo=UTC)
    tz = draw(offsets)
    return text + _offset_text(tz, colon=zone == "colon"), local.replace(tzinfo=tz)


@given(start_datetime_texts())
@example(("2025-03-04", datetime(2025, 3, 4, tzinfo=UTC)))
def test_property_parse_start_datetime_every_form(case: tuple[str, datetime]) -> None:
    text, expected = case
    parsed = parse_start_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


near_datetimes = st.from_regex(
    r"\A[0-9]{1,5}[-/][0-9]{1,3}[-/][0-9]{1,3}([Tt ][0-9]{1,3}(:[0-9]{1,3}){0,3}"
    r"(\.[0-9]{0,10})?([Zz]|[+-][0-9]{1,3}(:?[0-9]{1,3}){0,2})?)?\Z"
)


@given(st.one_of(st.text(), near_datetimes))
@example("2025-03-04T17:29:00.Z")
@example("9999-12-31T23:59:59-14:00")
@example("0001-01-01T00:00+23:59")
@example("2025-03-04T17:29+99:99")
def test_property_arbitrary_text_raises_only_value_error(text: str) -> None:
    for parse in (parse_zoho_datetime, parse_start_datetime):
        try:
            result = parse(text)
        except ValueError:
            continue
        assert result.tzinfo is UTC
