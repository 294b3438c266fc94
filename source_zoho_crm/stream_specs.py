"""What a stream of a module or of a subform is made of: names, fields, cursor, schema, field chunks."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from source_zoho_crm.schema_builder import build_stream_schema
from source_zoho_crm.settings import CURSOR_CANDIDATES, DELETED_AT, MAX_FIELDS_PER_REQUEST, SORTABLE_FIELDS

logger = logging.getLogger("airbyte")


def stream_name_for(api_name: str) -> str:
    """Module API name in lower snake case: `Leads` → `leads`, `SalesOrders` → `sales_orders`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", api_name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()


@dataclass(frozen=True)
class ModuleStreamSpec:
    """Everything needed to read one module as a stream."""

    api_name: str
    stream_name: str
    field_names: tuple[str, ...]
    schema: Mapping[str, Any]
    cursor_field: str | None
    fields_metadata: tuple[Mapping[str, Any], ...]

    @property
    def sorted_by_cursor(self) -> bool:
        return self.cursor_field in SORTABLE_FIELDS

    def field_chunks(self) -> list[tuple[str, ...]]:
        """The fields in requests of at most 50; the cursor field leads the first chunk (it drives paging)."""
        names = [name for name in self.field_names if name != "id"]
        if self.cursor_field in names:
            names.remove(self.cursor_field)
            names.insert(0, self.cursor_field)
        return [
            tuple(names[i : i + MAX_FIELDS_PER_REQUEST]) for i in range(0, len(names), MAX_FIELDS_PER_REQUEST)
        ]

    def subform_streams(self) -> list[SubformStreamSpec]:
        """A child stream per subform field (line items included), named `<module>_<subform>`."""
        return [
            SubformStreamSpec(self, str(f["api_name"]))
            for f in self.fields_metadata
            if str(f.get("data_type", "")).lower() == "subform" and f.get("api_name")
        ]


@dataclass(frozen=True)
class SubformStreamSpec:
    """The lines of one subform field, one row each, with the parent's id and cursor value."""

    parent: ModuleStreamSpec
    field_name: str
    # The subform module's own field metadata (fetched for discovery only; a read needs no schema).
    line_fields: tuple[Mapping[str, Any], ...] = ()

    @property
    def stream_name(self) -> str:
        return f"{self.parent.stream_name}_{stream_name_for(self.field_name)}"

    @property
    def cursor_field(self) -> str | None:
        return f"parent_{self.parent.cursor_field.lower()}" if self.parent.cursor_field else None

    @property
    def subform_module(self) -> str:
        """The subform's module API name, as its field on the parent names it (else the field's name)."""
        field = next((f for f in self.parent.fields_metadata if f.get("api_name") == self.field_name), {})
        for key, inner in (("associated_module", "api_name"), ("subform", "module")):
            value = field.get(key)
            if isinstance(value, Mapping) and isinstance(value.get(inner), str) and value[inner]:
                return value[inner]
        return self.field_name

    @property
    def schema(self) -> Mapping[str, Any]:
        """The line fields' schema plus `parent_id` and the parent's cursor."""
        extra: dict[str, Any] = {"parent_id": {"type": ["null", "string"]}}
        if self.cursor_field:
            extra[self.cursor_field] = {
                "type": ["null", "string"],
                "format": "date-time",
                "airbyte_type": "timestamp_with_timezone",
            }
        schema, warnings = build_stream_schema(self.line_fields, extra_properties=extra)
        for warning in warnings:
            logger.warning("Subform %s: %s", self.subform_module, warning)
        return schema

    def reading_spec(self) -> ModuleStreamSpec:
        """The parent module read with only its cursor and this subform (one 50-field chunk)."""
        names = tuple(n for n in ("id", self.parent.cursor_field, self.field_name) if n)
        return replace(self.parent, stream_name=self.stream_name, field_names=names, schema=self.schema)

    def rows(self, record: Mapping[str, Any]) -> list[dict[str, Any]]:
        lines = record.get(self.field_name)
        if not isinstance(lines, list):
            return []
        parent = {"parent_id": record.get("id")}
        if self.cursor_field and self.parent.cursor_field:
            parent[self.cursor_field] = record.get(self.parent.cursor_field)
        return [{**line, **parent} for line in lines if isinstance(line, Mapping)]


def build_module_spec(
    api_name: str, stream_name: str, fields: Sequence[Mapping[str, Any]], *, include_deleted: bool
) -> ModuleStreamSpec:
    extra = {DELETED_AT: {"type": ["null", "string"], "format": "date-time"}} if include_deleted else None
    schema, warnings = build_stream_schema(fields, extra_properties=extra)
    for warning in warnings:
        logger.warning("Module %s: %s", api_name, warning)
    names: list[str] = []
    for field in fields:
        name = field.get("api_name")
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    cursor = next((c for c in CURSOR_CANDIDATES if c in names), None)
    return ModuleStreamSpec(
        api_name=api_name,
        stream_name=stream_name,
        field_names=tuple(names),
        schema=schema,
        cursor_field=cursor,
        fields_metadata=tuple(fields),
    )


def unique_stream_names(api_names: Sequence[str]) -> dict[str, str]:
    """Snake-case names; on a clash (`SalesOrders`, `Sales_Orders`) the later one gets a suffix."""
    taken: dict[str, str] = {}
    result: dict[str, str] = {}
    for api_name in sorted(api_names):
        name = stream_name_for(api_name) or "module"
        if name in taken:
            name = f"{name}_{re.sub(r'[^0-9a-z]+', '', api_name.lower())}"
        taken[name] = api_name
        result[api_name] = name
    return result
