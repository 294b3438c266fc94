"""The in-memory org: modules, fields, records, deleted records, users and settings metadata.

Everything is generated once from the seed. Mutations (control API) hold `OrgState.lock`; readers take the
same lock while they pick records, and serialise outside it. The data model is in model.py, the generation
in people.py and generation.py, the control API's changes in changes.py.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import orjson

from . import presets
from .changes import OrgChanges
from .generation import OrgGeneration
from .model import DAY, SORT_ATTRS, WINDOW_END, WINDOW_START, Deleted, Entry, ModuleState, data_window
from .people import build_people
from .settings import EmulatorSettings
from .timeutil import OrgClock
from .vocabulary import IdAllocator

__all__ = [
    "DAY",
    "SORT_ATTRS",
    "WINDOW_END",
    "WINDOW_START",
    "Deleted",
    "Entry",
    "ModuleState",
    "OrgState",
    "data_window",
]


class OrgState(OrgGeneration, OrgChanges):
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
        build_people(self)

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
