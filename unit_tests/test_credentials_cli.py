"""Tests for source_zoho_crm.credentials (the ``zoho-crm-auth`` command)."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import requests_mock as requests_mock_module

from source_zoho_crm.config import DC_REGIONS, accounts_url_for, parse_config
from source_zoho_crm.credentials import (
    callback,
    commands,
    consent_url,
    dc_for_accounts_server,
    main,
    parse_redirect,
)
from source_zoho_crm.scopes import READ_SCOPES

CLIENT_ID = "1000.CLIENTIDABCDEFGHIJKLMNOP"
CLIENT_SECRET = "s3cr3t-client-secret-0123456789"
CODE = "1000.grantcode0123456789abcdef.fedcba9876543210"
REFRESH_TOKEN = "1000.refresh0123456789abcdef.fedcba9876543210"
ACCESS_TOKEN = "1000.access0123456789abcdef.0123456789abcdef"
SECRETS = (CLIENT_SECRET, CODE, REFRESH_TOKEN, ACCESS_TOKEN)
STATE = "fixed-state-for-tests-0123"
US_TOKEN = "https://accounts.zoho.com/oauth/v2/token"
EU_TOKEN = "https://accounts.zoho.eu/oauth/v2/token"
GOOD_BODY = {
    "access_token": ACCESS_TOKEN,
    "refresh_token": REFRESH_TOKEN,
    "api_domain": "https://www.zohoapis.com",
    "token_type": "Bearer",
    "expires_in": 3600,
}
EU_BODY = {**GOOD_BODY, "api_domain": "https://www.zohoapis.eu"}
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(callback, "new_state", lambda: STATE)


@pytest.fixture
def mock() -> Any:
    with requests_mock_module.Mocker() as mocker:
        yield mocker


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def self_client(output: Path, *extra: str) -> list[str]:
    return [
        "self-client",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--code",
        CODE,
        "--output",
        str(output),
        *extra,
    ]


def form_of(request: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.text).items()}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- constants and pure helpers --------------------------------------------------------------------------


def test_read_scopes_are_the_connectors_read_only_set() -> None:
    assert READ_SCOPES == (
        "ZohoCRM.modules.READ",
        "ZohoCRM.settings.modules.READ",
        "ZohoCRM.settings.fields.READ",
        "ZohoCRM.org.READ",
        "ZohoCRM.users.READ",
        "ZohoCRM.settings.roles.READ",
        "ZohoCRM.settings.profiles.READ",
        "ZohoCRM.settings.territories.READ",
        "ZohoCRM.settings.currencies.READ",
        "ZohoCRM.settings.layouts.READ",
        "ZohoCRM.settings.pipeline.READ",
        "ZohoCRM.settings.custom_views.READ",
        "ZohoCRM.settings.tags.READ",
    )
    assert all(scope.endswith(".READ") for scope in READ_SCOPES)


def test_consent_url_content() -> None:
    url = consent_url("https://accounts.zoho.eu/", CLIENT_ID, "http://localhost:33333/callback", STATE)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "accounts.zoho.eu", "/oauth/v2/auth")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "scope": ",".join(READ_SCOPES),
        "redirect_uri": "http://localhost:33333/callback",
        "access_type": "offline",
        "prompt": "consent",
        "state": STATE,
    }


@pytest.mark.parametrize("dc", DC_REGIONS)
def test_dc_for_every_accounts_server(dc: str) -> None:
    assert dc_for_accounts_server(accounts_url_for(dc)) == dc
    assert dc_for_accounts_server(accounts_url_for(dc) + "/") == dc


@pytest.mark.parametrize(
    ("url", "dc"),
    [
        ("https://accounts.zoho.eu", "eu"),
        ("https://ACCOUNTS.ZOHO.EU", "eu"),
        ("https://accounts.zoho.com.au", "com.au"),
        ("https://accounts.zohocloud.ca", "ca"),
        ("http://accounts.zoho.eu", None),  # not https
        ("https://accounts.zoho.eu/evil", None),
        ("https://accounts.zoho.eu:8443", None),
        ("https://accounts.zoho.eu.example.com", None),
        ("http://127.0.0.1:8080", None),
        ("https://evil.example", None),
        ("", None),
        (None, None),
        ("https://[bad", None),
    ],
)
def test_dc_for_accounts_server(url: str | None, dc: str | None) -> None:
    assert dc_for_accounts_server(url) == dc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "http://localhost:33333/callback?state=s&code=c&location=eu&accounts-server=https%3A%2F%2Faccounts.zoho.eu",
            {"state": "s", "code": "c", "location": "eu", "accounts-server": "https://accounts.zoho.eu"},
        ),
        ("  http://localhost:33333/callback?code=c&state=s#frag \n", {"code": "c", "state": "s"}),
        ("?error=access_denied&state=s", {"error": "access_denied", "state": "s"}),
        ("code=c&state=s", {"code": "c", "state": "s"}),
        ("http://localhost:33333/callback", {}),
        ("nonsense", {}),
        ("", {}),
    ],
)
def test_parse_redirect(text: str, expected: dict[str, str]) -> None:
    assert parse_redirect(text) == expected


# --- self-client -------------------------------------------------------------------------------------------


def test_self_client_writes_config_0600(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    output = tmp_path / "config.json"
    code, out, err = run(capsys, *self_client(output))
    assert code == 0, err
    assert out.strip() == f"Wrote {output} (data centre com, environment production)"
    assert err == ""
    assert_no_secret(out, err)
    assert mode_of(output) == 0o600
    config = json.loads(output.read_text())
    assert config == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "dc_region": "com",
        "environment": "production",
    }
    parse_config(config)  # the connector accepts it as is
    assert mock.call_count == 1
    assert form_of(mock.last_request) == {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": CODE,
    }


def test_self_client_dc_alias_and_environment(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(EU_TOKEN, json=EU_BODY)
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *self_client(output, "--dc-region", " EU ", "--environment", "sandbox"))
    assert code == 0, err
    assert "(data centre eu, environment sandbox)" in out
    config = json.loads(output.read_text())
    assert (config["dc_region"], config["environment"]) == ("eu", "sandbox")
    assert "accounts_url" not in config and "api_url" not in config


def test_self_client_overridden_urls_are_written(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post("http://127.0.0.1:9999/zoho/oauth/v2/token", json=GOOD_BODY)
    output = tmp_path / "c.json"
    argv = self_client(
        output, "--accounts-url", "http://127.0.0.1:9999/zoho/", "--api-url", "http://127.0.0.1:9999"
    )
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    config = json.loads(output.read_text())
    assert config["accounts_url"] == "http://127.0.0.1:9999/zoho"
    assert config["api_url"] == "http://127.0.0.1:9999"
    assert parse_config(config).accounts_url == "http://127.0.0.1:9999/zoho"


def test_default_urls_given_explicitly_are_not_written(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(EU_TOKEN, json=EU_BODY)
    output = tmp_path / "c.json"
    argv = self_client(
        output,
        "--dc-region",
        "eu",
        "--accounts-url",
        "https://accounts.zoho.eu",
        "--api-url",
        "https://www.zohoapis.eu",
    )
    assert run(capsys, *argv)[0] == 0
    config = json.loads(output.read_text())
    assert "accounts_url" not in config and "api_url" not in config


def test_client_credentials_from_env(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOHO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ZOHO_CLIENT_SECRET", CLIENT_SECRET)
    mock.post(US_TOKEN, json=GOOD_BODY)
    output = tmp_path / "c.json"
    code, out, err = run(capsys, "self-client", "--code", CODE, "--output", str(output))
    assert code == 0, err
    assert_no_secret(out, err)
    form = form_of(mock.last_request)
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert json.loads(output.read_text())["client_secret"] == CLIENT_SECRET


def test_flag_wins_over_env(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOHO_CLIENT_ID", "1000.FROMENV")
    mock.post(US_TOKEN, json=GOOD_BODY)
    assert run(capsys, *self_client(tmp_path / "c.json"))[0] == 0
    assert form_of(mock.last_request)["client_id"] == CLIENT_ID


@pytest.mark.parametrize(
    ("argv_without", "needle"),
    [("--client-secret", "ZOHO_CLIENT_SECRET"), ("--client-id", "ZOHO_CLIENT_ID"), ("--code", "--code")],
)
def test_missing_inputs(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], argv_without: str, needle: str
) -> None:
    argv = self_client(tmp_path / "c.json")
    index = argv.index(argv_without)
    del argv[index : index + 2]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert mock.call_count == 0
    assert_no_secret(out, err)


ERROR_CASES = [
    (
        {"error": "invalid_code"},
        200,
        "the grant code is wrong, already used, or expired (Self Client codes last 3–10 minutes): "
        "make a new one and run again",
    ),
    ({"error": "invalid_client"}, 200, "client id or secret is wrong, or the client is not registered in "),
    (THROTTLE_BODY, 200, "wait a few minutes"),
    (THROTTLE_BODY, 400, "wait a few minutes"),
    # The throttle is recognised by its structure, whatever the language of its texts.
    ({**THROTTLE_BODY, "error_description": "您的请求过于频繁，请稍后再试。"}, 200, "wait a few minutes"),
    ({"error_description": "请求过多", "error": "拒绝访问", "status": "failure"}, 400, "wait a few minutes"),
    ({"error": "too_many"}, 429, "wait a few minutes"),
    ({"error": "invalid_client_secret"}, 200, "client id or secret is wrong, or the client is not"),
    ({"access_token": ACCESS_TOKEN, "api_domain": "https://www.zohoapis.com"}, 200, "access_type=offline"),
    ({"error": "invalid_request"}, 200, "invalid_request"),
    ({"error": "invalid_code", "refresh_token": REFRESH_TOKEN}, 200, "grant code is wrong"),
]


@pytest.mark.parametrize(("body", "status", "message"), ERROR_CASES)
def test_zoho_errors(
    tmp_path: Path,
    mock: Any,
    capsys: pytest.CaptureFixture[str],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    mock.post(US_TOKEN, json=body, status_code=status)
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *self_client(output))
    assert code == 2
    assert message in err
    assert err.startswith("zoho-crm-auth: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert_no_secret(out, err)
    assert not output.exists()


def test_invalid_client_names_the_data_centre(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(EU_TOKEN, json={"error": "invalid_client"})
    code, _, err = run(capsys, *self_client(tmp_path / "c.json", "--dc-region", "eu"))
    assert code == 2
    assert "not registered in data centre eu" in err
    assert "check --dc-region" in err
    assert "https://api-console.zoho.eu" in err


def test_non_json_answer(tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    mock.post(US_TOKEN, text="<html>Bad gateway</html>", status_code=502)
    code, out, err = run(capsys, *self_client(tmp_path / "c.json"))
    assert code == 2
    assert "HTTP 502" in err
    assert_no_secret(out, err)


def test_network_failure(tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    mock.post(US_TOKEN, exc=requests.ConnectionError(f"boom {CLIENT_SECRET} {CODE}"))
    code, out, err = run(capsys, *self_client(tmp_path / "c.json"))
    assert code == 2
    assert "could not reach the Zoho accounts server https://accounts.zoho.com (ConnectionError)" in err
    assert_no_secret(out, err)


def test_unexpected_exception_has_no_trace_nor_secret(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"bug holding {CLIENT_SECRET}")

    monkeypatch.setattr(commands, "exchange_code", explode)
    code, out, err = run(capsys, *self_client(tmp_path / "c.json"))
    assert code == 2
    assert "unexpected RuntimeError" in err
    assert "Traceback" not in err
    assert_no_secret(out, err)


def test_existing_output_is_refused_before_any_request(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "c.json"
    output.write_text("{}")
    code, _, err = run(capsys, *self_client(output))
    assert code == 2
    assert "already exists" in err and "--force" in err
    assert mock.call_count == 0  # the single-use code is not burnt
    assert output.read_text() == "{}"


def test_force_overwrites_and_tightens_mode(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    output = tmp_path / "c.json"
    output.write_text('{"old": "and longer than the new content will be ' + "x" * 500 + '"}')
    output.chmod(0o644)
    code, _, err = run(capsys, *self_client(output, "--force"))
    assert code == 0, err
    assert mode_of(output) == 0o600
    assert json.loads(output.read_text())["refresh_token"] == REFRESH_TOKEN


def test_missing_output_directories_are_created_owner_only(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    output = tmp_path / "secrets" / "nested" / "config.json"
    code, _, err = run(capsys, *self_client(output))
    assert code == 0, err
    assert mode_of(output) == 0o600 and mode_of(tmp_path / "secrets") == 0o700
    assert json.loads(output.read_text())["refresh_token"] == REFRESH_TOKEN


def test_output_under_a_file_is_refused_before_any_request(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "secrets").write_text("not a directory")
    code, _, err = run(capsys, *self_client(tmp_path / "secrets" / "c.json"))
    assert code == 2
    assert "is not a directory" in err
    assert mock.call_count == 0


def test_api_domain_of_the_org_is_written_when_it_differs_from_the_data_centre(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A test server (or a client made in another data centre) names its own API host: the config
    must work without edits, so it goes in as `api_url`; an explicit --api-url still wins."""
    mock.post(
        "http://127.0.0.1:9999/oauth/v2/token", json={**GOOD_BODY, "api_domain": "http://127.0.0.1:9999"}
    )
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *self_client(output, "--accounts-url", "http://127.0.0.1:9999"))
    assert code == 0, err
    assert json.loads(output.read_text())["api_url"] == "http://127.0.0.1:9999"
    assert "Zoho names http://127.0.0.1:9999 as the org's API domain" in out
    mock.post(US_TOKEN, json={**GOOD_BODY, "api_domain": "https://www.zohoapis.eu"})
    explicit = tmp_path / "explicit.json"
    argv = self_client(explicit, "--api-url", "http://127.0.0.1:7777")
    assert run(capsys, *argv)[0] == 0
    assert json.loads(explicit.read_text())["api_url"] == "http://127.0.0.1:7777"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--dc-region", "mars"], "--dc-region"),
        (["--accounts-url", "ftp://accounts.zoho.com"], "--accounts-url"),
        (["--api-url", "not a url"], "--api-url"),
        (["--environment", "staging"], "--environment"),
    ],
)
def test_bad_target_options(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *self_client(tmp_path / "c.json", *extra))
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert mock.call_count == 0
    assert_no_secret(out, err)


