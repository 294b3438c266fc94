"""End-to-end: ``zoho-crm-auth`` against the Zoho CRM emulator's accounts server."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from source_zoho_crm.auth import ZohoTokenProvider
from source_zoho_crm.config import parse_config
from source_zoho_crm.credentials import callback, consent_url, main
from source_zoho_crm.errors import ZohoAuthError
from source_zoho_crm.scopes import READ_SCOPES
from zoho_crm_emulator import EmulatorSettings, ZohoCrmEmulator

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]


def _cred(credentials: Any, name: str) -> str:
    value = credentials[name] if isinstance(credentials, dict) else getattr(credentials, name)
    return str(value)


@pytest.fixture(scope="module")
def emu() -> Iterator[ZohoCrmEmulator]:
    emulator = ZohoCrmEmulator(EmulatorSettings(preset="small"))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def client(emu: ZohoCrmEmulator) -> tuple[str, str]:
    return _cred(emu.credentials, "client_id"), _cred(emu.credentials, "client_secret")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_hidden(secrets: list[str], *texts: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text


def refresh(emu: ZohoCrmEmulator, client: tuple[str, str], refresh_token: str) -> dict[str, Any]:
    form = {
        "grant_type": "refresh_token",
        "client_id": client[0],
        "client_secret": client[1],
        "refresh_token": refresh_token,
    }
    return requests.post(f"{emu.url}/oauth/v2/token", data=form, timeout=30).json()


def assert_config_works(emu: ZohoCrmEmulator, path: Path, client: tuple[str, str]) -> dict[str, Any]:
    """The written config is accepted by the connector and its refresh token gets an access token."""
    assert path.stat().st_mode & 0o777 == 0o600
    raw = json.loads(path.read_text())
    assert (raw["client_id"], raw["client_secret"]) == client
    assert raw["accounts_url"] == emu.url and raw["api_url"] == emu.url
    config = parse_config(raw)
    provider = ZohoTokenProvider(config)
    token = provider.token()
    assert token
    response = requests.get(
        f"{config.api_url}/crm/v8/settings/modules",
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return raw


def self_client_args(
    client: tuple[str, str], code: str, output: Path, accounts_url: str, api_url: str
) -> list[str]:
    return [
        "self-client",
        "--client-id",
        client[0],
        "--client-secret",
        client[1],
        "--code",
        code,
        "--accounts-url",
        accounts_url,
        "--api-url",
        api_url,
        "--output",
        str(output),
    ]


# --- self-client -------------------------------------------------------------------------------------------


def test_self_client_then_reused_code(
    emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    output = tmp_path / "config.json"
    status, out, err = run(capsys, *self_client_args(client, code, output, emu.url, emu.url))
    assert status == 0, err
    assert out.strip() == f"Wrote {output} (data centre com, environment production)"
    raw = assert_config_works(emu, output, client)
    assert_hidden([client[1], code, raw["refresh_token"]], out, err)

    again = tmp_path / "again.json"
    status, out, err = run(capsys, *self_client_args(client, code, again, emu.url, emu.url))
    assert status == 2
    assert "the grant code is wrong, already used, or expired" in err
    assert "make a new one and run again" in err
    assert len(err.strip().splitlines()) == 1
    assert_hidden([client[1], code], out, err)
    assert not again.exists()


def test_self_client_secret_from_env(
    emu: ZohoCrmEmulator,
    client: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZOHO_CLIENT_ID", client[0])
    monkeypatch.setenv("ZOHO_CLIENT_SECRET", client[1])
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    output = tmp_path / "config.json"
    argv = ["self-client", "--code", code, "--accounts-url", emu.url, "--api-url", emu.url, "-o", str(output)]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert_config_works(emu, output, client)


def test_self_client_wrong_data_centre(
    emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    output = tmp_path / "config.json"
    argv = self_client_args(client, code, output, f"{emu.url}/dc/eu", emu.url)
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert "invalid_client" in err and "check --dc-region" in err
    assert f"{emu.url}/dc/eu" in err
    assert_hidden([client[1], code], out, err)
    assert not output.exists()
    # The wrong data centre did not consume the code: the right one still takes it.
    status, _, err = run(capsys, *self_client_args(client, code, output, emu.url, emu.url))
    assert status == 0, err


def test_self_client_wrong_secret(
    emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    wrong = (client[0], "not-the-secret-0123456789")
    status, out, err = run(capsys, *self_client_args(wrong, code, tmp_path / "c.json", emu.url, emu.url))
    assert status == 2
    assert "client id or secret is wrong" in err
    assert_hidden([client[1], wrong[1], code], out, err)


# --- browser ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser(threading.Thread):
    """Reads the CLI's stdout; on the consent address, plays the browser against the emulator."""

    def __init__(self, process: subprocess.Popen[str], accounts_url: str) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.prefix = f"{accounts_url}/oauth/v2/auth?"
        self.lines: list[str] = []
        self.location: str | None = None
        self.callback_status: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        assert self.process.stdout is not None
        try:
            for line in self.process.stdout:
                self.lines.append(line)
                if line.startswith(self.prefix):
                    consent = requests.get(line.strip(), allow_redirects=False, timeout=30)
                    assert consent.status_code in (301, 302, 303, 307), consent.status_code
                    self.location = consent.headers["Location"]
                    self.callback_status = requests.get(self.location, timeout=30).status_code
        except BaseException as error:  # reported by the test
            self.error = error


