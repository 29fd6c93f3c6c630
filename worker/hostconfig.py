"""What a host's worker knows: the site's address, its own credential, the broker, the key.

Written once by ``python -m worker enroll`` (mode 0600, root's alone) and read
at every start. It holds no database URL and no site secret: a host that is
broken into can act only as itself, through the host API and its own queue.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PATH = "/etc/wharf/host.json"


def config_path() -> Path:
    return Path(os.environ.get("WHARF_HOST_CONFIG") or DEFAULT_PATH)


@dataclass(frozen=True)
class HostConfig:
    site_url: str
    host_name: str
    credential: str
    broker_url: str
    key_prefix: str
    queue: str
    public_key: str
    heartbeat_seconds: float = 10.0

    @classmethod
    def load(cls, path: Path | None = None) -> HostConfig:
        path = path or config_path()
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise SystemExit(
                f"{path} does not exist: enrol this host first "
                "(python -m worker enroll --site URL --token TOKEN)"
            ) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> HostConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, path: Path | None = None) -> Path:
        path = path or config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(asdict(self), f, indent=2)
        tmp.replace(path)
        return path
