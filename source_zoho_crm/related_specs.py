"""Per-record related-list streams: which ones exist, what each asks Zoho, and how it may be incremental.

Zoho serves these lists one parent record at a time (`GET /{module}/{id}/{related list}`), so each
costs one API call per parent record visited: they are built only when named in `per_record_streams`.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from source_zoho_crm.stream_specs import ModuleStreamSpec

PARENT_ID = "parent_id"
PARENT_MODULE = "parent_module"
PARENT_MODIFIED_TIME = "parent_modified_time"


@dataclass(frozen=True)
class RelatedKind:
    """One related list: `module` None means any module (the stream is `<module stream>_<suffix>`)."""

    suffix: str
    module: str | None
    related_list: str
    fields: tuple[str, ...]
    schema_file: str
    cursor_field: str | None
    """The rows' cursor: the row's own time, `parent_modified_time`, or None (full refresh only)."""
    changed_parents_only: bool
    """A change of a row changes its parent's Modified_Time, so an incremental read visits only the
    parents changed since the cursor. False: every parent is visited on every sync."""


# A stage change is an edit of the deal's Stage field, which moves the deal's Modified_Time.
STAGE_HISTORY = RelatedKind(
    "stage_history",
    "Deals",
    "Stage_History",
    (
        "Stage",
        "Amount",
        "Probability",
        "Expected_Revenue",
        "Closing_Date",
        "Duration_Days",
        "Moved_To",
        "Modified_Time",
        "Modified_By",
    ),
    "deals_stage_history.json",
    PARENT_MODIFIED_TIME,
    True,
)
# Rows carry no time of their own, and Zoho does not say whether a role change touches the deal.
CONTACT_ROLES = RelatedKind(
    "contact_roles",
    "Deals",
    "Contact_Roles",
    ("Contact_Role", "Full_Name", "First_Name", "Last_Name", "Email"),
    "deals_contact_roles.json",
    None,
    False,
)
# [U] whether attaching a file changes the parent's Modified_Time: assume not, visit every parent.
ATTACHMENTS = RelatedKind(
    "attachments",
    None,
    "Attachments",
    ("File_Name", "Size", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Owner", "Parent_Id"),
    "attachments.json",
    "Modified_Time",
    False,
)
FIXED_STREAMS = {f"deals_{k.suffix}": k for k in (STAGE_HISTORY, CONTACT_ROLES)}
ANY_MODULE_KINDS = (ATTACHMENTS,)


@dataclass(frozen=True)
class RelatedListSpec:
    """One per-record stream: the kind read under one parent module."""

    stream_name: str
    kind: RelatedKind
    parent: ModuleStreamSpec

    @property
    def schema(self) -> Mapping[str, Any]:
        return load_related_schema(self.kind.schema_file)

    @property
    def cursor_field(self) -> str | None:
        return self.kind.cursor_field

    @property
    def primary_key(self) -> list[str]:
        return [PARENT_ID, "id"]


def parent_stream_of(name: str) -> tuple[str, RelatedKind] | None:
    """(parent module stream, kind) for a per-record stream name, or None for any other name."""
    if name in FIXED_STREAMS:
        return "deals", FIXED_STREAMS[name]
    for kind in ANY_MODULE_KINDS:
        ending = f"_{kind.suffix}"
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)], kind
    return None


def accepted_names_text() -> str:
    return ", ".join(
        [*FIXED_STREAMS, *(f"<module stream>_{k.suffix} (e.g. leads_{k.suffix})" for k in ANY_MODULE_KINDS)]
    )


def plan(names: Sequence[str]) -> dict[str, tuple[str, RelatedKind]]:
    """Per-record stream name -> (parent module stream, kind), for the names `per_record_streams` lists."""
    result: dict[str, tuple[str, RelatedKind]] = {}
    for name in names:
        parsed = parent_stream_of(name)
        if parsed is not None:
            result[name] = parsed
    return result


def specs_for_parent(
    parent: ModuleStreamSpec, planned: Mapping[str, tuple[str, RelatedKind]]
) -> list[RelatedListSpec]:
    """The per-record streams planned under `parent` (a fixed kind only under its own module)."""
    return [
        RelatedListSpec(name, kind, parent)
        for name, (parent_stream, kind) in planned.items()
        if parent_stream == parent.stream_name and kind.module in (None, parent.api_name)
    ]


@cache
def load_related_schema(file_name: str) -> Mapping[str, Any]:
    folder = importlib.resources.files("source_zoho_crm").joinpath("schemas", "related")
    loaded: Mapping[str, Any] = json.loads(folder.joinpath(file_name).read_text(encoding="utf-8"))
    return loaded
