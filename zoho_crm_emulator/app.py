"""Routing and the per-request pipeline (concurrency limit, latency, faults, auth), independent of sockets."""

from __future__ import annotations

import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from .bulk import BulkApi
from .control import Control
from .coql_api import CoqlApi, coql_credits
from .credits import Credits
from .deleted import DeletedApi
from .faults import Faults
from .metadata import MetadataApi
from .oauth import TokenStore
from .protocol import ApiError, Request, Response, invalid_url, json_response
from .record_common import PageTokens
from .records import RecordsApi
from .related import RelatedApi
from .rich_text import RichTextApi
from .settings import EmulatorSettings
from .settings_api import SettingsApi
from .state import OrgState
from .stats import Stats

_DC = re.compile(r"^/dc/(?P<region>[^/]+)(?P<rest>/.*)$")
M = r"(?P<module>[^/]+)"


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # the template used as the stats key, e.g. "GET /crm/v8/{module}"
    handler: Callable[[Request], Response]
    kind: str  # "api", "complex" (bulk and COQL: also the sub-concurrency limit) or "oauth"


@dataclass
class Outcome:
    response: Response | None
    action: str | None = None  # "drop" (close without answering) or "truncate" (half the body, then close)


class Application:
    def __init__(self, settings: EmulatorSettings):
        self.settings = settings
        self.base_url = ""
        self.state = OrgState(settings)
        self.tokens = TokenStore(settings, lambda: self.base_url)
        self.page_tokens = PageTokens()
        self.records = RecordsApi(self.state, settings, self.page_tokens)
        self.metadata = MetadataApi(self.state, settings)
        self.settings_api = SettingsApi(self.state, settings)
        self.coql = CoqlApi(self.state)
        self.bulk = BulkApi(self.state, settings)
        self.rich_text = RichTextApi(self.state)
        self.related = RelatedApi(self.state, settings)
        self.deleted = DeletedApi(self.records)
        self.faults = Faults(settings)
        self.credits = Credits(settings, sum(1 for u in self.state.users if u["status"] == "active"))
        self.stats = Stats()
        self.control = Control(settings, self.state, self.tokens, self.page_tokens, self.faults, self.stats)
        md, rec = self.metadata, self.records
        table: list[tuple[str, str, Callable[[Request], Response], str]] = [
            ("POST", "/oauth/v2/token", self.tokens.token, "oauth"),
            ("POST", "/oauth/v2/token/revoke", self.tokens.revoke, "oauth"),
            ("GET", "/oauth/v2/auth", self.tokens.authorize, "oauth"),
            ("GET", "/crm/v8/settings/modules", md.modules, "api"),
            ("GET", f"/crm/v8/settings/modules/{M}", md.module, "api"),
            ("GET", "/crm/v8/settings/fields", md.fields, "api"),
            ("GET", "/crm/v8/settings/layouts", md.layouts, "api"),
            ("GET", "/crm/v8/settings/roles", md.roles, "api"),
            ("GET", "/crm/v8/settings/profiles", md.profiles, "api"),
            ("GET", "/crm/v8/settings/territories", md.territories, "api"),
            ("GET", "/crm/v8/settings/pipeline", self.settings_api.pipelines, "api"),
            ("GET", "/crm/v8/settings/custom_views", self.settings_api.custom_views, "api"),
            ("GET", "/crm/v8/settings/tags", self.settings_api.tags, "api"),
            ("GET", "/crm/v8/org", md.org, "api"),
            ("GET", "/crm/v8/org/currencies", md.currencies, "api"),
            ("GET", "/crm/v8/users", md.users, "api"),
            ("POST", "/crm/v8/coql", self.coql.query, "complex"),
            ("GET", f"/crm/v8/{M}/deleted", self.deleted.deleted, "api"),
            ("GET", f"/crm/v8/{M}/actions/count", rec.count, "api"),
            ("GET", f"/crm/v8/{M}/actions/fetch_full_data", self.rich_text.many, "api"),
            ("GET", f"/crm/v8/{M}/(?P<id>[0-9]+)/actions/fetch_full_data", self.rich_text.one, "api"),
            ("GET", f"/crm/v8/{M}/(?P<id>[0-9]+)/(?P<related>[A-Za-z_]+)", self.related.list, "api"),
            ("GET", f"/crm/v8/{M}/(?P<id>[0-9]+)", rec.one, "api"),
            ("GET", f"/crm/v8/{M}", rec.list, "api"),
            ("POST", "/crm/bulk/v8/read", self.bulk.create, "complex"),
            ("GET", "/crm/bulk/v8/read/(?P<job_id>[0-9]+)", self.bulk.status, "api"),
            ("GET", "/crm/bulk/v8/read/(?P<job_id>[0-9]+)/result", self.bulk.result, "api"),
        ]
        self.control.routes.append(
            (
                "POST",
                re.compile(r"/__emulator__/modules/(?P<module>[^/]+)/attach"),
                lambda b, p: self.related.attach(p["module"], **b),
            )
        )
        self.control.routes.append(
            ("POST", re.compile(r"/__emulator__/deals/stage"), lambda b, p: self.related.change_stage(**b))
        )
        self.routes = [
            Route(method, re.compile(path), f"{method} {template(path)}", handler, kind)
            for method, path, handler, kind in table
        ]

    # ------------------------------------------------------------------ pipeline
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.perf_counter()
        raw_path, _, raw_query = target.partition("?")
        path = unquote(raw_path)
        dc = None
        match = _DC.match(path)
        if match:
            region, path = match.group("region"), match.group("rest")
            dc = None if region == self.settings.home_dc else region
        req = Request(
            method, path, dict(parse_qsl(raw_query, keep_blank_values=True)), headers, body, raw_query, dc
        )
        if path.startswith("/__emulator__/"):
            return Outcome(self.control.handle(req))
        route, wrong_method = self._route(req)
        if route is None:
            error = (
                ApiError(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
                if wrong_method
                else invalid_url()
            )
            return self._done(req, raw_path, "<unmatched>", error.response(), started)
        if route.kind == "oauth":
            return self._done(req, raw_path, route.endpoint, route.handler(req), started)
        return self._api(req, raw_path, route, started)

    def _route(self, req: Request) -> tuple[Route | None, bool]:
        wrong_method = False
        for route in self.routes:
            match = route.pattern.fullmatch(req.path)
            if match:
                if route.method == req.method:
                    req.path_params = match.groupdict()
                    return route, False
                wrong_method = True
        return None, wrong_method

    def _api(self, req: Request, raw_path: str, route: Route, started: float) -> Outcome:
        s = self.settings
        complex_api = route.kind == "complex"
        if not self.stats.enter(complex_api, s.effective_concurrency_limit, s.complex_concurrency_limit):
            return self._done(req, raw_path, route.endpoint, too_many_requests(s.retry_after), started)
        action: str | None = None
        try:
            if s.latency_ms:
                time.sleep(s.latency_ms / 1000)
            action = self.faults.decide(req.path + ("?" + req.raw_query if req.raw_query else ""))
            if action == "drop":
                self._done(req, raw_path, route.endpoint, Response(status=0), started, action)
                return Outcome(None, "drop")
            if action is not None and action.isdigit():
                response = fault_response(int(action), s.retry_after)
            else:
                req.scopes = self.tokens.authenticate(req).scopes
                remaining = self.credits.charge(self._cost(req, route))
                response = route.handler(req)
                self.credits.stamp(response, remaining)
        except ApiError as exc:
            response = exc.response()
        except Exception:  # noqa: BLE001 - an emulator bug must still answer, like Zoho's 500
            traceback.print_exc(file=sys.stderr)
            response = ApiError(500, "INTERNAL_ERROR", "Internal server error occurred.").response()
        finally:
            self.stats.leave(complex_api)
        return self._done(req, raw_path, route.endpoint, response, started, action)

    @staticmethod
    def _cost(req: Request, route: Route) -> int:
        """Credits of a call: COQL by its LIMIT, every other call 1 (credits.py)."""
        if route.endpoint != "POST /crm/v8/coql":
            return 1
        try:
            body = req.json()
        except ApiError:
            return 1
        return coql_credits(body.get("select_query") if isinstance(body, dict) else None)

    def _done(
        self,
        req: Request,
        raw_path: str,
        endpoint: str,
        response: Response,
        started: float,
        action: str | None = None,
    ) -> Outcome:
        self.stats.record(
            endpoint,
            req.method,
            raw_path,
            req.query,
            response.status,
            response.records,
            started,
            req.header("If-Modified-Since"),
            action,
        )
        return Outcome(response, action if action in ("truncate", "drop") else None)


def template(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{" + m.group(1) + "}", pattern)


def too_many_requests(retry_after: int | None) -> Response:
    response = ApiError(
        429,
        "TOO_MANY_REQUESTS",
        "The number of concurrent requests has exceeded the limit "
        "allowed for your organization. Please try again later.",
    ).response()
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def fault_response(status: int, retry_after: int | None) -> Response:
    if status == 429:
        response = ApiError(
            429, "TOO_MANY_REQUESTS", "You have exceeded the API limit. Please try again later."
        ).response()
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    if status == 401:
        return ApiError(401, "INVALID_TOKEN", "invalid oauth token").response()
    return json_response(
        {
            "code": "INTERNAL_ERROR",
            "details": {},
            "message": "Internal server error occurred.",
            "status": "error",
        },
        status,
    )
