# Dunwell — two commands for a newcomer: `make run` and `make test`.
# Needs Python 3.12+ (3.13 preferred, see .python-version) and make; nothing else of ours.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint migrate worker web check-deploy clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

# Web server and django-q2 worker together; Ctrl-C or SIGTERM stops both.
# The worker's main process must get exactly one SIGTERM and its children none: django-q2's
# sentinel dies at once on a SIGTERM of its own, and the main process, stopping it gracefully,
# then waits forever on the dead sentinel; a second SIGTERM re-enters the stop while it holds a
# lock and hangs too (django-q2 issue 346). So `set -m` gives each process a group of its own (a
# signal to make's whole group reaches only this shell), and the trap forwards the first one only.
run: export DUNWELL_SANDBOX ?= 1
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: migrate
	$(PY) manage.py seed_demo
	@echo "Starting web on http://$(HOST):$(PORT)/ and a worker. Ctrl-C stops both."
	@set -m; \
	  $(PY) manage.py qcluster & worker=$$!; \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT) & web=$$!; \
	  trap 'trap "" INT TERM HUP; kill -TERM $$worker $$web 2>/dev/null; wait' INT TERM HUP; \
	  wait -n; kill -TERM $$worker $$web 2>/dev/null; wait

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DUNWELL_SANDBOX=1 $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The same commands the Dockerfile runs, for checking it without a Docker engine.
check-deploy: $(VENV)/.installed
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  FIELD_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  PUBLIC_BASE_URL=https://dunwell.example.com \
	  sh -c '$(PY) manage.py collectstatic --noinput >/dev/null && $(PY) manage.py check --deploy --fail-level WARNING'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# --- Benchmarks (bench/RESULTS.md; not part of `make test`; needs PostgreSQL, Redis and wrk) ---
# Each writes bench/out/<name>.json; bench-report renders the tables of bench/RESULTS.md from them.
# AGAINST=<rev> runs calls, e2e, latency and scale-out side by side with that commit as well
# (bench/against.py: a temporary git worktree, runs interleaved ROUNDS times, ratios in the
# report); on main after a merge, HEAD~1 is main before it. AGAINST= runs this commit alone.
.PHONY: bench bench-ingest bench-calls bench-e2e bench-e2e-twilio bench-burst bench-sweep bench-latency bench-scaleout bench-workspace bench-report
bench: bench-ingest bench-calls bench-e2e bench-e2e-twilio bench-burst bench-sweep bench-latency bench-scaleout bench-workspace bench-report

AGAINST ?= HEAD~1
ROUNDS ?= 1
SIDE_BY_SIDE = $(PY) -m bench.against --rev '$(AGAINST)' --rounds $(ROUNDS)

$(VENV)/.installed-bench: bench/requirements.txt | $(VENV)/.installed
	$(PIP) install --quiet -r bench/requirements.txt
	touch $@

bench-ingest: $(VENV)/.installed-bench
	$(PY) -m bench.ingest --threads 4 --rates 50,100,200 --seconds 10 --repeat 3 --max-steal 10 --profile

bench-calls: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) calls --profile

# texts/s without --count-sql: its stack walk costs CPU (SQL per text: bench-calls).
bench-e2e: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) e2e --events 1000 --organisations 50 --rate 50

# The same with the stand-in Twilio answering as late as the real one.
bench-e2e-twilio: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) e2e --events 1000 --organisations 50 --rate 50 --twilio-latency-ms 150 --record e2e-twilio150

# One organisation's burst (~100 invoices in ~1 s): texted fast without spending more calls.
bench-burst: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) e2e --events 130 --organisations 1 --rate 20 --record burst

bench-sweep: $(VENV)/.installed-bench
	$(PY) -m bench.sweep --sizes 20x50,200x50,200x500

bench-latency: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) latency --invoices 30

bench-scaleout: $(VENV)/.installed-bench
	$(SIDE_BY_SIDE) scaleout --events 1500 --organisations 4 --rate 5

bench-workspace: $(VENV)/.installed-bench
	$(PY) -m bench.workspace --invoices 100000 --requests 20

bench-report:
	$(PY) -m bench.report
