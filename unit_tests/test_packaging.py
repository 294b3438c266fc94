"""The connector image's build inputs: Docker cannot build it here, so check what the build uses.

- The Dockerfile's ENTRYPOINT (and AIRBYTE_ENTRYPOINT) is a console script that pyproject.toml
  declares, that the venv has installed from the same declaration, and that answers `spec` with
  Airbyte protocol messages only.
- The build context (after .dockerignore) copied where the Dockerfile copies it is enough for
  `pip install .`: a wheel built from exactly those files holds every module of the package and
  its manifest.yaml; and no tests, venvs or secrets go into the image.
- The labels name the image and carry pyproject.toml's version; metadata.yaml, when present, agrees.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from airbyte_cdk.models import AirbyteMessageSerializer, Type
from packaging.specifiers import SpecifierSet

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "source_zoho_crm"
IMAGE_NAME = "airbyte/source-zoho-crm"
PIP_INSTALL_DOT = re.compile(r"\bpip install\b[^&;|]*\s\.(\s|$)")  # `pip install [options] .`
# Python of each accepted base image (python-connector-base 4.x is built on python:3.11-slim).
BASE_IMAGE_PYTHON = {
    r"(docker\.io/)?airbyte/python-connector-base:4\.\d+\.\d+(@sha256:[0-9a-f]{64})?": "3.11",
    r"(docker\.io/)?(library/)?python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?": "3.11",
}


# ---- reading the Dockerfile ---------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@cache
def dockerfile() -> tuple[Instruction, ...]:
    """The Dockerfile's instructions, with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return tuple(instructions)


def of(keyword: str) -> list[str]:
    return [i.arguments for i in dockerfile() if i.keyword == keyword]


def key_values(arguments: str) -> dict[str, str]:
    """`LABEL a=b "c"="d e"` / `ENV A="b"` -> {"a": "b", "c": "d e"}."""
    pairs = {}
    for token in shlex.split(arguments):
        key, sep, value = token.partition("=")
        assert sep, f"expected key=value, got {token!r}"
        pairs[key] = value
    return pairs


def labels() -> dict[str, str]:
    return {k: v for arguments in of("LABEL") for k, v in key_values(arguments).items()}


def env() -> dict[str, str]:
    return {k: v for arguments in of("ENV") for k, v in key_values(arguments).items()}


def entrypoint() -> list[str]:
    entrypoints = of("ENTRYPOINT")
    assert len(entrypoints) == 1, f"expected one ENTRYPOINT, got {entrypoints}"
    command = json.loads(entrypoints[0])  # exec form, so signals reach the connector
    assert isinstance(command, list) and command and all(isinstance(part, str) for part in command)
    return command


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def version() -> str:
    return str(pyproject()["project"]["version"])


# ---- the build context: .dockerignore as Docker applies it ----------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over a slash-separated path."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # `**/` : any number of directories, none included
                out += "(?:.*/)?"
                i += 1
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1 : end]
            out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + r"\Z")


@cache
def dockerignore() -> tuple[tuple[bool, str, re.Pattern[str]], ...]:
    """(is an exception `!`, cleaned pattern, regex) per pattern, in file order."""
    path = ROOT / ".dockerignore"
    rules = []
    for raw in path.read_text().splitlines() if path.exists() else []:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        cleaned = str(PurePosixPath(line.lstrip("!").strip())).lstrip("/")
        rules.append((exception, cleaned, _pattern_regex(cleaned)))
    return tuple(rules)


