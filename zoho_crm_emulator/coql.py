"""COQL: `POST /crm/v8/coql` with a small parser for select / from / where / order by / limit."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fields import FieldSpec
from .oauth import require_scopes
from .protocol import ApiError, Request, Response, empty_response, json_response, no_permission
from .records import module_scopes
from .state import Entry, ModuleState, OrgState

MAX_ROWS = 2000
MAX_OFFSET = 100_000
MAX_COLUMNS = 50
DEFAULT_LIMIT = 200
NUMERIC = frozenset({"integer", "bigint", "double", "decimal", "currency", "percent", "rollup_summary"})
LOOKUPS = frozenset(
    {"lookup", "ownerlookup", "userlookup", "consent_lookup", "multi_module_lookup", "layout"}
)

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*;])
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$.]*)
""",
    re.VERBOSE,
)
KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "like",
    "in",
    "is",
    "null",
    "between",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "offset",
    "true",
    "false",
    "as",
}


def syntax_error(near: str, column: int, clause: str | None = None) -> ApiError:
    details: dict[str, Any] = {"near": near, "line": 1, "column": column}
    if clause:
        details["clause"] = clause
    return ApiError(400, "SYNTAX_ERROR", "invalid query formed", details)


@dataclass
class Tok:
    kind: str  # string | number | op | punct | ident | kw | end
    value: Any
    pos: int
    text: str


