"""The connector's documentation page (docs/integrations/sources/zoho-crm.md) keeps up with the code.

- Every property of the spec in manifest.yaml is documented.
- Every data centre of config.DC_REGIONS is documented, with its accounts server and API domain,
  and so is every environment and every scope zoho-crm-auth asks for.
- The changelog table has a row for the latest version (metadata.yaml's dockerImageTag).
- Every message of the catalogue (source_zoho_crm/messages.py) is quoted by the page: each fixed
  part of its template (the text between `{fields}`) is in the page, and the code uses each entry.
- Messages not yet in the catalogue (auth.py, config.py, credentials_cli.py, schema_builder.py,
  cursor.py, run.py): each fragment below must be found in a file under source_zoho_crm/ *and* in
  the page. When a message changes in the code, this test fails until the page (and this list) follows.

Fragments are fixed parts of messages, never interpolated values. In Python files the fragments
are searched in the string literals (adjacent literals joined, as Python joins them; an f-string's
interpolations are a break), so a message split over several source lines is still found.
"""

from __future__ import annotations

import ast
import re
import string
from functools import cache
from pathlib import Path

import pytest
import yaml

from source_zoho_crm import messages
from source_zoho_crm.config import DC_REGIONS, ENVIRONMENTS, accounts_url_for, api_url_for
from source_zoho_crm.scopes import READ_SCOPES

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "integrations" / "sources" / "zoho-crm.md"
PACKAGE = ROOT / "source_zoho_crm"
MANIFEST = PACKAGE / "manifest.yaml"
METADATA = ROOT / "metadata.yaml"

# Marks where an f-string interpolates a value: no fragment may span it.
_HOLE = "\x00"

# Fixed parts of the messages outside the catalogue that the page's Troubleshooting section quotes.
MESSAGE_FRAGMENTS: tuple[str, ...] = (
    # config.py (and run.py around it)
    "Config field '",
    "generate a refresh token with the Self Client in the Zoho API console",
    "must be a string, got ",
    "is not a Zoho data centre; use one of ",
    "com (alias US), eu, in, com.au (alias AU), com.cn (alias CN), jp, ca, sa",
    "is not a Zoho environment; use one of production, sandbox, developer",
    "(the refresh token must come from the same environment)",
    "is not a valid datetime; accepted forms: ",
    "not a module API name; expected ",
    'a list of module API names such as ["Leads", "Contacts"], or a comma-separated string',
    "not a per-record stream; expected ",
    "a list of stream names, each one of: ",
    "is not an integer from 1 to ",
    "leave it empty to use the limit of the org's Zoho edition",
    "is not a valid URL; ",
    "expected http(s)://host[:port][/path], or leave it empty for the data centre's default",
    "the value (hidden: it holds credentials)",
    "the value (hidden: it contains a secret)",
    "is not a boolean; use true or false",
    "The config must be a JSON object, got ",
    "Could not start the Zoho CRM source: ",
    # inputs.py and cursor.py
    "must hold a JSON object such as ",
    "must hold a JSON list of per-stream state messages, e.g. ",
    "holds a legacy state object (keys: ",
    "is not an Airbyte state message",
    "this connector keeps per-stream state",
    "is in the future; using now (",
    # auth.py
    "Zoho says the refresh token is invalid or revoked (invalid_code)",
    "refresh token is invalid or revoked",
    "Zoho says the client id or secret is wrong, or the account is not in data centre",
    "(invalid_client): check `client_id`, `client_secret` and `dc_region`.",
    "Zoho is throttling token requests for this refresh token (at most 10 access tokens per 10 minutes)",
    "wait 10 minutes and try again, and do not run other jobs with the same token.",
    "Could not obtain a Zoho access token: ",
    "the accounts server answered HTTP ",
    "Zoho refused the token request (",
    "Zoho token request ",
    "Retrying in ",
    # schema_builder.py
    "unknown data_type ",
    "; using the widest schema of json_type ",
    "; accepting any value",
    "missing data_type ",
    " with unknown return_type ",
    "Skipping a field without an api_name (data_type ",
    "Field metadata is not an object (",
    # cursor.py
    "The state of stream '",
    "which is not a datetime. Fix the state (e.g. 2025-03-04T11:59:00Z) or reset the stream.",
    # credentials_cli.py (zoho-crm-auth)
    "--client-id is required (or set ",
    "the Client ID in the Zoho API console",
    "the client secret is required: set ",
    "(or pass --client-secret)",
    "--code is required: in the Zoho API console, Self Client > Generate Code",
    " is a directory: give a file name with --output",
    " already exists: pass --force to overwrite it, or choose another --output",
    " does not exist",
    " is not writable",
    "cannot write ",
    "could not reach the Zoho accounts server ",
    "check the network and --dc-region / --accounts-url",
    "Zoho rejected the grant code (invalid_code)",
    "(Self Client codes last 3–10 minutes): make a new one and run again",
    "Zoho rejected the authorization code (invalid_code)",
    "(codes last a few minutes): run the command again",
    "Zoho rejected the client (invalid_client)",
    "check --dc-region (the client lives in the data centre of the API console it was made in",
    "Zoho is throttling token requests (too many requests): wait a few minutes and run again",
    "Zoho rejected the redirect URI (invalid_redirect_uri)",
    "or pass the --port registered there",
    "Zoho returned an access token but no refresh token",
    "no token): check --accounts-url",
    "cannot listen on 127.0.0.1:",
    "free the port or pass another --port",
    "--timeout must be a positive number of seconds",
    " is not a TCP port (0-65535)",
    "no answer from the browser within ",
    "(or use --paste on a machine without a browser)",
    "nothing was pasted: run again and paste the address the browser ended on",
    "you denied consent in the browser (access_denied)",
    "Zoho does not know this client (invalid_client)",
    "Zoho sent the browser back with error ",
    "the redirect's state does not match this run (a stale or foreign redirect)",
    "the redirect has no code: paste the whole address the browser ended on",
    "cannot read ",
    " is not valid JSON",
    " is not a JSON object",
    "a refresh token is required",
    ": pass --refresh-token, --config, or set ",
    "Zoho is throttling requests (too many requests): wait a few minutes and run again",
    "Zoho does not know this refresh token (",
    "it is wrong, already revoked, or from another data centre than ",
    "Zoho refused to revoke the token (",
    "unrecognized arguments (",
    "; please report it",
    "Zoho says the account is in data centre ",
    "Ignoring the redirect's accounts server ",
    "(not a Zoho accounts server)",
    "Could not open a browser: open the address above yourself.",
)


