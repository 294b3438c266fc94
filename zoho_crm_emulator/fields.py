"""Field and module definitions, rendered as Zoho metadata (`/settings/fields`, `/settings/modules`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_JSON_TYPE = "<none>"  # a field whose metadata has no json_type key at all

JSON_TYPES = {
    "text": "string",
    "textarea": "string",
    "mediumtext": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "profileimage": "string",
    "autonumber": "string",
    "picklist": "string",
    "multiselectpicklist": "jsonarray",
    "integer": "integer",
    "bigint": "string",
    "double": "double",
    "decimal": "double",
    "currency": "double",
    "percent": "double",
    "boolean": "boolean",
    "date": "string",
    "datetime": "string",
    "event_reminder": "jsonobject",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "userlookup": "jsonobject",
    "multiuserlookup": "jsonarray",
    "multiselectlookup": "jsonarray",
    "multi_module_lookup": "jsonobject",
    "rollup_summary": "double",
    "subform": "jsonarray",
    "fileupload": "jsonarray",
    "imageupload": "jsonarray",
    "consent_lookup": "jsonobject",
    "layout": "jsonobject",
    "territories": "jsonarray",
    "linetax": "jsonarray",
}
FORMULA_JSON_TYPES = {
    "text": "string",
    "double": "double",
    "currency": "double",
    "date": "string",
    "datetime": "string",
    "boolean": "boolean",
    "integer": "integer",
}
LOOKUP_TYPES = frozenset(
    {"lookup", "ownerlookup", "userlookup", "consent_lookup", "multi_module_lookup", "layout"}
)
DATETIME_TYPES = frozenset({"datetime"})
DEFAULT_LENGTHS = {
    "text": 255,
    "email": 100,
    "phone": 30,
    "website": 255,
    "textarea": 32000,
    "mediumtext": 50000,
    "picklist": 120,
    "multiselectpicklist": 2000,
    "integer": 9,
    "bigint": 18,
    "double": 16,
    "decimal": 16,
    "currency": 16,
    "percent": 5,
    "autonumber": 255,
}


@dataclass
class FieldSpec:
    api_name: str
    data_type: str
    label: str | None = None
    json_type: str | None = None  # None: derived from data_type; NO_JSON_TYPE: key left out
    custom: bool = False
    read_only: bool = False
    mandatory: bool = False
    null_rate: float = 0.1
    picklist: list[str] | None = None
    lookup: str | None = None  # target module of lookup / multiselectlookup
    modules: list[str] | None = None  # targets of a multi_module_lookup
    formula_return: str | None = None
    subform: tuple[str, list[FieldSpec]] | None = None  # (subform module api name, its line fields)
    rich_text: bool = False  # textarea of type rich_text (up to 50,000 characters; cut in list GETs)
    derived: bool = False  # a line-item value computed from the rest of the line (values.py), never drawn
    prefix: str = ""  # autonumber
    decimal_place: int | None = None
    id: str = ""

    @property
    def display_label(self) -> str:
        return self.label or self.api_name.replace("__s", "").replace("_", " ")

    @property
    def effective_json_type(self) -> str | None:
        if self.json_type == NO_JSON_TYPE:
            return None
        if self.json_type:
            return self.json_type
        if self.data_type == "formula":
            return FORMULA_JSON_TYPES.get(self.formula_return or "text", "string")
        return JSON_TYPES.get(self.data_type, "string")

    @property
    def is_lookup_like(self) -> bool:
        return self.data_type in LOOKUP_TYPES

    def render(
        self,
        module_ids: dict[str, str],
        seq: int,
        profiles: list[dict[str, Any]],
        owner: str = "",
        real_shapes: bool = False,
        name_field: str = "",
    ) -> dict[str, Any]:
        """Zoho's field metadata keys (fields.json), empty sub-objects as Zoho sends them. `real_shapes`:
        the shapes of Zoho's own examples (v7 field-meta page, v8 SDK), see `real_shapes`."""
        dt = self.data_type
        meta: dict[str, Any] = {
            "api_name": self.api_name,
            "display_label": self.display_label,
            "field_label": self.display_label,
            "data_type": dt,
        }
        json_type = self.effective_json_type
        if json_type is not None:
            meta["json_type"] = json_type
        decimal_place = self.decimal_place
        if decimal_place is None and dt in ("currency", "decimal", "double", "percent"):
            decimal_place = 2
        meta.update(
            {
                "id": self.id,
                "length": DEFAULT_LENGTHS.get(dt, 255),
                "decimal_place": decimal_place,
                "system_mandatory": self.mandatory,
                "custom_field": self.custom,
                "read_only": self.read_only,
                "field_read_only": self.read_only,
                "visible": True,
                "sequence_number": seq,
                "created_source": "crm" if self.custom else "default",
                "type": "used",
                "sortable": dt
                not in (
                    "subform",
                    "multiselectlookup",
                    "multiuserlookup",
                    "fileupload",
                    "imageupload",
                    "linetax",
                ),
                "filterable": True,
                "searchable": dt in ("text", "email", "phone", "picklist", "autonumber"),
                "mass_update": not self.read_only,
                "webhook": True,
                "virtual_field": False,
                # The module's record name, which lookups to it show as `name` (Full_Name on Leads in
                # Zoho's v7 field-meta example).
                "display_field": self.api_name == name_field
                if name_field
                else self.api_name in ("Last_Name", "Account_Name", "Deal_Name", "Name", "Subject"),
                "businesscard_supported": False,
                "tooltip": None,
                "history_tracking": None,
                "unique": {},
                "external": None,
                "private": None,
                "crypt": None,
                "hipaa_compliance_enabled": False,
                "hipaa_compliance": None,
                "associated_module": None,
                "view_type": {
                    "view": True,
                    "edit": not self.read_only,
                    "quick_create": False,
                    "create": not self.read_only,
                },
                "operation_type": {
                    "web_update": not self.read_only,
                    "api_create": not self.read_only,
                    "web_create": not self.read_only,
                    "api_update": not self.read_only,
                },
                "profiles": [
                    {
                        "permission_type": "read_only" if self.read_only else "read_write",
                        "name": p["name"],
                        "id": p["id"],
                    }
                    for p in profiles
                ],
                "lookup": {},
                "pick_list_values": [],
                "formula": {},
                "auto_number": {},
                "currency": {},
                "multiselectlookup": {},
                "multiuserlookup": {},
                "multi_module_lookup": {},
                "rollup_summary": {},
                "subform": None,
            }
        )
        if dt in ("lookup", "consent_lookup") and self.lookup:
            meta["lookup"] = {
                "display_label": self.display_label,
                "api_name": self.api_name,
                "id": self.id,
                "module": {"api_name": self.lookup, "id": module_ids.get(self.lookup, "")},
                "query_details": {},
                "revalidate_filter_during_edit": False,
                "show_fields": [],
            }
        if dt in ("picklist", "multiselectpicklist"):
            values = ["-None-", *(self.picklist or [])] if dt == "picklist" else list(self.picklist or [])
            meta["pick_list_values"] = [
                {
                    "display_value": v,
                    "actual_value": v,
                    "reference_value": v,
                    "sequence_number": i + 1,
                    "id": f"{self.id[:-3]}{i:03d}",
                    "type": "used",
                    "colour_code": None,
                }
                for i, v in enumerate(values)
            ]
        if dt == "formula":
            meta["formula"] = {"return_type": self.formula_return or "text", "expression": 'Concat("x", "y")'}
        if dt == "autonumber":
            meta["auto_number"] = {
                "prefix": self.prefix,
                "suffix": "",
                "start_number": 1,
                "starting_number_length": 1,
            }
        if dt == "currency" or (dt == "formula" and self.formula_return == "currency"):
            meta["currency"] = {"rounding_option": "normal", "precision": 2}
        if dt == "multiselectlookup" and self.lookup:
            meta["multiselectlookup"] = {
                "display_label": self.display_label,
                "api_name": self.api_name,
                "id": self.id,
                "linking_module": {"api_name": f"{self.api_name}_Links", "id": self.id},
                "connected_module": {"api_name": self.lookup, "id": module_ids.get(self.lookup, "")},
                "lookup_apiname": "Parent",
                "connectedfield_apiname": self.api_name,
                "connectedlookup_apiname": self.lookup,
                "record_access": True,
            }
        if dt == "multiuserlookup":
            meta["multiuserlookup"] = {
                "display_label": self.display_label,
                "api_name": self.api_name,
                "id": self.id,
                "linking_module": {"api_name": f"{self.api_name}_Links", "id": self.id},
                "connected_module": {"api_name": "users", "id": ""},
                "lookup_apiname": "Parent",
                "connectedfield_apiname": self.api_name,
                "connectedlookup_apiname": "Users",
                "record_access": True,
            }
        if dt == "multi_module_lookup":
            meta["multi_module_lookup"] = {
                "display_label": self.display_label,
                "api_name": self.api_name,
                "modules": [{"api_name": m, "id": module_ids.get(m, "")} for m in self.modules or []],
            }
        if dt == "rollup_summary":
            meta["rollup_summary"] = {
                "return_type": "double",
                "expression": {"function": "COUNT"},
                "based_on_module": {"api_name": "Notes"},
            }
        if dt == "subform" and self.subform:
            # Zoho names the subform module twice: `subform` (module API name and id) and
            # `associated_module`; GET /settings/fields?module=<that name> describes its lines.
            meta["subform"] = {"module": self.subform[0], "id": module_ids.get(self.subform[0], self.id)}
            meta["associated_module"] = {"api_name": self.subform[0], "module": self.subform[0]}
        if dt == "textarea":
            meta["textarea"] = {"type": "rich_text" if self.rich_text else "large"}
            if self.rich_text:
                meta["length"] = 50000
        if real_shapes:
            self.real_shapes(meta, module_ids, owner)
        return meta

    def real_shapes(self, meta: dict[str, Any], module_ids: dict[str, str], owner: str) -> None:
        """As in Zoho's v7 field-meta example (87-field Leads layout, data/fields_Leads_v7.json): a subform
        field has `"subform": null` and `"associated_module": {"module", "id"}`; a multi-select lookup's
        `linking_module` is `<Module>X<Target>` with lookups named after both modules; the v8 SDK's
        `linking_details` is given too (for multi-user lookups: `<Module>_X_Users`)."""
        if self.data_type == "subform" and self.subform:
            meta["subform"] = None
            meta["associated_module"] = {"module": self.subform[0], "id": module_ids.get(self.subform[0], "")}
        kind = self.data_type
        if kind in ("multiselectlookup", "multiuserlookup") and meta.get(kind):
            target = self.lookup if kind == "multiselectlookup" else "Users"
            linking = linking_module_name(owner, self.data_type, self.lookup)
            link = {"api_name": linking, "id": module_ids.get(linking, "")}
            meta[kind].update(
                {"linking_module": link, "lookup_apiname": owner, "connectedlookup_apiname": target}
            )
            meta["linking_details"] = {
                "module": {**link, "plural_label": linking.replace("_", " ")},
                "lookup_field": {"api_name": owner, "id": self.id},
                "connected_lookup_field": {"api_name": target, "id": self.id},
            }


