"""The modules and fields of each data preset (realistic, small, benchmark); the modules themselves are
defined in modules_sales.py and modules_other.py."""

from __future__ import annotations

from . import real_org
from .fields import ModuleDef
from .module_parts import F, subform_modules
from .modules_other import (
    actions_performed,
    campaigns,
    deals_x_contacts,
    inventory,
    not_api_supported,
    notes,
    price_books_archive,
    products,
    projects,
)
from .modules_sales import accounts, contacts, deals, leads
from .settings import EmulatorSettings


def realistic() -> list[ModuleDef]:
    """Dependency order: a lookup's target module comes first (self-lookups point at earlier records)."""
    return [
        campaigns(30),
        accounts(150),
        contacts(300),
        products(50),
        deals(200),
        leads(2450),
        inventory(
            "Quotes",
            80,
            "Quoted_Items",
            "Quote_Number",
            ["Draft", "Negotiation", "Delivered", "On Hold", "Confirmed", "Closed Won", "Closed Lost"],
            [
                F("Valid_Till", "date"),
                F("Deal_Name", "lookup", lookup="Deals", null_rate=0.2),
                F("Account_Name", "lookup", lookup="Accounts", null_rate=0.0),
                F("Contact_Name", "lookup", lookup="Contacts", null_rate=0.2),
            ],
        ),
        inventory(
            "Sales_Orders",
            40,
            "Ordered_Items",
            "SO_Number",
            ["Created", "Approved", "Delivered", "Cancelled"],
            [
                F("Quote_Name", "lookup", lookup="Quotes", null_rate=0.3),
                F("Account_Name", "lookup", lookup="Accounts", null_rate=0.0),
                F("Contact_Name", "lookup", lookup="Contacts", null_rate=0.2),
            ],
        ),
        inventory(
            "Invoices",
            40,
            "Invoiced_Items",
            "Invoice_Number",
            ["Created", "Approved", "Delivered", "Cancelled", "Paid"],
            [
                F("Invoice_Date", "date", null_rate=0.0),
                F("Sales_Order", "lookup", lookup="Sales_Orders", null_rate=0.3),
                F("Account_Name", "lookup", lookup="Accounts", null_rate=0.0),
                F("Contact_Name", "lookup", lookup="Contacts", null_rate=0.2),
            ],
        ),
        inventory(
            "Purchase_Orders",
            20,
            "Purchased_Items",
            "PO_Number",
            ["Created", "Approved", "Delivered", "Cancelled"],
            [
                F("PO_Date", "date", null_rate=0.0),
                F("Tracking_Number", "text", null_rate=0.4),
                F("Contact_Name", "lookup", lookup="Contacts", null_rate=0.2),
            ],
        ),
        notes(100),
        projects(120),
        deals_x_contacts(150),
        actions_performed(200),
        price_books_archive(60),
        *not_api_supported(),
    ]


def small() -> list[ModuleDef]:
    return [
        campaigns(3),
        accounts(10),
        contacts(20, deleted=(2, 0)),
        leads(30, converted_share=0.1, deleted=(3, 1)),
        deals_x_contacts(5),
        ModuleDef("Home", 0, plural="Home", singular="Home", api_supported=False),
    ]


BENCH_NAMES = ["Leads", "Contacts", "Accounts", "Deals"]
BENCH_CYCLE = [
    "text",
    "integer",
    "datetime",
    "lookup",
    "double",
    "text",
    "currency",
    "date",
    "picklist",
    "boolean",
    "email",
    "phone",
    "bigint",
    "textarea",
]


def benchmark(modules: int, records: int, n_fields: int) -> list[ModuleDef]:
    """`modules` modules of `records` records and `n_fields` fields each (system fields included)."""
    names = [BENCH_NAMES[i] if i < len(BENCH_NAMES) else f"Module_{i + 1}" for i in range(modules)]
    defs: list[ModuleDef] = []
    for index, name in enumerate(names):
        fields = [
            F("Owner", "ownerlookup", null_rate=0.0),
            F("Name", "text", mandatory=True, null_rate=0.0),
            F("Created_By", "ownerlookup", read_only=True, null_rate=0.0),
            F("Created_Time", "datetime", read_only=True, null_rate=0.0),
            F("Modified_By", "ownerlookup", read_only=True, null_rate=0.0),
            F("Modified_Time", "datetime", read_only=True, null_rate=0.0),
        ]
        k = 0
        while len(fields) < n_fields:
            data_type = BENCH_CYCLE[k % len(BENCH_CYCLE)]
            api_name = f"Field_{k + 1}_{data_type.capitalize()}"
            spec = F(api_name, data_type, custom=True, null_rate=0.1)
            if data_type == "lookup":
                target = names[index - 1] if index else name
                spec = F(api_name, "lookup", lookup=target, custom=True, null_rate=0.2)
            if data_type == "picklist":
                spec.picklist = ["Alpha", "Beta", "Gamma", "Delta"]
            fields.append(spec)
            k += 1
        generated = "custom" if name.startswith("Module_") else "default"
        defs.append(
            ModuleDef(name, records, fields[: max(n_fields, 6)], generated_type=generated, name_field="Name")
        )
    return defs


def build(settings: EmulatorSettings) -> list[ModuleDef]:
    if settings.preset == "realistic":
        defs = realistic()
    elif settings.preset == "small":
        defs = small()
    else:
        defs = benchmark(settings.bench_modules, settings.bench_records, settings.bench_fields)
    defs = prune_missing_targets(defs)
    if settings.real_org_shapes and settings.preset == "realistic":
        defs = real_org.extend(defs)
    return defs + subform_modules(defs)  # last: the ids and slots of the other modules do not move


def prune_missing_targets(defs: list[ModuleDef]) -> list[ModuleDef]:
    """Drop lookups whose target module is not in the preset (the small preset has no Deals, Products...)."""
    present = {d.api_name for d in defs} | {"Data_Processing_Basis_Details"}
    for d in defs:
        kept = []
        for spec in d.fields:
            if spec.lookup and spec.lookup not in present:
                continue
            if spec.modules:
                spec.modules = [m for m in spec.modules if m in present]
                if not spec.modules:
                    continue
            if spec.subform:
                spec.subform = (
                    spec.subform[0],
                    [s for s in spec.subform[1] if not s.lookup or s.lookup in present],
                )
            kept.append(spec)
        d.fields = kept
    return defs
