"""The `source-zoho-crm` command: the Airbyte protocol verbs spec, check, discover, read."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime, timezone

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    TraceType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_crm.source import SourceZohoCrm


def _source(args: list[str]) -> SourceZohoCrm:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceZohoCrm(
        catalog=SourceZohoCrm.read_catalog(catalog_path) if catalog_path else None,
        config=SourceZohoCrm.read_config(config_path) if config_path else None,
        state=SourceZohoCrm.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def run() -> None:
    args = sys.argv[1:]
    try:
        source = _source(args)
    except AirbyteTracedException as error:  # a bad config or state file, named
        print(orjson.dumps(AirbyteMessageSerializer.dump(error.as_airbyte_message())).decode())
        sys.exit(1)
    except Exception as error:  # a trace message, not a stack trace on stdout
        trace = AirbyteMessage(
            type=Type.TRACE,
            trace=AirbyteTraceMessage(
                type=TraceType.ERROR,
                emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
                error=AirbyteErrorTraceMessage(
                    message=f"Could not start the Zoho CRM source: {error}",
                    stack_trace=traceback.format_exc(),
                ),
            ),
        )
        print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode())
        sys.exit(1)
    launch(source, args)
    # Everything is written and every stream is done: end now instead of spending a few hundred
    # milliseconds joining idle worker threads and tearing down the CDK's modules.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run()
