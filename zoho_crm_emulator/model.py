"""The org's data model: a module's state, its records (entries) and deleted entries, the data window."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .fields import ModuleDef

WINDOW_START = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
WINDOW_END = int(datetime(2026, 6, 30, 23, 59, 59, tzinfo=timezone.utc).timestamp())
DAY = 86400

SORT_ATTRS = {"id": "idn", "Created_Time": "created", "Modified_Time": "modified"}


def data_window(seed: int) -> tuple[int, int]:
    """A fixed window derived from the seed, never from the wall clock."""
    return WINDOW_START + (seed % 28) * DAY, WINDOW_END


class Entry:
    """One live record plus the integers it is sorted and filtered by."""

    __slots__ = ("id", "idn", "created", "modified", "rec", "converted")

    def __init__(self, rid: str, created: int, modified: int, rec: dict[str, Any], converted: bool = False):
        self.id = rid
        self.idn = int(rid)
        self.created = created
        self.modified = modified
        self.rec = rec
        self.converted = converted


@dataclass
class Deleted:
    id: str
    deleted_ts: int
    item: dict[str, Any]  # the API shape of /{module}/deleted
    entry: Entry | None = None  # the record as it was, while it can be restored from the recycle bin


@dataclass
class ModuleState:
    definition: ModuleDef
    id: str
    slot: int
    module_name: str
    entries: dict[str, Entry] = field(default_factory=dict)
    deleted: list[Deleted] = field(default_factory=list)
    gens: list[tuple[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    layout_id: str = ""
    sequence: int = 0  # records ever created (autonumbers)
    _sorted: dict[tuple[str, bool], tuple[list[Entry], list[tuple[int, int]]]] = field(default_factory=dict)
    _fields_meta: list[dict[str, Any]] | None = None
    # Subform modules: the module whose records hold the lines; other modules: their subform modules.
    parent: ModuleState | None = field(default=None, repr=False, compare=False)
    children: list[ModuleState] = field(default_factory=list, repr=False, compare=False)

    @property
    def api_name(self) -> str:
        return self.definition.api_name

    @property
    def has_created(self) -> bool:
        return self.definition.has("Created_Time")

    @property
    def has_modified(self) -> bool:
        return self.definition.has("Modified_Time")

    def sortable(self) -> list[str]:
        return ["id"] + [name for name in ("Created_Time", "Modified_Time") if self.definition.has(name)]

    def ordered(self, sort_by: str, desc: bool) -> tuple[list[Entry], list[tuple[int, int]]]:
        """Entries in (sort value, id) order with their keys; desc keys are negated so keys always ascend."""
        cached = self._sorted.get((sort_by, desc))
        if cached is not None:
            return cached
        attr = SORT_ATTRS[sort_by]
        sign = -1 if desc else 1
        keyed = sorted(((sign * getattr(e, attr), sign * e.idn), e) for e in self.entries.values())
        result = ([e for _, e in keyed], [k for k, _ in keyed])
        self._sorted[(sort_by, desc)] = result
        return result

    def invalidate(self) -> None:
        self._sorted.clear()

    def display_name(self, rec: dict[str, Any]) -> str | None:
        value = rec.get(self.definition.name_field)
        return value if isinstance(value, str) else None

    @property
    def is_subform(self) -> bool:
        return self.parent is not None and self.definition.linked_from is None

    def lines_of(self, entry: Entry) -> list[dict[str, Any]]:
        """Subform modules: the lines a record of the parent module holds; linking modules: the values of
        the parent's multi-select / multi-user lookup field (each value's id is its linking row's id)."""
        lines = entry.rec.get(self.definition.parent_field or "")
        return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []

    def add_lines(self, entry: Entry) -> None:
        """Subform modules: index the lines of a parent record (the same dicts, so they stay in step).
        Linking modules: a row per lookup value, `{<owner>: {name, id}, <target>: {...}, audit fields}`."""
        for line in self.lines_of(entry):
            row = line if self.definition.linked_from is None else self.link_row(entry, line)
            self.entries[line["id"]] = Entry(line["id"], entry.created, entry.modified, row)
        self.invalidate()

    def link_row(self, entry: Entry, value: dict[str, Any]) -> dict[str, Any]:
        owner = self.parent.api_name if self.parent is not None else ""
        rec = entry.rec
        row = {owner: {"name": self.parent.display_name(rec) if self.parent else None, "id": entry.id}}
        row.update({k: v for k, v in value.items() if k != "id"})
        for key in ("Created_By", "Created_Time", "Modified_By", "Modified_Time"):
            row[key] = rec.get(key)
        row["id"] = value["id"]
        return row

    def drop_lines(self, entry: Entry) -> None:
        for line in self.lines_of(entry):
            self.entries.pop(line["id"], None)
        self.invalidate()