def tokenize(text: str) -> list[Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise syntax_error(text[pos : pos + 10], pos + 1)
        kind, raw = match.lastgroup or "", match.group()
        pos = match.end()
        if kind == "ws":
            continue
        if kind == "string":
            value: Any = raw[1:-1].replace("''", "'").replace("\\'", "'")
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        elif kind == "ident" and raw.lower() in KEYWORDS:
            kind, value = "kw", raw.lower()
        else:
            value = raw
        tokens.append(Tok(kind, value, match.start() + 1, raw))
    tokens.append(Tok("end", None, len(text) + 1, "<end>"))
    return tokens


@dataclass
class Column:
    name: str  # field, or a.b for a lookup's sub-field; for COUNT the counted field or "*"
    key: str  # key in the output rows
    count: bool = False


@dataclass
class Condition:
    column: str
    op: str  # = != < <= > >= like not like in not in is null is not null between not between
    values: list[Any] = field(default_factory=list)


@dataclass
class Group:
    op: str  # and | or
    items: list[Condition | Group]


@dataclass
class Select:
    columns: list[Column]
    module: str
    where: Condition | Group | None
    order: list[tuple[str, bool]]  # (column, descending)
    offset: int
    limit: int


class Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.clause = "select"

    def peek(self) -> Tok:
        return self.tokens[self.i]

    def next(self) -> Tok:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, tok: Tok | None = None) -> ApiError:
        tok = tok or self.peek()
        return syntax_error(tok.text, tok.pos, self.clause)

    def kw(self, *words: str) -> bool:
        tok = self.peek()
        if tok.kind == "kw" and tok.value in words:
            self.i += 1
            return True
        return False

    def expect_kw(self, word: str) -> None:
        if not self.kw(word):
            raise self.fail()

    def punct(self, char: str) -> bool:
        tok = self.peek()
        if tok.kind == "punct" and tok.value == char:
            self.i += 1
            return True
        return False

    def ident(self) -> str:
        tok = self.next()
        if tok.kind != "ident":
            raise self.fail(tok)
        return tok.value

    def parse(self) -> Select:
        self.expect_kw("select")
        columns = [self.column()]
        while self.punct(","):
            columns.append(self.column())
        self.clause = "from"
        self.expect_kw("from")
        module = self.ident()
        where = None
        if self.kw("where"):
            self.clause = "where"
            where = self.expr()
        order: list[tuple[str, bool]] = []
        if self.kw("order"):
            self.clause = "order by"
            self.expect_kw("by")
            while True:
                name = self.ident()
                desc = self.kw("desc")
                if not desc:
                    self.kw("asc")
                order.append((name, desc))
                if not self.punct(","):
                    break
        offset, limit = 0, DEFAULT_LIMIT
        if self.kw("limit"):
            self.clause = "limit"
            first = self.integer()
            if self.punct(","):
                offset, limit = first, self.integer()
            elif self.kw("offset"):
                limit, offset = first, self.integer()
            else:
                limit = first
        self.punct(";")
        if self.peek().kind != "end":
            raise self.fail()
        return Select(columns, module, where, order, offset, limit)

    def integer(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            raise self.fail(tok)
        return tok.value

    def column(self) -> Column:
        tok = self.next()
        if tok.kind == "ident" and tok.value.lower() == "count" and self.punct("("):
            inner = "*" if self.punct("*") else self.ident()
            if not self.punct(")"):
                raise self.fail()
            col = Column(inner, f"COUNT({inner})", count=True)
        elif tok.kind == "ident":
            col = Column(tok.value, tok.value)
        else:
            raise self.fail(tok)
        if self.kw("as"):
            col.key = self.ident()
        return col

    def expr(self) -> Condition | Group:
        items = [self.term()]
        while self.kw("or"):
            items.append(self.term())
        return items[0] if len(items) == 1 else Group("or", items)

    def term(self) -> Condition | Group:
        items = [self.factor()]
        while self.kw("and"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else Group("and", items)

    def factor(self) -> Condition | Group:
        if self.punct("("):
            inner = self.expr()
            if not self.punct(")"):
                raise self.fail()
            return inner
        name = self.ident()
        tok = self.peek()
        if tok.kind == "op":
            self.i += 1
            op = "!=" if tok.value == "<>" else tok.value
            return Condition(name, op, [self.literal()])
        negate = self.kw("not")
        if self.kw("like"):
            return Condition(name, "not like" if negate else "like", [self.literal()])
        if self.kw("in"):
            if not self.punct("("):
                raise self.fail()
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            if not self.punct(")"):
                raise self.fail()
            return Condition(name, "not in" if negate else "in", values)
        if self.kw("between"):
            low = self.literal()
            self.expect_kw("and")
            return Condition(name, "not between" if negate else "between", [low, self.literal()])
        if not negate and self.kw("is"):
            is_not = self.kw("not")
            self.expect_kw("null")
            return Condition(name, "is not null" if is_not else "is null")
        raise self.fail()

    def literal(self) -> Any:
        tok = self.next()
        if tok.kind in ("string", "number"):
            return tok.value
        if tok.kind == "kw" and tok.value in ("true", "false"):
            return tok.value == "true"
        if tok.kind == "kw" and tok.value == "null":
            return None
        raise self.fail(tok)


# ---------------------------------------------------------------------------- evaluation (shared with bulk)
class FieldAccess:
    """Reads and normalises one column of a module's records for comparison and sorting."""

    def __init__(self, state: OrgState, ms: ModuleState, name: str):
        self.name = name
        base, _, sub = name.partition(".")
        spec = ms.definition.field(base)
        if name != "id" and (spec is None or (sub and spec.data_type not in LOOKUPS)):
            raise ApiError(
                400,
                "INVALID_QUERY",
                "column given seems to be invalid",
                {"column_name": name, "clause": "select"},
            )
        self.spec: FieldSpec | None = spec
        self.base, self.sub = base, sub
        self.clock = state.clock
        dt = spec.data_type if spec else "id"
        if dt == "formula":
            dt = (
                {"double": "double", "currency": "currency", "date": "date", "datetime": "datetime"}.get(
                    spec.formula_return or "text", "text"
                )
                if spec
                else "text"
            )
        self.kind = (
            "datetime"
            if dt == "datetime"
            else "number"
            if dt in NUMERIC
            else "boolean"
            if dt == "boolean"
            else "lookup"
            if dt in LOOKUPS and not sub
            else "id"
            if dt == "id"
            else "array"
            if spec and spec.effective_json_type == "jsonarray"
            else "text"
        )

    def raw(self, e: Entry) -> Any:
        if self.name == "id":
            return e.id
        value = e.rec.get(self.base)
        if self.sub:
            return value.get(self.sub) if isinstance(value, dict) else None
        return value

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


class CoqlApi:
    def __init__(self, state: OrgState):
        self.state = state

    def query(self, req: Request) -> Response:
        body = req.json()
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ApiError(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "select_query"},
            )
        select = Parser(text).parse()
        require_scopes(req.scopes, ["ZohoCRM.coql.READ"])
        ms = self.state.module(select.module)
        if ms is None or not ms.definition.api_supported:
            raise ApiError(
                400,
                "INVALID_QUERY",
                "invalid query formed",
                {
                    "reason": "the module name given seems to be invalid",
                    "module": select.module,
                    "clause": "from",
                },
            )
        require_scopes(req.scopes, module_scopes(ms))
        if not ms.definition.readable:
            raise no_permission(ms.api_name)
        if len(select.columns) > MAX_COLUMNS:
            raise ApiError(
                400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_COLUMNS, "clause": "select"}
            )
        if select.limit > MAX_ROWS or select.limit < 1:
            raise ApiError(400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_ROWS, "clause": "limit"})
        if select.offset + select.limit > MAX_OFFSET:
            raise ApiError(400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": MAX_OFFSET, "clause": "offset"})
        counts = [c for c in select.columns if c.count]
        if counts and len(counts) != len(select.columns):
            raise ApiError(
                400,
                "SYNTAX_ERROR",
                "invalid query formed",
                {"clause": "select", "reason": "aggregate and plain columns need a group by"},
            )
        accessors = [
            (c, None if c.count and c.name == "*" else FieldAccess(self.state, ms, c.name))
            for c in select.columns
        ]
        predicate = compile_condition(self.state, ms, select.where) if select.where else None
        with self.state.lock:
            rows = [e for e in ms.entries.values() if predicate is None or predicate(e)]
            if counts:
                out = {
                    c.key: (
                        len(rows) if acc is None else sum(1 for e in rows if acc.raw(e) not in (None, []))
                    )
                    for c, acc in accessors
                }
                return json_response({"data": [out], "info": {"count": 1, "more_records": False}})
            rows = sort_entries(self.state, ms, rows, select.order)
            window = rows[select.offset : select.offset + select.limit]
            more = select.offset + select.limit < len(rows)
            data = []
            for e in window:
                row = {c.key: output_value(acc, e) for c, acc in accessors if acc is not None}
                row["id"] = e.id
                data.append(row)
        if not data:
            return empty_response(204)
        return json_response(
            {"data": data, "info": {"count": len(data), "more_records": more}}, records=len(data)
        )
