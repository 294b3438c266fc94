"""The control API under `/__emulator__/` (no auth, JSON in and out), shared with the Python methods."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from .faults import Faults
from .formulas import recompute_formulas
from .oauth import TokenStore
from .protocol import Request, Response, json_response
from .record_common import PageTokens
from .settings import EmulatorSettings
from .state import OrgState
from .stats import Stats

Handler = Callable[[dict[str, Any], dict[str, str]], Any]


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Control:
    """Given the parts it drives, not the Application: `app.py` imports this module, never the reverse."""

    def __init__(
        self,
        settings: EmulatorSettings,
        state: OrgState,
        tokens: TokenStore,
        page_tokens: PageTokens,
        faults: Faults,
        stats: Stats,
    ):
        self._settings, self._state, self._tokens = settings, state, tokens
        self._page_tokens, self._faults, self._stats = page_tokens, faults, stats
        m = r"/__emulator__/modules/(?P<module>[^/]+)"
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/__emulator__/stats"), lambda b, p: self.stats()),
            ("POST", re.compile(r"/__emulator__/stats/reset"), lambda b, p: self.reset_stats()),
            ("POST", re.compile(m + "/modify"), lambda b, p: self.modify(p["module"], **b)),
            ("POST", re.compile(m + "/create"), lambda b, p: self.create(p["module"], **b)),
            ("POST", re.compile(m + "/delete"), lambda b, p: self.delete(p["module"], **b)),
            ("POST", re.compile(m + "/fields"), lambda b, p: self.add_field(p["module"], **b)),
            (
                "POST",
                re.compile(m + "/recompute_formulas"),
                lambda b, p: self.recompute_formulas(p["module"], **b),
            ),
            ("POST", re.compile(r"/__emulator__/tokens/expire"), lambda b, p: self.expire_tokens()),
            ("POST", re.compile(r"/__emulator__/page_tokens/expire"), lambda b, p: self.expire_page_tokens()),
            (
                "POST",
                re.compile(r"/__emulator__/refresh_tokens"),
                lambda b, p: {"refresh_token": self.new_refresh_token(b.get("scopes"))},
            ),
            (
                "POST",
                re.compile(r"/__emulator__/grant_codes"),
                lambda b, p: {"code": self.new_grant_code(b.get("scopes"), b.get("expires_in", 180))},
            ),
            (
                "POST",
                re.compile(r"/__emulator__/consent"),
                lambda b, p: self.consent(bool(b.get("deny", False))),
            ),
            ("GET", re.compile(r"/__emulator__/faults"), lambda b, p: self.faults()),
            ("POST", re.compile(r"/__emulator__/faults"), lambda b, p: self.faults(**b)),
            ("GET", re.compile(r"/__emulator__/settings"), lambda b, p: self.settings()),
            ("POST", re.compile(r"/__emulator__/settings"), lambda b, p: self.settings(**b)),
        ]

    def handle(self, req: Request) -> Response:
        matched_path = False
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(req.path)
            if not match:
                continue
            matched_path = True
            if method != req.method:
                continue
            try:
                body = orjson.loads(req.body) if req.body.strip() else {}
                if not isinstance(body, dict):
                    raise ControlError(400, "the body must be a JSON object")
                return json_response(handler(body, match.groupdict()))
            except ControlError as exc:
                return json_response({"error": str(exc)}, exc.status)
            except (TypeError, ValueError, orjson.JSONDecodeError) as exc:
                return json_response({"error": str(exc)}, 400)
            except KeyError as exc:
                return json_response({"error": str(exc.args[0])}, 404)
        if matched_path:
            return json_response({"error": f"method {req.method} not allowed"}, 405)
        return json_response({"error": f"no control endpoint {req.path}"}, 404)

    # ------------------------------------------------------------------ operations
    def stats(self) -> dict[str, Any]:
        return self._stats.snapshot(self._tokens.token_grants)

    def reset_stats(self) -> dict[str, Any]:
        self._stats.reset(self._tokens.token_grants)
        return {"status": "reset"}

    def modify(
        self,
        module: str,
        count: int = 1,
        modified_time: str | None = None,
        ids: list[str] | None = None,
        keep_modified_time: bool = False,
    ) -> dict[str, Any]:
        return self._state.modify(module, int(count), modified_time, ids, keep_modified_time)

    def create(self, module: str, count: int = 1, modified_time: str | None = None) -> dict[str, Any]:
        return self._state.create(module, int(count), modified_time)

    def delete(
        self,
        module: str,
        count: int = 1,
        ids: list[str] | None = None,
        type: str = "recycle",
        deleted_time: str | None = None,
    ) -> dict[str, Any]:
        return self._state.delete(module, int(count), ids, type, deleted_time)

    def add_field(
        self,
        module: str,
        api_name: str,
        data_type: str,
        json_type: str | None = None,
        fill: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        return self._state.add_field(module, api_name, data_type, json_type, fill, **extra)

    def recompute_formulas(
        self, module: str, count: int | None = None, ids: list[str] | None = None
    ) -> dict[str, Any]:
        return recompute_formulas(self._state, module, count, ids)

    def expire_tokens(self) -> dict[str, Any]:
        return {"expired": self._tokens.expire_all()}

    def expire_page_tokens(self) -> dict[str, Any]:
        self._page_tokens.expire_all()
        return {"status": "expired"}

    def new_refresh_token(self, scopes: list[str] | None = None) -> str:
        return self._tokens.new_refresh_token(scopes)

    def new_grant_code(self, scopes: list[str] | None = None, expires_in: float = 180) -> str:
        return self._tokens.new_grant_code(scopes, float(expires_in))

    def consent(self, deny: bool) -> dict[str, Any]:
        self._tokens.consent_denied = deny
        return {"deny": deny}

    def faults(self, **changes: Any) -> dict[str, Any]:
        if changes:
            return self._faults.configure(changes)
        return self._faults.current()

    def settings(self, **changes: Any) -> dict[str, Any]:
        if changes:
            self._settings.update(changes)
        return self._settings.to_dict()
