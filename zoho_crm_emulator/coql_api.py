"""`POST /crm/v8/coql` (https://www.zoho.com/crm/developer/docs/api/v8/Get-Records-through-COQL-Query.html)."""

from __future__ import annotations

from .coql import Parser
from .coql_eval import FieldAccess, compile_condition, output_value, sort_entries
from .oauth import require_scopes
from .protocol import ApiError, Request, Response, empty_response, json_response, no_permission
from .record_common import module_scopes
from .state import ModuleState, OrgState

# COQL-Limitations (https://www.zoho.com/crm/developer/docs/api/v8/COQL-Limitations.html): 2,000 rows a call,
# 100,000 through OFFSET (past that, keyset on a sorted column), at most 15 SELECT-column JOINs and five
# (dynamic) formula fields. The column cap is a setting: 500 since v7 (Kaizen #183), 50 on older pages.
MAX_ROWS = 2000
MAX_OFFSET = 100_000
MAX_SELECT_JOINS = 15
MAX_FORMULA_COLUMNS = 5


# "Possible module names" of the Get-Records-through-COQL-Query page, besides custom modules.
LISTED_MODULES = frozenset(
    {
        "Leads", "Accounts", "Contacts", "Users", "Deals", "Campaigns", "Tasks", "Cases", "Events", "Calls",
        "Solutions", "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders", "Purchase_Orders",
        "Invoices",
    }
)  # fmt: skip


def listed(ms: ModuleState) -> bool:
    return ms.api_name in LISTED_MODULES or ms.definition.generated_type == "custom"


def limit_exceeded(limit: int, clause: str) -> ApiError:
    return ApiError(400, "LIMIT_EXCEEDED", "limit exceeded", {"limit": limit, "clause": clause})


def coql_credits(text: object) -> int:
    """Credits of a query by its LIMIT: 1 up to 200 rows, 2 up to 1,000, 3 up to 2,000 (the COQL overview of
    Zoho's shared CRM platform, https://www.zoho.com/developer/docs/vertical-solutions/api/v4/COQL-Overview.html;
    CRM's own pages give no figure). A query that does not parse costs 1."""
    try:
        limit = Parser(str(text)).parse().limit
    except ApiError:
        return 1
    return 1 if limit <= 200 else 2 if limit <= 1000 else 3


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
        unlisted = ms is not None and self.state.settings.coql_listed_modules_only and not listed(ms)
        if ms is None or not ms.definition.api_supported or unlisted:
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
        max_columns = self.state.settings.coql_max_columns
        if len(select.columns) > max_columns:
            raise limit_exceeded(max_columns, "select")
        if select.limit > MAX_ROWS or select.limit < 1:
            raise limit_exceeded(MAX_ROWS, "limit")
        if select.offset + select.limit > MAX_OFFSET:
            raise limit_exceeded(MAX_OFFSET, "offset")
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
        plain = [acc for _, acc in accessors if acc is not None]
        for acc in plain:
            if not acc.selectable:
                raise ApiError(
                    400,
                    "INVALID_QUERY",
                    "data type not supported",
                    {
                        "column_name": acc.name,
                        "data_type": acc.spec.data_type if acc.spec else "",
                        "clause": "select",
                    },
                )
        if sum(1 for acc in plain if acc.joins) > MAX_SELECT_JOINS:
            raise limit_exceeded(MAX_SELECT_JOINS, "select")
        if sum(1 for acc in plain if acc.spec and acc.spec.data_type == "formula" and not acc.joins) > (
            MAX_FORMULA_COLUMNS
        ):
            raise limit_exceeded(MAX_FORMULA_COLUMNS, "select")
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
