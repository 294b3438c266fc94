# Sourced by demo.sh and test.sh: makes .venv with the project and the extras in $EXTRAS installed,
# every dependency at the version pinned in constraints.txt (the stamp changes when the pins do).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$PYTHON" --version 2>&1)" >&2
  "$PYTHON" -m venv .venv
fi
EXTRAS="${EXTRAS:-dev}"
STAMP=.venv/.installed-$EXTRAS-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
  echo "Installing the project and its $EXTRAS extras into .venv (once; a minute or two):" >&2
  echo "  [1/2] upgrading pip" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  echo "  [2/2] installing the pinned dependencies (full log: .venv/pip-install.log)" >&2
  # One line that counts the packages pip collects, then what it installs; pip's own output goes to the log.
  if ! .venv/bin/python -m pip install -c constraints.txt -e ".[$EXTRAS]" 2>&1 | tee .venv/pip-install.log |
      awk '/^Collecting / { n++; printf "\r        collected %d packages (%s)\033[K", n, $2 > "/dev/stderr"; fflush("/dev/stderr") }
           /^Installing collected packages/ { printf "\n        installing them...\n" > "/dev/stderr" }
           /^Successfully installed/ { print "        done" > "/dev/stderr" }'; then
    echo "pip failed; the end of .venv/pip-install.log:" >&2
    tail -n 25 .venv/pip-install.log >&2
    exit 1
  fi
  touch "$STAMP"
fi
