"""Reads a module with COQL where COQL gives the REST records for fewer credits: 2,000 records a call
(3 credits) whatever the width, keyset paging on (Modified_Time, id) with no 100,000 ceiling.

Why a component: the CDK has no query-language paginator, and its fallbacks are per request, not "read
the rest of this module another way". The pages keep module_reader's Page contract, so module_stream.py
consumes them unchanged; where Zoho refuses COQL (scope, limits, query) the read goes on over REST from
the last record emitted, with a log line naming the module and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from source_zoho_crm import messages
from source_zoho_crm.api_client import ZohoApiClient
from source_zoho_crm.api_client_bulk import BulkTransport
from source_zoho_crm.coql_query import CoqlMismatch, CoqlPlan, coql_plan, display_field_of
from source_zoho_crm.coql_users import UserDirectory
from source_zoho_crm.credits import coql_credits
from source_zoho_crm.errors import ZohoError
from source_zoho_crm.metadata import ModuleStreamSpec
from source_zoho_crm.module_reader import ModuleReader, Page
from source_zoho_crm.module_requests import cursor_instant
from source_zoho_crm.settings import (
    COQL_FIRST_ROWS,
    COQL_PATH,
    COQL_REFUSED_CODES,
    COQL_ROWS,
    MODIFIED_TIME,
    SCOPE_MISMATCH_CODE,
)

if TYPE_CHECKING:
    from source_zoho_crm.bulk_backfill import SyncTools

logger = logging.getLogger("airbyte")


class CoqlReader:
    """Pages of one module by COQL, ascending (Modified_Time, id); incremental reads start at `start`
    (inclusive) and checkpoint every page. Any refusal hands the rest of the read to REST."""

    rows = COQL_ROWS
    # An incremental read's first call asks 200 rows (1 credit, as a REST page): a quiet sync costs 1,
    # not 3; once a call comes back full, the rest go at `rows` (3 credits per 2,000).
    first_rows = COQL_FIRST_ROWS

    def __init__(
        self,
        client: ZohoApiClient,
        transport: BulkTransport,
        spec: ModuleStreamSpec,
        plan: CoqlPlan,
        *,
        incremental: bool,
        start: datetime | None = None,
        rest: Callable[[bool, datetime | None], ModuleReader] | None = None,
        directory: UserDirectory | None = None,
    ) -> None:
        self._client = client
        self._transport = transport
        self._spec = spec
        self._plan = plan
        self._incremental = incremental
        self._start = start if incremental else None
        self._rest = rest or (lambda inc, since: ModuleReader(client, spec, incremental=inc, start=since))
        self._fallback: ModuleReader | None = None
        self.expected: int | None = None
        self.calls = 0
        self._server_time: datetime | None = None
        self._directory = directory or UserDirectory()

    @property
    def requests(self) -> int:
        return self.calls + (self._fallback.requests if self._fallback else 0)

    @property
    def server_time(self) -> datetime | None:
        """Zoho's clock at the first answer of this read."""
        if self._server_time is None and self._fallback is not None:
            return self._fallback.server_time
        return self._server_time

    def pages(self) -> Iterator[Page]:
        module = self._spec.api_name
        after: tuple[str, str] | None = None
        since = coql_instant(self._start) if self._start else None
        last: datetime | None = None  # Modified_Time of the last record emitted
        try:
            users: Mapping[str, Mapping[str, Any]] | None = None  # asked once COQL answered with rows
            with_deleted = False
            limit = min(self.first_rows, self.rows) if since is not None else self.rows
            while True:
                body, date = self._transport.post_json_dated(
                    COQL_PATH,
                    {"select_query": self._plan.query(after, since, limit)},
                    what=f"module {module}",
                    credits=coql_credits(limit),
                )
                self.calls += 1
                self._server_time = self._server_time or date
                rows = [r for r in body.get("data") or [] if isinstance(r, Mapping)]
                if not rows:
                    return
                if users is None:
                    users = self._users(deleted=False) if self._plan.user_lookups else {}
                try:
                    records = [self._plan.record(row, users) for row in rows]
                except CoqlMismatch:  # an owner may be a deleted user, which AllUsers leaves out
                    if with_deleted:
                        raise
                    users, with_deleted = self._users(deleted=True), True
                    records = [self._plan.record(row, users) for row in rows]
                stamp, last_id = rows[-1].get(MODIFIED_TIME), rows[-1].get("id")
                newest = cursor_instant(stamp)
                if not isinstance(stamp, str) or newest is None or last_id is None:
                    raise CoqlMismatch(f"a row without {MODIFIED_TIME} or id")
                last = newest
                yield Page(records, newest, checkpoint=self._incremental)
                info = body.get("info") or {}
                if not info.get("more_records") or len(rows) < limit:
                    return
                after, limit = (stamp, str(last_id)), self.rows
        except (ZohoError, CoqlMismatch) as refused:
            code = getattr(refused, "code", None)
            if isinstance(refused, ZohoError) and code not in COQL_REFUSED_CODES:
                raise
            reason = code or str(refused)
            logger.warning(messages.COQL_FELL_BACK.format(module=module, reason=reason))
            if code == SCOPE_MISMATCH_CODE:
                logger.warning(messages.COQL_SCOPE_MISSING)
        yield from self._rest_from(last)

    def _users(self, *, deleted: bool) -> Mapping[str, Mapping[str, Any]]:
        try:
            return self._directory.users(self._client, deleted=deleted)
        except ZohoError as refused:  # e.g. no ZohoCRM.users.READ: not a COQL scope problem
            raise CoqlMismatch(f"the org's user list was refused ({refused.code or refused})") from None

    def _rest_from(self, last: datetime | None) -> Iterator[Page]:
        """The rest of the read over REST: from the last record emitted (inclusive, so none is lost),
        or as REST reads it from the beginning."""
        reader = self._rest(self._incremental, self._start) if last is None else self._rest(True, last)
        reader.expected = self.expected
        self._fallback = reader
        for page in reader.pages():
            if not self._incremental:
                page.checkpoint = False
            yield page


def choose_reader(
    client: ZohoApiClient,
    spec: ModuleStreamSpec,
    *,
    incremental: bool,
    start: datetime | None,
    tools: SyncTools | None,
) -> ModuleReader | CoqlReader:
    """COQL where it yields the REST records for fewer credits (coql_query.py says when), else REST; one
    log line per module says which and why."""
    rest = ModuleReader(client, spec, incremental=incremental, start=start)
    if tools is None or tools.tokens is None or tools.fields is None:
        return rest
    fields = tools.fields

    def display_field(module: str) -> str | None:
        try:
            return display_field_of(fields(module))
        except ZohoError:
            return None

    kinds = (
        {str(m.get("api_name")): m.get("generated_type") for m in tools.modules()} if tools.modules else {}
    )
    plan, reason = coql_plan(spec, display_field, kinds.get(spec.api_name))
    if plan is None:
        logger.info(messages.COQL_NOT_USED.format(module=spec.api_name, reason=reason))
        return rest
    logger.info(messages.COQL_USED.format(module=spec.api_name, rows=COQL_ROWS))
    return CoqlReader(
        client,
        tools.complex_transport(),
        spec,
        plan,
        incremental=incremental,
        start=start,
        directory=tools.user_directory,
    )


def coql_instant(instant: datetime) -> str:
    """A datetime literal COQL compares with (whole seconds, UTC offset); truncation keeps it inclusive."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")
