# Pactra: `make run` runs the whole platform locally; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv

.PHONY: install run test test-unit test-deploy lint docs migrate deadletters clean eval-ai bench reset backup restore

$(UV):
	$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)

# Everything, in the foreground: S3 store, each service's API and worker. Ctrl-C stops all.
# SCALE="signing-worker=3 notify-worker=2" runs that many replicas of worker lines.
run: install
	$(VENV)/bin/pactra-dev run $(if $(SCALE),--scale "$(SCALE)")

# The whole suite against real PostgreSQL, RabbitMQ and S3. Exit code 5 ("no tests ran")
# is a failure like any other.
test: install
	$(VENV)/bin/pytest

# The unit tests alone (every tests/unit/ folder; conftest.py marks them): no service,
# database or broker, in seconds.
test-unit: install
	$(VENV)/bin/pytest -m unit -q $(wildcard libs/*/tests/unit services/*/tests/unit tests/unit)

# deploy/ for real: the base from Debian's packages (mmdebstrap), the images built with podman,
# deploy/compose.yaml run with podman-compose (pinned, in .tools/podman-compose) on fresh
# secrets, one life cycle through nginx whose receipt pactra-verify checks; then torn down
# (images kept). Needs podman, runc, mmdebstrap (.ci/run installs them). Fails, never skips,
# where podman cannot run. PACTRA_TEST_DEPLOY_PORT (18480) and the next port are its own.
PODMAN_COMPOSE_VERSION := 1.6.0
PODMAN_COMPOSE := .tools/podman-compose/bin/podman-compose

$(PODMAN_COMPOSE):
	$(PYTHON) -m venv .tools/podman-compose && \
	  .tools/podman-compose/bin/pip install --quiet podman-compose==$(PODMAN_COMPOSE_VERSION)

test-deploy: install $(PODMAN_COMPOSE)
	PACTRA_TEST_DEPLOY=1 PODMAN_COMPOSE=$(abspath $(PODMAN_COMPOSE)) \
	  $(VENV)/bin/pytest tests/deploy_live -p no:cacheprovider -x -s --timeout 1500

# ruff, then mypy over every package's source (pyproject.toml: strict on domain/ and
# service_layer/, lenient elsewhere to start).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

migrate: install
	$(VENV)/bin/pactra-migrate

# AsyncAPI documents of every worker, written to docs/asyncapi/.
docs: install
	mkdir -p docs/asyncapi
	set -o pipefail; $(VENV)/bin/python -m pactra_devtools.process_table workers | while read -r service app; do \
	  PACTRA_MASTER_KEY=docs-only-docs-only-docs-only-docs PACTRA_INTERNAL_SECRET=docs-only-docs-only-docs-only-docs \
	  $(VENV)/bin/faststream docs gen $$app --out docs/asyncapi/$$service.json || exit 1; \
	done

# Full life cycles through a platform of its own (agreements/s, CPU per agreement of each
# process), the forwarded GET's throughput by wrk against the floor (a minimal proxy before a
# minimal app with one query, same gunicorn settings), an open loop at half the maximum rate
# (latency p50/p95/p99), memory on a 20 MiB upload; then sealing a 10-page agreement with 2
# signers (stamps + certificate + PAdES seal): p50/p95, RSS. Needs Debian's wrk (installed with
# apt-get when run as root, else it says how). BASE=<commit> also measures that commit (a git
# worktree in .pactra/bench/, its own .venv) in the same run and prints the ratios new/base.
# Last, on a platform of its own, issue 15's rights (bench_rights): a workspace of 1 GiB and
# 10,000 agreements exported (time, MB/s, each process's RSS growth), one of 1,000 agreements
# deleted (the saga's time); long: RIGHTS=0 skips it.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "make bench needs wrk: sudo apt-get install wrk"; exit 2; }
	UV=$(abspath $(UV)) $(VENV)/bin/python -m pactra_devtools.bench $(if $(BASE),--base "$(BASE)") \
	  $(if $(BASE_DIR),--base-dir "$(BASE_DIR)") $(if $(filter 0,$(RIGHTS)),--no-rights)
	$(VENV)/bin/python -m pactra_devtools.bench_sealing

# Delete the local databases, queues, buckets and mail (asks first; FORCE=1 does not).
# .pactra/secrets.env stays, so the next `make run` starts afresh under the same keys.
reset: install
	$(VENV)/bin/pactra-dev reset $(if $(FORCE),--force)

# Every service's database (pg_dump, custom format) and bucket into .pactra/backups/<time>/
# (or DIR=...); `make restore DIR=...` puts one back (asks first; FORCE=1 does not). The
# master key is not in a backup: keep .pactra/secrets.env (deploy/OPERATIONS.md).
backup: install
	$(VENV)/bin/pactra-dev backup $(if $(DIR),--dir "$(DIR)")

restore: install
	@test -n "$(DIR)" || { echo "make restore DIR=.pactra/backups/<time>"; exit 2; }
	$(VENV)/bin/pactra-dev restore "$(DIR)" $(if $(FORCE),--force)

clean:
	rm -rf $(VENV) .tools

# The offline AI engine on the CUAD sample (shared/data/cuad): per clause type and micro-averaged
# precision, recall and F1, and summary coverage, on dev and test, as text and as PDFs.
eval-ai: install
	$(VENV)/bin/python -m pactra_devtools.ai_evaluation --engine offline --split dev --split test --pdf
