"""Formula and rollup summary values that Zoho recomputes without touching Modified_Time.

Zoho's help says formula fields compute "only when the record is edited manually or updated via
automation", and that time-based formulas (the `Now()` function) are now refreshed by Zoho on its own
schedule ("Enhancements to the formula field in Zoho CRM: Auto-refresh formulas with the Now
function...", help.zoho.com community, 2025); rollup summaries follow their child records. Zoho does
not say that either recomputation changes the parent's Modified_Time: the emulator takes the worst
reading, that it never does (so does Estuary, which re-pulls formula fields on a schedule).
"""

from __future__ import annotations

from typing import Any

from .state import OrgState
from .values import RecordCtx

COMPUTED_TYPES = frozenset({"formula", "rollup_summary"})
# New values are drawn until one differs from the old (a text formula has few outcomes).
_DRAWS = 8


def recompute_formulas(
    state: OrgState, module: str, count: int | None = None, ids: list[str] | None = None
) -> dict[str, Any]:
    """New values for the formula and rollup fields of `ids`, else of `count` random records, else of
    every record; Modified_Time and Modified_By stay. Returns `{"ids", "fields", "values"}` (values by id)."""
    with state.lock:
        ms = state.module(module)
        if ms is None:
            raise KeyError(f"no module {module!r}")
        names = {spec.api_name for spec in ms.definition.fields if spec.data_type in COMPUTED_TYPES}
        gens = [(name, gen) for name, gen in ms.gens if name in names]
        if not gens:
            raise ValueError(f"{ms.api_name} has no formula or rollup summary field")
        if ids:
            missing = [i for i in ids if str(i) not in ms.entries]
            if missing:
                raise ValueError(f"unknown ids in {ms.api_name}: {missing}")
            picked = [ms.entries[str(i)] for i in ids]
        elif count is not None:
            live = list(ms.entries.values())
            picked = state.control_rng.sample(live, min(int(count), len(live)))
        else:
            picked = list(ms.entries.values())
        values: dict[str, dict[str, Any]] = {}
        for entry in picked:
            rc = RecordCtx(entry.id, 0, entry.created, entry.modified, state.control_rng, entry.rec)
            for name, gen in gens:
                old = entry.rec.get(name)
                new = gen(rc)
                for _ in range(_DRAWS):
                    if new != old:
                        break
                    new = gen(rc)
                entry.rec[name] = new
            values[entry.id] = {name: entry.rec.get(name) for name, _ in gens}
        ms.invalidate()
        return {"ids": list(values), "fields": [name for name, _ in gens], "values": values}