def _one_line(text: str) -> str:
    """Whitespace collapsed, so a fragment may wrap in the page or in the code."""
    return " ".join(text.split())


@cache
def _page() -> str:
    assert PAGE.is_file(), f"{PAGE.relative_to(ROOT)} is missing"
    return _one_line(PAGE.read_text(encoding="utf-8"))


def _string_literals(source: str) -> list[str]:
    """Every string literal of a Python module; an f-string's interpolations become holes."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            parts = (v.value if isinstance(v, ast.Constant) else _HOLE for v in node.values)
            found.append("".join(str(p) for p in parts))
    return found


@cache
def _code_texts() -> tuple[str, ...]:
    """The package's files: their text, and for Python files also their string literals."""
    texts: list[str] = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".yaml", ".yml") or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        if path.suffix == ".py":
            texts.extend(_string_literals(text))
    return tuple(_one_line(text) for text in texts)


def _spec_properties() -> list[str]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return sorted(manifest["spec"]["connection_specification"]["properties"])


def _section(title: str) -> str:
    """The raw lines of one `## title` section of the page (up to the next `## ` heading)."""
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"the page has no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("name", _spec_properties())
def test_every_spec_property_is_documented(name: str) -> None:
    assert f"`{name}`" in _page(), f"spec property {name!r} (manifest.yaml) is not in the docs page"


@pytest.mark.parametrize("dc", DC_REGIONS)
def test_every_data_centre_is_documented(dc: str) -> None:
    page = _page()
    assert f"`{dc}`" in page, f"data centre {dc!r} (config.DC_REGIONS) is not in the docs page"
    assert accounts_url_for(dc) in page, f"the accounts server of {dc!r} is not in the docs page"
    assert api_url_for(dc, "production") in page, f"the API domain of {dc!r} is not in the docs page"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_is_documented(environment: str) -> None:
    assert f"`{environment}`" in _page()


@pytest.mark.parametrize("scope", READ_SCOPES)
def test_every_scope_is_documented(scope: str) -> None:
    assert f"`{scope}`" in _page(), f"scope {scope} (zoho-crm-auth READ_SCOPES) is not in the docs page"


def test_changelog_has_the_latest_version() -> None:
    tag = str(yaml.safe_load(METADATA.read_text(encoding="utf-8"))["data"]["dockerImageTag"])
    rows = [line for line in _section("Changelog").splitlines() if line.startswith("|")]
    assert rows, "the Changelog section has no table"
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header == ["Version", "Date", "Pull Request", "Subject"]
    versions = [row.strip("|").split("|")[0].strip() for row in rows[2:]]
    assert tag in versions, f"dockerImageTag {tag} has no row in the changelog table ({versions})"


def test_fragments_are_distinct() -> None:
    assert len(set(MESSAGE_FRAGMENTS)) == len(MESSAGE_FRAGMENTS)


@pytest.mark.parametrize("fragment", MESSAGE_FRAGMENTS)
def test_error_message_is_in_code_and_docs(fragment: str) -> None:
    wanted = _one_line(fragment)
    assert any(wanted in text for text in _code_texts()), (
        f"{fragment!r} is no longer in any file under source_zoho_crm/: update the docs page "
        "(Troubleshooting) and this list to the new message"
    )
    assert wanted in _page(), f"{fragment!r} is an error message in the code but not in the docs page"


def _fixed_parts(template: str) -> list[str]:
    """The text of a `str.format` template between its fields."""
    return [literal for literal, *_ in string.Formatter().parse(template) if literal.strip()]


@pytest.mark.parametrize(("name", "template"), sorted(messages.catalogue().items()))
def test_catalogued_message_is_in_docs(name: str, template: str) -> None:
    for part in _fixed_parts(template):
        assert _one_line(part) in _page(), (
            f"messages.{name}: {part!r} is not in the docs page: quote the message in Troubleshooting"
        )


@pytest.mark.parametrize("name", sorted(messages.catalogue()))
def test_catalogued_message_is_used(name: str) -> None:
    users = [
        path
        for path in PACKAGE.rglob("*.py")
        if path.name != "messages.py" and f"messages.{name}" in path.read_text(encoding="utf-8")
    ]
    assert users, f"messages.{name} is used nowhere under source_zoho_crm/: remove it"


def test_catalogue_is_not_empty() -> None:
    assert len(messages.catalogue()) >= 25
