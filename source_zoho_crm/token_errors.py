"""What a failed answer of Zoho's token endpoint means, read from its structure, never its wording.

Zoho answers token errors with HTTP 200 (or 400) and a body such as `{"error": "invalid_code"}`.
The throttle's `error_description` is localised for some accounts (e.g. Chinese on `.com.cn`), so
it is recognised by its `error` code, by HTTP 429, or by its shape (`"status": "failure"` with an
`error` that is not an OAuth error code). The connector (`auth.py`) and `zoho-crm-auth` both use
this one classification and word the message for their own audience.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["TokenErrorKind", "TokenError", "classify_token_error"]

# OAuth 2.0 error codes are lower-case ASCII words joined by underscores (RFC 6749 §5.2);
# Zoho's throttle uses "Access Denied" instead, and may translate it.
_OAUTH_CODE = re.compile(r"[a-z]+(?:_[a-z]+)*")
_THROTTLE_CODES = frozenset({"access denied"})


class TokenErrorKind(Enum):
    BAD_GRANT = "bad_grant"  # the refresh token or grant code is wrong, used, expired or revoked
    BAD_CLIENT = "bad_client"  # wrong client id or secret, or the client lives in another data centre
    BAD_REDIRECT_URI = "bad_redirect_uri"
    THROTTLED = "throttled"  # too many token requests: wait and retry
    SERVER = "server"  # 5xx, or an unreadable body: retry
    OTHER = "other"  # any other error code: permanent


_BY_CODE: dict[str, TokenErrorKind] = {
    "invalid_code": TokenErrorKind.BAD_GRANT,
    "invalid_token": TokenErrorKind.BAD_GRANT,
    "invalid_grant": TokenErrorKind.BAD_GRANT,
    "invalid_client": TokenErrorKind.BAD_CLIENT,
    "invalid_client_secret": TokenErrorKind.BAD_CLIENT,
    "invalid_redirect_uri": TokenErrorKind.BAD_REDIRECT_URI,
}


@dataclass(frozen=True)
class TokenError:
    kind: TokenErrorKind
    code: str  # Zoho's `error` value as sent ("" when there is none)
    status: int

    @property
    def transient(self) -> bool:
        """Worth retrying after a wait: the throttle and server-side failures."""
        return self.kind in (TokenErrorKind.THROTTLED, TokenErrorKind.SERVER)

    def named(self, message: str) -> str:
        """`message`, written for the usual code of its kind, with the code Zoho actually sent."""
        usual = {TokenErrorKind.BAD_GRANT: "invalid_code", TokenErrorKind.BAD_CLIENT: "invalid_client"}
        canonical = usual.get(self.kind)
        if not canonical or not self.code or self.code == canonical:
            return message
        return message.replace(f"({canonical})", f"({self.code})")

    @property
    def shown(self) -> str:
        """The code for a message: Zoho's `error`, else the HTTP status."""
        return self.code or f"HTTP {self.status}"


def classify_token_error(status: int, body: Any) -> TokenError:
    """Classify a token-endpoint answer that carried no usable token."""
    fields = body if isinstance(body, Mapping) else {}
    raw_code = fields.get("error")
    code = " ".join(str(raw_code).split()) if raw_code not in (None, "") else ""
    if code in _BY_CODE:
        return TokenError(_BY_CODE[code], code, status)
    if status == 429 or code.lower() in _THROTTLE_CODES or _throttle_shape(fields, code):
        return TokenError(TokenErrorKind.THROTTLED, code, status)
    if status >= 500 or not isinstance(body, Mapping):
        return TokenError(TokenErrorKind.SERVER, code, status)
    return TokenError(TokenErrorKind.OTHER, code, status)


def _throttle_shape(fields: Mapping[str, Any], code: str) -> bool:
    """Zoho's throttle body: `status: failure` and an `error` that is not an OAuth error code."""
    status = str(fields.get("status") or "").strip().lower()
    return status == "failure" and bool(code) and not _OAUTH_CODE.fullmatch(code)
