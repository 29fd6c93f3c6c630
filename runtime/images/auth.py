"""Registry credentials and the challenge/token flows of the Registry API.

Credentials live in one file private to root (``$WHARF_ROOT/auth.json``, mode
0600), in the shape of Docker's ``config.json`` (``{"auths": {host: {"auth":
base64("user:pass")}}}``) so they can be copied between the two.

A registry answers an unauthenticated request with 401 and a
``WWW-Authenticate`` challenge: ``Basic realm=…`` (send the credentials) or
``Bearer realm=…,service=…,scope=…`` (ask the realm for a token, with the
credentials if we have them, then send the token) — Docker Hub's flow.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from runtime.config import Paths
from runtime.errors import InvalidArgument

_PARAM_RE = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` header."""

    scheme: str  # "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``Bearer realm="…",service="…",scope="…"``; None if there is no scheme."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM_RE.finditer(rest)
    }
    params = {k: v.replace('\\"', '"') for k, v in params.items()}
    return Challenge(scheme.lower(), params)


def registry_key(host: str) -> str:
    """Return the key credentials are stored under (Docker Hub has its historic URL)."""
    if host in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return "https://index.docker.io/v1/"
    return host


#: the value of WHARF_AUTH_FILE that turns stored logins off
NO_STORED_LOGINS = "none"


class CredentialStore:
    """The 0600 credentials file of a host.

    ``WHARF_AUTH_FILE=none`` means no stored logins at all: a host's worker runs
    every team's jobs, and none of them may act as whoever ran ``wharf login`` there.
    """

    def __init__(self, paths: Paths) -> None:
        chosen = os.environ.get("WHARF_AUTH_FILE")
        self.path = None if chosen == NO_STORED_LOGINS else Path(chosen or paths.root / "auth.json")

    def _read(self) -> dict:
        if self.path is None:
            return {"auths": {}}
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"auths": {}}
        except (OSError, ValueError) as exc:
            raise InvalidArgument(f"credentials file {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidArgument(f"credentials file {self.path}: expected a JSON object")
        data.setdefault("auths", {})
        return data

    def _write(self, data: dict) -> None:
        if self.path is None:
            raise InvalidArgument("stored logins are off here (WHARF_AUTH_FILE=none)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.chmod(tmp, 0o600)
        os.rename(tmp, self.path)

    def get(self, host: str) -> tuple[str, str] | None:
        """Return (username, password) stored for a registry host, if any."""
        entry = self._read()["auths"].get(registry_key(host))
        if not entry or "auth" not in entry:
            return None
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except ValueError as exc:
            raise InvalidArgument(f"credentials file {self.path}: bad entry for {host}") from exc
        return user, password

    def set(self, host: str, username: str, password: str) -> None:
        data = self._read()
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        data["auths"][registry_key(host)] = {"auth": token}
        self._write(data)

    def remove(self, host: str) -> bool:
        """Forget a registry's credentials; return whether there were any."""
        data = self._read()
        found = data["auths"].pop(registry_key(host), None) is not None
        if found:
            self._write(data)
        return found
