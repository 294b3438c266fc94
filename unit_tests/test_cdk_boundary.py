"""The CDK boundary: no private CDK member used outside cdk_adapter.py, and the adapter works on the
installed CDK (these tests fail loudly when a CDK release changes what the connector relies on)."""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import airbyte_cdk
from airbyte_cdk.models import (
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.streams.concurrent.cursor import FinalStateCursor
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record

from source_zoho_crm.cdk_adapter import ConcurrentEngine, SinglePartition

PACKAGE = Path(__file__).resolve().parents[1] / "source_zoho_crm"
ADAPTER = "cdk_adapter.py"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_names(folder: Path) -> frozenset[str]:
    """Every name the package in `folder` defines: functions, classes, module and class attributes,
    `x._y = ...`."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return frozenset(names)


@cache
def _our_names() -> frozenset[str]:
    return _defined_names(PACKAGE)


@cache
def _cdk_private_names() -> frozenset[str]:
    return frozenset(name for name in _defined_names(Path(airbyte_cdk.__file__).parent) if _is_private(name))


def _cdk_defines(cls: type, name: str) -> bool:
    """Whether a CDK class in `cls`'s MRO defines `name` (as a class attribute or as `self.<name>`)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith("airbyte_cdk"):
            continue
        if name in vars(klass):
            return True
        try:
            if f"self.{name}" in inspect.getsource(klass):
                return True
        except (OSError, TypeError):
            continue
    return False


def cdk_private_uses(source: str, class_of: Callable[[str], type | None], ours: Iterable[str]) -> list[str]:
    """`line: expr` for each access of a CDK object's private attribute in `source`.

    `self._x` in a class deriving from a CDK class is the CDK's when a CDK base defines `_x`; any other
    `obj._x` is the CDK's when the CDK defines a `_x` and our package does not (`os._exit` is neither).
    """
    ours = set(ours)
    found: list[str] = []

    def visit(node: ast.AST, cls: type | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, class_of(child.name))
                continue
            if isinstance(child, ast.Attribute) and _is_private(child.attr):
                on_self = isinstance(child.value, ast.Name) and child.value.id in ("self", "cls")
                if on_self:
                    bad = cls is not None and _cdk_defines(cls, child.attr)
                else:
                    bad = child.attr in _cdk_private_names() and child.attr not in ours
                if bad:
                    found.append(f"{child.lineno}: {ast.unparse(child)}")
            visit(child, cls)

    visit(ast.parse(source), None)
    return found


def _class_resolver(module_name: str) -> Callable[[str], type | None]:
    module = importlib.import_module(module_name)

    def class_of(name: str) -> type | None:
        value = getattr(module, name, None)
        return value if isinstance(value, type) else None

    return class_of


def test_no_private_cdk_member_is_used_outside_the_adapter() -> None:
    problems = []
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == ADAPTER:
            continue
        uses = cdk_private_uses(
            path.read_text(encoding="utf-8"), _class_resolver(f"source_zoho_crm.{path.stem}"), _our_names()
        )
        problems.extend(f"{path.name}:{use}" for use in uses)
    assert not problems, "private CDK members used outside cdk_adapter.py: " + "; ".join(problems)


def test_the_check_finds_what_the_old_source_did() -> None:
    """The accesses source.py made before the adapter existed are all caught."""
    old = """
class SourceZohoCrm(ConcurrentDeclarativeSource):
    def read(self):
        self._zoho_session = 1
        selected = self._select_streams(streams=[], configured_catalog=None)
        queue = self._concurrent_source._queue
        return self._slice_logger, self._message_repository, self._connector_state_manager, self._zoho_session
"""
    found = cdk_private_uses(old, lambda name: ConcurrentDeclarativeSource, {"_zoho_session"})
    assert [use.split(": ")[1] for use in found] == [
        "self._select_streams",
        "self._concurrent_source._queue",
        "self._concurrent_source",
        "self._slice_logger",
        "self._message_repository",
        "self._connector_state_manager",
    ]


# ---- the adapter on the installed CDK ------------------------------------------------------


class _Rows(Partition):
    def __init__(self, name: str, rows: list[Mapping[str, Any]]) -> None:
        self._stream, self._rows = name, rows

    def read(self) -> Iterable[Record]:
        return (Record(data=row, stream_name=self._stream) for row in self._rows)

    def to_slice(self) -> Mapping[str, Any] | None:
        return None

    def stream_name(self) -> str:
        return self._stream

    def __hash__(self) -> int:
        return hash(self._stream)


def _catalog(*names: str) -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=AirbyteStream(name=name, json_schema={}, supported_sync_modes=[SyncMode.full_refresh]),
                sync_mode=SyncMode.full_refresh,
                destination_sync_mode=DestinationSyncMode.overwrite,
            )
            for name in names
        ]
    )


def test_the_engine_reads_streams_on_the_installed_cdk() -> None:
    engine = ConcurrentEngine(1, logging.getLogger("airbyte"))
    stream = DefaultStream(
        partition_generator=SinglePartition(_Rows("things", [{"id": "1"}, {"id": "2"}])),
        name="things",
        json_schema={"type": "object"},
        primary_key=["id"],
        cursor_field=None,
        logger=logging.getLogger("airbyte"),
        cursor=FinalStateCursor("things", None, engine.message_repository),
    )
    messages = list(engine.read([stream], _catalog("things", "missing")))
    records = [m.record.data for m in messages if m.type == Type.RECORD]
    assert records == [{"id": "1"}, {"id": "2"}]
    statuses = {
        (m.trace.stream_status.stream_descriptor.name, m.trace.stream_status.status.name)
        for m in messages
        if m.type == Type.TRACE and m.trace.stream_status
    }
    assert ("things", "COMPLETE") in statuses
    assert ("missing", "INCOMPLETE") in statuses
    assert any(m.type == Type.STATE for m in messages)


def test_the_engine_ends_at_once_without_streams() -> None:
    engine = ConcurrentEngine(3, logging.getLogger("airbyte"))
    messages = list(engine.read([], _catalog("missing")))
    assert [m.trace.stream_status.status.name for m in messages] == ["INCOMPLETE"]
