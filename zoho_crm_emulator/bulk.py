"""Bulk Read: `POST /crm/bulk/v8/read`, poll `GET .../read/{id}`, download `.../{id}/result` (ZIP of CSV)."""

from __future__ import annotations

import csv
import io
import threading
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import orjson

from .coql import Condition, Group
from .coql_eval import compile_condition
from .oauth import require_scopes
from .protocol import ApiError, Request, Response, json_response
from .record_common import resolve_module
from .settings import EmulatorSettings
from .state import ModuleState, OrgState

COMPARATORS = {
    "equal": "=",
    "not_equal": "!=",
    "greater_than": ">",
    "greater_equal": ">=",
    "less_than": "<",
    "less_equal": "<=",
    "in": "in",
    "not_in": "not in",
    "between": "between",
    "not_between": "not between",
    "contains": "like",
    "not_contains": "not like",
    "starts_with": "like",
    "ends_with": "like",
}
VIRTUAL_ID_BASE = 4_000_000_000_000_000_000  # ids of benchmark-only virtual records
SKIPPED_TYPES = frozenset({"subform", "multiselectlookup", "multiuserlookup", "fileupload", "imageupload"})


@dataclass
class Job:
    id: str
    module: ModuleState
    fields: list[str]
    criteria: Any
    page: int
    created: float
    created_time: str
    created_by: dict[str, str]
    query: dict[str, Any]
    polls: int = 0
    state: str = "ADDED"
    count: int = 0
    more: bool = False
    archive: bytes | None = None


def criteria_to_condition(node: Any) -> Condition | Group:
    """Zoho's criteria JSON -> the COQL condition tree."""
    if not isinstance(node, dict):
        raise ApiError(400, "INVALID_CRITERIA", "invalid criteria", {})
    if "group" in node:
        op = str(node.get("group_operator", "and")).lower()
        if op not in ("and", "or") or not isinstance(node["group"], list) or not node["group"]:
            raise ApiError(400, "INVALID_CRITERIA", "invalid criteria", {"group_operator": op})
        return Group(op, [criteria_to_condition(item) for item in node["group"]])
    field_ref = node.get("field") or {}
    api_name = field_ref.get("api_name") if isinstance(field_ref, dict) else None
    api_name = api_name or node.get("api_name")
    comparator = node.get("comparator")
    if not api_name or comparator not in COMPARATORS:
        raise ApiError(
            400, "INVALID_CRITERIA", "invalid criteria", {"api_name": api_name, "comparator": comparator}
        )
    value = node.get("value")
    op = COMPARATORS[comparator]
    if comparator in ("contains", "not_contains"):
        value = f"%{value}%"
    elif comparator == "starts_with":
        value = f"{value}%"
    elif comparator == "ends_with":
        value = f"%{value}"
    values = value if isinstance(value, list) else [value]
    return Condition(api_name, op, values)


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value.get("id", "")) if "id" in value else orjson.dumps(value).decode()
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return ";".join(value)
        return orjson.dumps(value).decode()
    return str(value)


