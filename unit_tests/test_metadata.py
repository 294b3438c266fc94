"""Stream names, cursor choice, field chunks, and metadata fetched at most once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from source_zoho_crm.config import parse_config
from source_zoho_crm.errors import ZohoApiError
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.stream_specs import build_module_spec, stream_name_for, unique_stream_names
from unit_tests.conftest import API, raw_config


@pytest.mark.parametrize(
    ("api_name", "stream"),
    [
        ("Leads", "leads"),
        ("Sales_Orders", "sales_orders"),
        ("SalesOrders", "sales_orders"),
        ("Deals_X_Contacts", "deals_x_contacts"),
        ("CustomModule1", "custom_module1"),
        ("Price_Books__Archive", "price_books_archive"),
    ],
)
def test_stream_names_are_lower_snake_case(api_name: str, stream: str) -> None:
    assert stream_name_for(api_name) == stream


@given(st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True), unique=True, max_size=30))
def test_stream_names_are_unique_and_stable(api_names: list[str]) -> None:
    names = unique_stream_names(api_names)
    assert len(set(names.values())) == len(api_names)
    assert names == unique_stream_names(list(reversed(api_names)))
    assert all(name == name.lower() for name in names.values())


def fields(*names: str) -> list[dict[str, Any]]:
    return [{"api_name": n, "data_type": "datetime" if n.endswith("_Time") else "text"} for n in names]


@pytest.mark.parametrize(
    ("names", "cursor", "sortable"),
    [
        (["Modified_Time", "Created_Time", "Name"], "Modified_Time", True),
        (["Created_Time", "Name"], "Created_Time", True),
        (["Action_Performed_Time", "Name"], "Action_Performed_Time", False),
        (["Name"], None, False),
    ],
)
def test_cursor_is_modified_then_created_then_action_performed_time(
    names: list[str], cursor: str | None, sortable: bool
) -> None:
    spec = build_module_spec("M", "m", fields(*names), include_deleted=True)
    assert spec.cursor_field == cursor and spec.sorted_by_cursor is sortable
    assert "_ab_cdc_deleted_at" in spec.schema["properties"]


@given(st.integers(min_value=0, max_value=400))
def test_every_field_in_chunks_of_at_most_50_with_the_cursor_first(count: int) -> None:
    names = ["id", *[f"F{i}" for i in range(count)], "Modified_Time"]
    chunks = build_module_spec("M", "m", fields(*names), include_deleted=False).field_chunks()
    flat = [name for chunk in chunks for name in chunk]
    assert sorted(flat) == sorted(names[1:]) and all(len(chunk) <= 50 for chunk in chunks)
    assert chunks[0][0] == "Modified_Time"


def test_each_metadata_call_is_made_once_even_from_many_threads(client: Any, requests_mock: Any) -> None:
    modules = requests_mock.get(f"{API}/crm/v8/settings/modules", json={"modules": [{"api_name": "Leads"}]})
    leads_fields = requests_mock.get(f"{API}/crm/v8/settings/fields", json={"fields": fields("Name")})
    metadata = ZohoMetadata(client, parse_config(raw_config()))
    threads = [
        threading.Thread(target=lambda: (metadata.modules(), metadata.fields("Leads"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert modules.call_count == 1 and leads_fields.call_count == 1


def test_a_metadata_answer_without_its_list_is_a_clear_error(client: Any, requests_mock: Any) -> None:
    requests_mock.get(f"{API}/crm/v8/settings/modules", json={"unexpected": True})
    with pytest.raises(ZohoApiError, match="no `modules` list"):
        ZohoMetadata(client, parse_config(raw_config())).modules()
