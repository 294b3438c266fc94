"""ModuleCursor and the state it emits: page by page in cursor order, only at the end otherwise,
never backwards, never in the future, other cursors kept alongside; and state read back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airbyte_cdk.models import Type
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository

from source_zoho_crm.cursor import FUTURE_MARGIN, ModuleCursor, cursor_from_state, not_in_future
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.errors import ZohoStateError

T0 = datetime(2025, 3, 4, 11, 59, tzinfo=timezone.utc)
IST = timezone(timedelta(hours=5, minutes=30))


def make(
    start: datetime | None = None, every_page: bool = True, extra: dict[str, Any] | None = None
) -> tuple[ModuleCursor, InMemoryMessageRepository]:
    repository = InMemoryMessageRepository()
    cursor = ModuleCursor(
        "leads", "Modified_Time", start, every_page, ConnectorStateManager(), repository, extra
    )
    return cursor, repository


def states(repository: InMemoryMessageRepository) -> list[dict[str, Any]]:
    return [
        dict(message.state.stream.stream_state.__dict__)
        for message in repository.consume_queue()
        if message.type == Type.STATE
    ]


def test_each_page_in_cursor_order_is_checkpointed_in_utc(caplog: pytest.LogCaptureFixture) -> None:
    cursor, repository = make(start=T0)
    assert cursor.start == T0
    cursor.advance(T0.astimezone(IST) + timedelta(seconds=5, microseconds=700))
    cursor.advance(T0 + timedelta(seconds=3))  # older: the cursor never goes back
    cursor.advance(None)
    assert states(repository) == [{"Modified_Time": "2025-03-04T11:59:05Z"}]  # unchanged states not re-sent
    assert cursor.state == {"Modified_Time": "2025-03-04T11:59:05Z"}
    assert not caplog.records


def test_pages_out_of_cursor_order_are_stored_only_when_the_stream_ends() -> None:
    """An unsortable cursor (or id order): the state must still advance, but only at the end."""
    cursor, repository = make(start=T0, every_page=False)
    cursor.advance(T0 + timedelta(hours=2))
    cursor.advance(T0 + timedelta(hours=1))
    assert states(repository) == []
    assert cursor.state == {"Modified_Time": "2025-03-04T13:59:00Z"}
    cursor.close_partition(None)  # type: ignore[arg-type]
    assert states(repository) == [{"Modified_Time": "2025-03-04T13:59:00Z"}]


def test_a_page_may_override_the_streams_default() -> None:
    cursor, repository = make(start=T0, every_page=True)
    cursor.advance(T0 + timedelta(hours=1), checkpoint=False)
    assert states(repository) == []
    cursor.advance(None, checkpoint=True)
    assert states(repository) == [{"Modified_Time": "2025-03-04T12:59:00Z"}]
    late, late_repository = make(start=T0, every_page=False)
    late.advance(T0 + timedelta(hours=1), checkpoint=True)
    assert states(late_repository) == [{"Modified_Time": "2025-03-04T12:59:00Z"}]


def test_extra_state_is_kept_and_checkpointed_with_the_last_safe_cursor() -> None:
    cursor, repository = make(start=T0, every_page=False, extra={"deleted": "a"})
    cursor.advance(T0 + timedelta(hours=1))  # not safe yet
    cursor.set_extra_state("deleted", "b")
    assert states(repository) == []
    cursor.set_extra_state("deleted", "c", checkpoint=True)
    assert states(repository) == [{"deleted": "c", "Modified_Time": "2025-03-04T11:59:00Z"}]
    assert cursor.state == {"deleted": "c", "Modified_Time": "2025-03-04T12:59:00Z"}


def test_a_stream_that_read_nothing_still_emits_its_state_once() -> None:
    cursor, repository = make(start=None)
    cursor.ensure_at_least_one_state_emitted()
    assert states(repository) == [{}]
    cursor.ensure_at_least_one_state_emitted()
    assert states(repository) == []
    emitted, emitted_repository = make(start=T0)
    emitted.advance(T0 + timedelta(seconds=1))
    emitted.ensure_at_least_one_state_emitted()
    assert len(states(emitted_repository)) == 1


def test_the_cursor_never_holds_a_future_instant(caplog: pytest.LogCaptureFixture) -> None:
    future = datetime.now(timezone.utc) + timedelta(days=3)
    cursor, repository = make(start=T0)
    before = datetime.now(timezone.utc)
    cursor.advance(future)
    [state] = states(repository)
    saved = datetime.fromisoformat(state["Modified_Time"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= saved <= datetime.now(timezone.utc)
    [warning] = [record.getMessage() for record in caplog.records]
    assert re.fullmatch(future_warning("a record's cursor value", future), warning)


def future_warning(what: str, value: datetime) -> str:
    return (
        rf"Stream 'leads': {re.escape(what)} {to_utc_iso(value)} is in the future; using now "
        r"\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) instead, so this and later syncs read the changes from now "
        r"on\. Check the clock or the value, or reset the stream to read everything\."
    )


def test_a_future_start_or_stored_cursor_is_named_in_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    future = datetime.now(timezone.utc) + timedelta(days=3)
    cursor, _ = make(start=future)
    assert cursor.state["Modified_Time"] <= to_utc_iso(datetime.now(timezone.utc))
    cursor_from_state("leads", "Modified_Time", {"Modified_Time": to_utc_iso(future)})
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert re.fullmatch(future_warning("the start", future), messages[0])
    assert re.fullmatch(future_warning("the state's Modified_Time", future), messages[1])


def test_a_little_clock_skew_is_not_the_future() -> None:
    near = datetime.now(timezone.utc) + FUTURE_MARGIN - timedelta(seconds=5)
    assert not_in_future("leads", "x", near) == near
    assert not_in_future("leads", "x", None) is None


@pytest.mark.parametrize("state", [None, {}, {"Modified_Time": None}, {"Modified_Time": ""}, {"other": "x"}])
def test_no_stored_cursor_reads_from_the_start(state: Any) -> None:
    assert cursor_from_state("leads", "Modified_Time", state) is None


def test_a_stored_cursor_is_read_back() -> None:
    assert cursor_from_state("leads", "Modified_Time", {"Modified_Time": "2025-03-04T11:59:00Z"}) == T0


def test_a_stored_cursor_that_is_not_a_datetime_is_named() -> None:
    with pytest.raises(ZohoStateError) as raised:
        cursor_from_state("leads", "Modified_Time", {"Modified_Time": "yesterday" * 10})
    assert raised.value.message == (
        "The state of stream 'leads' has Modified_Time='yesterdayyesterdayyesterdayyesterdayyest', which "
        "is not a datetime. Fix the state (e.g. 2025-03-04T11:59:00Z) or reset the stream."
    )
