#!/usr/bin/env bash
# `make demo`: a private PostgreSQL cluster under .dev/, a loopback SMTP server, a database
# with the addon and its demo data, and Odoo on http://localhost:8069 (admin / admin).
# Running it again reuses what exists. `make stop` (scripts/demo.sh stop) stops it all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DEV="$REPO_ROOT/.dev"
DB=${MMD_DEMO_DB:-mmd_demo}
HTTP_PORT=${MMD_HTTP_PORT:-8069}
SMTP_PORT=${MMD_SMTP_PORT:-2525}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pid() {
    if running "$1"; then
        kill "$(cat "$1")" 2>/dev/null || true
        for _ in $(seq 50); do running "$1" || break; sleep 0.2; done
    fi
    rm -f "$1"
}

if [ "${1:-start}" = stop ]; then
    require_postgres
    stop_pid "$DEV/odoo.pid"
    stop_pid "$DEV/smtp.pid"
    stop_cluster "$DEV/pg"
    echo "Demo stopped (its data stays in $DEV; delete that folder to start afresh)."
    exit 0
fi

require_odoo
require_postgres
install_requirements
mkdir -p "$DEV"
chmod 755 "$DEV"
start_cluster "$DEV/pg"
ADDONS_DIR=$(outside_addons_dir)
link_addon "$ADDONS_DIR"
write_odoo_conf "$DEV/odoo.conf" "$ADDONS_DIR" "$DEV/data" \
    "dbfilter = ^$DB\$" "http_port = $HTTP_PORT" "http_interface = 127.0.0.1" \
    "smtp_server = 127.0.0.1" "smtp_port = $SMTP_PORT" "logfile = $DEV/odoo.log" \
    "max_cron_threads = 1"

# The loopback SMTP server: accepts most mail, refuses some domains with real reply codes.
if ! running "$DEV/smtp.pid"; then
    (cd "$REPO_ROOT" && exec setsid "$PYTHON" -m tools.loopback_smtp --port "$SMTP_PORT" \
        --log "$DEV/smtp-received.jsonl" --store "$DEV/mailboxes") >"$DEV/smtp.log" 2>&1 &
    echo $! >"$DEV/smtp.pid"
fi

if "$PG_BIN/psql" -h "$PG_SOCKET_DIR" -U "$DB_ROLE" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    echo "Reusing the database $DB."
else
    NEW_DB=1
    echo "Creating the database $DB with the addon and its demo data (log: $DEV/install.log)..."
    "${ODOO_BIN[@]}" -c "$DEV/odoo.conf" -d "$DB" -i "$ADDON_NAME,account" --stop-after-init \
        --no-http --logfile= >"$DEV/install.log" 2>&1 \
        || die "The install failed: see $DEV/install.log."
    # Send through the loopback SMTP server of this demo.
    "${ODOO_BIN[@]}" shell -c "$DEV/odoo.conf" -d "$DB" --no-http --logfile= \
        >>"$DEV/install.log" 2>&1 <<PY || die "Configuring the demo failed: see $DEV/install.log."
env["ir.mail_server"].search([]).write({"active": False})
env["ir.mail_server"].create({
    "name": "Loopback SMTP (demo)", "smtp_host": "127.0.0.1", "smtp_port": $SMTP_PORT,
    "smtp_encryption": "none", "sequence": 1,
})
env["ir.config_parameter"].set_param("web.base.url", "http://localhost:$HTTP_PORT")
# the alias domain whose bounce address receives delivery reports and complaints
domain = env["mail.alias.domain"].search([], limit=1) or env["mail.alias.domain"].create(
    {"name": "mycompany.example.com", "bounce_alias": "bounce", "catchall_alias": "catchall"}
)
env.company.alias_domain_id = domain
env.cr.commit()
PY
fi

if running "$DEV/odoo.pid"; then
    echo "Odoo is already running."
else
    setsid "${ODOO_BIN[@]}" -c "$DEV/odoo.conf" -d "$DB" >/dev/null 2>&1 &
    echo $! >"$DEV/odoo.pid"
    for _ in $(seq 120); do
        curl -fsS -o /dev/null "http://localhost:$HTTP_PORT/web/login" 2>/dev/null && break
        running "$DEV/odoo.pid" || die "Odoo stopped at start: see $DEV/odoo.log."
        sleep 1
    done
fi

# The story of the demo, done for real: send, read, bounce (scripts/demo_story.py).
if [ -n "${NEW_DB:-}" ]; then
    echo "Telling the demo's story: sending, reading, bouncing (log: $DEV/story.log)..."
    story() {  # story STEP: one step inside odoo-bin shell
        { echo "STEP = \"$1\""; cat "$REPO_ROOT/scripts/demo_story.py"; } |
            "${ODOO_BIN[@]}" shell -c "$DEV/odoo.conf" -d "$DB" --no-http --logfile= \
            >>"$DEV/story.log" 2>&1 || die "The demo story failed at '$1': see $DEV/story.log."
    }
    story send
    "$PYTHON" "$REPO_ROOT/scripts/demo_story.py" visit --url "http://localhost:$HTTP_PORT" \
        --mailboxes "$DEV/mailboxes" >>"$DEV/story.log" 2>&1 \
        || die "The demo story failed at 'visit': see $DEV/story.log."
    story bounces
    grep '^demo:' "$DEV/story.log" | sed 's/^/  /'
fi

cat <<EOF

  Odoo with Email Delivery Diagnostics: http://localhost:$HTTP_PORT  (login admin / admin)
  database $DB on a private PostgreSQL cluster in $DEV/pg (socket $PG_SOCKET_DIR)
  loopback SMTP server on 127.0.0.1:$SMTP_PORT; received mail: $DEV/smtp-received.jsonl
    refuses *@nouser.example (550 5.1.1), *@full.example (452 4.2.2), *@busy.example (421 4.7.0)
  logs: $DEV/odoo.log, $DEV/smtp.log
  stop it all with: make stop   (run 'make demo' again to restart; rm -rf .dev to start afresh)
EOF
