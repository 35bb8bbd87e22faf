#!/usr/bin/env bash
# Run one benchmark against the local cluster (set up as ./test.sh does):
#   ./bench/run.sh demo_scale --outlets 1000000
# Each benchmark creates and drops its own database; results go to stdout.
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
[ $# -ge 1 ] || die "usage: ./bench/run.sh NAME [args]   (NAME: $(cd "$ROOT/bench" && ls *.py | sed 's/\.py$//' | tr '\n' ' '))"
name="$1"; shift
[ -f "$ROOT/bench/$name.py" ] || die "no benchmark bench/$name.py"
setup_all
if [[ "$name" =~ ^(geo_search|nearby_ab|conditional_get)$ ]] && ! command -v wrk >/dev/null 2>&1; then
    apt_install wrk  # the HTTP load generator
fi
cd "$ROOT"
exec "$VENV/bin/python" "bench/$name.py" "$@"
