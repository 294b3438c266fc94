"""Settings endpoints served per module or per Deals layout: pipelines, custom views, tags.

Z8 = https://www.zoho.com/crm/developer/docs/api/v8/ ; each handler names the page it follows.
"""

from __future__ import annotations

from typing import Any

from .oauth import require_scopes
from .protocol import ApiError, Request, Response, empty_response, json_response, required_param
from .record_common import int_param
from .settings import EmulatorSettings
from .state import DAY, ModuleState, OrgState
from .vocabulary import TAG_COLOURS, TAGS

# Z8/custom-view-meta.html and Z8/get-tags.html list the modules they serve: Zoho's own modules and custom
# modules. Linking, tracker, subform and system modules are not among them: 400 INVALID_MODULE here.
SERVED_KINDS = ("default", "custom")
# Stages of the second pipeline of the Deals layout (Z8/get-pipelines.html: a layout has one or more).
RENEWAL_STAGES = ("Qualification", "Negotiation/Review", "Closed Won", "Closed Lost")
SYSTEM_VIEWS = (
    ("All {p}", "ALLVIEWS"),
    ("My {p}", "MYVIEWS"),
    ("Recently Created {p}", "RECENTLYCREATED"),
    ("Recently Modified {p}", "RECENTLYMODIFIED"),
    ("Unread {p}", "UNREADVIEWS"),
)


def second_deals_layout_id(state: OrgState, ms: ModuleState) -> str:
    return str(state.ids.prefix * 10**12 + 996 * 10**9 + ms.slot)


def extra_layouts(state: OrgState, ms: ModuleState, first: dict[str, Any]) -> list[dict[str, Any]]:
    """Deals gets a second layout without pipelines, so `/settings/pipeline` answers 204 for it."""
    if ms.api_name != "Deals":
        return []
    return [
        first
        | {
            "id": second_deals_layout_id(state, ms),
            "name": "Partner Deals",
            "api_name": "Partner_Deals",
            "display_label": "Partner Deals",
            "mode": "secondary",
            "generated_type": "custom",
        }
    ]


