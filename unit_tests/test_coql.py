"""COQL: which modules it may read (only where its records are the REST records), the keyset query,
the rebuilt lookups, and the hand-over to REST that loses no record."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest

from source_zoho_crm.coql_query import CoqlMismatch, CoqlPlan, coql_plan, display_field_of
from source_zoho_crm.coql_reader import CoqlReader, coql_instant
from source_zoho_crm.errors import ZohoAccessError, ZohoApiError
from source_zoho_crm.module_reader import Page
from source_zoho_crm.stream_specs import build_module_spec

JSON_TYPES = {
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "userlookup": "jsonobject",
    "multiselectpicklist": "jsonarray",
    "subform": "jsonarray",
    "integer": "integer",
    "double": "double",
    "boolean": "boolean",
}


def field(name: str, data_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_name": name,
        "data_type": data_type,
        "json_type": JSON_TYPES.get(data_type, "string"),
        **extra,
    }


def lookup(name: str, module: str) -> dict[str, Any]:
    return field(name, "lookup", lookup={"module": {"api_name": module, "id": "1"}})


BASE = [
    field("Name", "text"),
    field("Owner", "ownerlookup"),
    field("Modified_Time", "datetime"),
    field("Amount", "currency"),
    field("Tags_List", "multiselectpicklist"),
    lookup("Account_Name", "Accounts"),
]


def spec(fields: list[dict[str, Any]], module: str = "Contacts") -> Any:
    return build_module_spec(module, module.lower(), fields, include_deleted=False)


def displays(module: str) -> str | None:
    return {"Accounts": "Account_Name"}.get(module)


def test_a_module_of_plain_fields_and_lookups_is_read_with_coql() -> None:
    plan, reason = coql_plan(spec(BASE), displays)
    assert plan is not None, reason
    assert plan.record_lookups == {"Account_Name": "Account_Name"}
    assert plan.user_lookups == ("Owner",)
    assert "Account_Name.Account_Name" in plan.columns and "Owner" in plan.columns


@pytest.mark.parametrize(
    ("extra", "module", "kind", "why"),
    [
        ([field("Notes", "textarea", textarea={"type": "rich_text"})], "Contacts", None, "rich text"),
        ([field("Lines", "subform")], "Contacts", None, "type subform"),
        ([field("Photo", "imageupload")], "Contacts", None, "type imageupload"),
        ([field("Tag", "text", json_type="jsonarray")], "Contacts", None, "holds a jsonarray"),
        ([lookup("Vendor", "Vendors")], "Contacts", None, "display field of Vendors"),
        ([field(f"F{i}", "formula") for i in range(6)], "Contacts", None, "6 formula fields"),
        ([lookup(f"L{i}", "Accounts") for i in range(15)], "Contacts", None, "16 lookups"),
        ([field(f"T{i}", "text") for i in range(500)], "Contacts", None, "columns"),
        ([], "Leads", None, "converted=both"),
        ([], "Stats__s", "system", "standard and custom modules only"),
    ],
)
def test_modules_coql_cannot_reproduce_stay_on_rest(
    extra: list[dict[str, Any]], module: str, kind: str | None, why: str
) -> None:
    plan, reason = coql_plan(spec(BASE + extra, module), displays, kind)
    assert plan is None and why in reason


def test_custom_modules_are_served_and_a_module_without_modified_time_is_not() -> None:
    assert coql_plan(spec(BASE, "Projects"), displays, "custom")[0] is not None
    no_cursor = [f for f in BASE if f["api_name"] != "Modified_Time"]
    assert coql_plan(spec(no_cursor), displays)[1].startswith("no Modified_Time")


def test_the_display_field_is_the_one_zoho_marks() -> None:
    marked = [field("Last_Name", "text", display_field=False), field("Full_Name", "text", display_field=True)]
    assert display_field_of(marked) == "Full_Name"
    assert (
        display_field_of([field("A", "text", display_field=True), field("B", "text", display_field=True)])
        is None
    )


def test_the_query_is_a_keyset_on_modified_time_and_id() -> None:
    plan = CoqlPlan("Contacts", ("Name", "Modified_Time"), {}, ())
    first = plan.query(None, None, 2000)
    assert first.endswith("where (id is not null) order by Modified_Time asc, id asc limit 2000")
    since = plan.query(None, "2026-01-01T00:00:00+00:00", 2000)
    assert "where (Modified_Time >= '2026-01-01T00:00:00+00:00')" in since
    after = plan.query(("2026-01-01T05:30:00+05:30", "42"), None, 2000)
    assert (
        "((Modified_Time > '2026-01-01T05:30:00+05:30') or ((Modified_Time = '2026-01-01T05:30:00+05:30') "
        "and (id > 42)))" in after
    )
    assert (
        coql_instant(datetime(2026, 1, 1, 5, 0, 0, 999, tzinfo=timezone.utc)) == "2026-01-01T05:00:00+00:00"
    )


def test_rows_become_the_rest_records() -> None:
    plan = CoqlPlan(
        "Contacts", ("Name", "Owner", "Account_Name"), {"Account_Name": "Account_Name"}, ("Owner",)
    )
    users = {"7": {"id": "7", "full_name": "Ann Lee", "email": "ann@x.test"}}
    row = {
        "id": "1",
        "Name": "N",
        "Owner": {"id": "7"},
        "Account_Name": {"id": "9"},
        "Account_Name.Account_Name": "Acme",
    }
    assert plan.record(row, users) == {
        "id": "1",
        "Name": "N",
        "Owner": {"name": "Ann Lee", "id": "7", "email": "ann@x.test"},
        "Account_Name": {"name": "Acme", "id": "9"},
    }
    empty = {
        "id": "2",
        "Name": None,
        "Owner": {"id": "7"},
        "Account_Name": None,
        "Account_Name.Account_Name": None,
    }
    assert plan.record(empty, users)["Account_Name"] is None
    with pytest.raises(CoqlMismatch):
        plan.record({**row, "Owner": {"id": "8"}}, users)


# ---------------------------------------------------------------------------------------------- the reader
class FakeTransport:
    """COQL answers in order; an exception in the list is raised for that call."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.queries: list[str] = []

    def post_json_dated(
        self, path: str, body: Mapping[str, Any], *, what: str, credits: int
    ) -> tuple[Mapping[str, Any], datetime | None]:
        self.queries.append(str(body["select_query"]))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer, None


