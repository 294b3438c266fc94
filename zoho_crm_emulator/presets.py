"""The modules and fields of each data preset (realistic, small, benchmark)."""

from __future__ import annotations

from . import real_org
from .fields import NO_JSON_TYPE, FieldSpec, ModuleDef
from .settings import EmulatorSettings

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


def leads(count: int, converted_share: float = 0.1, deleted: tuple[int, int] = (10, 2)) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Company", "text", null_rate=0.05),
        F("First_Name", "text", null_rate=0.05),
        F("Last_Name", "text", mandatory=True, null_rate=0.0),
        F("Full_Name", "text", read_only=True, null_rate=0.0),
        F("Designation", "text", label="Title"),
        F("Email", "email"),
        F("Secondary_Email", "email", null_rate=0.6),
        F("Phone", "phone"),
        F("Mobile", "phone", null_rate=0.3),
        F("Fax", "phone", null_rate=0.7),
        F("Website", "website", null_rate=0.3),
        F("Lead_Source", "picklist", picklist=LEAD_SOURCES),
        F(
            "Lead_Status",
            "picklist",
            picklist=[
                "Attempted to Contact",
                "Contact in Future",
                "Contacted",
                "Junk Lead",
                "Lost Lead",
                "Not Contacted",
                "Pre-Qualified",
                "Not Qualified",
            ],
        ),
        F("Industry", "picklist", picklist=INDUSTRIES),
        F("No_of_Employees", "integer"),
        F("Annual_Revenue", "currency"),
        F("Rating", "picklist", picklist=RATINGS),
        F("Email_Opt_Out", "boolean", null_rate=0.0),
        F("Skype_ID", "text", null_rate=0.6),
        F("Salutation", "picklist", picklist=SALUTATIONS),
        F("Twitter", "text", null_rate=0.6),
        F("Street", "text"),
        F("City", "text"),
        F("State", "text"),
        F("Zip_Code", "text"),
        F("Country", "text"),
        F("Description", "textarea", null_rate=0.4),
        F("Record_Image", "profileimage", null_rate=0.7),
        *audit_fields(),
        F("Lead_No", "autonumber", prefix="LD-", read_only=True, null_rate=0.0),
        F(
            "Data_Processing_Basis_Details",
            "consent_lookup",
            lookup="Data_Processing_Basis_Details",
            null_rate=0.6,
        ),
        F(
            "Unsubscribed_Mode",
            "picklist",
            picklist=["Manual", "Unsubscribe link", "Consent form"],
            null_rate=0.8,
        ),
        F("Unsubscribed_Time", "datetime", null_rate=0.8),
        F("Locked__s", "boolean", label="Locked", read_only=True, null_rate=0.0),
        F("Converted_Date_Time", "datetime", read_only=True, null_rate=1.0),
        F("Converted_Account", "lookup", lookup="Accounts", read_only=True, null_rate=1.0),
        F("Converted_Contact", "lookup", lookup="Contacts", read_only=True, null_rate=1.0),
        F("Converted_Deal", "lookup", lookup="Deals", read_only=True, null_rate=1.0),
        # custom fields, one per remaining data type
        F("Detailed_Notes", "mediumtext", custom=True, null_rate=0.5),
        F("Employee_Count_Big", "bigint", custom=True, null_rate=0.2),
        F("Lead_Score", "integer", custom=True, null_rate=0.1),
        F("Engagement_Score", "double", custom=True, null_rate=0.2),
        F("Discount_Rate", "percent", custom=True, null_rate=0.3),
        F("Budget_Estimate", "decimal", custom=True, null_rate=0.3),
        F(
            "Interested_Products",
            "multiselectpicklist",
            custom=True,
            null_rate=0.0,
            picklist=["CRM", "Books", "Desk", "Campaigns", "Analytics", "Projects", "People"],
        ),
        F("Follow_Up_Date", "date", custom=True, null_rate=0.3),
        F("Preferred_Contact_Time", "datetime", custom=True, null_rate=0.4),
        F("Meeting_Reminder", "event_reminder", custom=True, null_rate=0.6),
        F("Referred_By", "userlookup", custom=True, null_rate=0.5),
        F("Assigned_Team", "multiuserlookup", custom=True, null_rate=0.0),
        F("Related_Products", "multiselectlookup", lookup="Products", custom=True, null_rate=0.0),
        F("Related_Record", "multi_module_lookup", modules=["Accounts", "Deals"], custom=True, null_rate=0.5),
        F("Score_Label", "formula", formula_return="text", custom=True, read_only=True, null_rate=0.0),
        F("Weighted_Revenue", "formula", formula_return="double", custom=True, read_only=True, null_rate=0.1),
        F("Next_Review_Date", "formula", formula_return="date", custom=True, read_only=True, null_rate=0.1),
        F("Total_Touchpoints", "rollup_summary", custom=True, read_only=True, null_rate=0.0),
        F(
            "Lead_Contacts",
            "subform",
            custom=True,
            null_rate=0.0,
            subform=(
                "Lead_Contacts",
                [
                    F("Contact_Person", "text", null_rate=0.0, custom=True),
                    F("Role", "picklist", picklist=["Champion", "Buyer", "User"], custom=True),
                    F("Contact_Phone", "phone", custom=True),
                    F("Met_On", "date", custom=True),
                ],
            ),
        ),
        F("Attachments_Files", "fileupload", custom=True, null_rate=0.0),
        F("Photo_Gallery", "imageupload", custom=True, null_rate=0.0),
        F("Hologram_Field", "hologram", json_type="string", custom=True, null_rate=0.3),
        F("Legacy_Score", "integer", json_type=NO_JSON_TYPE, custom=True, null_rate=0.3),
    ]
    return ModuleDef(
        "Leads",
        count,
        fields,
        singular="Lead",
        name_field="Full_Name",
        deleted=deleted,
        converted_share=converted_share,
    )


