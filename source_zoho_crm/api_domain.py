"""The org's API host named by Zoho's token response (`api_domain`), in the config's environment."""

from __future__ import annotations

from urllib.parse import urlsplit

from source_zoho_crm.config import api_url_for


def api_url_from_domain(api_domain: str | None, environment: str) -> str | None:
    """The API base URL for a token's `api_domain` (`https://www.zohoapis.eu`), in the config's
    environment (`https://sandbox.zohoapis.eu` for a sandbox); None when it is not an http(s) URL."""
    if not isinstance(api_domain, str) or not api_domain.strip():
        return None
    try:
        parts = urlsplit(api_domain.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    if parts.path.strip("/") or parts.query or parts.fragment:
        return None
    prefix = (urlsplit(api_url_for("com", environment)).hostname or "www").split(".", 1)[0]
    if host.startswith("www.zohoapis.") and prefix != "www":
        host = f"{prefix}.{host[len('www.') :]}"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port else "")


def dc_of_api_url(api_url: str | None) -> str | None:
    """The data centre of a Zoho API URL (`https://www.zohoapis.eu` → `eu`), else None."""
    host = urlsplit(api_url).hostname if api_url else None
    if not host or ".zohoapis." not in host:
        return None
    return host.split(".zohoapis.", 1)[1]
