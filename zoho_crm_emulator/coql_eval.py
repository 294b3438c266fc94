"""COQL evaluation, shared with Bulk Read criteria: columns (lookup joins included), conditions, order."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .coql import Condition, Group
from .fields import FieldSpec
from .protocol import ApiError
from .state import Entry, ModuleState, OrgState

NUMERIC = frozenset({"integer", "bigint", "double", "decimal", "currency", "percent", "rollup_summary"})
LOOKUPS = frozenset(
    {"lookup", "ownerlookup", "userlookup", "consent_lookup", "multi_module_lookup", "layout"}
)

# Columns of the Users module a user lookup joins to (`Owner.email`, `Created_By.full_name`: COQL-Joins page,
# https://www.zoho.com/crm/developer/docs/api/v8/COQL-Joins.html, and Kaizen #171's `Owner.` examples).
USER_COLUMNS = ("id", "first_name", "last_name", "full_name", "email")
# Types COQL cannot select (COQL-Limitations page: image upload; multi-select lookups, subform fields and line
# items only through their own modules; attachments): Zoho answers INVALID_QUERY "data type not supported".
UNSELECTABLE = frozenset(
    {"imageupload", "fileupload", "multiselectlookup", "multiuserlookup", "subform", "linetax"}
)
JOINABLE = frozenset({"lookup", "ownerlookup", "userlookup"})


def invalid_column(name: str, clause: str = "select") -> ApiError:
    return ApiError(
        400, "INVALID_QUERY", "column given seems to be invalid", {"column_name": name, "clause": clause}
    )


def kind_of(spec: FieldSpec | None, joined: bool = False) -> str:
    """How a column's values compare: datetime, number, boolean, lookup, id, array or text."""
    dt = spec.data_type if spec else "id"
    if dt == "formula" and spec is not None:
        dt = {"double": "double", "currency": "currency", "date": "date", "datetime": "datetime"}.get(
            spec.formula_return or "text", "text"
        )
    if dt == "datetime":
        return "datetime"
    if dt in NUMERIC:
        return "number"
    if dt == "boolean":
        return "boolean"
    if dt in LOOKUPS and not joined:
        return "lookup"
    if dt == "id":
        return "id"
    if spec is not None and spec.effective_json_type == "jsonarray":
        return "array"
    return "text"


