# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# make run NEW_PASSWORD=1 gives the demo staff account a new password (else the one kept in instance/).
NEW_PASSWORD ?=
export FORMSVC_TEST_DATABASE_URL ?=

.PHONY: setup run test lint chromium pdf-libraries translations bench docs-images clean

setup: $(VENV)/.installed translations pdf-libraries

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d formsvc/translations -f 2>&1 | tail -n 1

instance/config.py:
	mkdir -p instance
	printf 'SECRET_KEY = "%s"\nFORMSVC_SECRETARIAT_EMAIL = "sekretariat@example.org"\nFORMSVC_PUBLIC_URL = "http://127.0.0.1:$(PORT)"\n' \
		"$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')" > $@

# Links in mails go to this address (the app refuses to start without one); the environment wins over
# instance/config.py, so an older config.py without it, or another PORT, still gets working links.
run: export FORMSVC_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
# The demo's contact block (fictitious number), for the mails the demo command writes as well as the server's.
run: export FORMSVC_SECRETARIAT_PHONE ?= 010-123 45 67

## Run the service on SQLite with the shipped forms and demo data; mail lands in instance/mail/.
run: setup instance/config.py
	$(BIN)/formsvc demo --port $(PORT) $(if $(NEW_PASSWORD),--new-password)
	@# The staff login, last on the screen: printed in the background once the server answers.
	@$(BIN)/python -m formsvc.demo $(PORT) "$(CURDIR)/instance" &
	FORMSVC_MAIL_FLUSH_SECONDS=3 $(BIN)/formsvc run --host 127.0.0.1 --port $(PORT)

## Run the whole test suite (SQLite, and PostgreSQL when FORMSVC_TEST_DATABASE_URL is set).
test: setup chromium
	$(BIN)/ruff check .
	$(BIN)/formsvc forms check
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .

# Browser tests drive Debian's Chromium at this path (tests/browser_support.py); install it when it is
# missing (needs root, as in CI). Never `playwright install`: no browser downloads from elsewhere.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || (export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq chromium) || \
		(echo "Chromium is missing: run 'apt-get install -y chromium' as root" >&2; exit 1)

# The registrar copies (formsvc/records) are PDFs made by WeasyPrint, which needs Debian's Pango and
# HarfBuzz and a font; install them when missing (needs root, as in CI). No fonts are fetched from elsewhere.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libraries:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || (export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $(PDF_PACKAGES)) || \
		(echo "Libraries for PDFs are missing: run 'apt-get install -y $(PDF_PACKAGES)' as root" >&2; exit 1)

# The pictures in docs/guide-formular.md, taken by the browser tests (test-artifacts/screenshots/): the editor's
# flow, and the editor pages' accessibility rows (whole pages: their top, `name:height` pixels, is kept).
# Copied here as palette PNGs, which keeps them small.
DOC_IMAGES := redigera-villkor-desktop redigera-villkor-phone formular-desktop:900 formular-redigera-desktop:1100 \
	formular-redigera-phone:1400 formular-forhandsvisa-mobil-desktop:1300
docs-images: setup chromium
	$(BIN)/pytest -q tests/test_browser.py -k "build_publish and not no-js or formular-redigera or formular-forhandsvisa-mobil or accessibility_violations and formular-desktop"
	$(BIN)/python tests/doc_images.py $(DOC_IMAGES)

# A benchmark that misses a target exits 1; the leading "-" runs the next one all the same.
bench: setup
	-$(BIN)/python bench/bench_export.py
	-$(BIN)/python bench/bench_throughput.py
	-$(BIN)/python bench/bench_latency.py --database sqlite
	-$(BIN)/python bench/bench_latency.py --database postgresql
	-$(BIN)/python bench/bench_latency.py --database sqlite --max-requests 500
	-$(BIN)/python bench/bench_latency.py --database postgresql --max-requests 500
	-$(BIN)/python bench/bench_floor.py
	-$(BIN)/python bench/bench_live.py
	-$(BIN)/python bench/bench_integrations_floor.py
	-$(BIN)/python bench/bench_integrations.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
