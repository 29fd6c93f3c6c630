"""docker-compose.yml keeps the host boundary: the worker gets nothing of the site's."""

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SITE_SECRETS = {
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "WHARF_SIGNING_KEY_FILE",
    "POSTGRES_PASSWORD",
}


def test_the_worker_holds_no_site_secret():
    worker = COMPOSE["services"]["worker"]
    assert not set(worker.get("environment") or {}) & SITE_SECRETS
    assert all("site-data" not in v for v in worker["volumes"])  # the signing key lives there
    assert "host-config:/etc/wharf:ro" in worker["volumes"]


def test_redis_asks_who_is_calling_and_keeps_what_is_queued():
    command = COMPOSE["services"]["redis"]["command"]
    assert "--aclfile" in command and command[command.index("--appendfsync") + 1] == "always"
    assert "user default off" in COMPOSE["services"]["redis-acl"]["command"][-1]
