#!/usr/bin/env bash
# README command two: install, lint, and run the whole test suite.
source "$(dirname "$0")/_venv.sh"
.venv/bin/ruff check source_zoho_crm unit_tests integration_tests scripts
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
