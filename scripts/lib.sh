# Shared shell functions of `make test`, `make demo` and the benchmarks.
# Source it; it defines functions and variables, and runs nothing by itself.

ADDON_NAME=mass_mailing_delivery
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
DB_ROLE=odoo

die() {
    echo "$*" >&2
    exit 1
}

# Stop with one clear sentence when Odoo 18 is not importable; set ODOO_ROOT, ODOO_BIN.
require_odoo() {
    local info
    info=$(cd / && "$PYTHON" -c 'import os, odoo.release as r, odoo
print(r.version_info[0], os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null) \
        || die "Odoo 18 is not importable by $PYTHON: install Odoo 18.0 Community so that '$PYTHON -c \"import odoo\"' works (see README.rst, Installation)."
    [ "${info%% *}" = "18" ] || die "Odoo ${info%% *} is importable by $PYTHON, but this addon needs Odoo 18.0."
    ODOO_ROOT=${info#* }
    if [ -f "$ODOO_ROOT/odoo-bin" ]; then
        ODOO_BIN=("$PYTHON" "$ODOO_ROOT/odoo-bin")
    else
        ODOO_BIN=("$PYTHON" -c 'import sys; from odoo.cli.command import main; sys.argv[0] = "odoo"; main()')
    fi
    ODOO_ADDONS="$ODOO_ROOT/odoo/addons"
    [ -d "$ODOO_ROOT/addons/mass_mailing" ] && ODOO_ADDONS="$ODOO_ROOT/addons,$ODOO_ADDONS"
    return 0
}

# Stop with one clear sentence when the PostgreSQL server binaries are missing; set PG_BIN.
require_postgres() {
    local dir
    for dir in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            PG_BIN=$dir
            return 0
        fi
    done
    die "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: install them (Debian: apt-get install postgresql) and try again."
}

# Install the addon's Python dependencies (quietly; nothing to do when present).
install_requirements() {
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        -r "$REPO_ROOT/requirements.txt" \
        || die "Could not install the Python dependencies of requirements.txt."
}

# Run a command as the owner of the cluster: PostgreSQL refuses to run as root.
as_pg_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_OWNER" -- "$@"
    else
        "$@"
    fi
}

# Pick the OS user that owns clusters: `postgres` when we are root, else ourselves.
pick_pg_owner() {
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres \
            || die "Could not create the 'postgres' user to run PostgreSQL (it refuses to run as root)."
        PG_OWNER=postgres
    else
        PG_OWNER=$(id -un)
    fi
}

# Create (if needed) and start a private cluster in $1 listening on a socket only.
# Sets PG_SOCKET_DIR. The superuser role is "$DB_ROLE" (Odoo refuses the "postgres" role).
start_cluster() {
    local dir=$1
    pick_pg_owner
    PG_SOCKET_DIR="$dir/run"
    mkdir -p "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data" "$PG_SOCKET_DIR"
        [ "$(id -u)" = 0 ] && chown -R "$PG_OWNER" "$dir"
        as_pg_owner "$PG_BIN/initdb" -D "$dir/data" -U "$DB_ROLE" -A trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || die "initdb failed: see $dir/initdb.log."
    fi
    if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
            -o "-c listen_addresses='' -k $PG_SOCKET_DIR -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
            >/dev/null || die "PostgreSQL did not start: see $dir/postgres.log."
    fi
}

stop_cluster() {
    local dir=$1
    pick_pg_owner
    [ -f "$dir/data/PG_VERSION" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    return 0
}

# A TCP port free on loopback now (so that several test runs can share a machine).
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A folder outside the repository for the addons link of the demo and the benchmarks: a
# link inside the repository would point at itself, and Odoo's translation export walks
# the addon following links.
outside_addons_dir() {
    echo "${TMPDIR:-/tmp}/mmd-addons-$(printf %s "$REPO_ROOT" | md5sum | cut -c1-8)"
}

# Make $1/mass_mailing_delivery point at this repository, whatever its folder is called.
link_addon() {
    mkdir -p "$1"
    ln -sfn "$REPO_ROOT" "$1/$ADDON_NAME"
}

# Write an Odoo configuration file: write_odoo_conf FILE ADDONS_DIR DATA_DIR [extra lines...]
write_odoo_conf() {
    local file=$1 addons=$2 data=$3
    shift 3
    {
        echo "[options]"
        echo "addons_path = $ODOO_ADDONS,$addons"
        echo "data_dir = $data"
        echo "db_host = $PG_SOCKET_DIR"
        echo "db_user = $DB_ROLE"
        echo "db_password = False"
        echo "admin_passwd = admin"
        echo "list_db = True"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}
