"""A fake Zoho module for requests-mock with Zoho's undocumented choices as switches: page tokens
keyset or position based, If-Modified-Since inclusive, exclusive or ignored; and a hook that
changes records between two requests (modifications, deletions, creations while a read runs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

from source_zoho_crm.datetimes import parse_zoho_datetime

BASE = datetime(2025, 1, 1, tzinfo=timezone.utc)
IST = timezone(timedelta(hours=5, minutes=30))


def zoho_time(second: int) -> str:
    """Second `second` after BASE, as Zoho writes it (the org's offset)."""
    return (BASE + timedelta(seconds=second)).astimezone(IST).isoformat()


@dataclass
class FakeModule:
    name: str = "Leads"
    tokens: str = "keyset"  # or "offset"
    ims: str = "inclusive"  # or "exclusive", "ignored"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    clock: int = 0  # Zoho's clock, seconds after BASE
    before_list: Callable[[FakeModule, int], None] | None = None  # called before each list request
    list_calls: int = 0
    ids_calls: int = 0
    deleted_calls: int = 0
    _chains: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, count: int, second: int, **values: Any) -> list[str]:
        ids = []
        for _ in range(count):
            new_id = str(1_000_000 + len(self.records) + len(self.deleted))
            self.records[new_id] = {"id": new_id, "Modified_Time": zoho_time(second), **values}
            ids.append(new_id)
        self.clock = max(self.clock, second)
        return ids

    def modify(self, record_id: str) -> None:
        self.clock += 1
        self.records[record_id]["Modified_Time"] = zoho_time(self.clock)

    def delete(self, record_id: str) -> None:
        self.clock += 1
        self.records.pop(record_id)
        self.deleted.append({"id": record_id, "deleted_time": zoho_time(self.clock), "type": "recycle"})

    def install(self, requests_mock: Any, api: str) -> None:
        requests_mock.get(f"{api}/crm/v8/{self.name}", json=self._list)
        requests_mock.get(f"{api}/crm/v8/{self.name}/deleted", json=self._deleted)

    # ------------------------------------------------------------------ answers
    def _headers(self, context: Any) -> None:
        context.headers["Date"] = format_datetime(BASE + timedelta(seconds=self.clock), usegmt=True)

    def _since(self, request: Any) -> datetime | None:
        raw = request.headers.get("If-Modified-Since")
        return parse_zoho_datetime(raw) if raw else None

    def _list(self, request: Any, context: Any) -> dict[str, Any] | None:
        with self._lock:  # two chains of a read may ask at the same time
            return self._answer(request, context)

    def _answer(self, request: Any, context: Any) -> dict[str, Any] | None:
        q = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        wanted = q["fields"].split(",")
        if "ids" in q:
            self.ids_calls += 1
            self._headers(context)
            rows = [self._project(self.records[i], wanted) for i in q["ids"].split(",") if i in self.records]
            return {"data": rows, "info": {"more_records": False}}
        if self.before_list is not None:
            self.before_list(self, self.list_calls)
        self.list_calls += 1
        self._headers(context)
        per_page = int(q.get("per_page", 200))
        key = self._sort_key(q.get("sort_by", "id"))
        desc = q.get("sort_order") == "desc"
        since = self._since(request)
        rows = sorted(self.records.values(), key=key, reverse=desc)
        if since is not None and self.ims != "ignored":
            rows = [r for r in rows if self._after(r, since)]
        token = q.get("page_token")
        chain = self._chains.get(token) if token else None
        if chain is None:
            start = 0
        elif self.tokens == "offset":
            start = chain["offset"]
        else:
            after = (lambda r: key(r) < chain["last"]) if desc else (lambda r: key(r) > chain["last"])
            start = next((n for n, r in enumerate(rows) if after(r)), len(rows))
        page = rows[start : start + per_page]
        if not page:
            context.status_code = 304 if since is not None and self.records else 204
            return None
        more = start + per_page < len(rows)
        info: dict[str, Any] = {"more_records": more, "per_page": per_page}
        if more:
            next_token = f"t{len(self._chains)}"
            self._chains[next_token] = {"offset": start + per_page, "last": key(page[-1])}
            info["next_page_token"] = next_token
        return {"data": [self._project(r, wanted) for r in page], "info": info}

    def _deleted(self, request: Any, context: Any) -> dict[str, Any] | None:
        self.deleted_calls += 1
        self._headers(context)
        since = self._since(request)
        rows = [d for d in self.deleted if since is None or parse_zoho_datetime(d["deleted_time"]) >= since]
        if not rows:
            context.status_code = 204
            return None
        return {"data": rows, "info": {"more_records": False}}

    def _after(self, record: dict[str, Any], since: datetime) -> bool:
        modified = parse_zoho_datetime(record["Modified_Time"])
        return modified >= since if self.ims == "inclusive" else modified > since

    @staticmethod
    def _sort_key(sort_by: str) -> Callable[[dict[str, Any]], Any]:
        if sort_by == "Modified_Time":
            return lambda r: (parse_zoho_datetime(r["Modified_Time"]), int(r["id"]))
        return lambda r: int(r["id"])

    @staticmethod
    def _project(record: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        return {"id": record["id"], **{f: record.get(f) for f in wanted if f != "id"}}

    def live(self) -> set[tuple[str, str]]:
        return {(r["id"], r["Modified_Time"]) for r in self.records.values()}
