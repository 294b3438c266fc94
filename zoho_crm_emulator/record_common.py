"""What the record endpoints share: module resolution and its refusals, page tokens, integer parameters."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .oauth import require_scopes
from .protocol import (
    ApiError,
    Request,
    invalid_module,
    invalid_param,
    no_permission,
)
from .state import ModuleState, OrgState

MAX_PER_PAGE = 200


def module_scopes(ms: ModuleState) -> list[str]:
    """Scopes that grant reading module X: `ZohoCRM.modules.{x}.READ` under any of its names (or a parent).
    A subform module is read with its parent module's scopes."""
    if ms.is_subform and ms.parent is not None:
        return module_scopes(ms.parent)
    names = {ms.api_name.lower(), ms.api_name.lower().replace("_", ""), ms.module_name.lower()}
    scopes = [f"ZohoCRM.modules.{name}.READ" for name in sorted(names)]
    if ms.definition.generated_type == "custom":
        scopes.append("ZohoCRM.modules.custom.READ")
    return scopes


def authorization_failed() -> ApiError:
    return ApiError(400, "AUTHORIZATION_FAILED", "User does not have sufficient privilege")


COUNT_SEARCH_SCOPE = ["ZohoSearch.securesearch.READ"]


def resolve_module(state: OrgState, req: Request, name: str, *extra_scopes: list[str]) -> ModuleState:
    """The module named in the request, checked in Zoho's order: exists, token scope, user permission."""
    ms = state.module(name)
    if ms is None or not ms.definition.api_supported:
        raise invalid_module()
    require_scopes(req.scopes, *extra_scopes, module_scopes(ms))
    if not ms.definition.readable or ms.definition.refusal == "records_no_permission":
        raise no_permission(ms.api_name)
    if ms.definition.refusal == "records_authorization":
        raise authorization_failed()
    return ms


@dataclass
class Cursor:
    """What a page token stands for: the query it is bound to and where the next page starts."""

    module: str
    binding: tuple[Any, ...]
    position: tuple[int, int] | None  # keyset mode: sort key of the last record served
    offset: int  # offset mode: matching records to skip; both modes: records served in the chain
    page: int
    expires_at: float
    prev: str | None


class PageTokens:
    def __init__(self, max_tokens: int = 100_000):
        self.lock = threading.Lock()
        self.tokens: OrderedDict[str, Cursor] = OrderedDict()
        self.max_tokens = max_tokens

    def issue(self, cursor: Cursor) -> str:
        token = secrets.token_hex(40)
        with self.lock:
            self.tokens[token] = cursor
            while len(self.tokens) > self.max_tokens:
                self.tokens.popitem(last=False)
        return token

    def get(self, token: str) -> Cursor | None:
        with self.lock:
            return self.tokens.get(token)

    def expire_all(self) -> None:
        with self.lock:
            for cursor in self.tokens.values():
                cursor.expires_at = 0


def int_param(q: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise invalid_param(name, "invalid data", expected_data_type="integer") from exc
    if value < low or (high is not None and value > high):
        details = {"minimum": low} if high is None else {"minimum": low, "maximum": high}
        raise invalid_param(name, "invalid data", **details)
    return value
