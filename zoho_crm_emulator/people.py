"""The org's people and settings metadata (profiles, roles, users, the org, currencies), from the seed."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .model import DAY
from .timeutil import zone_name

if TYPE_CHECKING:
    from .state import OrgState


def build_people(state: OrgState) -> None:
    """Profiles, roles, users, the org and its currencies, generated from the seed."""
    rng = random.Random(f"{state.seed}:people")
    iso = state.clock.iso
    w0 = state.window[0]
    state.profiles = [
        {
            "name": name,
            "display_label": name,
            "id": state.ids.misc(),
            "default": name == "Administrator",
            "custom": name == "Sales Restricted",
            "description": desc,
            "type": "normal_profile",
            "permission_type": "crm",
            "category": False,
            "created_time": iso(w0 - 300 * DAY),
            "modified_time": iso(w0 - 30 * DAY),
            "_default_view": {"name": "Home", "id": state.ids.misc(), "type": "module"},
        }
        for name, desc in (
            ("Administrator", "This profile will have all the permissions."),
            ("Standard", "This profile will have all the permissions except administrative privileges."),
            ("Sales Restricted", "Sales users without marketing access."),
        )
    ]
    role_names = ["CEO", "Manager", "Sales Representative", "Support Agent"]
    state.roles: list[dict[str, Any]] = []
    for i, name in enumerate(role_names):
        parent = state.roles[0] if i == 1 else (state.roles[1] if i > 1 else None)
        state.roles.append(
            {
                "display_label": name,
                "name": name,
                "id": state.ids.misc(),
                "admin_user": i == 0,
                "share_with_peers": i > 0,
                "description": None,
                "forecast_manager": None,
                "reporting_to": {"id": parent["id"], "name": parent["name"]} if parent else None,
            }
        )
    state.users: list[dict[str, Any]] = []
    statuses = ["active"] * 9 + ["disabled", "disabled", "deleted"]
    for i, status in enumerate(statuses):
        first, last = (
            rng.choice(
                ["Ana", "Bo", "Chidi", "Dana", "Eli", "Fay", "Gus", "Hiro", "Ines", "Jon", "Kai", "Lin"]
            ),
            rng.choice(["Park", "Quinn", "Ross", "Shah", "Teo", "Uma"]),
        )
        first = f"{first}{i}" if i else "Admin"
        role = state.roles[0 if i == 0 else (1 if i < 3 else 2 + i % 2)]
        profile = state.profiles[0 if i == 0 else (1 if i < 10 else 2)]
        uid = state.ids.take(0)
        state.users.append(
            {
                "id": uid,
                "first_name": first,
                "last_name": last,
                "full_name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@emulated-org.example.com",
                "status": status,
                "confirm": status != "deleted" and i != 8,
                "role": {"name": role["name"], "id": role["id"]},
                "profile": {"name": profile["name"], "id": profile["id"]},
                "time_zone": zone_name(state.settings.org_offset),
                "language": "en_US",
                "locale": "en_US",
                "country": "IN",
                "country_locale": "en_US",
                "zuid": str(60000000 + i),
                "alias": None,
                "phone": None,
                "mobile": f"+91-98400-{10000 + i}",
                "fax": None,
                "city": None,
                "state": None,
                "street": None,
                "zip": None,
                "website": None,
                "dob": None,
                "signature": None,
                "Isonline": i == 0,
                "offset": int(state.clock.tz.utcoffset(None).total_seconds() * 1000),
                "time_format": "hh:mm a",
                "date_format": "MMM d, yyyy",
                "decimal_separator": "Period",
                "number_separator": "Comma",
                "Currency": "USD",
                "category": "regular_user",
                "sandboxDeveloper": False,
                "microsoft": False,
                "personal_account": False,
                "default_tab_group": "0",
                "status_reason__s": None,
                "name_format__s": "Salutation,First Name,Last Name",
                "sort_order_preference__s": "First Name,Last Name",
                "created_time": iso(w0 - (400 - i * 20) * DAY),
                "Modified_Time": iso(w0 - (100 - i) * DAY),
                "Reporting_To": None,
                "created_by": None,
                "Modified_By": None,
            }
        )
    admin = state.users[0]
    ref = {"name": admin["full_name"], "id": admin["id"], "email": admin["email"]}
    for user in state.users[1:]:
        user["created_by"] = dict(ref)
        user["Modified_By"] = {"name": admin["full_name"], "id": admin["id"]}
        user["Reporting_To"] = dict(ref)
    # The user behind the connector's tokens: a Standard-profile user (cannot see Campaigns).
    state.current_user = state.users[1]
    for profile in state.profiles:
        profile["created_by"] = dict(ref)
        profile["modified_by"] = dict(ref)
    for role in state.roles:
        role["created_by__s"] = dict(ref)
        role["modified_by__s"] = dict(ref)
        role["created_time__s"] = iso(w0 - 300 * DAY)
        role["modified_time__s"] = iso(w0 - 200 * DAY)
    state.currencies = [
        {
            "iso_code": code,
            "symbol": symbol,
            "name": name,
            "id": state.ids.misc(),
            "is_active": True,
            "is_base": code == "USD",
            "exchange_rate": rate,
            "prefix_symbol": True,
            "format": {
                "decimal_separator": "Period",
                "thousand_separator": "Comma",
                "decimal_places": "2",
            },
            "created_time": iso(w0 - 250 * DAY),
            "modified_time": iso(w0 - 20 * DAY),
            "created_by": dict(ref),
            "modified_by": dict(ref),
        }
        for code, symbol, name, rate in (
            ("USD", "$", "US Dollar - USD", "1.000000000"),
            ("EUR", "€", "Euro - EUR", "0.920000000"),
            ("INR", "₹", "Indian Rupee - INR", "83.100000000"),
        )
    ]
    state.territories = []
    for i, (name, desc) in enumerate(
        (("North America", "Accounts and deals in the US and Canada"), ("APAC", "Asia-Pacific region"))
    ):
        state.territories.append(
            {
                "id": state.ids.misc(),
                "name": name,
                "api_name": name.replace(" ", "_"),
                "description": desc,
                "manager": {"name": state.users[1 + i]["full_name"], "id": state.users[1 + i]["id"]},
                "reporting_to": None,
                "permission_type": "read_write_delete",
                "created_time": iso(w0 - 90 * DAY),
                "modified_time": iso(w0 - 10 * DAY),
                "created_by": dict(ref),
                "modified_by": dict(ref),
                "account_rule_criteria": None,
                "deal_rule_criteria": None,
                "lead_rule_criteria": None,
            }
        )
    state.org_id = state.ids.misc()
    state.org = {
        "id": state.org_id,
        "company_name": f"Emulated Org {state.seed}",
        "alias": None,
        "domain_name": f"org{state.ids.prefix}",
        "primary_email": admin["email"],
        "primary_zuid": "60000000",
        "zgid": str(state.ids.prefix),
        "ezgid": f"{state.ids.prefix:x}",
        "zia_portal_id": None,
        "time_zone": zone_name(state.settings.org_offset),
        "iso_code": "USD",
        "currency": "US Dollar - USD",
        "currency_symbol": "$",
        "currency_locale": "en_US",
        "country": "India",
        "country_code": "IN",
        "city": "Chennai",
        "state": "Tamil Nadu",
        "street": "1 Estancia IT Park",
        "zip": "603202",
        "phone": "+91-44-0000-0000",
        "mobile": None,
        "fax": None,
        "website": "www.emulated-org.example.com",
        "employee_count": "50",
        "description": None,
        "photo_id": None,
        "mc_status": False,
        "gapps_enabled": False,
        "translation_enabled": False,
        "privacy_settings": True,
        "hipaa_compliance_enabled": False,
        "lite_users_enabled": False,
        "deletable_org_account": False,
        "max_per_page": 200,
        "call_icon": None,
        "oauth_presence": True,
        "type": "Production",  # Zoho's enum: Bigin, Production, Developer, Sandbox
        "created_time": iso(w0 - 500 * DAY),
        "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": False},
        "checkin_preferences": None,
    }
    state.refresh_org_license()
