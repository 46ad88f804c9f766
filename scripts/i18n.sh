#!/usr/bin/env bash
# `make i18n`: export i18n/mass_mailing_delivery.pot from a throwaway database with the
# addon installed, then merge it into it.po, de.po, fr.po and pl.po (msgmerge keeps
# existing translations). Translate what is left empty, then commit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_odoo
require_postgres
command -v msgmerge >/dev/null 2>&1 || die "msgmerge is missing: install gettext (apt-get install gettext)."
WORK=$(mktemp -d /tmp/mmd-i18n.XXXXXX)
chmod 755 "$WORK"
trap 'stop_cluster "$WORK/pg"; rm -rf "$WORK"' EXIT
start_cluster "$WORK/pg"
link_addon "$WORK/addons"
write_odoo_conf "$WORK/odoo.conf" "$WORK/addons" "$WORK/data"
"${ODOO_BIN[@]}" -c "$WORK/odoo.conf" -d mmd_i18n -i "$ADDON_NAME" --without-demo=all \
    --stop-after-init --no-http --log-level=warn
"${ODOO_BIN[@]}" -c "$WORK/odoo.conf" -d mmd_i18n --modules="$ADDON_NAME" \
    --i18n-export="$REPO_ROOT/i18n/$ADDON_NAME.pot" --stop-after-init --no-http --log-level=warn
for lang in it de fr pl; do
    po="$REPO_ROOT/i18n/$lang.po"
    if [ -f "$po" ]; then
        msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$REPO_ROOT/i18n/$ADDON_NAME.pot"
    else
        msginit --no-translator --locale="$lang" --input="$REPO_ROOT/i18n/$ADDON_NAME.pot" --output-file="$po"
    fi
    echo "$lang: $(msgattrib --untranslated "$po" | grep -c '^msgid' || true) untranslated entries"
done