def ignored(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent directories, decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for exception, _, regex in dockerignore():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not exception
    return excluded


def _prunable(directory: str) -> bool:
    """An excluded directory that no exception pattern can reach into (Docker skips those too)."""
    return ignored(directory) and not any(
        exception and (pattern.startswith(directory + "/") or pattern[:1] in "*?[")
        for exception, pattern, _ in dockerignore()
    )


@cache
def build_context() -> tuple[str, ...]:
    """Every file of the checkout that `docker build .` sends."""
    files = []
    for directory, subdirectories, names in os.walk(ROOT):
        here = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        subdirectories[:] = [d for d in subdirectories if not _prunable(prefix + d)]
        files.extend(prefix + name for name in names if not ignored(prefix + name))
    return tuple(sorted(files))


def test_dockerignore_matcher_follows_docker_rules() -> None:
    """The matcher the other tests rely on, on the cases that matter for this .dockerignore."""
    assert _pattern_regex("**/secrets").match("secrets")
    assert _pattern_regex("**/secrets").match("a/b/secrets")
    assert not _pattern_regex("*").match("a/b")
    assert _pattern_regex("*.py[cod]").match("x.pyc")
    assert _pattern_regex("source_zoho_crm").match("source_zoho_crm")


# ---- the image's command ----------------------------------------------------------------------


def test_entrypoint_is_a_console_script_that_pyproject_declares() -> None:
    command = entrypoint()
    assert len(command) == 1, f"ENTRYPOINT should be the console script alone, got {command}"
    scripts = pyproject()["project"]["scripts"]
    assert command[0] in scripts, f"{command[0]} is not in [project.scripts]: {sorted(scripts)}"
    assert env().get("AIRBYTE_ENTRYPOINT") == " ".join(command), (
        "AIRBYTE_ENTRYPOINT (what the platform runs) differs from ENTRYPOINT"
    )


def test_the_venv_installed_the_console_script_pyproject_declares() -> None:
    name = entrypoint()[0]
    installed = importlib.metadata.entry_points(group="console_scripts", name=name)
    assert installed, f"{name} is not installed: pip install -e ."
    (point,) = list(installed)
    assert point.value == pyproject()["project"]["scripts"][name], (
        "the installed console script points elsewhere than pyproject.toml: reinstall the package"
    )
    assert Path(sys.executable).with_name(name).is_file(), f"no {name} next to {sys.executable}"


def test_the_console_script_answers_spec_with_protocol_messages_only() -> None:
    script = Path(sys.executable).with_name(entrypoint()[0])
    # From another directory: the script must not depend on the checkout being the working directory.
    run = subprocess.run([str(script), "spec"], capture_output=True, text=True, timeout=60, cwd="/")
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert lines, "spec printed nothing"
    messages = []
    for line in lines:
        try:
            messages.append(AirbyteMessageSerializer.load(json.loads(line)))
        except Exception as error:
            pytest.fail(f"not an Airbyte protocol message: {line[:200]!r} ({error})")
    specs = [m.spec for m in messages if m.type == Type.SPEC]
    assert len(specs) == 1, f"expected one SPEC message, got {len(specs)}"
    assert specs[0].connectionSpecification["properties"], "the spec has no properties"


# ---- what the image contains --------------------------------------------------------------------


def _copied_into_build_dir(destination: Path) -> Path:
    """Lay out under `destination` what the Dockerfile copies from the build context, as Docker
    does (a directory's contents go into the target; a file into a target ending in `/`), up to
    its `pip install .`; returns where that runs (the WORKDIR)."""
    context = build_context()
    workdir = PurePosixPath("/")
    layout: dict[PurePosixPath, str] = {}  # path in the image -> file of the build context
    for instruction in dockerfile():
        words = shlex.split(instruction.arguments)
        if instruction.keyword == "WORKDIR":
            workdir = workdir / instruction.arguments
        elif instruction.keyword in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
            *sources, target = [w for w in words if not w.startswith("--")]
            target_path = workdir / target
            into_directory = target.endswith("/") or len(sources) > 1
            for source in sources:
                assert not any(c in source for c in "*?["), f"COPY with wildcards is not checked: {source}"
                prefix = "" if str(PurePosixPath(source)) == "." else str(PurePosixPath(source))
                if prefix in context:  # a file
                    in_image = target_path / PurePosixPath(prefix).name if into_directory else target_path
                    layout[in_image] = prefix
                    continue
                below = [f for f in context if not prefix or f.startswith(prefix + "/")]
                assert below, f"COPY {source}: nothing in the build context (see .dockerignore)"
                for relative in below:
                    layout[target_path / relative[len(prefix) :].lstrip("/")] = relative
        elif instruction.keyword == "RUN" and PIP_INSTALL_DOT.search(instruction.arguments):
            for in_image, relative in layout.items():
                out = destination / str(in_image).lstrip("/")
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / relative, out)
            return destination / str(workdir).lstrip("/")
    raise AssertionError("no `RUN pip install .` in the Dockerfile")


def test_the_build_context_holds_no_tests_venvs_or_secrets() -> None:
    context = build_context()
    unwanted = re.compile(
        r"(^|/)(unit_tests|integration_tests|\.venv|venv|secrets|__pycache__|\.git|\.pytest_cache)(/|$)"
        r"|\.env$|\.pyc$"
    )
    leaked = [path for path in context if unwanted.search(path)]
    assert not leaked, f"would go into the image: {leaked[:20]}"
    assert "pyproject.toml" in context


# Run with the wheel's install directory first on sys.path: the package as the image would have it.
_FROM_THE_WHEEL = """
import importlib.resources, json, logging, sys
import source_zoho_crm
from source_zoho_crm.source import SourceZohoCrm
spec = SourceZohoCrm().spec(logging.getLogger("airbyte"))
print(json.dumps({
    "package": source_zoho_crm.__file__,
    "manifest": importlib.resources.files("source_zoho_crm").joinpath("manifest.yaml").is_file(),
    "properties": sorted(spec.connectionSpecification["properties"]),
}))
"""


