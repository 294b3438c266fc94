"""Metadata endpoints: modules, fields, layouts, org, users, roles, profiles, currencies, territories."""

from __future__ import annotations

from typing import Any

from .oauth import require_scopes
from .protocol import (
    ApiError,
    Request,
    Response,
    empty_response,
    invalid_module,
    invalid_param,
    json_response,
    no_permission,
    required_param,
)
from .record_common import int_param
from .settings import EmulatorSettings
from .settings_api import extra_layouts
from .state import DAY, ModuleState, OrgState

USER_TYPES = (
    "AllUsers",
    "ActiveUsers",
    "DeactiveUsers",
    "ConfirmedUsers",
    "NotConfirmedUsers",
    "DeletedUsers",
    "ActiveConfirmedUsers",
    "AdminUsers",
    "ActiveConfirmedAdmins",
    "CurrentUser",
)


class MetadataApi:
    def __init__(self, state: OrgState, settings: EmulatorSettings):
        self.state = state
        self.settings = settings

    # ------------------------------------------------------------------ modules
    def module_meta(self, ms: ModuleState, seq: int) -> dict[str, Any]:
        d, state = ms.definition, self.state
        admin = state.users[0]
        profiles = state.profiles if d.readable else state.profiles[:1]
        api = d.api_supported
        user_module = api and d.generated_type in ("default", "custom")
        parent = ms.parent if ms.is_subform else self.state.module(d.meta_parent or "")
        return {
            "api_name": d.api_name,
            "module_name": ms.module_name,
            "plural_label": d.plural,
            "singular_label": d.singular,
            "id": ms.id,
            "generated_type": d.generated_type,
            "api_supported": api,
            "creatable": user_module,
            "editable": user_module,
            "deletable": user_module,
            "viewable": d.viewable,
            "convertable": d.api_name == "Leads",
            "quick_create": user_module,
            "status": "visible",
            "visibility": 1,
            "visible": True,
            "show_as_tab": d.generated_type in ("default", "custom", "webtab_link"),
            "sequence_number": seq,
            "presence_sub_menu": False,
            "sub_menu_available": False,
            "triggers_supported": user_module,
            "feeds_required": False,
            "scoring_supported": user_module,
            "webform_supported": user_module,
            "global_search_supported": api,
            "filter_supported": api,
            "kanban_view": False,
            "kanban_view_supported": user_module,
            "chart_view": False,
            "chart_view_supported": user_module,
            "isBlueprintSupported": user_module,
            "emailTemplate_support": user_module,
            "email_parser_supported": False,
            "inventory_template_supported": d.api_name
            in ("Quotes", "Sales_Orders", "Invoices", "Purchase_Orders"),
            "recycle_bin_on_delete": True,
            "track_current_data": False,
            "activity_badge": "Disabled",
            "business_card_field_limit": 5,
            "has_more_profiles": False,
            "profile_count": len(profiles),
            "web_link": None,
            "description": None,
            "arguments": [],
            "territory": None,
            "parent_module": {"api_name": parent.api_name, "id": parent.id} if parent is not None else {},
            "lookupable": api and parent is None,
            "per_page": 200 if api else None,
            "profiles": [{"name": p["name"], "id": p["id"]} for p in profiles],
            "modified_time": state.clock.iso(state.window[0] - (seq % 40) * DAY) if api else None,
            "modified_by": {"name": admin["full_name"], "id": admin["id"]} if api else None,
        }

    def modules(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.modules.READ"])
        metas = [self.module_meta(ms, i + 1) for i, ms in enumerate(self.state.modules.values())]
        return json_response({"modules": metas})

    def module(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.modules.READ"])
        ms = self.state.module(req.path_params["module"])
        if ms is None:
            raise invalid_module()
        seq = list(self.state.modules).index(ms.api_name) + 1
        return json_response({"modules": [self.module_meta(ms, seq)]})

    def _module_param(self, req: Request) -> ModuleState:
        name = req.query.get("module")
        if not name:
            raise required_param("module")
        ms = self.state.module(name)
        if ms is None or not ms.definition.api_supported:
            raise ApiError(
                400, "INVALID_MODULE", "the module name given seems to be invalid", {"param": "module"}
            )
        if not ms.definition.readable:
            raise no_permission(ms.api_name)
        return ms

    # ------------------------------------------------------------------ fields and layouts
    def fields(self, req: Request) -> Response:
        """Refusals as documented (https://www.zoho.com/crm/developer/docs/api/v8/field-meta.html, OAS
        fields.json): 204, 400 INVALID_MODULE ("The given module is not supported in API"), 403
        NOT_SUPPORTED."""
        require_scopes(req.scopes, ["ZohoCRM.settings.fields.READ"])
        ms = self._module_param(req)
        refusal = ms.definition.refusal
        if refusal == "fields_204":
            return empty_response(204)
        if refusal == "fields_invalid":
            raise ApiError(
                400, "INVALID_MODULE", "The given module is not supported in API", {"module": ms.api_name}
            )
        if refusal == "fields_not_supported":
            raise ApiError(
                403, "NOT_SUPPORTED", "The module is not supported for this user", {"module": ms.api_name}
            )
        with self.state.lock:
            fields = list(self.state.fields_meta(ms))
        return json_response({"fields": fields})

    def layouts(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.layouts.READ"])
        ms = self._module_param(req)
        state = self.state
        with state.lock:
            fields = list(state.fields_meta(ms))
        admin = state.users[0]
        ref = {"name": admin["full_name"], "id": admin["id"], "email": admin["email"]}
        keep = (
            "api_name",
            "display_label",
            "field_label",
            "data_type",
            "json_type",
            "id",
            "system_mandatory",
            "custom_field",
            "read_only",
            "visible",
            "length",
            "decimal_place",
            "lookup",
            "pick_list_values",
            "subform",
            "sequence_number",
        )
        layout_fields = [
            {k: f[k] for k in keep if k in f} | {"required": f["system_mandatory"]} for f in fields
        ]
        section = {
            "display_label": f"{ms.definition.singular} Information",
            "sequence_number": 1,
            "isSubformSection": False,
            "tab_traversal": "left_to_right",
            "api_name": "Information",
            "column_count": 2,
            "name": "Information",
            "generated_type": "default",
            "id": str(state.ids.prefix * 10**12 + 997 * 10**9 + ms.slot),
            "type": "used",
            "fields": layout_fields,
            "properties": None,
        }
        layout = {
            "id": ms.layout_id,
            "name": "Standard",
            "api_name": "Standard",
            "display_label": "Standard",
            "status": "active",
            "visible": True,
            "source": "crm",
            "mode": "primary",
            "generated_type": "default",
            "display_type": -1,
            "show_business_card": False,
            "has_more_profiles": False,
            "created_time": state.clock.iso(state.window[0] - 200 * DAY),
            "modified_time": state.clock.iso(state.window[0] - 5 * DAY),
            "created_by": ref,
            "modified_by": ref,
            "created_for": None,
            "convert_mapping": {},
            "subform_properties": None,
            "profiles": [
                {
                    "name": p["name"],
                    "id": p["id"],
                    "default": True,
                    "_default_view": {"name": "Standard", "id": ms.layout_id, "type": "layout"},
                }
                for p in state.profiles[:2]
            ],
            "sections": [section],
            "actions_allowed": {
                "edit": True,
                "rename": True,
                "clone": True,
                "downgrade": False,
                "delete": False,
                "deactivate": False,
                "set_layout_permissions": True,
            },
        }
        return json_response({"layouts": [layout, *extra_layouts(state, ms, layout)]})

    # ------------------------------------------------------------------ org and people
    def org(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.org.READ"])
        self.state.refresh_org_license()
        return json_response({"org": [self.state.org]})

    def currencies(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.currencies.READ", "ZohoCRM.org.READ"])
        return json_response({"currencies": self.state.currencies})

    def users(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.users.READ"])
        q = req.query
        kind = q.get("type") or "AllUsers"
        if kind not in USER_TYPES:
            raise invalid_param("type", "invalid data", supported_values=list(USER_TYPES))
        per_page = int_param(q, "per_page", 200, 1, 200)
        page = int_param(q, "page", 1, 1, None)
        users = [u for u in self.state.users if user_matches(u, kind, self.state.current_user["id"])]
        chunk = users[(page - 1) * per_page : page * per_page]
        if not chunk:
            return Response(status=204, body=b"", content_type=None)
        info = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": page * per_page < len(users),
        }
        return json_response({"users": chunk, "info": info})

    def roles(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.roles.READ"])
        return json_response({"roles": self.state.roles})

    def profiles(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.profiles.READ"])
        return json_response({"profiles": self.state.profiles, "info": {"license_limit": 25}})

    def territories(self, req: Request) -> Response:
        require_scopes(req.scopes, ["ZohoCRM.settings.territories.READ"])
        if not self.settings.territories_enabled:
            raise ApiError(400, "TERRITORY_NOT_ENABLED", "the territory feature is not enabled")
        items = self.state.territories
        info = {"per_page": 200, "count": len(items), "page": 1, "more_records": False}
        return json_response({"territories": items, "info": info})


def user_matches(user: dict[str, Any], kind: str, current_id: str) -> bool:
    active = user["status"] == "active"
    admin = user["profile"]["name"] == "Administrator"
    return {
        "AllUsers": user["status"] != "deleted",
        "ActiveUsers": active,
        "DeactiveUsers": user["status"] == "disabled",
        "DeletedUsers": user["status"] == "deleted",
        "ConfirmedUsers": user["confirm"],
        "NotConfirmedUsers": not user["confirm"],
        "ActiveConfirmedUsers": active and user["confirm"],
        "AdminUsers": admin,
        "ActiveConfirmedAdmins": admin and active and user["confirm"],
        "CurrentUser": user["id"] == current_id,
    }[kind]
