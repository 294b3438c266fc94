"""The model of Airbyte's deduplicating merge (integration_tests/airbyte_merge.py) on the cases that
decide whether a tombstone is applied."""

from __future__ import annotations

import pytest

from integration_tests.airbyte_merge import AmbiguousMergeError, DedupTable, Row
from source_zoho_crm.deleted_records import tombstone

T1, T2 = "2025-01-01T10:00:00+05:30", "2025-01-01T10:00:05+05:30"


def table_with(record_time: str) -> DedupTable:
    table = DedupTable("Modified_Time")
    table.merge([Row({"id": "1", "Modified_Time": record_time, "Last_Name": "A"}, 100)])
    return table


def test_a_tombstone_without_cursor_is_never_applied() -> None:
    table = table_with(T1)
    table.merge([Row({"id": "1", "_ab_cdc_deleted_at": T2}, 200)])
    assert set(table.rows) == {"1"}  # why tombstones must carry the cursor


def test_the_connectors_tombstone_is_applied() -> None:
    table = table_with(T1)
    table.merge([Row(tombstone({"id": "1", "deleted_time": T2}, "Modified_Time"), 200)])
    assert not table.rows


def test_a_tie_on_the_cursor_goes_to_the_later_extraction() -> None:
    table = table_with(T1)
    table.merge([Row(tombstone({"id": "1", "deleted_time": T1}, "Modified_Time"), 50)])
    assert set(table.rows) == {"1"}  # extracted before the row: not newer
    table.merge([Row(tombstone({"id": "1", "deleted_time": T1}, "Modified_Time"), 150)])
    assert not table.rows


def test_a_tombstone_for_a_row_never_loaded_inserts_nothing() -> None:
    table = DedupTable("Modified_Time")
    table.merge([Row(tombstone({"id": "9", "deleted_time": T1}, "Modified_Time"), 1)])
    assert not table.rows


def test_within_a_batch_the_newest_cursor_wins_and_exact_ties_are_ambiguous() -> None:
    table = DedupTable("Modified_Time")
    table.merge(
        [
            Row({"id": "1", "Modified_Time": T2, "Last_Name": "new"}, 1),
            Row({"id": "1", "Modified_Time": T1, "Last_Name": "old"}, 2),
        ]
    )
    assert table.rows["1"].data["Last_Name"] == "new"
    with pytest.raises(AmbiguousMergeError):
        table.merge(
            [
                Row({"id": "2", "Modified_Time": T1, "Last_Name": "a"}, 5),
                Row({"id": "2", "Modified_Time": T1, "Last_Name": "b"}, 5),
            ]
        )


def test_a_restored_record_with_an_older_cursor_is_inserted_again_after_its_tombstone() -> None:
    """Snowflake's and BigQuery's direct-load MERGE (hard deletes): the tombstone removed the row, so the
    restored record (its Modified_Time older than the deletion) is NOT MATCHED and inserted; in the same
    batch as the tombstone it would lose (the connector never emits both)."""
    table = table_with(T1)
    table.merge([Row(tombstone({"id": "1", "deleted_time": T2}, "Modified_Time"), 200)])
    table.merge([Row({"id": "1", "Modified_Time": T1, "Last_Name": "A"}, 300)])
    assert set(table.rows) == {"1"}
    together = table_with(T1)
    together.merge(
        [
            Row(tombstone({"id": "1", "deleted_time": T2}, "Modified_Time"), 200),
            Row({"id": "1", "Modified_Time": T1, "Last_Name": "A"}, 300),
        ]
    )
    assert not together.rows
