"""Fault injection for API calls (never OAuth or control): latency, random and scripted failures."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

from .settings import EmulatorSettings

ACTIONS = ("500", "502", "503", "504", "429", "401", "truncate", "drop")
RATE_KEYS = ("latency_ms", "rate_429", "rate_5xx", "rate_truncate", "rate_drop")


@dataclass
class ScriptEntry:
    path_contains: str
    action: str
    times: int = 1


class Faults:
    """Rates and latency live in the settings; the seeded RNG and the script live here."""

    def __init__(self, settings: EmulatorSettings):
        self.settings = settings
        self.lock = threading.Lock()
        self.rng = random.Random(settings.fault_seed)
        self.script: list[ScriptEntry] = []

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - {*RATE_KEYS, "seed", "script"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        script = [self._entry(item) for item in body.get("script") or []]
        with self.lock:
            changes = {key: body[key] for key in RATE_KEYS if key in body}
            for key, value in changes.items():
                if key != "latency_ms" and not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"{key} must be between 0 and 1")
            self.settings.update(changes)
            if "seed" in body:
                self.settings.fault_seed = int(body["seed"])
                self.rng = random.Random(self.settings.fault_seed)
            if "script" in body:
                self.script = script
        return self.current()

    @staticmethod
    def _entry(item: dict[str, Any]) -> ScriptEntry:
        action = str(item.get("action", ""))
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; expected one of {ACTIONS}")
        return ScriptEntry(str(item.get("path_contains", "")), action, int(item.get("times", 1)))

    def current(self) -> dict[str, Any]:
        s = self.settings
        with self.lock:
            return {
                "latency_ms": s.latency_ms,
                "rate_429": s.rate_429,
                "rate_5xx": s.rate_5xx,
                "rate_truncate": s.rate_truncate,
                "rate_drop": s.rate_drop,
                "seed": s.fault_seed,
                "script": [asdict(e) for e in self.script],
            }

    def reset(self) -> None:
        self.configure(
            {
                "latency_ms": 0,
                "rate_429": 0.0,
                "rate_5xx": 0.0,
                "rate_truncate": 0.0,
                "rate_drop": 0.0,
                "script": [],
            }
        )

    def decide(self, path_and_query: str) -> str | None:
        """The fault for this API call, if any: a scripted one first, else a seeded random draw."""
        s = self.settings
        with self.lock:
            for entry in self.script:
                if entry.path_contains in path_and_query and entry.times > 0:
                    entry.times -= 1
                    if entry.times <= 0:
                        self.script.remove(entry)
                    return entry.action
            total = s.rate_429 + s.rate_5xx + s.rate_truncate + s.rate_drop
            if total <= 0:
                return None
            roll = self.rng.random()
            if roll < s.rate_429:
                return "429"
            roll -= s.rate_429
            if roll < s.rate_5xx:
                return self.rng.choice(("500", "500", "502", "503"))
            roll -= s.rate_5xx
            if roll < s.rate_truncate:
                return "truncate"
            roll -= s.rate_truncate
            if roll < s.rate_drop:
                return "drop"
            return None
