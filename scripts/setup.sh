# shellcheck shell=bash
# Set-up shared by ./run.sh and ./test.sh; sourced, not executed.
#
# Every step checks whether its work is already done, so a second run costs a
# few seconds: system packages are looked for before apt-get is asked, the
# virtual environment is rebuilt only when pyproject.toml or constraints.txt
# change, and the local cluster is started only when it is not running.
#
# Environment:
#   DATABASE_URL       use this PostGIS database instead of the local cluster
#   TEST_DATABASE_URL  server (and name prefix) for the throw-away test databases
#   BRANCHFINDER_PG_PORT  port of the local cluster (default 25432: below Linux's
#                         ephemeral range 32768-60999, where an outgoing connection
#                         could already hold the port)
#   PYTHON             interpreter to build the virtual environment with

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
RUN_DIR="$ROOT/.run"
PG_PORT="${BRANCHFINDER_PG_PORT:-25432}"
PG_DB="${BRANCHFINDER_PG_DB:-branchfinder}"

say() { printf '\033[1m[branchfinder]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[branchfinder] error:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command with root rights: directly as root, through sudo otherwise.
as_root() {
    if is_root; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root rights to run '$*': install sudo or run this script as root"
    fi
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || die "missing system packages ($*) and no apt-get: install them with your package manager"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "updating the package lists (apt-get update)"
        as_root apt-get update -qq || die "apt-get update failed: check the network or your apt sources"
        APT_UPDATED=1
    fi
    say "installing system packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install $* failed: run it by hand to see why"
}

# --- Python ------------------------------------------------------------------

python_ok() {  # a Python >= 3.11 that can build a virtual environment with pip
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if python_ok "$candidate"; then command -v "$candidate"; return 0; fi
    done
    return 1
}

ensure_python() {
    # pip too: a first run interrupted while the venv was made leaves a python without it
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        return 0
    fi
    local py
    if ! py="$(find_python)"; then
        # Debian 12 has 3.11 but may lack venv/ensurepip; older Ubuntu needs python3.11.
        if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            apt_install python3-venv
        else
            apt_install python3.11 python3.11-venv
        fi
        py="$(find_python)" || die "no Python >= 3.11 with venv: install python3.11 and python3.11-venv"
    fi
    say "creating the virtual environment with $py"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || die "could not create $VENV: install python3-venv"
}

ensure_venv() {
    ensure_python
    local stamp="$VENV/.installed" want
    want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "installing Python dependencies into .venv (pinned by constraints.txt)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip >/dev/null \
        || die "pip could not upgrade itself: check access to PyPI"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -c "$ROOT/constraints.txt" -e "$ROOT[test]" \
        || die "pip install failed: check access to PyPI (see the messages above)"
    echo "$want" > "$stamp"
}

# --- PostgreSQL + PostGIS --------------------------------------------------------

pg_bindir() {  # newest installed PostgreSQL server binaries that have PostGIS beside them
    local dir version
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
        version="$(basename "$(dirname "$dir")")"
        if [ -x "$dir/pg_ctl" ] && [ -f "/usr/share/postgresql/$version/extension/postgis.control" ] \
            && [ -f "/usr/share/postgresql/$version/extension/pg_trgm.control" ]; then
            echo "$dir"; return 0
        fi
    done
    return 1
}

ensure_postgres_packages() {
    pg_bindir >/dev/null && return 0
    apt_install postgresql postgresql-contrib postgresql-postgis
    pg_bindir >/dev/null || die "PostgreSQL with PostGIS and pg_trgm is still missing: apt-get install postgresql postgresql-contrib postgresql-postgis"
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# unprivileged 'postgres' user that the Debian package creates.
as_pg() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_data_dir() {
    local dir="$ROOT/.pgdata"
    if is_root && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
        # The checkout is not reachable for 'postgres' (e.g. under /root): keep the
        # cluster in a per-checkout directory it can reach instead.
        dir="/var/tmp/branchfinder-pgdata-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    fi
    echo "$dir"
}

local_db_url() {
    local password
    password="$(cat "$RUN_DIR/pg-password")"
    echo "postgresql://postgres:${password}@127.0.0.1:${PG_PORT}/$1"
}

ensure_cluster() {
    local bindir data
    bindir="$(pg_bindir)"
    data="$(pg_data_dir)"
    mkdir -p "$RUN_DIR"
    chmod 700 "$RUN_DIR"
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating a local PostgreSQL cluster in $data (port $PG_PORT, UTF-8, C.UTF-8)"
        [ -f "$RUN_DIR/pg-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$RUN_DIR/pg-password")
        mkdir -p "$data"
        local pwfile="$data.pwfile"
        (umask 077; cp "$RUN_DIR/pg-password" "$pwfile")
        if is_root; then chown postgres: "$data" "$pwfile"; fi
        chmod 700 "$data"
        as_pg "$bindir/initdb" -D "$data" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwfile" >"$RUN_DIR/initdb.log" 2>&1 \
            || { rm -f "$pwfile"; die "initdb failed, see $RUN_DIR/initdb.log"; }
        rm -f "$pwfile"
    fi
    if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 \
        && [ "$(sed -n 4p "$data/postmaster.pid" 2>/dev/null)" != "$PG_PORT" ]; then
        say "restarting the local cluster on port $PG_PORT"
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        say "starting the local PostgreSQL cluster on 127.0.0.1:$PG_PORT"
        as_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
            -o "-p $PG_PORT -k $data -c listen_addresses=127.0.0.1" start >/dev/null \
            || die "PostgreSQL did not start: see $data/server.log (is port $PG_PORT taken? set BRANCHFINDER_PG_PORT)"
    fi
}

stop_cluster() {
    local bindir data
    bindir="$(pg_bindir)" || { say "PostgreSQL is not installed: nothing to stop"; return 0; }
    data="$(pg_data_dir)"
    if [ -f "$data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "local cluster stopped"
    else
        say "local cluster is not running"
    fi
}

# Sets DATABASE_URL (and, for tests, TEST_DATABASE_URL) and makes sure the
# server behind it is up.
ensure_database_server() {
    if [ -n "${DATABASE_URL:-}" ]; then
        say "using DATABASE_URL from the environment"
    else
        ensure_postgres_packages
        ensure_cluster
        DATABASE_URL="$(local_db_url "$PG_DB")"
    fi
    export DATABASE_URL
    export TEST_DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL%/*}/${PG_DB}_test}"
}

# --- Browser (page tests and screenshots) -------------------------------------------

# Debian's chromium, driven by Playwright from PyPI (no browser download: Playwright is
# pointed at this binary), with CJK fonts so that pages and screenshots show Chinese.
CHROMIUM="${BRANCHFINDER_CHROMIUM:-/usr/bin/chromium}"
ensure_browser() {
    if [ -x "$CHROMIUM" ] && fc-list :lang=zh 2>/dev/null | grep -q .; then
        return 0
    fi
    apt_install chromium fonts-noto-cjk
    [ -x "$CHROMIUM" ] || die "chromium is still missing at $CHROMIUM (set BRANCHFINDER_CHROMIUM)"
}

setup_all() {
    ensure_venv
    ensure_browser
    ensure_database_server
    export BRANCHFINDER_CHROMIUM="$CHROMIUM"
}
