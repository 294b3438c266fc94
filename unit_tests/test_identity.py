"""The connector's identity: one version everywhere, a breaking-change entry Airbyte accepts, a
migration guide, local image tags only, every dependency used, the docs page in Airbyte's template."""

from __future__ import annotations

import ast
import datetime
import re
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from source_zoho_crm import schema_builder

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "integrations" / "sources"
# The official connector's definition id: a new major version of a connector keeps it.
OFFICIAL_DEFINITION_ID = "4942d392-c7b5-4271-91f9-3b4f4e51eb3e"
SEMVER = re.compile(r"\d+\.\d+\.\d+")


def metadata() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"])


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def docs_changelog_versions() -> list[str]:
    page = (DOCS / "zoho-crm.md").read_text()
    section = page[page.index("## Changelog") :]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [row.strip("|").split("|")[0].strip() for row in rows]


def test_one_version_everywhere() -> None:
    version = pyproject()["project"]["version"]
    assert metadata()["dockerImageTag"] == version
    assert docs_changelog_versions()[0] == version, "the newest docs changelog row is not the version"
    assert f"→ {version}" in (ROOT / "CHANGELOG.md").read_text().split("\n## ")[1].splitlines()[0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"LABEL io.airbyte.version={version}" in dockerfile


def test_a_major_version_above_the_official_connector_with_its_identity() -> None:
    data = metadata()
    assert Version(data["dockerImageTag"]) >= Version("1.0.0")  # the official connector is at 0.3.x
    assert data["definitionId"] == OFFICIAL_DEFINITION_ID
    assert data["dockerRepository"] == "airbyte/source-zoho-crm"


def test_breaking_changes_follow_airbytes_metadata_schema() -> None:
    """ConnectorBreakingChanges.yaml: semver keys, a message and a date each, optional URL and scopes."""
    data = metadata()
    changes = data["releases"]["breakingChanges"]
    assert changes, "breakingChanges needs at least one entry (minProperties: 1)"
    major = f"{Version(data['dockerImageTag']).major}.0.0"
    assert major in changes, f"no breaking change entry for {major}"
    guide = (DOCS / "zoho-crm-migrations.md").read_text()
    for version, change in changes.items():
        assert SEMVER.fullmatch(str(version)), version
        assert set(change) <= {"upgradeDeadline", "message", "migrationDocumentationUrl", "scopedImpact"}
        assert isinstance(change["message"], str) and len(change["message"]) > 40
        datetime.date.fromisoformat(str(change["upgradeDeadline"]))
        url = change.get("migrationDocumentationUrl", f"{data['documentationUrl']}-migrations#{version}")
        assert url == f"{data['documentationUrl']}-migrations#{version}"
        assert f"## Upgrading to {version}" in guide
        for scope in change.get("scopedImpact", []):
            assert scope["scopeType"] == "stream" and scope["impactedScopes"]


def test_migration_guide_covers_the_0_3_config_and_what_to_do() -> None:
    guide = (DOCS / "zoho-crm-migrations.md").read_text()
    for fragment in (
        "`US`",
        "`AU`",
        "`CN`",
        "`Production`",
        "`Sandbox`",
        "`edition`",
        "incremental_leads_zoho_crm_stream",
        "Refresh source schema",
        "reset",
    ):
        assert fragment in guide, fragment
    assert "zoho-crm-migrations.md" in (DOCS / "zoho-crm.md").read_text()


def test_no_official_image_tag_for_local_builds() -> None:
    official_tag = re.compile(r"-t\s+airbyte/source-zoho-crm|airbyte/source-zoho-crm:[0-9]")
    for path in [ROOT / "Dockerfile", ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("elt/*")]:
        found = official_tag.search(path.read_text())
        assert not found, f"{path.relative_to(ROOT)} tags a build as the official image: {found.group(0)}"
    assert "source-zoho-crm:dev" in (ROOT / "Dockerfile").read_text()


def _imported_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "source_zoho_crm").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_every_declared_dependency_is_used() -> None:
    imported = _imported_modules()
    for requirement in pyproject()["project"]["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        assert name.replace("-", "_").lower() in imported, f"{name} is declared but never imported"


def test_readme_states_the_python_of_pyproject() -> None:
    match = re.search(r"Python (3\.\d+)\+", (ROOT / "README.md").read_text())
    assert match, "README does not say which Python it needs"
    required = SpecifierSet(pyproject()["project"]["requires-python"])
    minor = Version(match.group(1))
    assert minor in required and Version(f"3.{minor.minor - 1}") not in required


def test_docs_page_follows_airbytes_template() -> None:
    page = (DOCS / "zoho-crm.md").read_text()
    assert page.count("<HideInUI>") == 1 and page.count("</HideInUI>") == 1
    assert page.index("<HideInUI>") < page.index("## Supported streams") < page.index("</HideInUI>")
    assert page.index("## Changelog") < page.index("</HideInUI>")
    table = page[page.index("## Data type map") :].split("\n## ")[0]
    zoho_types = {
        *schema_builder._SCALAR_TYPES,
        *schema_builder._STRUCTURED_TYPES,
        *schema_builder._COMPUTED_TYPES,
    }
    missing = sorted(t for t in zoho_types if f"`{t}`" not in table)
    assert not missing, f"the data type map lacks {missing}"


def test_catalog_command_is_installed_from_pyproject() -> None:
    assert pyproject()["project"]["scripts"]["zoho-crm-catalog"] == "source_zoho_crm.catalog_cli:main"
