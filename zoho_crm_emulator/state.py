"""The in-memory org: modules, fields, records, deleted records, users and settings metadata.

Everything is generated once from the seed. Mutations (control API) hold `OrgState.lock`; readers take the
same lock while they pick records, and serialise outside it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

from . import presets
from .fields import FieldSpec, ModuleDef
from .settings import EmulatorSettings
from .timeutil import OrgClock, zone_name
from .values import IdAllocator, RecordCtx, ValueFactory

WINDOW_START = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
WINDOW_END = int(datetime(2026, 6, 30, 23, 59, 59, tzinfo=timezone.utc).timestamp())
DAY = 86400

SORT_ATTRS = {"id": "idn", "Created_Time": "created", "Modified_Time": "modified"}


def data_window(seed: int) -> tuple[int, int]:
    """A fixed window derived from the seed, never from the wall clock."""
    return WINDOW_START + (seed % 28) * DAY, WINDOW_END


class Entry:
    """One live record plus the integers it is sorted and filtered by."""

    __slots__ = ("id", "idn", "created", "modified", "rec", "converted")

    def __init__(self, rid: str, created: int, modified: int, rec: dict[str, Any], converted: bool = False):
        self.id = rid
        self.idn = int(rid)
        self.created = created
        self.modified = modified
        self.rec = rec
        self.converted = converted


@dataclass
class Deleted:
    id: str
    deleted_ts: int
    item: dict[str, Any]  # the API shape of /{module}/deleted
    entry: Entry | None = None  # the record as it was, while it can be restored from the recycle bin


@dataclass
class ModuleState:
    definition: ModuleDef
    id: str
    slot: int
    module_name: str
    entries: dict[str, Entry] = field(default_factory=dict)
    deleted: list[Deleted] = field(default_factory=list)
    gens: list[tuple[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    layout_id: str = ""
    sequence: int = 0  # records ever created (autonumbers)
    _sorted: dict[tuple[str, bool], tuple[list[Entry], list[tuple[int, int]]]] = field(default_factory=dict)
    _fields_meta: list[dict[str, Any]] | None = None
    # Subform modules: the module whose records hold the lines; other modules: their subform modules.
    parent: ModuleState | None = field(default=None, repr=False, compare=False)
    children: list[ModuleState] = field(default_factory=list, repr=False, compare=False)

    @property
    def api_name(self) -> str:
        return self.definition.api_name

    @property
    def has_created(self) -> bool:
        return self.definition.has("Created_Time")

    @property
    def has_modified(self) -> bool:
        return self.definition.has("Modified_Time")

    def sortable(self) -> list[str]:
        return ["id"] + [name for name in ("Created_Time", "Modified_Time") if self.definition.has(name)]

    def ordered(self, sort_by: str, desc: bool) -> tuple[list[Entry], list[tuple[int, int]]]:
        """Entries in (sort value, id) order with their keys; desc keys are negated so keys always ascend."""
        cached = self._sorted.get((sort_by, desc))
        if cached is not None:
            return cached
        attr = SORT_ATTRS[sort_by]
        sign = -1 if desc else 1
        keyed = sorted(((sign * getattr(e, attr), sign * e.idn), e) for e in self.entries.values())
        result = ([e for _, e in keyed], [k for k, _ in keyed])
        self._sorted[(sort_by, desc)] = result
        return result

    def invalidate(self) -> None:
        self._sorted.clear()

    def display_name(self, rec: dict[str, Any]) -> str | None:
        value = rec.get(self.definition.name_field)
        return value if isinstance(value, str) else None

    @property
    def is_subform(self) -> bool:
        return self.parent is not None and self.definition.linked_from is None

    def lines_of(self, entry: Entry) -> list[dict[str, Any]]:
        """Subform modules: the lines a record of the parent module holds; linking modules: the values of
        the parent's multi-select / multi-user lookup field (each value's id is its linking row's id)."""
        lines = entry.rec.get(self.definition.parent_field or "")
        return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []

    def add_lines(self, entry: Entry) -> None:
        """Subform modules: index the lines of a parent record (the same dicts, so they stay in step).
        Linking modules: a row per lookup value, `{<owner>: {name, id}, <target>: {...}, audit fields}`."""
        for line in self.lines_of(entry):
            row = line if self.definition.linked_from is None else self.link_row(entry, line)
            self.entries[line["id"]] = Entry(line["id"], entry.created, entry.modified, row)
        self.invalidate()

    def link_row(self, entry: Entry, value: dict[str, Any]) -> dict[str, Any]:
        owner = self.parent.api_name if self.parent is not None else ""
        rec = entry.rec
        row = {owner: {"name": self.parent.display_name(rec) if self.parent else None, "id": entry.id}}
        row.update({k: v for k, v in value.items() if k != "id"})
        for key in ("Created_By", "Created_Time", "Modified_By", "Modified_Time"):
            row[key] = rec.get(key)
        row["id"] = value["id"]
        return row

    def drop_lines(self, entry: Entry) -> None:
        for line in self.lines_of(entry):
            self.entries.pop(line["id"], None)
        self.invalidate()


