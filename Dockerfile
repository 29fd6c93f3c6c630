# Image for docker-compose.yml: the site (web) and a host worker share it.
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3 python3-venv nodejs npm runc busybox-static tini nftables iproute2 kmod zstd \
      golang-github-containers-common util-linux ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/wharf
COPY pyproject.toml package.json package-lock.json ./
COPY runtime runtime
COPY webapp webapp
COPY worker worker
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir . \
    && npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN mkdir -p static/vendor/swagger-ui && cp node_modules/htmx.org/dist/htmx.min.js node_modules/@xterm/xterm/lib/xterm.js \
      node_modules/@xterm/xterm/css/xterm.css node_modules/@xterm/addon-fit/lib/addon-fit.js static/vendor/ \
    && cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js \
      node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js node_modules/swagger-ui-dist/favicon-32x32.png \
      static/vendor/swagger-ui/ \
    && WHARF_ENV=development .venv/bin/python manage.py collectstatic --noinput -v0
ENV PATH=/srv/wharf/.venv/bin:$PATH DJANGO_SETTINGS_MODULE=webapp.settings
ENTRYPOINT ["tini", "--"]