class FakeRest:
    def __init__(self) -> None:
        self.calls: list[tuple[bool, datetime | None]] = []
        self.expected: int | None = None
        self.requests = 0
        self.server_time = None

    def __call__(self, incremental: bool, since: datetime | None) -> FakeRest:
        self.calls.append((incremental, since))
        return self

    def pages(self) -> Iterator[Page]:
        yield Page([{"id": "rest"}], None)


def rows(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "data": [{"id": i, "Name": i, "Modified_Time": t} for i, t in pairs],
        "info": {"more_records": True},
    }


def reader(transport: FakeTransport, rest: FakeRest, incremental: bool = True) -> CoqlReader:
    plan = CoqlPlan("Contacts", ("Name", "Modified_Time"), {}, ())
    coql = CoqlReader(
        None,  # type: ignore[arg-type]  # no user lookups: no /users call
        transport,  # type: ignore[arg-type]
        spec(BASE),
        plan,
        incremental=incremental,
        start=datetime(2026, 1, 1, tzinfo=timezone.utc),
        rest=rest,  # type: ignore[arg-type]
    )
    coql.rows = 2
    return coql


T1, T2 = "2026-01-02T10:00:00+05:30", "2026-01-02T11:00:00+05:30"


def test_pages_follow_the_keyset_and_checkpoint_each_call() -> None:
    transport = FakeTransport([rows(("1", T1), ("2", T1)), rows(("3", T2), ("4", T2)), {}])
    pages = list(reader(transport, FakeRest()).pages())
    assert [[r["id"] for r in p.records] for p in pages] == [["1", "2"], ["3", "4"]]
    assert all(p.checkpoint for p in pages)
    assert pages[1].newest == datetime(2026, 1, 2, 5, 30, tzinfo=timezone.utc)
    assert "Modified_Time >= '2026-01-01T00:00:00+00:00'" in transport.queries[0]
    assert f"(Modified_Time = '{T1}') and (id > 2)" in transport.queries[1]
    assert f"(Modified_Time = '{T2}') and (id > 4)" in transport.queries[2]


