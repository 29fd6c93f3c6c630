#!/usr/bin/env bash
# Install everything Wharf needs on a Debian 12 machine and start the embedded
# default: SQLite, a local Redis, the ASGI server, one worker for this host and
# the periodic scheduler.  Run as root.  A second run is quick: every step checks
# first and does nothing when its work is already done.
#
#   sudo ./scripts/setup.sh            install, then start (or restart) everything
#   sudo ./scripts/setup.sh --no-start install only (CI uses this)
#
# Environment: WHARF_ADMIN_PASSWORD sets the admin password on first install
# (otherwise one is generated and printed once); WHARF_PORT (default 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
START=1
[ "${1:-}" = "--no-start" ] && START=0

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run me as root (sudo $0): the worker manages mounts, namespaces and cgroups"

# --- Debian packages -------------------------------------------------------
mapfile -t WANT < <(grep -vE '^\s*(#|$)' scripts/apt-packages.txt)
MISSING=()
for p in "${WANT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
# A machine may carry its own node/npm outside apt: accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  MISSING=("${MISSING[@]/nodejs}"); MISSING=("${MISSING[@]/npm}")
fi
if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  MISSING=("${MISSING[@]/python3-venv}"); MISSING=("${MISSING[@]/python3}")
  MISSING=("${MISSING[@]/python3-dev}")
fi
read -ra MISSING <<<"${MISSING[*]:-}"
if [ "${#MISSING[@]}" -gt 0 ]; then
  say "installing Debian packages: ${MISSING[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi

# --- Python virtualenv -----------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
STAMP=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat .venv/.wharf-stamp 2>/dev/null)" != "$STAMP" ]; then
  say "installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip
  # compat: a plain .pth path entry; the default import hook costs ~10 ms per wharf command
  .venv/bin/pip install -q -e '.[test]' --config-settings editable_mode=compat
  echo "$STAMP" > .venv/.wharf-stamp
fi
ln -sf "$REPO/.venv/bin/wharf" /usr/local/bin/wharf

# --- Docker's default seccomp profile ----------------------------------------
# Debian ships it as data in golang-github-docker-docker-dev, whose install pulls
# some 260 Go source packages: take the one file out of the package instead.
DEB_PROFILE=/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
PROFILE=/usr/local/share/wharf/seccomp/docker-default.json
if [ ! -s "$DEB_PROFILE" ] && [ ! -s "$PROFILE" ]; then
  say "installing Docker's default seccomp profile"
  tmp=$(mktemp -d)
  chmod 755 "$tmp"   # apt's download sandbox user writes here
  (cd "$tmp" && { apt-get download -qq golang-github-docker-docker-dev 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq golang-github-docker-docker-dev; }; }) ||
    die "downloading golang-github-docker-docker-dev (Docker's seccomp profile) failed"
  mkdir -p "$(dirname "$PROFILE")"
  dpkg-deb --fsys-tarfile "$tmp"/golang-github-docker-docker-dev_*.deb |
    tar -xO ".$DEB_PROFILE" > "$PROFILE.tmp"
  python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["syscalls"]' "$PROFILE.tmp" ||
    die "the seccomp profile taken from golang-github-docker-docker-dev is not valid"
  mv "$PROFILE.tmp" "$PROFILE"
  rm -rf "$tmp"
fi
# the per-container monitor is a small C program, compiled once (gcc from build-essential)
.venv/bin/python -m runtime.oci.shim >/dev/null || die "building the container shim failed (is gcc installed?)"

# --- front-end assets from the npm registry --------------------------------
NSTAMP=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat node_modules/.wharf-stamp 2>/dev/null)" != "$NSTAMP" ]; then
  say "installing front-end assets"
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  echo "$NSTAMP" > node_modules/.wharf-stamp
fi
mkdir -p static/vendor
cp -u node_modules/htmx.org/dist/htmx.min.js static/vendor/
cp -u node_modules/@xterm/xterm/lib/xterm.js node_modules/@xterm/xterm/css/xterm.css static/vendor/
cp -u node_modules/@xterm/addon-fit/lib/addon-fit.js node_modules/@xterm/addon-canvas/lib/addon-canvas.js \
  static/vendor/
# the API docs' Swagger UI is served from here, never from a CDN (see SPECTACULAR_SETTINGS)
mkdir -p static/vendor/swagger-ui
cp -u node_modules/swagger-ui-dist/{swagger-ui.css,swagger-ui-bundle.js,swagger-ui-standalone-preset.js,favicon-32x32.png} \
  static/vendor/swagger-ui/

# --- the site's state: secret key, database, static files, admin -----------
mkdir -p var
chmod 711 var   # Redis (its own user) reaches var/redis; every secret in var/ is 0600
if [ ! -s var/secret_key ]; then
  (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key)
fi
mkdir -p var/redis
scripts/redis-acl.sh var/redis/users.acl var/redis-site.password
# shellcheck source=scripts/site-env.sh
. scripts/site-env.sh
say "applying database migrations"
.venv/bin/python manage.py migrate --noinput -v0
chmod 600 var/db.sqlite3* 2>/dev/null || true   # var/ is 711 so Redis can reach var/redis
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/python manage.py ensure_admin

# --- the engine's starter image ---------------------------------------------
if ! .venv/bin/wharf image inspect busybox:latest >/dev/null 2>&1; then
  say "making the busybox:latest image from Debian's busybox-static"
  .venv/bin/python -m runtime.images.starter
fi

if [ "$START" = 1 ]; then
  scripts/wharfctl restart
fi
