"""Zoho's accounts server: token grants, revocation, consent redirect, access-token checks and scopes."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from .protocol import ApiError, Request, Response, json_response, redirect
from .settings import EmulatorSettings

DEFAULT_SCOPES = [
    "ZohoCRM.modules.READ",
    "ZohoCRM.settings.READ",
    "ZohoCRM.org.READ",
    "ZohoCRM.users.READ",
    "ZohoCRM.bulk.READ",
    "ZohoCRM.coql.READ",
    "ZohoSearch.securesearch.READ",  # the record count API (records.py)
]
THROTTLE_WINDOW = 600.0
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}
# [U] Accounts of Zoho's China data centre get the throttle answer in Chinese (`throttle_locale="zh"`):
# only its structure (`status: failure`, an `error` and an `error_description`) can be relied on.
THROTTLE_BODY_ZH = {
    "error_description": "您的请求过于频繁，请稍后再试。",
    "error": "访问被拒绝",
    "status": "failure",
}
DC_LOCATIONS = {
    "com": "us",
    "eu": "eu",
    "in": "in",
    "com.au": "au",
    "com.cn": "cn",
    "jp": "jp",
    "ca": "ca",
    "sa": "sa",
    "uk": "uk",
}


def covers(granted: str, required: str) -> bool:
    """`ZohoCRM.modules.ALL` covers `ZohoCRM.modules.leads.READ`: a parent path; ALL covers any operation."""
    g, r = granted.lower().split("."), required.lower().split(".")
    if len(g) < 2 or len(r) < 2 or g[0] != r[0]:
        return False
    if g[-1] != "all" and g[-1] != r[-1]:
        return False
    g_path, r_path = g[1:-1], r[1:-1]
    return r_path[: len(g_path)] == g_path


def require_scopes(granted: Iterable[str], *requirements: Iterable[str]) -> None:
    """Each requirement is a set of alternatives; every requirement needs one covered alternative."""
    granted = list(granted)
    for alternatives in requirements:
        if not any(covers(g, r) for r in alternatives for g in granted):
            raise ApiError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")


def split_scopes(text: str) -> list[str]:
    return [s for s in text.replace(",", " ").split() if s]


@dataclass
class RefreshToken:
    token: str
    scopes: list[str]
    created: float
    revoked: bool = False
    issued: deque[float] = field(default_factory=deque)  # issue times of access tokens, for the throttle
    live: deque[str] = field(default_factory=deque)  # access tokens, oldest first


@dataclass
class AccessToken:
    token: str
    refresh: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class GrantCode:
    code: str
    scopes: list[str]
    expires_at: float
    redirect_uri: str | None = None
    used: bool = False


def _token(rng: random.Random | None = None) -> str:
    if rng is None:
        return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
    return f"1000.{rng.getrandbits(128):032x}.{rng.getrandbits(128):032x}"


class TokenStore:
    def __init__(self, settings: EmulatorSettings, base_url: Callable[[], str]):
        self.settings = settings
        self.base_url = base_url
        self.lock = threading.Lock()
        rng = random.Random(f"{settings.seed}:oauth")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        self.client_id = "1000." + "".join(rng.choice(alphabet) for _ in range(30))
        self.client_secret = f"{rng.getrandbits(168):042x}"
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.codes: dict[str, GrantCode] = {}
        self.consent_denied = False
        self.token_grants = 0
        self.default_refresh_token = self._add_refresh(DEFAULT_SCOPES, _token(rng))

    # ------------------------------------------------------------------ minting
    def _add_refresh(self, scopes: list[str], token: str | None = None) -> str:
        token = token or _token()
        limit = self.settings.max_refresh_tokens
        live = [t for t in self.refresh_tokens.values() if not t.revoked]  # oldest first
        if limit and len(live) >= limit:
            default = getattr(self, "default_refresh_token", None)
            evictable = [t for t in live if t.token != default]  # the emulator's own credentials stay
            if evictable:
                self._revoke_refresh(evictable[0])
        self.refresh_tokens[token] = RefreshToken(token, list(scopes), time.time())
        return token

    def new_refresh_token(self, scopes: list[str] | None = None) -> str:
        with self.lock:
            return self._add_refresh(list(scopes or DEFAULT_SCOPES))

    def new_grant_code(
        self, scopes: list[str] | None = None, expires_in: float = 180, redirect_uri: str | None = None
    ) -> str:
        code = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        with self.lock:
            self.codes[code] = GrantCode(
                code, list(scopes or DEFAULT_SCOPES), time.time() + expires_in, redirect_uri
            )
        return code

    def expire_all(self) -> int:
        with self.lock:
            now = time.time()
            for token in self.access_tokens.values():
                token.expires_at = min(token.expires_at, now - 1)
            return len(self.access_tokens)

    def _revoke_refresh(self, refresh: RefreshToken) -> None:
        refresh.revoked = True
        for token in refresh.live:
            if token in self.access_tokens:
                self.access_tokens[token].revoked = True

    def _issue(self, refresh: RefreshToken) -> AccessToken:
        now = time.time()
        access = AccessToken(
            _token(), refresh.token, frozenset(refresh.scopes), now + self.settings.token_ttl
        )
        self.access_tokens[access.token] = access
        refresh.issued.append(now)
        refresh.live.append(access.token)
        limit = self.settings.max_live_access_tokens
        while limit and len(refresh.live) > limit:  # the 16th kills the oldest
            oldest = self.access_tokens.pop(refresh.live.popleft(), None)
            if oldest:
                oldest.revoked = True
        self.token_grants += 1
        if len(self.access_tokens) > 5000:
            self.access_tokens = {k: v for k, v in self.access_tokens.items() if v.expires_at > now}
        return access

    def _throttled(self, refresh: RefreshToken) -> bool:
        limit = self.settings.token_throttle
        if not limit:
            return False
        now = time.time()
        while refresh.issued and refresh.issued[0] <= now - THROTTLE_WINDOW:
            refresh.issued.popleft()
        return len(refresh.issued) >= limit

    # ------------------------------------------------------------------ endpoints
    def token(self, req: Request) -> Response:
        params = dict(req.query)
        if req.body:
            params.update(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        if req.dc is not None:  # another data centre: this org's client does not exist there
            return json_response({"error": "invalid_client"})
        if params.get("client_id") != self.client_id:
            return json_response({"error": "invalid_client"})
        if params.get("client_secret") != self.client_secret:  # Zoho OAuth docs: its own error code
            code = "invalid_client_secret" if self.settings.invalid_client_secret else "invalid_client"
            return json_response({"error": code})
        grant_type = params.get("grant_type")
        with self.lock:
            if grant_type == "refresh_token":
                refresh = self.refresh_tokens.get(params.get("refresh_token", ""))
                if refresh is None or refresh.revoked:
                    return json_response({"error": "invalid_code"})
                if self._throttled(refresh):
                    body = THROTTLE_BODY_ZH if self.settings.throttle_locale == "zh" else THROTTLE_BODY
                    return json_response(body, self.settings.throttle_status)
                return json_response(self._grant_body(self._issue(refresh)))
            if grant_type == "authorization_code":
                grant = self.codes.get(params.get("code", ""))
                if grant is None or grant.used or grant.expires_at < time.time():
                    return json_response({"error": "invalid_code"})
                if grant.redirect_uri and params.get("redirect_uri") != grant.redirect_uri:
                    return json_response({"error": "invalid_redirect_uri"})
                grant.used = True
                refresh = self.refresh_tokens[self._add_refresh(grant.scopes)]
                body = self._grant_body(self._issue(refresh))
                body["refresh_token"] = refresh.token
                return json_response(body)
        if not grant_type:
            return json_response({"error": "invalid_request"})
        return json_response({"error": "unsupported_grant_type"})

    def _grant_body(self, access: AccessToken) -> dict[str, object]:
        refresh = self.refresh_tokens[access.refresh]
        body: dict[str, object] = {"access_token": access.token}
        if self.settings.token_scope_field:
            body["scope"] = " ".join(refresh.scopes)
        return body | {
            "api_domain": self.base_url(),
            "token_type": "Bearer",
            "expires_in": self.settings.token_ttl,
        }

    def revoke(self, req: Request) -> Response:
        params = dict(req.query)
        if req.body:
            params.update(parse_qsl(req.body.decode("utf-8", "replace")))
        token = params.get("token", "")
        with self.lock:
            if req.dc is None:
                refresh = self.refresh_tokens.get(token)
                if refresh is not None:
                    self._revoke_refresh(refresh)
                elif token in self.access_tokens:
                    self.access_tokens[token].revoked = True
        return json_response({"status": "success"})

    def authorize(self, req: Request) -> Response:
        q = req.query
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri:
            return json_response({"error": "invalid_redirect_uri"}, 400)
        sep = "&" if "?" in redirect_uri else "?"
        state = {"state": q["state"]} if "state" in q else {}
        if req.dc is not None or q.get("client_id") != self.client_id:
            return redirect(redirect_uri + sep + urlencode({**state, "error": "invalid_client"}))
        if self.consent_denied:
            return redirect(redirect_uri + sep + urlencode({**state, "error": "access_denied"}))
        if q.get("response_type", "code") != "code":
            return redirect(redirect_uri + sep + urlencode({**state, "error": "unsupported_response_type"}))
        code = self.new_grant_code(split_scopes(q.get("scope", "")) or DEFAULT_SCOPES, 120, redirect_uri)
        location = DC_LOCATIONS.get(self.settings.home_dc, "us")
        query = urlencode(
            {**state, "code": code, "location": location, "accounts-server": self.base_url()},
            quote_via=quote,
            safe="",
        )
        return redirect(redirect_uri + sep + query)

    # ------------------------------------------------------------------ API authentication
    def authenticate(self, req: Request) -> AccessToken:
        header = (req.header("Authorization") or "").strip()
        if not header:
            raise ApiError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        scheme, _, value = header.partition(" ")
        schemes = {"zoho-oauthtoken"} | ({"bearer"} if self.settings.accept_bearer else set())
        if scheme.lower() not in schemes or not value.strip():
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        with self.lock:
            access = self.access_tokens.get(value.strip())
            if req.dc is not None or access is None or access.revoked or access.expires_at <= time.time():
                raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
            return access
