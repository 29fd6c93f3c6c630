#!/usr/bin/env bash
# Run Wharf's whole test suite: lint, Django's checks, then every test.
# Needs root (real containers, mounts, namespaces) and a finished setup.sh.
#   sudo ./scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root; the integration tests need real namespaces and mounts" >&2; exit 1; }
[ -x .venv/bin/pytest ] || { echo "test.sh: run scripts/setup.sh first (no .venv)" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=webapp.settings WHARF_ENV=test
echo "== ruff"
ruff check .
ruff format --check . >/dev/null || { ruff format --check . | tail -5; echo "test.sh: run 'ruff format' on the files above" >&2; exit 1; }
echo "== django checks"
python manage.py check --fail-level WARNING
python manage.py makemigrations --check --dry-run >/dev/null || { echo "test.sh: models changed without a migration" >&2; exit 1; }
echo "== pytest"
# Tests run in WHARF_TEST_WORKERS processes (pytest-xdist; most of their time is spent
# waiting on containers, so more than the cores): each integration test has its own
# Wharf root and address pool, and the e2e tests share one stack in one worker
# (tests/conftest.py's scheduler). WHARF_TEST_WORKERS=0 runs them here, one at a time.
# The slowest tests are named at the end, to keep the run short as the suite grows.
exec pytest -n "${WHARF_TEST_WORKERS:-3}" --durations=40 "$@"
