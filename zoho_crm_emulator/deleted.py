"""`GET /crm/v8/{module}/deleted` (https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html)."""

from __future__ import annotations

from .protocol import ApiError, Request, Response, empty_response, json_response
from .record_common import MAX_PER_PAGE, authorization_failed, int_param, resolve_module
from .records import RecordsApi


class DeletedApi:
    def __init__(self, records: RecordsApi):
        self.records = records
        self.state = records.state
        self.settings = records.settings

    def deleted(self, req: Request) -> Response:
        """https://www.zoho.com/crm/developer/docs/api/v8/get-deleted-records.html: 400s come wrapped in
        `{"data": [...]}`; entries stay `deleted_retention_days` (the recycle bin's 60 days)."""
        try:
            return self._deleted(req)
        except ApiError as exc:
            if exc.status == 400:
                exc.wrapped = True
            raise

    def _deleted(self, req: Request) -> Response:
        ms = resolve_module(self.state, req, req.path_params["module"])
        if ms.definition.refusal == "records_authorization":
            raise authorization_failed()
        q = req.query
        kind = q.get("type") or "all"
        if kind not in ("all", "recycle", "permanent"):
            raise ApiError(
                400,
                "PATTERN_NOT_MATCHED",
                "Please check whether the input values are correct",
                {"param_name": "type"},
            )
        per_page = int_param(q, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        page = int_param(q, "page", 1, 1, None)
        ims, _ = self.records.parse_ims(req)
        with self.state.lock:
            days = self.settings.deleted_retention_days
            kept_since = self.state.clock.now() - days * 86400 if days else 0
            items = sorted(
                (
                    d
                    for d in ms.deleted
                    if (kind == "all" or d.item["type"] == kind) and d.deleted_ts >= kept_since
                ),
                key=lambda d: (-d.deleted_ts, -int(d.id)),
            )
            if not items:
                return empty_response(204)
            if ims is not None:
                inclusive = self.settings.if_modified_since_inclusive
                items = [d for d in items if (d.deleted_ts >= ims if inclusive else d.deleted_ts > ims)]
                if not items:
                    return empty_response(304)
            chunk = items[(page - 1) * per_page : page * per_page]
            data = [dict(d.item) for d in chunk]
        if not data:
            return empty_response(204)
        more = page * per_page < len(items)
        info = {"per_page": per_page, "count": len(data), "page": page, "more_records": more}
        return json_response({"data": data, "info": info}, records=len(data))
