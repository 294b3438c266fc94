"""What a list GET shows of a record: the fields asked for, minus what Zoho gives only on single-record GETs,
rich text cut short."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .settings import EmulatorSettings
from .state import Entry, ModuleState

# Zoho's get-records page (https://www.zoho.com/crm/developer/docs/api/v8/get-records.html): subform,
# multi-select lookup and multi-user lookup values, and inventory line items (subform fields too), come
# "only when a specific record is fetched". List GETs give these keys as null.
SINGLE_RECORD_ONLY = frozenset({"subform", "multiselectlookup", "multiuserlookup"})


def project(entry: Entry, fields: list[str]) -> dict[str, Any]:
    rec = entry.rec
    row = {name: rec.get(name) for name in fields}
    row["id"] = entry.id
    return row


def list_projector(
    ms: ModuleState, settings: EmulatorSettings
) -> Callable[[Entry, list[str]], dict[str, Any]]:
    """`project` for list GETs: single-record-only values nulled (unless `related_values_in_lists`) and rich
    text cut to `rich_text_list_limit` characters (get-records page; the full value comes from
    `/actions/fetch_full_data`, https://www.zoho.com/crm/developer/docs/api/v8/get-rich-text-fields.html)."""
    hidden = (
        set()
        if settings.related_values_in_lists
        else {spec.api_name for spec in ms.definition.fields if spec.data_type in SINGLE_RECORD_ONLY}
    )
    limit = settings.rich_text_list_limit
    rich = {spec.api_name for spec in ms.definition.fields if spec.rich_text} if limit else set()
    if not hidden and not rich:
        return project

    def projected(entry: Entry, fields: list[str]) -> dict[str, Any]:
        row = project(entry, fields)
        for name in hidden.intersection(row):
            row[name] = None
        for name in rich.intersection(row):
            value = row[name]
            if isinstance(value, str):
                row[name] = cut_rich_text(value, limit, settings.rich_text_cut_unit)
        return row

    return projected


def cut_rich_text(value: str, limit: int, unit: str) -> str:
    """The first `limit` characters (as documented), or [U] the first `limit` UTF-8 bytes without
    splitting a character (`rich_text_cut_unit="bytes"`: a cut value can be shorter than `limit`
    characters)."""
    if unit == "bytes":
        raw = value.encode("utf-8")
        return raw[:limit].decode("utf-8", errors="ignore") if len(raw) > limit else value
    return value[:limit]
