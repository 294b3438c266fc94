"""Formula and rollup freshness: every `formula_refresh_days`, an incremental module stream that has
formula or rollup fields emits each of its records again, whole, so destinations hold current values.

Why a component: Zoho recomputes formula and rollup values without changing `Modified_Time`, so no
cursor-based read (the CDK's or ours) ever sees the change. Records are re-emitted whole in the
module's own stream, with their unchanged `Modified_Time`: Airbyte's deduplicating MERGE (Snowflake
and BigQuery direct load) replaces a row whose cursor is equal and whose `_airbyte_extracted_at` is
older (see `integration_tests/airbyte_merge.py`), while a partial record would null every other
column. The module's cursor is never moved by the refresh (see BEHAVIOR.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.cursor import ModuleCursor, cursor_from_state
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_reader import ModuleReader
from source_zoho_crm.settings import FORMULA_DATA_TYPES, FORMULA_REFRESH_SLACK, MODIFIED_TIME

logger = logging.getLogger("airbyte")

STATE_KEY = "formula_refreshed_at"
"""Kept in the module stream's state: Zoho's clock when the last finished refresh began."""
POSITION_KEY = "formula_refresh"
"""An unfinished refresh: `{"from": <Modified_Time to go on from, inclusive>, "started": <its start>}`."""


def formula_fields(spec: ModuleStreamSpec) -> tuple[str, ...]:
    """The module's formula and rollup summary fields (field metadata `data_type`), in field order."""
    names: list[str] = []
    for field in spec.fields_metadata:
        name = field.get("api_name")
        data_type = str(field.get("data_type") or "").lower()
        if isinstance(name, str) and data_type in FORMULA_DATA_TYPES and name in spec.field_names:
            names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class RefreshPosition:
    """Where an interrupted refresh goes on (first pages in Modified_Time order need no page token)."""

    resume_from: datetime
    started: datetime

    def to_state(self) -> dict[str, str]:
        return {"from": to_utc_iso(self.resume_from), "started": to_utc_iso(self.started)}

    @classmethod
    def from_state(cls, stream: str, stored: Mapping[str, Any] | None) -> RefreshPosition | None:
        entry = stored.get(POSITION_KEY) if isinstance(stored, Mapping) else None
        if not isinstance(entry, Mapping):
            return None
        resume_from = cursor_from_state(
            stream, f"{POSITION_KEY}.from", {f"{POSITION_KEY}.from": entry.get("from")}
        )
        started = cursor_from_state(
            stream, f"{POSITION_KEY}.started", {f"{POSITION_KEY}.started": entry.get("started")}
        )
        if resume_from is None or started is None:
            return None
        return cls(resume_from, started)


class FormulaRefresh:
    """Decides, after a module's incremental read, whether its formula values are due a refresh, and
    re-reads the module whole when they are, resuming an interrupted refresh where it stopped."""

    def __init__(
        self,
        client: ZohoApiClient,
        spec: ModuleStreamSpec,
        every: timedelta,
        last: datetime | None,
        first_read: bool,
        meter: CreditMeter | None = None,
        info: Callable[[str], None] = logger.info,
        position: RefreshPosition | None = None,
    ) -> None:
        self._client = client
        self._spec = spec
        self.every = every
        self.last = last
        """When the last finished refresh began (the stored state), None when never."""
        self._first_read = first_read  # this sync reads every record from the beginning (or start_datetime)
        self._meter = meter
        self._info = info
        self.position = position

    def due(self, now: datetime) -> bool:
        """Due once `every` has passed since the last refresh, less an hour, so a daily schedule whose
        syncs start a few minutes apart still refreshes daily."""
        return self.last is None or now - self.last >= self.every - FORMULA_REFRESH_SLACK

    def seed(self, cursor: ModuleCursor) -> None:
        """Keep the stored instant and position in every checkpoint until they change."""
        if self.last is not None:
            cursor.set_extra_state(STATE_KEY, to_utc_iso(self.last))
        if self.position is not None:
            cursor.set_extra_state(POSITION_KEY, self.position.to_state())

    def run(self, cursor: ModuleCursor, now: datetime | None) -> Iterator[Record]:
        """Every record again, whole, when due (or unfinished); `now` is Zoho's clock at this sync's
        first answer. Modules with Modified_Time are read in its order with first pages, and the
        position is checkpointed after each page, so an interrupted refresh goes on from there; others
        are read in id order and start over. The instant is saved once every record was emitted."""
        now = now or datetime.now(timezone.utc)
        name = self._spec.stream_name
        if self._first_read:
            # This sync read every record, so its values are as fresh as the read: nothing to refresh.
            cursor.drop_extra_state(POSITION_KEY)
            cursor.set_extra_state(STATE_KEY, to_utc_iso(now))
            return
        position = self.position
        if position is None and not self.due(now):
            return
        started = position.started if position is not None else now
        last = to_utc_iso(self.last) if self.last is not None else "never"
        fields = ", ".join(formula_fields(self._spec))
        self._info(
            messages.FORMULA_REFRESH_START.format(stream=name, fields=fields, last=last, days=self.every.days)
        )
        before = self._credits()
        ordered = self._spec.cursor_field == MODIFIED_TIME
        start = position.resume_from if position is not None and ordered else None
        reader = ModuleReader(self._client, self._spec, incremental=ordered, start=start)
        count = 0
        for page in reader.pages():
            for record in page.records:
                yield Record(data=record, stream_name=name)
            count += len(page.records)
            if ordered and page.checkpoint and page.newest is not None:
                self.position = RefreshPosition(page.newest, started)
                cursor.set_extra_state(POSITION_KEY, self.position.to_state(), checkpoint=True)
            if self._meter is not None and self._meter.should_stop():
                self._info(messages.FORMULA_REFRESH_STOPPED.format(stream=name, records=count))
                return
        cursor.drop_extra_state(POSITION_KEY)
        cursor.set_extra_state(STATE_KEY, to_utc_iso(started), checkpoint=True)
        self.last, self.position = started, None
        self._info(
            messages.FORMULA_REFRESH_DONE.format(stream=name, records=count, credits=self._credits() - before)
        )

    def _credits(self) -> int:
        if self._meter is None:
            return 0
        return self._meter.spent_by_stream().get(self._spec.stream_name, 0)


def formula_refresh_for(
    client: ZohoApiClient,
    spec: ModuleStreamSpec,
    days: int,
    stored: Mapping[str, Any] | None,
    cursor_field: str,
    meter: CreditMeter | None,
    info: Callable[[str], None] = logger.info,
) -> FormulaRefresh | None:
    """A refresh for a module stream read incrementally from the state `stored`, when the option is on
    (`days` > 0) and the module has formula or rollup fields; None otherwise (no call, nothing kept)."""
    if days <= 0 or not formula_fields(spec):
        return None
    name = spec.stream_name
    return FormulaRefresh(
        client,
        spec,
        timedelta(days=days),
        last=cursor_from_state(name, STATE_KEY, stored),
        first_read=cursor_from_state(name, cursor_field, stored) is None,
        meter=meter,
        info=info,
        position=RefreshPosition.from_state(name, stored),
    )
