# Sourced by demo.sh and test.sh: makes .venv with the project and the extras in $EXTRAS installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
EXTRAS="${EXTRAS:-dev}"
STAMP=.venv/.installed-$EXTRAS-$(sha256sum < pyproject.toml | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
  touch "$STAMP"
fi
