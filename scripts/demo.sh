#!/usr/bin/env bash
# README command one: install, then sync the emulator (or a real org with --config FILE) and summarise.
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/python scripts/demo.py "$@"
