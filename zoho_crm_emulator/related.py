"""Per-record related lists: `GET /crm/v8/{module}/{id}/Attachments`, `/Deals/{id}/Contact_Roles`,
`/Deals/{id}/Stage_History`, and the control call that attaches a file.

Zoho pages (v8): get-attachments.html (attachment metadata of one record; `fields` mandatory; `page`,
`per_page` <= 200, `page_token`; 204 when none; scope `ZohoCRM.modules.attachments.READ` with the
module's), get-contact-roles-of-a-specific-deal.html (`Contact_Role {name, id}` and the contact's
fields; contacts and deals READ), get-related-records.html (`/{module}/{id}/{related list}`, `page`,
`per_page`, `fields`; 204 when none) and Kaizen #107 (field trackers: Stage History is the Deals
related list of the `DealHistory` field-tracker module).

Emulator choices (Zoho is silent): attachments are generated from the seed (0-3 per record, created
between the record's creation and its last change); stage-history rows are the `DealHistory` tracker
module's rows of the deal where that module exists, else one row per deal with its current stage;
contact roles are the `Deals_X_Contacts` rows of the deal. `fields` is required on every related list.
[U] whether attaching a file changes the parent's `Modified_Time`: `attachments_touch_parent`
(pessimistic: it does not).
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from .protocol import Request, Response, empty_response, invalid_param, json_response, required_param
from .record_common import MAX_PER_PAGE, int_param, resolve_module
from .settings import EmulatorSettings
from .state import Entry, ModuleState, OrgState

ATTACHMENTS = "Attachments"
CONTACT_ROLES = "Contact_Roles"
STAGE_HISTORY = "Stage_History"
ATTACHMENT_SCOPE = ["ZohoCRM.modules.attachments.READ"]
CONTACT_SCOPE = ["ZohoCRM.modules.contacts.READ"]
FILE_NAMES = ("proposal.pdf", "contract.docx", "logo.png", "notes.txt", "pricing.xlsx")


class RelatedApi:
    def __init__(self, state: OrgState, settings: EmulatorSettings) -> None:
        self.state, self.settings = state, settings
        self._attachments: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._tokens: dict[str, tuple[tuple[Any, ...], int]] = {}
        self._stages: dict[str, list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ GET
    def list(self, req: Request) -> Response:
        module, rid, name = (req.path_params[k] for k in ("module", "id", "related"))
        extra = (
            [ATTACHMENT_SCOPE] if name == ATTACHMENTS else [CONTACT_SCOPE] if name == CONTACT_ROLES else []
        )
        ms = resolve_module(self.state, req, module, *extra)
        fields = [f.strip() for f in req.query.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise required_param("fields")
        with self.state.lock:
            entry = ms.entries.get(rid)
            if entry is None:
                raise invalid_param("id", "the related id given seems to be invalid")
            rows = self._rows(ms, entry, name)
        per_page = int_param(req.query, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        binding = (ms.api_name, rid, name, tuple(fields), per_page)
        token = req.query.get("page_token")
        if token:
            bound = self._tokens.get(token)
            if bound is None or bound[0] != binding:
                raise invalid_param("page_token", "invalid page token", param="page_token")
            offset = bound[1]
            page = offset // per_page + 1
        else:
            page = int_param(req.query, "page", 1, 1, None)
            offset = (page - 1) * per_page
        picked = rows[offset : offset + per_page]
        if not picked:
            return empty_response(204)
        more = offset + len(picked) < len(rows)
        data = [{"id": row["id"], **{f: row.get(f) for f in fields if f != "id"}} for row in picked]
        info: dict[str, Any] = {
            "per_page": per_page,
            "count": len(data),
            "page": page,
            "more_records": more,
            "next_page_token": None,
        }
        if more:
            next_token = secrets.token_hex(16)
            self._tokens[next_token] = (binding, offset + len(picked))
            info["next_page_token"] = next_token
        return json_response({"data": data, "info": info}, records=len(data))

    def _rows(self, ms: ModuleState, entry: Entry, name: str) -> list[dict[str, Any]]:
        if name == ATTACHMENTS:
            return list(self._attachments_of(ms, entry))
        if name == CONTACT_ROLES and ms.api_name == "Deals":
            return self._contact_roles(entry)
        if name == STAGE_HISTORY and ms.api_name == "Deals":
            return self._stage_history(entry)
        raise invalid_param("related_list", "the related list given seems to be invalid")

    # ------------------------------------------------------------------ attachments
    def _attachments_of(self, ms: ModuleState, entry: Entry) -> list[dict[str, Any]]:
        key = (ms.api_name, entry.id)
        if key not in self._attachments:
            rng = random.Random(f"{self.state.seed}:attachments:{ms.api_name}:{entry.id}")
            count = rng.choice((0, 0, 1, 1, 2, 3))
            rows: list[dict[str, Any]] = []
            for _ in range(count):
                ts = rng.randint(entry.created, max(entry.created, entry.modified))
                rows.append(self._attachment(ms, entry, len(rows), ts, rng))
            self._attachments[key] = rows
        return self._attachments[key]

    def _attachment(
        self, ms: ModuleState, entry: Entry, index: int, ts: int, rng: random.Random
    ) -> dict[str, Any]:
        clock = self.state.clock
        user = self.state.user_ref(rng)
        return {
            "id": f"{entry.id}{index + 1:02d}",  # unique: record ids are unique across modules
            "File_Name": rng.choice(FILE_NAMES),
            "Size": str(rng.randint(1_000, 5_000_000)),
            "Created_Time": clock.iso(ts),
            "Modified_Time": clock.iso(ts),
            "Created_By": user,
            "Modified_By": user,
            "Owner": user,
            "Parent_Id": {"name": ms.display_name(entry.rec), "id": entry.id},
            "$se_module": ms.api_name,
            "$type": "Attachment",
        }

    def attach(self, module: str, record_id: str, file_name: str = "added.pdf") -> dict[str, Any]:
        """Control: attach a file now; the parent's Modified_Time moves only if `attachments_touch_parent`."""
        state = self.state
        with state.lock:
            ms = state.module(module)
            if ms is None or str(record_id) not in ms.entries:
                raise ValueError(f"no record {record_id} in {module}")
            entry = ms.entries[str(record_id)]
            rows = self._attachments_of(ms, entry)
            ts = max(state.clock.now(), entry.modified)
            rng = random.Random(f"{state.seed}:attach:{len(rows)}:{record_id}")
            row = self._attachment(ms, entry, len(rows), ts, rng)
            row["File_Name"] = file_name
            rows.append(row)
            if self.settings.attachments_touch_parent and ms.has_modified:
                entry.modified = ts
                entry.rec["Modified_Time"] = state.clock.iso(ts)
                ms.invalidate()
            return {"id": row["id"], "modified_time": row["Modified_Time"]}

    # ------------------------------------------------------------------ contact roles, stage history
    def _contact_roles(self, deal: Entry) -> list[dict[str, Any]]:
        links, contacts = self.state.module("Deals_X_Contacts"), self.state.module("Contacts")
        if links is None or contacts is None:
            return []
        rows = []
        for link in sorted(links.entries.values(), key=lambda e: e.idn):
            deal_ref, contact_ref = link.rec.get("Deal"), link.rec.get("Contact")
            if (
                not isinstance(deal_ref, dict)
                or deal_ref.get("id") != deal.id
                or not isinstance(contact_ref, dict)
            ):
                continue
            contact = contacts.entries.get(str(contact_ref.get("id")))
            role = link.rec.get("Contact_Role")
            if contact is None or not role:
                continue
            row = {k: v for k, v in contact.rec.items() if not isinstance(v, list)}
            row["Contact_Role"] = {"name": role, "id": _role_id(str(role))}
            rows.append(row)
        return rows

    def _stage_history(self, deal: Entry) -> list[dict[str, Any]]:
        """The deal's rows of the `DealHistory` tracker module, else its first stage and the moves made
        through `change_stage` (rows are shared, so a move shows in both reads)."""
        tracker = self.state.module("DealHistory")
        if tracker is not None:
            return [
                e.rec
                for e in sorted(tracker.entries.values(), key=lambda e: e.idn)
                if isinstance(e.rec.get("Parent_Id"), dict) and e.rec["Parent_Id"].get("id") == deal.id
            ]
        if deal.id not in self._stages:
            self._stages[deal.id] = [self._stage_row(deal, f"{deal.id}01", deal.rec.get("Modified_Time"))]
        return self._stages[deal.id]

    def _stage_row(self, deal: Entry, rid: str, when: Any) -> dict[str, Any]:
        rec = deal.rec
        return {
            "id": rid,
            "Stage": rec.get("Stage"),
            "Amount": rec.get("Amount"),
            "Probability": rec.get("Probability"),
            "Closing_Date": rec.get("Closing_Date"),
            "Moved_To": None,
            "Duration_Days": 0,
            "Modified_Time": when,
            "Modified_By": rec.get("Modified_By"),
            "Parent_Id": {"name": rec.get("Deal_Name"), "id": deal.id},
        }

    def change_stage(self, deal_id: str, stage: str) -> dict[str, Any]:
        """Control: move a deal to `stage` now, as a user editing Stage does (Kaizen #107: the tracker
        records the move): the deal's Modified_Time moves and a stage-history row is added."""
        state = self.state
        with state.lock:
            deals = state.module("Deals")
            if deals is None or str(deal_id) not in deals.entries:
                raise ValueError(f"no deal {deal_id}")
            deal = deals.entries[str(deal_id)]
            rows = self._stage_history(deal)
            ts = max(state.clock.now(), deal.modified)
            iso = state.clock.iso(ts)
            deal.rec["Stage"], deal.rec["Modified_Time"], deal.modified = stage, iso, ts
            deals.invalidate()
            if rows:
                rows[-1]["Moved_To"] = stage
            tracker = state.module("DealHistory")
            rid = state.ids.take(tracker.slot) if tracker is not None else f"{deal.id}{len(rows) + 1:02d}"
            row = self._stage_row(deal, rid, iso)
            if tracker is not None:
                names = {f.api_name for f in tracker.definition.fields} | {"id"}
                row = {k: v for k, v in row.items() if k in names}
                tracker.entries[rid] = Entry(rid, ts, ts, row)
                tracker.invalidate()
            else:
                rows.append(row)
            return {"id": rid, "modified_time": iso}


def _role_id(name: str) -> str:
    return str(4_000_000_000_000_000 + sum(ord(c) * 31**i for i, c in enumerate(name)) % 1_000_000_000)
