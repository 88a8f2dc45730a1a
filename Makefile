# The front door. `make run` and `make test` do all the set-up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON3 ?= python3

.PHONY: run rehearse test test-ha test-browser chromium messages bench bench-versus bench-ws bench-proof bench-tools stack down status logs setup venv lock lint format

## run: install, bring the stack up, migrate, seed the demo, start every process
run: setup
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	exec bin/run

## rehearse: after `make run`, in another terminal: a crowd of shoppers against it, verdicts and a report
## (README, "Rehearse a sale"; flags in ARGS, e.g. make rehearse ARGS="--chaos consumer:at=5s,for=10s")
rehearse: venv
	$(PY) manage.py rehearse $(ARGS)

## test: bring the stack up if needed and run the whole suite against the real servers,
## the browser tests (Playwright driving Debian's chromium through nginx) included
## (then, unless FLUX_STACK=external already, the same suite again against stand-in servers that
## bin/stack does not run: bin/test-external, the path of Docker's and managed servers; and last
## the fault tests on the HA topology: bin/test-ha)
test: stack chromium messages
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)
ifneq ($(FLUX_STACK),external)
	bin/test-external
	VENV=$(VENV) bin/test-ha
endif

## test-ha: the fault tests on the HA topology (bin/stack up --ha, tests/ha, then down again)
test-ha: venv
	VENV=$(VENV) bin/test-ha $(PYTEST_ARGS)

## test-browser: only the browser tests (tests/browser); see README for watching them
test-browser: stack chromium messages
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

# Playwright cannot download its own browser here: it drives Debian's chromium.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && { \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; }; } \
	  || { echo "chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; }

## bench: load the buy API with wrk, drain the backlog, the waiting room's fan-out, then
## Flux-Gate against the Node.js original side by side in one run (bench/versus.py); print the tables
bench: setup bench-tools chromium
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) bench/run.py
	$(PY) bench/drain.py
	$(PY) bench/ws_fanout.py
	$(PY) bench/proof_cost.py
	$(PY) bench/versus.py

## bench-versus: only the side-by-side phase against the Node.js original
bench-versus: setup bench-tools
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) bench/versus.py

## bench-ws: only the waiting room's fan-out (10,000 websockets on one daphne; bench/wsclient is Go)
bench-ws: setup bench-tools
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) bench/ws_fanout.py

## bench-proof: only what the proof of work costs a shopper's page (proof.js in chromium, CPU throttled 1×, 4×, 6×)
bench-proof: venv chromium
	$(PY) bench/proof_cost.py

bench-tools:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; }
	@command -v go >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq golang-go; }
	@command -v redis-server >/dev/null && command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq redis-server npm; }

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@$(PYTHON3) -m venv --help >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq python3-venv; }
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.lock
	touch $@

stack: venv
	bin/stack up

setup: stack messages
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py kafka_topics

## messages: compile the shopper pages' translations (locale/<code>/LC_MESSAGES/django.po)
messages: venv
	@command -v msgfmt >/dev/null || { [ "$$(id -u)" = 0 ] && { \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }; }; } \
	  || { echo "msgfmt is missing: sudo apt-get install -y gettext" >&2; exit 1; }
	$(PY) manage.py compilemessages -v0 --ignore=.venv

down:
	bin/stack down

status:
	bin/stack status

logs:
	bin/stack logs

## lock: re-resolve pyproject.toml's dependencies into requirements.lock
lock:
	rm -rf /tmp/flux-lock && $(PYTHON3) -m venv /tmp/flux-lock
	/tmp/flux-lock/bin/pip install -q ".[dev]" && /tmp/flux-lock/bin/pip freeze --exclude flux-gate \
	  | sed '1i # Exact versions installed by `make` into .venv (regenerate: make lock).' > requirements.lock

## lint: ruff, and the layout's import contracts (pyproject.toml, [tool.importlinter])
lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports --no-cache

format:
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .
