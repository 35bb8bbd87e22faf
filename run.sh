#!/usr/bin/env bash
# Set up everything branchfinder needs and serve it on http://127.0.0.1:8000.
#   ./run.sh         set up (idempotent), migrate, load demo data, serve with gunicorn
#   ./run.sh stop    stop the local PostgreSQL cluster
# See README.md for the environment variables.
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"

case "${1:-serve}" in
    stop) stop_cluster; exit 0 ;;
    serve) ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) die "unknown command '$1': use './run.sh' or './run.sh stop'" ;;
esac

setup_all
BF="$VENV/bin/branchfinder"
export BRANCHFINDER_PHOTO_DIR="${BRANCHFINDER_PHOTO_DIR:-$ROOT/var/photos}"  # staff photos
"$BF" db create
"$BF" db upgrade
"$BF" demo load --if-empty --outlets "${BRANCHFINDER_DEMO_OUTLETS:-5000}" --seed 1

HOST="${BRANCHFINDER_HOST:-127.0.0.1}"
PORT="${BRANCHFINDER_PORT:-8000}"
say "serving on http://$HOST:$PORT  (Swagger UI: http://$HOST:$PORT/docs, health: /healthz; Ctrl-C stops)"
# The access log leaves query strings out: they carry users' positions and WeChat's openid.
exec "$VENV/bin/gunicorn" --bind "$HOST:$PORT" --workers "${BRANCHFINDER_WORKERS:-2}" \
    --access-logfile - --error-logfile - \
    --access-logformat '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s' \
    'backend.wsgi:app'
