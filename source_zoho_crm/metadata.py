"""Which modules the org has, their fields and cursors: each metadata call made at most once per process.

Why a component: the CDK's dynamic streams re-fetch metadata per use, cannot choose a cursor per module
(Modified_Time, else Created_Time, ...) and drop a module whose fields call fails without saying so.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.config import ZohoConfig
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoInvalidModuleError
from source_zoho_crm.schema_builder import build_stream_schema

logger = logging.getLogger("airbyte")

# Cursor candidates in order of preference; a module with none of them is full refresh only.
CURSOR_CANDIDATES = ("Modified_Time", "Created_Time", "Action_Performed_Time")
# `sort_by` accepts only these; a cursor outside them is read in id order and checkpointed at the end.
SORTABLE_FIELDS = ("id", "Created_Time", "Modified_Time")
MAX_FIELDS_PER_REQUEST = 50
DELETED_AT = "_ab_cdc_deleted_at"
# What Zoho answers for /settings/territories when territory management is off.
TERRITORIES_OFF_CODES = (
    "TERRITORY_NOT_ENABLED",
    "FEATURE_NOT_ENABLED",
    "FEATURE_NOT_SUPPORTED",
    "NOT_ALLOWED",
)


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


class ZohoMetadata:
    """Lazily fetched, cached org metadata."""

    def __init__(self, client: ZohoApiClient, config: ZohoConfig) -> None:
        self._client = client
        self._config = config
        self._lock = threading.Lock()
        self._modules: list[Mapping[str, Any]] | None = None
        self._org: Mapping[str, Any] | None = None
        self._fields: dict[str, list[Mapping[str, Any]]] = {}
        self._field_locks: dict[str, threading.Lock] = {}

    def org(self) -> Mapping[str, Any]:
        with self._lock:
            if self._org is None:
                body = self._client.get("/crm/v8/org", what="the organization (/org)").body or {}
                orgs = body.get("org") or [{}]
                self._org = orgs[0] if isinstance(orgs, list) and orgs else {}
            return self._org

    def territories(self) -> list[Mapping[str, Any]]:
        """The org's territories; none (with a warning) where territory management is off."""
        try:
            body = self._client.get("/crm/v8/settings/territories", what="the territories").body or {}
        except ZohoApiError as error:
            if error.code in TERRITORIES_OFF_CODES:
                logger.warning("No territories: the org does not use territory management (%s).", error.code)
                return []
            raise
        territories = body.get("territories")
        return [t for t in territories if isinstance(t, Mapping)] if isinstance(territories, list) else []

    def modules(self) -> list[Mapping[str, Any]]:
        with self._lock:
            if self._modules is None:
                body = self._client.get("/crm/v8/settings/modules", what="the list of modules").body or {}
                modules = body.get("modules")
                if not isinstance(modules, list):
                    raise ZohoApiError("Zoho's /settings/modules answer has no `modules` list.")
                self._modules = [m for m in modules if isinstance(m, Mapping) and m.get("api_name")]
            return self._modules

    def fields(self, module: str) -> list[Mapping[str, Any]]:
        with self._lock:
            cached = self._fields.get(module)
            if cached is not None:
                return cached
            module_lock = self._field_locks.setdefault(module, threading.Lock())
        with module_lock:
            if module not in self._fields:
                body = (
                    self._client.get(
                        "/crm/v8/settings/fields", {"module": module}, what=f"the fields of module {module}"
                    ).body
                    or {}
                )
                fields = body.get("fields")
                if not isinstance(fields, list):
                    raise ZohoApiError(
                        f"Zoho's /settings/fields answer for module {module} has no `fields` list."
                    )
                self._fields[module] = [f for f in fields if isinstance(f, Mapping)]
            return self._fields[module]

    def selected_modules(self) -> list[Mapping[str, Any]]:
        """API-supported modules, narrowed to `modules` from the config (unknown names are an error)."""
        # Subform modules (line items) are read through their parents as `<module>_<subform>` streams.
        supported = [
            m
            for m in self.modules()
            if m.get("api_supported") is True and m.get("generated_type") != "subform"
        ]
        if self._config.modules is None:
            return supported
        by_name = {str(m["api_name"]).lower(): m for m in supported}
        missing = [name for name in self._config.modules if name.lower() not in by_name]
        if missing:
            available = ", ".join(sorted(str(m["api_name"]) for m in supported))
            raise ZohoInvalidModuleError(
                f"`modules` names {', '.join(missing)}, which the org does not have as API-supported "
                f"modules. Available: {available}."
            )
        return [by_name[name.lower()] for name in self._config.modules]

    def module_streams(
        self, only: Iterable[str] | None = None, with_subform_schemas: bool = False
    ) -> list[ModuleStreamSpec]:
        """One spec per readable module (in parallel); unreadable ones are left out with a warning.

        `with_subform_schemas` also fetches each subform module's fields (discovery needs them).
        """
        modules = self.selected_modules()
        names = _unique_stream_names([str(m["api_name"]) for m in modules])
        wanted = set(only) if only is not None else None
        chosen = [
            (m, names[str(m["api_name"])])
            for m in modules
            if wanted is None or names[str(m["api_name"])] in wanted
        ]
        if not chosen:
            return []
        workers = max(1, min(len(chosen), self._client.max_concurrent))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zoho-fields") as pool:
            results = list(pool.map(lambda pair: self._try_spec(*pair, with_subform_schemas), chosen))
        return [spec for spec in results if spec is not None]

    def _try_spec(
        self, module: Mapping[str, Any], stream_name: str, with_lines: bool
    ) -> ModuleStreamSpec | None:
        api_name = str(module["api_name"])
        try:
            fields = self.fields(api_name)
        except ZohoAccessError as denied:
            logger.warning("Leaving out module %s: %s", api_name, denied.message)
            return None
        spec = build_module_spec(api_name, stream_name, fields, include_deleted=self._config.include_deleted)
        if with_lines:
            self.subform_streams(spec)  # fetch the line fields in this worker thread
        return spec

    def subform_streams(self, spec: ModuleStreamSpec) -> list[SubformStreamSpec]:
        """The subform streams of a module, their schemas from the subform modules' fields."""
        children = []
        for child in spec.subform_streams():
            try:
                lines = tuple(self.fields(child.subform_module))
            except (ZohoAccessError, ZohoInvalidModuleError) as problem:
                logger.warning(
                    "Subform %s of %s: no field metadata (%s); its lines get an open schema.",
                    child.subform_module,
                    spec.api_name,
                    problem.message,
                )
                lines = ()
            children.append(replace(child, line_fields=lines))
        return children


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


def _unique_stream_names(api_names: Sequence[str]) -> dict[str, str]:
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
