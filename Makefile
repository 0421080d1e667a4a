# Two commands for a newcomer (see README):
#   make run   - set up ./.venv and run mailgate on the embedded default (SQLite under store/)
#   make test  - set up everything the tests need (Debian packages too) and run the whole suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEB_STAMP := $(VENV)/.debs-installed
# dovecot-imapd: a real IMAP server for IMAP tests; postgresql: a real server for the store tests;
# postfix: the MTA of the end-to-end tests (tests/deploy/), each test running its own instance
# chromium: the web desk's browser tests (driven by Playwright through executable_path; a
# browser download is neither needed nor possible)
DEB_PACKAGES := dovecot-imapd postgresql postfix chromium

.PHONY: run test venv debs lint demo clean-store

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use. Installed once per machine.
# Postfix is preseeded "No configuration": the package then writes no /etc/postfix/main.cf, and
# without one neither its systemd unit (ConditionPathExists) nor its init script starts a
# system Postfix, so installing it opens no port 25. A machine whose Postfix is already set up
# keeps its configuration (the preseed only answers the question of a first install).
$(DEB_STAMP): Makefile
	@if ! command -v dovecot >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
			|| [ ! -x /usr/sbin/postfix ] || [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections; \
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