def contacts(count: int, deleted: tuple[int, int] = (5, 1)) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Salutation", "picklist", picklist=SALUTATIONS),
        F("First_Name", "text", null_rate=0.05),
        F("Last_Name", "text", mandatory=True, null_rate=0.0),
        F("Full_Name", "text", read_only=True, null_rate=0.0),
        F("Account_Name", "lookup", lookup="Accounts", null_rate=0.1),
        F("Reporting_To", "lookup", lookup="Contacts", null_rate=0.7),
        F("Email", "email"),
        F("Secondary_Email", "email", null_rate=0.6),
        F("Phone", "phone"),
        F("Mobile", "phone", null_rate=0.3),
        F("Home_Phone", "phone", null_rate=0.6),
        F("Title", "text"),
        F("Department", "text", null_rate=0.4),
        F("Lead_Source", "picklist", picklist=LEAD_SOURCES),
        F("Date_of_Birth", "date", null_rate=0.5),
        F("Email_Opt_Out", "boolean", null_rate=0.0),
        *address("Mailing"),
        F("Description", "textarea", null_rate=0.5),
        F("Record_Image", "profileimage", null_rate=0.7),
        *audit_fields(),
        F("Locked__s", "boolean", label="Locked", read_only=True, null_rate=0.0),
    ]
    return ModuleDef("Contacts", count, fields, singular="Contact", name_field="Full_Name", deleted=deleted)


def accounts(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Account_Name", "text", mandatory=True, null_rate=0.0),
        F("Account_Number", "bigint", null_rate=0.3),
        F(
            "Account_Type",
            "picklist",
            picklist=[
                "Analyst",
                "Competitor",
                "Customer",
                "Distributor",
                "Integrator",
                "Investor",
                "Partner",
                "Press",
                "Prospect",
                "Reseller",
            ],
        ),
        F("Industry", "picklist", picklist=INDUSTRIES),
        F("Annual_Revenue", "currency"),
        F("Employees", "integer"),
        F("Phone", "phone"),
        F("Fax", "phone", null_rate=0.7),
        F("Website", "website"),
        F("Ownership", "picklist", picklist=["Government", "Private", "Public", "Partnership", "Subsidiary"]),
        F("Rating", "picklist", picklist=RATINGS),
        F("SIC_Code", "integer", null_rate=0.5),
        F("Ticker_Symbol", "text", null_rate=0.7),
        F("Parent_Account", "lookup", lookup="Accounts", null_rate=0.8),
        *address("Billing"),
        F("Description", "textarea", null_rate=0.5),
        F("Record_Image", "profileimage", null_rate=0.7),
        *audit_fields(),
        F(
            "Branch_Offices",
            "subform",
            custom=True,
            null_rate=0.0,
            subform=(
                "Branch_Offices",
                [
                    F("Office_Name", "text", null_rate=0.0, custom=True),
                    F("Office_City", "text", custom=True),
                    F("Headcount", "integer", custom=True),
                    F("Opened_On", "date", custom=True),
                ],
            ),
        ),
    ]
    return ModuleDef("Accounts", count, fields, singular="Account", name_field="Account_Name")


def deals(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Deal_Name", "text", mandatory=True, null_rate=0.0),
        F("Amount", "currency", null_rate=0.05),
        F("Stage", "picklist", picklist=STAGES, mandatory=True, null_rate=0.0),
        F("Probability", "integer", null_rate=0.0),
        F("Expected_Revenue", "currency", read_only=True),
        F("Closing_Date", "date", mandatory=True, null_rate=0.0),
        F("Account_Name", "lookup", lookup="Accounts", null_rate=0.05),
        F("Contact_Name", "lookup", lookup="Contacts", null_rate=0.2),
        F("Campaign_Source", "lookup", lookup="Campaigns", null_rate=0.7),
        F("Type", "picklist", picklist=["Existing Business", "New Business"]),
        F("Lead_Source", "picklist", picklist=LEAD_SOURCES),
        F("Next_Step", "text", null_rate=0.5),
        F(
            "Reason_For_Loss__s",
            "picklist",
            label="Reason For Loss",
            picklist=["Price", "Competition", "Lost to Competitor", "No Budget"],
            null_rate=0.8,
        ),
        F("Sales_Cycle_Duration", "integer", read_only=True),
        F("Overall_Sales_Duration", "integer", read_only=True),
        F("Description", "textarea", null_rate=0.5),
        *audit_fields(),
    ]
    return ModuleDef("Deals", count, fields, singular="Deal", name_field="Deal_Name")


def products(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Product_Name", "text", mandatory=True, null_rate=0.0),
        F("Product_Code", "text", null_rate=0.1),
        F("Product_Active", "boolean", null_rate=0.0),
        F("Product_Category", "picklist", picklist=["Hardware", "Software", "CRM Applications"]),
        F("Manufacturer", "picklist", picklist=["AltvetPet Inc.", "LexPro Inc.", "MetBeat Corp."]),
        F("Unit_Price", "currency", null_rate=0.0),
        F("Commission_Rate", "currency"),
        F("Qty_in_Stock", "double"),
        F("Qty_Ordered", "double"),
        F("Tax", "multiselectpicklist", picklist=["Sales Tax", "Vat", "Service Tax"], null_rate=0.0),
        F("Taxable", "boolean", null_rate=0.0),
        F("Sales_Start_Date", "date"),
        F("Sales_End_Date", "date", null_rate=0.6),
        F("Description", "textarea", null_rate=0.5),
        *audit_fields(activity=False),
    ]
    return ModuleDef("Products", count, fields, singular="Product", name_field="Product_Name")


def inventory(
    api_name: str, count: int, items: str, number: str, status: list[str], links: list[FieldSpec]
) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Subject", "text", mandatory=True, null_rate=0.0),
        F(number, "autonumber", prefix=f"{api_name[:2].upper()}-", read_only=True, null_rate=0.0),
        F("Status", "picklist", picklist=status, null_rate=0.0),
        F("Due_Date", "date", null_rate=0.2),
        *links,
        F("Carrier", "picklist", picklist=["FedEX", "UPS", "USPS", "DHL", "BlueDart"]),
        F(items, "subform", null_rate=0.0, subform=line_items(items)),
        *totals(),
        F("Terms_and_Conditions", "textarea", null_rate=0.5),
        *address("Billing"),
        F("Description", "textarea", null_rate=0.5),
        *audit_fields(activity=False),
    ]
    plural = api_name.replace("_", " ")
    return ModuleDef(api_name, count, fields, plural=plural, singular=plural[:-1], name_field="Subject")


def notes(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Note_Title", "text", null_rate=0.2),
        F("Note_Content", "textarea", null_rate=0.0),
        F("Parent_Id", "lookup", lookup="Leads", null_rate=0.0),
        *audit_fields(activity=False),
    ]
    return ModuleDef("Notes", count, fields, singular="Note", name_field="Note_Title")


