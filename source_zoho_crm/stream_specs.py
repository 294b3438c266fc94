"""What a stream of a module is made of: names, fields, cursor, schema, field chunks."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.schema_builder import build_stream_schema
from source_zoho_crm.settings import (
    CURSOR_CANDIDATES,
    DELETED_AT,
    LINKING_MODULE_KEYS,
    MAX_FIELDS_PER_REQUEST,
    SORTABLE_FIELDS,
)

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


def build_module_spec(
    api_name: str, stream_name: str, fields: Sequence[Mapping[str, Any]], *, include_deleted: bool
) -> ModuleStreamSpec:
    extra = {DELETED_AT: {"type": ["null", "string"], "format": "date-time"}} if include_deleted else None
    schema, warnings = build_stream_schema(fields, extra_properties=extra)
    for warning in warnings:
        logger.warning("Module %s: %s", api_name, warning)
    _describe_single_record_values(schema, fields, stream_name)
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


def child_stream_name(parent_stream: str, field_name: str) -> str:
    """The child stream of a subform field: `<module stream>_<field>` (e.g. `quotes_quoted_items`)."""
    return f"{parent_stream}_{stream_name_for(field_name)}"


def linking_module(field: Mapping[str, Any]) -> str | None:
    """The linking module of a multi-select / multi-user lookup field, in any shape Zoho sends it."""
    for key, inner in LINKING_MODULE_KEYS:
        outer = field.get(key)
        value = outer.get(inner) if isinstance(outer, Mapping) else None
        if isinstance(value, Mapping) and isinstance(value.get("api_name"), str) and value["api_name"]:
            return str(value["api_name"])
    return None


def _describe_single_record_values(
    schema: Mapping[str, Any], fields: Sequence[Mapping[str, Any]], stream_name: str
) -> None:
    """Columns Zoho fills only on single-record GETs say where their values are streamed."""
    properties = schema.get("properties", {})
    for field in fields:
        name, data_type = field.get("api_name"), str(field.get("data_type", "")).lower()
        if not isinstance(name, str) or name not in properties:
            continue
        if data_type == "subform":
            text = messages.SUBFORM_VALUES.format(stream=child_stream_name(stream_name, name))
        elif data_type in ("multiselectlookup", "multiuserlookup") and (linking := linking_module(field)):
            text = messages.LINKED_VALUES.format(stream=stream_name_for(linking), linking=linking)
        else:
            continue
        properties[name] = {**properties[name], "description": text}


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
