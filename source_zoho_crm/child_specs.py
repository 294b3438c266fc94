"""What a child stream (the lines of one subform field, line items included) is made of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from source_zoho_crm.schema_builder import JSON_SCHEMA_DRAFT_07
from source_zoho_crm.settings import SUBFORM_MODULE_KEYS
from source_zoho_crm.stream_specs import ModuleStreamSpec, build_module_spec, child_stream_name

PARENT_ID = "parent_id"
_STRING = {"type": ["null", "string"]}


def subform_module_of(field: Mapping[str, Any]) -> str:
    """The module holding a subform field's lines: Zoho's real shape is `"subform": null` with
    `associated_module.module`; older ones say `associated_module.api_name` or `subform.module`."""
    for key, inner in SUBFORM_MODULE_KEYS:
        outer = field.get(key)
        value = outer.get(inner) if isinstance(outer, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return str(field["api_name"])


@dataclass(frozen=True)
class ChildStreamSpec:
    """The lines of `parent`'s subform field `field_name`, stored in module `subform_module`.

    `line_fields` are the subform module's fields (None: Zoho refused them, so the lines can only be
    read from the parents' single-record GETs and get an open schema).
    """

    parent: ModuleStreamSpec
    field_name: str
    subform_module: str
    line_fields: tuple[Mapping[str, Any], ...] | None = None

    def with_line_fields(self, fields: tuple[Mapping[str, Any], ...] | None) -> ChildStreamSpec:
        return replace(self, line_fields=fields)

    @property
    def stream_name(self) -> str:
        return child_stream_name(self.parent.stream_name, self.field_name)

    @cached_property
    def line_spec(self) -> ModuleStreamSpec | None:
        """The subform module read as a module (its fields in 50-field chunks, its own cursor)."""
        if not self.line_fields:
            return None
        return build_module_spec(
            self.subform_module, self.stream_name, self.line_fields, include_deleted=False
        )

    @property
    def cursor_field(self) -> str | None:
        """The lines' own cursor (Modified_Time); without line metadata, the parent's (same name)."""
        if self.line_spec is not None:
            return self.line_spec.cursor_field
        return self.parent.cursor_field

    @property
    def schema(self) -> Mapping[str, Any]:
        if self.line_spec is not None:
            base = dict(self.line_spec.schema)
            properties = dict(base["properties"])
        else:
            base = {"$schema": JSON_SCHEMA_DRAFT_07, "type": "object", "additionalProperties": True}
            properties = {"id": _STRING}
            if self.cursor_field:
                properties[self.cursor_field] = {
                    "type": ["null", "string"],
                    "format": "date-time",
                    "airbyte_type": "timestamp_with_timezone",
                }
        properties[PARENT_ID] = _STRING
        return {**base, "properties": properties}

    def row_of_line(self, line: Mapping[str, Any]) -> dict[str, Any]:
        """A line read from the subform module: its parent is `Parent_Id.id`."""
        parent = line.get("Parent_Id")
        parent_id = parent.get("id") if isinstance(parent, Mapping) else None
        return {**line, PARENT_ID: parent_id}

    def rows_of_parent(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The lines of a parent record read alone (`GET /{module}/{id}`)."""
        lines = record.get(self.field_name)
        if not isinstance(lines, list):
            return []
        return [{**line, PARENT_ID: record.get("id")} for line in lines if isinstance(line, Mapping)]


def child_specs(parent: ModuleStreamSpec) -> list[ChildStreamSpec]:
    """A child stream per subform field of `parent` (line items included), without line fields yet."""
    return [
        ChildStreamSpec(parent, str(field["api_name"]), subform_module_of(field))
        for field in parent.fields_metadata
        if str(field.get("data_type", "")).lower() == "subform" and field.get("api_name")
    ]
