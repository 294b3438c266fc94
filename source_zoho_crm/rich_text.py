"""Rich-text fields whole: Zoho cuts them to 500 characters in list GETs and serves them whole from
`GET /{module}/actions/fetch_full_data?ids=<up to 200>&fields=<rich-text fields>` (get-rich-text-fields).

Why a component: the CDK has no step that re-fetches some fields of a page's records from another path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.errors import ZohoError
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    MAX_FIELDS_PER_REQUEST,
    RICH_TEXT_CUT_MARGIN,
    RICH_TEXT_IDS_PER_REQUEST,
    RICH_TEXT_LIST_LIMIT,
)
from source_zoho_crm.stream_specs import ModuleStreamSpec

logger = logging.getLogger("airbyte")

# Per client (one per run): modules whose rich-text call failed once; their values stay cut, warned once.
_refused: WeakKeyDictionary[ZohoApiClient, set[str]] = WeakKeyDictionary()
_lock = threading.Lock()


def rich_text_fields(spec: ModuleStreamSpec) -> list[str]:
    """The module's fields of `"textarea": {"type": "rich_text"}` that the stream reads."""
    names = []
    for field in spec.fields_metadata:
        textarea = field.get("textarea")
        rich = isinstance(textarea, Mapping) and textarea.get("type") == "rich_text"
        if rich and field.get("api_name") in spec.field_names:
            names.append(str(field["api_name"]))
    return names


def may_be_cut(value: Any) -> bool:
    """Whether a list GET may have cut this value. Zoho says 500 characters; read as UTF-16 units or
    UTF-8 bytes (the worst reading), a cut value has fewer characters, never fewer UTF-8 bytes than
    the limit less a partial character or entity (the margin). A missing value is unknown: maybe."""
    if value is None:
        return False
    if not isinstance(value, str):
        return True
    return len(value.encode("utf-8")) >= RICH_TEXT_LIST_LIMIT - RICH_TEXT_CUT_MARGIN


def merge_rich_text(client: ZohoApiClient, spec: ModuleStreamSpec, records: list[dict[str, Any]]) -> None:
    """Replace the cut rich-text values of a page's records by whole ones: one call per 200 records
    that may hold a cut value, per 50 rich-text fields, only for modules that have such fields."""
    names = rich_text_fields(spec)
    if not names:
        return
    ids = [
        str(record["id"])
        for record in records
        if record.get("id") is not None and any(may_be_cut(record.get(name, ...)) for name in names)
    ]
    with _lock:
        refused_modules = _refused.setdefault(client, set())
    if not ids or spec.api_name in refused_modules:
        return
    by_id = {str(record.get("id")): record for record in records}
    path = f"{API_VERSION_PATH}/{spec.api_name}/actions/fetch_full_data"
    try:
        for first_field in range(0, len(names), MAX_FIELDS_PER_REQUEST):
            fields = ",".join(names[first_field : first_field + MAX_FIELDS_PER_REQUEST])
            for first in range(0, len(ids), RICH_TEXT_IDS_PER_REQUEST):
                group = ",".join(ids[first : first + RICH_TEXT_IDS_PER_REQUEST])
                response = client.get(
                    path,
                    {"ids": group, "fields": fields},
                    what=f"the rich-text fields of module {spec.api_name}",
                )
                for whole in response.data:
                    target = by_id.get(str(whole.get("id")))
                    if target is not None:
                        target.update({k: v for k, v in whole.items() if k != "id"})
    except ZohoError as refused:
        with _lock:
            first_time = spec.api_name not in refused_modules
            refused_modules.add(spec.api_name)
        if first_time:
            logger.warning(messages.RICH_TEXT_CUT.format(module=spec.api_name, message=refused.message))
