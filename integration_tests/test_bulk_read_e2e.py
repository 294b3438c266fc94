"""Bulk Read backfill against the emulator: the records Zoho holds, in REST's shape, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.api_client_bulk import BulkReadUnavailable, BulkTransport
from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.bulk_csv import LOOKUP_TYPES, org_zone
from source_zoho_crm.bulk_read import BackfillPosition, BulkReader, exported_fields
from source_zoho_crm.config import parse_config
from source_zoho_crm.credits import CreditMeter
from source_zoho_crm.metadata import ModuleStreamSpec, ZohoMetadata, build_module_spec
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

MODULE = "Leads"  # the realistic preset's Leads carry every data type


def connect(emu: ZohoCrmEmulator, **overrides: Any) -> tuple[ZohoApiClient, ZohoTokenProvider, ZohoMetadata]:
    config = parse_config(emu.config(**overrides))
    tokens = ZohoTokenProvider(config)
    client = ZohoApiClient(config.api_url, tokens, max_concurrent=5)
    return client, tokens, ZohoMetadata(client, config)


def spec_of(metadata: ZohoMetadata) -> ModuleStreamSpec:
    return build_module_spec(MODULE, "leads", metadata.fields(MODULE), include_deleted=False)


def as_bulk_read_gives(record: dict[str, Any], spec: ModuleStreamSpec) -> dict[str, Any]:
    """What REST gives, less what Bulk Read cannot carry (lookup names, subforms, `$` keys)."""
    types = {f["api_name"]: str(f.get("data_type")) for f in spec.fields_metadata}
    shaped: dict[str, Any] = {"id": record["id"]}
    for name in exported_fields(spec):
        value = record.get(name)
        shaped[name] = {"id": value["id"]} if types[name] in LOOKUP_TYPES and value else value
    return shaped


@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    """One realistic org for the module (building it takes seconds); no test changes its records."""
    settings = EmulatorSettings(seed=5, preset="realistic", bulk_page_size=1000, bulk_complete_after=0)
    with ZohoCrmEmulator(settings) as emulator:
        yield emulator


def test_a_backfill_reads_every_record_as_rest_shapes_it(emu: ZohoCrmEmulator) -> None:
    client, tokens, metadata = connect(emu)
    spec = spec_of(metadata)
    meter = CreditMeter()
    reader = BulkReader(
        BulkTransport(client, tokens, meter), spec, org_zone(metadata.org()), sleep=lambda _: None
    )
    emu.reset_stats()

    pages = []
    records: dict[str, dict[str, Any]] = {}
    for page in reader.pages():
        rows = list(page.records)
        pages.append((page.number, len(rows), page.resume_at.page if page.resume_at else None))
        records.update((r["id"], r) for r in rows)

    expected = {r["id"]: as_bulk_read_gives(r, spec) for r in emu.records(MODULE)}
    assert len(expected) > 2000  # three job pages of 1,000
    assert pages == [(1, 1000, 2), (2, 1000, 3), (3, len(expected) - 2000, None)]
    assert records == expected
    calls = emu.stats()["requests_by_endpoint"]
    bulk_calls = {endpoint: n for endpoint, n in calls.items() if "bulk" in endpoint}
    assert sum(bulk_calls.values()) == 3 * 3  # per job: create, one poll (complete at once), download
    assert meter.calls_by_stream()["(metadata)"] == 9


def test_an_interrupted_backfill_resumes_at_the_next_job_page(emu: ZohoCrmEmulator) -> None:
    client, tokens, metadata = connect(emu)
    spec = spec_of(metadata)
    zone = org_zone(metadata.org())
    first = BulkReader(BulkTransport(client, tokens), spec, zone, sleep=lambda _: None).pages()
    page = next(first)
    read = [r["id"] for r in page.records]
    assert page.resume_at is not None
    state = {"bulk_read": page.resume_at.to_state()}
    first.close()  # the sync stops after its checkpoint
    emu.reset_stats()

    position = BackfillPosition.from_state(state)
    resumed = BulkReader(BulkTransport(client, tokens), spec, zone, sleep=lambda _: None)
    read += [r["id"] for p in resumed.pages(position) for r in p.records]

    assert sorted(read) == sorted(r["id"] for r in emu.records(MODULE))
    assert len(read) == len(set(read))  # nothing read twice
    creates = [r for r in emu.stats()["requests"] if r["method"] == "POST" and "bulk" in r["path"]]
    assert len(creates) == 2  # pages 2 and 3 only


def test_without_the_bulk_scope_the_reader_says_to_use_rest(emu: ZohoCrmEmulator) -> None:
    scopes = ["ZohoCRM.modules.READ", "ZohoCRM.settings.READ", "ZohoCRM.org.READ"]
    client, tokens, metadata = connect(emu, refresh_token=emu.new_refresh_token(scopes))
    reader = BulkReader(BulkTransport(client, tokens), spec_of(metadata), org_zone(metadata.org()))
    with pytest.raises(BulkReadUnavailable, match="ZohoCRM.bulk.READ"):
        next(reader.pages())
