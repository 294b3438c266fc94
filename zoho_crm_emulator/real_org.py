"""`real_org_shapes`: the realistic org made to look like Zoho's own examples.

Sources (copies in `data/` and `integration_tests/fixtures/zoho_examples/`):
- the 68-module `/settings/modules` list of Zoho's v7 docs (https://www.zoho.com/crm/developer/docs/api/v7/
  modules-api.html) and the v8 OAS module-list variations (static subform, web tab): every module of that
  list that the preset lacks is added with its real `generated_type`, `api_supported`, `viewable`,
  module name and labels;
- the v7 field-meta example (https://www.zoho.com/crm/developer/docs/api/v7/field-meta.html): `Wizard` (bigint
  in metadata, `{id, name}` in records), `Territories` (data type `territories`), a rich-text textarea, the
  Purchase_Orders line items in a module named `Purchase_Items` (field `Purchased_Items`);
- linking modules (`LeadsXProducts`, `Leads_X_Users`) whose rows are the Leads' multi-select / multi-user
  lookup values (Kaizen #199, multi-select lookups: two lookups named after the modules);
- field trackers (`DealHistory`, `Quote_Stage_History`; Kaizen #107): records of their own. Their shape is
  not documented: the columns of Zoho's Stage History related list are an emulator choice.
- refusals documented for `/settings/fields` (get-fields page and OAS fields.json: 204, 400 INVALID_MODULE
  "The given module is not supported in API", 403 NOT_SUPPORTED) and for records (403 NO_PERMISSION, 400
  AUTHORIZATION_FAILED), each on a module of the real list (which module refuses is an emulator choice).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .fields import FieldSpec, ModuleDef, linking_module_name

F = FieldSpec

# Which module of Zoho's real list gets which refusal (ModuleDef.refusal).
REFUSALS = {
    "Email_Analytics": "fields_204",
    "Email_Template_Analytics": "fields_204",
    "Email_Sentiment": "fields_204",
    "Scoring_Rules__s": "fields_204",
    "Entity_Scores__s": "fields_204",
    "Appointments_Rescheduled_History__s": "fields_204",  # its parent, Appointments__s, is not in the org
    "Approvals": "fields_invalid",
    "Attachments": "fields_invalid",  # per record only (get-attachments page)
    "Subform_2": "fields_invalid",  # static subform: no documented read API
    "Data_Subject_Requests": "fields_not_supported",
    "Locking_Information__s": "records_no_permission",
    "Data_Enrichment_Stats__s": "records_authorization",
}
# From the v8 OAS module-list variations: kinds the v7 list lacks.
EXTRA_KINDS = [
    {
        "api_name": "Subform_2",
        "generated_type": "static_subform",
        "api_supported": True,
        "viewable": True,
        "module_name": "LinkingModule20",
        "plural_label": "Subform 2",
        "singular_label": "Subform 2",
    },
    {
        "api_name": "webtab",
        "generated_type": "webtab_link",
        "api_supported": False,
        "viewable": True,
        "module_name": "WebTab1",
        "plural_label": "webtab",
        "singular_label": "webtab",
    },
    # Picklist trackers (Kaizen #107): no module of Zoho's examples has this kind; the name is a choice.
    {
        "api_name": "Lead_Status_History",
        "generated_type": "picklisttracker",
        "api_supported": True,
        "viewable": True,
        "module_name": "LinkingModule21",
        "plural_label": "Lead Status History",
        "singular_label": "Lead Status History",
    },
]


@cache
def real_module_list() -> list[dict[str, Any]]:
    text = resources.files(__package__).joinpath("data/modules_v7.json").read_text(encoding="utf-8")
    return [*json.loads(text)["modules"], *EXTRA_KINDS]


def audit() -> list[FieldSpec]:
    return [
        F("Created_By", "ownerlookup", read_only=True, null_rate=0.0),
        F("Created_Time", "datetime", read_only=True, null_rate=0.0),
        F("Modified_By", "ownerlookup", read_only=True, null_rate=0.0),
        F("Modified_Time", "datetime", read_only=True, null_rate=0.0),
    ]


def generic(meta: dict[str, Any]) -> ModuleDef:
    """A module of the real list the preset does not define: a few records with a name and audit fields."""
    kind = meta.get("generated_type") or "default"
    fields = [F("Owner", "ownerlookup", null_rate=0.0), F("Name", "text", null_rate=0.0), *audit()]
    return ModuleDef(
        meta["api_name"],
        5 if meta.get("api_supported") else 0,
        fields,
        plural=meta.get("plural_label") or meta["api_name"],
        singular=meta.get("singular_label") or meta["api_name"],
        generated_type=kind,
        api_supported=bool(meta.get("api_supported")),
        viewable=meta.get("viewable") is not False,
        refusal=REFUSALS.get(meta["api_name"]),
        module_name=meta.get("module_name") or "",
    )


def tracker(api_name: str, parent: str, kind: str, value: str, choices: list[str]) -> ModuleDef:
    """Field-history / picklist-tracker rows; the shape is undocumented: Zoho's Stage History columns."""
    fields = [
        F(value, "picklist", picklist=choices, null_rate=0.0),
        F("Moved_To", "picklist", picklist=choices, null_rate=0.3),
        F("Duration_Days", "integer", null_rate=0.0),
        F("Parent_Id", "lookup", lookup=parent, null_rate=0.0, read_only=True),
        *audit()[2:],
    ]
    return ModuleDef(
        api_name, 120, fields, generated_type=kind, name_field=value, meta_parent=parent, system_keys=False
    )


