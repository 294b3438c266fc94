# Sourced by demo.sh and test.sh: makes .venv with the project and the extras in $EXTRAS installed,
# every dependency at the version pinned in constraints.txt (the stamp changes when the pins do).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
EXTRAS="${EXTRAS:-dev}"
STAMP=.venv/.installed-$EXTRAS-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  echo "Installing the project and its $EXTRAS extras into .venv (once; a minute or two)..." >&2
  .venv/bin/python -m pip install -qq --upgrade pip
  .venv/bin/python -m pip install -qq -c constraints.txt -e ".[$EXTRAS]"
  touch "$STAMP"
fi