def test_pip_install_in_the_image_gets_every_module_and_the_manifest(tmp_path: Path) -> None:
    """Build a wheel, offline, from exactly what the Dockerfile copies (the image's `pip install .`),
    install it apart from the venv's editable install, and load the spec from it."""
    build_dir = _copied_into_build_dir(tmp_path / "image")
    assert (build_dir / "pyproject.toml").is_file(), "pyproject.toml is not copied to where pip runs"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    offline = ["--no-deps", "--no-index"]
    wheel_dir, site = tmp_path / "dist", tmp_path / "site"
    built = subprocess.run(
        [*pip, "wheel", *offline, "--no-build-isolation", "--wheel-dir", str(wheel_dir), str(build_dir)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheel_dir.glob("*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    package_data = pyproject()["tool"]["setuptools"]["package-data"][PACKAGE]
    needed = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / PACKAGE).rglob("*")
        if "__pycache__" not in path.parts
        and (path.suffix == ".py" or any(path.match(pattern) for pattern in package_data))
    }
    assert f"{PACKAGE}/manifest.yaml" in needed
    assert needed <= in_wheel, f"not in the installed package: {sorted(needed - in_wheel)}"
    entry_points = next(name for name in in_wheel if name.endswith(".dist-info/entry_points.txt"))
    declared = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert f"{entrypoint()[0]} = " in declared, "the wheel does not install the ENTRYPOINT's script"

    installed = subprocess.run(
        [*pip, "install", *offline, "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    loaded = subprocess.run(
        [sys.executable, "-c", _FROM_THE_WHEEL],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    report = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).is_relative_to(site), f"imported {report['package']}, not the wheel's"
    assert report["manifest"], "importlib.resources does not find manifest.yaml in the installed wheel"
    assert {"client_id", "client_secret", "refresh_token"} <= set(report["properties"])


def test_manifest_is_package_data_of_the_installed_package() -> None:
    manifest = importlib.resources.files(PACKAGE).joinpath("manifest.yaml")
    assert manifest.is_file(), "manifest.yaml is not in the installed package"
    assert yaml.safe_load(manifest.read_text())["spec"]["connection_specification"]
    package_data = pyproject()["tool"]["setuptools"]["package-data"][PACKAGE]
    assert "manifest.yaml" in package_data


def test_base_image_runs_a_python_that_the_package_supports() -> None:
    base = of("FROM")[0].split()[0]
    python = next((v for pattern, v in BASE_IMAGE_PYTHON.items() if re.fullmatch(pattern, base)), None)
    assert python, f"base image {base}: expected airbyte/python-connector-base 4.x or python:3.11-slim"
    assert python in SpecifierSet(pyproject()["project"]["requires-python"]), (base, python)
    assert len(of("FROM")) == 1, "a multi-stage build: adapt these tests to its final stage"


# ---- name and version -------------------------------------------------------------------------


def test_labels_name_the_image_and_carry_the_package_version() -> None:
    assert labels().get("io.airbyte.name") == IMAGE_NAME
    assert labels().get("io.airbyte.version") == version()


def test_metadata_yaml_agrees_with_the_dockerfile() -> None:
    path = ROOT / "metadata.yaml"
    if not path.exists():
        pytest.skip("no metadata.yaml at the repo root")
    data = yaml.safe_load(path.read_text())["data"]
    assert data["dockerRepository"] == labels()["io.airbyte.name"]
    assert data["dockerImageTag"] == version() == labels()["io.airbyte.version"]


# ---- pins: constraints.txt -------------------------------------------------------------------------

CONSTRAINTS = ROOT / "constraints.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not name==version"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_constraints_pin_the_cdk_pyproject_declares_and_not_the_project() -> None:
    pins = _pins()
    assert "source-zoho-crm" not in pins, "constraints.txt must not pin the project itself"
    declared = pyproject()["project"]["dependencies"]
    cdk = next(d for d in declared if d.startswith("airbyte-cdk"))
    assert cdk == f"airbyte-cdk=={pins['airbyte-cdk']}", "pyproject's airbyte-cdk is not the pinned version"
    assert importlib.metadata.version("airbyte-cdk") == pins["airbyte-cdk"], "the venv is not the pinned one"


def test_every_install_uses_the_constraints() -> None:
    venv = (ROOT / "scripts" / "_venv.sh").read_text(encoding="utf-8")
    assert "-c constraints.txt" in venv
    assert "constraints.txt" in next(line for line in venv.splitlines() if line.startswith("STAMP="))
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"pip install [^\n]*-c constraints\.txt \.", dockerfile)
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
