"""Which modules the org has, their fields and cursors: each metadata call made at most once per process.

Why a component: the CDK's dynamic streams re-fetch metadata per use, cannot choose a cursor per module
(Modified_Time, else Created_Time, ...) and drop a module whose fields call fails without saying so.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.child_specs import ChildStreamSpec, child_specs
from source_zoho_crm.config import ZohoConfig
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError, ZohoInvalidModuleError
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    CHILD_MODULE_KINDS,
    NO_STREAM_MODULE_KINDS,
    TERRITORIES_OFF_CODES,
)
from source_zoho_crm.stream_specs import (
    ModuleStreamSpec,
    build_module_spec,
    stream_name_for,
    unique_stream_names,
)

# Re-exported: the specs lived here before stream_specs.py.
__all__ = [
    "ChildStreamSpec",
    "ModuleStreamSpec",
    "ZohoMetadata",
    "build_module_spec",
    "stream_name_for",
]

logger = logging.getLogger("airbyte")


class ZohoMetadata:
    """Lazily fetched, cached org metadata."""

    def __init__(self, client: ZohoApiClient, config: ZohoConfig) -> None:
        self._client = client
        self._config = config
        self._lock = threading.Lock()
        self._org_lock = threading.Lock()  # its own lock: org and modules are fetched side by side
        self._modules: list[Mapping[str, Any]] | None = None
        self._org: Mapping[str, Any] | None = None
        self._fields: dict[str, list[Mapping[str, Any]]] = {}
        self._refused: dict[str, ZohoAccessError | ZohoInvalidModuleError] = {}
        self._field_locks: dict[str, threading.Lock] = {}

    def org(self) -> Mapping[str, Any]:
        with self._org_lock:
            if self._org is None:
                body = self._client.get(f"{API_VERSION_PATH}/org", what="the organization (/org)").body or {}
                orgs = body.get("org") or [{}]
                self._org = orgs[0] if isinstance(orgs, list) and orgs else {}
            return self._org

    def territories(self) -> list[Mapping[str, Any]]:
        """The org's territories; none (with a warning) where territory management is off."""
        try:
            body = (
                self._client.get(f"{API_VERSION_PATH}/settings/territories", what="the territories").body
                or {}
            )
        except ZohoApiError as error:
            if error.code in TERRITORIES_OFF_CODES:
                logger.warning(messages.NO_TERRITORIES.format(code=error.code))
                return []
            raise
        territories = body.get("territories")
        return [t for t in territories if isinstance(t, Mapping)] if isinstance(territories, list) else []

    def modules(self) -> list[Mapping[str, Any]]:
        with self._lock:
            if self._modules is None:
                body = (
                    self._client.get(f"{API_VERSION_PATH}/settings/modules", what="the list of modules").body
                    or {}
                )
                modules = body.get("modules")
                if not isinstance(modules, list):
                    raise ZohoApiError(messages.NO_MODULES_LIST)
                self._modules = [m for m in modules if isinstance(m, Mapping) and m.get("api_name")]
            return self._modules

    def fields(self, module: str) -> list[Mapping[str, Any]]:
        with self._lock:
            cached = self._fields.get(module)
            if cached is not None:
                return cached
            module_lock = self._field_locks.setdefault(module, threading.Lock())
        with module_lock:
            if module in self._refused:  # asked once per process, like every metadata call
                raise self._refused[module]
            if module not in self._fields:
                try:
                    self._fields[module] = self._fetch_fields(module)
                except (ZohoAccessError, ZohoInvalidModuleError) as refused:
                    self._refused[module] = refused
                    raise
            return self._fields[module]

    def _fetch_fields(self, module: str) -> list[Mapping[str, Any]]:
        response = self._client.get(
            f"{API_VERSION_PATH}/settings/fields", {"module": module}, what=f"the fields of module {module}"
        )
        if response.body is None:  # 204: Zoho documents it for modules it cannot describe
            raise ZohoInvalidModuleError(
                messages.FIELDS_EMPTY.format(module=module, status=response.status), status=response.status
            )
        fields = response.body.get("fields")
        if not isinstance(fields, list):
            raise ZohoInvalidModuleError(messages.NO_FIELDS_LIST.format(module=module))
        return [f for f in fields if isinstance(f, Mapping)]

    def subform_parents(self) -> set[str] | None:
        """API names of the modules that have subforms (`parent_module` of the subform modules);
        None when the modules list does not say (no subform module, or one without its parent)."""
        parents: set[str] = set()
        # Static subforms have no documented read API nor a parent in the list: they name no parent.
        subform_modules = [m for m in self.modules() if m.get("generated_type") == "subform"]
        if not subform_modules:
            return None
        for module in subform_modules:
            parent = module.get("parent_module")
            if not (isinstance(parent, Mapping) and parent.get("api_name")):
                return None
            parents.add(str(parent["api_name"]))
        return parents

    def selected_modules(self) -> list[Mapping[str, Any]]:
        """API-supported modules, narrowed to `modules` from the config (unknown names are an error)."""
        # Subform modules (line items) are child streams `<module>_<subform>`; web tabs hold no records.
        supported = [
            m
            for m in self.modules()
            if m.get("api_supported") is True
            and m.get("generated_type") not in (*CHILD_MODULE_KINDS, *NO_STREAM_MODULE_KINDS)
        ]
        if self._config.modules is None:
            return supported
        by_name = {str(m["api_name"]).lower(): m for m in supported}
        missing = [name for name in self._config.modules if name.lower() not in by_name]
        if missing:
            available = ", ".join(sorted(str(m["api_name"]) for m in supported))
            raise ZohoInvalidModuleError(
                messages.UNKNOWN_MODULES.format(missing=", ".join(missing), available=available)
            )
        return [by_name[name.lower()] for name in self._config.modules]

    def module_stream_names(self) -> dict[str, str]:
        """API name -> stream name of each selected module."""
        return unique_stream_names([str(m["api_name"]) for m in self.selected_modules()])

    def module_streams(
        self, only: Iterable[str] | None = None, with_subform_schemas: bool = False
    ) -> list[ModuleStreamSpec]:
        """One spec per readable module (in parallel); unreadable ones are left out with a warning.

        `only`: stream names. A name that is no module's may be a subform stream: then the modules with
        subforms are read too (the caller picks the child from its parent's spec).
        `with_subform_schemas` also fetches each subform module's fields (discovery needs them).
        """
        modules = self.selected_modules()
        names = unique_stream_names([str(m["api_name"]) for m in modules])
        wanted = set(only) if only is not None else None
        parents: set[str] | None = set()
        if wanted is not None and wanted - set(names.values()):
            parents = self.subform_parents()
        chosen = [
            (m, names[str(m["api_name"])])
            for m in modules
            if wanted is None
            or names[str(m["api_name"])] in wanted
            or parents is None
            or m["api_name"] in parents
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
        except (ZohoAccessError, ZohoInvalidModuleError) as refused:
            logger.warning(messages.MODULE_LEFT_OUT.format(module=api_name, message=refused.message))
            return None
        spec = build_module_spec(api_name, stream_name, fields, include_deleted=self._config.include_deleted)
        if with_lines:  # fetch the line fields in this worker thread (refusals are cached and warned later)
            for child in child_specs(spec):
                with contextlib.suppress(ZohoAccessError, ZohoInvalidModuleError):
                    self.fields(child.subform_module)
        return spec

    def subform_streams(
        self, spec: ModuleStreamSpec, wanted: Callable[[str], bool] | None = None
    ) -> list[ChildStreamSpec]:
        """The child streams of a module (those `wanted` only), with their subform modules' fields:
        a read needs them for `fields=`; without them the lines are read from the parents one by one."""
        children = []
        for child in child_specs(spec):
            if wanted is not None and not wanted(child.stream_name):
                continue
            try:
                lines: tuple[Mapping[str, Any], ...] | None = tuple(self.fields(child.subform_module))
            except (ZohoAccessError, ZohoInvalidModuleError) as problem:
                logger.warning(
                    messages.SUBFORM_WITHOUT_FIELDS.format(
                        subform=child.subform_module, module=spec.api_name, message=problem.message
                    )
                )
                lines = None
            children.append(child.with_line_fields(lines))
        return children
