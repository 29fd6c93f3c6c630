"""Settings come from the environment; production passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG"}
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_passes_check_deploy_without_warnings():
    r = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        WHARF_ENV="production",
        SECRET_KEY="x" * 20 + "production-grade-secret-0123456789-abcdefghij",
        ALLOWED_HOSTS="wharf.example.org",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


def test_production_has_no_default_secret():
    r = _manage("check", WHARF_ENV="production")
    assert r.returncode != 0
    assert "SECRET_KEY" in r.stderr


def test_the_secret_may_come_from_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("file-secret-" + "y" * 50)
    r = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)",
        WHARF_ENV="local",
        SECRET_KEY_FILE=str(secret),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].split() == ["file-secret-" + "y" * 50, "False"]


def test_database_url_selects_postgresql():
    r = _manage(
        "shell",
        "-c",
        "from django.db import connection; print(connection.vendor)",
        WHARF_ENV="test",
        DATABASE_URL="postgres://u:p@127.0.0.1:1/x",
    )
    assert r.stdout.splitlines()[-1] == "postgresql"