def test_mistyped_option_value_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "self-client",
        "--client-id",
        CLIENT_ID,
        "--client-secrett",
        CLIENT_SECRET,
        "--code",
        CODE,
        "-o",
        str(tmp_path / "c.json"),
    ]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert "--client-secrett" in err
    assert_no_secret(out, err)


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["self-client", "--client-id", CLIENT_ID]) == 2
    assert "--output" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "self-client" in capsys.readouterr().out
    assert main(["browser", "--help"]) == 0
    assert "--paste" in capsys.readouterr().out


# --- browser --paste -------------------------------------------------------------------------------------


def browser(output: Path, *extra: str) -> list[str]:
    return [
        "browser",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        CLIENT_SECRET,
        "--output",
        str(output),
        *extra,
    ]


def redirect(**params: str) -> str:
    return "http://localhost:33333/callback?" + urlencode(params) + "\n"


def paste(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_paste_prints_consent_url(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    paste(
        monkeypatch,
        redirect(state=STATE, code=CODE, location="us", **{"accounts-server": accounts_url_for("com")}),
    )
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *browser(output, "--paste"))
    assert code == 0, err
    urls = [line for line in out.splitlines() if line.startswith("https://accounts.zoho.com/oauth/v2/auth?")]
    assert len(urls) == 1
    query = parse_qs(urlsplit(urls[0]).query)
    assert query["scope"] == [",".join(READ_SCOPES)]
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["state"] == [STATE]
    assert query["redirect_uri"] == ["http://localhost:33333/callback"]
    assert form_of(mock.last_request) == {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": CODE,
        "redirect_uri": "http://localhost:33333/callback",
    }
    assert f"Wrote {output} (data centre com, environment production)" in out
    assert "not com" not in out
    assert_no_secret(out, err)
    assert mode_of(output) == 0o600


def test_paste_port_goes_into_redirect_uri(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    paste(monkeypatch, f"http://localhost:8765/callback?state={STATE}&code={CODE}")
    code, out, _ = run(capsys, *browser(tmp_path / "c.json", "--paste", "--port", "8765"))
    assert code == 0
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A8765%2Fcallback" in out
    assert form_of(mock.last_request)["redirect_uri"] == "http://localhost:8765/callback"


def test_paste_redirect_data_centre_wins(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post(EU_TOKEN, json=EU_BODY)
    paste(
        monkeypatch,
        redirect(state=STATE, code=CODE, location="eu", **{"accounts-server": "https://accounts.zoho.eu"}),
    )
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *browser(output, "--paste", "--dc-region", "com"))
    assert code == 0, err
    assert "data centre eu (https://accounts.zoho.eu), not com: using eu" in out
    assert f"Wrote {output} (data centre eu, environment production)" in out
    assert mock.last_request.url == EU_TOKEN
    config = json.loads(output.read_text())
    assert config["dc_region"] == "eu"
    assert "accounts_url" not in config


def test_paste_loopback_accounts_server_keeps_dc(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post("http://127.0.0.1:4567/oauth/v2/token", json=GOOD_BODY)
    paste(
        monkeypatch,
        redirect(state=STATE, code=CODE, location="us", **{"accounts-server": "http://127.0.0.1:4567"}),
    )
    output = tmp_path / "c.json"
    code, _, err = run(capsys, *browser(output, "--paste", "--dc-region", "in"))
    assert code == 0, err
    config = json.loads(output.read_text())
    assert config["dc_region"] == "in"
    assert config["accounts_url"] == "http://127.0.0.1:4567"


def test_paste_unknown_accounts_server_is_ignored(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post(US_TOKEN, json=GOOD_BODY)
    paste(monkeypatch, redirect(state=STATE, code=CODE, **{"accounts-server": "https://evil.example"}))
    code, out, _ = run(capsys, *browser(tmp_path / "c.json", "--paste"))
    assert code == 0
    assert "Ignoring the redirect's accounts server https://evil.example" in out
    assert mock.last_request.url == US_TOKEN  # the client secret never goes to an unknown host


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        (redirect(state=STATE, error="access_denied"), "you denied consent"),
        (redirect(error="access_denied"), "you denied consent"),
        (redirect(state="someone-elses-state", code=CODE), "state does not match"),
        (redirect(code=CODE), "state does not match"),
        (redirect(state="état-non-ascii", code=CODE), "state does not match"),
        (redirect(state=STATE), "has no code"),
        (redirect(state=STATE, error="invalid_client"), "check --client-id"),
        (redirect(state=STATE, error="server_error"), "'server_error'"),
        ("\n", "nothing was pasted"),
        ("", "nothing was pasted"),
    ],
)
def test_paste_failures(
    tmp_path: Path,
    mock: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pasted: str,
    message: str,
) -> None:
    paste(monkeypatch, pasted)
    output = tmp_path / "c.json"
    code, out, err = run(capsys, *browser(output, "--paste"))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert mock.call_count == 0
    assert_no_secret(out, err)
    assert not output.exists()


def test_paste_exchange_error_is_reported(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.post(US_TOKEN, json={"error": "invalid_code"})
    paste(monkeypatch, redirect(state=STATE, code=CODE))
    code, out, err = run(capsys, *browser(tmp_path / "c.json", "--paste"))
    assert code == 2
    assert "authorization code" in err and "run the command again" in err
    assert_no_secret(out, err)


# --- browser, listening on localhost ---------------------------------------------------------------------


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local test server)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class FakeZoho:
    """Plays the browser and Zoho: on ``webbrowser.open(url)``, redirects to the local callback."""

    def __init__(self, **extra: str) -> None:
        self.extra = extra
        self.statuses: list[int] = []
        self.thread: threading.Thread | None = None

    def open(self, url: str) -> bool:
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        callback = query["redirect_uri"]
        params = {"state": query["state"], **self.extra}

        def browse() -> None:
            base = callback.replace("localhost", "127.0.0.1")
            self.statuses.append(_get(base.replace("/callback", "/favicon.ico")))
            self.statuses.append(_get(base + "?" + urlencode(params)))

        self.thread = threading.Thread(target=browse, daemon=True)
        self.thread.start()
        return True


def test_browser_catches_the_redirect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeZoho(code=CODE, location="eu", **{"accounts-server": "https://accounts.zoho.eu"})
    monkeypatch.setattr(commands.webbrowser, "open", fake.open)
    output = tmp_path / "c.json"
    # Real HTTP to 127.0.0.1 passes through; the token endpoint is mocked.
    with requests_mock_module.Mocker(real_http=True) as mocker:
        mocker.post(EU_TOKEN, json=EU_BODY)
        code, out, err = run(capsys, *browser(output, "--port", "0", "--timeout", "20"))
        sent = form_of(mocker.last_request)
    assert code == 0, err
    assert fake.statuses == [404, 200]
    assert sent["code"] == CODE
    assert sent["redirect_uri"].startswith("http://localhost:") and sent["redirect_uri"].endswith("/callback")
    assert sent["redirect_uri"] in out
    assert json.loads(output.read_text())["dc_region"] == "eu"
    assert_no_secret(out, err)  # the request log of http.server is silenced (it holds the code)


def test_browser_denied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeZoho(error="access_denied")
    monkeypatch.setattr(commands.webbrowser, "open", fake.open)
    code, out, err = run(capsys, *browser(tmp_path / "c.json", "--port", "0", "--timeout", "20"))
    assert code == 2
    assert "you denied consent" in err


def test_browser_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, *browser(tmp_path / "c.json", "--port", "0", "--timeout", "0.3", "--no-browser")
    )
    assert code == 2
    assert "no answer from the browser within 0.3 s" in err
    assert "/oauth/v2/auth?" in out


def test_browser_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run(capsys, *browser(tmp_path / "c.json", "--port", str(port), "--no-browser"))
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_browser_bad_port_and_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *browser(tmp_path / "c.json", "--port", "70000"))[0] == 2
    code, _, err = run(capsys, *browser(tmp_path / "c.json", "--timeout", "0"))
    assert code == 2 and "--timeout" in err


