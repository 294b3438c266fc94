"""`GET /crm/v8/{module}` (fields, paging, page tokens, sorting, If-Modified-Since, converted, ids),
`/{module}/deleted`, `/{module}/actions/count` and `/{module}/{id}`.

A subform module (`GET /crm/v8/Quoted_Items?fields=...`, Zoho's "Get Subform Data") is served by the same
code: its entries are the lines of every live record of its parent module."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .projection import list_projector, project
from .protocol import (
    ApiError,
    Request,
    Response,
    empty_response,
    invalid_param,
    json_response,
    required_param,
)
from .record_common import (
    COUNT_SEARCH_SCOPE,
    MAX_PER_PAGE,
    Cursor,
    PageTokens,
    int_param,
    resolve_module,
)
from .settings import EmulatorSettings
from .state import Entry, ModuleState, OrgState

MAX_FIELDS = 50


@dataclass
class Query:
    fields: list[str]
    per_page: int
    sort_by: str
    desc: bool
    converted: str
    ims: int | None
    ims_raw: str | None


class RecordsApi:
    def __init__(self, state: OrgState, settings: EmulatorSettings, tokens: PageTokens):
        self.state = state
        self.settings = settings
        self.tokens = tokens

    # ------------------------------------------------------------------ parameters
    def known_fields(self, ms: ModuleState) -> set[str]:
        names = {spec.api_name for spec in ms.definition.fields} | {"id"}
        names.update(self.state.system_keys(ms))
        return names

    def parse_fields(self, ms: ModuleState, raw: str | None) -> list[str]:
        if raw is None or not raw.strip():
            raise required_param("fields")
        names = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
        if len(names) > MAX_FIELDS:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                "Max field limit exceeded",
                {"limit": MAX_FIELDS, "param_name": "fields"},
            )
        known = self.known_fields(ms)
        unknown = [n for n in names if n not in known]
        if unknown and self.settings.unknown_field_mode == "error":
            raise ApiError(
                400, "INVALID_DATA", "invalid data", {"api_name": unknown[0], "param_name": "fields"}
            )
        fields = [n for n in names if n in known and n != "id"]
        if ms.is_subform and "Parent_Id" not in fields:
            fields.insert(0, "Parent_Id")  # Get Subform Data: every line names its record
        return fields

    def parse_ims(self, req: Request) -> tuple[int | None, str | None]:
        raw = req.header("If-Modified-Since")
        if raw is None or not raw.strip():
            return None, None
        try:
            return self.state.clock.parse(raw), raw.strip()
        except ValueError as exc:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "If-Modified-Since"}) from exc

    def parse_query(self, ms: ModuleState, req: Request) -> Query:
        q = req.query
        fields = self.parse_fields(ms, q.get("fields"))
        per_page = int_param(q, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        sort_by = q.get("sort_by") or "id"
        if sort_by not in ms.sortable():
            raise invalid_param("sort_by", "invalid data", supported_values=ms.sortable())
        sort_order = q.get("sort_order") or self.settings.default_sort_order
        if sort_order not in ("asc", "desc"):
            raise invalid_param("sort_order", "invalid data", supported_values=["asc", "desc"])
        converted = q.get("converted") or "false"
        if converted not in ("true", "false", "both"):
            raise invalid_param("converted", "invalid data", supported_values=["true", "false", "both"])
        ims, ims_raw = self.parse_ims(req)
        return Query(fields, per_page, sort_by, sort_order == "desc", converted, ims, ims_raw)

    def predicates(
        self, ms: ModuleState, query: Query
    ) -> tuple[Callable[[Entry], bool], Callable[[Entry], bool]]:
        """(base filter: converted leads; change filter: base and If-Modified-Since)."""
        if ms.api_name == "Leads" and query.converted != "both":
            want = query.converted == "true"

            def base(e: Entry) -> bool:
                return e.converted is want
        else:

            def base(e: Entry) -> bool:
                return True

        if query.ims is not None and not ms.has_modified and self.settings.ims_without_modified_time == "304":
            return base, lambda e: False  # [U] worst reading: the header filters everything out (304)
        if query.ims is None or not ms.has_modified:  # no Modified_Time: the header cannot filter anything
            return base, base
        if ms.is_subform and self.settings.subform_module_paging == "page_only":
            return base, base  # [U] the subform module ignores the header: every line, every time
        since = query.ims
        if self.settings.if_modified_since_inclusive:
            return base, lambda e: e.modified >= since and base(e)
        return base, lambda e: e.modified > since and base(e)

    # ------------------------------------------------------------------ GET /{module}
    def list(self, req: Request) -> Response:
        state = self.state
        ms = resolve_module(state, req, req.path_params["module"])
        self._check_subform_read(ms, req)
        query = self.parse_query(ms, req)
        q = req.query
        if q.get("ids"):
            return self._by_ids(ms, query, q["ids"])
        token, page = q.get("page_token"), q.get("page")
        if token and page:
            raise ApiError(
                400,
                "AMBIGUITY_DURING_PROCESSING",
                "Please use either page or page_token. Combination of both the params is not allowed",
                {"ambiguity_due_to": [{"param_name": "page"}, {"param_name": "page_token"}]},
            )
        binding = (
            ms.api_name,
            query.ims_raw,
            tuple(sorted((k, v) for k, v in q.items() if k not in ("page", "page_token"))),
        )
        keyset = self.settings.page_token_mode == "keyset"
        cursor: Cursor | None = None
        if token:
            cursor = self._cursor(token, binding)
            page_no, offset = cursor.page, cursor.offset
        else:
            page_no = int_param(q, "page", 1, 1, None)
            if page_no * query.per_page > self.settings.discrete_page_limit:
                raise ApiError(
                    400,
                    "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    f"Cannot fetch more than {self.settings.discrete_page_limit} records with page; "
                    "use page_token to fetch more records",
                    {"limit": self.settings.discrete_page_limit},
                )
            offset = (page_no - 1) * query.per_page
        base, match = self.predicates(ms, query)
        fields = query.fields
        room = self.settings.page_token_chain_limit - offset  # a chain never serves more than its limit
        per_page = min(query.per_page, room) if cursor is not None else query.per_page
        with state.lock:
            if ms.is_subform and self.settings.subform_sort_ignored:  # [U] id order whatever sort_by says
                entries, keys = ms.ordered("id", self.settings.default_sort_order == "desc")
            else:
                entries, keys = ms.ordered(query.sort_by, query.desc)
            if cursor is not None and keyset:
                start, skip = bisect_right(keys, cursor.position), 0
            else:
                start, skip = 0, offset
            picked: list[Entry] = []
            last_index = -1
            more = False
            for i in range(start, len(entries)):
                e = entries[i]
                if not match(e):
                    continue
                if skip:
                    skip -= 1
                    continue
                if len(picked) == per_page:
                    more = True
                    break
                picked.append(e)
                last_index = i
            if not picked:
                return self._empty(entries, base, match, query)
            shape = list_projector(ms, self.settings)
            data = [shape(e, fields) for e in picked]
            last_key = keys[last_index]
        info = self._info(query, page_no, len(data), more)
        if more:
            expires = time.time() + self.settings.page_token_ttl
            next_cursor = Cursor(
                ms.api_name, binding, last_key, offset + len(data), page_no + 1, expires, token
            )
            info["next_page_token"] = self.tokens.issue(next_cursor)
            info["page_token_expiry"] = state.clock.iso(expires)
        if cursor is not None:
            info["previous_page_token"] = cursor.prev
        return json_response({"data": data, "info": info}, records=len(data))

    def _check_subform_read(self, ms: ModuleState, req: Request) -> None:
        """[U] Zoho's Subform API documents `GET /{subform}?fields=` only: whether line-item modules are
        readable module-wide, and whether subform modules take page tokens, is not documented."""
        if not ms.is_subform:
            return
        if not self.settings.line_item_module_reads and ms.definition.line_items:
            raise ApiError(
                400, "INVALID_MODULE", "The given module is not supported in API", {"module": ms.api_name}
            )
        if self.settings.subform_module_paging == "page_only" and req.query.get("page_token"):
            raise invalid_param(
                "page_token", "page_token is not supported for this module", param="page_token"
            )

    def _cursor(self, token: str, binding: tuple[Any, ...]) -> Cursor:
        cursor = self.tokens.get(token)
        if cursor is None:
            raise invalid_param("page_token", "invalid page token", param="page_token")
        if cursor.expires_at <= time.time():
            raise ApiError(400, "EXPIRED_VALUE", "Page token expired", {"param": "page_token"})
        if cursor.binding != binding:
            raise ApiError(
                400,
                "TOKEN_BOUND_DATA_MISMATCH",
                "The parameters or headers of the request do not match those bound to the page_token",
                {"param": "page_token"},
            )
        if cursor.offset >= self.settings.page_token_chain_limit:
            raise ApiError(
                400,
                "PAGINATION_LIMIT_EXCEEDED",
                f"Cannot fetch more than {self.settings.page_token_chain_limit} records with page_token",
                {"limit": self.settings.page_token_chain_limit},
            )
        return cursor

    def _empty(
        self,
        entries: list[Entry],
        base: Callable[[Entry], bool],
        match: Callable[[Entry], bool],
        query: Query,
    ) -> Response:
        """204 when there is nothing at all; 304 when If-Modified-Since filtered everything out."""
        if query.ims is not None and any(base(e) for e in entries) and not any(match(e) for e in entries):
            return empty_response(304)
        return empty_response(204)

    def _info(self, query: Query, page: int, count: int, more: bool) -> dict[str, Any]:
        return {
            "call": False,
            "per_page": query.per_page,
            "count": count,
            "page": page,
            "more_records": more,
            "next_page_token": None,
            "previous_page_token": None,
            "page_token_expiry": None,
            "email": False,
            "sort_by": query.sort_by,
            "sort_order": "desc" if query.desc else "asc",
        }

    def _by_ids(self, ms: ModuleState, query: Query, raw: str) -> Response:
        ids = list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))
        if len(ids) > self.settings.ids_limit:
            raise ApiError(
                400,
                "LIMIT_EXCEEDED",
                "Record count exceeded",
                {"limit": self.settings.ids_limit, "param_name": "ids"},
            )
        _, match = self.predicates(
            ms,
            Query(query.fields, query.per_page, query.sort_by, query.desc, "both", query.ims, query.ims_raw),
        )
        with self.state.lock:
            found = [ms.entries[i] for i in ids if i in ms.entries]
            entries, _ = ms.ordered(query.sort_by, query.desc)
            rank = {e.id: n for n, e in enumerate(entries)}
            picked = sorted((e for e in found if match(e)), key=lambda e: rank[e.id])
            shape = list_projector(ms, self.settings)
            data = [shape(e, query.fields) for e in picked]
        if not data:
            return empty_response(304 if found and query.ims is not None else 204)
        return json_response(
            {"data": data, "info": self._info(query, 1, len(data), False)}, records=len(data)
        )

    # ------------------------------------------------------------------ GET /{module}/{id}
    def one(self, req: Request) -> Response:
        ms = resolve_module(self.state, req, req.path_params["module"])
        raw = req.query.get("fields")
        fields = self.parse_fields(ms, raw) if raw else None
        with self.state.lock:
            entry = ms.entries.get(req.path_params["id"])
            if entry is None:
                raise ApiError(
                    400, "INVALID_DATA", "the id given seems to be invalid", {"resource_path_index": 1}
                )
            data = [project(entry, fields) if fields is not None else dict(entry.rec)]
        return json_response({"data": data}, records=1)

    # ------------------------------------------------------------------ GET /{module}/actions/count
    def count(self, req: Request) -> Response:
        # The count API's scopes (https://www.zoho.com/crm/developer/docs/api/v8/module_record_count.html):
        # ZohoSearch.securesearch.READ and settings.layouts.READ besides the module's.
        ms = resolve_module(
            self.state, req, req.path_params["module"], COUNT_SEARCH_SCOPE, ["ZohoCRM.settings.layouts.READ"]
        )
        converted = req.query.get("converted") or "false"
        if converted not in ("true", "false", "both"):
            raise invalid_param("converted", "invalid data", supported_values=["true", "false", "both"])
        with self.state.lock:
            if ms.api_name == "Leads" and converted != "both":
                want = converted == "true"
                n = sum(1 for e in ms.entries.values() if e.converted is want)
            else:
                n = len(ms.entries)
        if self.settings.bulk_virtual_records and ms.entries:  # benchmark only (settings.py)
            n = self.settings.bulk_virtual_records
        return json_response({"count": n})
