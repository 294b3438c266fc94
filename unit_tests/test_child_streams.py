"""Child streams (subform lines) read where Zoho serves them, module kinds, and refused modules.

A fake org (requests-mock) with Quotes and its subform module Quoted_Items, whose answers can refuse
page tokens, stop `page` at a wall, ignore If-Modified-Since, or refuse the module outright.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover
from airbyte_cdk.test.state_builder import StateBuilder

from source_zoho_crm import SourceZohoCrm
from unit_tests.conftest import API, raw_config
from unit_tests.test_source import FIELDS, LEADS, MODULES, run_read
from unit_tests.test_source import org as org  # the fake org fixture

CHILD = "quotes_quoted_items"
BASE = datetime(2025, 3, 1, tzinfo=timezone.utc)
QUOTES = [{"id": f"q{n}", "Modified_Time": (BASE + timedelta(hours=n)).isoformat()} for n in range(6)]
# Two lines per quote; a line's Modified_Time is its quote's.
LINES = [
    {
        "id": f"l{n}{k}",
        "Quantity": k + 1,
        "Parent_Id": {"name": quote["id"], "id": quote["id"]},
        "Modified_Time": quote["Modified_Time"],
    }
    for n, quote in enumerate(QUOTES)
    for k in range(2)
]
REFUSED = {"code": "INVALID_MODULE", "details": {}, "message": "The given module is not supported in API"}


class FakeSubformModule:
    """GET /Quoted_Items with per_page from the request; `wall` lines at most by `page`."""

    def __init__(self, *, tokens: bool = True, ims: bool = True, refused: bool = False, wall: int = 0):
        self.tokens, self.ims, self.refused, self.wall = tokens, ims, refused, wall

    def __call__(self, request: Any, context: Any) -> Any:
        if self.refused:
            context.status_code = 400
            return {**REFUSED, "status": "error"}
        qs = request.qs
        lines = sorted(LINES, key=lambda line: line["Modified_Time"], reverse=qs["sort_order"] == ["desc"])
        since = request.headers.get("If-Modified-Since")
        if since and self.ims:
            lines = [line for line in lines if line["Modified_Time"] >= since]
        per_page = int(qs["per_page"][0])
        if "page_token" in qs:
            if not self.tokens:
                context.status_code = 400
                return {"code": "INVALID_DATA", "details": {"param_name": "page_token"}, "status": "error"}
            offset = int(qs["page_token"][0])
        else:
            offset = (int(qs.get("page", ["1"])[0]) - 1) * per_page
        if self.wall and offset + per_page > self.wall:
            context.status_code = 400
            return {"code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED", "details": {}, "status": "error"}
        page = lines[offset : offset + per_page]
        if not page:
            context.status_code = 204
            return None
        more = offset + per_page < len(lines)
        fields = qs["fields"][0].split(",")
        data = [{"id": line["id"], **{k: v for k, v in line.items() if k.lower() in fields}} for line in page]
        return {"data": data, "info": {"more_records": more, "next_page_token": str(offset + per_page)}}


@pytest.fixture
def quotes(org: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    modules = [
        *MODULES,
        {"api_name": "Quotes", "api_supported": True, "generated_type": "default"},
        {
            "api_name": "Quoted_Items",
            "api_supported": True,
            "generated_type": "subform",
            "parent_module": {"api_name": "Quotes", "id": "9"},
        },
        {"api_name": "Subform_2", "api_supported": True, "generated_type": "static_subform"},
        {"api_name": "webtab", "api_supported": True, "generated_type": "webtab_link"},
    ]
    org.get(f"{API}/crm/v8/settings/modules", json={"modules": modules})
    monkeypatch.setitem(
        FIELDS,
        "Quotes",
        [
            {"api_name": "Modified_Time", "data_type": "datetime"},
            {
                "api_name": "Quoted_Items",
                "data_type": "subform",
                "subform": None,
                "associated_module": {"module": "Quoted_Items", "id": "7"},
            },
        ],
    )
    monkeypatch.setitem(
        FIELDS,
        "Quoted_Items",
        [
            {"api_name": "Quantity", "data_type": "double"},
            {"api_name": "Parent_Id", "data_type": "lookup"},
            {"api_name": "Modified_Time", "data_type": "datetime"},
        ],
    )

    def quotes_list(request: Any, context: Any) -> dict:
        since = request.headers.get("If-Modified-Since")
        rows = [q for q in QUOTES if not since or q["Modified_Time"] >= since]
        return {"data": rows, "info": {"more_records": False}}

    def one_quote(request: Any, context: Any) -> dict:
        quote_id = request.path.rsplit("/", 1)[1]
        lines = [line for line in LINES if line["Parent_Id"]["id"] == quote_id]
        return {"data": [{"id": quote_id, "Quoted_Items": lines}]}

    org.get(f"{API}/crm/v8/Quotes", json=quotes_list)
    org.get(requests_path(r"/crm/v8/Quotes/q\d+"), json=one_quote)
    return org


def requests_path(pattern: str) -> Any:
    import re

    return re.compile(f"^{re.escape(API)}{pattern}$")


def serve(org: Any, module: FakeSubformModule) -> None:
    org.get(f"{API}/crm/v8/Quoted_Items", json=module)


def calls(org: Any, path: str) -> list[Any]:
    return [r for r in org.request_history if r.path == path.lower()]


def record_calls(org: Any) -> list[Any]:
    return [r for r in org.request_history if r.path.startswith("/crm/v8/quotes/q")]


def rows_of(output: Any) -> list[tuple[str, str]]:
    return sorted((r.record.data["id"], r.record.data["parent_id"]) for r in output.records)


ALL_ROWS = sorted((line["id"], line["Parent_Id"]["id"]) for line in LINES)


def test_discover_makes_a_child_stream_per_subform_and_no_stream_of_subform_or_web_modules(
    quotes: Any,
) -> None:
    serve(quotes, FakeSubformModule())
    catalog = discover(SourceZohoCrm(config=raw_config()), raw_config()).catalog.catalog
    streams = {s.name: s for s in catalog.streams}
    assert CHILD in streams and not {"quoted_items", "subform_2", "webtab"} & set(streams)
    child = streams[CHILD]
    assert child.default_cursor_field == ["Modified_Time"]
    assert child.json_schema["properties"]["Quantity"]["type"] == ["null", "number"]
    assert "parent_id" in child.json_schema["properties"]
    assert CHILD in streams["quotes"].json_schema["properties"]["Quoted_Items"]["description"]


def test_lines_come_from_the_subform_module_with_page_tokens(quotes: Any) -> None:
    serve(quotes, FakeSubformModule())
    output = run_read(raw_config(), {CHILD: SyncMode.incremental})
    assert rows_of(output) == ALL_ROWS
    line_calls = calls(quotes, "/crm/v8/Quoted_Items")
    assert len(line_calls) == 1 and line_calls[0].qs["sort_by"] == ["modified_time"]
    assert not calls(quotes, "/crm/v8/Quotes") and not record_calls(quotes)
    final = output.state_messages[-1].state.stream.stream_state.__dict__
    assert final == {"Modified_Time": "2025-03-01T05:00:00Z"}


def test_a_subform_module_that_honours_if_modified_since_is_read_as_first_pages_past_any_wall(
    quotes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("source_zoho_crm.child_reader.PAGE_SIZE", 3)
    serve(quotes, FakeSubformModule(tokens=False, wall=9))  # 12 lines, 9 reachable by `page`
    output = run_read(raw_config(), {CHILD: SyncMode.incremental})
    assert rows_of(output) == ALL_ROWS and len(output.records) == len(LINES)  # no line twice
    line_calls = calls(quotes, "/crm/v8/Quoted_Items")
    # Page 1 each time, If-Modified-Since at the newest line read (one second early): no position used.
    assert [c.qs.get("page") for c in line_calls] == [["1"]] * 6
    assert [c.headers.get("If-Modified-Since") is not None for c in line_calls] == [False] + [True] * 5
    assert not record_calls(quotes)
    assert (
        output.state_messages[-1].state.stream.stream_state.__dict__["Modified_Time"]
        == "2025-03-01T05:00:00Z"
    )


def test_lines_beyond_both_walls_come_from_every_parent(quotes: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("source_zoho_crm.child_reader.PAGE_SIZE", 4)
    serve(quotes, FakeSubformModule(tokens=False, ims=False, wall=4))  # 12 lines, 4 reachable each way
    output = run_read(raw_config(), {CHILD: SyncMode.incremental})
    assert rows_of(output) == ALL_ROWS and len(output.records) == len(LINES)
    # Oldest 4 and newest 4 from the module; the 4 between from the parents, whose Modified_Time
    # need not move when a line changes: every parent, one GET each.
    assert sorted(r.path for r in record_calls(quotes)) == [f"/crm/v8/quotes/q{n}" for n in range(6)]


def test_a_subform_module_that_ignores_if_modified_since_is_read_newest_first_to_the_cursor(
    quotes: Any,
) -> None:
    serve(quotes, FakeSubformModule(ims=False, tokens=False))
    state = StateBuilder().with_stream_state(CHILD, {"Modified_Time": "2025-03-01T04:00:00Z"}).build()
    output = run_read(raw_config(), {CHILD: SyncMode.incremental}, state)
    assert rows_of(output) == [("l40", "q4"), ("l41", "q4"), ("l50", "q5"), ("l51", "q5")]
    line_calls = calls(quotes, "/crm/v8/Quoted_Items")
    assert [c.qs["sort_order"] for c in line_calls] == [["asc"], ["desc"]]  # one page to notice, one to read


def test_a_refused_subform_module_is_read_one_parent_at_a_time_with_a_warning(quotes: Any) -> None:
    serve(quotes, FakeSubformModule(refused=True))
    output = run_read(raw_config(), {CHILD: SyncMode.incremental})
    assert rows_of(output) == ALL_ROWS
    assert len(record_calls(quotes)) == len(QUOTES)  # one GET per parent record
    assert len(calls(quotes, "/crm/v8/Quotes")) == 1  # their ids and cursors: one call per 200
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]
    assert any("one API call per parent record" in w and "Quoted_Items" in w for w in warnings), warnings


def test_incremental_reads_only_the_parents_changed_since_the_cursor(quotes: Any) -> None:
    serve(quotes, FakeSubformModule(refused=True))
    state = StateBuilder().with_stream_state(CHILD, {"parent_modified_time": "2025-03-01T04:00:00Z"}).build()
    output = run_read(raw_config(), {CHILD: SyncMode.incremental}, state)
    assert rows_of(output) == [("l40", "q4"), ("l41", "q4"), ("l50", "q5"), ("l51", "q5")]
    assert sorted(r.path for r in record_calls(quotes)) == ["/crm/v8/quotes/q4", "/crm/v8/quotes/q5"]
    # One second back: Zoho may read If-Modified-Since as exclusive.
    assert calls(quotes, "/crm/v8/Quotes")[0].headers["If-Modified-Since"] == "2025-03-01T03:59:59+00:00"


def test_refused_modules_are_left_out_or_skipped_and_the_others_sync(org: Any) -> None:
    modules = [
        *MODULES,
        {"api_name": "Email_Analytics", "api_supported": True, "viewable": False},
        {"api_name": "Approvals", "api_supported": True},
        {"api_name": "Data_Enrichment_Stats__s", "api_supported": True},
    ]
    org.get(f"{API}/crm/v8/settings/modules", json={"modules": modules})
    org.get(f"{API}/crm/v8/settings/fields?module=Email_Analytics", status_code=204)
    org.get(
        f"{API}/crm/v8/settings/fields?module=Approvals", status_code=400, json={**REFUSED, "status": "error"}
    )
    FIELDS["Data_Enrichment_Stats__s"] = [{"api_name": "Modified_Time", "data_type": "datetime"}]
    denied = {
        "code": "AUTHORIZATION_FAILED",
        "details": {},
        "message": "User does not have sufficient privilege",
    }
    org.get(f"{API}/crm/v8/Data_Enrichment_Stats__s", status_code=400, json={**denied, "status": "error"})
    try:
        found = discover(SourceZohoCrm(config=raw_config()), raw_config())
        names = {s.name for s in found.catalog.catalog.streams}
        output = run_read(
            raw_config(), {"leads": SyncMode.full_refresh, "data_enrichment_stats_s": SyncMode.full_refresh}
        )
    finally:
        del FIELDS["Data_Enrichment_Stats__s"]
    assert "leads" in names and "data_enrichment_stats_s" in names
    assert not {"email_analytics", "approvals"} & names
    discover_warnings = " ".join(m.log.message for m in found.logs if m.log.level.name == "WARN")
    assert "Email_Analytics" in discover_warnings and "HTTP 204" in discover_warnings
    assert "Approvals" in discover_warnings and "INVALID_MODULE" in discover_warnings
    assert len(output.records) == 3  # the leads
    warnings = " ".join(m.log.message for m in output.logs if m.log.level.name == "WARN")
    assert "data_enrichment_stats_s" in warnings and "AUTHORIZATION_FAILED" in warnings


def test_multi_select_and_multi_user_lookup_columns_name_their_linking_stream(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = [
        *FIELDS["Leads"],
        {
            "api_name": "Related_Products",
            "data_type": "multiselectlookup",
            "multiselectlookup": {"linking_module": {"api_name": "LeadsXProducts", "id": "1"}},
        },
        {
            "api_name": "Assigned_Team",
            "data_type": "multiuserlookup",
            "linking_details": {"module": {"api_name": "Leads_X_Users", "id": "2"}},
        },
    ]
    monkeypatch.setitem(FIELDS, "Leads", leads)
    catalog = discover(SourceZohoCrm(config=raw_config()), raw_config()).catalog.catalog
    properties = next(s for s in catalog.streams if s.name == "leads").json_schema["properties"]
    assert (
        "stream leads_xproducts (linking module LeadsXProducts)"
        in properties["Related_Products"]["description"]
    )
    assert "stream leads_x_users (linking module Leads_X_Users)" in properties["Assigned_Team"]["description"]


def test_rich_text_is_fetched_whole_only_for_values_that_may_be_cut_and_a_refusal_keeps_them_cut(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rich = {"api_name": "Rich_Notes", "data_type": "textarea", "textarea": {"type": "rich_text"}}
    monkeypatch.setitem(FIELDS, "Leads", [*FIELDS["Leads"], rich])
    # 1: long ASCII (cut at 500 characters); 2: short (whole already); 3: 300 two-byte characters,
    # cut at 500 UTF-8 bytes under the worst reading: 252 characters, yet possibly cut.
    whole = {"1": "<p>" + "a" * 900 + "</p>", "2": "<p>b</p>", "3": "<p>" + "é" * 300 + "</p>"}
    cut = {"1": whole["1"][:500], "2": whole["2"], "3": whole["3"].encode()[:500].decode(errors="ignore")}
    assert len(cut["3"]) < 500
    for lead in LEADS:
        monkeypatch.setitem(lead, "Rich_Notes", cut[lead["id"]])
    asked: list[str] = []

    def full_data(request: Any, context: Any) -> dict:
        assert request.qs["fields"] == ["rich_notes"]
        asked.extend(request.qs["ids"][0].split(","))
        return {"data": [{"id": i, "Rich_Notes": whole[i]} for i in request.qs["ids"][0].split(",")]}

    org.get(f"{API}/crm/v8/Leads/actions/fetch_full_data", json=full_data)
    output = run_read(raw_config(), {"leads": SyncMode.full_refresh})
    assert {r.record.data["id"]: r.record.data["Rich_Notes"] for r in output.records} == whole
    assert sorted(asked) == ["1", "3"]  # the short value is not asked for
    assert len(calls(org, "/crm/v8/Leads/actions/fetch_full_data")) == 2  # one per page of the fake org

    org.reset_mock()
    org.get(
        f"{API}/crm/v8/Leads/actions/fetch_full_data", status_code=400, json={**REFUSED, "status": "error"}
    )
    output = run_read(raw_config(), {"leads": SyncMode.full_refresh})
    assert len(output.records) == 3 and len(calls(org, "/crm/v8/Leads/actions/fetch_full_data")) == 1
    warnings = [m.log.message for m in output.logs if m.log.level.name == "WARN"]
    assert any("Rich-text fields of module Leads stay cut" in w for w in warnings)