class FieldAccess:
    """Reads and normalises one column of a module's records for comparison and sorting. A column
    `Lookup.Field` joins to the looked-up record (`Account_Name.Account_Name`), `Owner.email` to the user."""

    def __init__(self, state: OrgState, ms: ModuleState, name: str):
        self.name = name
        self.state = state
        base, _, sub = name.partition(".")
        spec = ms.definition.field(base)
        if name != "id" and spec is None:
            raise invalid_column(name)
        self.spec: FieldSpec | None = spec
        self.base, self.sub = base, sub
        self.clock = state.clock
        self.target: ModuleState | None = None
        if not sub:
            self.kind = kind_of(spec)
            return
        assert spec is not None
        if spec.data_type in ("ownerlookup", "userlookup"):
            if sub not in USER_COLUMNS:
                raise invalid_column(name)
            self.kind = "id" if sub == "id" else "text"
            return
        target = state.module(spec.lookup or "") if spec.data_type == "lookup" else None
        sub_spec = target.definition.field(sub) if target is not None and sub != "id" else None
        if target is None or (sub != "id" and sub_spec is None) or "." in sub:
            raise invalid_column(name)
        self.target = target
        self.kind = kind_of(sub_spec, joined=True)

    @property
    def joins(self) -> bool:
        return bool(self.sub)

    @property
    def selectable(self) -> bool:
        return self.spec is None or self.spec.data_type not in UNSELECTABLE

    def raw(self, e: Entry) -> Any:
        if self.name == "id":
            return e.id
        value = e.rec.get(self.base)
        if not self.sub:
            return value
        if not isinstance(value, dict) or value.get("id") is None:
            return None
        if self.sub == "id":
            return value["id"]
        if self.target is None:  # a user lookup
            user = next((u for u in self.state.users if u["id"] == value["id"]), None)
            return user.get(self.sub) if user else None
        linked = self.target.entries.get(str(value["id"]))
        if linked is None:  # not live here: the lookup's own display value is all there is
            return value.get("name") if self.sub == self.target.definition.name_field else None
        return linked.rec.get(self.sub)

    def key(self, e: Entry) -> Any:
        """A comparable value (None stays None)."""
        if self.name == "id":
            return e.idn
        if self.name == "Modified_Time":
            return e.modified
        if self.name == "Created_Time":
            return e.created
        return self.norm(self.raw(e))

    def norm(self, value: Any) -> Any:
        if value is None:
            return None
        kind = self.kind
        if kind == "lookup":
            return (
                int(value["id"]) if isinstance(value, dict) and str(value.get("id", "")).isdigit() else None
            )
        if kind == "datetime":
            return self.clock.parse(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return bool(value)
        if kind == "array":
            return [str(v).lower() for v in value] if isinstance(value, list) else None
        return str(value).lower()

    def literal(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            kind = self.kind
            if kind in ("lookup", "id"):
                return int(value)
            if kind == "datetime":
                if not isinstance(value, str):
                    raise ValueError
                return self.clock.parse(value)
            if kind == "number":
                return float(value)
            if kind == "boolean":
                if isinstance(value, bool):
                    return value
                if str(value).lower() in ("true", "false"):
                    return str(value).lower() == "true"
                raise ValueError
            return str(value).lower()
        except (TypeError, ValueError) as exc:
            raise ApiError(
                400,
                "INVALID_QUERY",
                "value given seems to be invalid for the column",
                {"column_name": self.name, "value": value},
            ) from exc


def like_matcher(pattern: str) -> Callable[[Any], bool]:
    regex = re.compile(
        "^" + ".*".join(re.escape(p) for p in str(pattern).lower().split("%")) + "$", re.DOTALL
    )
    return lambda v: v is not None and regex.match(str(v)) is not None


def compile_condition(state: OrgState, ms: ModuleState, cond: Condition | Group) -> Callable[[Entry], bool]:
    if isinstance(cond, Group):
        parts = [compile_condition(state, ms, item) for item in cond.items]
        if cond.op == "and":
            return lambda e: all(p(e) for p in parts)
        return lambda e: any(p(e) for p in parts)
    acc = FieldAccess(state, ms, cond.column)
    op = cond.op
    if op == "is null":
        return lambda e: acc.key(e) in (None, [])
    if op == "is not null":
        return lambda e: acc.key(e) not in (None, [])
    if op in ("like", "not like"):
        match = like_matcher(cond.values[0])
        if op == "like":
            return lambda e: match(acc.key(e))
        return lambda e: not match(acc.key(e))
    values = [acc.literal(v) for v in cond.values]
    if op in ("in", "not in"):
        wanted = set(values)
        if acc.kind == "array":

            def found(e: Entry) -> bool:
                return bool(wanted & set(acc.key(e) or []))
        else:

            def found(e: Entry) -> bool:
                return acc.key(e) in wanted

        return found if op == "in" else (lambda e: not found(e))
    if op in ("between", "not between"):
        low, high = values

        def inside(e: Entry) -> bool:
            v = acc.key(e)
            return v is not None and low <= v <= high

        return inside if op == "between" else (lambda e: not inside(e))
    target = values[0]
    if acc.kind == "array":
        contains = {"=": True, "!=": False}.get(op)
        if contains is None:
            raise ApiError(
                400, "INVALID_QUERY", "data type not supported", {"column_name": acc.name, "operator": op}
            )
        return lambda e: (target in (acc.key(e) or [])) is contains
    compare = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[op]

    def test(e: Entry) -> bool:
        v = acc.key(e)
        if v is None or target is None:
            return compare(v, target) if op in ("=", "!=") else False
        return compare(v, target)

    return test


def sort_entries(
    state: OrgState, ms: ModuleState, entries: list[Entry], order: list[tuple[str, bool]]
) -> list[Entry]:
    """Stable multi-key sort; nulls come first ascending and last descending."""
    out = sorted(entries, key=lambda e: e.idn)
    for name, desc in reversed(order):
        acc = FieldAccess(state, ms, name)

        def key(e: Entry, acc: FieldAccess = acc) -> tuple[int, Any]:
            v = acc.key(e)
            if isinstance(v, list):
                v = ",".join(v)
            return (0, 0) if v is None else (1, v)

        out.sort(key=key, reverse=desc)
    return out


def output_value(acc: FieldAccess, e: Entry) -> Any:
    value = acc.raw(e)
    if acc.kind == "lookup" and isinstance(value, dict):
        return {"id": value.get("id")}  # COQL answers lookups with their id only
    return value
