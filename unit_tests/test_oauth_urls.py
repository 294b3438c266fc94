"""The platform OAuth button's consent and token URLs (manifest `advanced_auth`) for every data centre.

The platform renders them with Jinja (Airbyte's declarative OAuth docs); Jinja2 renders them here the same
way, for every accepted `dc_region` spelling, and the host must be the data centre's accounts server.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jinja2
import pytest

from source_zoho_crm.data_centres import DC_REGIONS, accounts_url_for
from source_zoho_crm.scopes import READ_SCOPES
from source_zoho_crm.source import load_manifest

SPEC = load_manifest()["spec"]
OAUTH = SPEC["advanced_auth"]["oauth_config_specification"]["oauth_connector_input_specification"]
REDIRECT = "https://cloud.airbyte.com/auth_flow"
VARIABLES = {
    "client_id_key": "client_id",
    "client_id_value": "1000.CLIENT",
    "client_secret_key": "client_secret",
    "client_secret_value": "s3cret",
    "redirect_uri_key": "redirect_uri",
    "redirect_uri_value": REDIRECT,
    "scope_key": "scope",
    "scope_value": OAUTH["scope"],
    "state_key": "state",
    "state_value": "st4te",
    "auth_code_key": "code",
    "auth_code_value": "1000.code",
}
# Every value the spec's enum offers, the other letter cases `normalize_dc` accepts, and no value at all.
SPELLINGS = sorted(
    {*SPEC["connection_specification"]["properties"]["dc_region"]["enum"], *(d.upper() for d in DC_REGIONS)}
)


def render(template: str, **variables: str) -> str:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(**variables)


@pytest.mark.parametrize("dc_region", SPELLINGS)
def test_consent_url_goes_to_the_accounts_server_of_every_data_centre(dc_region: str) -> None:
    url = render(OAUTH["consent_url"], **VARIABLES, dc_region=dc_region)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == accounts_url_for(dc_region)
    assert parts.path == "/oauth/v2/auth"
    query = {key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()}
    assert query == {
        "response_type": "code",
        "client_id": "1000.CLIENT",
        "redirect_uri": REDIRECT,
        "scope": " ".join(READ_SCOPES),
        "state": "st4te",
        "access_type": "offline",
        "prompt": "consent",
    }


@pytest.mark.parametrize("dc_region", SPELLINGS)
def test_token_url_goes_to_the_same_accounts_server(dc_region: str) -> None:
    url = render(OAUTH["access_token_url"], **VARIABLES, dc_region=dc_region)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == accounts_url_for(dc_region)
    assert parts.path == "/oauth/v2/token"
    query = {key: values[0] for key, values in parse_qs(parts.query, strict_parsing=True).items()}
    assert query == {
        "grant_type": "authorization_code",
        "client_id": "1000.CLIENT",
        "client_secret": "s3cret",
        "code": "1000.code",
        "redirect_uri": REDIRECT,
    }


def test_ca_and_the_legacy_aliases() -> None:
    hosts = {
        dc: urlsplit(render(OAUTH["consent_url"], **VARIABLES, dc_region=dc)).netloc
        for dc in ("ca", "CA", "US", "AU", "CN", "uk")
    }
    assert hosts == {
        "ca": "accounts.zohocloud.ca",
        "CA": "accounts.zohocloud.ca",
        "US": "accounts.zoho.com",
        "AU": "accounts.zoho.com.au",
        "CN": "accounts.zoho.com.cn",
        "uk": "accounts.zoho.uk",
    }


@pytest.mark.parametrize("dc_region", [None, ""])
def test_no_data_centre_is_the_default_com(dc_region: str | None) -> None:
    variables = VARIABLES if dc_region is None else {**VARIABLES, "dc_region": dc_region}
    template = jinja2.Environment().from_string(OAUTH["consent_url"])  # an absent value is undefined
    assert urlsplit(template.render(**variables)).netloc == "accounts.zoho.com"
