#!/usr/bin/env bash
# Mutation testing of the core files (not part of CI): installs the `mutation` extra (mutmut, pinned
# with constraints.txt) into .venv, then runs scripts/mutation.py; see its docstring. Exit 1 when a file
# is below 90 % killed.
export EXTRAS="dev,mutation"
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python scripts/mutation.py "$@"