def linking_module_name(owner: str, data_type: str, target: str | None) -> str:
    """Zoho's names in its real module list: LeadsXProducts (multi-select), Leads_X_Users (multi-user)."""
    return f"{owner}_X_Users" if data_type == "multiuserlookup" else f"{owner}X{target}"


@dataclass
class ModuleDef:
    api_name: str
    count: int
    fields: list[FieldSpec] = field(default_factory=list)
    singular: str = ""
    plural: str = ""
    generated_type: str = "default"
    name_field: str = "Name"
    readable: bool = True
    api_supported: bool = True
    deleted: tuple[int, int] = (0, 0)  # (recycle, permanent) records already deleted
    converted_share: float = 0.0  # Leads: share of converted leads
    system_keys: bool = True  # add `$`-prefixed system keys to records
    parent: str | None = None  # subform modules: the parent module's API name
    parent_field: str | None = None  # subform modules: the parent's subform field holding the lines
    line_items: bool = False  # subform modules: inventory line items (Quoted_Items, ...)
    # Refusals: "fields_204", "fields_invalid" (400 INVALID_MODULE), "fields_not_supported" (403), on
    # /settings/fields; "records_no_permission" (403), "records_authorization" (400 AUTHORIZATION_FAILED)
    refusal: str | None = None
    viewable: bool = True
    module_name: str = ""  # the `module_name` of /settings/modules; derived from the API name if empty
    meta_parent: str | None = None  # `parent_module` of a field tracker (its records are its own)
    linked_from: tuple[str, str] | None = None  # linking modules: (owner module, its multi-lookup field)

    def __post_init__(self) -> None:
        self.plural = self.plural or self.api_name.replace("_", " ")
        self.singular = self.singular or self.plural.rstrip("s")

    def field(self, api_name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.api_name == api_name:
                return spec
        return None

    def has(self, api_name: str) -> bool:
        return self.field(api_name) is not None
