"""The words, places, tags and taxes the emulator's values are drawn from; line-item pricing; record ids."""

from __future__ import annotations

import random
from typing import Any

FIRST = [
    "Aarav",
    "Maya",
    "Liam",
    "Sofia",
    "Noah",
    "Zara",
    "Ethan",
    "Priya",
    "Lucas",
    "Chloe",
    "Omar",
    "Elena",
    "Kenji",
    "Amara",
    "Mateo",
    "Ingrid",
    "Ravi",
    "Hana",
    "Diego",
    "Freya",
    "Yusuf",
    "Leila",
    "Arjun",
    "Nora",
    "Tomas",
    "Isla",
    "Kofi",
    "Mei",
    "Anders",
    "Lucia",
    "Sami",
    "Greta",
]
LAST = [
    "Sharma",
    "Johnson",
    "Garcia",
    "Müller",
    "Tanaka",
    "Okafor",
    "Rossi",
    "Nguyen",
    "Silva",
    "Kowalski",
    "O'Brien",
    "Dubois",
    "Haddad",
    "Iyer",
    "Larsen",
    "Moreau",
    "Petrov",
    "Santos",
    "Weber",
    "Yamamoto",
    "Andersson",
    "Chen",
    "Fischer",
    "Kaur",
    "Lopez",
    "Novak",
    "Patel",
    "Reyes",
    "Schmidt",
    "Walker",
]
WORDS = [
    "agile",
    "beacon",
    "cobalt",
    "delta",
    "ember",
    "falcon",
    "granite",
    "harbor",
    "indigo",
    "juniper",
    "keystone",
    "lumen",
    "meridian",
    "nimbus",
    "orbit",
    "pioneer",
    "quartz",
    "radiant",
    "summit",
    "tidal",
    "umbra",
    "vertex",
    "willow",
    "xenon",
    "yonder",
    "zenith",
    "atlas",
    "bright",
    "crest",
    "drift",
]
SUFFIXES = ["Inc", "LLC", "Ltd", "Corp", "GmbH", "Pvt Ltd", "S.A.", "Group"]
CITIES = [
    "Chennai",
    "Austin",
    "Berlin",
    "Tokyo",
    "Sydney",
    "Toronto",
    "São Paulo",
    "Pune",
    "Dublin",
    "Nairobi",
]
STATES = ["TN", "TX", "BE", "Tokyo", "NSW", "ON", "SP", "MH", "Leinster", "Nairobi County"]
COUNTRIES = [
    "India",
    "United States",
    "Germany",
    "Japan",
    "Australia",
    "Canada",
    "Brazil",
    "Ireland",
    "Kenya",
]
TAGS = ["VIP", "Follow-up", "Webinar 2025", "Partner", "Churn risk", "Expansion"]
TAG_COLOURS = ["#57B1FD", "#879BFC", "#658BA8", "#FD87BD", "#969696", "#F48435"]


# Taxes a line item may carry in `Line_Tax` (the names of Products' `Tax` picklist), with their rates.
LINE_TAXES = [("Sales Tax", 8.25), ("Vat", 12.5), ("Service Tax", 5.0)]


def price_line(
    list_price: float, index: int, rng: random.Random, taxes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The derived values of line item `index` (0-based), consistent with each other like Zoho's."""
    quantity = float(rng.randint(1, 20))
    total = round(quantity * list_price, 2)
    discount = round(total * rng.choice([0, 0, 0, 5, 10, 15]) / 100, 2)
    after = round(total - discount, 2)
    line_tax = [
        dict(tax, value=round(after * tax["percentage"] / 100, 2))
        for tax in rng.sample(taxes, rng.choice([0, 1, 1, 2]))
    ]
    tax = round(sum((t["value"] for t in line_tax), 0.0), 2)
    return {
        "Quantity": quantity,
        "Discount": discount,
        "Total": total,
        "Total_After_Discount": after,
        "Line_Tax": line_tax,
        "Tax": tax,
        "Net_Total": round(after + tax, 2),
        "Sequence_Number": index + 1,
    }


class IdAllocator:
    """19-digit numeric ids: 7-digit org prefix, 3-digit slot (module), 9-digit increasing counter."""

    def __init__(self, seed: int):
        self.prefix = 1_000_000 + (seed * 7919 + 5_725_767) % 8_999_999
        self.counters: dict[int, int] = {}

    def take(self, slot: int, step: int = 1) -> str:
        value = self.counters.get(slot, 0) + step
        self.counters[slot] = value
        return str(self.prefix * 10**12 + slot * 10**9 + value)

    def misc(self) -> str:
        return self.take(999)
