"""Child streams lose no line when the subform module pages by position and lines move mid-read.

A subform module whose `page` paging is position based (Zoho does not say otherwise), whose
If-Modified-Since is inclusive, exclusive or ignored, with a 2,000-style wall; a hook modifies or
deletes lines between two requests of the read. A line that is not changed must be emitted by this
sync, a changed one by this sync or the next; merged by id, the rows equal the module's lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.state_builder import StateBuilder

from source_zoho_crm.datetimes import parse_zoho_datetime
from unit_tests.conftest import API, raw_config
from unit_tests.test_child_streams import CHILD, requests_path
from unit_tests.test_child_streams import quotes as quotes  # the fake org with Quotes
from unit_tests.test_source import org as org
from unit_tests.test_source import run_read

BASE = datetime(2025, 3, 1, tzinfo=timezone.utc)


def at(second: int) -> str:
    return (BASE + timedelta(seconds=second)).isoformat()


class PositionPagedLines:
    """GET /Quoted_Items by `page` and `per_page` only (tokens refused), positions counted live."""

    def __init__(self, ims: str, wall: int, count: int = 20) -> None:
        self.ims, self.wall, self.clock = ims, wall, count + 100
        self.lines = {
            f"l{n:02}": {
                "id": f"l{n:02}",
                "Quantity": n,
                "Modified_Time": at(n),
                "Parent_Id": {"id": f"q{n % 6}"},
            }
            for n in range(count)
        }
        self.before: Callable[[int], None] | None = None
        self.sort_ignored = False  # [U] answers in id order whatever `sort_by` says
        self.calls: list[dict[str, Any]] = []

    def modify(self, line_id: str) -> None:
        self.clock += 1
        self.lines[line_id] = {**self.lines[line_id], "Modified_Time": at(self.clock), "Quantity": -1}

    def delete(self, line_id: str) -> None:
        self.clock += 1
        del self.lines[line_id]

    def __call__(self, request: Any, context: Any) -> Any:
        if self.before is not None:
            self.before(len(self.calls))
        qs = {k: v[0] for k, v in request.qs.items()}
        self.calls.append({**qs, "ims": request.headers.get("If-Modified-Since")})
        context.headers["Date"] = format_datetime(BASE + timedelta(seconds=self.clock), usegmt=True)
        if "page_token" in qs:
            context.status_code = 400
            return {"code": "INVALID_DATA", "details": {"param_name": "page_token"}, "status": "error"}
        desc = qs.get("sort_order") == "desc"
        rows = sorted(self.lines.values(), key=lambda r: (r["Modified_Time"], r["id"]), reverse=desc)
        if self.sort_ignored:
            rows = sorted(self.lines.values(), key=lambda r: r["id"])
        since = request.headers.get("If-Modified-Since")
        if since and self.ims != "ignored":
            when = parse_zoho_datetime(since)
            inclusive = self.ims == "inclusive"
            rows = [r for r in rows if self._after(r, when, inclusive)]
        per_page, page = int(qs["per_page"]), int(qs.get("page", "1"))
        if page * per_page > self.wall:
            context.status_code = 400
            return {"code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "details": {}, "status": "error"}
        chunk = rows[(page - 1) * per_page : page * per_page]
        if not chunk:
            context.status_code = 304 if since else 204
            return None
        more = page * per_page < len(rows)
        return {"data": [dict(r) for r in chunk], "info": {"more_records": more, "per_page": per_page}}

    @staticmethod
    def _after(row: dict[str, Any], when: datetime, inclusive: bool) -> bool:
        instant = parse_zoho_datetime(row["Modified_Time"])
        return instant > when or (inclusive and instant == when)

    def one_quote(self, request: Any, context: Any) -> dict[str, Any]:
        """GET /Quotes/{id}: the quote with its lines (the parents' path)."""
        quote_id = request.path.rsplit("/", 1)[1]
        lines = [dict(r) for r in self.lines.values() if r["Parent_Id"]["id"] == quote_id]
        return {"data": [{"id": quote_id, "Quoted_Items": lines}]}

    def live(self) -> dict[str, str]:
        return {r["id"]: r["Modified_Time"] for r in self.lines.values()}


def merged(*outputs: Any) -> dict[str, str]:
    """The destination after these syncs: per id, the row with the newest Modified_Time."""
    table: dict[str, str] = {}
    for output in outputs:
        for message in output.records:
            row = message.record.data
            if row["id"] not in table or row["Modified_Time"] >= table[row["id"]]:
                table[row["id"]] = row["Modified_Time"]
    return table


def sync(state: Any = None) -> Any:
    output = run_read(raw_config(), {CHILD: SyncMode.incremental}, state)
    assert not [m for m in output.logs if m.log.level.name == "ERROR"]
    return output


def next_state(output: Any) -> Any:
    stream_state = output.state_messages[-1].state.stream.stream_state.__dict__
    return StateBuilder().with_stream_state(CHILD, stream_state).build()


@pytest.fixture
def lines(quotes: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., PositionPagedLines]:
    def install(ims: str, wall: int = 30) -> PositionPagedLines:
        monkeypatch.setattr("source_zoho_crm.child_reader.PAGE_SIZE", 5)
        monkeypatch.setattr("source_zoho_crm.child_reader.DISCRETE_PAGE_LIMIT", wall, raising=False)
        module = PositionPagedLines(ims, wall)
        quotes.get(f"{API}/crm/v8/Quoted_Items", json=module)
        quotes.get(requests_path(r"/crm/v8/Quotes/q\d+"), json=module.one_quote)
        return module

    return install


@pytest.mark.parametrize("ims", ["inclusive", "exclusive", "ignored"])
@pytest.mark.parametrize("change", ["modify", "delete"])
@pytest.mark.parametrize("incremental", [False, True])
@pytest.mark.parametrize("wall", [30, 10])
def test_a_line_changed_mid_read_costs_no_other_line(
    lines: Callable[..., PositionPagedLines], ims: str, change: str, incremental: bool, wall: int
) -> None:
    module = lines(ims, wall=wall)
    state, earlier = None, []
    if incremental:  # a first sync, then a change to every line but two: an incremental read of 10
        earlier = [sync()]
        state = next_state(earlier[0])
        for line_id in sorted(module.lines)[2:]:
            module.modify(line_id)
    first, fired = len(module.calls), False

    def hook(call: int) -> None:
        nonlocal fired
        if fired or call < first + 1:
            return
        fired = True
        # Between the read's first and second request, a line of the first page moves or goes:
        # position paging shifts the next line into the page already read.
        ordered = sorted(module.lines.values(), key=lambda r: (r["Modified_Time"], r["id"]))
        target = ordered[-1] if ims == "ignored" and incremental else ordered[2]  # newest first there
        getattr(module, change)(target["id"])

    module.before = hook
    during = sync(state)
    module.before = None
    assert fired
    after = sync(next_state(during))
    live = module.live()
    everything = merged(*earlier, during, after)
    # Every line read by this sync or the next, at its current Modified_Time.
    assert {k: v for k, v in everything.items() if k in live} == live


def test_position_paging_without_overlap_would_have_lost_a_line(
    lines: Callable[..., PositionPagedLines],
) -> None:
    """The fake really shifts lines: pages 1 and 2 of 3, with the first line modified in between,
    skip the line that was fourth (the reason the reader overlaps its windows)."""
    module = lines("ignored")
    seen: list[str] = []
    request = type("R", (), {})()
    for page in (1, 2):
        request.qs = {"per_page": ["3"], "page": [str(page)], "sort_order": ["asc"], "fields": ["id"]}
        request.headers = {}
        context = type("C", (), {"headers": {}, "status_code": 200})()
        seen += [r["id"] for r in module(request, context)["data"]]
        module.modify("l00")
    assert "l03" not in seen and len(seen) == 6


def test_a_subform_module_that_ignores_sort_by_is_read_whole_in_id_order_each_sync(
    lines: Callable[..., PositionPagedLines],
) -> None:
    module = lines("ignored")
    module.sort_ignored = True
    for line_id in ("l03", "l11"):  # out of id order now
        module.modify(line_id)
    module.clock += 5  # the sync starts a few seconds later
    first = sync()
    assert merged(first) == module.live()
    module.modify("l07")
    module.clock += 5
    second = sync(next_state(first))
    # The whole module read; emitted: the new line and those of the cursor's own second (inclusive).
    assert {r.record.data["id"] for r in second.records} == {"l07", "l11"}
    assert merged(first, second) == module.live()
