"""Shared pieces of the presets' module definitions: value lists, owner and audit fields, line items,
subform modules, addresses."""

from __future__ import annotations

from .fields import FieldSpec, ModuleDef

F = FieldSpec

LEAD_SOURCES = [
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Sales Email Alias",
    "Seminar Partner",
    "Web Download",
    "Chat",
]
INDUSTRIES = [
    "ASP (Application Service Provider)",
    "Data/Telecom OEM",
    "ERP (Enterprise Resource Planning)",
    "Government/Military",
    "Large Enterprise",
    "Management ISV",
    "Network Equipment Enterprise",
    "Non-management ISV",
    "Optical Networking",
    "Service Provider",
    "Small/Medium Enterprise",
]
RATINGS = ["Acquired", "Active", "Market Failed", "Project Cancelled", "Shut Down"]
SALUTATIONS = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof."]
STAGES = [
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]


def owner_fields() -> list[FieldSpec]:
    return [F("Owner", "ownerlookup", null_rate=0.0)]


def audit_fields(modified: bool = True, activity: bool = True) -> list[FieldSpec]:
    specs = [
        F("Created_By", "ownerlookup", read_only=True, null_rate=0.0),
        F("Created_Time", "datetime", read_only=True, null_rate=0.0),
    ]
    if modified:
        specs += [
            F("Modified_By", "ownerlookup", read_only=True, null_rate=0.0),
            F("Modified_Time", "datetime", read_only=True, null_rate=0.0),
        ]
    if activity:
        specs.append(F("Last_Activity_Time", "datetime", read_only=True, null_rate=0.2))
    specs.append(F("Tag", "text", json_type="jsonarray", read_only=True))
    return specs


def line_items(module: str) -> tuple[str, list[FieldSpec]]:
    """The line items of an inventory module (Quoted_Items, ...); `derived` values are computed per line:
    Quantity 1-20, Total = Quantity x List_Price, Discount 0-15 % of it, Line_Tax 0-2 taxes on
    Total_After_Discount, Tax their sum, Net_Total = Total_After_Discount + Tax, Sequence_Number 1, 2, ..."""
    return (
        module,
        [
            F("Product_Name", "lookup", lookup="Products", null_rate=0.0, mandatory=True),
            F("Quantity", "double", null_rate=0.0, derived=True, mandatory=True),
            F("List_Price", "currency", null_rate=0.0),
            F("Discount", "currency", null_rate=0.0, derived=True),
            F("Total", "currency", read_only=True, null_rate=0.0, derived=True),
            F("Total_After_Discount", "currency", read_only=True, null_rate=0.0, derived=True),
            F("Line_Tax", "linetax", null_rate=0.0, derived=True),
            F("Tax", "currency", read_only=True, null_rate=0.0, derived=True),
            F("Net_Total", "currency", read_only=True, null_rate=0.0, derived=True),
            F("Description", "textarea", null_rate=0.5),
            F("Sequence_Number", "integer", read_only=True, null_rate=0.0, derived=True),
        ],
    )


def subform_modules(defs: list[ModuleDef]) -> list[ModuleDef]:
    """A module per subform field (generated_type `subform`): the line fields, then what every line
    carries besides its id: `Parent_Id` (lookup to the parent record), `Created_Time`, `Modified_Time`."""
    out = []
    for parent in defs:
        for spec in parent.fields:
            if spec.data_type != "subform" or not spec.subform:
                continue
            api_name, line_fields = spec.subform
            label = api_name.replace("_", " ")
            fields = [
                *line_fields,
                F("Parent_Id", "lookup", lookup=parent.api_name, read_only=True, null_rate=0.0),
                F("Created_Time", "datetime", read_only=True, null_rate=0.0),
                F("Modified_Time", "datetime", read_only=True, null_rate=0.0),
            ]
            out.append(
                ModuleDef(
                    api_name,
                    0,
                    fields,
                    plural=label,
                    singular=label.rstrip("s"),
                    generated_type="subform",
                    name_field="Parent_Id",
                    readable=parent.readable,
                    system_keys=False,
                    parent=parent.api_name,
                    parent_field=spec.api_name,
                    line_items=any(f.data_type == "linetax" for f in line_fields),
                )
            )
    return out


def totals() -> list[FieldSpec]:
    return [
        F("Sub_Total", "currency", read_only=True, null_rate=0.0),
        F("Discount", "currency"),
        F("Tax", "currency"),
        F("Adjustment", "currency"),
        F("Grand_Total", "currency", read_only=True, null_rate=0.0),
    ]


def address(prefix: str) -> list[FieldSpec]:
    return [F(f"{prefix}_{part}", "text") for part in ("Street", "City", "State", "Code", "Country")]
