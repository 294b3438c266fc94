"""Errors the connector raises, each with a message a user can act on (never a secret)."""

from __future__ import annotations

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


class ZohoError(AirbyteTracedException):
    """Base class: the message is shown to the user as is."""

    failure_type = FailureType.system_error

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message=message, internal_message=message, failure_type=self.failure_type)
        self.code = code
        self.status = status

    def __str__(self) -> str:
        return self.message or ""


class ZohoAuthError(ZohoError):
    """The token request failed: bad refresh token, wrong client or data centre, throttled."""

    failure_type = FailureType.config_error


class ZohoAccessError(ZohoError):
    """The token may not read something: a missing scope (401) or a profile without permission (403)."""

    failure_type = FailureType.config_error


class ZohoInvalidModuleError(ZohoError):
    """Zoho says the module does not exist or is not API-supported (400 INVALID_MODULE)."""

    failure_type = FailureType.config_error


class ZohoApiError(ZohoError):
    """Any other error answer from Zoho, or a transient failure that outlived its retries."""


class ZohoStateError(ZohoError):
    """The state given to `read` cannot be understood."""

    failure_type = FailureType.config_error
