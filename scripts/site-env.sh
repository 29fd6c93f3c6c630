# Environment of the embedded default install; sourced by setup.sh and wharfctl.
# Every value can be overridden by exporting it before running them.
: "${WHARF_REPO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export DJANGO_SETTINGS_MODULE=webapp.settings
export WHARF_ENV="${WHARF_ENV:-local}"
export SECRET_KEY_FILE="${SECRET_KEY_FILE:-$WHARF_REPO/var/secret_key}"
export WHARF_SIGNING_KEY_FILE="${WHARF_SIGNING_KEY_FILE:-$WHARF_REPO/var/job_signing_key}"
export WHARF_CREDENTIALS_KEY_FILE="${WHARF_CREDENTIALS_KEY_FILE:-$WHARF_REPO/var/credentials_key}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WHARF_REPO/var/db.sqlite3}"
export WHARF_REDIS_PORT="${WHARF_REDIS_PORT:-6379}"
export WHARF_REDIS_DIR="${WHARF_REDIS_DIR:-$WHARF_REPO/var/redis}"
export WHARF_REDIS_PASSWORD_FILE="${WHARF_REDIS_PASSWORD_FILE:-$WHARF_REPO/var/redis-site.password}"
if [ -z "${REDIS_URL:-}" ] && [ -s "$WHARF_REDIS_PASSWORD_FILE" ]; then
  REDIS_URL="redis://wharf-site:$(cat "$WHARF_REDIS_PASSWORD_FILE")@127.0.0.1:$WHARF_REDIS_PORT/0"
fi
export REDIS_URL
export WHARF_PORT="${WHARF_PORT:-8000}"
export WHARF_BIND="${WHARF_BIND:-127.0.0.1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost,$(hostname)}"
# The local host's worker: its own config, written at enrolment (no database, no site secret).
export WHARF_HOST_CONFIG="${WHARF_HOST_CONFIG:-$WHARF_REPO/var/host.json}"
