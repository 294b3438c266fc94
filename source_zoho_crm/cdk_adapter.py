"""The one place that wires our streams into the CDK's concurrent engine, with public CDK classes only.

Why a component: ConcurrentDeclarativeSource.read() reads the streams through a message repository and
a state manager it keeps private; our streams (every stream, built in Python) need both, so the engine
is assembled here from the same public pieces. unit_tests/test_cdk_boundary.py fails loudly when a CDK
release changes any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from queue import Queue
from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, ConfiguredAirbyteCatalog, Level
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository
from airbyte_cdk.sources.message.repository import InMemoryMessageRepository, MessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.partition_generator import PartitionGenerator
from airbyte_cdk.sources.utils.slice_logger import DebugSliceLogger
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message

# As the CDK sizes it: the main thread drains records while at most this many wait.
QUEUE_SIZE = 10_000


class ConcurrentEngine:
    """The CDK's ConcurrentSource with `workers` threads, and the message repository streams log to."""

    def __init__(self, workers: int, logger: logging.Logger) -> None:
        workers = max(2, workers)  # one thread generates partitions, at least one reads them
        queue: Queue = Queue(maxsize=QUEUE_SIZE)
        self.message_repository: MessageRepository = ConcurrentMessageRepository(
            queue, InMemoryMessageRepository(Level.INFO)
        )
        self._source = ConcurrentSource.create(
            num_workers=workers,
            initial_number_of_partitions_to_generate=max(1, workers // 2),
            logger=logger,
            slice_logger=DebugSliceLogger(),
            message_repository=self.message_repository,
            queue=queue,
        )

    def read(
        self, streams: Iterable[AbstractStream], catalog: ConfiguredAirbyteCatalog
    ) -> Iterator[AirbyteMessage]:
        """The catalog's streams in its order; a stream the source does not have ends INCOMPLETE."""
        by_name = {stream.name: stream for stream in streams}
        selected = []
        for configured in catalog.streams:
            stream = by_name.get(configured.stream.name)
            if stream is None:
                yield as_airbyte_message(configured.stream, AirbyteStreamStatus.INCOMPLETE)
            else:
                selected.append(stream)
        if selected:  # the CDK's engine never ends when given no stream
            yield from self._source.read(selected)


def warn(repository: MessageRepository, text: str) -> None:
    """A WARN log message through the stream's message repository (shown by the platform)."""
    repository.log_message(Level.WARN, lambda: {"message": text})


class WholeStreamPartition(Partition):
    """A stream read as one partition: no slice, named and hashed by the stream (subclasses set `_name`)."""

    _name: str

    def to_slice(self) -> Mapping[str, Any] | None:
        return None

    def stream_name(self) -> str:
        return self._name

    def __hash__(self) -> int:
        return hash(self._name)


class SinglePartition(PartitionGenerator):
    """A stream read as one partition (a module is one page-token chain, or a few in a row)."""

    def __init__(self, partition: Partition) -> None:
        self._partition = partition

    def generate(self) -> Iterable[Partition]:
        yield self._partition
