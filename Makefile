# Email Delivery Diagnostics: developer commands. See README.rst.
.PHONY: demo stop test lint format bench i18n screenshots help

help:
	@echo "make demo   - private PostgreSQL + loopback SMTP + Odoo with the addon and demo data on :8069"
	@echo "make stop   - stop what 'make demo' started"
	@echo "make test   - install into a throwaway database and run every test (pytest-odoo)"
	@echo "make lint   - ruff, ruff format --check, pylint-odoo"
	@echo "make bench  - run the benchmarks of bench/ (prints figures)"
	@echo "make i18n   - export the .pot and merge it into it, de, fr, pl .po files"
	@echo "make screenshots - screenshots of the running demo for README and the Apps page"

demo:
	@bash scripts/demo.sh

stop:
	@bash scripts/demo.sh stop

test:
	@bash scripts/test.sh

lint:
	@bash scripts/lint.sh

format:
	ruff format . && ruff check --fix .

i18n:
	@bash scripts/i18n.sh

bench:
	@bash scripts/bench.sh

screenshots:
	@python3 scripts/screenshots.py
