#!/usr/bin/env bash
# `make lint`: ruff, ruff format --check, pylint-odoo (valid-odoo-versions 18.0).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
command -v ruff >/dev/null 2>&1 && "$PYTHON" -c "import pylint_odoo" 2>/dev/null || install_requirements
echo "ruff check"
ruff check .
echo "ruff format --check"
ruff format --check .
echo "pylint-odoo"
WORK=$(mktemp -d /tmp/mmd-lint.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
link_addon "$WORK"
(cd "$WORK" && "$PYTHON" -m pylint --rcfile="$REPO_ROOT/.pylintrc" "$ADDON_NAME")
echo "README.rst (rst2html --strict)"
"$PYTHON" -m docutils --strict README.rst /dev/null
echo "lint: ok"
