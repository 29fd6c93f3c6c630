"""Seal registry credentials for the database, and open them again, with a key kept apart.

The key is a Fernet key (AES-128-CBC with HMAC-SHA256, random IV) read from
``WHARF_CREDENTIALS_KEY`` (or the file ``WHARF_CREDENTIALS_KEY_FILE`` names),
never from the database: a copy of the database alone does not give the
passwords away. Several keys may be given, comma-separated: the first seals,
all open (rotation: put the new key first, re-save, drop the old one).
Where no key is set, one is made on first use in the key file (mode 0600),
as the job signing key is.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _key_text() -> str:
    if settings.WHARF_CREDENTIALS_KEY:
        return settings.WHARF_CREDENTIALS_KEY
    path = Path(settings.WHARF_CREDENTIALS_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
    return path.read_text().strip()


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in _key_text().split(",") if k.strip()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "WHARF_CREDENTIALS_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated"
        ) from exc


def seal(username: str, password: str) -> str:
    """The credentials as one token for the database (the username is no one's business either)."""
    plain = json.dumps({"username": username, "password": password}).encode()
    return _fernet().encrypt(plain).decode()


def unseal(token: str) -> tuple[str, str]:
    """(username, password) from a sealed token; ValueError if no key of ours opens it."""
    try:
        data = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("the credentials were sealed with a key this site no longer has") from None
    return data["username"], data["password"]
