#!/usr/bin/env bash
# `make bench`: run the benchmarks of bench/ and print their figures. Databases live on a
# private cluster in .dev/bench: one with Odoo core only (the baseline), one with the addon,
# both re-created from templates at each run so every run starts from the same state.
# MMD_BENCH=bench/x.py runs one script; MMD_BENCH_ARGS adds options to its command line,
# e.g. MMD_BENCH=bench/bench_tracking_load.py MMD_BENCH_ARGS="--duration 30 --clients 50".
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_odoo
require_postgres
install_requirements
BENCH="$REPO_ROOT/.dev/bench"
mkdir -p "$BENCH"
chmod 755 "$REPO_ROOT/.dev" "$BENCH"
start_cluster "$BENCH/pg"
ADDONS_DIR=$(outside_addons_dir)
link_addon "$ADDONS_DIR"
write_odoo_conf "$BENCH/odoo.conf" "$ADDONS_DIR" "$BENCH/data" "max_cron_threads = 0" \
    "logfile = $BENCH/odoo.log"
PSQL=("$PG_BIN/psql" -h "$PG_SOCKET_DIR" -U "$DB_ROLE" -d postgres -tAq)

has_db() { "${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; }

template() {  # template NAME MODULES
    if ! has_db "$1"; then
        echo "Creating the template database $1 ($2)..."
        "${ODOO_BIN[@]}" -c "$BENCH/odoo.conf" -d "$1" -i "$2" --without-demo=all \
            --stop-after-init --no-http || die "Creating $1 failed: see $BENCH/odoo.log."
    fi
}

fresh() {  # fresh NAME TEMPLATE
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE $2"
    rm -rf "$BENCH/data/filestore/$1"
    [ -d "$BENCH/data/filestore/$2" ] && cp -r "$BENCH/data/filestore/$2" "$BENCH/data/filestore/$1"
    return 0
}

template bench_core_tpl mass_mailing,contacts
template bench_addon_tpl "$ADDON_NAME"
# keep the addon template current with the code
"${ODOO_BIN[@]}" -c "$BENCH/odoo.conf" -d bench_addon_tpl -u "$ADDON_NAME" --stop-after-init \
    --no-http || die "Updating bench_addon_tpl failed: see $BENCH/odoo.log."

cd "$REPO_ROOT"
for script in ${MMD_BENCH:-bench/bench_*.py}; do
    echo "== $script"
    if grep -q -- "--config" "$script"; then
        fresh bench_core bench_core_tpl
        fresh bench_addon bench_addon_tpl
        # MMD_BENCH_ARGS: extra options of the script run alone (MMD_BENCH=bench/x.py)
        # shellcheck disable=SC2086
        "$PYTHON" "$script" --config "$BENCH/odoo.conf" --db bench_core --db bench_addon \
            ${MMD_BENCH_ARGS:-}
    else
        "$PYTHON" "$script"
    fi
done
