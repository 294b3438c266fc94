"""COQL's grammar: a small parser for select / from / where / order by / limit (evaluation: coql_eval.py,
the endpoint: coql_api.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .protocol import ApiError

DEFAULT_LIMIT = 200

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
