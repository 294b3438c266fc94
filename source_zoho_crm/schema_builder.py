"""Build the Airbyte JSON schema of a Zoho CRM module's stream from its field metadata.

Why a component: the CDK's DynamicSchemaLoader raises on a type it has no mapping for, and Zoho adds
field types over time. Pure functions over the `fields` of `/crm/v8/settings/fields?module=X`; never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from source_zoho_crm.settings import OBJECT_VALUED_FIELDS

Schema = dict[str, Any]

JSON_SCHEMA_DRAFT_07 = "http://json-schema.org/draft-07/schema#"
PRIMARY_KEY = "id"
TAG_API_NAME = "Tag"


def _nullable(json_type: str, **keywords: Any) -> Schema:
    return {"type": ["null", json_type], **keywords}


def _string(**keywords: Any) -> Schema:
    return _nullable("string", **keywords)


def _object(properties: Mapping[str, Schema] | None = None) -> Schema:
    schema = _nullable("object", additionalProperties=True)
    if properties:
        schema["properties"] = dict(properties)
    return schema


def _array(items: Schema | None = None) -> Schema:
    return _nullable("array") if items is None else _nullable("array", items=items)


def _lookup() -> Schema:
    return _object({"id": _string(), "name": _string()})


def _user_lookup() -> Schema:
    return _object({"id": _string(), "name": _string(), "email": _string()})


def _multi_module_lookup() -> Schema:
    module = _object({"api_name": _string(), "id": _string()})
    return _object({"id": _string(), "name": _string(), "module": module})


def _array_of_objects() -> Schema:
    return _array(_object())


def _tags() -> Schema:
    return _array(_object({"name": _string(), "id": _string()}))


def _date() -> Schema:
    return _string(format="date")


def _datetime() -> Schema:
    return _string(format="date-time", airbyte_type="timestamp_with_timezone")


_TEXT_TYPES = (
    "text",
    "textarea",
    "mediumtext",
    "phone",
    "picklist",
    "profileimage",
    "event_reminder",
    "autonumber",
    "bigint",
    "long",
    "string",
)

# Types whose value is a single scalar; formula and rollup return types resolve through this table.
_SCALAR_TYPES: dict[str, Callable[[], Schema]] = {
    **{name: _string for name in _TEXT_TYPES},
    "email": lambda: _string(format="email"),
    "website": lambda: _string(format="uri-reference"),
    "date": _date,
    "datetime": _datetime,
    "integer": lambda: _nullable("integer"),
    "double": lambda: _nullable("number"),
    "currency": lambda: _nullable("number"),
    "percent": lambda: _nullable("number"),
    "decimal": lambda: _nullable("number"),
    "boolean": lambda: _nullable("boolean"),
}

_STRUCTURED_TYPES: dict[str, Callable[[], Schema]] = {
    "multiselectpicklist": lambda: _array(_string()),
    "lookup": _lookup,
    "consent_lookup": _lookup,
    "ownerlookup": _user_lookup,
    "userlookup": _user_lookup,
    "multiuserlookup": lambda: _array(_user_lookup()),
    "multi_module_lookup": _multi_module_lookup,
    "subform": _array_of_objects,
    "multiselectlookup": _array_of_objects,
    "fileupload": _array_of_objects,
    "imageupload": _array_of_objects,
    "linetax": _array_of_objects,
}

# Keys of the field metadata holding the return type of computed fields.
_COMPUTED_TYPES = {"formula": "formula", "rollup_summary": "rollup_summary"}

_JSON_TYPES: dict[str, Callable[[], Schema]] = {
    "string": _string,
    "integer": lambda: _nullable("integer"),
    "double": lambda: _nullable("number"),
    "boolean": lambda: _nullable("boolean"),
    "jsonobject": _object,
    "jsonarray": _array,
}


def _lower(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(field: Mapping[str, Any]) -> str:
    name = field.get("api_name")
    return _short(name) if isinstance(name, str) else "<no api_name>"


_CONTAINER_JSON_TYPES = ("jsonobject", "jsonarray")


def _fallback(field: Mapping[str, Any], reason: str) -> tuple[Schema, str]:
    """The widest schema the field's json_type allows, with a warning naming the field and type."""
    json_type = field.get("json_type")
    builder = _JSON_TYPES.get(_lower(json_type) or "")
    prefix = f"Field {_describe(field)}: {reason}"
    if builder is None:
        return {}, f"{prefix} and json_type {_short(json_type)}; accepting any value"
    return builder(), f"{prefix}; using the widest schema of json_type {_short(json_type)}"


def field_schema(field: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """JSON schema of one field's value, and a warning when the type was not recognised."""
    if not isinstance(field, Mapping):
        return {}, f"Field metadata is not an object ({type(field).__name__}); accepting any value"
    if field.get("api_name") == TAG_API_NAME:
        return _tags(), None
    if field.get("api_name") in OBJECT_VALUED_FIELDS:
        return _lookup(), None
    raw_type = field.get("data_type")
    data_type = _lower(raw_type)
    if data_type is None:
        return _fallback(field, f"missing data_type {_short(raw_type)}")
    scalar = _SCALAR_TYPES.get(data_type)
    json_type = _lower(field.get("json_type"))
    if scalar is not None and json_type in _CONTAINER_JSON_TYPES:
        # Zoho's json_type says the value is an object or array (e.g. event_reminder {"ALARM": ...}).
        return _JSON_TYPES[json_type](), None
    builder = scalar or _STRUCTURED_TYPES.get(data_type)
    if builder is not None:
        return builder(), None
    if data_type in _COMPUTED_TYPES:
        details = field.get(_COMPUTED_TYPES[data_type])
        return_type = details.get("return_type") if isinstance(details, Mapping) else None
        builder = _SCALAR_TYPES.get(_lower(return_type) or "")
        if builder is not None:
            return builder(), None
        return _fallback(field, f"{data_type} with unknown return_type {_short(return_type)}")
    return _fallback(field, f"unknown data_type {_short(raw_type)}")


def _type_of(field: Any) -> Any:
    return field.get("data_type") if isinstance(field, Mapping) else type(field).__name__


def _iter_fields(fields: Any) -> Iterable[Any]:
    if isinstance(fields, (str, bytes, Mapping)) or not isinstance(fields, Iterable):
        return ()
    return fields


def build_stream_schema(
    fields: Sequence[Mapping[str, Any]], extra_properties: Mapping[str, dict] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The stream schema and the warnings to log (one per unknown / untyped field, naming field and type)."""
    properties: dict[str, Schema] = {PRIMARY_KEY: _string()}
    warnings: list[str] = []
    seen: set[str] = set()
    for field in _iter_fields(fields):
        api_name = field.get("api_name") if isinstance(field, Mapping) else None
        if not isinstance(api_name, str) or not api_name:
            warnings.append(f"Skipping a field without an api_name (data_type {_short(_type_of(field))})")
            continue
        if api_name in seen:
            continue
        seen.add(api_name)
        if api_name == PRIMARY_KEY:
            continue  # the primary key is always a nullable string, whatever the metadata says
        properties[api_name], warning = field_schema(field)
        if warning:
            warnings.append(warning)
    if isinstance(extra_properties, Mapping):
        properties.update({str(name): schema for name, schema in extra_properties.items()})
    schema = {
        "$schema": JSON_SCHEMA_DRAFT_07,
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }
    return schema, warnings
