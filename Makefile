# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FORMSVC_TEST_DATABASE_URL ?=

.PHONY: setup run test lint chromium translations bench clean

setup: $(VENV)/.installed translations

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

## Run the service on SQLite with the shipped forms and demo data; mail lands in instance/mail/.
run: setup instance/config.py
	$(BIN)/formsvc init-db
	$(BIN)/formsvc demo
	$(BIN)/formsvc demo-staff --port $(PORT)
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

# A benchmark that misses a target exits 1; the leading "-" runs the next one all the same.
bench: setup
	-$(BIN)/python bench/bench_export.py
	-$(BIN)/python bench/bench_throughput.py
	-$(BIN)/python bench/bench_latency.py --database sqlite
	-$(BIN)/python bench/bench_latency.py --database postgresql
	-$(BIN)/python bench/bench_floor.py
	-$(BIN)/python bench/bench_live.py
	-$(BIN)/python bench/bench_integrations.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
