"""`zoho-crm-catalog`: run `discover` and write the configured catalog that `read` takes.

    zoho-crm-catalog --config secrets/config.json [--streams leads,deals] [--full-refresh] > catalog.json

Every stream (or the chosen ones) is configured incrementally where it supports it (append +
dedup on its primary key, with its default cursor), else as a full refresh (overwrite).
Why by hand: the CDK has no command that turns a discovered catalog into a configured one.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

__all__ = ["configured_catalog", "main"]


class CatalogError(ValueError):
    """A stream name the discovered catalog does not have."""


def _configured_stream(stream: AirbyteStream, full_refresh: bool) -> ConfiguredAirbyteStream:
    modes = stream.supported_sync_modes or [SyncMode.full_refresh]
    primary_key = stream.source_defined_primary_key or []
    incremental = not full_refresh and SyncMode.incremental in modes
    if not incremental:
        destination_mode = DestinationSyncMode.overwrite
    else:
        destination_mode = DestinationSyncMode.append_dedup if primary_key else DestinationSyncMode.append
    return ConfiguredAirbyteStream(
        stream=stream,
        sync_mode=SyncMode.incremental if incremental else SyncMode.full_refresh,
        destination_sync_mode=destination_mode,
        cursor_field=list(stream.default_cursor_field or []) if incremental else [],
        primary_key=[list(path) for path in primary_key] or None,
    )


def configured_catalog(
    catalog: AirbyteCatalog, streams: Iterable[str] | None = None, full_refresh: bool = False
) -> dict[str, Any]:
    """The configured catalog (as JSON) for the chosen streams, in the order discover gave them."""
    by_name = {stream.name: stream for stream in catalog.streams}
    wanted = list(dict.fromkeys(s.strip() for s in streams or () if s.strip())) or list(by_name)
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name.lower(), by_name, n=3)
            hints.append(f"'{name}'" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise CatalogError(
            f"--streams: no such stream {', '.join(hints)}. Discovered streams: {', '.join(sorted(by_name))}"
        )
    chosen = set(wanted)
    configured = [_configured_stream(s, full_refresh) for s in catalog.streams if s.name in chosen]
    return dict(ConfiguredAirbyteCatalogSerializer.dump(ConfiguredAirbyteCatalog(streams=configured)))


def _discover(config_path: str) -> AirbyteCatalog:
    from source_zoho_crm.inputs import prepare_config, read_config_file
    from source_zoho_crm.source import SourceZohoCrm
    from source_zoho_crm.token_store import keep_tokens_between_runs

    config = prepare_config(read_config_file(config_path))
    keep_tokens_between_runs(config)  # reuse (and keep) the access token, as `source-zoho-crm` does
    source = SourceZohoCrm(config=config, config_path=None)
    return source.discover(logging.getLogger("airbyte"), config)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoho-crm-catalog",
        description="Discover the org's streams and print a configured catalog for `source-zoho-crm read`.",
    )
    parser.add_argument("--config", required=True, help="the connector's config file (JSON)")
    parser.add_argument("--streams", help="comma-separated stream names (default: every stream)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="read every stream in full (default: incremental)"
    )
    parser.add_argument("-o", "--output", help="write the catalog to this file instead of stdout")
    return parser


def _quiet_logs() -> None:
    """Connector logs go to stderr as plain lines: stdout carries the catalog only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for name in ("airbyte", ""):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_logs()
    try:
        catalog = _discover(args.config)
        chosen = args.streams.split(",") if args.streams else None
        result = configured_catalog(catalog, chosen, args.full_refresh)
    except (AirbyteTracedException, CatalogError) as error:
        print(f"zoho-crm-catalog: {error}", file=sys.stderr)
        return 2 if isinstance(error, CatalogError) else 1
    text = json.dumps(result, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        incremental = sum(s["sync_mode"] == "incremental" for s in result["streams"])
        print(
            f"Wrote {args.output}: {len(result['streams'])} streams, {incremental} incremental.",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