class OrgState:
    def __init__(self, settings: EmulatorSettings):
        self.lock = threading.RLock()
        self.settings = settings
        self.seed = settings.seed
        self.clock = OrgClock(settings.org_offset, lambda: settings.clock_offset_seconds)
        self.ids = IdAllocator(settings.seed)
        self.window = data_window(settings.seed)
        self.control_rng = random.Random(f"{settings.seed}:control")
        self.changes = 0
        self.modules: dict[str, ModuleState] = {}
        self._by_lower: dict[str, str] = {}
        self.targets: dict[str, list[tuple[str, str]]] = {}
        self._build_people()
        self._build_modules(presets.build(settings))

    # ------------------------------------------------------------------ people and settings metadata
    def _build_people(self) -> None:
        rng = random.Random(f"{self.seed}:people")
        iso = self.clock.iso
        w0 = self.window[0]
        self.profiles = [
            {
                "name": name,
                "display_label": name,
                "id": self.ids.misc(),
                "default": name == "Administrator",
                "custom": name == "Sales Restricted",
                "description": desc,
                "type": "normal_profile",
                "permission_type": "crm",
                "category": False,
                "created_time": iso(w0 - 300 * DAY),
                "modified_time": iso(w0 - 30 * DAY),
                "_default_view": {"name": "Home", "id": self.ids.misc(), "type": "module"},
            }
            for name, desc in (
                ("Administrator", "This profile will have all the permissions."),
                ("Standard", "This profile will have all the permissions except administrative privileges."),
                ("Sales Restricted", "Sales users without marketing access."),
            )
        ]
        role_names = ["CEO", "Manager", "Sales Representative", "Support Agent"]
        self.roles: list[dict[str, Any]] = []
        for i, name in enumerate(role_names):
            parent = self.roles[0] if i == 1 else (self.roles[1] if i > 1 else None)
            self.roles.append(
                {
                    "display_label": name,
                    "name": name,
                    "id": self.ids.misc(),
                    "admin_user": i == 0,
                    "share_with_peers": i > 0,
                    "description": None,
                    "forecast_manager": None,
                    "reporting_to": {"id": parent["id"], "name": parent["name"]} if parent else None,
                }
            )
        self.users: list[dict[str, Any]] = []
        statuses = ["active"] * 9 + ["disabled", "disabled", "deleted"]
        for i, status in enumerate(statuses):
            first, last = (
                rng.choice(
                    ["Ana", "Bo", "Chidi", "Dana", "Eli", "Fay", "Gus", "Hiro", "Ines", "Jon", "Kai", "Lin"]
                ),
                rng.choice(["Park", "Quinn", "Ross", "Shah", "Teo", "Uma"]),
            )
            first = f"{first}{i}" if i else "Admin"
            role = self.roles[0 if i == 0 else (1 if i < 3 else 2 + i % 2)]
            profile = self.profiles[0 if i == 0 else (1 if i < 10 else 2)]
            uid = self.ids.take(0)
            self.users.append(
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
                    "time_zone": zone_name(self.settings.org_offset),
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
                    "offset": int(self.clock.tz.utcoffset(None).total_seconds() * 1000),
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
        admin = self.users[0]
        ref = {"name": admin["full_name"], "id": admin["id"], "email": admin["email"]}
        for user in self.users[1:]:
            user["created_by"] = dict(ref)
            user["Modified_By"] = {"name": admin["full_name"], "id": admin["id"]}
            user["Reporting_To"] = dict(ref)
        # The user behind the connector's tokens: a Standard-profile user (cannot see Campaigns).
        self.current_user = self.users[1]
        for profile in self.profiles:
            profile["created_by"] = dict(ref)
            profile["modified_by"] = dict(ref)
        for role in self.roles:
            role["created_by__s"] = dict(ref)
            role["modified_by__s"] = dict(ref)
            role["created_time__s"] = iso(w0 - 300 * DAY)
            role["modified_time__s"] = iso(w0 - 200 * DAY)
        self.currencies = [
            {
                "iso_code": code,
                "symbol": symbol,
                "name": name,
                "id": self.ids.misc(),
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
        self.territories = []
        for i, (name, desc) in enumerate(
            (("North America", "Accounts and deals in the US and Canada"), ("APAC", "Asia-Pacific region"))
        ):
            self.territories.append(
                {
                    "id": self.ids.misc(),
                    "name": name,
                    "api_name": name.replace(" ", "_"),
                    "description": desc,
                    "manager": {"name": self.users[1 + i]["full_name"], "id": self.users[1 + i]["id"]},
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
        self.org_id = self.ids.misc()
        self.org = {
            "id": self.org_id,
            "company_name": f"Emulated Org {self.seed}",
            "alias": None,
            "domain_name": f"org{self.ids.prefix}",
            "primary_email": admin["email"],
            "primary_zuid": "60000000",
            "zgid": str(self.ids.prefix),
            "ezgid": f"{self.ids.prefix:x}",
            "zia_portal_id": None,
            "time_zone": zone_name(self.settings.org_offset),
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
        self.refresh_org_license()

    def refresh_org_license(self) -> None:
        edition = self.settings.edition
        self.org["license_details"] = {
            "paid": edition != "Free",
            "paid_type": edition.lower(),
            "paid_expiry": None,
            "users_license_purchased": len(self.users),
            "trial_type": None,
            "trial_expiry": None,
            "trial_action": None,
        }

    def user_ref(self, rng: random.Random | None = None, email: bool = True) -> dict[str, Any]:
        active = [u for u in self.users if u["status"] == "active"]
        user = (rng or self.control_rng).choice(active)
        ref = {"name": user["full_name"], "id": user["id"]}
        if email:
            ref["email"] = user["email"]
        return ref

    # ------------------------------------------------------------------ modules and records
    def _build_modules(self, defs: list[ModuleDef]) -> None:
        custom_n = 0
        for slot, definition in enumerate(defs, start=1):
            if definition.generated_type == "custom":
                custom_n += 1
            module_name = definition.module_name or (
                f"CustomModule{custom_n}"
                if definition.generated_type == "custom"
                else definition.api_name.replace("_", "")
            )
            ms = ModuleState(
                definition,
                self.ids.misc(),
                slot,
                module_name,
                layout_id=self.ids.misc(),
                rng=random.Random(f"{self.seed}:{definition.api_name}"),
            )
            self.modules[definition.api_name] = ms
            self._by_lower[definition.api_name.lower()] = definition.api_name
        self.module_ids = {name: ms.id for name, ms in self.modules.items()}
        self.values = ValueFactory(
            self.clock, self.users, self.targets, self.ids, self.window, self.module_ids
        )
        for ms in self.modules.values():
            parent = self.modules.get(ms.definition.parent or (ms.definition.linked_from or ("",))[0])
            if parent is not None:
                ms.parent = parent
                parent.children.append(ms)
        for ms in self.modules.values():
            for spec in ms.definition.fields:
                if not spec.id:  # a subform module shares its line fields with its parent's subform field
                    spec.id = self.ids.misc()
                for sub in spec.subform[1] if spec.subform else []:
                    sub.id = self.ids.misc()
            if ms.parent is not None:  # subform modules come last: every parent is generated by now
                for entry in ms.parent.entries.values():
                    ms.add_lines(entry)
            elif ms.definition.api_supported:
                self._generate(ms)

    def _times(self, ms: ModuleState, n: int) -> list[tuple[int, int]]:
        """(created, modified) pairs by creation; groups of 3-5 records share one Modified_Time second."""
        rng, (w0, w1) = ms.rng, self.window
        created = sorted(rng.randint(w0, w1 - 2 * DAY) for _ in range(n))
        modified = []
        for c in created:
            roll = rng.random()
            if roll < 0.3:
                modified.append(c)
            else:
                late = c + rng.randint(1, 120 * DAY if roll < 0.9 else 400 * DAY)
                # Past the window's end: anywhere in what is left of it, not piled up on its last second.
                modified.append(late if late <= w1 else rng.randint(c, w1))
        order = sorted(range(n), key=lambda i: modified[i])
        pos = 0
        while pos < n - 5:
            pos += rng.randint(8, 30)
            group = order[pos : pos + rng.randint(3, 5)]
            if len(group) >= 3:
                top = max(modified[i] for i in group)
                for i in group:
                    modified[i] = top
            pos += 5
        return list(zip(created, modified, strict=True))

    def system_keys(self, ms: ModuleState) -> dict[str, Any]:
        d = ms.definition
        if not d.system_keys:
            return {}
        keys: dict[str, Any] = {
            "$approved": True,
            "$editable": True,
            "$state": "save",
            "$process_flow": False,
            "$approval": {"delegate": False, "approve": False, "reject": False, "resubmit": False},
            "$in_merge": False,
            "$approval_state": "approved",
            "$locked_for_me": False,
            "$layout_id": {"display_label": "Standard", "name": "Standard", "id": ms.layout_id},
        }
        if any(s.data_type == "currency" for s in d.fields):
            keys["$currency_symbol"] = "$"
        if d.api_name == "Leads":
            keys["$converted"] = False
            keys["$converted_detail"] = {}
        if d.api_name == "Notes":
            keys["$se_module"] = "Leads"
        return keys

    def _make_record(self, ms: ModuleState, rid: str, created: int, modified: int) -> dict[str, Any]:
        rec: dict[str, Any] = {}
        rc = RecordCtx(rid, ms.sequence, created, modified, ms.rng, rec)
        ms.sequence += 1
        for api_name, gen in ms.gens:
            rec[api_name] = gen(rc)
        rec.update(self.system_keys(ms))
        rec["id"] = rid
        name = ms.display_name(rec)
        for spec in ms.definition.fields:
            if spec.data_type == "subform":
                for row in rec.get(spec.api_name) or []:
                    row["Parent_Id"]["name"] = name
        return rec

    def _generate(self, ms: ModuleState) -> None:
        d, rng = ms.definition, ms.rng
        ms.gens = [(spec.api_name, self.values.generator(spec, d.api_name)) for spec in d.fields]
        recycle, permanent = d.deleted
        n = d.count + recycle + permanent
        doomed = set(rng.sample(range(n), recycle + permanent)) if recycle + permanent else set()
        pool = self.targets.setdefault(d.api_name, [])
        gone: list[tuple[Entry, str]] = []
        for i, (created, modified) in enumerate(self._times(ms, n)):
            rid = self.ids.take(ms.slot, rng.randint(1, 37))
            rec = self._make_record(ms, rid, created, modified)
            entry = Entry(rid, created, modified, rec)
            if i in doomed:
                gone.append((entry, "permanent" if len(gone) < permanent else "recycle"))
                continue
            if d.converted_share and rng.random() < d.converted_share:
                self._convert(ms, entry)
            ms.entries[rid] = entry
            pool.append((rid, ms.display_name(rec) or rid))
        for entry, kind in gone:
            late = entry.modified + rng.randint(60, 60 * DAY)
            # Within the window, spread out rather than piled up on its last second.
            deleted_ts = late if late <= self.window[1] else rng.randint(entry.modified, self.window[1])
            self._add_deleted(ms, entry, kind, deleted_ts, rng)

    def _convert(self, ms: ModuleState, entry: Entry) -> None:
        rec, rng = entry.rec, ms.rng
        when = rng.randint(entry.created, entry.modified)
        rec["Converted_Date_Time"] = self.clock.iso(when)
        detail: dict[str, Any] = {
            "converted_by": self.user_ref(rng, email=False),
            "converted_date_time": rec["Converted_Date_Time"],
        }
        for api_name, module, key in (
            ("Converted_Account", "Accounts", "account"),
            ("Converted_Contact", "Contacts", "contact"),
            ("Converted_Deal", "Deals", "deal"),
        ):
            pool = self.targets.get(module) or []
            if api_name in rec and pool:
                rid, name = pool[rng.randrange(len(pool))]
                rec[api_name] = {"name": name, "id": rid}
                detail[key] = rid
        rec["$converted"] = True
        rec["$converted_detail"] = detail
        entry.converted = True

    def _add_deleted(
        self, ms: ModuleState, entry: Entry, kind: str, deleted_ts: int, rng: random.Random
    ) -> None:
        created_by = entry.rec.get("Created_By") or entry.rec.get("Owner") or self.user_ref(rng)
        item = {
            "deleted_by": self.user_ref(rng, email=False),
            "id": entry.id,
            "display_name": ms.display_name(entry.rec) if kind == "recycle" else None,
            "type": kind,
            "created_by": {"name": created_by.get("name"), "id": created_by.get("id")},
            "deleted_time": self.clock.iso(deleted_ts),
        }
        ms.deleted.append(Deleted(entry.id, deleted_ts, item))

    # ------------------------------------------------------------------ lookups used by endpoints
    def module(self, name: str) -> ModuleState | None:
        api_name = self._by_lower.get(name.lower())
        return self.modules.get(api_name) if api_name else None

    def fields_meta(self, ms: ModuleState) -> list[dict[str, Any]]:
        if ms._fields_meta is None:
            profiles = self.profiles[:2]
            ms._fields_meta = [
                spec.render(
                    self.module_ids,
                    i + 1,
                    profiles,
                    ms.api_name,
                    self.settings.real_org_shapes,
                    name_field=ms.definition.name_field,
                )
                for i, spec in enumerate(ms.definition.fields)
            ]
        return ms._fields_meta

    def records(self, module: str) -> list[dict[str, Any]]:
        ms = self._require(module)
        with self.lock:
            return orjson.loads(orjson.dumps([e.rec for e in ms.entries.values()]))

    def deleted_records(self, module: str, kept_since: float = 0) -> list[dict[str, Any]]:
        """Deleted entries of `module` deleted at or after `kept_since` (epoch seconds; 0: all)."""
        ms = self._require(module)
        with self.lock:
            return [dict(d.item) for d in ms.deleted if d.deleted_ts >= kept_since]

    def _require(self, module: str) -> ModuleState:
        ms = self.module(module)
        if ms is None:
            raise KeyError(f"no module {module!r}")
        return ms

    def _require_changeable(self, module: str) -> ModuleState:
        ms = self._require(module)
        if ms.parent is not None:
            raise ValueError(
                f"{ms.api_name} is a {ms.definition.generated_type} module: "
                f"its rows change with {ms.parent.api_name}'s records"
            )
        return ms

    def _refresh_parent_names(self, ms: ModuleState, entry: Entry) -> None:
        name = ms.display_name(entry.rec)
        for child in ms.children:
            for line in child.lines_of(entry):
                if isinstance(line.get("Parent_Id"), dict):
                    line["Parent_Id"]["name"] = name

    # ------------------------------------------------------------------ mutations (control API)
    def _when(self, ms: ModuleState, value: str | None) -> int:
        """An explicit instant, else now, but never before the module's latest Modified_Time."""
        if value:
            return self.clock.parse(value)
        latest = max((e.modified for e in ms.entries.values()), default=0)
        return max(self.clock.now(), latest)

    def _pick(self, ms: ModuleState, count: int, ids: list[str] | None) -> list[Entry]:
        if ids:
            missing = [i for i in ids if str(i) not in ms.entries]
            if missing:
                raise ValueError(f"unknown ids in {ms.api_name}: {missing}")
            return [ms.entries[str(i)] for i in ids]
        live = list(ms.entries.values())
        return self.control_rng.sample(live, min(count, len(live)))

    def _changeable_field(self, ms: ModuleState) -> str:
        d = ms.definition
        for spec in d.fields:
            if spec.api_name == "Description":
                return spec.api_name
        for spec in d.fields:
            if (
                spec.data_type in ("text", "textarea")
                and not spec.read_only
                and spec.api_name != d.name_field
                and spec.api_name not in ("First_Name", "Last_Name")
            ):
                return spec.api_name
        return d.name_field

    def modify(
        self,
        module: str,
        count: int = 1,
        modified_time: str | None = None,
        ids: list[str] | None = None,
        keep_modified_time: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            ms = self._require_changeable(module)
            ts = self._when(ms, modified_time)
            picked = self._pick(ms, count, ids)
            target = self._changeable_field(ms)
            iso = self.clock.iso(ts)
            for entry in picked:
                self.changes += 1
                entry.rec[target] = f"Changed #{self.changes} at {iso}"
                if not keep_modified_time and ms.has_modified:
                    entry.modified = ts
                    entry.rec["Modified_Time"] = iso
                    if "Modified_By" in entry.rec:
                        entry.rec["Modified_By"] = self.user_ref()
                self._refresh_parent_names(ms, entry)  # the change may be to the record's name
            ms.invalidate()
            return {"ids": [e.id for e in picked], "modified_time": iso, "field": target}

    def create(self, module: str, count: int = 1, modified_time: str | None = None) -> dict[str, Any]:
        with self.lock:
            ms = self._require_changeable(module)
            ts = self._when(ms, modified_time)
            pool = self.targets.setdefault(ms.api_name, [])
            new = []
            for _ in range(count):
                rid = self.ids.take(ms.slot, ms.rng.randint(1, 37))
                rec = self._make_record(ms, rid, ts, ts)
                entry = ms.entries[rid] = Entry(rid, ts, ts, rec)
                for child in ms.children:
                    child.add_lines(entry)
                pool.append((rid, ms.display_name(rec) or rid))
                new.append(rid)
            ms.invalidate()
            return {"ids": new, "modified_time": self.clock.iso(ts)}

    def delete(
        self,
        module: str,
        count: int = 1,
        ids: list[str] | None = None,
        kind: str = "recycle",
        deleted_time: str | None = None,
    ) -> dict[str, Any]:
        if kind not in ("recycle", "permanent"):
            raise ValueError("type must be 'recycle' or 'permanent'")
        with self.lock:
            ms = self._require_changeable(module)
            ts = self.clock.parse(deleted_time) if deleted_time else self.clock.now()
            picked = self._pick(ms, count, ids)
            for entry in picked:
                del ms.entries[entry.id]
                for child in ms.children:  # the lines go with their record
                    child.drop_lines(entry)
                self._add_deleted(ms, entry, kind, ts, self.control_rng)
                if kind == "recycle":
                    ms.deleted[-1].entry = entry
            ms.invalidate()
            return {"ids": [e.id for e in picked], "deleted_time": self.clock.iso(ts)}

    def restore(self, module: str, ids: list[str]) -> dict[str, Any]:
        """Restore records from the recycle bin (restore-recycle-bin-records: `POST
        /settings/recycle_bin/{id}/actions/restore`), their subform lines with them. [U] Whether the
        record's Modified_Time moves (`restore_touches_modified_time`) and whether its entry leaves
        `/{module}/deleted` (`restored_leave_deleted_log`) are not documented."""
        with self.lock:
            ms = self._require_changeable(module)
            now = self.clock.now()
            days = self.settings.deleted_retention_days
            restored = []
            for rid in ids:
                found = next((d for d in ms.deleted if d.id == str(rid) and d.entry is not None), None)
                if found is None or (days and found.deleted_ts < now - days * 86400):
                    raise ValueError(f"{rid} is not in the recycle bin of {ms.api_name}")
                entry = found.entry
                assert entry is not None
                found.entry = None
                if self.settings.restored_leave_deleted_log:
                    ms.deleted.remove(found)
                if self.settings.restore_touches_modified_time and ms.has_modified:
                    entry.modified = max(now, entry.modified)
                    entry.rec["Modified_Time"] = self.clock.iso(entry.modified)
                ms.entries[entry.id] = entry
                for child in ms.children:
                    child.add_lines(entry)
                restored.append(entry.id)
            ms.invalidate()
            return {"ids": restored}

    def change_lines(
        self, module: str, count: int = 1, ids: list[str] | None = None, action: str = "modify"
    ) -> dict[str, Any]:
        """Modify or delete lines of a subform module, as an edit of their parent records does. [U]
        Whether that edit moves the parent's Modified_Time is not documented: switch
        `subform_edits_touch_parent` (pessimistic: the parent keeps its Modified_Time)."""
        if action not in ("modify", "delete"):
            raise ValueError("action must be 'modify' or 'delete'")
        with self.lock:
            ms = self._require(module)
            if not ms.is_subform or ms.parent is None:
                raise ValueError(f"{ms.api_name} is not a subform module")
            parent = ms.parent
            ts = self._when(ms, None)
            iso = self.clock.iso(ts)
            picked = self._pick(ms, count, ids)
            for line_entry in picked:
                owner = parent.entries.get(str((line_entry.rec.get("Parent_Id") or {}).get("id")))
                self.changes += 1
                if action == "delete":
                    ms.entries.pop(line_entry.id, None)
                    if owner is not None:
                        kept = [x for x in ms.lines_of(owner) if x.get("id") != line_entry.id]
                        owner.rec[ms.definition.parent_field or ""] = kept
                else:
                    line_entry.modified = ts
                    line_entry.rec["Modified_Time"] = iso
                    if "Quantity" in line_entry.rec:
                        line_entry.rec["Quantity"] = self.changes
                if owner is not None and self.settings.subform_edits_touch_parent and parent.has_modified:
                    owner.modified = ts
                    owner.rec["Modified_Time"] = iso
            ms.invalidate()
            parent.invalidate()
            return {"ids": [e.id for e in picked], "modified_time": iso}

    def add_field(
        self,
        module: str,
        api_name: str,
        data_type: str,
        json_type: str | None = None,
        fill: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        with self.lock:
            ms = self._require_changeable(module)
            if ms.definition.has(api_name):
                raise ValueError(f"{module} already has a field {api_name!r}")
            allowed = {"picklist", "lookup", "formula_return", "read_only", "null_rate", "label"}
            unknown = set(extra) - allowed
            if unknown:
                raise ValueError(f"unsupported field options: {sorted(unknown)}")
            spec = FieldSpec(api_name, data_type, json_type=json_type, custom=True, **extra)
            spec.id = self.ids.misc()
            ms.definition.fields.append(spec)
            gen = self.values.generator(spec, ms.api_name)
            ms.gens.append((api_name, gen))
            for entry in ms.entries.values():
                rc = RecordCtx(entry.id, 0, entry.created, entry.modified, ms.rng, entry.rec)
                entry.rec[api_name] = gen(rc) if fill else None
            ms._fields_meta = None
            return self.fields_meta(ms)[-1]