def test_a_refusal_mid_read_goes_on_over_rest_from_the_last_record(caplog: pytest.LogCaptureFixture) -> None:
    rest = FakeRest()
    refused = ZohoApiError("limit", code="LIMIT_EXCEEDED", status=400)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        pages = list(
            reader(FakeTransport([rows(("1", T1), ("2", T2)), refused]), rest, incremental=False).pages()
        )
    assert [[r["id"] for r in p.records] for p in pages] == [["1", "2"], ["rest"]]
    # From the last record's instant, inclusive: nothing between it and the refusal is lost.
    assert rest.calls == [(True, datetime(2026, 1, 2, 5, 30, tzinfo=timezone.utc))]
    assert not any(p.checkpoint for p in pages)  # a full refresh keeps no position
    assert any("Contacts (LIMIT_EXCEEDED)" in r.getMessage() for r in caplog.records)


def test_a_token_without_the_scope_reads_everything_over_rest(caplog: pytest.LogCaptureFixture) -> None:
    rest = FakeRest()
    denied = ZohoAccessError("scope", code="OAUTH_SCOPE_MISMATCH", status=401)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        pages = list(reader(FakeTransport([denied]), rest).pages())
    assert [[r["id"] for r in p.records] for p in pages] == [["rest"]]
    assert rest.calls == [(True, datetime(2026, 1, 1, tzinfo=timezone.utc))]
    assert any("ZohoCRM.coql.READ" in r.getMessage() for r in caplog.records)


def test_other_failures_are_not_hidden_by_the_fallback() -> None:
    broken = ZohoApiError("boom", code="INTERNAL_ERROR", status=400)
    with pytest.raises(ZohoApiError):
        list(reader(FakeTransport([broken]), FakeRest()).pages())


def test_an_incremental_read_asks_200_rows_first_then_2000() -> None:
    full = {
        "data": [{"id": str(i), "Modified_Time": T1} for i in range(1, 201)],
        "info": {"more_records": True},
    }
    transport = FakeTransport([full, {}])
    coql = reader(transport, FakeRest())
    coql.rows = 2000
    assert sum(len(p.records) for p in coql.pages()) == 200
    assert transport.queries[0].endswith("limit 200") and transport.queries[1].endswith("limit 2000")
    # From the beginning there is no quiet case: 2,000 at once.
    everything = CoqlReader(
        None,  # type: ignore[arg-type]
        (transport := FakeTransport([{}])),  # type: ignore[arg-type]
        spec(BASE),
        CoqlPlan("Contacts", ("Name", "Modified_Time"), {}, ()),
        incremental=True,
    )
    assert list(everything.pages()) == [] and transport.queries[0].endswith("limit 2000")


class RefusingDirectory:
    def users(self, client: Any, *, deleted: bool = False) -> Mapping[str, Any]:
        raise ZohoAccessError("no users scope", code="OAUTH_SCOPE_MISMATCH", status=401)


def test_a_refused_user_list_reads_over_rest_without_asking_for_the_coql_scope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rest = FakeRest()
    coql = CoqlReader(
        None,  # type: ignore[arg-type]
        FakeTransport([rows(("1", T1))]),  # type: ignore[arg-type]
        spec(BASE),
        CoqlPlan("Contacts", ("Name", "Owner", "Modified_Time"), {}, ("Owner",)),
        incremental=True,
        rest=rest,  # type: ignore[arg-type]
        directory=RefusingDirectory(),  # type: ignore[arg-type]
    )
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert [[r["id"] for r in p.records] for p in coql.pages()] == [["rest"]]
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "user list was refused (OAUTH_SCOPE_MISMATCH)" in text and "ZohoCRM.coql.READ" not in text
