#!/usr/bin/env bash
# README command two: install, lint, and run the whole test suite.
# The elt extra (PyAirbyte, DuckDB) is needed by integration_tests/test_elt_e2e.py.
export EXTRAS="dev,elt"
source "$(dirname "$0")/_venv.sh"
.venv/bin/ruff check source_zoho_crm zoho_crm_emulator unit_tests integration_tests scripts elt
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