def run_browser_cli(
    emu: ZohoCrmEmulator, client: tuple[str, str], output: Path
) -> tuple[subprocess.CompletedProcess[str], Browser, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")}
    env["ZOHO_CLIENT_SECRET"] = client[1]  # not in argv
    env["PYTHONPATH"] = str(REPO)
    argv = [
        sys.executable,
        "-m",
        "source_zoho_crm.credentials",
        "browser",
        "--no-browser",
        "--port",
        str(port),
        "--timeout",
        "60",
        "--client-id",
        client[0],
        "--accounts-url",
        emu.url,
        "--api-url",
        emu.url,
        "--output",
        str(output),
    ]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(REPO)
    )
    browser = Browser(process, emu.url)
    browser.start()
    try:
        process.wait(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    browser.join(30)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert browser.error is None, repr(browser.error)
    done = subprocess.CompletedProcess(argv, process.returncode, "".join(browser.lines), stderr)
    return done, browser, port


def test_browser_flow_writes_config(emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path) -> None:
    output = tmp_path / "config.json"
    done, browser, port = run_browser_cli(emu, client, output)
    assert done.returncode == 0, done.stderr
    assert browser.location is not None and browser.callback_status == 200
    redirect = parse_qs(urlsplit(browser.location).query)
    assert browser.location.startswith(f"http://localhost:{port}/callback?")
    assert redirect["accounts-server"] == [emu.url]
    consent = [line for line in done.stdout.splitlines() if line.startswith(browser.prefix)][0]
    query = parse_qs(urlsplit(consent).query)
    assert query["scope"] == [",".join(READ_SCOPES)]
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["redirect_uri"] == [f"http://localhost:{port}/callback"]
    assert query["state"] == redirect["state"]
    assert f"Wrote {output} (data centre com, environment production)" in done.stdout
    raw = assert_config_works(emu, output, client)
    assert raw["dc_region"] == "com"  # the emulator's accounts server names no data centre
    assert_hidden([client[1], redirect["code"][0], raw["refresh_token"]], done.stdout, done.stderr)


def test_browser_flow_denied(emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path) -> None:
    output = tmp_path / "config.json"
    requests.post(f"{emu.url}/__emulator__/consent", json={"deny": True}, timeout=30).raise_for_status()
    try:
        done, browser, _ = run_browser_cli(emu, client, output)
    finally:
        requests.post(f"{emu.url}/__emulator__/consent", json={"deny": False}, timeout=30).raise_for_status()
    assert browser.location is not None and "error=access_denied" in browser.location
    assert done.returncode == 2
    assert "you denied consent" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert_hidden([client[1]], done.stdout, done.stderr)
    assert not output.exists()


def test_paste_flow(
    emu: ZohoCrmEmulator,
    client: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--paste: the address the browser ended on is pasted on stdin (made here before the run)."""
    state = "e2e-paste-state"
    port = 45678
    monkeypatch.setattr(callback, "new_state", lambda: state)
    url = consent_url(emu.url, client[0], f"http://localhost:{port}/callback", state)
    location = requests.get(url, allow_redirects=False, timeout=30).headers["Location"]
    monkeypatch.setattr("sys.stdin", io.StringIO(location + "\n"))
    output = tmp_path / "config.json"
    argv = ["browser", "--paste", "--port", str(port), "--client-id", client[0], "--client-secret", client[1]]
    argv += ["--accounts-url", emu.url, "--api-url", emu.url, "-o", str(output)]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    raw = assert_config_works(emu, output, client)
    code = parse_qs(urlsplit(location).query)["code"][0]
    assert_hidden([client[1], code, raw["refresh_token"]], out, err)


# --- revoke ------------------------------------------------------------------------------------------------


def test_revoke_stops_the_refresh_token(
    emu: ZohoCrmEmulator, client: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    output = tmp_path / "config.json"
    assert run(capsys, *self_client_args(client, code, output, emu.url, emu.url))[0] == 0
    raw = json.loads(output.read_text())
    assert "access_token" in refresh(emu, client, raw["refresh_token"])

    status, out, err = run(capsys, "revoke", "--config", str(output))
    assert status == 0, err
    assert f"Revoked the refresh token at {emu.url}" in out
    assert_hidden([client[1], raw["refresh_token"]], out, err)

    assert refresh(emu, client, raw["refresh_token"]) == {"error": "invalid_code"}
    with pytest.raises(ZohoAuthError):
        ZohoTokenProvider(parse_config(raw)).token()


def test_revoke_with_env_token(
    emu: ZohoCrmEmulator,
    client: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    output = tmp_path / "config.json"
    assert run(capsys, *self_client_args(client, code, output, emu.url, emu.url))[0] == 0
    token = json.loads(output.read_text())["refresh_token"]
    monkeypatch.setenv("ZOHO_REFRESH_TOKEN", token)
    status, out, err = run(capsys, "revoke", "--accounts-url", emu.url)
    assert status == 0, err
    assert_hidden([token], out, err)
    assert refresh(emu, client, token) == {"error": "invalid_code"}


def test_config_written_into_a_new_secrets_directory_works_without_edits(
    emu: ZohoCrmEmulator,
    client: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As the README shows it: only --accounts-url; `secrets/` is created; api_url comes from api_domain."""
    monkeypatch.chdir(tmp_path)
    code = emu.new_grant_code(scopes=list(READ_SCOPES), expires_in=180)
    argv = ["self-client", "--client-id", client[0], "--client-secret", client[1], "--code", code]
    status, out, err = run(capsys, *argv, "--accounts-url", emu.url, "-o", "secrets/config.json")
    assert status == 0, err
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700
    assert f"Zoho names {emu.url} as the org's API domain: written as api_url." in out
    assert_config_works(emu, tmp_path / "secrets" / "config.json", client)
