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

from source_zoho_crm.inputs import prepare_config
from source_zoho_crm.source import SourceZohoCrm
from source_zoho_crm.token_store import keep_tokens_between_runs


def _source(args: list[str]) -> SourceZohoCrm:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    config = SourceZohoCrm.read_config(config_path) if config_path else None
    keep_tokens_between_runs(config)  # the access token outlives this process (token_store.py)
    return SourceZohoCrm(
        catalog=SourceZohoCrm.read_catalog(catalog_path) if catalog_path else None,
        config=config,
        state=SourceZohoCrm.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def _config_problem(args: list[str]) -> AirbyteTracedException | None:
    """A malformed config, named (the CDK meets it in `configure()`, outside `check`'s error handling)."""
    config_path = AirbyteEntrypoint.extract_config(args)
    try:
        prepare_config(SourceZohoCrm.read_config(config_path))
    except AirbyteTracedException as error:
        return error
    return None


def _print(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode())


def run() -> None:
    args = sys.argv[1:]
    if args[:1] == ["check"]:
        # The protocol's answer to `check` on a bad config is a FAILED connection status, not a crash.
        problem = _config_problem(args)
        status = problem.as_connection_status_message() if problem is not None else None
        if status is not None:
            _print(status)
            sys.exit(0)
    try:
        source = _source(args)
    except AirbyteTracedException as error:  # a bad config or state file, named
        _print(error.as_airbyte_message())
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
        _print(trace)
        sys.exit(1)
    launch(source, args)
    # Everything is written and every stream is done: end now instead of spending a few hundred
    # milliseconds joining idle worker threads and tearing down the CDK's modules.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    run()
