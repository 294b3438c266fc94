#!/usr/bin/env bash
# README command two: install, lint, and run the whole test suite.
# The elt extra (PyAirbyte, DuckDB) is needed by integration_tests/test_elt_e2e.py.
export EXTRAS="dev,elt"
source "$(dirname "$0")/_venv.sh"
.venv/bin/ruff check source_zoho_crm zoho_crm_emulator unit_tests integration_tests scripts elt
# The end-to-end tests run against the emulator in its default and its pessimistic setting (Zoho's
# undocumented behaviours at their worst reading: zoho_crm_emulator/README.md); override with
# ZOHO_EMULATOR_SETTING=default or pessimistic.
export ZOHO_EMULATOR_SETTING="${ZOHO_EMULATOR_SETTING:-both}"
# Test files run side by side on every core (pytest-xdist; each file's fixtures stay in one worker).
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile "$@"
