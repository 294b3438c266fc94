"""The one function that assembles the streams, for discover (every stream) and read (the catalog's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.bulk_backfill import SyncTools
from source_zoho_crm.child_streams import build_child_stream
from source_zoho_crm.config import ZohoConfig
from source_zoho_crm.metadata import ZohoMetadata
from source_zoho_crm.metadata_streams import (
    api_metadata_streams,
    cached_metadata_streams,
    deleted_records_stream,
)
from source_zoho_crm.module_stream import build_module_stream
from source_zoho_crm.related_specs import plan, specs_for_parent
from source_zoho_crm.related_streams import build_related_stream, warn_unknown_parents
from source_zoho_crm.settings_streams import settings_streams

DELETED_RECORDS = "deleted_records"


@dataclass
class ZohoSession:
    """What every command shares: the parsed config, the one token, the one client, the metadata cache."""

    config: ZohoConfig
    tokens: ZohoTokenProvider
    client: ZohoApiClient
    metadata: ZohoMetadata
    tools: SyncTools | None = None  # set by `read`: the sync's credit meter and Bulk Read


def build_streams(
    zoho: ZohoSession,
    selection: Mapping[str, SyncMode] | None,
    state_manager: ConnectorStateManager,
    repository: MessageRepository,
) -> list[AbstractStream]:
    """The streams named in `selection` (name -> sync mode), or every stream when it is None (discover).

    Metadata streams first, then each module followed by its subform streams. Only the modules a
    selection needs have their fields fetched; subform streams come from their parent's spec.
    """

    def wanted(name: str) -> bool:
        return selection is None or name in selection

    def mode(name: str) -> SyncMode:
        return (selection or {}).get(name, SyncMode.incremental)

    metadata, client = zoho.metadata, zoho.client
    streams: list[AbstractStream] = [
        *api_metadata_streams(client, repository),
        *cached_metadata_streams(metadata, repository),
        *settings_streams(client, metadata, repository),
    ]
    metadata_names = {stream.name for stream in streams} | {DELETED_RECORDS}
    streams = [stream for stream in streams if wanted(stream.name)]
    if wanted(DELETED_RECORDS):
        streams.append(
            deleted_records_stream(metadata, client, mode(DELETED_RECORDS), state_manager, repository)
        )
    # Per-record streams (opt-in): their parents' fields are fetched, the parents are not emitted.
    related = {name: parent for name, parent in plan(zoho.config.per_record_streams).items() if wanted(name)}
    module_names = None if selection is None else set(selection) - metadata_names - set(related)
    if module_names is not None:
        module_names |= {parent for parent, _ in related.values()}
    if module_names is not None and not module_names:
        return streams
    discover = selection is None
    start = zoho.config.start_datetime
    if zoho.tools is not None and selection is not None:
        # Streams read from the beginning ask Zoho's count first: ask it now, beside the field metadata.
        zoho.tools.prefetch_counts(
            {
                module: name
                for module, name in metadata.module_stream_names().items()
                if name in selection
                and (
                    mode(name) != SyncMode.incremental
                    or (start is None and not state_manager.get_stream_state(name, None))
                )
            }
        )
    include_deleted = zoho.config.include_deleted
    parents_found: set[str] = set()
    for spec in metadata.module_streams(only=module_names, with_subform_schemas=discover):
        if wanted(spec.stream_name):
            name = spec.stream_name
            streams.append(
                build_module_stream(
                    spec,
                    client,
                    mode(name),
                    state_manager,
                    repository,
                    start,
                    include_deleted=include_deleted,
                    tools=zoho.tools,
                    formula_refresh_days=zoho.config.formula_refresh_days,
                )
            )
        # A child stream's lines are read only when it is selected (its subform module's fields too).
        streams.extend(
            build_child_stream(child, client, mode(child.stream_name), state_manager, repository, start)
            for child in metadata.subform_streams(spec, wanted)
        )
        for related_spec in specs_for_parent(spec, related):
            parents_found.add(related_spec.stream_name)
            name = related_spec.stream_name
            streams.append(
                build_related_stream(related_spec, client, mode(name), state_manager, repository, start)
            )
    warn_unknown_parents(related, parents_found)
    return streams
