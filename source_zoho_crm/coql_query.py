"""Whether COQL can give a module's records exactly as the REST list GET does, and the queries that do.

Why a component: the CDK has no query-language paginator; COQL answers lookups as `{"id"}` only, so the
REST shapes are rebuilt here: a record lookup's `name` from a SELECT-column JOIN on the target module's
display field (`Account_Name.Account_Name`, COQL-Joins page), a user lookup's `name` and `email` from the
org's user list (one `/users` call per 200 users) instead of two JOINs each (COQL allows 15).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.settings import (
    COQL_MAX_COLUMNS,
    COQL_MAX_FORMULA_COLUMNS,
    COQL_MAX_JOINS,
    COQL_MODULE_KINDS,
    COQL_MODULES,
    COQL_SAME_AS_REST_TYPES,
    MODIFIED_TIME,
    MODULE_REQUEST_PARAMS,
    OBJECT_VALUED_FIELDS,
)

USER_LOOKUPS = ("ownerlookup", "userlookup")


class CoqlMismatch(Exception):
    """A COQL row cannot be turned into the REST record (a user missing from the user list)."""


@dataclass(frozen=True)
class CoqlPlan:
    """The SELECT of one module and how its rows become REST records."""

    module: str
    fields: tuple[str, ...]  # every field the REST path emits, `id` aside
    record_lookups: Mapping[str, str]  # lookup field -> the target module's display field
    user_lookups: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        joins = [f"{name}.{display}" for name, display in self.record_lookups.items()]
        return [*self.fields, *joins]

    @cached_property
    def _joined(self) -> tuple[str, ...]:
        return tuple(f"{name}.{display}" for name, display in self.record_lookups.items())

    @cached_property
    def _keys(self) -> frozenset[str]:
        return frozenset((*self.fields, "id"))

    def query(self, after: tuple[str, str] | None, since: str | None, limit: int) -> str:
        """Keyset on (Modified_Time, id), ascending: records after `after` (its Modified_Time as Zoho
        wrote it, its id), or at or after `since`, or all of them."""
        if after is not None:
            stamp, last_id = after
            later = f"({MODIFIED_TIME} > '{stamp}')"
            where = f"({later} or (({MODIFIED_TIME} = '{stamp}') and (id > {int(last_id)})))"
        elif since is not None:
            where = f"({MODIFIED_TIME} >= '{since}')"
        else:
            where = "(id is not null)"
        return (
            f"select {', '.join(self.columns)} from {self.module} where {where} "
            f"order by {MODIFIED_TIME} asc, id asc limit {limit}"
        )

    def record(self, row: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The record the REST list GET gives for this row: the same keys, lookups as `{name, id}` and
        user lookups as `{name, id, email}`."""
        out = dict(row)  # a copy in C; the usual row has exactly the columns asked
        for column in self._joined:
            out.pop(column, None)
        if out.keys() != self._keys:
            out = {name: row.get(name) for name in self.fields}
        for name, display in self.record_lookups.items():
            ref = out.get(name)
            if isinstance(ref, Mapping) and ref.get("id") is not None:
                out[name] = {"name": row.get(f"{name}.{display}"), "id": ref["id"]}
        for name in self.user_lookups:
            ref = out.get(name)
            if isinstance(ref, Mapping) and ref.get("id") is not None:
                user = users.get(str(ref["id"]))
                if user is None:
                    raise CoqlMismatch(f"user {ref['id']} of {name} is not in the org's user list")
                out[name] = {"name": user.get("full_name"), "id": ref["id"], "email": user.get("email")}
        out["id"] = row.get("id")
        return out


def coql_plan(
    spec: ModuleStreamSpec, display_field: Callable[[str], str | None], kind: str | None = None
) -> tuple[CoqlPlan | None, str]:
    """The plan, or None and the reason COQL cannot reproduce the REST records of this module.
    `display_field(module)` names a module's display field (its field metadata's `display_field: true`);
    `kind` is the module's `generated_type`."""
    if spec.api_name not in COQL_MODULES and kind not in COQL_MODULE_KINDS:
        return None, "COQL serves standard and custom modules only"
    if spec.cursor_field != MODIFIED_TIME:
        return None, f"no {MODIFIED_TIME} to page on"
    if spec.api_name in MODULE_REQUEST_PARAMS:
        params = "&".join(f"{k}={v}" for k, v in MODULE_REQUEST_PARAMS[spec.api_name].items())
        return None, f"its list GET asks {params}, which COQL cannot"
    return field_plan(spec, display_field)


def field_plan(
    spec: ModuleStreamSpec, display_field: Callable[[str], str | None]
) -> tuple[CoqlPlan | None, str]:
    """`coql_plan` by the module's fields alone: each must come out of COQL as REST gives it."""
    fields: list[str] = []
    record_lookups: dict[str, str] = {}
    user_lookups: list[str] = []
    formulas = 0
    for field in spec.fields_metadata:
        name = field.get("api_name")
        if not isinstance(name, str) or name == "id" or name not in spec.field_names or name in fields:
            continue
        data_type = str(field.get("data_type") or "").lower()
        why = unlike_rest(field)
        if why:
            return None, why
        if data_type == "lookup":
            target = _lookup_module(field)
            display = display_field(target) if target else None
            if not display:
                return None, f"the display field of {target or 'the module'} that {name} looks up is unknown"
            record_lookups[name] = display
        elif data_type in USER_LOOKUPS:
            user_lookups.append(name)
        formulas += data_type == "formula"
        fields.append(name)
    plan = CoqlPlan(spec.api_name, tuple(fields), record_lookups, tuple(user_lookups))
    if formulas > COQL_MAX_FORMULA_COLUMNS:
        return None, f"{formulas} formula fields (COQL selects {COQL_MAX_FORMULA_COLUMNS})"
    if len(record_lookups) > COQL_MAX_JOINS:
        return None, f"{len(record_lookups)} lookups (COQL joins {COQL_MAX_JOINS})"
    if len(plan.columns) > COQL_MAX_COLUMNS:
        return None, f"{len(plan.columns)} columns (COQL selects {COQL_MAX_COLUMNS})"
    return plan, ""


def unlike_rest(field: Mapping[str, Any]) -> str:
    """Why COQL's value of this field would not be the REST value ('' when it is)."""
    name, data_type = field.get("api_name"), str(field.get("data_type") or "").lower()
    if data_type not in COQL_SAME_AS_REST_TYPES or name in OBJECT_VALUED_FIELDS:
        return f"field {name} is of type {data_type or 'unknown'}"
    textarea = field.get("textarea")
    if isinstance(textarea, Mapping) and textarea.get("type") == "rich_text":
        return f"field {name} is rich text"
    json_type = str(field.get("json_type") or "").lower()
    if json_type in ("jsonobject", "jsonarray") and data_type not in (
        "lookup",
        "multiselectpicklist",
        *USER_LOOKUPS,
    ):
        return f"field {name} holds a {json_type}"
    return ""


def _lookup_module(field: Mapping[str, Any]) -> str | None:
    lookup = field.get("lookup")
    module = lookup.get("module") if isinstance(lookup, Mapping) else None
    name = module.get("api_name") if isinstance(module, Mapping) else None
    return name if isinstance(name, str) and name else None


def display_field_of(fields: Sequence[Mapping[str, Any]]) -> str | None:
    """The field Zoho marks `display_field: true` (a lookup to this module shows its value as `name`)."""
    names = [f.get("api_name") for f in fields if f.get("display_field") is True]
    return names[0] if len(names) == 1 and isinstance(names[0], str) else None
