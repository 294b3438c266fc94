"""`ZohoCrmEmulator`: the Python face of the emulator (start/stop, credentials, control methods)."""

from __future__ import annotations

import threading
from typing import Any

from .app import Application
from .server import EmulatorServer
from .settings import EmulatorSettings
from .state import OrgState


class ZohoCrmEmulator:
    """Zoho CRM's accounts server and API v8 for one org on 127.0.0.1. Data is generated on construction."""

    host = "127.0.0.1"

    def __init__(self, settings: EmulatorSettings | None = None):
        self.settings = settings or EmulatorSettings()
        self.app = Application(self.settings)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ZohoCrmEmulator:
        if self._server is not None:
            return self
        server = EmulatorServer((self.host, self.settings.port), self.app)
        self._server = server
        self._url = f"http://{self.host}:{server.server_address[1]}"
        self.app.base_url = self._url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"zoho-crm-emulator:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> ZohoCrmEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("the emulator is not started")
        return self._url

    # ------------------------------------------------------------------ credentials
    @property
    def credentials(self) -> dict[str, str]:
        tokens = self.app.tokens
        return {
            "client_id": tokens.client_id,
            "client_secret": tokens.client_secret,
            "refresh_token": tokens.default_refresh_token,
        }

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A connector config pointing at this emulator."""
        return {
            **self.credentials,
            "dc_region": self.settings.home_dc,
            "accounts_url": self.url,
            "api_url": self.url,
            **overrides,
        }

    def new_refresh_token(self, scopes: list[str] | None = None) -> str:
        return self.app.control.new_refresh_token(scopes)

    def new_grant_code(self, scopes: list[str] | None = None, expires_in: float = 180) -> str:
        return self.app.control.new_grant_code(scopes, expires_in)

    # ------------------------------------------------------------------ state and control
    @property
    def state(self) -> OrgState:
        return self.app.state

    def records(self, module: str) -> list[dict[str, Any]]:
        return self.app.state.records(module)

    def deleted_records(self, module: str, listed: bool = False) -> list[dict[str, Any]]:
        """Every deleted entry; `listed`: only those `/{module}/deleted` still lists (the retention days)."""
        days = self.settings.deleted_retention_days if listed else 0
        kept_since = self.app.state.clock.now() - days * 86400 if days else 0
        return self.app.state.deleted_records(module, kept_since)

    def stats(self) -> dict[str, Any]:
        return self.app.control.stats()

    def reset_stats(self) -> dict[str, Any]:
        return self.app.control.reset_stats()

    def modify(
        self,
        module: str,
        count: int = 1,
        modified_time: str | None = None,
        ids: list[str] | None = None,
        keep_modified_time: bool = False,
    ) -> dict[str, Any]:
        return self.app.control.modify(module, count, modified_time, ids, keep_modified_time)

    def restore(self, module: str, ids: list[str]) -> dict[str, Any]:
        """Restore records of `module` from the recycle bin (their lines with them)."""
        return self.app.state.restore(module, ids)

    def change_lines(
        self, module: str, count: int = 1, ids: list[str] | None = None, action: str = "modify"
    ) -> dict[str, Any]:
        """Modify or delete lines of subform module `module` (their parents are edited)."""
        return self.app.state.change_lines(module, count, ids, action)

    def create(self, module: str, count: int = 1, modified_time: str | None = None) -> dict[str, Any]:
        return self.app.control.create(module, count, modified_time)

    def attach(self, module: str, record_id: str, file_name: str = "added.pdf") -> dict[str, Any]:
        """Attach a file to a record now (its parent's Modified_Time moves per `attachments_touch_parent`)."""
        return self.app.related.attach(module, record_id, file_name)

    def change_stage(self, deal_id: str, stage: str) -> dict[str, Any]:
        """Move a deal to `stage` now: its Modified_Time moves and a stage-history row is added."""
        return self.app.related.change_stage(deal_id, stage)

    def delete(
        self,
        module: str,
        count: int = 1,
        ids: list[str] | None = None,
        type: str = "recycle",
        deleted_time: str | None = None,
    ) -> dict[str, Any]:
        return self.app.control.delete(module, count, ids, type, deleted_time)

    def add_field(
        self,
        module: str,
        api_name: str,
        data_type: str,
        json_type: str | None = None,
        fill: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        return self.app.control.add_field(module, api_name, data_type, json_type, fill, **extra)

    def recompute_formulas(
        self, module: str, count: int | None = None, ids: list[str] | None = None
    ) -> dict[str, Any]:
        """New formula and rollup values (every record by default), Modified_Time unchanged."""
        return self.app.control.recompute_formulas(module, count, ids)

    def expire_tokens(self) -> dict[str, Any]:
        return self.app.control.expire_tokens()

    def expire_page_tokens(self) -> dict[str, Any]:
        return self.app.control.expire_page_tokens()

    def consent(self, deny: bool) -> dict[str, Any]:
        return self.app.control.consent(deny)

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Current fault settings; keyword arguments change them first (as POST /__emulator__/faults)."""
        return self.app.control.faults(**changes)

    def update_settings(self, **changes: Any) -> dict[str, Any]:
        """Change run-time settings (e.g. page_token_chain_limit, if_modified_since_inclusive, edition)."""
        return self.app.control.settings(**changes)
