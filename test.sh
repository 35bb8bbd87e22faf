#!/usr/bin/env bash
# Set up what the tests need (as ./run.sh does, without serving) and run the
# whole pytest suite against a throw-away database. Arguments go to pytest:
#   ./test.sh -k registry -x
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"

setup_all
cd "$ROOT"
# The layers of docs/ARCHITECTURE.md (contracts in pyproject.toml): an import back up fails here.
"$VENV/bin/lint-imports" --no-cache || die "an import breaks the layers (lint-imports above)"
status=0
"$VENV/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    die "pytest collected no tests (check the -k expression)"
fi
exit "$status"
