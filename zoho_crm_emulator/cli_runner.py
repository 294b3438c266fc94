"""Runs the installed `source-zoho-crm` command as a subprocess and parses its protocol messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteMessageSerializer


def command() -> list[str]:
    """The console script next to this Python, else on PATH."""
    beside = Path(sys.executable).with_name("source-zoho-crm")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("source-zoho-crm")
    if not found:
        raise RuntimeError("source-zoho-crm is not installed: pip install -e '.[dev]'")
    return [found]


@dataclass
class CliRun:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str
    invalid_lines: list[str] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of_type("RECORD")]

    def records_of(self, stream: str) -> list[dict[str, Any]]:
        return [r["data"] for r in self.records if r["stream"] == stream]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def final_state(self) -> list[dict[str, Any]]:
        """The last state per stream, as a `--state` file wants it."""
        last: dict[str, dict[str, Any]] = {}
        for state in self.states:
            if state.get("type") == "STREAM":
                last[state["stream"]["stream_descriptor"]["name"]] = state
        return list(last.values())

    def logs(self, level: str | None = None) -> list[str]:
        return [
            m["log"]["message"] for m in self.of_type("LOG") if level is None or m["log"]["level"] == level
        ]

    def errors(self) -> list[str]:
        return [
            m["trace"]["error"]["message"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"
        ]

    def connection_status(self) -> dict[str, Any]:
        return self.of_type("CONNECTION_STATUS")[-1]["connectionStatus"]

    def catalog(self) -> dict[str, Any]:
        return self.of_type("CATALOG")[-1]["catalog"]


def run(
    verb: str,
    config: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> CliRun:
    """Run one verb; every stdout line must be an Airbyte protocol message."""
    with tempfile.TemporaryDirectory(prefix="zoho-cli-") as tmp:
        args = [*command(), verb]
        for flag, content in (("--config", config), ("--catalog", catalog), ("--state", state)):
            if content is not None:
                path = Path(tmp) / f"{flag[2:]}.json"
                path.write_text(json.dumps(content))
                args += [flag, str(path)]
        completed = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
        )
    messages: list[dict[str, Any]] = []
    invalid: list[str] = []
    for line in completed.stdout.splitlines():
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            AirbyteMessageSerializer.load(message)  # validates against the protocol models
        except Exception:
            invalid.append(line)
            continue
        messages.append(message)
    return CliRun(completed.returncode, messages, completed.stderr, invalid)


def configured_catalog(catalog: dict[str, Any], incremental: bool = True) -> dict[str, Any]:
    """Every discovered stream, incremental (append + dedup) where it can be, else full refresh."""
    streams = []
    for stream in catalog["streams"]:
        can_increment = incremental and "incremental" in stream["supported_sync_modes"]
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if can_increment else "full_refresh",
                "destination_sync_mode": "append_dedup" if can_increment else "overwrite",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [["id"]],
            }
        )
    return {"streams": streams}
