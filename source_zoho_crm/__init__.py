"""Airbyte source for Zoho CRM (API v8)."""

from source_zoho_crm.source import SourceZohoCrm

__all__ = ["SourceZohoCrm"]