# --- revoke ------------------------------------------------------------------------------------------------


def test_revoke_with_flag(mock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    mock.post("https://accounts.zoho.com/oauth/v2/token/revoke", json={"status": "success"})
    code, out, err = run(capsys, "revoke", "--refresh-token", REFRESH_TOKEN)
    assert code == 0, err
    assert parse_qs(urlsplit(mock.last_request.url).query) == {"token": [REFRESH_TOKEN]}
    assert "Revoked the refresh token at https://accounts.zoho.com (data centre com)" in out
    assert_no_secret(out, err)


def test_revoke_from_env_and_dc(
    mock: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOHO_REFRESH_TOKEN", REFRESH_TOKEN)
    mock.post("https://accounts.zoho.eu/oauth/v2/token/revoke", json={"status": "success"})
    code, out, err = run(capsys, "revoke", "--dc-region", "eu")
    assert code == 0, err
    assert parse_qs(urlsplit(mock.last_request.url).query) == {"token": [REFRESH_TOKEN]}
    assert_no_secret(out, err)


def test_revoke_from_config_file(tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": REFRESH_TOKEN,
                "dc_region": "com.au",
                "accounts_url": "http://127.0.0.1:4567",
            }
        )
    )
    mock.post("http://127.0.0.1:4567/oauth/v2/token/revoke", json={"status": "success"})
    code, out, err = run(capsys, "revoke", "--config", str(config))
    assert code == 0, err
    assert parse_qs(urlsplit(mock.last_request.url).query) == {"token": [REFRESH_TOKEN]}
    assert "data centre com.au" in out
    assert_no_secret(out, err)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"client_id": "x"}', "no refresh_token in"),
    ],
)
def test_revoke_bad_config_file(
    tmp_path: Path, mock: Any, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    config = tmp_path / "c.json"
    if content is not None:
        config.write_text(content)
    code, _, err = run(capsys, "revoke", "--config", str(config))
    assert code == 2
    assert message in err
    assert mock.call_count == 0


def test_revoke_needs_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "revoke")
    assert code == 2
    assert "ZOHO_REFRESH_TOKEN" in err


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"error": "invalid_code"}, 200, "wrong, already revoked"),
        (THROTTLE_BODY, 200, "wait a few minutes"),
        ({"error": "something"}, 200, "(something)"),
        (None, 500, "HTTP 500"),
    ],
)
def test_revoke_errors(
    mock: Any, capsys: pytest.CaptureFixture[str], body: Any, status: int, message: str
) -> None:
    url = "https://accounts.zoho.com/oauth/v2/token/revoke"
    if body is None:
        mock.post(url, text="oops", status_code=status)
    else:
        mock.post(url, json=body, status_code=status)
    code, out, err = run(capsys, "revoke", "--refresh-token", REFRESH_TOKEN)
    assert code == 2
    assert message in err
    assert_no_secret(out, err)


def test_revoke_network_failure_hides_token_in_url(mock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"https://accounts.zoho.com/oauth/v2/token/revoke?token={REFRESH_TOKEN}"
    mock.post(
        "https://accounts.zoho.com/oauth/v2/token/revoke", exc=requests.ConnectionError(f"failed: {url}")
    )
    code, out, err = run(capsys, "revoke", "--refresh-token", REFRESH_TOKEN)
    assert code == 2
    assert "could not reach" in err
    assert_no_secret(out, err)


def test_module_runs_as_script() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "source_zoho_crm.credentials", "revoke"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")},
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("zoho-crm-auth: a refresh token is required")
