#!/usr/bin/env bash
# `make test`: install the addon into a throwaway database on a throwaway cluster,
# then run every test with pytest-odoo. Ends with pytest's summary line; exits
# non-zero on an install error, a warning in the install log, a failed or skipped test.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_odoo
require_postgres
install_requirements

# Browser tours need Debian's chromium; without it they would be skipped, so install it.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing Debian's chromium for the browser tours..."
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
            >/tmp/mmd-apt.log 2>&1 || die "Could not install chromium (see /tmp/mmd-apt.log)."
    else
        die "Browser tours need Debian's chromium: install it (apt-get install chromium)."
    fi
fi

WORK=${MMD_TEST_DIR:-$(mktemp -d /tmp/mmd-test.XXXXXX)}
chmod 755 "$WORK"
DB=mmd_test
cleanup() {
    stop_cluster "$WORK/pg"
    [ -n "${MMD_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

start_cluster "$WORK/pg"
link_addon "$WORK/addons"
write_odoo_conf "$WORK/odoo.conf" "$WORK/addons" "$WORK/data" \
    "db_name = $DB" "dbfilter = ^$DB\$" "http_interface = 127.0.0.1" "max_cron_threads = 0" \
    "http_port = ${MMD_HTTP_PORT:-$(free_port)}"

# Apps installed beside the addon for the tests (the tracked invoice e-mails need account).
EXTRA_MODULES=${MMD_TEST_EXTRA_MODULES-account}
echo "Installing $ADDON_NAME${EXTRA_MODULES:+ and $EXTRA_MODULES} into a throwaway database (log: $WORK/install.log)..."
set +e
(cd "$WORK" && "${ODOO_BIN[@]}" -c "$WORK/odoo.conf" -d "$DB" -i "$ADDON_NAME${EXTRA_MODULES:+,$EXTRA_MODULES}" \
    --stop-after-init --log-level=info --no-http) >"$WORK/install.log" 2>&1
rc=$?
set -e
# Warnings are errors at install: a view, access or data problem must fail the run.
if [ $rc -ne 0 ] || grep -E ' (WARNING|ERROR|CRITICAL) ' "$WORK/install.log" >/dev/null; then
    grep -E -A15 ' (WARNING|ERROR|CRITICAL) ' "$WORK/install.log" | head -80 >&2 || true
    tail -5 "$WORK/install.log" >&2
    die "The install of $ADDON_NAME failed or logged warnings (exit code $rc): see above."
fi

cd "$WORK"
export MMD_FAIL_ON_SKIP=1
set +e
PYTHONPATH="$REPO_ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" \
    "$PYTHON" -m pytest -p no:cacheprovider -p pytest_plugin -rs \
    --odoo-config="$WORK/odoo.conf" --odoo-database="$DB" --odoo-http \
    --odoo-log-level="${MMD_ODOO_LOG_LEVEL:-warn}" \
    "$WORK/addons/$ADDON_NAME/tests" "$@"
rc=$?
exit $rc
