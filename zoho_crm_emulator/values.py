"""Well-formed, seeded field values for every data type (one generator closure per field)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .fields import FieldSpec
from .timeutil import OrgClock
from .vocabulary import (
    CITIES,
    COUNTRIES,
    FIRST,
    LAST,
    LINE_TAXES,
    STATES,
    SUFFIXES,
    TAG_COLOURS,
    TAGS,
    WORDS,
    IdAllocator,
    price_line,
)


@dataclass
class RecordCtx:
    id: str
    seq: int
    created: int
    modified: int
    rng: random.Random
    rec: dict[str, Any]


Gen = Callable[[RecordCtx], Any]


class ValueFactory:
    """Builds per-field generators; lookups pick from `targets` (module -> list of (id, name), growing)."""

    def __init__(
        self,
        clock: OrgClock,
        users: list[dict[str, Any]],
        targets: dict[str, list[tuple[str, str]]],
        ids: IdAllocator,
        window: tuple[int, int],
        module_ids: dict[str, str],
        layout_id: str = "",
    ):
        self.clock = clock
        self.users = [{"name": u["full_name"], "id": u["id"], "email": u["email"]} for u in users]
        active = [u for u, full in zip(self.users, users, strict=True) if full["status"] == "active"]
        self.owners = active * 4 + self.users  # mostly active users, a few inactive
        self.targets = targets
        self.ids = ids
        self.window = window
        self.module_ids = module_ids
        self.layout_id = layout_id

    def generator(self, spec: FieldSpec, module: str) -> Gen:
        base = self._base(spec, module)
        rate = spec.null_rate
        if rate <= 0:
            return base

        def maybe_null(rc: RecordCtx) -> Any:
            if rc.rng.random() < rate:
                return [] if spec.effective_json_type == "jsonarray" else None
            return base(rc)

        return maybe_null

    @staticmethod
    def _rich_text(rc: RecordCtx) -> str:
        """HTML: mostly longer than the 500 characters a list GET gives; one in four a single short
        paragraph; one in three with accented and non-Latin words (several UTF-8 bytes a character)."""
        paragraphs = [
            f"<p>{' '.join(rc.rng.choice(WORDS) for _ in range(12)).capitalize()}.</p>"
            for _ in range(rc.rng.randint(8, 30))
        ]
        if len(paragraphs) % 4 == 0:
            paragraphs = paragraphs[:1]
        html = "<div>" + "".join(paragraphs) + "</div>"
        if len(paragraphs) % 3 == 0:
            html = html.replace("e", "é").replace(" a", " 日本語の")
        return html

    # ------------------------------------------------------------------ per type
    def _base(self, spec: FieldSpec, module: str) -> Gen:  # noqa: C901 - one branch per data type
        name, dt = spec.api_name, spec.data_type
        semantic = self._semantic(spec)
        if semantic is not None:
            return semantic
        clock, w0, w1 = self.clock, self.window[0], self.window[1]
        if spec.rich_text:
            return self._rich_text
        if name == "Wizard":  # bigint in the field metadata, an object in records (v8 OAS record schema)
            return lambda rc: {"name": "Lead Wizard", "id": str(10**17 + rc.rng.randint(1, 99))}
        if dt == "territories":
            names = ["North", "South"]
            return lambda rc: [
                {"name": n, "id": str(10**17 + 500 + i)} for i, n in enumerate(names) if rc.rng.random() < 0.5
            ]
        if dt in ("text", "mediumtext", "textarea"):
            n = {"text": (1, 3), "textarea": (6, 18), "mediumtext": (30, 80)}[dt]
            return lambda rc: " ".join(rc.rng.choice(WORDS) for _ in range(rc.rng.randint(*n))).capitalize()
        if dt == "email":
            return lambda rc: (
                f"{rc.rng.choice(WORDS)}.{rc.rng.randint(1, 999)}@{rc.rng.choice(WORDS)}.example.com"
            )
        if dt == "phone":
            return lambda rc: f"+1-{rc.rng.randint(200, 989)}-555-{rc.rng.randint(0, 9999):04d}"
        if dt == "website":
            return lambda rc: f"https://www.{rc.rng.choice(WORDS)}{rc.rng.choice(WORDS)}.example.com"
        if dt == "picklist":
            values = spec.picklist or ["Option 1", "Option 2"]
            return lambda rc: rc.rng.choice(values)
        if dt == "multiselectpicklist":
            values = spec.picklist or ["Option 1", "Option 2"]
            return lambda rc: sorted(rc.rng.sample(values, rc.rng.randint(0, min(3, len(values)))))
        if dt == "integer":
            if name == "Probability":
                return lambda rc: rc.rng.choice([10, 20, 40, 60, 75, 90, 100, 0])
            return lambda rc: rc.rng.randint(0, 20000)
        if dt == "bigint":
            return lambda rc: str(rc.rng.randint(10**11, 9 * 10**15))
        if dt in ("double", "decimal"):
            return lambda rc: round(rc.rng.uniform(0, 10000), 2)
        if dt == "currency":
            return lambda rc: round(rc.rng.uniform(100, 250000), 2)
        if dt == "percent":
            return lambda rc: round(rc.rng.uniform(0, 100), 2)
        if dt == "boolean":
            return lambda rc: rc.rng.random() < 0.3
        if dt == "date":
            return lambda rc: clock.date(rc.rng.randint(w0, w1))
        if dt == "datetime":
            if name in ("Last_Activity_Time", "Action_Performed_Time"):
                return lambda rc: clock.iso(rc.rng.randint(rc.created, rc.modified))
            return lambda rc: clock.iso(rc.rng.randint(w0, w1))
        if dt in ("ownerlookup", "userlookup"):
            owners = self.owners
            return lambda rc: dict(rc.rng.choice(owners))
        if dt == "lookup":
            return self._lookup(spec.lookup or module)
        if dt == "consent_lookup":
            return lambda rc: {"name": f"Consent {rc.rng.randint(1000, 9999)}", "id": self.ids.misc()}
        if dt == "multi_module_lookup":
            return self._multi_module(spec.modules or [])
        if dt == "multiselectlookup":
            return self._multiselect(spec.lookup or module)
        if dt == "multiuserlookup":
            return self._multiuser()
        if dt == "subform":
            return self._subform(spec, module)
        if dt == "fileupload":
            return self._files(images=False)
        if dt == "imageupload":
            return self._files(images=True)
        if dt == "formula":
            return self._formula(spec)
        if dt == "rollup_summary":
            return lambda rc: float(rc.rng.randint(0, 40))
        if dt == "autonumber":
            prefix = spec.prefix
            return lambda rc: f"{prefix}{rc.seq + 1}"
        if dt == "profileimage":
            return lambda rc: f"{rc.rng.getrandbits(160):040x}"
        if dt == "event_reminder":
            return lambda rc: {
                "ALARM": f"FREQ=NONE;ACTION=POPUP;TRIGGER=DURATION:-PT{rc.rng.choice([5, 15, 30])}M"
            }
        if dt == "layout":
            return lambda rc: {"name": "Standard", "id": self.layout_id}
        if dt == "linetax":
            return lambda rc: []
        if dt == "hologram":
            return lambda rc: f"holo:{rc.rng.getrandbits(48):012x}"
        return lambda rc: " ".join(rc.rng.choice(WORDS) for _ in range(2))

    def _semantic(self, spec: FieldSpec) -> Gen | None:  # noqa: C901 - a table of well-known fields
        name, dt = spec.api_name, spec.data_type
        clock = self.clock
        if name == "Created_Time":
            return lambda rc: clock.iso(rc.created)
        if name == "Modified_Time":
            return lambda rc: clock.iso(rc.modified)
        if dt != "text" and dt != "email" and dt != "textarea":
            return None
        if name == "First_Name":
            return lambda rc: rc.rng.choice(FIRST)
        if name == "Last_Name":
            return lambda rc: rc.rng.choice(LAST)
        if name == "Full_Name":
            return lambda rc: " ".join(p for p in (rc.rec.get("First_Name"), rc.rec.get("Last_Name")) if p)
        if name in ("Company", "Account_Name"):
            return lambda rc: (
                f"{rc.rng.choice(WORDS).capitalize()} {rc.rng.choice(WORDS).capitalize()} "
                f"{rc.rng.choice(SUFFIXES)}"
            )
        if name == "Deal_Name":
            return lambda rc: (
                f"{rc.rng.choice(WORDS).capitalize()} {rc.rng.choice(['renewal', 'expansion', 'pilot'])}"
            )
        if name == "Product_Name":
            return lambda rc: (
                f"{rc.rng.choice(WORDS).capitalize()} {rc.rng.choice(WORDS).capitalize()} {rc.seq + 1}"
            )
        if name in ("Email", "Secondary_Email"):

            def email(rc: RecordCtx) -> str:
                first = (rc.rec.get("First_Name") or rc.rng.choice(FIRST)).lower()
                last = (rc.rec.get("Last_Name") or rc.rng.choice(LAST)).lower().replace("'", "")
                return f"{first}.{last}{rc.seq}@{rc.rng.choice(WORDS)}.example.com"

            return email
        if name.endswith("City"):
            return lambda rc: rc.rng.choice(CITIES)
        if name.endswith("State"):
            return lambda rc: rc.rng.choice(STATES)
        if name.endswith("Country"):
            return lambda rc: rc.rng.choice(COUNTRIES)
        if name.endswith("Street"):
            return lambda rc: f"{rc.rng.randint(1, 999)} {rc.rng.choice(WORDS).capitalize()} Street"
        if name.endswith(("Zip_Code", "_Code")) and not name.startswith("Product"):
            return lambda rc: f"{rc.rng.randint(10000, 99999)}"
        if name == "Name":
            return lambda rc: f"{rc.rng.choice(WORDS).capitalize()} {rc.rng.choice(WORDS)} {rc.seq + 1}"
        if name == "Subject":
            return lambda rc: f"{rc.rng.choice(WORDS).capitalize()} order {rc.seq + 1}"
        if name == "Tag":

            def tags(rc: RecordCtx) -> list[dict[str, Any]]:
                if rc.rng.random() < 0.7:
                    return []
                picked = rc.rng.sample(range(len(TAGS)), rc.rng.randint(1, 2))
                return [
                    {
                        "name": TAGS[i],
                        "id": str(self.ids.prefix * 10**12 + 998 * 10**9 + i + 1),
                        "color_code": TAG_COLOURS[i],
                    }
                    for i in picked
                ]

            return tags
        return None

    def _lookup(self, target: str) -> Gen:
        pool = self.targets.setdefault(target, [])

        def lookup(rc: RecordCtx) -> dict[str, str] | None:
            if not pool:
                return None
            rid, name = pool[rc.rng.randrange(len(pool))]
            return {"name": name, "id": rid}

        return lookup

    def _multi_module(self, modules: list[str]) -> Gen:
        def lookup(rc: RecordCtx) -> dict[str, Any] | None:
            module = rc.rng.choice(modules)
            pool = self.targets.get(module) or []
            if not pool:
                return None
            rid, name = pool[rc.rng.randrange(len(pool))]
            return {
                "name": name,
                "id": rid,
                "module": {"api_name": module, "id": self.module_ids.get(module, "")},
            }

        return lookup

    def _multiselect(self, target: str) -> Gen:
        pool = self.targets.setdefault(target, [])

        def links(rc: RecordCtx) -> list[dict[str, Any]]:
            out = []
            for _ in range(rc.rng.randint(0, 2) if pool else 0):
                rid, name = pool[rc.rng.randrange(len(pool))]
                out.append({target: {"name": name, "id": rid}, "id": self.ids.misc()})
            return out

        return links

    def _multiuser(self) -> Gen:
        users = self.users

        def links(rc: RecordCtx) -> list[dict[str, Any]]:
            return [
                {"Users": dict(rc.rng.choice(users)), "id": self.ids.misc()}
                for _ in range(rc.rng.randint(0, 2))
            ]

        return links

    def _subform(self, spec: FieldSpec, module: str) -> Gen:
        """The lines of a subform field. Each line holds exactly the fields of its subform module
        (presets.subform_modules): its line fields, `Parent_Id`, `Created_Time`, `Modified_Time`, and `id`."""
        sub_module, sub_fields = spec.subform or (spec.api_name, [])
        gens = [(s.api_name, self.generator(s, sub_module)) for s in sub_fields if not s.derived]
        names = [s.api_name for s in sub_fields]
        priced = {"Quantity", "List_Price", "Total"} <= set(names)
        taxes = [
            {"name": name, "id": str(self.ids.prefix * 10**12 + 996 * 10**9 + i + 1), "percentage": pct}
            for i, (name, pct) in enumerate(LINE_TAXES)
        ]
        clock = self.clock

        def rows(rc: RecordCtx) -> list[dict[str, Any]]:
            out = []
            for n in range(rc.rng.randint(0, 3)):
                values: dict[str, Any] = {}
                sub = RecordCtx(rc.id, n, rc.created, rc.modified, rc.rng, values)
                for api_name, gen in gens:
                    values[api_name] = gen(sub)
                if priced:
                    values.update(price_line(values.get("List_Price") or 0.0, n, rc.rng, taxes))
                row = {name: values.get(name) for name in names}
                row["Parent_Id"] = {"name": None, "id": rc.id}  # name set once the parent is complete
                row["Created_Time"] = clock.iso(rc.created)
                row["Modified_Time"] = clock.iso(rc.modified)
                row["id"] = self.ids.misc()
                out.append(row)
            return out

        return rows

    def _files(self, images: bool) -> Gen:
        def files(rc: RecordCtx) -> list[dict[str, Any]]:
            out = []
            for _ in range(rc.rng.randint(0, 2)):
                file_id = f"{rc.rng.getrandbits(128):032x}"
                item: dict[str, Any] = {
                    "File_Name__s": f"{rc.rng.choice(WORDS)}.{'png' if images else 'pdf'}",
                    "Size__s": str(rc.rng.randint(1000, 4_000_000)),
                    "File_Id__s": file_id,
                    "id": self.ids.misc(),
                }
                if images:
                    item.update(
                        {
                            "Description__s": None,
                            "Preview_Id__s": file_id[:16],
                            "Encrypted_Id__s": file_id[::-1],
                            "State__s": "ACTIVE",
                        }
                    )
                else:
                    item["attachment_Id"] = item["id"]
                out.append(item)
            return out

        return files

    def _formula(self, spec: FieldSpec) -> Gen:
        ret = spec.formula_return or "text"
        clock, w0, w1 = self.clock, self.window[0], self.window[1]
        if ret in ("double", "currency"):
            return lambda rc: round(rc.rng.uniform(0, 100000), 2)
        if ret == "date":
            return lambda rc: clock.date(rc.rng.randint(w0, w1))
        if ret == "datetime":
            return lambda rc: clock.iso(rc.rng.randint(w0, w1))
        if ret == "boolean":
            return lambda rc: rc.rng.random() < 0.5
        return lambda rc: rc.rng.choice(["Hot", "Warm", "Cold"])