def projects(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Name", "text", label="Project Name", mandatory=True, null_rate=0.0, custom=False),
        F("Project_Code", "autonumber", prefix="PRJ-", custom=True, read_only=True, null_rate=0.0),
        F(
            "Status",
            "picklist",
            picklist=["Planned", "Active", "On Hold", "Done"],
            custom=True,
            null_rate=0.0,
        ),
        F("Start_Date", "date", custom=True),
        F("End_Date", "date", custom=True, null_rate=0.3),
        F("Budget", "currency", custom=True),
        F("Progress", "percent", custom=True),
        F("Account", "lookup", lookup="Accounts", custom=True, null_rate=0.2),
        F("Project_Manager", "userlookup", custom=True, null_rate=0.1),
        F("Email", "email", custom=True, null_rate=0.5),
        F("Description", "textarea", custom=True, null_rate=0.5),
        *audit_fields(),
    ]
    return ModuleDef(
        "Projects", count, fields, singular="Project", generated_type="custom", name_field="Name"
    )


def deals_x_contacts(count: int) -> ModuleDef:
    fields = [
        F("Deal", "lookup", lookup="Deals", null_rate=0.0),
        F("Contact", "lookup", lookup="Contacts", null_rate=0.0),
        F(
            "Contact_Role",
            "picklist",
            picklist=["Purchasing", "Decision Maker", "Evaluator", "Developer/Evaluator"],
        ),
        F("Created_By", "ownerlookup", read_only=True, null_rate=0.0),
        F("Created_Time", "datetime", read_only=True, null_rate=0.0),
    ]
    return ModuleDef(
        "Deals_X_Contacts",
        count,
        fields,
        plural="Deals X Contacts",
        singular="Deals X Contact",
        generated_type="linking",
        name_field="Contact_Role",
        system_keys=False,
    )


def actions_performed(count: int) -> ModuleDef:
    fields = [
        F("Name", "text", null_rate=0.0),
        F(
            "Action_Type",
            "picklist",
            picklist=["Email Sent", "Call Logged", "Meeting Held", "Form Submitted"],
            null_rate=0.0,
        ),
        F("Action_Performed_Time", "datetime", read_only=True, null_rate=0.0),
        F("Performed_By", "userlookup", null_rate=0.0),
        F("Related_Lead", "lookup", lookup="Leads", null_rate=0.2),
    ]
    return ModuleDef(
        "Actions_Performed",
        count,
        fields,
        plural="Actions Performed",
        singular="Action Performed",
        generated_type="custom",
        name_field="Name",
    )


def price_books_archive(count: int) -> ModuleDef:
    fields = [
        F("Name", "text", null_rate=0.0),
        F("Price_Book_Name", "text", null_rate=0.0),
        F("List_Price", "currency", null_rate=0.0),
        F("Active", "boolean", null_rate=0.0),
        F("Pricing_Model", "picklist", picklist=["Flat", "Differential"]),
        F("Effective_Date", "date"),
        F("Description", "textarea", null_rate=0.5),
    ]
    return ModuleDef(
        "Price_Books_Archive",
        count,
        fields,
        plural="Price Books Archive",
        singular="Price Book Archive",
        generated_type="custom",
        name_field="Name",
    )


def campaigns(count: int) -> ModuleDef:
    fields = [
        *owner_fields(),
        F("Campaign_Name", "text", mandatory=True, null_rate=0.0),
        F("Type", "picklist", picklist=["Conference", "Webinar", "Trade Show", "Email", "Advertisement"]),
        F("Status", "picklist", picklist=["Planning", "Active", "Inactive", "Complete"]),
        F("Start_Date", "date"),
        F("End_Date", "date"),
        F("Expected_Revenue", "currency"),
        F("Budgeted_Cost", "currency"),
        F("Actual_Cost", "currency"),
        *audit_fields(activity=False),
    ]
    return ModuleDef(
        "Campaigns", count, fields, singular="Campaign", name_field="Campaign_Name", readable=False
    )


def not_api_supported() -> list[ModuleDef]:
    return [
        ModuleDef("Home", 0, plural="Home", singular="Home", generated_type="default", api_supported=False),
        ModuleDef("Analytics", 0, plural="Reports", singular="Report", api_supported=False),
        ModuleDef("Feeds", 0, plural="Feeds", singular="Feed", api_supported=False),
        ModuleDef("Visits", 0, plural="Visits", singular="Visit", api_supported=False),
    ]


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
