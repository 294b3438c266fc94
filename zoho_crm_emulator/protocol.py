"""Transport-neutral request/response objects and Zoho's error envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0  # records carried, for stats


def json_response(obj: Any, status: int = 200, records: int = 0) -> Response:
    return Response(status=status, body=orjson.dumps(obj), records=records)


def empty_response(status: int) -> Response:
    """204/304: no body and no content type, as Zoho sends them."""
    return Response(status=status, body=b"", content_type=None)


def redirect(location: str) -> Response:
    return Response(status=302, body=b"", content_type=None, headers={"Location": location})


class ApiError(Exception):
    """An error answered in Zoho's envelope {"code","details","message","status":"error"}."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def envelope(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "message": self.message, "status": "error"}

    def response(self) -> Response:
        if self.wrapped:
            return json_response({"data": [self.envelope()]}, self.status)
        return json_response(self.envelope(), self.status)

    # The deleted-records API wraps its 400s in {"data": [envelope]} (Zoho's v8 OAS examples,
    # getDeletedRecords 400 INVALID_MODULE / PATTERN_NOT_MATCHED); its 403 NO_PERMISSION is not wrapped.
    wrapped: bool = False


@dataclass
class Request:
    method: str
    path: str  # without the /dc/{region} prefix and without the query string
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_query: str = ""
    dc: str | None = None  # region of a /dc/{region}/ prefix, None for the home data centre
    path_params: dict[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()  # of the access token, once authenticated

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, "INVALID_DATA", "body", {"reason": f"invalid JSON body: {exc}"}) from exc


# Zoho's common errors, shared by several endpoints.
def invalid_module() -> ApiError:
    return ApiError(
        400, "INVALID_MODULE", "the module name given seems to be invalid", {"resource_path_index": 0}
    )


def no_permission(module: str) -> ApiError:
    return ApiError(
        403, "NO_PERMISSION", "permission denied", {"permissions": [f"Crm_Implied_View_{module}"]}
    )


def required_param(name: str) -> ApiError:
    return ApiError(
        400,
        "REQUIRED_PARAM_MISSING",
        "One of the expected parameter is missing",
        {"param_name": name, "param": name},
    )


def invalid_param(name: str, message: str = "invalid data", **details: Any) -> ApiError:
    return ApiError(400, "INVALID_DATA", message, {"param_name": name, **details})


def invalid_url() -> ApiError:
    return ApiError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")
