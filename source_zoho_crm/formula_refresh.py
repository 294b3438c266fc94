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
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

from airbyte_cdk.sources.types import Record

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.cursor import ModuleCursor
from source_zoho_crm.datetimes import to_utc_iso
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_reader import ModuleReader
from source_zoho_crm.settings import FORMULA_DATA_TYPES, FORMULA_REFRESH_SLACK

logger = logging.getLogger("airbyte")

STATE_KEY = "formula_refreshed_at"
"""Kept in the module stream's state: Zoho's clock when the values last read were current."""


def formula_fields(spec: ModuleStreamSpec) -> tuple[str, ...]:
    """The module's formula and rollup summary fields (field metadata `data_type`), in field order."""
    names: list[str] = []
    for field in spec.fields_metadata:
        name = field.get("api_name")
        data_type = str(field.get("data_type") or "").lower()
        if isinstance(name, str) and data_type in FORMULA_DATA_TYPES and name in spec.field_names:
            names.append(name)
    return tuple(names)


class FormulaRefresh:
    """Decides, after a module's incremental read, whether its formula values are due a refresh, and
    re-reads the module whole when they are (one chain in id order, as a full refresh)."""

    def __init__(
        self,
        client: ZohoApiClient,
        spec: ModuleStreamSpec,
        every: timedelta,
        last: datetime | None,
        first_read: bool,
        meter: CreditMeter | None = None,
        info: Callable[[str], None] = logger.info,
    ) -> None:
        self._client = client
        self._spec = spec
        self.every = every
        self.last = last
        """When the values last read were current (the stored state), None when never."""
        self._first_read = first_read  # this sync read every record from the beginning (or start_datetime)
        self._meter = meter
        self._info = info

    def due(self, now: datetime) -> bool:
        """Due once `every` has passed since the last refresh, less an hour, so a daily schedule whose
        syncs start a few minutes apart still refreshes daily."""
        return self.last is None or now - self.last >= self.every - FORMULA_REFRESH_SLACK

    def run(self, cursor: ModuleCursor, now: datetime | None) -> Iterator[Record]:
        """Every record again, whole, when due; `now` is Zoho's clock at this sync's first answer.

        The instant is saved only once every record was emitted: an interrupted refresh (a failure, the
        credit budget) leaves the old one, so the next sync starts the refresh again from the top.
        """
        now = now or datetime.now(timezone.utc)
        name = self._spec.stream_name
        if self._first_read:
            # This sync read every record, so its values are as fresh as the read: nothing to refresh.
            cursor.set_extra_state(STATE_KEY, to_utc_iso(now))
            return
        if not self.due(now):
            return
        last = to_utc_iso(self.last) if self.last is not None else "never"
        self._info(
            messages.FORMULA_REFRESH_START.format(
                stream=name, fields=", ".join(formula_fields(self._spec)), last=last, days=self.every.days
            )
        )
        before = self._credits()
        reader = ModuleReader(self._client, self._spec, incremental=False)
        count = 0
        for page in reader.pages():
            for record in page.records:
                yield Record(data=record, stream_name=name)
            count += len(page.records)
            if self._meter is not None and self._meter.should_stop():
                self._info(messages.FORMULA_REFRESH_STOPPED.format(stream=name, records=count))
                return
        cursor.set_extra_state(STATE_KEY, to_utc_iso(now), checkpoint=True)
        self.last = now
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
    last: datetime | None,
    first_read: bool,
    meter: CreditMeter | None,
    info: Callable[[str], None] = logger.info,
) -> FormulaRefresh | None:
    """A refresh for a module stream read incrementally, when the option is on (`days` > 0) and the
    module has formula or rollup fields; None otherwise (no extra call, nothing in the state)."""
    if days <= 0 or not formula_fields(spec):
        return None
    return FormulaRefresh(client, spec, timedelta(days=days), last, first_read, meter, info)