def linking(owner: str, data_type: str, target: str | None, field: str) -> ModuleDef:
    """A linking module: one row per value of `owner.field` (rows built from the owner's records)."""
    other = target if data_type == "multiselectlookup" else "Users"
    api_name = linking_module_name(owner, data_type, target)
    fields = [
        F(owner, "lookup", lookup=owner, null_rate=0.0),
        F(other, "userlookup" if other == "Users" else "lookup", lookup=target, null_rate=0.0),
        *audit(),
    ]
    return ModuleDef(
        api_name,
        0,
        fields,
        generated_type="linking",
        name_field="id",
        system_keys=False,
        parent_field=field,
        linked_from=(owner, field),
    )


def extend(defs: list[ModuleDef]) -> list[ModuleDef]:
    """The preset's modules reshaped as Zoho's examples, then every other module of the real list."""
    by_name = {d.api_name: d for d in defs}
    extra: list[ModuleDef] = []
    leads = by_name.get("Leads")
    if leads is not None:
        leads.fields += [
            F("Wizard", "bigint", null_rate=0.5, read_only=True),
            F("Territories", "territories", null_rate=0.3, read_only=True),
            F("Layout", "layout", null_rate=0.0, read_only=True),
            F("Rich_Notes", "textarea", rich_text=True, null_rate=0.2, custom=True),
        ]
        for spec in leads.fields:
            if spec.data_type in ("multiselectlookup", "multiuserlookup"):
                extra.append(linking("Leads", spec.data_type, spec.lookup, spec.api_name))
    orders = by_name.get("Purchase_Orders")
    for spec in orders.fields if orders is not None else []:
        if spec.data_type == "subform" and spec.subform and spec.subform[0] == "Purchased_Items":
            spec.subform = ("Purchase_Items", spec.subform[1])  # the module's name is not the field's
    if "Deals" in by_name:
        stages = ["Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
        extra.append(tracker("DealHistory", "Deals", "field_tracker", "Stage", stages))
    if "Quotes" in by_name:
        extra.append(
            tracker("Quote_Stage_History", "Quotes", "field_tracker", "Quote_Stage", ["Draft", "Sent"])
        )
    if "Leads" in by_name:
        statuses = ["Attempted to Contact", "Contacted", "Qualified", "Lost Lead"]
        extra.append(tracker("Lead_Status_History", "Leads", "picklisttracker", "Lead_Status", statuses))
    present = set(by_name) | {d.api_name for d in extra} | {"Purchase_Items", "Purchased_Items"}
    for meta in real_module_list():
        name = meta["api_name"]
        # Subform, linking and tracker modules of the real list belong to fields this org lacks.
        parts_of_others = meta.get("generated_type") in ("subform", "linking", "field_tracker")
        if name in present or (parts_of_others and name not in REFUSALS):
            continue
        extra.append(generic(meta))
        present.add(name)
    return defs + extra
