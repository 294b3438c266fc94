"""The control API's changes to the org: modify, create, delete, restore, lines, fields (part of OrgState)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fields import FieldSpec
from .model import Entry, ModuleState
from .values import RecordCtx

if TYPE_CHECKING:
    from .state import OrgState  # noqa: F401


class OrgChanges:
    """Mixed into OrgState (state.py): uses its lock, clock, ids, modules and settings."""

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
