"""Token errors are classified by structure (code, status, shape), never by English text."""

from __future__ import annotations

from typing import Any

import pytest

from source_zoho_crm.token_errors import TokenErrorKind, classify_token_error

ENGLISH_THROTTLE = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"error": "invalid_code"}, TokenErrorKind.BAD_GRANT),
        (400, {"error": "invalid_token"}, TokenErrorKind.BAD_GRANT),
        (200, {"error": "invalid_client"}, TokenErrorKind.BAD_CLIENT),
        (200, {"error": "invalid_client_secret"}, TokenErrorKind.BAD_CLIENT),
        (200, {"error": "invalid_redirect_uri"}, TokenErrorKind.BAD_REDIRECT_URI),
        (200, ENGLISH_THROTTLE, TokenErrorKind.THROTTLED),
        (400, ENGLISH_THROTTLE, TokenErrorKind.THROTTLED),
        # localised description: the code still says it
        (
            200,
            {**ENGLISH_THROTTLE, "error_description": "您的请求过于频繁，请稍后再试。"},
            TokenErrorKind.THROTTLED,
        ),
        # code and description localised: the shape says it
        (
            400,
            {"error": "拒绝访问", "error_description": "请求过多", "status": "failure"},
            TokenErrorKind.THROTTLED,
        ),
        (200, {"error": "Accès refusé", "status": "failure"}, TokenErrorKind.THROTTLED),
        (429, {"error": "rate_limited"}, TokenErrorKind.THROTTLED),
        (429, None, TokenErrorKind.THROTTLED),
        (500, None, TokenErrorKind.SERVER),
        (502, {"error": "internal_error"}, TokenErrorKind.SERVER),
        (503, {"status": "failure"}, TokenErrorKind.SERVER),
        (200, None, TokenErrorKind.SERVER),  # unreadable body
        (200, [1, 2], TokenErrorKind.SERVER),
        (200, {"error": "unsupported_grant_type"}, TokenErrorKind.OTHER),
        # an OAuth code with status failure is not the throttle
        (200, {"error": "invalid_scope", "status": "failure"}, TokenErrorKind.OTHER),
        # English words alone decide nothing
        (
            200,
            {"error": "x", "error_description": "Token creation throttle limit reached"},
            TokenErrorKind.OTHER,
        ),
        (400, {}, TokenErrorKind.OTHER),
    ],
)
def test_classification(status: int, body: Any, kind: TokenErrorKind) -> None:
    problem = classify_token_error(status, body)
    assert problem.kind is kind
    assert problem.transient == (kind in (TokenErrorKind.THROTTLED, TokenErrorKind.SERVER))


def test_named_puts_the_code_zoho_sent() -> None:
    problem = classify_token_error(200, {"error": "invalid_client_secret"})
    assert (
        problem.named("wrong client (invalid_client): check") == "wrong client (invalid_client_secret): check"
    )
    same = classify_token_error(200, {"error": "invalid_client"})
    assert same.named("wrong client (invalid_client): check") == "wrong client (invalid_client): check"
    assert classify_token_error(503, None).shown == "HTTP 503"


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (200, {"error": "  invalid_code \n"}, TokenErrorKind.BAD_GRANT, "invalid_code"),
        (200, {"error": "Access   Denied"}, TokenErrorKind.THROTTLED, "Access Denied"),  # code alone
        (200, {"error": "ACCESS DENIED"}, TokenErrorKind.THROTTLED, "ACCESS DENIED"),
        (500, {"error": "internal_error"}, TokenErrorKind.SERVER, "internal_error"),
        (500, {}, TokenErrorKind.SERVER, ""),
        (400, {"error": "unsupported_grant_type"}, TokenErrorKind.OTHER, "unsupported_grant_type"),
    ],
)
def test_the_code_and_status_zoho_sent_are_kept(
    status: int, body: Any, kind: TokenErrorKind, code: str
) -> None:
    problem = classify_token_error(status, body)
    assert (problem.kind, problem.code, problem.status) == (kind, code, status)
    assert problem.shown == (code or f"HTTP {status}")


def test_named_puts_the_grant_code_zoho_sent() -> None:
    problem = classify_token_error(200, {"error": "invalid_grant"})
    assert problem.named("bad token (invalid_code): renew") == "bad token (invalid_grant): renew"
