"""Airbyte's deduplicating merge (`append_dedup`, CDC hard deletes), modelled in Python to check that
the connector's tombstones are applied.

Source of the rule (airbytehq/airbyte, read 2026-11):
- airbyte-integrations/connectors/destination-snowflake/src/main/kotlin/io/airbyte/integrations/
  destination/snowflake/sql/SnowflakeDirectLoadSqlGenerator.kt (`upsertTable`, `selectDedupedRecords`),
  with CDC hard deletes on. The BigQuery one (destination-bigquery/.../direct_load_tables/
  BigqueryDirectLoadSqlGenerator.kt, `upsertTable`, `selectDedupedRecords`, read 2026-11) has the same
  ordering and the same `newer` condition, and its UPDATE sets every column. (Redshift was not read.)
  With BigQuery's SOFT_DELETE cdc mode the tombstone row stays, and a later row with an older cursor
  does not replace it.
1. Within a batch, per primary key, keep ROW_NUMBER() = 1 of
   `ORDER BY <cursor> DESC NULLS LAST, _airbyte_extracted_at DESC` (ties: the database picks any).
2. MERGE into the final table, with `newer` =
      target.cursor < new.cursor
   OR (target.cursor = new.cursor AND target.extracted_at < new.extracted_at)
   OR (target.cursor IS NULL AND new.cursor IS NULL AND target.extracted_at < new.extracted_at)
   OR (target.cursor IS NULL AND new.cursor IS NOT NULL)
   - WHEN MATCHED AND new._ab_cdc_deleted_at IS NOT NULL AND newer THEN DELETE
   - WHEN MATCHED AND newer THEN UPDATE
   - WHEN NOT MATCHED AND new._ab_cdc_deleted_at IS NULL THEN INSERT
The cursor column is typed (a timestamp with time zone), so values compare as instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from source_zoho_crm.datetimes import parse_zoho_datetime

DELETED_AT = "_ab_cdc_deleted_at"


@dataclass(frozen=True)
class Row:
    data: dict[str, Any]
    extracted_at: int  # the record message's emitted_at (ms), which Airbyte stores as _airbyte_extracted_at

    def cursor(self, field: str) -> datetime | None:
        value = self.data.get(field)
        return parse_zoho_datetime(value) if value else None


class AmbiguousMergeError(AssertionError):
    """Two rows of one key tie on cursor and extracted_at: the database may keep either."""


class DedupTable:
    """A final table of one stream: primary key -> row."""

    def __init__(self, cursor_field: str, primary_key: str = "id") -> None:
        self.cursor_field = cursor_field
        self.primary_key = primary_key
        self.rows: dict[Any, Row] = {}

    def merge(self, batch: list[Row]) -> None:
        for new in self._deduplicated(batch).values():
            key = new.data.get(self.primary_key)
            target = self.rows.get(key)
            deleted = new.data.get(DELETED_AT) is not None
            if target is None:
                if not deleted:
                    self.rows[key] = new
            elif self._newer(target, new):
                if deleted:
                    del self.rows[key]
                else:
                    self.rows[key] = new

    def _deduplicated(self, batch: list[Row]) -> dict[Any, Row]:
        best: dict[Any, Row] = {}
        for row in batch:
            key = row.data.get(self.primary_key)
            kept = best.get(key)
            if kept is None:
                best[key] = row
                continue
            order_new, order_kept = self._order(row), self._order(kept)
            if order_new == order_kept and row.data != kept.data:
                raise AmbiguousMergeError(
                    f"rows of {key} tie on cursor and extracted_at: {kept.data}, {row.data}"
                )
            if order_new > order_kept:
                best[key] = row
        return best

    def _order(self, row: Row) -> tuple[int, float, int]:
        """Sort key for `cursor DESC NULLS LAST, extracted_at DESC`: larger comes first."""
        cursor = row.cursor(self.cursor_field)
        return (0, 0.0, row.extracted_at) if cursor is None else (1, cursor.timestamp(), row.extracted_at)

    def _newer(self, target: Row, new: Row) -> bool:
        t, n = target.cursor(self.cursor_field), new.cursor(self.cursor_field)
        if t is not None and n is not None:
            return t < n or (t == n and target.extracted_at < new.extracted_at)
        if t is None and n is None:
            return target.extracted_at < new.extracted_at
        return t is None and n is not None

    def live(self) -> set[tuple[Any, Any]]:
        """(primary key, cursor value as an instant) of every row."""
        return {(key, row.cursor(self.cursor_field)) for key, row in self.rows.items()}
