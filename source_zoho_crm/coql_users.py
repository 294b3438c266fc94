"""The org's users by id, fetched once per sync: COQL answers a user lookup as `{"id"}` and the REST
records carry the user's `name` and `email`.

Why a component: one `/users` list serves every COQL stream of a sync (two JOIN columns per user
lookup would spend COQL's 15 JOINs); deleted users are asked only when a record names one.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.settings import API_VERSION_PATH, USERS_PAGE_SIZE, USERS_TYPE

DELETED_USERS_TYPE = "DeletedUsers"


class UserDirectory:
    """Thread-safe: each `type` of user list is fetched at most once per sync."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, Mapping[str, Any]] = {}
        self._kinds: set[str] = set()
        self.calls = 0

    def users(self, client: ZohoApiClient, *, deleted: bool = False) -> Mapping[str, Mapping[str, Any]]:
        """Every user of the org (active or not; deleted ones too when `deleted`) by id."""
        with self._lock:
            for kind in (USERS_TYPE, DELETED_USERS_TYPE) if deleted else (USERS_TYPE,):
                if kind not in self._kinds:
                    self._users.update(self._fetch(client, kind))
                    self._kinds.add(kind)
            return dict(self._users)

    def _fetch(self, client: ZohoApiClient, kind: str) -> dict[str, Mapping[str, Any]]:
        users: dict[str, Mapping[str, Any]] = {}
        page = 1
        while True:
            response = client.get(
                f"{API_VERSION_PATH}/users",
                {"type": kind, "per_page": USERS_PAGE_SIZE, "page": page},
                what="the users",
            )
            self.calls += 1
            body = response.body or {}
            for user in body.get("users") or []:
                if isinstance(user, Mapping) and user.get("id") is not None:
                    users[str(user["id"])] = user
            if not (body.get("info") or {}).get("more_records"):
                return users
            page += 1
