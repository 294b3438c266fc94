"""Zoho's rich-text API (https://www.zoho.com/crm/developer/docs/api/v8/get-rich-text-fields.html; OAS
fetch_full_data.json): list GETs cut rich-text values to 500 characters, this gives them whole.

`GET /crm/v8/{module}/actions/fetch_full_data?ids=<up to 200>&fields=<rich-text fields>` (both mandatory) and
`GET /crm/v8/{module}/{id}/actions/fetch_full_data?fields=` answer `{"data": [{"id", <field>: <html>}]}`.
"""

from __future__ import annotations

from .protocol import ApiError, Request, Response, empty_response, json_response, required_param
from .record_common import resolve_module
from .state import OrgState

MAX_IDS = 200


class RichTextApi:
    def __init__(self, state: OrgState):
        self.state = state

    def many(self, req: Request) -> Response:
        raw = req.query.get("ids")
        if not raw or not raw.strip():
            raise required_param("ids")
        ids = list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))
        if len(ids) > MAX_IDS:
            raise ApiError(
                400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_IDS, "param_name": "ids"}
            )
        return self._answer(req, ids)

    def one(self, req: Request) -> Response:
        return self._answer(req, [req.path_params["id"]])

    def _answer(self, req: Request, ids: list[str]) -> Response:
        ms = resolve_module(self.state, req, req.path_params["module"])
        raw = req.query.get("fields")
        if not raw or not raw.strip():
            raise required_param("fields")
        rich = {spec.api_name for spec in ms.definition.fields if spec.rich_text}
        fields = list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
        for name in fields:
            if name not in rich:
                raise ApiError(
                    400,
                    "INVALID_DATA",
                    "the field is not a rich text field",
                    {"api_name": name, "param_name": "fields"},
                )
        with self.state.lock:
            data = [
                {"id": rid, **{name: ms.entries[rid].rec.get(name) for name in fields}}
                for rid in ids
                if rid in ms.entries
            ]
        if not data:
            return empty_response(204)
        return json_response({"data": data}, records=len(data))