class SettingsApi:
    def __init__(self, state: OrgState, settings: EmulatorSettings):
        self.state = state
        self.settings = settings

    def _served_module(self, req: Request) -> ModuleState:
        name = req.query.get("module")
        if not name:
            raise required_param("module")
        ms = self.state.module(name)
        if ms is None or not ms.definition.api_supported or ms.definition.generated_type not in SERVED_KINDS:
            raise ApiError(400, "INVALID_MODULE", "the given module is not supported", {"param": "module"})
        if not ms.definition.readable:
            raise ApiError(403, "NO_PERMISSION", "permission denied", {"permissions": ["Crm_Implied_View"]})
        return ms

    def _ref(self) -> dict[str, str]:
        admin = self.state.users[0]
        return {"name": admin["full_name"], "id": admin["id"]}

    def _iso(self, days_before: int) -> str:
        return self.state.clock.iso(self.state.window[0] - days_before * DAY)

    # ------------------------------------------------------------------ pipelines (Z8/get-pipelines.html)
    def pipelines(self, req: Request) -> Response:
        """`layout_id` mandatory (400 REQUIRED_PARAM_MISSING), a Deals layout (else 400 INVALID_DATA);
        204 for a layout without pipelines."""
        require_scopes(req.scopes, ["ZohoCRM.settings.pipeline.READ"])
        layout_id = req.query.get("layout_id")
        if not layout_id:
            raise required_param("layout_id")
        deals = self.state.module("Deals")
        if deals is None:
            raise ApiError(400, "INVALID_DATA", "Invalid layoutid", {"param_name": "layout_id"})
        if layout_id == second_deals_layout_id(self.state, deals):
            return empty_response(204)
        if layout_id != deals.layout_id:
            raise ApiError(400, "INVALID_DATA", "Invalid layoutid", {"param_name": "layout_id"})
        with self.state.lock:
            fields = list(self.state.fields_meta(deals))
        stage = next((f for f in fields if f["api_name"] == "Stage"), None)
        values = [v for v in (stage or {}).get("pick_list_values", []) if v["actual_value"] != "-None-"]
        prefix = self.state.ids.prefix * 10**12 + 994 * 10**9
        standard = self._pipeline(str(prefix + 1), "Standard (Standard)", True, values)
        renewals = [v for v in values if v["actual_value"] in RENEWAL_STAGES]
        return json_response(
            {"pipeline": [standard, self._pipeline(str(prefix + 2), "Renewals", False, renewals)]}
        )

    def _pipeline(self, pid: str, name: str, default: bool, values: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "display_value": name,
            "actual_value": name,
            "default": default,
            "id": pid,
            "child_available": False,
            "parent": None,
            "maps": [
                {
                    "display_value": v["display_value"],
                    "actual_value": v["actual_value"],
                    "sequence_number": i + 1,
                    "id": v["id"],
                    "colour_code": v.get("colour_code"),
                    **_forecast(v["actual_value"], self.state.ids.prefix),
                }
                for i, v in enumerate(values)
            ],
        }

    # ---------------------------------------------------------- custom views (Z8/custom-view-meta.html)
    def custom_views(self, req: Request) -> Response:
        """`module` mandatory; `page`/`per_page` ([U] the largest page: `custom_views_max_per_page`)."""
        require_scopes(req.scopes, ["ZohoCRM.settings.custom_views.READ"])
        ms = self._served_module(req)
        per_page = min(int_param(req.query, "per_page", 200, 1, 200), self.settings.custom_views_max_per_page)
        page = int_param(req.query, "page", 1, 1, None)
        views = self._views(ms)
        chunk = views[(page - 1) * per_page : page * per_page]
        if not chunk:
            return empty_response(204)
        info = {
            "per_page": per_page,
            "default": views[0]["id"],
            "count": len(chunk),
            "page": page,
            "more_records": page * per_page < len(views),
            "translation": {"public_views": "Public Views", "created_by_me": "Created By Me"},
        }
        return json_response({"custom_views": chunk, "info": info})

    def _views(self, ms: ModuleState) -> list[dict[str, Any]]:
        plural = ms.definition.plural
        ref = self._ref()
        base = self.state.ids.prefix * 10**12 + 995 * 10**9 + ms.slot * 100
        views: list[dict[str, Any]] = []
        named = [(label.format(p=plural), system) for label, system in SYSTEM_VIEWS]
        if ms.api_name in ("Leads", "Deals"):
            named += [(f"Hot {plural}", None), (f"{plural} this quarter", None)]
        for i, (label, system) in enumerate(named):
            views.append(
                {
                    "id": str(base + i + 1),
                    "name": label,
                    "display_value": label,
                    "system_name": system,
                    "system_defined": system is not None,
                    "default": i == 0,
                    "category": "public_views" if system else "created_by_me",
                    "access_type": "public" if system else "only_to_me",
                    "created_time": None if system else self._iso(40 + i),
                    "modified_time": None if system else self._iso(10 + i),
                    "last_accessed_time": self._iso(i),
                    "created_by": None if system else ref,
                    "modified_by": None if system else ref,
                    "favorite": None,
                    "offline": True,
                    "locked": False,
                    "sort_by": None,
                    "sort_order": None,
                    "shared_to": None,
                    "criteria": None
                    if system
                    else {
                        "comparator": "greater_than",
                        "field": {"api_name": "Modified_Time"},
                        "value": "${THISQUARTER}",
                    },
                }
            )
        return views

    # ---------------------------------------------------------- tags (Z8/get-tags.html, OAS tags.json)
    def tags(self, req: Request) -> Response:
        """`module` mandatory; no paging (OAS `info`: count, allowed_count); a module without tags: []."""
        require_scopes(req.scopes, ["ZohoCRM.settings.tags.READ"])
        ms = self._served_module(req)
        ref = self._ref()
        tagged = ms.definition.has("Tag")
        tags = [
            {
                "name": name,
                "color_code": TAG_COLOURS[i],
                "id": str(self.state.ids.prefix * 10**12 + 998 * 10**9 + i + 1),
                "created_time": self._iso(90 - i),
                "modified_time": self._iso(30 - i),
                "created_by": ref,
                "modified_by": ref,
            }
            for i, name in enumerate(TAGS if tagged else ())
        ]
        return json_response({"tags": tags, "info": {"count": len(tags), "allowed_count": 100}})


def _forecast(stage: str, prefix: int) -> dict[str, Any]:
    """Zoho's sample: Closed Won counts as Closed, lost stages as Omitted, the others as Pipeline."""
    if stage == "Closed Won":
        kind, name, n = "Closed Won", "Closed", 2
    elif stage.startswith("Closed"):
        kind, name, n = "Closed Lost", "Omitted", 3
    else:
        kind, name, n = "Open", "Pipeline", 1
    return {
        "forecast_type": kind,
        "forecast_category": {"name": name, "id": str(prefix * 10**12 + 993 * 10**9 + n)},
    }
