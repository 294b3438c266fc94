"""A Bulk Read CSV row → the record the REST path emits for the same record, by the field metadata.

Why a component: Bulk Read writes every value as CSV text (lookups as bare ids, multi-select
values `;`-joined, numbers and booleans as text); the stream's schema and destinations expect
the JSON types and shapes `GET /crm/v8/{module}` gives.

What Bulk Read carries, and how each value comes out (the table the docs show):

| data type (formula, rollup: their return type) | CSV cell              | record value                    |
|------------------------------------------------|-----------------------|---------------------------------|
| text, textarea, email, phone, website, picklist | as is                | string, as REST                 |
| date, profileimage, autonumber, bigint         | as is                 | string, as REST                 |
| integer                                        | `42`                  | integer                         |
| double, decimal, currency, percent, rollup     | `12.5`                | number                          |
| boolean                                        | `true` / `false`      | boolean                         |
| datetime                                       | ISO 8601, any offset  | ISO 8601 in the org's offset    |
| multiselectpicklist                            | `a;b`                 | `["a", "b"]` (empty: `[]`)      |
| lookup, owner/user/consent/multi-module lookup, layout | the id        | `{"id": "…"}` only              |
| Tag                                            | JSON, `a;b` or `a,b`  | `[{"name": "a"}, …]`            |
| event_reminder, other JSON objects             | JSON                  | the object (not JSON: null)     |
| an empty cell                                  |                       | null (`[]` for arrays)          |

What Bulk Read cannot carry, so a backfilled record lacks it until the record next changes and
the incremental REST read replaces it: lookup names (`name`, a user's `email`, a multi-module
lookup's `module`), Tag ids and colours, subform lines and line items (`subform`, `linetax`),
multi-select lookups, multi-user lookups, file and image uploads, and `$` system keys
(`$approved`, `$editable`, …). REST list reads leave out subforms, multi-select and multi-user
lookups too, so those are absent on both paths.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any

import orjson

# Field types a Bulk Read job cannot export (or REST list reads do not return): left out of the job.
UNEXPORTED_TYPES = frozenset(
    {"subform", "multiselectlookup", "multiuserlookup", "fileupload", "imageupload", "linetax"}
)
LOOKUP_TYPES = frozenset(
    {"lookup", "ownerlookup", "userlookup", "consent_lookup", "multi_module_lookup", "layout"}
)
NUMBER_TYPES = frozenset({"double", "decimal", "currency", "percent", "rollup_summary"})
TAG_FIELD = "Tag"
ID_COLUMNS = ("id", "Id", "ID", "Record_Id")

# Bulk Read cells can be long (rich text up to 50,000 characters, multi-line textareas).
csv.field_size_limit(1 << 24)

Convert = Callable[[str], Any]


def _text(value: str) -> Any:
    return value if value != "" else None


def _integer(value: str) -> Any:
    if value == "":
        return None
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            return value  # never lose a value: pass it on as Zoho wrote it
        return int(number) if number.is_integer() else number


def _number(value: str) -> Any:
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number


def _boolean(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None if lowered == "" else value


def _datetime_in(zone: tzinfo) -> Convert:
    def convert(value: str) -> Any:
        if value == "":
            return None
        text = value.strip().replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            return value
        if parsed.tzinfo is None:  # [U] an export without offset: the org's time zone
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(zone).isoformat(timespec="seconds")

    return convert


def _lookup(value: str) -> Any:
    value = value.strip()
    if value == "":
        return None
    if value.startswith("{"):
        parsed = _json(value)
        return parsed if isinstance(parsed, dict) else {"id": value}
    return {"id": value}


def _multiselect(value: str) -> list[str]:
    return [part for part in value.split(";") if part != ""] if value else []


def _tags(value: str) -> list[dict[str, Any]]:
    value = value.strip()
    if value.startswith("["):
        parsed = _json(value)
        if isinstance(parsed, list):
            return parsed
    separator = ";" if ";" in value else ","
    return [{"name": name.strip()} for name in value.split(separator) if name.strip()]


def _json_object(value: str) -> Any:
    parsed = _json(value.strip()) if value.strip().startswith("{") else None
    return parsed if isinstance(parsed, dict) else None


def _json_array(value: str) -> Any:
    if not value.strip():
        return []
    parsed = _json(value.strip())
    return parsed if isinstance(parsed, list) else _multiselect(value)


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _lower(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _return_type(field: Mapping[str, Any], data_type: str) -> str:
    details = field.get(data_type)
    return _lower(details.get("return_type")) if isinstance(details, Mapping) else ""


def converter_for(field: Mapping[str, Any], zone: tzinfo) -> Convert:
    """The converter of one field's CSV cells, chosen like the schema is (`schema_builder.py`)."""
    if field.get("api_name") == TAG_FIELD:
        return _tags
    data_type = _lower(field.get("data_type"))
    json_type = _lower(field.get("json_type"))
    if data_type in ("formula", "rollup_summary"):
        data_type = _return_type(field, data_type) or ("double" if data_type == "rollup_summary" else "")
    if data_type == "datetime":
        return _datetime_in(zone)
    if data_type in LOOKUP_TYPES:
        return _lookup
    if data_type == "multiselectpicklist":
        return _multiselect
    if data_type == "boolean" or json_type == "boolean":
        return _boolean
    if data_type == "integer" or json_type == "integer":
        return _integer
    if data_type in NUMBER_TYPES or json_type == "double":
        return _number
    if json_type == "jsonobject":
        return _json_object
    if json_type == "jsonarray":
        return _json_array
    return _text


class RowConverter:
    """Turns the rows of one CSV (its header first) into records shaped like REST's."""

    def __init__(self, header: Sequence[str], fields: Iterable[Mapping[str, Any]], zone: tzinfo) -> None:
        by_name = {str(f.get("api_name")): f for f in fields if isinstance(f, Mapping)}
        self.keys: list[str] = []
        self.converters: list[Convert] = []
        for column in header:
            name = column.strip().lstrip("\ufeff")
            if name in ID_COLUMNS:
                name = "id"
            elif name.endswith(".id") and name[:-3] in by_name:  # a lookup exported as `Field.id`
                name = name[:-3]
            self.keys.append(name)
            field = by_name.get(name)
            self.converters.append(_text if name == "id" or field is None else converter_for(field, zone))
        if "id" not in self.keys:
            raise ValueError(f"The Bulk Read CSV has no id column (header: {', '.join(header)[:200]}).")

    def __call__(self, row: Sequence[str]) -> dict[str, Any]:
        return {
            key: convert(cell) for key, convert, cell in zip(self.keys, self.converters, row, strict=False)
        }


def org_zone(org: Mapping[str, Any] | None, fallback: tzinfo = timezone.utc) -> tzinfo:
    """The org's time zone from `/crm/v8/org` (`time_zone`, an IANA name): datetimes as REST gives them."""
    name = org.get("time_zone") if isinstance(org, Mapping) else None
    if isinstance(name, str) and name:
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(name)
        except (ValueError, KeyError, OSError):
            pass
    return fallback
