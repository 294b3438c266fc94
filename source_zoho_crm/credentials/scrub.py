"""Secret scrubbing: every line `zoho-crm-auth` prints is cleaned of the secrets it has seen."""

from __future__ import annotations

from dataclasses import dataclass, field

_MIN_SECRET_LENGTH = 4


class CliError(Exception):
    """A failure the user can act on; the message is one line and holds no secret."""


@dataclass
class Secrets:
    """The secrets seen by one invocation (client secret, codes, tokens): never printed."""

    values: set[str] = field(default_factory=set)

    def secret(self, value: str | None) -> str | None:
        """Remember a secret value (and return it) so that no message can show it."""
        if value and len(value) >= _MIN_SECRET_LENGTH:
            self.values.add(value)
        return value

    def scrub(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return " ".join(text.split())  # one line

    def say(self, text: str) -> None:
        print(self.scrub(text), flush=True)
