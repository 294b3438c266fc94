"""The other modules of the presets: products, inventory, notes, projects, linking, tracker, archives,
campaigns, and modules the API does not serve."""

from __future__ import annotations

from .fields import FieldSpec, ModuleDef
from .module_parts import F, address, audit_fields, line_items, owner_fields, totals


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
