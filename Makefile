# The two commands: `make run` serves the demo, `make test` runs every test.
VENV    ?= .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask
PORT    ?= 8000
PYTHON  ?= python3
export FLASK_APP := wsgi

.PHONY: run test install test-install translations migrate demo serve lint-layers bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	@$(PY) -m pip install -q -e '.[test]'
	@touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

# Compiled catalogs are build output, not sources.
translations: install
	@$(VENV)/bin/pybabel -q compile -d core/translations

instance/config.py:
	@mkdir -p instance
	@$(PY) -c 'import secrets; print("SECRET_KEY = %r" % secrets.token_hex(32))' > $@
	@echo '# The demo schools'"'"' websites are served on loopback (flask demo sites); production leaves this out.' >> $@
	@echo 'DISCLOSURE_ALLOWED_NETWORKS = ["127.0.0.0/8"]' >> $@
	@echo '# The demo is served over plain HTTP on loopback; production sends the session cookie over HTTPS only.' >> $@
	@echo 'SESSION_COOKIE_SECURE = False' >> $@

migrate: install instance/config.py
	@$(FLASK) db upgrade

demo: migrate
	@$(FLASK) demo load

# The web server and a job worker (embedded broker: no server needed). The demo's
# statistics job pauses briefly per tenant so that its progress bar visibly moves.
serve:
	@echo "Tabel is serving on http://127.0.0.1:$(PORT) with a job worker  (Ctrl+C stops both)"
	@WEB_PORT=$(PORT) TABEL_DEMO_JOB_STEP_SECONDS=$${TABEL_DEMO_JOB_STEP_SECONDS:-0.3} $(VENV)/bin/honcho start -f Procfile

run: install translations demo serve

# SQLite first, then PostgreSQL (a fresh database per run; in CI a missing server fails).
test: test-install translations
	$(PY) -m pytest -q -p no:cacheprovider
	TABEL_TEST_DATABASE=postgresql $(PY) -m pytest -q -p no:cacheprovider

lint-layers:
	$(PY) ../shared/tools/check_layers.py

bench: install
	$(PY) bench/regulations.py

# Refresh the message catalogs after changing user-facing text.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o core/translations/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i core/translations/messages.pot -d core/translations

clean:
	rm -rf $(VENV) *.egg-info
