# Two commands for a newcomer (see README):
#   make run   - set up ./.venv and run mailgate on the embedded default (SQLite under store/)
#   make test  - set up everything the tests need (Debian packages too) and run the whole suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEB_STAMP := $(VENV)/.debs-installed
# dovecot-imapd: a real IMAP server for IMAP tests; postgresql: a real server for the store tests
DEB_PACKAGES := dovecot-imapd postgresql

.PHONY: run test venv debs lint demo clean-store

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use (a real Dovecot for IMAP tests). Installed once per machine.
$(DEB_STAMP): Makefile
	@if ! command -v dovecot >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $(DEB_STAMP)

debs: $(DEB_STAMP)

run: $(STAMP)
	$(BIN)/mailgate serve

demo: $(STAMP)
	$(BIN)/mailgate import fixtures/emails
	$(BIN)/mailgate ticket list

test: $(STAMP) $(DEB_STAMP)
	$(BIN)/ruff check mailgate tests bench
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check mailgate tests bench

clean-store:
	find store -mindepth 1 ! -name README.md ! -name .gitignore -exec rm -rf {} +