class BulkApi:
    def __init__(self, state: OrgState, settings: EmulatorSettings):
        self.state = state
        self.settings = settings
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def create(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not body:
            raise ApiError(400, "REQUEST_BODY_IS_EMPTY", "the request body is empty")
        query = body.get("query") or {}
        module_ref = query.get("module") or {}
        name = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
        if not name:
            raise ApiError(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"api_name": "module", "json_path": "$.query.module"},
            )
        require_scopes(req.scopes, ["ZohoCRM.bulk.READ"])
        ms = resolve_module(self.state, req, str(name))
        known = {s.api_name for s in ms.definition.fields}
        fields = [str(f) for f in query.get("fields") or []]
        for f in fields:
            if f not in known and f != "id":
                raise ApiError(
                    400,
                    "INVALID_DATA",
                    "the field given seems to be invalid",
                    {"api_name": f, "json_path": "$.query.fields"},
                )
        if not fields:
            fields = [s.api_name for s in ms.definition.fields if s.data_type not in SKIPPED_TYPES]
        criteria = query.get("criteria")
        condition = criteria_to_condition(criteria) if criteria else None
        if condition is not None:
            compile_condition(self.state, ms, condition)  # validate field names and values now
        page = int(query.get("page") or 1)
        user = self.state.current_user
        created_by = {"id": user["id"], "name": user["full_name"]}
        now = time.time()
        job = Job(
            self.state.ids.take(996),
            ms,
            [f for f in fields if f != "id"],
            condition,
            page,
            now,
            self.state.clock.iso(now) or "",
            created_by,
            {
                "module": {"api_name": ms.api_name, "id": ms.id},
                "page": page,
                "fields": fields,
                **({"criteria": criteria} if criteria else {}),
            },
        )
        with self.lock:
            self.jobs[job.id] = job
        details = {
            "id": job.id,
            "operation": "read",
            "state": "ADDED",
            "created_by": created_by,
            "created_time": job.created_time,
        }
        return json_response(
            {
                "data": [
                    {
                        "status": "success",
                        "code": "ADDED_SUCCESSFULLY",
                        "message": "Added successfully.",
                        "details": details,
                    }
                ],
                "info": {},
            },
            201,
        )

    def _job(self, req: Request) -> Job:
        require_scopes(req.scopes, ["ZohoCRM.bulk.READ"])
        with self.lock:
            job = self.jobs.get(req.path_params["job_id"])
        if job is None:
            raise ApiError(
                404, "RESOURCE_NOT_FOUND", "the requested resource was not found", {"resource": "job"}
            )
        return job

    def status(self, req: Request) -> Response:
        job = self._job(req)
        with self.lock:
            job.polls += 1
            elapsed = time.time() - job.created
            if job.state != "COMPLETED":
                if job.polls >= 2 or elapsed >= self.settings.bulk_complete_after:
                    self._complete(job)
                else:
                    job.state = "IN PROGRESS"
        item: dict[str, Any] = {
            "id": job.id,
            "operation": "read",
            "state": job.state,
            "query": job.query,
            "created_by": job.created_by,
            "created_time": job.created_time,
            "file_type": "csv",
        }
        if job.state == "COMPLETED":
            item["result"] = {
                "page": job.page,
                "count": job.count,
                "per_page": self.settings.bulk_page_size,
                "more_records": job.more,
                "download_url": f"/crm/bulk/v8/read/{job.id}/result",
            }
        return json_response({"data": [item]})

    def _complete(self, job: Job) -> None:
        """Snapshot the matching records into the job's ZIP (records sorted by id)."""
        state, ms = self.state, job.module
        predicate = compile_condition(state, ms, job.criteria) if job.criteria is not None else None
        size = self.settings.bulk_page_size
        with state.lock:
            matching = sorted(
                (e for e in ms.entries.values() if predicate is None or predicate(e)), key=lambda e: e.idn
            )
            rows = [[e.id, *(csv_value(e.rec.get(f)) for f in job.fields)] for e in matching]
        total = max(len(rows), self.settings.bulk_virtual_records) if rows else 0
        first, last = (job.page - 1) * size, min(job.page * size, total)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["Id", *job.fields])
        if total == len(rows):
            writer.writerows(rows[first:last])
        else:  # benchmark only: copies of the real rows under new ids (settings.bulk_virtual_records)
            tails = []
            for row in rows:
                line = io.StringIO()
                csv.writer(line, lineterminator="\n").writerow(row[1:])
                tails.append(line.getvalue())
            for index in range(first, last):
                row_id = rows[index][0] if index < len(rows) else str(VIRTUAL_ID_BASE + index)
                out.write(f"{row_id}{',' if job.fields else ''}{tails[index % len(rows)]}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{job.id}.csv", out.getvalue())
        job.archive = buffer.getvalue()
        job.count = max(0, last - first)
        job.more = job.page * size < total
        job.state = "COMPLETED"

    def result(self, req: Request) -> Response:
        job = self._job(req)
        if job.archive is None:
            raise ApiError(
                400,
                "RESOURCE_NOT_FOUND",
                "the requested resource was not found",
                {"resource": "result", "info_message": "the job is not completed yet"},
            )
        return Response(
            status=200,
            body=job.archive,
            content_type="application/zip",
            headers={"Content-Disposition": f"attachment; filename={job.id}.zip"},
            records=job.count,
        )
