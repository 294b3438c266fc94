"""The emulator in a process of its own (`python -m zoho_crm_emulator`), as a real
Zoho would be: for the demo and the benchmark, whose connector runs must not share its CPU."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class EmulatorProcess:
    """The emulator started with flags (`latency_ms=50` → `--latency-ms 50`); a context manager."""

    def __init__(self, **flags: Any) -> None:
        args = [sys.executable, "-m", "zoho_crm_emulator", "--port", "0"]
        for name, value in flags.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        self.process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        started = json.loads(self.process.stdout.readline())
        self.url: str = started["url"]
        self.config: dict[str, Any] = started["config"]

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control API (`GET` without a body, `POST` with one)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/__emulator__/{path}",
            data=data,
            method="POST" if data is not None else "GET",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
