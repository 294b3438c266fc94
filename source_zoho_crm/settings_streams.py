"""Settings streams read per module or per Deals layout: `layouts`, `pipelines`, `pipeline_stages`,
`custom_views`, `tags` (full refresh).

Why Python: each is one GET per selected module (or per Deals layout) through the one ZohoApiClient, and a
module Zoho refuses ends only that module's part with a warning, which a manifest stream cannot do.
`pipelines` and `pipeline_stages` share one answer per layout, and the Deals layouts with `layouts`, so a
sync of all five makes one call per module per API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.errors import ZohoAccessError, ZohoError, ZohoInvalidModuleError
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.metadata_streams import _stream, load_schema
from source_zoho_crm.settings import (
    API_VERSION_PATH,
    CUSTOM_VIEWS_PAGE_SIZE,
    PIPELINE_MODULE,
    SCOPE_MISMATCH_CODE,
    SETTINGS_MODULE_KINDS,
    SETTINGS_REFUSED_CODES,
)

logger = logging.getLogger("airbyte")

Rows = list[Mapping[str, Any]]
# Stream -> primary key. `pipeline_stages` is the flat table analysts join Deals' Stage and Pipeline on.
SETTINGS_STREAMS: Mapping[str, list[str]] = {
    "layouts": ["module", "id"],
    "pipelines": ["layout_id", "id"],
    "pipeline_stages": ["pipeline_id", "id"],
    "custom_views": ["module", "id"],
    "tags": ["module", "id"],
}


class ScopeMissing(Exception):
    """The token lacks the stream's scope: the same for every module, so the stream ends at once."""

    def __init__(self, error: ZohoError) -> None:
        super().__init__(error.message)
        self.error = error


class SettingsReader:
    """Each settings answer fetched at most once per process (the answer or the refusal is kept)."""

    def __init__(self, client: ZohoApiClient, metadata: ZohoMetadata) -> None:
        self._client = client
        self._metadata = metadata
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], Rows | ZohoError] = {}
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}

    def modules(self) -> list[str]:
        """The config's selected modules of the kinds Zoho serves these settings for."""
        return [
            str(m["api_name"])
            for m in self._metadata.selected_modules()
            if m.get("generated_type", "default") in SETTINGS_MODULE_KINDS
        ]

    def layouts(self, module: str) -> Rows:
        return self._once("layouts", module, f"the layouts of {module}", {"module": module})

    def custom_views(self, module: str) -> Rows:
        return self._once("custom_views", module, f"the custom views of {module}", {"module": module})

    def tags(self, module: str) -> Rows:
        return self._once("tags", module, f"the tags of {module}", {"module": module})

    def pipelines(self, layout_id: str) -> Rows:
        what = f"the pipelines of {PIPELINE_MODULE} layout {layout_id}"
        return self._once("pipeline", layout_id, what, {"layout_id": layout_id})

    def _once(self, api: str, key: str, what: str, params: Mapping[str, str]) -> Rows:
        with self._lock:
            key_lock = self._key_locks.setdefault((api, key), threading.Lock())
        with key_lock:
            if (api, key) not in self._answers:
                try:
                    self._answers[(api, key)] = self._fetch(api, what, params)
                except ZohoError as error:
                    self._answers[(api, key)] = error
            answer = self._answers[(api, key)]
        if isinstance(answer, ZohoError):
            raise answer
        return answer

    def _fetch(self, api: str, what: str, params: Mapping[str, str]) -> Rows:
        """One GET, or one per page for custom views (`page`/`per_page`, until `more_records` is false)."""
        path = f"{API_VERSION_PATH}/settings/{api}"
        paged = api == "custom_views"
        rows: Rows = []
        page = 1
        while True:
            request = {**params, "page": page, "per_page": CUSTOM_VIEWS_PAGE_SIZE} if paged else params
            body = self._client.get(path, request, what=what).body or {}  # 204: none
            found = body.get(api)
            new = [row for row in found if isinstance(row, Mapping)] if isinstance(found, list) else []
            rows += new
            info = body.get("info")
            if not paged or not new or not (isinstance(info, Mapping) and info.get("more_records")):
                return rows
            page += 1


def settings_streams(
    client: ZohoApiClient, metadata: ZohoMetadata, repository: MessageRepository
) -> list[DefaultStream]:
    """The five settings streams, sharing one reader (no call is made until a stream is read)."""
    reader = SettingsReader(client, metadata)

    def per_module(fetch: Callable[[str], Rows]) -> Callable[[str], Iterable[Mapping[str, Any]]]:
        return lambda module: ({**row, "module": module} for row in fetch(module))

    rows: dict[str, Callable[[str], Iterable[Mapping[str, Any]]]] = {
        "layouts": per_module(reader.layouts),
        "pipelines": lambda module: _pipelines(reader, module),
        "pipeline_stages": lambda module: _stages(reader, module),
        "custom_views": per_module(reader.custom_views),
        "tags": per_module(reader.tags),
    }
    return [
        _stream(
            name,
            _each_module(name, reader, rows[name], pipelines_only=name.startswith("pipeline")),
            repository,
            primary_key,
            schema=load_schema(name),
        )
        for name, primary_key in SETTINGS_STREAMS.items()
    ]


def _each_module(
    name: str,
    reader: SettingsReader,
    module_rows: Callable[[str], Iterable[Mapping[str, Any]]],
    pipelines_only: bool,
) -> Callable[[], Iterable[Mapping[str, Any]]]:
    """The stream's rows module by module; a refused module is left out with a warning naming it, a
    missing scope ends the stream (`Skipping stream ...`, the same for every module)."""

    def rows() -> Iterator[Mapping[str, Any]]:
        for module in reader.modules():
            if pipelines_only and module != PIPELINE_MODULE:
                continue
            try:
                yield from module_rows(module)
            except ZohoError as refused:
                if isinstance(refused, ZohoAccessError) and refused.code == SCOPE_MISMATCH_CODE:
                    logger.warning(messages.STREAM_SKIPPED.format(stream=name, message=refused.message))
                    return
                if not _refused(refused):
                    raise
                logger.warning(
                    messages.SETTINGS_MODULE_LEFT_OUT.format(
                        stream=name, module=module, message=refused.message
                    )
                )

    return rows


def _refused(error: ZohoError) -> bool:
    return (
        isinstance(error, (ZohoAccessError, ZohoInvalidModuleError)) or error.code in SETTINGS_REFUSED_CODES
    )


def _pipelines(reader: SettingsReader, module: str) -> Iterator[Mapping[str, Any]]:
    """Every pipeline of every layout of Deals (a layout without pipelines answers 204: none)."""
    for layout in reader.layouts(module):
        layout_id = str(layout.get("id"))
        for pipeline in reader.pipelines(layout_id):
            yield {**pipeline, "layout_id": layout_id, "layout_name": layout.get("name")}


def _stages(reader: SettingsReader, module: str) -> Iterator[Mapping[str, Any]]:
    """One row per stage of each pipeline (`maps`), with its pipeline and layout."""
    for pipeline in _pipelines(reader, module):
        stages = pipeline.get("maps")
        for stage in stages if isinstance(stages, list) else ():
            if isinstance(stage, Mapping):
                yield {
                    **stage,
                    "pipeline_id": pipeline.get("id"),
                    "pipeline_name": pipeline.get("display_value"),
                    "pipeline_default": pipeline.get("default"),
                    "layout_id": pipeline.get("layout_id"),
                }
